/**
 * Pure decisions about custody records (DESIGN.md §6): where a record lives, what its hash covers, what the custody
 * key signs, and whether one record is internally sound. No I/O here: the S3 ledger, `flz custody verify` and the
 * offline verifier of an exported folder all share these functions, so they cannot disagree.
 */
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import { canonicalJson, toJsonValue } from "./canonical";
import type { CustodyEvent, CustodyRecord, JsonValue } from "./types";

/** `previousHash` of the first record of a case. */
export const GENESIS_HASH = "0".repeat(64);

/** Format version written into every record. */
export const RECORD_VERSION = 1 as const;

/** Signing algorithm of the custody key (KMS ECC_NIST_P256). */
export const SIGNING_ALGORITHM = "ECDSA_SHA_256" as const;

/** Digits of the zero-padded sequence number in a record's object key, so listing order is chain order. */
export const SEQUENCE_DIGITS = 8;

/** What a case ID may look like: it becomes part of S3 keys, session names and file names. */
export const CASE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+=@-]{0,127}$/;

/** Whether a string is a usable case ID (see {@link CASE_ID_PATTERN}). */
export function isValidCaseId(caseId: string): boolean {
  return CASE_ID_PATTERN.test(caseId) && !caseId.includes("..");
}

/** Prefix of every custody object of a case in the evidence bucket. */
export function custodyPrefix(caseId: string): string {
  return `cases/${caseId}/custody/`;
}

/** File name of a record: the zero-padded sequence number, e.g. `00000007.json`. */
export function recordFileName(sequence: number): string {
  return `${String(sequence).padStart(SEQUENCE_DIGITS, "0")}.json`;
}

/** Object key of a record in the evidence bucket. */
export function recordKey(caseId: string, sequence: number): string {
  return `${custodyPrefix(caseId)}${recordFileName(sequence)}`;
}

/** Object key of the case's copy of the custody signing key's public key. */
export function publicKeyKey(caseId: string): string {
  return `${custodyPrefix(caseId)}public-key.pem`;
}

/** Sequence number encoded in a record file name, or undefined when the name is not a record's. */
export function sequenceOfFileName(name: string): number | undefined {
  const match = /^(\d+)\.json$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Lower-case hex SHA-256 of a string's UTF-8 bytes or of bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Everything of a record except `hash` and `signature`: what the hash covers. */
export type UnsignedRecord = Omit<CustodyRecord, "hash" | "signature">;

/** Where a new record goes in the chain, and who and when. */
export interface RecordPlacement {
  /** Sequence number of the new record. */
  readonly sequence: number;
  /** Case ID. */
  readonly caseId: string;
  /** Event time, ISO 8601 UTC with milliseconds. */
  readonly time: string;
  /** Caller ARN. */
  readonly actor: string;
  /** Hash of the record before it ({@link GENESIS_HASH} for the first). */
  readonly previousHash: string;
}

/**
 * Builds the unsigned record for an event at a place in the chain. The event is deep-copied into plain JSON (absent
 * optional fields stay absent); `outcome` defaults to `succeeded` so every record states it.
 */
export function buildUnsignedRecord(event: CustodyEvent, at: RecordPlacement): UnsignedRecord {
  if (typeof event.action !== "string" || event.action.length === 0)
    throw new TypeError("a custody event needs an action");
  if (!Array.isArray(event.subjects)) throw new TypeError(`custody event ${event.action} needs a subjects array`);
  const body = toJsonValue({ ...event, outcome: event.outcome ?? "succeeded" }, "event") as {
    [key: string]: JsonValue;
  };
  // Placement fields come last so an event can never smuggle in its own sequence, case, actor or chain link.
  return {
    ...(body as unknown as CustodyEvent),
    version: RECORD_VERSION,
    sequence: at.sequence,
    case: at.caseId,
    time: at.time,
    actor: at.actor,
    previousHash: at.previousHash,
  };
}

/** Drops `hash` and `signature` from a parsed record (any extra fields stay, so they are covered by the hash). */
export function withoutSeal(record: { [key: string]: JsonValue }): { [key: string]: JsonValue } {
  const rest = { ...record };
  delete rest.hash;
  delete rest.signature;
  return rest;
}

/** SHA-256 (hex) of the canonical serialisation of a record without `hash` and `signature`. */
export function recordHash(record: UnsignedRecord | { [key: string]: JsonValue }): string {
  return sha256Hex(canonicalJson(withoutSeal(record as unknown as { [key: string]: JsonValue })));
}

/**
 * The short canonical statement the custody key signs: it names the case, the position, the link to the previous
 * record, the record's own hash and the signing key's ARN (the only part of the seal outside the hash), so a signature
 * cannot be moved to another case or position, nor credited to another key. Always well under
 * the 4096 bytes KMS accepts as a RAW message (the case ID is at most 128 characters).
 */
export function signingStatement(
  record: Pick<CustodyRecord, "case" | "sequence" | "previousHash" | "hash">,
  keyArn: string,
): Buffer {
  return Buffer.from(
    canonicalJson({
      case: record.case,
      hash: record.hash,
      keyArn,
      previousHash: record.previousHash,
      purpose: "flz custody record",
      sequence: record.sequence,
    }),
    "utf8",
  );
}

/** The bytes stored for a record: its canonical serialisation, seal included. */
export function serialiseRecord(record: CustodyRecord): string {
  return canonicalJson(record as unknown as JsonValue);
}

/** Converts a KMS `GetPublicKey` answer (SPKI DER) to PEM. */
export function publicKeyPemFromDer(der: Uint8Array): string {
  return createPublicKey({ key: Buffer.from(der), format: "der", type: "spki" })
    .export({ type: "spki", format: "pem" })
    .toString();
}

/** Parsed public keys by PEM: a chain of thousands of records is verified with one key, parsed once. */
const parsedKeys = new Map<string, KeyObject>();

/** Signatures found valid, by public key, signed statement and signature (see signatureIsValid). */
const verifiedSignatures = new Set<string>();
const MAX_VERIFIED_SIGNATURES = 20_000;

function publicKeyOf(pem: string): KeyObject {
  let key = parsedKeys.get(pem);
  if (!key) {
    key = createPublicKey(pem);
    if (parsedKeys.size > 16) parsedKeys.clear();
    parsedKeys.set(pem, key);
  }
  return key;
}

/** Verifies a record's DER ECDSA signature over its statement, offline, with the custody public key (PEM). */
export function signatureIsValid(record: CustodyRecord, publicKeyPem: string): boolean {
  try {
    const statement = signingStatement(record, record.signature.keyArn);
    // A reader checks the same records on every read of the chain: an ECDSA verification that succeeded is
    // remembered by everything it covered (key, statement, signature), so it is not repeated; failures never are.
    const memo = `${publicKeyPem}\u0000${statement.toString("utf8")}\u0000${record.signature.value}`;
    if (verifiedSignatures.has(memo)) return true;
    const valid = verifySignature(
      "sha256",
      statement,
      { key: publicKeyOf(publicKeyPem), dsaEncoding: "der" },
      Buffer.from(record.signature.value, "base64"),
    );
    if (valid) {
      if (verifiedSignatures.size >= MAX_VERIFIED_SIGNATURES) verifiedSignatures.clear();
      verifiedSignatures.add(memo);
    }
    return valid;
  } catch {
    // A malformed signature (not DER) is simply not a valid one.
    return false;
  }
}
