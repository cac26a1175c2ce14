/**
 * `flz evidence put` under write-ahead intent (issue 19 items 2 and 4, PLAN.md decision 5): before an upload starts,
 * the case's ledger holds an `evidence.intent` naming the file (path, size, modification time), the object key and
 * the part size. A rerun of the same put reads the open intents first and, for the same unchanged file:
 *
 * - an object already at the intent's key (stored, never recorded): checked against the file's SHA-256 and recorded;
 * - a multipart upload still open for that key: continued (parts whose SHA-256 matches the file are kept);
 * - a file that changed since: its open uploads are aborted, and the operator is told.
 *
 * With no intent to follow, an unrecorded object of the case with the same size and checksum as the file (what an
 * older flz, or a put whose intent was never written, left) is recorded instead of uploading a second copy.
 */
import { stat } from "node:fs/promises";
import * as path from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { isTransientError } from "../aws/attempts";
import { describeError, OperationError } from "../errors";
import { note, printJson, printLine, type Io } from "../output";
import {
  abortUpload,
  checksumMatches,
  evidenceItem,
  headEvidence,
  pendingUploads,
  readInParts,
  uploadEvidence,
  type EvidenceKind,
  type FileDigests,
} from "./evidence-upload";
import { intentEvent, intentOf, newIntentId, newRun, openIntents, type RecordedIntent } from "./intent";
import { listUnrecordedObjects } from "./orphans";
import type { CustodyLedger, CustodyRecord, EvidenceItem } from "./types";

/** Action of an evidence put's intent. */
export const EVIDENCE_INTENT_ACTION = "evidence.intent";

/** Options of {@link putWithIntent}. */
export interface PutOptions {
  readonly s3: S3Client;
  readonly ledger: CustodyLedger;
  readonly bucket: string;
  readonly caseId: string;
  readonly file: string;
  readonly kind: EvidenceKind;
  readonly partSize: number;
  /** Key for a new upload. */
  readonly key: string;
  readonly io: Io;
  readonly json: boolean;
}

/** What `evidence put` did. */
export interface PutResult {
  /** The evidence item recorded. */
  readonly evidence: EvidenceItem;
  /** The ledger record. */
  readonly record: CustodyRecord;
}

/** What the rerun found to continue from. */
type Resume =
  | { readonly kind: "new"; readonly key: string }
  | { readonly kind: "upload"; readonly key: string; readonly uploadId: string }
  | { readonly kind: "stored"; readonly key: string; readonly how: string };

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Runs the put: resume decision, intent, upload, record. */
export async function putWithIntent(o: PutOptions): Promise<PutResult> {
  const source = path.resolve(o.file);
  const info = await stat(o.file);
  const before = await o.ledger.records();
  const mine = openIntents(before, EVIDENCE_INTENT_ACTION).filter(
    (i) => i.facts?.sourcePath === source && i.facts?.kind === o.kind,
  );
  const done = mine.length === 0 ? recordedPutOf(before, source, o.kind, info) : undefined;
  if (done) {
    // The last put of this very file (same path, size and modification time) was recorded: a rerun after a crash
    // that struck once its record was claimed (the claim counts as the record). Recording the same bytes twice would
    // give the case two exhibits of one artefact.
    const location = done.evidence.location;
    await o.ledger.append({
      action: "evidence.put.already-recorded",
      subjects: [location],
      details: { recordedIn: done.record.sequence, kind: o.kind },
    });
    report(o, done.evidence, done.record, `${location} was already recorded as custody record ${done.record.sequence}`);
    return { evidence: done.evidence, record: done.record };
  }
  const { resume, digests: known } = await decide(o, mine, info, before);
  const location = `s3://${o.bucket}/${resume.key}`;
  const intentId = newIntentId();
  const run = newRun();
  await o.ledger.append(
    intentEvent(EVIDENCE_INTENT_ACTION, [location], {
      id: intentId,
      run,
      operation:
        resume.kind === "new" ? "PutObject or multipart upload" : resume.kind === "upload" ? "UploadPart" : "none",
      step: "upload",
      region: "",
      identifier: { kind: "object", bucket: o.bucket, key: resume.key },
      before: { object: resume.kind === "stored" ? location : null },
      undo: "none: the object is kept under the bucket's COMPLIANCE retention",
      notAfter: new Date(Date.now() + 7 * 24 * 3600_000).toISOString(),
      supersedes: mine.map((i) => i.id),
      facts: {
        sourcePath: source,
        size: info.size,
        mtimeMs: info.mtimeMs,
        kind: o.kind,
        partSize: o.partSize,
        key: resume.key,
        ...(resume.kind === "upload" ? { uploadId: resume.uploadId } : {}),
      },
    }),
  );
  if (resume.kind !== "new") {
    // Our append completed any record a dead writer left half-written: the put may be recorded after all.
    const recorded = (await o.ledger.records()).find(
      (r) => r.action === "evidence.put" && r.outcome !== "failed" && r.evidence?.some((e) => e.location === location),
    );
    if (recorded) {
      await o.ledger.append({
        action: "evidence.put.already-recorded",
        subjects: [location],
        details: { intentId, recordedIn: recorded.sequence, kind: o.kind },
      });
      const evidence = recorded.evidence?.find((e) => e.location === location) as EvidenceItem;
      report(o, evidence, recorded, `${location} was already recorded as custody record ${recorded.sequence}`);
      return { evidence, record: recorded };
    }
  }

  let evidence: EvidenceItem;
  let how: string | undefined;
  try {
    if (resume.kind === "stored") {
      const digests = known ?? (await readInParts(o.file, o.partSize));
      evidence = await evidenceItem(
        o.s3,
        { bucket: o.bucket, key: resume.key, file: o.file, kind: o.kind },
        digests,
        o.partSize,
      );
      how = `${location} was stored by an interrupted run (${resume.how}) and never recorded: its checksum matches ${o.file}; recorded now, not uploaded again`;
    } else {
      const uploaded = await uploadEvidence({
        s3: o.s3,
        bucket: o.bucket,
        key: resume.key,
        file: o.file,
        kind: o.kind,
        partSize: o.partSize,
        resumeUploadId: resume.kind === "upload" ? resume.uploadId : undefined,
      });
      const { upload, ...item } = uploaded;
      evidence = item;
      if (resume.kind === "upload") {
        how = `continued the interrupted upload ${resume.uploadId} of ${location}: ${upload.partsReused} of ${String(item.details?.parts)} part(s) were already there`;
      }
    }
  } catch (err) {
    const outcome = isTransientError(err) ? "unknown" : "not-applied";
    await o.ledger
      .append({
        action: "evidence.put",
        subjects: [location],
        outcome: "failed",
        error: describeError(err),
        details: { sourcePath: o.file, kind: o.kind, intentId, intentOutcome: outcome },
      })
      .catch((e: unknown) =>
        note(o.io, `warning: the failure could not be recorded in the ledger either: ${describeError(e)}`),
      );
    throw new OperationError(
      `upload of ${o.file} to ${location} failed: ${describeError(err)}${outcome === "unknown" ? " (run the same command again to continue it)" : ""}`,
    );
  }
  const record = await o.ledger.append({
    action: "evidence.put",
    subjects: [evidence.location],
    evidence: [evidence],
    details: { kind: o.kind, intentId, ...(resume.kind !== "new" ? { resumed: resume.kind } : {}) },
  });
  report(o, evidence, record, how);
  return { evidence, record };
}

function report(o: PutOptions, evidence: EvidenceItem, record: CustodyRecord, how: string | undefined): void {
  if (how) note(o.io, how);
  if (!evidence.details?.retentionMode) {
    note(
      o.io,
      `warning: ${evidence.location} carries no Object Lock retention: check the evidence bucket's default retention (COMPLIANCE)`,
    );
  }
  if (o.json) printJson(o.io, { evidence, record: { sequence: record.sequence, hash: record.hash } });
  else {
    printLine(o.io, `${evidence.sha256}  ${evidence.location}`);
    printLine(
      o.io,
      `recorded as custody record ${record.sequence} of case ${o.caseId}${evidence.details?.retainUntil ? `; locked until ${String(evidence.details.retainUntil)}` : ""}`,
    );
  }
}

/** What an earlier, interrupted put of the same file left, and what to do with it. */
async function decide(
  o: PutOptions,
  open: readonly RecordedIntent[],
  info: { size: number; mtimeMs: number },
  records: readonly CustodyRecord[],
): Promise<{ resume: Resume; digests?: FileDigests }> {
  for (const intent of [...open].reverse()) {
    const key = str(intent.facts?.key);
    if (!key) continue;
    const unchanged =
      intent.facts?.size === info.size &&
      intent.facts?.mtimeMs === info.mtimeMs &&
      intent.facts?.partSize === o.partSize;
    const uploads = await pendingUploads(o.s3, o.bucket, key);
    if (!unchanged) {
      for (const u of uploads) {
        await abortUpload(o.s3, o.bucket, key, u.uploadId);
        note(
          o.io,
          `aborted the interrupted upload ${u.uploadId} of s3://${o.bucket}/${key}: ${o.file} changed since it started (size or modification time), so its parts cannot be trusted`,
        );
      }
      continue;
    }
    if (await headEvidence(o.s3, o.bucket, key)) {
      return { resume: { kind: "stored", key, how: `intent record ${intent.sequence}` } };
    }
    if (uploads.length > 0) {
      const latest = uploads[uploads.length - 1];
      for (const u of uploads.slice(0, -1)) {
        await abortUpload(o.s3, o.bucket, key, u.uploadId);
        note(
          o.io,
          `aborted a second interrupted upload ${u.uploadId} of s3://${o.bucket}/${key} (continuing ${latest.uploadId})`,
        );
      }
      return { resume: { kind: "upload", key, uploadId: latest.uploadId } };
    }
  }
  // No intent to follow: an object of this case with the file's size and checksum, that no record names?
  const evidencePrefix = `cases/${o.caseId}/evidence/`;
  const candidates = (await listUnrecordedObjects(o.s3, o.bucket, o.caseId, records)).filter(
    (u) => u.bytes === info.size && u.key.startsWith(evidencePrefix) && u.s3ChecksumSha256,
  );
  if (candidates.length > 0) {
    const digests = await readInParts(o.file, o.partSize);
    const match = candidates.find((c) => checksumMatches(c.s3ChecksumSha256, digests));
    if (match) return { resume: { kind: "stored", key: match.key, how: "found by its content hash" }, digests };
    return { resume: { kind: "new", key: o.key }, digests };
  }
  return { resume: { kind: "new", key: o.key } };
}

/**
 * The record of the last put of this file, when that put's intent was closed by an `evidence.put` that did not fail and
 * the file is unchanged since (same size and modification time): what a rerun after a crash should report, not upload
 * again. Undefined when the last put of the file failed, was for another kind, or the file changed.
 * @param records the case's records, claimed ones included
 * @param source the file's absolute path
 * @param kind the evidence kind asked for
 * @param info the file's size and modification time now
 */
function recordedPutOf(
  records: readonly CustodyRecord[],
  source: string,
  kind: string,
  info: { size: number; mtimeMs: number },
): { record: CustodyRecord; evidence: EvidenceItem } | undefined {
  const intents = records
    .filter((r) => r.action === EVIDENCE_INTENT_ACTION)
    .map(intentOf)
    .filter((i): i is RecordedIntent => i !== undefined && i.facts?.sourcePath === source);
  const last = intents[intents.length - 1];
  if (last === undefined || last.facts?.kind !== kind) return undefined;
  if (last.facts?.size !== info.size || last.facts?.mtimeMs !== info.mtimeMs) return undefined;
  const record = records.find(
    (r) => r.action === "evidence.put" && r.outcome !== "failed" && r.details?.intentId === last.id,
  );
  const evidence = record?.evidence?.[0];
  return record && evidence ? { record, evidence } : undefined;
}
