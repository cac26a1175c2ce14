/**
 * Verification of a case's chain of records as stored (DESIGN.md §6): pure, so the same code checks the evidence
 * bucket online and an exported folder offline. It stops at the first broken record and says why, because everything
 * after a break is unanchored. Without a trusted public key it still checks bytes, shapes, links and hashes, but the
 * result is never `ok`: a chain nobody has checked the signatures of proves nothing (fail closed).
 */
import { canonicalJson } from "./canonical";
import { GENESIS_HASH, RECORD_VERSION, recordHash, SIGNING_ALGORITHM, signatureIsValid } from "./record";
import type { CustodyRecord, JsonValue } from "./types";
import type { CustodyFinding, VerdictStatus } from "./verdict";

/** One record as stored: the bytes and the sequence number its name gives it. */
export interface StoredRecord {
  /** Where it was read from (object key or file path), for messages. */
  readonly location: string;
  /** Sequence number from the object key or file name. */
  readonly sequence: number;
  /** The stored bytes (canonical JSON, UTF-8). */
  readonly bytes: Uint8Array;
  /** S3 version ID of the version read, when read from the bucket. */
  readonly versionId?: string;
  /**
   * Set when the record is not stored under its own key yet but held, signed by its author, in a batch journal that
   * claimed it (a writer stopped between claiming and writing): the journal's key. The next append (or
   * `flz custody complete`) copies it into place.
   */
  readonly heldInJournal?: string;
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
  /** True only when every record is present, canonical, linked, hashed and signed correctly, signatures checked with a trusted key, and nothing else was found wrong. */
  readonly ok: boolean;
  /** Number of records that verified before the first problem (all of them when ok; 0 when signatures were not checked). */
  readonly verified: number;
  /** Number of records found. */
  readonly total: number;
  /** Hash of the last record that passed every check made: quote it to pin the chain's length elsewhere (a hash chain alone cannot show that records were cut off its end). */
  readonly headHash?: string;
  /** The first problem, when not ok. */
  readonly problem?: ChainProblem;
  /** The records that verified, in order. */
  readonly records: CustodyRecord[];
  /** The verdict: VERIFIED, BROKEN, INCOMPLETE (records claimed but not yet written) or UNVERIFIED (no trusted public key). Absent in results of older versions: then `ok` decides. */
  readonly status?: VerdictStatus;
  /** Whether signatures were checked with a trusted public key. */
  readonly signaturesChecked?: boolean;
  /** Everything found, in order of sequence and key (the first `broken` one is also `problem`). */
  readonly findings?: CustodyFinding[];
}

/** What the chain must match. */
export interface ChainExpectations {
  /** Case ID every record must carry. */
  readonly caseId: string;
  /**
   * Custody public key (PEM) every signature must verify with: one obtained from KMS, or supplied by the examiner.
   * Undefined when no trusted key is available: signatures are then not checked and the result is UNVERIFIED.
   * Never pass a key read from beside the records: whoever can replace the records can replace it too.
   */
  readonly publicKeyPem: string | undefined;
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
  if (!Array.isArray(value.subjects) || value.subjects.some((s) => typeof s !== "string"))
    return "has no subjects array of strings";
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

/** Outcome of {@link parseRecordBytes}. */
export type ParsedBytes = { readonly value: JsonObject } | { readonly reason: string };

/**
 * Parses stored record bytes strictly: valid UTF-8, no byte-order mark, one JSON object, and exactly its canonical
 * serialisation, byte for byte, so no change can hide in an equivalent spelling (or in a BOM that decoders drop).
 */
export function parseRecordBytes(bytes: Uint8Array): ParsedBytes {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    return { reason: "starts with a UTF-8 byte-order mark (its bytes were altered)" };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { reason: "is not valid UTF-8" };
  }
  if (text.trim() === "") return { reason: "is empty" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { reason: "is not valid JSON" };
  }
  if (!isObject(parsed)) return { reason: "is not a JSON object" };
  if (canonicalJson(parsed) !== text) return { reason: "is not in canonical form (its bytes were altered)" };
  return { value: parsed };
}

/**
 * Checks a parsed record against its place in the chain; returns the reason it is broken, or undefined.
 * @param value the parsed record
 * @param expectedSequence the position it must hold
 * @param previousHash the hash it must link to; undefined skips the link check (a record checked on its own)
 * @param expect case and trusted public key (signatures are skipped when the key is undefined)
 */
export function parsedRecordProblem(
  value: JsonObject,
  expectedSequence: number,
  previousHash: string | undefined,
  expect: ChainExpectations,
): string | undefined {
  const shape = shapeProblem(value);
  if (shape) return shape;
  const record = value as unknown as CustodyRecord;
  if (record.sequence !== expectedSequence)
    return `claims sequence ${record.sequence} but is stored as ${expectedSequence}`;
  if (record.case !== expect.caseId)
    return `belongs to case ${JSON.stringify(record.case)}, not ${JSON.stringify(expect.caseId)}`;
  if (previousHash !== undefined && record.previousHash !== previousHash) {
    return expectedSequence === 0
      ? "is the first record but does not start from the genesis hash"
      : `does not link to record ${expectedSequence - 1} (previousHash ${record.previousHash.slice(0, 12)}… ≠ ${previousHash.slice(0, 12)}…)`;
  }
  const computed = recordHash(value);
  if (computed !== record.hash)
    return `has hash ${record.hash.slice(0, 12)}… but its contents hash to ${computed.slice(0, 12)}…`;
  if (expect.publicKeyPem !== undefined && !signatureIsValid(record, expect.publicKeyPem))
    return "has a signature that does not verify with the custody public key";
  return undefined;
}

/** Checks one stored record against its expected position and predecessor; returns the reason it is broken. */
export function recordProblem(
  entry: StoredRecord,
  expectedSequence: number,
  previousHash: string,
  expect: ChainExpectations,
): string | undefined {
  const parsed = parseRecordBytes(entry.bytes);
  if ("reason" in parsed) return parsed.reason;
  return parsedRecordProblem(parsed.value, expectedSequence, previousHash, expect);
}

/** Where an entry is, for messages: the key or path, and the version when there is one. */
export function describeLocation(entry: Pick<StoredRecord, "location" | "versionId">): string {
  return entry.versionId ? `${entry.location} (version ${entry.versionId})` : entry.location;
}

/**
 * Verifies a chain: records 0..n-1 all present (by stored sequence), each canonical, well-formed, in its place, of
 * this case, linked to its predecessor, hashed correctly and signed by the custody key. Entries may come in any order.
 * Entries held only in a journal take part in the chain (they are signed records) but make the result INCOMPLETE.
 */
export function verifyChain(entries: StoredRecord[], expect: ChainExpectations): ChainVerification {
  const sorted = [...entries].sort((a, b) => a.sequence - b.sequence);
  const signaturesChecked = expect.publicKeyPem !== undefined;
  const checked: CustodyRecord[] = [];
  let previousHash = GENESIS_HASH;
  const done = (problem?: ChainProblem): ChainVerification => {
    const findings: CustodyFinding[] = [];
    if (problem)
      findings.push({ severity: "broken", sequence: problem.sequence, key: problem.location, reason: problem.reason });
    const held = sorted.filter((e, i) => e.heldInJournal && (!problem || i < problem.sequence));
    findings.push(...heldFindings(held));
    const status: VerdictStatus = problem
      ? "BROKEN"
      : sorted.length === 0
        ? "BROKEN"
        : !signaturesChecked
          ? "UNVERIFIED"
          : held.length > 0
            ? "INCOMPLETE"
            : "VERIFIED";
    if (!problem && sorted.length === 0)
      findings.push({ severity: "broken", reason: "the case has no custody records" });
    if (!signaturesChecked)
      findings.push({
        severity: "unverified",
        reason:
          "signatures were not checked: no custody public key from KMS or from the examiner (a key found beside the records is never trusted on its own)",
      });
    return {
      ok: status === "VERIFIED",
      verified: signaturesChecked ? checked.length : 0,
      total: sorted.length,
      headHash: checked.length ? previousHash : undefined,
      problem,
      records: signaturesChecked ? checked : [],
      status,
      signaturesChecked,
      findings,
    };
  };
  for (let i = 0; i < sorted.length; i++) {
    const entry = sorted[i];
    if (entry.sequence !== i) {
      if (entry.sequence === i - 1)
        return done({
          sequence: i - 1,
          location: entry.location,
          reason: `record ${i - 1} is stored twice (${describeLocation(sorted[i - 1])}, ${describeLocation(entry)})`,
        });
      const from = i === 0 ? "starts at" : `jumps from ${i - 1} to`;
      return done({
        sequence: i,
        location: entry.location,
        reason: `record ${i} is missing: the chain ${from} ${entry.sequence}`,
      });
    }
    const reason = recordProblem(entry, i, previousHash, expect);
    if (reason) return done({ sequence: i, location: describeLocation(entry), reason: `record ${i} ${reason}` });
    const record = JSON.parse(Buffer.from(entry.bytes).toString("utf8")) as CustodyRecord;
    checked.push(record);
    previousHash = record.hash;
  }
  return done();
}

/** One finding per journal that holds records not yet written under their own keys. */
function heldFindings(held: StoredRecord[]): CustodyFinding[] {
  const byJournal = new Map<string, number[]>();
  for (const entry of held) {
    const journal = entry.heldInJournal ?? "";
    byJournal.set(journal, [...(byJournal.get(journal) ?? []), entry.sequence]);
  }
  return [...byJournal].map(([journal, sequences]) => ({
    severity: "pending" as const,
    sequence: sequences[0],
    key: journal,
    reason:
      sequences.length === 1
        ? `record ${sequences[0]} is claimed and signed by its author in the batch journal ${journal}, but not yet written under its own key: the next append to the case (or flz custody complete) copies it into place`
        : `records ${formatRanges(sequences)} are claimed and signed by their author in the batch journal ${journal}, but not yet written under their own keys: the next append to the case (or flz custody complete) copies them into place`,
  }));
}

/** `3, 5-9, 12` for a sorted list of sequence numbers. */
export function formatRanges(sequences: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < sequences.length; i++) {
    let j = i;
    while (j + 1 < sequences.length && sequences[j + 1] === sequences[j] + 1) j++;
    parts.push(j === i ? String(sequences[i]) : `${sequences[i]}-${sequences[j]}`);
    i = j;
  }
  return parts.join(", ");
}
