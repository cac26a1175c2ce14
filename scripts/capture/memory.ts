/**
 * `flz capture memory` (issue 16): acquire a Linux instance's memory over Systems Manager with no AWS credentials on
 * the host, and hash it off the host.
 *
 * 1. Checks (memory-checks.ts): instance running, SSM online and Linux, the FLZ document unchanged, the staged tool
 *    hashing (here) to the pinned hash.
 * 2. Write-ahead intent in the case's ledger (PLAN.md decision 5), naming the object key: a rerun finds what was done.
 * 3. The forensic responder creates one multipart upload for that key, under COMPLIANCE retention, and pre-signs one
 *    UploadPart URL per part (and a GET of the tool); SendCommand runs the document version that was checked.
 * 4. Progress from the command's status and the parts S3 has received; a timeout cancels the command.
 * 5. The responder completes the upload from S3's own list of parts, reads the object back and hashes it with the flz
 *    engine (SHA-256 and 512 KiB block manifest, stored beside the image). The ledger records that digest as the
 *    evidence hash; the digest the host printed is kept only as "reported by the host", with a BROKEN verdict when the
 *    two differ.
 *
 * A rerun after a crash: a finished command's upload is completed and recorded; a command still running is waited
 * for; anything else (memory cannot be resumed mid-stream: the rest would be a different moment's memory) is aborted,
 * recorded, and a fresh capture starts. `--abort` only aborts. No multipart upload is ever left without a record.
 */

import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { CancelCommandCommand, SendCommandCommand, SSMClient } from "@aws-sdk/client-ssm";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { MEMORY_CAPTURE_DOCUMENT_NAME, MEMORY_TOOL_KEY } from "../../components/documents/ssm-memory";
import { intentEvent, newIntentId, newRun, type RecordedIntent } from "../custody/intent";
import { describeError, OperationError } from "../errors";
import { note } from "../output";
import { checkMemoryCapture, type MemoryCaptureFacts } from "./memory-checks";
import { follow } from "./memory-follow";
import { checkCommandSize, memoryImageKey, uploadParameters, type CommandParameters } from "./memory-plan";
import {
  invocation,
  MEMORY_ABORTED_ACTION,
  MEMORY_ACTION,
  MEMORY_INTENT_ACTION,
  MEMORY_SENT_ACTION,
  objectExists,
  openMemoryIntents,
  openUploads,
  placeOf,
  str,
  TERMINAL,
  type MemoryCaptureOptions,
  type MemoryCaptureResult,
  type Place,
} from "./memory-state";

export {
  MEMORY_ABORTED_ACTION,
  MEMORY_ACTION,
  MEMORY_INTENT_ACTION,
  MEMORY_SENT_ACTION,
  type MemoryCaptureOptions,
  type MemoryCaptureResult,
} from "./memory-state";

/**
 * Aborts what an interrupted capture left (its command, its open uploads) and records it, closing the intent. Returns
 * the upload IDs aborted.
 */
async function abortInterrupted(o: MemoryCaptureOptions, intent: RecordedIntent, reason: string): Promise<string[]> {
  const { factory, lz, request } = o;
  const s3 = factory.client(S3Client, { region: lz.homeRegion });
  const place = placeOf(lz, str(intent.facts?.key) ?? "");
  const sent = (await o.ledger.records()).find(
    (r) => r.action === MEMORY_SENT_ACTION && r.details?.forIntent === intent.id,
  );
  const commandId = str(sent?.details?.commandId);
  if (commandId) {
    const ssm = factory.client(SSMClient, { account: request.account, region: request.region });
    const state = await invocation(ssm, commandId, request.instanceId);
    if (!TERMINAL.has(state.status)) {
      await ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [request.instanceId] }));
    }
  }
  const uploads = await openUploads(s3, place);
  for (const uploadId of uploads) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: place.bucket, Key: place.key, UploadId: uploadId }));
  }
  await o.ledger.append({
    action: MEMORY_ABORTED_ACTION,
    subjects: [request.instanceId, place.location],
    details: {
      intentId: intent.id,
      reason,
      abortedUploads: uploads,
      ...(commandId ? { ssmCommandId: commandId } : {}),
    },
  });
  note(
    o.io,
    `${request.instanceId}: aborted the interrupted memory capture to ${place.location} (${reason}); ${uploads.length} open upload(s) removed, recorded`,
  );
  return uploads;
}

/** `--abort`: aborts every interrupted capture of the instance, recorded. */
export async function abortMemoryCapture(o: MemoryCaptureOptions): Promise<string[]> {
  const open = openMemoryIntents(await o.ledger.records(), o.request);
  const aborted: string[] = [];
  for (const intent of open) aborted.push(...(await abortInterrupted(o, intent, "aborted by the operator (--abort)")));
  if (open.length === 0) note(o.io, `${o.request.instanceId}: no interrupted memory capture to abort`);
  return aborted;
}

/** Captures (or finishes an interrupted capture of) the instance's memory; see the module comment. */
export async function captureMemory(
  o: MemoryCaptureOptions,
  checked?: MemoryCaptureFacts,
): Promise<MemoryCaptureResult> {
  const { factory, lz, request } = o;
  const s3 = factory.client(S3Client, { region: lz.homeRegion });
  const ssm = factory.client(SSMClient, { account: request.account, region: request.region });
  const aborted: string[] = [];

  // An interrupted capture of this instance: finish it when the host finished (or is finishing), else abort it.
  for (const intent of openMemoryIntents(await o.ledger.records(), request)) {
    const place = placeOf(lz, str(intent.facts?.key) ?? "");
    const sent = (await o.ledger.records()).find(
      (r) => r.action === MEMORY_SENT_ACTION && r.details?.forIntent === intent.id,
    );
    const commandId = str(sent?.details?.commandId);
    const uploadId = str(sent?.details?.uploadId);
    if (commandId && uploadId) {
      const state = await invocation(ssm, commandId, request.instanceId);
      const stored = await objectExists(s3, place);
      const open = stored ? [] : await openUploads(s3, place);
      if (stored || (open.includes(uploadId) && (state.status === "Success" || !TERMINAL.has(state.status)))) {
        note(
          o.io,
          `${request.instanceId}: continuing the interrupted memory capture ${commandId} to ${place.location}`,
        );
        const finished = await follow(o, ssm, s3, place, commandId, uploadId, intent.id, sent, stored);
        return { ...finished, how: "completed-interrupted", aborted };
      }
    }
    aborted.push(
      ...(await abortInterrupted(
        o,
        intent,
        commandId
          ? "its command did not finish and memory cannot be resumed mid-stream"
          : "it stopped before its command was sent",
      )),
    );
  }

  const facts = checked ?? (await checkMemoryCapture(factory, lz, request));
  const now = o.now?.() ?? new Date();
  const place = placeOf(lz, memoryImageKey(request.caseId, request.instanceId, now));
  const intentId = newIntentId();
  const timeoutSeconds = request.timeoutMinutes * 60;
  await o.ledger.append(
    intentEvent(MEMORY_INTENT_ACTION, [request.instanceId, place.location], {
      id: intentId,
      run: newRun(),
      operation: "CreateMultipartUpload + SendCommand",
      step: "memory",
      account: request.account,
      region: request.region,
      identifier: { kind: "object", bucket: place.bucket, key: place.key },
      before: { object: null },
      undo: "none: a completed image is kept under COMPLIANCE retention; an interrupted upload is aborted by a rerun",
      notAfter: new Date(now.getTime() + (timeoutSeconds + 600) * 1000).toISOString(),
      facts: {
        instanceId: request.instanceId,
        key: place.key,
        partSizeMiB: facts.plan.partSizeMiB,
        parts: facts.plan.parts,
        documentVersion: facts.documentVersion,
        toolSha256: facts.toolSha256,
      },
    }),
  );

  const retainUntil = new Date(now.getTime() + request.retainDays * 86400_000);
  const created = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: place.bucket,
      Key: place.key,
      ContentType: "application/octet-stream",
      ObjectLockMode: "COMPLIANCE",
      ObjectLockRetainUntilDate: retainUntil,
      Metadata: { "flz-case": request.caseId, "flz-instance": request.instanceId },
    }),
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new OperationError(`CreateMultipartUpload of ${place.location} returned no upload ID`);

  let commandId: string;
  try {
    const parameters = await commandParameters(o, s3, place, uploadId, facts, timeoutSeconds);
    // SSM refuses a command whose document and parameters exceed its size limit; say so in one line, before sending.
    checkCommandSize(facts.documentBytes, parameters, facts.plan, facts.memoryMiB);
    const sent = await ssm.send(
      new SendCommandCommand({
        DocumentName: MEMORY_CAPTURE_DOCUMENT_NAME,
        DocumentVersion: facts.documentVersion,
        InstanceIds: [request.instanceId],
        Comment: `flz capture memory, case ${request.caseId}`.slice(0, 100),
        TimeoutSeconds: 600,
        Parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, [...v]])),
      }),
    );
    commandId = sent.Command?.CommandId ?? "";
    if (!commandId) throw new OperationError("SendCommand returned no command ID");
  } catch (err) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: place.bucket, Key: place.key, UploadId: uploadId }));
    await o.ledger.append({
      action: MEMORY_ACTION,
      subjects: [request.instanceId, place.location],
      outcome: "failed",
      error: describeError(err),
      details: { intentId, intentOutcome: "not-applied", abortedUploads: [uploadId] },
    });
    throw new OperationError(`the memory capture of ${request.instanceId} could not be sent: ${describeError(err)}`);
  }
  const sentRecord = await o.ledger.append({
    action: MEMORY_SENT_ACTION,
    subjects: [request.instanceId, place.location],
    details: {
      forIntent: intentId,
      ssmCommandId: commandId,
      commandId,
      uploadId,
      documentName: MEMORY_CAPTURE_DOCUMENT_NAME,
      documentVersion: facts.documentVersion,
      documentSha256: facts.documentSha256,
      toolSha256: facts.toolSha256,
      partSizeMiB: facts.plan.partSizeMiB,
      partsPrepared: facts.plan.parts,
      retainUntil: retainUntil.toISOString(),
      memoryMiB: facts.memoryMiB,
      instanceType: facts.instanceType,
    },
  });
  note(
    o.io,
    `${request.instanceId}: memory capture sent (SSM command ${commandId}); the image goes to ${place.location}`,
  );
  const finished = await follow(o, ssm, s3, place, commandId, uploadId, intentId, sentRecord, false);
  return { ...finished, how: "captured", aborted };
}

/**
 * The command's parameters: a pre-signed GET of the staged tool, and one pre-signed UploadPart URL per planned part,
 * folded into the document's two upload parameters (one base URL and the signatures).
 */
async function commandParameters(
  o: MemoryCaptureOptions,
  s3: S3Client,
  place: Place,
  uploadId: string,
  facts: MemoryCaptureFacts,
  timeoutSeconds: number,
): Promise<CommandParameters> {
  // Every part URL is signed at the same instant, so they differ only in part number and signature. The signer is
  // a client of the same credentials that adds no flexible checksum: by default the SDK would sign the CRC32 of an
  // empty body into each URL (x-amz-checksum-crc32=AAAAAA==), and S3 would refuse every real part.
  const presigner = new S3Client({
    region: o.lz.homeRegion,
    credentials: s3.config.credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
  try {
    const signingDate = new Date();
    const expiresIn = Math.min(7 * 86400, timeoutSeconds + 300);
    const urls: string[] = [];
    for (let part = 1; part <= facts.plan.parts; part++) {
      urls.push(
        await getSignedUrl(
          presigner,
          new UploadPartCommand({ Bucket: place.bucket, Key: place.key, UploadId: uploadId, PartNumber: part }),
          { expiresIn, signingDate },
        ),
      );
    }
    const toolUrl = await getSignedUrl(
      presigner,
      new GetObjectCommand({ Bucket: place.bucket, Key: MEMORY_TOOL_KEY }),
      { expiresIn: 900 },
    );
    const upload = uploadParameters(urls);
    return {
      ToolUrl: [toolUrl],
      UploadUrl: [upload.UploadUrl],
      PartSignatures: [upload.PartSignatures],
      PartSizeMiB: [String(facts.plan.partSizeMiB)],
      ExecutionTimeout: [String(timeoutSeconds)],
    };
  } finally {
    presigner.destroy();
  }
}
