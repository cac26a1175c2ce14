/**
 * Pure decisions of the ledger's group commit (see ledger.ts): chaining a batch of events locally, the batch journal
 * that claims a batch's sequence numbers, and the checks a journal must pass before anyone copies a record from it.
 *
 * Why a journal: the records of a batch are written in parallel, so a writer that dies midway can leave record k+1
 * stored without record k, and a record, once written to the Object-Locked bucket, can never be removed: without a
 * way to fill the gap the case's chain would be broken for good. So a batch first stores its records as one journal
 * object, and creating that object conditionally is also how the batch claims its sequence numbers.
 *
 * The records in a journal are already signed, by their author, before the claim is made. A writer that finds a
 * claimed batch incomplete completes it by copying the author's signed records byte for byte, after checking every
 * signature against the custody public key it obtained from KMS. Nobody ever signs a record they did not author: a
 * journal planted by a principal who may write to the bucket but may not call `kms:Sign` holds records whose
 * signatures do not verify, so it is refused, named, and nothing of it is copied or signed.
 */
import { canonicalJson } from "./canonical";
import { parsedRecordProblem } from "./chain";
import { buildUnsignedRecord, recordHash, SEQUENCE_DIGITS, type UnsignedRecord } from "./record";
import type { CustodyEvent, CustodyRecord, JsonValue } from "./types";

/** An unsigned record with its hash: everything of a record but the signature. */
export type SealedRecord = UnsignedRecord & { readonly hash: string };

/** Where a batch is linked into the chain. */
export interface ChainPoint {
  /** Sequence number of the record the batch follows (-1 for an empty case). */
  readonly sequence: number;
  /** Its hash ({@link GENESIS_HASH} for an empty case). */
  readonly hash: string;
}

/** What every record of a batch shares. */
export interface BatchContext {
  /** Case ID. */
  readonly caseId: string;
  /** Caller ARN. */
  readonly actor: string;
  /** Time of the records, ISO 8601 UTC. */
  readonly time: string;
}

/**
 * Format version of a batch journal. Version 1 held unsigned records that a completer signed; it is refused (a
 * completer would have to sign someone else's record).
 */
export const JOURNAL_VERSION = 2 as const;

/** User-metadata key (S3 `x-amz-meta-flz-batch`) naming the batch a record belongs to. */
export const BATCH_METADATA_KEY = "flz-batch";

/** The batch journal: the batch's records, each signed by its author, stored to claim the batch's first sequence. */
export interface BatchJournal {
  /** Format version. */
  readonly version: typeof JOURNAL_VERSION;
  /** Case ID. */
  readonly case: string;
  /** Sequence of the batch's first record (its claim). */
  readonly first: number;
  /** Sequence of its last record. */
  readonly last: number;
  /** The records first..last, each signed by the writer that authored it. */
  readonly records: CustodyRecord[];
}

/** Which batch a record belongs to, as the tag in its object metadata says. */
export interface BatchTag {
  /** First sequence of the batch. */
  readonly first: number;
  /** Last sequence of the batch. */
  readonly last: number;
  /** First 16 hex digits of the first record's hash: ties the tag to the journal's content. */
  readonly firstHash: string;
}

/**
 * Chains events after a point, locally: sequence numbers follow on, each record links to the hash of the one before.
 * Nothing is signed or stored here.
 */
export function chainEvents(events: readonly CustodyEvent[], after: ChainPoint, at: BatchContext): SealedRecord[] {
  const sealed: SealedRecord[] = [];
  let previous = after;
  for (const event of events) {
    const unsigned = buildUnsignedRecord(event, {
      sequence: previous.sequence + 1,
      caseId: at.caseId,
      time: at.time,
      actor: at.actor,
      previousHash: previous.hash,
    });
    const record: SealedRecord = { ...unsigned, hash: recordHash(unsigned) };
    sealed.push(record);
    previous = record;
  }
  return sealed;
}

/** The tag of a batch of records (at least one). */
export function batchTagOf(records: readonly { sequence: number; hash: string }[]): BatchTag {
  return {
    first: records[0].sequence,
    last: records[records.length - 1].sequence,
    firstHash: records[0].hash.slice(0, 16),
  };
}

/** The tag as stored in object metadata: `<first>-<last>-<16 hex digits>`. */
export function formatBatchTag(tag: BatchTag): string {
  return `${tag.first}-${tag.last}-${tag.firstHash}`;
}

/** Reads a stored tag; undefined when absent or not a tag. */
export function parseBatchTag(value: string | undefined): BatchTag | undefined {
  const match = /^(\d{1,15})-(\d{1,15})-([0-9a-f]{16})$/.exec(value ?? "");
  if (!match) return undefined;
  const first = Number(match[1]);
  const last = Number(match[2]);
  return last >= first ? { first, last, firstHash: match[3] } : undefined;
}

/** Prefix of a case's batch journals. Outside `custody/`, so listings and exports of the records never see them. */
export function journalPrefix(caseId: string): string {
  return `cases/${caseId}/custody-journal/`;
}

/**
 * Object key of the journal of the batch whose first sequence is `first`. Creating it (conditionally) is how a batch
 * claims its sequence numbers, so there is exactly one per first sequence.
 */
export function journalKey(caseId: string, first: number): string {
  return `${journalPrefix(caseId)}${String(first).padStart(SEQUENCE_DIGITS, "0")}.json`;
}

/** First sequence encoded in a journal's file name, or undefined when the name is not a journal's. */
export function firstOfJournalName(name: string): number | undefined {
  const match = /^(\d+)\.json$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** The journal of a batch of signed records (at least one), as stored (canonical JSON). */
export function serialiseJournal(caseId: string, records: readonly CustodyRecord[]): string {
  const tag = batchTagOf(records);
  const journal: BatchJournal = {
    version: JOURNAL_VERSION,
    case: caseId,
    first: tag.first,
    last: tag.last,
    records: [...records],
  };
  return canonicalJson(journal as unknown as JsonValue);
}

/** What a journal is checked against. */
export interface JournalExpectations {
  /** Case ID. */
  readonly caseId: string;
  /** The sequence its key claims. */
  readonly first: number;
  /**
   * Custody public key from KMS (or supplied by an examiner) every record's signature must verify with; undefined
   * only where signatures cannot be checked (an offline look without a key): such a journal is never copied from.
   */
  readonly publicKeyPem: string | undefined;
  /** Hash its first record must link to, when known (the head the batch was claimed after). */
  readonly previousHash?: string;
}

/**
 * Checks a journal read back from the claim of sequence `first`; returns the reason it cannot be used, or undefined.
 * Fail closed: every record must be a complete record of this case, in its place, linked to the one before it, hashed
 * correctly, signed by the custody key, and stored in canonical form, or nothing of the journal is used.
 */
export function journalProblem(value: unknown, expect: JournalExpectations): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "is not a JSON object";
  const journal = value as Omit<Partial<BatchJournal>, "version"> & { version?: unknown };
  if (journal.version === 1)
    return "is a version 1 journal of unsigned records (completing it would mean signing records someone else wrote)";
  if (journal.version !== JOURNAL_VERSION) return `has version ${JSON.stringify(journal.version)}`;
  if (journal.case !== expect.caseId) return `belongs to case ${JSON.stringify(journal.case)}`;
  if (journal.first !== expect.first) return `starts at ${journal.first}, not at ${expect.first}`;
  const records = journal.records as unknown;
  if (
    !Number.isInteger(journal.last) ||
    !Array.isArray(records) ||
    records.length !== (journal.last ?? 0) - expect.first + 1
  )
    return `does not hold the records ${expect.first}-${journal.last}`;
  let previousHash = expect.previousHash;
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as unknown;
    const sequence = expect.first + i;
    if (typeof record !== "object" || record === null || Array.isArray(record))
      return `record ${sequence} is not an object`;
    const problem = parsedRecordProblem(record as { [key: string]: JsonValue }, sequence, previousHash, expect);
    if (problem) return `record ${sequence} ${problem}`;
    previousHash = (record as CustodyRecord).hash;
  }
  if (expect.publicKeyPem === undefined) return "cannot be checked: no custody public key to verify its signatures";
  return undefined;
}

/** Sequence numbers of a batch missing from a set of stored ones. */
export function missingSequences(
  batch: { readonly first: number; readonly last: number },
  stored: ReadonlySet<number>,
): number[] {
  const missing: number[] = [];
  for (let s = batch.first; s <= batch.last; s++) if (!stored.has(s)) missing.push(s);
  return missing;
}
