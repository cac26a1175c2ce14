/**
 * Uploading an artefact into the evidence bucket (DESIGN.md §6): one read of the file feeds both the upload and a
 * local SHA-256, so the hash in the ledger is of the bytes that were sent. S3 checks its own SHA-256 checksum of every
 * request (the whole object, or each part of a multipart upload), the bucket's default COMPLIANCE retention locks
 * the new version, and the key carries the upload time so an artefact name never shadows an earlier one.
 *
 * Resumable (issue 19 item 4): a multipart upload interrupted by a crash is continued, not restarted. The file is
 * read again from the start (the whole-file SHA-256 needs every byte), each part already in S3 is checked against the
 * SHA-256 of the same bytes now and kept, and only the missing parts are sent. A file that changed since is never
 * mixed with its old parts: the old upload is aborted. A single-part upload is a conditional create
 * (`If-None-Match: *`), so a retry after a lost answer cannot write a second version. An object already stored is
 * recognised by its checksum (whole-object SHA-256, or the composite of its parts' SHA-256s).
 */
import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import * as path from "node:path";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import pLimit from "p-limit";
import { isRetryableFault } from "../aws/attempts";
import { lookBeforeRetry } from "../aws/backoff";
import { OperationError } from "../errors";
import { isConditionalConflict, isMissingObject } from "./ledger";
import type { EvidenceItem } from "./types";

/** Kinds of evidence `flz evidence put` accepts. */
export const EVIDENCE_KINDS = ["memory", "disk-image", "log", "other"] as const;

/** One of {@link EVIDENCE_KINDS}. */
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** Smallest part S3 accepts (except the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

/** S3's limit on parts per upload. */
export const MAX_PARTS = 10000;

/** Part size for a file: 16 MiB, or larger so the file fits in 10 000 parts (whole MiB). */
export function partSizeFor(bytes: number, preferred = 16 * 1024 * 1024): number {
  const mib = 1024 * 1024;
  const needed = Math.ceil(bytes / MAX_PARTS / mib) * mib;
  return Math.max(MIN_PART_SIZE, preferred, needed);
}

/** Object key of an uploaded artefact: `cases/<case>/evidence/<kind>/<UTC time>-<file name>`. */
export function evidenceKey(caseId: string, kind: EvidenceKind, file: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const name = path.basename(file).replace(/[^\w.+=@-]/g, "_") || "artefact";
  return `cases/${caseId}/evidence/${kind}/${stamp}-${name}`;
}

/** Parts of a file of `bytes` bytes (at least one, for an empty file). */
export function partCount(bytes: number, partSize: number): number {
  return Math.max(1, Math.ceil(bytes / partSize));
}

/** What one read of a file gives: its SHA-256, and each part's SHA-256 (base64, as S3 spells checksums). */
export interface FileDigests {
  /** Bytes read. */
  readonly bytes: number;
  /** Lower-case hex SHA-256 of the whole file. */
  readonly sha256: string;
  /** Base64 SHA-256 of each part, in order. */
  readonly partChecksums: string[];
}

/**
 * Reads a file once, in parts of `partSize`: hands each part to `onPart` (which may be slow: at most `inFlight` parts
 * are held at once) and computes the whole-file and per-part SHA-256s.
 */
export async function readInParts(
  file: string,
  partSize: number,
  onPart?: (part: { number: number; data: Buffer; checksum: string }) => Promise<void>,
  inFlight = 4,
): Promise<FileDigests> {
  const handle = await open(file, "r");
  const whole = createHash("sha256");
  const partChecksums: string[] = [];
  const limit = pLimit(Math.max(1, inFlight));
  const running: Promise<void>[] = [];
  let failure: unknown;
  let bytes = 0;
  try {
    for (let number = 1; ; number++) {
      while (limit.activeCount + limit.pendingCount >= inFlight && !failure) await Promise.race(running);
      if (failure) throw failure;
      const data = Buffer.allocUnsafe(partSize);
      let filled = 0;
      while (filled < partSize) {
        const { bytesRead } = await handle.read(data, filled, partSize - filled, null);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled === 0 && number > 1) break;
      const part = data.subarray(0, filled);
      whole.update(part);
      bytes += filled;
      const checksum = createHash("sha256").update(part).digest("base64");
      partChecksums.push(checksum);
      if (onPart) {
        const task = limit(() => onPart({ number, data: part, checksum })).catch((err: unknown) => {
          failure ??= err;
        });
        running.push(task);
        void task.finally(() => running.splice(running.indexOf(task), 1));
      }
      if (filled < partSize) break;
    }
    await Promise.all(running);
    if (failure) throw failure;
  } finally {
    await handle.close();
  }
  return { bytes, sha256: whole.digest("hex"), partChecksums };
}

/** S3's composite checksum of a multipart object: SHA-256 over the parts' binary SHA-256s, base64, `-N`. */
export function compositeChecksum(partChecksums: readonly string[]): string {
  const hash = createHash("sha256");
  for (const c of partChecksums) hash.update(Buffer.from(c, "base64"));
  return `${hash.digest("base64")}-${partChecksums.length}`;
}

/** Whether S3's checksum of an object is that of these bytes (whole-object, or composite of these parts). */
export function checksumMatches(s3Checksum: string | undefined, digests: FileDigests): boolean {
  if (!s3Checksum) return false;
  const [value, parts] = s3Checksum.split("-");
  if (digests.partChecksums.length === 1 && parts === undefined) {
    return Buffer.from(value, "base64").toString("hex") === digests.sha256;
  }
  // The emulator spells a composite without its -N suffix; compare the value.
  return compositeChecksum(digests.partChecksums).split("-")[0] === value;
}

/** An interrupted multipart upload of a key. */
export interface PendingUpload {
  /** Upload ID. */
  readonly uploadId: string;
  /** When it was started. */
  readonly initiated?: Date;
}

/** The multipart uploads still open for exactly this key, oldest first. */
export async function pendingUploads(s3: S3Client, bucket: string, key: string): Promise<PendingUpload[]> {
  const found: PendingUpload[] = [];
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key, KeyMarker, UploadIdMarker }),
    );
    for (const u of page.Uploads ?? []) {
      if (u.Key === key && u.UploadId) found.push({ uploadId: u.UploadId, initiated: u.Initiated });
    }
    if (!page.IsTruncated) break;
    KeyMarker = page.NextKeyMarker;
    UploadIdMarker = page.NextUploadIdMarker;
  }
  return found.sort((a, b) => (a.initiated?.getTime() ?? 0) - (b.initiated?.getTime() ?? 0));
}

/** Aborts an interrupted multipart upload (its parts are deleted; nothing was ever an object). */
export async function abortUpload(s3: S3Client, bucket: string, key: string, uploadId: string): Promise<void> {
  await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
}

/** The object at a key, with S3's checksum of it; undefined when there is none. */
export async function headEvidence(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<
  | { checksum?: string; bytes?: number; versionId?: string; checksumType?: string; mode?: string; until?: Date }
  | undefined
> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }));
    return {
      checksum: head.ChecksumSHA256,
      bytes: head.ContentLength,
      versionId: head.VersionId,
      checksumType: head.ChecksumType,
      mode: head.ObjectLockMode,
      until: head.ObjectLockRetainUntilDate,
    };
  } catch (err) {
    if (isMissingObject(err)) return undefined;
    throw err;
  }
}

/** Options of {@link uploadEvidence}. */
export interface UploadEvidenceOptions {
  /** S3 client acting in the forensic account, in the bucket's region. */
  readonly s3: S3Client;
  /** Evidence bucket. */
  readonly bucket: string;
  /** Object key. */
  readonly key: string;
  /** Local file. */
  readonly file: string;
  /** Kind of evidence. */
  readonly kind: EvidenceKind;
  /** Part size override (tests). Default {@link partSizeFor}. */
  readonly partSize?: number;
  /** Parts uploaded in parallel. Default 4 (memory = queue × part size). */
  readonly queueSize?: number;
  /** An interrupted upload of this key to continue (its parts that match the file are kept). */
  readonly resumeUploadId?: string;
  /** Progress: bytes read and sent (or found already sent) so far. */
  readonly onProgress?: (bytes: number) => void;
  /** Called once the multipart upload exists (its ID), e.g. to tell the operator how to resume. */
  readonly onUploadId?: (uploadId: string) => void;
}

/** Facts of an upload beyond the evidence item. */
export interface UploadFacts {
  /** Parts found already uploaded and kept (a resumed upload). */
  readonly partsReused: number;
  /** The multipart upload ID, when multipart. */
  readonly uploadId?: string;
}

/** Uploads a file (or continues its interrupted upload) and returns the evidence item to record. */
export async function uploadEvidence(options: UploadEvidenceOptions): Promise<EvidenceItem & { upload: UploadFacts }> {
  const { s3, bucket, key } = options;
  const info = await stat(options.file);
  const partSize = options.partSize ?? partSizeFor(info.size);
  const location = `s3://${bucket}/${key}`;
  const multipart = info.size > partSize;
  let sent = 0;
  let uploadId: string | undefined;
  let reused = 0;
  let digests: FileDigests;

  if (!multipart) {
    digests = await readInParts(options.file, partSize, async ({ data, checksum }) => {
      try {
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: data,
            ContentType: "application/octet-stream",
            ChecksumAlgorithm: "SHA256",
            ChecksumSHA256: checksum,
            IfNoneMatch: "*",
          }),
        );
      } catch (err) {
        // A retry after a lost answer meets our own object: the same bytes are there.
        if (!isConditionalConflict(err)) throw err;
        const there = await headEvidence(s3, bucket, key);
        if (there?.checksum?.split("-")[0] !== checksum) {
          throw new OperationError(`${location} already holds another object: refusing to overwrite evidence`);
        }
      }
      sent += data.length;
      options.onProgress?.(sent);
    });
  } else {
    const existing = new Map<number, { etag: string; checksum?: string; size?: number }>();
    if (options.resumeUploadId) {
      uploadId = options.resumeUploadId;
      let marker: string | undefined;
      for (;;) {
        const page = await s3.send(
          new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
        );
        for (const p of page.Parts ?? []) {
          if (p.PartNumber && p.ETag)
            existing.set(p.PartNumber, { etag: p.ETag, checksum: p.ChecksumSHA256, size: p.Size });
        }
        if (!page.IsTruncated) break;
        marker = page.NextPartNumberMarker;
      }
    } else {
      const made = await lookBeforeRetry({
        change: async () => {
          const out = await s3.send(
            new CreateMultipartUploadCommand({
              Bucket: bucket,
              Key: key,
              ContentType: "application/octet-stream",
              ChecksumAlgorithm: "SHA256",
            }),
          );
          if (!out.UploadId) throw new OperationError(`CreateMultipartUpload of ${location} returned no upload ID`);
          return out.UploadId;
        },
        // The key is this put's own (its intent named it, with the upload time in it): an open upload of exactly this
        // key is the one whose answer was lost. (Not filtered by its Initiated time: the emulator reports a fixed one.)
        look: async () => (await pendingUploads(s3, bucket, key)).at(-1)?.uploadId,
        unknownOutcome: isRetryableFault,
      });
      uploadId = made.value;
    }
    options.onUploadId?.(uploadId);
    const parts: { PartNumber: number; ETag: string; ChecksumSHA256: string }[] = [];
    const id = uploadId;
    digests = await readInParts(
      options.file,
      partSize,
      async ({ number, data, checksum }) => {
        const earlier = existing.get(number);
        if (earlier && earlier.checksum === checksum && (earlier.size === undefined || earlier.size === data.length)) {
          parts.push({ PartNumber: number, ETag: earlier.etag, ChecksumSHA256: checksum });
          reused++;
        } else {
          const out = await s3.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: key,
              UploadId: id,
              PartNumber: number,
              Body: data,
              ChecksumAlgorithm: "SHA256",
              ChecksumSHA256: checksum,
            }),
          );
          parts.push({ PartNumber: number, ETag: out.ETag ?? "", ChecksumSHA256: checksum });
        }
        sent += data.length;
        options.onProgress?.(sent);
      },
      options.queueSize ?? 4,
    );
    parts.sort((a, b) => a.PartNumber - b.PartNumber);
    try {
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: id,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (err) {
      // A retry after a lost answer finds the upload gone (NoSuchUpload): the object is there if it completed.
      const there = await headEvidence(s3, bucket, key);
      if (!there || !checksumMatches(there.checksum, digests)) throw err;
    }
  }

  if (digests.bytes !== info.size) {
    throw new OperationError(
      `${options.file} changed size while it was uploaded (${info.size} bytes at start, ${digests.bytes} read): ${location} is not a faithful copy`,
    );
  }
  return { ...(await evidenceItem(s3, options, digests, partSize)), upload: { partsReused: reused, uploadId } };
}

/**
 * The evidence item of an object known to hold a file's bytes, from S3's view of it (version, checksum, retention);
 * refuses when S3's checksum or size is not that of the bytes read.
 */
export async function evidenceItem(
  s3: S3Client,
  options: Pick<UploadEvidenceOptions, "bucket" | "key" | "file" | "kind">,
  digests: FileDigests,
  partSize: number,
): Promise<EvidenceItem> {
  const location = `s3://${options.bucket}/${options.key}`;
  const head = await headEvidence(s3, options.bucket, options.key);
  if (!head) throw new OperationError(`${location} is not in the bucket after its upload`);
  if (head.checksum && !checksumMatches(head.checksum, digests)) {
    throw new OperationError(
      `S3 stored ${location} with SHA-256 ${head.checksum}, but the bytes read hash to ${digests.sha256}`,
    );
  }
  if (head.bytes !== undefined && head.bytes !== digests.bytes) {
    throw new OperationError(`S3 stored ${head.bytes} bytes at ${location}, but ${digests.bytes} were read`);
  }
  const details: Record<string, string | number> = {
    sourcePath: path.resolve(options.file),
    partSize,
    parts: digests.partChecksums.length,
  };
  if (head.versionId) details.versionId = head.versionId;
  if (head.checksum) details.s3ChecksumSha256 = head.checksum;
  if (head.checksumType) details.s3ChecksumType = head.checksumType;
  if (head.mode) details.retentionMode = head.mode;
  if (head.until) details.retainUntil = head.until.toISOString();
  return { kind: options.kind, location, sha256: digests.sha256, bytes: digests.bytes, details };
}
