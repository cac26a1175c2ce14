/**
 * The second half of `flz capture memory` (issue 16): follow the sent command to its end, complete the upload from S3's
 * own list of parts, read the image back, hash it off the host with the flz engine, store its manifest, and record it.
 * A failed, cancelled or timed-out command has its upload aborted and the failure recorded (closing the intent).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { CancelCommandCommand, SSMClient } from "@aws-sdk/client-ssm";
import { createHash } from "node:crypto";
import { MEMORY_CAPTURE_DOCUMENT_NAME } from "../../components/documents/ssm-memory";
import { realSleep } from "../aws/backoff";
import type { CustodyRecord, EvidenceItem, JsonValue } from "../custody/types";
import { OperationError } from "../errors";
import { hashStream } from "../hash/stream";
import { note } from "../output";
import { hostVerdict, parseHostOutput, type HostReport } from "./memory-plan";
import {
  invocation,
  listParts,
  MEMORY_ACTION,
  str,
  TERMINAL,
  type Invocation,
  type MemoryCaptureOptions,
  type MemoryCaptureResult,
  type Place,
} from "./memory-state";

/**
 * Waits for the command (progress from its status and the parts received), then completes the upload from S3's list
 * of parts, hashes the object off the host, and records it. On a failed, cancelled or timed-out command the upload is
 * aborted and the failure recorded (closing the intent).
 */
export async function follow(
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
