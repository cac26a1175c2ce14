/**
 * Verification of a case's chain of records as stored (DESIGN.md §6): pure, so the same code checks the evidence
 * bucket online and an exported folder offline. It stops at the first broken record and says why, because everything
 * after a break is unanchored.
 */
import { canonicalJson } from "./canonical";
import { GENESIS_HASH, RECORD_VERSION, recordHash, SIGNING_ALGORITHM, signatureIsValid } from "./record";
import type { CustodyRecord, JsonValue } from "./types";

/** One record as stored: the bytes and the sequence number its name gives it. */
export interface StoredRecord {
  /** Where it was read from (object key or file path), for messages. */
  readonly location: string;
  /** Sequence number from the object key or file name. */
  readonly sequence: number;
  /** The stored bytes (canonical JSON, UTF-8). */
  readonly bytes: Uint8Array;
}

/** The first thing found wrong in a chain. */
export interface ChainProblem {
  /** Sequence number of the first broken record. */
  readonly sequence: number;
  /** Where that record was read from (or would have been). */
  readonly location: string;
  /** Why it is broken, in one sentence. */
  readonly reason: string;
}

/** Outcome of {@link verifyChain}. */
export interface ChainVerification {
  /** True when every record is present, canonical, linked, hashed and signed correctly. */
  readonly ok: boolean;
  /** Number of records that verified before the first problem (all of them when ok). */
  readonly verified: number;
  /** Number of records found. */
  readonly total: number;
  /** Hash of the last verified record: quote it to pin the chain's length elsewhere (a hash chain alone cannot show that records were cut off its end). */
  readonly headHash?: string;
  /** The first problem, when not ok. */
  readonly problem?: ChainProblem;
  /** The records that verified, in order. */
  readonly records: CustodyRecord[];
}

/** What the chain must match. */
export interface ChainExpectations {
  /** Case ID every record must carry. */
  readonly caseId: string;
  /** Custody public key (PEM) every signature must verify with. */
  readonly publicKeyPem: string;
}

type JsonObject = { [key: string]: JsonValue };

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks the shape of a parsed record; returns the reason it is malformed, or undefined. */
export function shapeProblem(value: JsonObject): string | undefined {
  if (value.version !== RECORD_VERSION)
    return `has format version ${JSON.stringify(value.version)}, expected ${RECORD_VERSION}`;
  for (const field of ["case", "time", "actor", "action", "previousHash", "hash"]) {
    if (typeof value[field] !== "string") return `has no ${field} string`;
  }
  if (!Number.isInteger(value.sequence)) return "has no integer sequence";
  if (!Array.isArray(value.subjects)) return "has no subjects array";
  if (!/^[0-9a-f]{64}$/.test(value.hash as string)) return "has a hash that is not 64 lower-case hex digits";
  if (!/^[0-9a-f]{64}$/.test(value.previousHash as string))
    return "has a previousHash that is not 64 lower-case hex digits";
  if (Number.isNaN(Date.parse(value.time as string))) return `has an unreadable time ${JSON.stringify(value.time)}`;
  const signature = value.signature;
  if (!isObject(signature) || typeof signature.value !== "string" || typeof signature.keyArn !== "string")
    return "has no signature";
  // Node's base64 decoder ignores stray characters and padding bits: demand the one canonical spelling.
  if (Buffer.from(signature.value, "base64").toString("base64") !== signature.value)
    return "has a signature that is not canonical base64";
  if (signature.algorithm !== SIGNING_ALGORITHM)
    return `is signed with ${JSON.stringify(signature.algorithm)}, expected ${SIGNING_ALGORITHM}`;
  return undefined;
}

/** Checks one stored record against its expected position and predecessor; returns the reason it is broken. */
export function recordProblem(
  entry: StoredRecord,
  expectedSequence: number,
  previousHash: string,
  expect: ChainExpectations,
): string | undefined {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(entry.bytes);
  } catch {
    return "is not valid UTF-8";
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return "is not valid JSON";
  }
  if (!isObject(parsed)) return "is not a JSON object";
  // Byte-exactness: the stored text must be the canonical form, so no change hides in an equivalent spelling.
  if (canonicalJson(parsed) !== text) return "is not in canonical form (its bytes were altered)";
  const shape = shapeProblem(parsed);
  if (shape) return shape;
  const record = parsed as unknown as CustodyRecord;
  if (record.sequence !== expectedSequence)
    return `claims sequence ${record.sequence} but is stored as ${expectedSequence}`;
  if (record.case !== expect.caseId)
    return `belongs to case ${JSON.stringify(record.case)}, not ${JSON.stringify(expect.caseId)}`;
  if (record.previousHash !== previousHash) {
    return expectedSequence === 0
      ? "is the first record but does not start from the genesis hash"
      : `does not link to record ${expectedSequence - 1} (previousHash ${record.previousHash.slice(0, 12)}… ≠ ${previousHash.slice(0, 12)}…)`;
  }
  const computed = recordHash(parsed);
  if (computed !== record.hash)
    return `has hash ${record.hash.slice(0, 12)}… but its contents hash to ${computed.slice(0, 12)}…`;
  if (!signatureIsValid(record, expect.publicKeyPem))
    return "has a signature that does not verify with the custody public key";
  return undefined;
}

/**
 * Verifies a chain: records 0..n-1 all present (by stored sequence), each canonical, well-formed, in its place, of
 * this case, linked to its predecessor, hashed correctly and signed by the custody key. Entries may come in any order.
 */
export function verifyChain(entries: StoredRecord[], expect: ChainExpectations): ChainVerification {
  const sorted = [...entries].sort((a, b) => a.sequence - b.sequence);
  const records: CustodyRecord[] = [];
  let previousHash = GENESIS_HASH;
  for (let i = 0; i < sorted.length; i++) {
    const entry = sorted[i];
    const fail = (reason: string, sequence = i, location = entry.location): ChainVerification => ({
      ok: false,
      verified: records.length,
      total: sorted.length,
      headHash: records.length ? previousHash : undefined,
      problem: { sequence, location, reason },
      records,
    });
    if (entry.sequence !== i) {
      if (entry.sequence === i - 1)
        return fail(`record ${i - 1} is stored twice (${sorted[i - 1].location}, ${entry.location})`, i - 1);
      const from = i === 0 ? "starts at" : `jumps from ${i - 1} to`;
      return fail(`record ${i} is missing: the chain ${from} ${entry.sequence}`, i, entry.location);
    }
    const reason = recordProblem(entry, i, previousHash, expect);
    if (reason) return fail(`record ${i} ${reason}`);
    const record = JSON.parse(Buffer.from(entry.bytes).toString("utf8")) as CustodyRecord;
    records.push(record);
    previousHash = record.hash;
  }
  return {
    ok: true,
    verified: records.length,
    total: sorted.length,
    headHash: records.length ? previousHash : undefined,
    records,
  };
}
