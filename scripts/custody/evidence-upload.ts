/**
 * Uploading an artefact into the evidence bucket (DESIGN.md §6): one read of the file feeds both the upload and a
 * local SHA-256, so the hash in the ledger is of the bytes that were sent. S3 checks its own SHA-256 checksum of every
 * request (the whole object, or each part of a multipart upload), the bucket's default COMPLIANCE retention locks
 * the new version, and the key carries the upload time so an artefact name never shadows an earlier one.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import * as path from "node:path";
import { Transform } from "node:stream";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { OperationError } from "../errors";
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
  /** Progress: bytes sent so far. */
  readonly onProgress?: (bytes: number) => void;
}

/** Uploads a file and returns the evidence item to record. */
export async function uploadEvidence(options: UploadEvidenceOptions): Promise<EvidenceItem> {
  const info = await stat(options.file);
  const partSize = options.partSize ?? partSizeFor(info.size);
  const hash = createHash("sha256");
  let bytes = 0;
  const tee = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const body = createReadStream(options.file, { highWaterMark: 1024 * 1024 }).pipe(tee);
  const upload = new Upload({
    client: options.s3,
    params: {
      Bucket: options.bucket,
      Key: options.key,
      Body: body,
      ChecksumAlgorithm: "SHA256",
      ContentType: "application/octet-stream",
    },
    partSize,
    queueSize: options.queueSize ?? 4,
    leavePartsOnError: false,
  });
  upload.on("httpUploadProgress", (p) => options.onProgress?.(p.loaded ?? 0));
  const done = await upload.done();
  const sha256 = hash.digest("hex");
  const location = `s3://${options.bucket}/${options.key}`;
  if (bytes !== info.size) {
    throw new OperationError(
      `${options.file} changed size while it was uploaded (${info.size} bytes at start, ${bytes} read): ${location} is not a faithful copy`,
    );
  }
  const head = await options.s3.send(
    new HeadObjectCommand({
      Bucket: options.bucket,
      Key: options.key,
      VersionId: done.VersionId,
      ChecksumMode: "ENABLED",
    }),
  );
  const s3Checksum = head.ChecksumSHA256 ?? done.ChecksumSHA256;
  const multipart = bytes > partSize;
  // A single-part upload's S3 checksum is the SHA-256 of the whole object: it must be ours.
  if (
    !multipart &&
    s3Checksum &&
    !s3Checksum.includes("-") &&
    Buffer.from(s3Checksum, "base64").toString("hex") !== sha256
  ) {
    throw new OperationError(`S3 stored ${location} with SHA-256 ${s3Checksum}, but the bytes read hash to ${sha256}`);
  }
  if (head.ContentLength !== undefined && head.ContentLength !== bytes) {
    throw new OperationError(`S3 stored ${head.ContentLength} bytes at ${location}, but ${bytes} were read`);
  }
  const details: Record<string, string | number> = {
    sourcePath: path.resolve(options.file),
    partSize,
    parts: Math.max(1, Math.ceil(bytes / partSize)),
  };
  if (done.VersionId ?? head.VersionId) details.versionId = (done.VersionId ?? head.VersionId) as string;
  if (s3Checksum) details.s3ChecksumSha256 = s3Checksum;
  if (head.ChecksumType) details.s3ChecksumType = head.ChecksumType;
  if (head.ObjectLockMode) details.retentionMode = head.ObjectLockMode;
  if (head.ObjectLockRetainUntilDate) details.retainUntil = head.ObjectLockRetainUntilDate.toISOString();
  return { kind: options.kind, location, sha256, bytes, details };
}
