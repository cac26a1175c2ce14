/**
 * Head witnesses: evidence of a chain's length that the evidence bucket's writers cannot rewrite. A hash chain cannot
 * know its own length, so cutting records off its end (once their retention ends, or in an exported copy) leaves a
 * valid, shorter chain. Two witnesses reveal it:
 *
 * 1. **CloudTrail data events** of the evidence bucket. The organisation trail logs every S3 object write
 *    (`S3_OBJECT_WRITES`, on by default) from the management account into the trail bucket, where only CloudTrail
 *    writes, under COMPLIANCE retention, with hourly digest files signed by CloudTrail (`aws cloudtrail validate-logs`
 *    proves no log file was changed or removed). No principal of the forensic account can stop, edit or delete that
 *    trail. Every PutObject of a record key, and every DeleteObject under the case, is in it: the highest record
 *    sequence CloudTrail saw written must be in the chain, and no record key may have been written twice.
 * 2. **A pinned head hash**: the head hash printed by an earlier verify or export (in a ticket, an e-mail, a report
 *    handed to counsel). The chain must still contain a record with that hash.
 *
 * Pure: parse what the examiner supplies and compare it with what was verified.
 */
import type { ChainVerification } from "./chain";
import { classifyKey } from "./claims";
import type { CustodyFinding } from "./verdict";

/** One S3 API call as CloudTrail recorded it, reduced to what the witness needs. */
export interface WitnessEvent {
  /** `PutObject`, `DeleteObject`, `DeleteObjects`, `CopyObject`, `CompleteMultipartUpload`, ... */
  readonly eventName: string;
  /** Event time (ISO 8601). */
  readonly eventTime: string;
  /** Bucket. */
  readonly bucket?: string;
  /** Object keys the call named. */
  readonly keys: string[];
  /** Version ID S3 answered with, when recorded. */
  readonly versionId?: string;
  /** The caller's ARN. */
  readonly actor?: string;
  /** Error code, when the call failed. */
  readonly errorCode?: string;
}

type Json = { [key: string]: unknown };

function isJson(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A field of a CloudTrail event: camelCase as in log files, lower case as Athena names the columns. */
function field(event: Json, name: string): unknown {
  return event[name] ?? event[name.toLowerCase()];
}

/** A JSON-shaped field, which Athena keeps as a string. */
function jsonField(event: Json, name: string): Json | undefined {
  const value = field(event, name);
  if (isJson(value)) return value;
  if (typeof value === "string" && value.startsWith("{")) {
    try {
      const parsed = JSON.parse(value) as unknown;
      return isJson(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Reduces one CloudTrail event (log-file record or Athena row) to a {@link WitnessEvent}; undefined when not S3. */
export function witnessEventOf(event: unknown): WitnessEvent | undefined {
  if (!isJson(event)) return undefined;
  const source = field(event, "eventSource");
  if (source !== undefined && source !== "s3.amazonaws.com") return undefined;
  const eventName = field(event, "eventName");
  if (typeof eventName !== "string") return undefined;
  const request = jsonField(event, "requestParameters") ?? {};
  const response = jsonField(event, "responseElements") ?? {};
  const keys: string[] = [];
  if (typeof request.key === "string") keys.push(request.key);
  // DeleteObjects names its keys in the request body, which CloudTrail records as `delete.Object[]`.
  const del = request.delete;
  if (isJson(del)) {
    const objects = Array.isArray(del.Object) ? del.Object : isJson(del.Object) ? [del.Object] : [];
    for (const o of objects) if (isJson(o) && typeof o.Key === "string") keys.push(o.Key);
  }
  const identity = jsonField(event, "userIdentity");
  const errorCode = field(event, "errorCode");
  const versionId = response["x-amz-version-id"] ?? request.versionId;
  return {
    eventName,
    eventTime: String(field(event, "eventTime") ?? ""),
    bucket: typeof request.bucketName === "string" ? request.bucketName : undefined,
    keys,
    versionId: typeof versionId === "string" ? versionId : undefined,
    actor: typeof identity?.arn === "string" ? identity.arn : undefined,
    errorCode: typeof errorCode === "string" && errorCode !== "" ? errorCode : undefined,
  };
}

/**
 * Parses what an examiner hands in as the witness: a CloudTrail log file (`{"Records": [...]}`), a JSON array of
 * events, or JSON Lines (one event per line, as `aws cloudtrail` tooling and Athena's `UNLOAD ... WITH (format='JSON')`
 * write them). Throws a one-line error naming the first line that is not JSON.
 * @param text the file's text
 * @param source the file's name, for messages
 */
export function parseWitnessText(text: string, source: string): WitnessEvent[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  let raw: unknown[];
  try {
    const parsed = JSON.parse(trimmed) as unknown;
    raw = Array.isArray(parsed) ? parsed : isJson(parsed) && Array.isArray(parsed.Records) ? parsed.Records : [parsed];
  } catch {
    raw = [];
    const lines = trimmed.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].trim() === "") continue;
      try {
        raw.push(JSON.parse(lines[i]) as unknown);
      } catch {
        throw new Error(
          `${source} line ${i + 1} is not JSON (expected CloudTrail events: a log file, an array, or JSON Lines)`,
        );
      }
    }
  }
  return raw.map(witnessEventOf).filter((e): e is WitnessEvent => e !== undefined);
}

const WRITES = new Set(["PutObject", "CopyObject", "CompleteMultipartUpload", "RestoreObject"]);
const DELETES = new Set(["DeleteObject", "DeleteObjects", "DeleteObjectVersion"]);

/** What the witness is compared with. */
export interface WitnessSubject {
  /** Case ID. */
  readonly caseId: string;
  /** Evidence bucket, when known (events of other buckets are ignored). */
  readonly bucket?: string;
  /** The verification of the chain. */
  readonly verification: ChainVerification;
  /** Version IDs present per key, when the bucket was read (online); undefined offline. */
  readonly versionsByKey?: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * Compares CloudTrail's record of the case's S3 calls with the verified chain: a record written that the chain does
 * not reach (tail truncation), a record key written twice, a delete under the case, a witnessed version now absent.
 * Notes when the witness holds no write of the case's records at all (wrong time range or trail).
 */
export function witnessFindings(events: readonly WitnessEvent[], subject: WitnessSubject): CustodyFinding[] {
  const findings: CustodyFinding[] = [];
  const prefix = `cases/${subject.caseId}/`;
  const relevant = events.filter((e) => !e.errorCode && (!subject.bucket || !e.bucket || e.bucket === subject.bucket));
  const writesByRecord = new Map<number, WitnessEvent[]>();
  for (const event of relevant) {
    for (const key of event.keys) {
      if (!key.startsWith(prefix)) continue;
      const { role, sequence } = classifyKey(subject.caseId, key);
      if (DELETES.has(event.eventName)) {
        findings.push({
          severity: "broken",
          sequence: role === "record" ? sequence : undefined,
          key,
          versionId: event.versionId,
          reason: `CloudTrail witnessed ${event.eventName} of ${key} at ${event.eventTime}${event.actor ? ` by ${event.actor}` : ""}`,
        });
        continue;
      }
      if (!WRITES.has(event.eventName) || role !== "record" || sequence === undefined) continue;
      writesByRecord.set(sequence, [...(writesByRecord.get(sequence) ?? []), event]);
      const present = subject.versionsByKey?.get(key);
      if (present && event.versionId && !present.has(event.versionId))
        findings.push({
          severity: "broken",
          sequence,
          key,
          versionId: event.versionId,
          reason: `CloudTrail witnessed version ${event.versionId} of record ${sequence} written at ${event.eventTime}, and the bucket no longer holds it`,
        });
    }
  }
  if (writesByRecord.size === 0) {
    findings.push({
      severity: "note",
      reason: `the witness holds no successful write of a record of case ${subject.caseId}: check the trail query's time range and bucket`,
    });
    return findings;
  }
  for (const [sequence, writes] of writesByRecord) {
    if (writes.length > 1)
      findings.push({
        severity: "broken",
        sequence,
        key: writes[0].keys[0],
        reason: `CloudTrail witnessed ${writes.length} writes of record ${sequence} (${writes.map((w) => w.eventTime).join(", ")}): a record key is written once`,
      });
  }
  const highest = Math.max(...writesByRecord.keys());
  const chainEnd = subject.verification.total - 1;
  if (highest > chainEnd) {
    const w = writesByRecord.get(highest)?.[0];
    findings.push({
      severity: "broken",
      sequence: highest,
      key: w?.keys[0],
      reason: `CloudTrail witnessed record ${highest} written at ${w?.eventTime}${w?.actor ? ` by ${w.actor}` : ""}, but the chain ends at record ${chainEnd}: records were cut off its end`,
    });
  }
  return findings;
}

/**
 * Checks pinned head hashes (from earlier verify or export output): each must be the hash of a record of the chain,
 * or records were cut off its end (or the chain was replaced).
 */
export function pinnedHeadFindings(hashes: readonly string[], verification: ChainVerification): CustodyFinding[] {
  const known = new Set(verification.records.map((r) => r.hash));
  return hashes
    .filter((h) => !known.has(h.toLowerCase()))
    .map((h) => ({
      severity: verification.signaturesChecked === false ? ("unverified" as const) : ("broken" as const),
      reason: `the pinned head hash ${h} is not the hash of any verified record of the chain: records were cut off its end, or the chain was replaced`,
    }));
}
