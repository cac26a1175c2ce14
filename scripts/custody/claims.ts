/**
 * Pure decisions about a case's claims (batch journals) as listed in the bucket: which journals cover which
 * sequences, which records are stored, what must be read to find the head, and what a writer must refuse because no
 * claim accounts for it. ledger.ts does the I/O around these.
 */
import { firstOfJournalName, journalPrefix } from "./batch";
import { custodyPrefix, publicKeyKey, sequenceOfFileName } from "./record";
import type { ObjectVersion } from "./store";

/** What an object under a case's prefix is, by its key. */
export type ObjectRole =
  /** `custody/<seq>.json`: a record. */
  | "record"
  /** `custody/public-key.pem`: the case's copy of the custody public key. */
  | "public-key"
  /** `custody-journal/<first>.json`: a batch journal. */
  | "journal"
  /** Anything else under `custody/` or `custody-journal/`: nothing flz writes. */
  | "foreign"
  /** Anything else under the case (evidence, artefacts). */
  | "case-object";

/** The role of a key under a case's prefix, and the sequence it names (records and journals). */
export function classifyKey(caseId: string, key: string): { role: ObjectRole; sequence?: number } {
  const records = custodyPrefix(caseId);
  const journals = journalPrefix(caseId);
  if (key === publicKeyKey(caseId)) return { role: "public-key" };
  if (key.startsWith(records)) {
    const sequence = sequenceOfFileName(key.slice(records.length));
    return sequence === undefined ? { role: "foreign" } : { role: "record", sequence };
  }
  if (key.startsWith(journals)) {
    const first = firstOfJournalName(key.slice(journals.length));
    return first === undefined ? { role: "foreign" } : { role: "journal", sequence: first };
  }
  return { role: "case-object" };
}

/** The first version of a key (the one a conditional create put there), by sequence. */
export interface Slot {
  /** Object key. */
  readonly key: string;
  /** Version ID of the key's first version. */
  readonly versionId: string;
  /** When S3 stored it. */
  readonly lastModified?: Date;
}

/** What a listing of a case's custody prefixes holds, by sequence. */
export interface ClaimListing {
  /** The first version of each record key, by sequence. */
  readonly records: Map<number, Slot>;
  /** The first version of each journal key, by first sequence. */
  readonly journals: Map<number, Slot>;
  /** Keys under the record prefix that flz never writes (not `<seq>.json`, not `public-key.pem`). */
  readonly foreign: string[];
  /** Whether the case's public-key.pem has a version. */
  readonly hasPublicKey: boolean;
}

/**
 * Indexes listings of the record and journal prefixes. Delete markers are ignored: a marker hides nothing from a
 * version listing, and a key that holds only markers was never written (S3 creates a marker even for a key that
 * does not exist).
 */
export function indexListing(caseId: string, versions: readonly ObjectVersion[]): ClaimListing {
  const records = new Map<number, Slot>();
  const journals = new Map<number, Slot>();
  const foreign: string[] = [];
  let hasPublicKey = false;
  for (const v of versions) {
    if (v.deleteMarker) continue;
    if (!v.key.startsWith(custodyPrefix(caseId)) && !v.key.startsWith(journalPrefix(caseId))) continue;
    const { role, sequence } = classifyKey(caseId, v.key);
    const slot = { key: v.key, versionId: v.versionId, lastModified: v.lastModified };
    // Versions come oldest first within a key: keep the first.
    if (role === "record" && sequence !== undefined && !records.has(sequence)) records.set(sequence, slot);
    else if (role === "journal" && sequence !== undefined && !journals.has(sequence)) journals.set(sequence, slot);
    else if (role === "public-key") hasPublicKey = true;
    else if (role === "foreign" && !foreign.includes(v.key)) foreign.push(v.key);
  }
  return { records, journals, foreign, hasPublicKey };
}

/** The journals to read when a writer opens a case, and the ranges already known to be complete. */
export interface OpenPlan {
  /** First sequences of the journals that must be read: the last one, and every one with a missing record. */
  readonly toRead: number[];
  /** First sequence of the last journal, if any. */
  readonly lastJournal?: number;
}

/**
 * Decides which journals a writer opening a case must read. A journal that is followed by another covers exactly
 * the sequences up to the next one's first; if every one of those records is stored, that claim is complete and its
 * journal need not be read. The last journal is always read: its range, and so the head, is known only from it.
 */
export function planOpen(listing: ClaimListing): OpenPlan {
  const firsts = [...listing.journals.keys()].sort((a, b) => a - b);
  const toRead: number[] = [];
  for (let i = 0; i < firsts.length; i++) {
    const first = firsts[i];
    if (i === firsts.length - 1) {
      toRead.push(first);
      break;
    }
    for (let s = first; s < firsts[i + 1]; s++) {
      if (!listing.records.has(s)) {
        toRead.push(first);
        break;
      }
    }
  }
  return { toRead, lastJournal: firsts.length ? firsts[firsts.length - 1] : undefined };
}

/**
 * Records stored beyond the head that no claim accounts for (a junk object at a higher sequence, a record written by
 * something other than flz): a writer refuses to append to such a case rather than write around them.
 */
export function uncoveredRecords(listing: ClaimListing, head: number): number[] {
  return [...listing.records.keys()].filter((s) => s > head).sort((a, b) => a - b);
}
