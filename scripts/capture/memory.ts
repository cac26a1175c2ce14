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
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  S3Client,
  UploadPartCommand,
  type Part,
} from "@aws-sdk/client-s3";
import { CancelCommandCommand, GetCommandInvocationCommand, SendCommandCommand, SSMClient } from "@aws-sdk/client-ssm";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createHash } from "node:crypto";
import { MEMORY_CAPTURE_DOCUMENT_NAME, MEMORY_TOOL_KEY } from "../../components/documents/ssm-memory";
import { realSleep, type Sleep } from "../aws/backoff";
import type { ClientFactory } from "../aws/clients";
import type { LandingZone } from "../contract";
import { isMissingObject } from "../custody/ledger";
import { intentEvent, newIntentId, newRun, openIntents, type RecordedIntent } from "../custody/intent";
import type { CustodyLedger, CustodyRecord, EvidenceItem, JsonValue } from "../custody/types";
import { describeError, OperationError } from "../errors";
import { hashStream } from "../hash/stream";
import { note, type Io } from "../output";
import { checkMemoryCapture, type MemoryCaptureFacts } from "./memory-checks";
import {
  hostVerdict,
  memoryImageKey,
  parseHostOutput,
  uploadParameters,
  type HostReport,
  type MemoryCaptureRequest,
} from "./memory-plan";

/** Action of the intent record written before the upload is created. */
export const MEMORY_INTENT_ACTION = "capture.memory.intent";
/** Action of the record that says the command was sent (command ID, upload ID). */
export const MEMORY_SENT_ACTION = "capture.memory.sent";
/** Action of the record of the captured image. */
export const MEMORY_ACTION = "capture.memory";
/** Action of the record of an interrupted capture that was aborted. */
export const MEMORY_ABORTED_ACTION = "capture.memory.aborted";

/** SSM statuses after which a command does nothing more. */
const TERMINAL = new Set(["Success", "Failed", "Cancelled", "TimedOut", "Cancelling"]);

/** Options of {@link captureMemory} and {@link abortMemoryCapture}. */
export interface MemoryCaptureOptions {
  /** Client factory of the forensic responder, for the case. */
  readonly factory: ClientFactory;
  /** The landing zone. */
  readonly lz: LandingZone;
  /** The validated request. */
  readonly request: MemoryCaptureRequest;
  /** The case's ledger. */
  readonly ledger: CustodyLedger;
  /** Where progress goes. */
  readonly io: Io;
  /** Sleep between polls (tests). */
  readonly sleep?: Sleep;
  /** The clock (tests). */
  readonly now?: () => Date;
  /** Time given to SSM beyond the command's own timeout before it is cancelled, ms (tests). Default 120 000. */
  readonly graceMs?: number;
}

/** What a capture recorded. */
export interface MemoryCaptureResult {
  /** The image's evidence item (off-host SHA-256, host-reported digest and verdict in its details). */
  readonly evidence: EvidenceItem;
  /** The ledger record. */
  readonly record: { readonly sequence: number; readonly hash: string };
  /** The host's digest against ours. */
  readonly verdict: "MATCH" | "BROKEN" | "NOT REPORTED";
  /** How this run came to it: a new capture, or an interrupted one it completed. */
  readonly how: "captured" | "completed-interrupted";
  /** Interrupted uploads aborted on the way (upload IDs). */
  readonly aborted: string[];
}

interface Place {
  readonly bucket: string;
  readonly key: string;
  readonly location: string;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function placeOf(lz: LandingZone, key: string): Place {
  return { bucket: lz.evidenceBucket, key, location: `s3://${lz.evidenceBucket}/${key}` };
}

/** The open memory-capture intents of this instance. */
function openMemoryIntents(records: readonly CustodyRecord[], request: MemoryCaptureRequest): RecordedIntent[] {
  return openIntents(records, MEMORY_INTENT_ACTION).filter(
    (i) => i.facts?.instanceId === request.instanceId && i.account === request.account && i.region === request.region,
  );
}

/** Upload IDs still open for exactly this key. */
async function openUploads(s3: S3Client, place: Place): Promise<string[]> {
  const ids: string[] = [];
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: place.bucket, Prefix: place.key, KeyMarker, UploadIdMarker }),
    );
    for (const u of page.Uploads ?? []) if (u.Key === place.key && u.UploadId) ids.push(u.UploadId);
    if (!page.IsTruncated) return ids;
    KeyMarker = page.NextKeyMarker;
    UploadIdMarker = page.NextUploadIdMarker;
  }
}

/** Every part S3 holds for an upload, in order. */
async function listParts(s3: S3Client, place: Place, uploadId: string): Promise<Part[]> {
  const parts: Part[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListPartsCommand({ Bucket: place.bucket, Key: place.key, UploadId: uploadId, PartNumberMarker: marker }),
    );
    parts.push(...(page.Parts ?? []));
    if (!page.IsTruncated) return parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    marker = page.NextPartNumberMarker;
  }
}

async function objectExists(s3: S3Client, place: Place): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: place.bucket, Key: place.key }));
    return true;
  } catch (err) {
    if (isMissingObject(err)) return false;
    throw err;
  }
}

interface Invocation {
  readonly status: string;
  readonly stdout: string;
  readonly stderr: string;
}

async function invocation(ssm: SSMClient, commandId: string, instanceId: string): Promise<Invocation> {
  try {
    const out = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));
    return {
      status: out.Status ?? "Pending",
      stdout: out.StandardOutputContent ?? "",
      stderr: out.StandardErrorContent ?? "",
    };
  } catch (err) {
    // Right after SendCommand the invocation may not exist yet.
    if ((err as { name?: string }).name === "InvocationDoesNotExist")
      return { status: "Pending", stdout: "", stderr: "" };
    throw err;
  }
}

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
    // Every part URL is signed at the same instant, so they differ only in part number and signature. The signer is
    // a client of the same credentials that adds no flexible checksum: by default the SDK would sign the CRC32 of an
    // empty body into each URL (x-amz-checksum-crc32=AAAAAA==), and S3 would refuse every real part.
    const presigner = new S3Client({
      region: lz.homeRegion,
      credentials: s3.config.credentials,
      requestChecksumCalculation: "WHEN_REQUIRED",
    });
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
    presigner.destroy();
    const sent = await ssm.send(
      new SendCommandCommand({
        DocumentName: MEMORY_CAPTURE_DOCUMENT_NAME,
        DocumentVersion: facts.documentVersion,
        InstanceIds: [request.instanceId],
        Comment: `flz capture memory, case ${request.caseId}`.slice(0, 100),
        TimeoutSeconds: 600,
        Parameters: {
          ToolUrl: [toolUrl],
          ...Object.fromEntries(Object.entries(uploadParameters(urls)).map(([k, v]) => [k, [v]])),
          PartSizeMiB: [String(facts.plan.partSizeMiB)],
          ExecutionTimeout: [String(timeoutSeconds)],
        },
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
 * Waits for the command (progress from its status and the parts received), then completes the upload from S3's list
 * of parts, hashes the object off the host, and records it. On a failed, cancelled or timed-out command the upload is
 * aborted and the failure recorded (closing the intent).
 */
async function follow(
  o: MemoryCaptureOptions,
  ssm: SSMClient,
  s3: S3Client,
  place: Place,
  commandId: string,
  uploadId: string,
  intentId: string,
  sent: CustodyRecord | undefined,
  alreadyStored: boolean,
): Promise<Omit<MemoryCaptureResult, "how" | "aborted">> {
  const { request } = o;
  const sleep = o.sleep ?? realSleep;
  const deadline = Date.now() + request.timeoutMinutes * 60_000 + (o.graceMs ?? 120_000);
  const expected = Number(sent?.details?.memoryMiB ?? 0) * 2 ** 20;
  let state: Invocation = { status: "Pending", stdout: "", stderr: "" };
  let lastLine = "";
  while (!alreadyStored) {
    state = await invocation(ssm, commandId, request.instanceId);
    if (TERMINAL.has(state.status)) break;
    const parts = await listParts(s3, place, uploadId);
    const bytes = parts.reduce((n, p) => n + (p.Size ?? 0), 0);
    const line = `${request.instanceId}: memory capture ${state.status}, ${parts.length} part(s), ${(bytes / 2 ** 30).toFixed(2)} GiB received${expected ? ` of about ${(expected / 2 ** 30).toFixed(1)} GiB` : ""}`;
    if (line !== lastLine) note(o.io, line);
    lastLine = line;
    if (Date.now() > deadline) {
      await ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [request.instanceId] }));
      state = { ...state, status: "TimedOut" };
      break;
    }
    await sleep(request.pollSeconds * 1000);
  }
  const host = parseHostOutput(state.stdout);
  if (!alreadyStored && state.status !== "Success") {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: place.bucket, Key: place.key, UploadId: uploadId }));
    const why = host.errors[0] ?? (state.stderr.trim().split("\n").at(-1) || `the command ended ${state.status}`);
    await o.ledger.append({
      action: MEMORY_ACTION,
      subjects: [request.instanceId, place.location],
      outcome: "failed",
      error: why,
      details: {
        intentId,
        intentOutcome: "not-applied",
        ssmCommandId: commandId,
        status: state.status,
        abortedUploads: [uploadId],
        ...hostFacts(host),
      },
    });
    throw new OperationError(
      `the memory capture of ${request.instanceId} ${state.status === "TimedOut" ? "timed out" : "failed"} (SSM command ${commandId}, ${state.status}): ${why}; the upload was aborted and the failure recorded`,
    );
  }
  if (!alreadyStored) {
    const parts = await listParts(s3, place, uploadId);
    if (parts.length === 0)
      throw new OperationError(`the host reported success but S3 holds no part of ${place.location}`);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: place.bucket,
        Key: place.key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag })) },
      }),
    );
  }
  return hashAndRecord(o, s3, place, commandId, intentId, sent, host);
}

function hostFacts(host: HostReport): { [key: string]: JsonValue } {
  return {
    ...(host.lockdown ? { hostLockdown: host.lockdown } : {}),
    ...(host.toolSha256 ? { toolSha256ReportedByHost: host.toolSha256 } : {}),
    ...(host.parts ? { partsReportedByHost: host.parts.count, bytesReportedByHost: host.parts.bytes } : {}),
  };
}

/** Reads the image back, hashes it here (the flz engine), stores its manifest, and records it. */
async function hashAndRecord(
  o: MemoryCaptureOptions,
  s3: S3Client,
  place: Place,
  commandId: string,
  intentId: string,
  sent: CustodyRecord | undefined,
  host: HostReport,
): Promise<Omit<MemoryCaptureResult, "how" | "aborted">> {
  const { request } = o;
  let head = await s3.send(new HeadObjectCommand({ Bucket: place.bucket, Key: place.key }));
  const wanted = str(sent?.details?.retainUntil);
  if (
    wanted &&
    (head.ObjectLockMode !== "COMPLIANCE" || (head.ObjectLockRetainUntilDate?.getTime() ?? 0) < Date.parse(wanted))
  ) {
    // S3 gives the completed object the retention its upload was created with; where that did not happen (the
    // emulator ignores it for multipart uploads), it is set now. COMPLIANCE can only be extended, never shortened.
    await s3.send(
      new PutObjectRetentionCommand({
        Bucket: place.bucket,
        Key: place.key,
        VersionId: head.VersionId,
        Retention: { Mode: "COMPLIANCE", RetainUntilDate: new Date(wanted) },
      }),
    );
    head = await s3.send(new HeadObjectCommand({ Bucket: place.bucket, Key: place.key }));
  }
  const object = await s3.send(
    new GetObjectCommand({ Bucket: place.bucket, Key: place.key, VersionId: head.VersionId }),
  );
  const blocks: string[] = [];
  note(o.io, `${request.instanceId}: hashing ${place.location} off the host`);
  const digest = await hashStream(object.Body as AsyncIterable<Uint8Array>, { onBlock: (b) => blocks.push(b.sha256) });
  const manifestKey = `${place.key}.manifest.jsonl`;
  const manifest =
    [
      { type: "source", kind: "object", source: place.location, blockSize: digest.blockSize, algorithm: "SHA-256" },
      ...blocks.map((sha256, index) => ({ type: "block", index, sha256 })),
      { type: "summary", source: place.location, bytes: digest.bytes, sha256: digest.sha256 },
    ]
      .map((line) => JSON.stringify(line))
      .join("\n") + "\n";
  const manifestSha256 = createHash("sha256").update(manifest).digest();
  await s3
    .send(
      new PutObjectCommand({
        Bucket: place.bucket,
        Key: manifestKey,
        Body: manifest,
        ContentType: "application/x-ndjson",
        ChecksumAlgorithm: "SHA256",
        ChecksumSHA256: manifestSha256.toString("base64"),
        IfNoneMatch: "*",
      }),
    )
    .catch((err: unknown) => {
      // A rerun meets the manifest it stored before: the same content, from the same object.
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 412) throw err;
    });
  const verdict = hostVerdict(digest.sha256, host.imageSha256);
  const details: { [key: string]: JsonValue } = {
    instanceId: request.instanceId,
    account: request.account,
    region: request.region,
    ssmCommandId: commandId,
    documentName: MEMORY_CAPTURE_DOCUMENT_NAME,
    documentVersion: str(sent?.details?.documentVersion) ?? null,
    documentSha256: str(sent?.details?.documentSha256) ?? null,
    toolSha256: str(sent?.details?.toolSha256) ?? null,
    hashedOffHost: true,
    sha256ReportedByHost: host.imageSha256 ?? null,
    hostVerdict: verdict,
    manifest: `s3://${place.bucket}/${manifestKey}`,
    manifestSha256: manifestSha256.toString("hex"),
    blocks: digest.blocks,
    blockSize: digest.blockSize,
    ...hostFacts(host),
  };
  if (head.VersionId) details.versionId = head.VersionId;
  if (head.ObjectLockMode) details.retentionMode = head.ObjectLockMode;
  if (head.ObjectLockRetainUntilDate) details.retainUntil = head.ObjectLockRetainUntilDate.toISOString();
  const evidence: EvidenceItem = {
    kind: "memory",
    location: place.location,
    sha256: digest.sha256,
    bytes: digest.bytes,
    details,
  };
  const record = await o.ledger.append({
    action: MEMORY_ACTION,
    subjects: [request.instanceId, place.location],
    evidence: [
      evidence,
      {
        kind: "manifest",
        location: details.manifest as string,
        sha256: manifestSha256.toString("hex"),
        bytes: Buffer.byteLength(manifest),
      },
    ],
    details: { intentId, hostVerdict: verdict, ssmCommandId: commandId },
  });
  return { evidence, record: { sequence: record.sequence, hash: record.hash }, verdict };
}
