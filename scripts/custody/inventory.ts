export { classifyKey, type ObjectRole } from "./claims";

/**
 * Everything stored under a case's prefix, every version and delete marker of it, read once: what `flz custody
 * verify` audits and what the ledger reads records from. A plain listing (ListObjectsV2) shows only current versions,
 * so a delete marker would hide a record, and a second write over a record key would replace it, without a trace;
 * the version listing shows both, and each version's own Object Lock state is read with it.
 */
import pLimit from "p-limit";
import { journalKey, journalPrefix } from "./batch";
import { classifyKey, indexListing, planOpen, type ObjectRole } from "./claims";
import { custodyPrefix } from "./record";
import type { VersionLock } from "./retention";
import type { CustodyStore, ObjectVersion } from "./store";

/** One version or delete marker under the case's prefix, with what was read of it. */
export interface InventoryEntry extends ObjectVersion {
  /** What it is, by its key. */
  readonly role: ObjectRole;
  /** Sequence of a record, first sequence of a journal. */
  readonly sequence?: number;
  /** The version's Object Lock state (versions only). */
  readonly lock?: VersionLock;
  /** Its bytes (records, journals, the public key, foreign custody objects). */
  readonly bytes?: Uint8Array;
  /** Its user metadata, when read. */
  readonly metadata?: Record<string, string>;
  /** Why it could not be read, when it could not. */
  readonly readError?: string;
}

/** The listed version an inventory entry was read from (its listing fields only). */
export function listedVersion(e: InventoryEntry): ObjectVersion {
  return {
    key: e.key,
    versionId: e.versionId,
    deleteMarker: e.deleteMarker,
    isLatest: e.isLatest,
    lastModified: e.lastModified,
    size: e.size,
  };
}

/** A case's inventory. */
export interface CaseInventory {
  /** Case ID. */
  readonly caseId: string;
  /** The evidence bucket. */
  readonly bucket: string;
  /** The prefix listed. */
  readonly prefix: string;
  /** Every version and delete marker, in key order (oldest version of a key first). */
  readonly entries: InventoryEntry[];
}

/** Options of {@link readCaseInventory}. */
export interface InventoryOptions {
  /**
   * `case` (default): everything under `cases/<case>/`, evidence and artefacts included (their versions' retention is
   * read with HeadObject). `custody`: only the records, the public key and the journals.
   */
  readonly scope?: "case" | "custody";
  /**
   * `all` (default): every version of every journal is read, so the audit can name a planted one. `needed`: only the
   * journals a reader of the chain needs, those whose records are not all stored and the last one (a journal whose
   * records are all stored adds nothing to the chain); the others are listed without their bytes.
   */
  readonly journals?: "all" | "needed";
  /**
   * Use versions the store already holds (their bytes cannot have changed): for readers of the chain, which ignore
   * Object Lock state. Default false: an audit reads every version's lock from S3.
   */
  readonly remembered?: boolean;
  /** Reads in flight at once. Default 32. */
  readonly concurrency?: number;
}

/**
 * Every version under a case's record and journal prefixes, in ONE listing: the two prefixes share the start
 * `cases/<case>/custody` (`custody/` and `custody-journal/`), so one ListObjectVersions of that start, keeping only
 * keys under either prefix, sees both. A listing is the dearest request a reader makes (S3 bills LIST at 12.5 times
 * GET; the emulator copies the whole bucket for each one), and readers of the chain list on every read.
 */
export async function listCustodyVersions(store: CustodyStore, caseId: string): Promise<ObjectVersion[]> {
  const records = custodyPrefix(caseId);
  const journals = journalPrefix(caseId);
  const shared = commonStart(records, journals);
  return (await store.listVersions(shared)).filter((v) => v.key.startsWith(records) || v.key.startsWith(journals));
}

function commonStart(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}

/** Whether the bytes of an object of this role are read (everything under the custody prefixes). */
function readsBytes(role: ObjectRole): boolean {
  return role !== "case-object";
}

/**
 * Lists every version and delete marker under the case's prefix and reads each version: the bytes and lock of custody
 * objects (one GetObject of that version), the lock of anything else (one HeadObject). A version that cannot be read
 * after the store's retries is kept, with the reason, so the audit names it instead of failing as a whole.
 */
export async function readCaseInventory(
  store: CustodyStore,
  caseId: string,
  options: InventoryOptions = {},
): Promise<CaseInventory> {
  const scope = options.scope ?? "case";
  const prefixes = scope === "case" ? [`cases/${caseId}/`] : [custodyPrefix(caseId), journalPrefix(caseId)];
  const listed = scope === "case" ? await store.listVersions(prefixes[0]) : await listCustodyVersions(store, caseId);
  const plan = planOpen(indexListing(caseId, listed));
  const neededJournals = new Set(plan.toRead.map((first) => journalKey(caseId, first)));
  const skip = (v: ObjectVersion, role: ObjectRole): boolean =>
    options.journals === "needed" && role === "journal" && !neededJournals.has(v.key);
  const limit = pLimit(Math.max(1, options.concurrency ?? 32));
  const entries = await Promise.all(
    listed.map((version) =>
      limit(async (): Promise<InventoryEntry> => {
        const { role, sequence } = classifyKey(caseId, version.key);
        const base = { ...version, role, sequence };
        if (version.deleteMarker || skip(version, role)) return base;
        try {
          if (readsBytes(role)) {
            const read = await store.read(version.key, version.versionId, { fresh: !options.remembered });
            if (!read) return { ...base, readError: "the version disappeared while it was being read" };
            return { ...base, bytes: read.bytes, metadata: read.metadata, lock: read.lock };
          }
          const head = await store.head(version.key, version.versionId);
          if (!head) return { ...base, readError: "the version disappeared while it was being read" };
          return { ...base, lock: head.lock };
        } catch (err) {
          return { ...base, readError: err instanceof Error ? err.message : String(err) };
        }
      }),
    ),
  );
  return { caseId, bucket: store.bucket, prefix: prefixes.join(", "), entries };
}
