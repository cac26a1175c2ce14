/**
 * Online re-checks of the evidence a ledger vouches for, where the tool can reach it: S3 objects. The S3 SHA-256
 * checksum was verified by S3 on upload over the bytes it stored; comparing it with what the record says proves the
 * stored object is the one that was recorded, without downloading it. Snapshots are re-hashed with `flz hash --snapshot`
 * (minutes to hours per volume), so they are reported as not checked here.
 */
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { EvidenceCheck } from "./report";
import pLimit from "p-limit";
import type { CustodyRecord, EvidenceItem } from "./types";

/** `s3://bucket/key` split, or undefined for other locations. */
export function parseS3Location(location: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  return match ? { bucket: match[1], key: match[2] } : undefined;
}

/** Compares a full-object S3 SHA-256 checksum (base64) or a composite one (`base64-N`) with what a record says. */
export function compareS3Checksum(
  s3Checksum: string | undefined,
  recordedHex: string | undefined,
  recordedS3: string | undefined,
): EvidenceCheck["status"] | undefined {
  if (!s3Checksum) return undefined;
  if (recordedS3 !== undefined) return s3Checksum === recordedS3 ? "verified" : "mismatch";
  if (s3Checksum.includes("-") || !recordedHex) return undefined;
  return Buffer.from(s3Checksum, "base64").toString("hex") === recordedHex ? "verified" : "mismatch";
}

/** Checks every S3 evidence item of the records through HeadObject (a few at a time), in record order. */
export async function checkEvidence(s3: S3Client, records: CustodyRecord[]): Promise<EvidenceCheck[]> {
  const limit = pLimit(16);
  const items = records.flatMap((record) => (record.evidence ?? []).map((item) => ({ record, item })));
  return Promise.all(items.map(({ record, item }) => limit(() => checkItem(s3, record, item))));
}

/** Checks one evidence item. */
async function checkItem(s3: S3Client, record: CustodyRecord, item: EvidenceItem): Promise<EvidenceCheck> {
  const where = parseS3Location(item.location);
  if (!where)
    return {
      sequence: record.sequence,
      location: item.location,
      status: "not-checked",
      detail: `${item.kind}: not an S3 object (re-hash it with flz hash)`,
    };
  const versionId = typeof item.details?.versionId === "string" ? item.details.versionId : undefined;
  const recordedS3 = typeof item.details?.s3ChecksumSha256 === "string" ? item.details.s3ChecksumSha256 : undefined;
  try {
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: where.bucket, Key: where.key, VersionId: versionId, ChecksumMode: "ENABLED" }),
    );
    if (item.bytes !== undefined && head.ContentLength !== undefined && head.ContentLength !== item.bytes)
      return {
        sequence: record.sequence,
        location: item.location,
        status: "mismatch",
        detail: `object has ${head.ContentLength} bytes, the record says ${item.bytes}`,
      };
    const status = compareS3Checksum(head.ChecksumSHA256, item.sha256, recordedS3);
    return {
      sequence: record.sequence,
      location: item.location,
      status: status ?? "not-checked",
      detail:
        status === "verified"
          ? `S3 SHA-256 checksum ${head.ChecksumSHA256} matches${versionId ? ` (version ${versionId})` : ""}`
          : status === "mismatch"
            ? `S3 SHA-256 checksum ${head.ChecksumSHA256} does not match the record`
            : "the object has no comparable S3 SHA-256 checksum",
    };
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    const missing =
      e.name === "NotFound" ||
      e.name === "NoSuchKey" ||
      e.name === "NoSuchVersion" ||
      e.$metadata?.httpStatusCode === 404;
    return {
      sequence: record.sequence,
      location: item.location,
      status: missing ? "missing" : "not-checked",
      detail: missing ? "the object (version) does not exist" : `could not read it: ${e.name ?? String(err)}`,
    };
  }
}
