/**
 * Pure decisions of the ledger's group commit (see ledger.ts): chaining a batch of events locally, the batch journal
 * that makes a batch's parallel writes safe, and the tag that tells other writers a record belongs to a batch.
 *
 * Why a journal: the records of a batch are written in parallel, so a writer that dies midway can leave record k+1
 * stored without record k, and a record, once written to the Object-Locked bucket, can never be removed: without a
 * way to fill the gap the case's chain would be broken for good. So a batch first stores its unsigned records (each
 * with its hash) as one journal object, and creating that object conditionally is also how the batch claims its
 * sequence numbers. Any later writer that finds a claimed batch incomplete completes it from the journal: it
 * re-signs each missing record (the hash, which links the chain, does not cover the signature, so a fresh signature
 * by the same custody key yields an equally valid record).
 */
import { canonicalJson } from "./canonical";
import { buildUnsignedRecord, recordHash, SEQUENCE_DIGITS, type UnsignedRecord } from "./record";
import type { CustodyEvent, JsonValue } from "./types";

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

/** Format version of a batch journal. */
export const JOURNAL_VERSION = 1 as const;

/** User-metadata key (S3 `x-amz-meta-flz-batch`) naming the batch a record belongs to. */
export const BATCH_METADATA_KEY = "flz-batch";

/** The batch journal: the unsigned records of a batch, stored before the batch claims its first sequence. */
export interface BatchJournal {
  /** Format version. */
  readonly version: typeof JOURNAL_VERSION;
  /** Case ID. */
  readonly case: string;
  /** Sequence of the batch's first record (its claim). */
  readonly first: number;
  /** Sequence of its last record. */
  readonly last: number;
  /** The records first..last, unsigned, each with its hash. */
  readonly records: SealedRecord[];
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

/** The tag of a batch of sealed records (at least one). */
export function batchTagOf(records: readonly SealedRecord[]): BatchTag {
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

/** Reads a stored tag; undefined when absent or not a tag (a record written alone has none). */
export function parseBatchTag(value: string | undefined): BatchTag | undefined {
  const match = /^(\d{1,15})-(\d{1,15})-([0-9a-f]{16})$/.exec(value ?? "");
  if (!match) return undefined;
  const first = Number(match[1]);
  const last = Number(match[2]);
  return last > first ? { first, last, firstHash: match[3] } : undefined;
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

/** The journal of a batch of sealed records (at least one), as stored (canonical JSON). */
export function serialiseJournal(caseId: string, records: readonly SealedRecord[]): string {
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

/**
 * Checks a journal read back from the claim of sequence `first`; returns the reason it cannot be used, or undefined.
 * Fail closed: a journal is only trusted to re-create records it fully accounts for (sequence, case, link and hash of
 * every record), so a damaged or forged journal can never put a record into the chain.
 */
export function journalProblem(value: unknown, caseId: string, first: number): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "is not a JSON object";
  const journal = value as Partial<BatchJournal>;
  if (journal.version !== JOURNAL_VERSION) return `has version ${JSON.stringify(journal.version)}`;
  if (journal.case !== caseId) return `belongs to case ${JSON.stringify(journal.case)}`;
  if (journal.first !== first) return `starts at ${journal.first}, not at ${first}`;
  const records = journal.records;
  if (!Number.isInteger(journal.last) || !Array.isArray(records) || records.length !== (journal.last ?? 0) - first + 1)
    return `does not hold the records ${first}-${journal.last}`;
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    if (typeof record !== "object" || record === null) return `record ${first + i} is not an object`;
    if (record.sequence !== first + i) return `record ${first + i} claims sequence ${record.sequence}`;
    if (record.case !== caseId) return `record ${record.sequence} belongs to another case`;
    if (i > 0 && record.previousHash !== records[i - 1].hash)
      return `record ${record.sequence} does not link to record ${record.sequence - 1}`;
    if ("signature" in record) return `record ${record.sequence} carries a signature (journals hold unsigned records)`;
    if (typeof record.hash !== "string" || recordHash(record) !== record.hash)
      return `record ${record.sequence} does not hash to its hash`;
  }
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
