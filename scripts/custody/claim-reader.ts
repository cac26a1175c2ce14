/**
 * Reading a case's claims (batch journals) the way a writer must before it appends: listing them, checking each
 * journal it relies on (every record's signature against the custody public key from KMS, the links, the hashes),
 * finding the head, and following the batches other writers claimed. Reads only; the ledger (ledger.ts) writes what
 * this finds missing. Whatever cannot be accounted for is refused by name, never written around.
 */
import { OperationError } from "../errors";
import { journalKey, journalPrefix, journalProblem, missingSequences, type BatchJournal } from "./batch";
import { listCustodyVersions } from "./inventory";
import { indexListing, planOpen, uncoveredRecords, type ClaimListing, type Slot } from "./claims";
import { custodyPrefix, GENESIS_HASH, recordKey } from "./record";
import type { CustodyStore, ObjectVersion } from "./store";

/** The last claimed record: its sequence and hash, and the first sequence of its batch (whose journal exists). */
export interface Head {
  /** Sequence of the last claimed record (-1 for an empty case). */
  readonly sequence: number;
  /** Its hash (the genesis hash for an empty case). */
  readonly hash: string;
  /** First sequence of its batch. */
  readonly first?: number;
}

/** A checked journal with records not yet stored under their own keys. */
export interface Unwritten {
  /** The journal's key. */
  readonly key: string;
  /** The checked journal. */
  readonly journal: BatchJournal;
  /** Its records not stored yet. */
  readonly missing: number[];
}

/** What a writer opening a case finds. */
export interface OpenedCase {
  /** The last claimed record. */
  readonly head: Head;
  /** Claims whose records are not all stored. */
  readonly unwritten: Unwritten[];
  /** Whether the case's public-key.pem exists. */
  readonly hasPublicKey: boolean;
}

/** A case's claims, read for one writer. */
export class ClaimReader {
  /**
   * @param store the evidence bucket
   * @param caseId the case
   */
  constructor(
    private readonly store: CustodyStore,
    private readonly caseId: string,
  ) {}

  /**
   * Finds the head and every claim with records not yet written, after checking each journal relied on against the
   * trusted public key. Refuses a case that holds a record beyond its last claim (no flz claim covers it).
   * @param publicKeyPem the custody public key from KMS
   * @param listed a listing of the case's records and journals the caller has just made (one ListObjectVersions of
   *   both prefixes), used for the first look instead of listing again; a later look lists afresh.
   */
  async open(publicKeyPem: string, listed?: readonly ObjectVersion[]): Promise<OpenedCase> {
    for (let attempt = 0; ; attempt++) {
      const listing =
        attempt === 0 && listed ? indexListing(this.caseId, [...listed]) : await this.listClaims(attempt > 0);
      const plan = planOpen(listing);
      const read = await Promise.all(
        plan.toRead.map(async (first) => {
          const slot = listing.journals.get(first) as Slot;
          const got = await this.store.read(slot.key, slot.versionId);
          return {
            first,
            journal: this.check(got ? Buffer.from(got.bytes).toString("utf8") : "", first, slot, publicKeyPem),
          };
        }),
      );
      const last = read.find((r) => r.first === plan.lastJournal)?.journal;
      const end = last?.records[last.records.length - 1];
      const head: Head = end
        ? { sequence: end.sequence, hash: end.hash, first: plan.lastJournal }
        : { sequence: -1, hash: GENESIS_HASH };
      // A record beyond the last claim: a claim that landed between the two listings (look again, records first),
      // or an object no flz claim accounts for (refuse).
      if (uncoveredRecords(listing, head.sequence).length > 0) {
        if (attempt === 0) continue;
        this.refuseUncovered(listing, head.sequence);
      }
      const stored = new Set(listing.records.keys());
      const unwritten = read
        .map(({ first, journal }) => ({
          key: journalKey(this.caseId, first),
          journal,
          missing: missingSequences(journal, stored),
        }))
        .filter((u) => u.missing.length > 0);
      return { head, unwritten, hasPublicKey: listing.hasPublicKey };
    }
  }

  /**
   * After losing the claim of `ours.first`: follows every batch claimed after `head`, in order, to the end (each
   * journal read and checked), and returns the last claimed record. Returns `ours` when the journal at `ours.first`
   * is this very batch's (an SDK retry of a claim that had landed). One read per claimed batch, and one that finds
   * the next sequence unclaimed: no listing, which would cost as much as the whole case.
   * @param head the head the lost claim was made after
   * @param publicKeyPem the custody public key from KMS
   * @param ours the lost claim: its first sequence and journal text
   */
  async follow(
    head: Head,
    publicKeyPem: string,
    ours: { first: number; body: string },
  ): Promise<{ head: Head; ours: boolean }> {
    let cursor = head;
    for (;;) {
      const first = cursor.sequence + 1;
      const key = journalKey(this.caseId, first);
      const found = await this.store.readCurrent(key);
      let slot: Slot | undefined =
        found && found !== "delete-marker" ? { key, versionId: found.versionId ?? "null" } : undefined;
      let bytes = found && found !== "delete-marker" ? found.bytes : undefined;
      const firstVersion = async (): Promise<void> => {
        const first0 = indexListing(this.caseId, await this.store.listVersions(key)).journals.get(first);
        if (first0) {
          slot = first0;
          bytes = (await this.store.read(key, first0.versionId))?.bytes;
        }
      };
      // The claim is a journal's first version. A delete marker hides it; a later version (which the RCP's
      // create-only rule refuses on AWS, and which a non-atomic If-None-Match lets two racing writers make on the
      // emulator) is not it: either way the listing names the first, read only then, as the common case costs one GET.
      if (found === "delete-marker") await firstVersion();
      if (!slot) return { head: cursor, ours: false };
      let text = bytes ? Buffer.from(bytes).toString("utf8") : "";
      if (first === ours.first && text === ours.body) return { head: cursor, ours: true };
      let journal: BatchJournal;
      try {
        journal = this.check(text, first, slot, publicKeyPem, cursor.hash);
      } catch (error) {
        const current = (slot as Slot).versionId;
        await firstVersion();
        if ((slot as Slot).versionId === current) throw error;
        text = bytes ? Buffer.from(bytes).toString("utf8") : "";
        if (first === ours.first && text === ours.body) return { head: cursor, ours: true };
        journal = this.check(text, first, slot as Slot, publicKeyPem, cursor.hash);
      }
      const end = journal.records[journal.records.length - 1];
      cursor = { sequence: end.sequence, hash: end.hash, first };
    }
  }

  /**
   * Lists the record and journal prefixes and indexes them, in one listing (inventory.ts). A listing is not a
   * snapshot: a claim can land while it runs, its journal key passed already (journal keys sort first) and its record
   * seen; `sequential` lists the records first and the journals after, so every record listed has its journal,
   * created before it, in the journal listing that follows.
   */
  private async listClaims(sequential: boolean): Promise<ClaimListing> {
    const records = () => this.store.listVersions(custodyPrefix(this.caseId));
    const journals = () => this.store.listVersions(journalPrefix(this.caseId));
    if (sequential) {
      const r = await records();
      return indexListing(this.caseId, [...r, ...(await journals())]);
    }
    return indexListing(this.caseId, await listCustodyVersions(this.store, this.caseId));
  }

  /**
   * Checks a journal's text; refuses, by name, one that is not a journal of records signed by the custody key (a
   * planted journal: nothing of it is copied, linked to or signed after).
   */
  private check(text: string, first: number, slot: Slot, publicKeyPem: string, previousHash?: string): BatchJournal {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const problem =
      value === undefined
        ? "is missing or not JSON"
        : journalProblem(value, { caseId: this.caseId, first, publicKeyPem, previousHash });
    if (problem)
      throw new OperationError(
        `the batch journal ${this.store.url(slot.key)} (version ${slot.versionId}) of case ${this.caseId} ${problem}: it is not a claim made by flz, so nothing of it is copied or signed; refusing to append; run flz custody verify --case ${this.caseId}`,
      );
    return value as BatchJournal;
  }

  /** Refuses to append to a case that holds a record beyond its last claim (no flz claim covers it). */
  private refuseUncovered(listing: ClaimListing, head: number): void {
    const uncovered = uncoveredRecords(listing, head);
    if (uncovered.length === 0) return;
    const key = listing.records.get(uncovered[0])?.key ?? recordKey(this.caseId, uncovered[0]);
    throw new OperationError(
      `${this.store.url(key)} is stored beyond the last claimed record ${head} of case ${this.caseId}: no flz claim covers it (a writer other than flz put it there); refusing to append around it; run flz custody verify --case ${this.caseId}`,
    );
  }
}
