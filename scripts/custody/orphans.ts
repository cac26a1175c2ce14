/**
 * Objects in a case's folder of the evidence bucket that no custody record names (issue 19 item 4): what a crash
 * between a write and its record leaves behind. `flz evidence put` and `flz capture` find their own by intent and
 * record them on the next run; this lists whatever is left, with the SHA-256 S3 computed on arrival, for `flz case
 * status` (and for tests that check a case converged). The ledger's own objects (records, journals, the public key)
 * are not evidence and are not listed.
 */
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import pLimit from "p-limit";
import type { CustodyRecord } from "./types";

/** An object no record names. */
export interface UnrecordedObject {
  /** `s3://bucket/key`. */
  readonly location: string;
  /** Object key. */
  readonly key: string;
  /** Size in bytes. */
  readonly bytes: number;
  /** When S3 stored it (ISO 8601). */
  readonly lastModified?: string;
  /**
   * Lower-case hex SHA-256 of the object, when S3 holds a full-object SHA-256 (single-part uploads); undefined for a
   * multipart object, whose S3 checksum is a checksum of its parts' checksums (given in `s3ChecksumSha256`).
   */
  readonly sha256?: string;
  /** S3's own checksum as it returns it (base64, a `-N` suffix for a composite of N parts). */
  readonly s3ChecksumSha256?: string;
}

/** Key prefixes of the ledger's own objects under `cases/<case>/`. */
const LEDGER_PREFIXES = ["custody/", "custody-journal/"];

/** Every location the records name as evidence or as a subject. */
export function recordedLocations(records: readonly CustodyRecord[]): Set<string> {
  const named = new Set<string>();
  for (const r of records) {
    for (const e of r.evidence ?? []) named.add(e.location);
    for (const s of r.subjects) if (s.startsWith("s3://")) named.add(s);
  }
  return named;
}

/**
 * Objects under `cases/<case>/` of the bucket that no record of the case names (outcome `succeeded` or not: a
 * failed upload's record names where it tried), with S3's SHA-256 of each.
 */
export async function listUnrecordedObjects(
  s3: S3Client,
  bucket: string,
  caseId: string,
  records: readonly CustodyRecord[],
): Promise<UnrecordedObject[]> {
  const prefix = `cases/${caseId}/`;
  const named = recordedLocations(records.filter((r) => r.outcome !== "failed"));
  const candidates: { key: string; bytes: number; lastModified?: string }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      if (!o.Key || LEDGER_PREFIXES.some((p) => o.Key?.startsWith(prefix + p))) continue;
      if (named.has(`s3://${bucket}/${o.Key}`)) continue;
      candidates.push({ key: o.Key, bytes: o.Size ?? 0, lastModified: o.LastModified?.toISOString() });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const limit = pLimit(8);
  return Promise.all(
    candidates.map((c) =>
      limit(async (): Promise<UnrecordedObject> => {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: c.key, ChecksumMode: "ENABLED" }));
        const checksum = head.ChecksumSHA256;
        const full = checksum && !checksum.includes("-") && head.ChecksumType !== "COMPOSITE";
        return {
          location: `s3://${bucket}/${c.key}`,
          key: c.key,
          bytes: c.bytes,
          ...(c.lastModified ? { lastModified: c.lastModified } : {}),
          ...(full ? { sha256: Buffer.from(checksum, "base64").toString("hex") } : {}),
          ...(checksum ? { s3ChecksumSha256: checksum } : {}),
        };
      }),
    ),
  );
}
