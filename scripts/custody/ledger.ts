/**
 * The case's custody ledger over the Object-Locked evidence bucket (DESIGN.md §6). Each event becomes one record at
 * `cases/<case>/custody/<seq>.json`: canonical JSON, hash-chained to the record before it, signed by the custody key in
 * KMS (ECDSA P-256 over a short RAW statement), written once with a conditional create (`If-None-Match: *`), an S3
 * SHA-256 checksum and an explicit COMPLIANCE retention that is read back after the write (retention.ts).
 *
 * Group commit: appends that arrive while a write is in flight are queued, and the next flush writes them as one
 * batch: chained locally, each record signed on its own (in parallel), written in parallel.
 *
 * The protocol (docs/custody.md has the argument why no writer of the bucket can subvert it):
 * 1. A batch's records are signed by their author first. Then the batch claims its first sequence s with a
 *    conditional create of its journal `cases/<case>/custody-journal/<s>.json`, which holds those signed records.
 * 2. Once claimed, the records are written in parallel, and their retention (and the journal's) is checked.
 * 3. Losing a claim (412 PreconditionFailed, or 409 ConditionalRequestConflict) means other writers own s.. : the
 *    loser reads the claimed journals one after another to the first unclaimed sequence, checks each (every record's
 *    signature against the custody public key from KMS, links, hashes), follows them all at once, backs off with
 *    jitter, re-signs its own records for their new places and claims again (claim-reader.ts). It gives up only after
 *    many attempts in a row in which no claim could be followed (no progress); while other writers' batches keep
 *    landing it keeps going.
 * 4. Records a writer claimed but did not write (it stopped) are copied into place, byte for byte from its journal,
 *    after the same checks: when a writer opens the case (its first append in a process), or by `flz custody
 *    complete`. Nobody signs a record they did not author (record-writer.ts holds the only Sign), and nothing that
 *    does not verify against the key from KMS is copied, linked to or signed after: it is refused by name.
 */
import { KMSClient, GetPublicKeyCommand } from "@aws-sdk/client-kms";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { S3Client } from "@aws-sdk/client-s3";
import pLimit from "p-limit";
import { realSleep } from "../aws/backoff";
import { OperationError, UsageError } from "../errors";
import { auditInventory } from "./audit";
import { chainEvents, journalKey, serialiseJournal } from "./batch";
import { toJsonValue } from "./canonical";
import { verifyChain, type StoredRecord } from "./chain";
import { ClaimReader, type Head } from "./claim-reader";
import { indexListing } from "./claims";
import { batchFailures, contestedError, type BatchOutcome } from "./batch-outcome";
import { listedVersion, readCaseInventory, type CaseInventory } from "./inventory";
import {
  buildUnsignedRecord,
  custodyPrefix,
  GENESIS_HASH,
  isValidCaseId,
  publicKeyKey,
  publicKeyPemFromDer,
} from "./record";
import { regionOfKeyArn, type Completion, type EvidenceBucketLedger, type OpenLedgerOptions } from "./ledger-api";
import { RecordTakenError, RecordWriter, type WriterContext } from "./record-writer";
import { custodyRetentionDays } from "./retention";
import { CustodyStore, isConditionalConflict, type ObjectVersion } from "./store";
import type { CustodyEvent, CustodyRecord } from "./types";

export { isConditionalConflict, isMissingObject, sha256Base64 } from "./store";
export { regionOfKeyArn, type Completion, type EvidenceBucketLedger, type OpenLedgerOptions } from "./ledger-api";

/** Opens a case's ledger in the evidence bucket. Nothing is written until the first append. */
export async function openLedger(options: OpenLedgerOptions): Promise<EvidenceBucketLedger> {
  if (!isValidCaseId(options.caseId)) {
    throw new UsageError(
      `case ID ${JSON.stringify(options.caseId)} is not usable: 1-128 characters, letters, digits and . _ + = @ -, starting with a letter or digit`,
    );
  }
  return new BucketLedger(options);
}

class BucketLedger implements EvidenceBucketLedger {
  readonly caseId: string;
  readonly bucket: string;
  private readonly store: CustodyStore;
  private readonly claims: ClaimReader;
  private readonly writer: RecordWriter;
  private readonly kms: KMSClient;
  private readonly sts: STSClient;
  private readonly keyArn: string;
  private readonly now: () => Date;
  private readonly options: OpenLedgerOptions;
  private readonly maxStalled: number;
  private actor?: Promise<string>;
  private kmsKey?: Promise<string>;
  private context?: Promise<WriterContext>;
  private head?: Head;
  private needsPublicKey = false;
  /** The listing of the last `records()`, while no head is known: the writer's first look at the case. */
  private readerListing?: { readonly versions: ObjectVersion[]; readonly commits: number };
  /** Batches this ledger has set out to write (a listing read while one was under way may predate its claim). */
  private commits = 0;
  /** Recent lost claims, decaying on every won claim: sets the backoff window, so contention spreads writers out. */
  private contention = 0;
  // Group commit: appends that arrive while a batch is being written wait here and go out together in the next one.
  private pending: PendingAppend[] = [];
  private flushing = false;
  private readonly maxBatch: number;

  constructor(options: OpenLedgerOptions) {
    const lz = options.landingZone;
    this.options = options;
    this.caseId = options.caseId;
    this.bucket = lz.evidenceBucket;
    this.keyArn = lz.custodySigningKeyArn;
    this.store = new CustodyStore(options.factory.client(S3Client, { region: lz.homeRegion }), lz.evidenceBucket, {
      readAttempts: options.readAttempts,
      sleep: options.sleep,
    });
    this.claims = new ClaimReader(this.store, this.caseId);
    this.kms = options.factory.client(KMSClient, { region: regionOfKeyArn(lz.custodySigningKeyArn) });
    this.sts = options.factory.client(STSClient, { region: lz.homeRegion });
    this.now = options.now ?? (() => new Date());
    this.maxStalled = Math.max(1, options.maxStalledAttempts ?? 40);
    this.maxBatch = Math.max(1, options.maxBatch ?? 256);
    this.writer = new RecordWriter({
      store: this.store,
      kms: this.kms,
      keyArn: this.keyArn,
      caseId: this.caseId,
      now: this.now,
      parallelRequests: options.parallelRequests ?? 32,
    });
  }

  append(event: CustodyEvent): Promise<CustodyRecord> {
    let frozen: CustodyEvent;
    try {
      // Validate and deep-copy now: a bad event fails its own caller only, never the batch it would have joined,
      // and a caller that changes its object after calling cannot change what is recorded.
      buildUnsignedRecord(event, PROBE_PLACEMENT);
      frozen = toJsonValue(event, "event") as unknown as CustodyEvent;
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<CustodyRecord>((resolve, reject) => {
      this.pending.push({ event: frozen, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // From the next microtask: appends made in the same turn (the events of one step) go out as one batch,
        // one journal claim for all of them.
        queueMicrotask(() => void this.flushAll());
      }
    });
  }

  /**
   * Every record of the case that verifies, in sequence order, records claimed but not yet written included (their
   * journals verified): what capture, containment and clock act on. A chain that does not verify with the key from
   * KMS is refused, by name, rather than acted upon (an undo must never run a planted record's instructions).
   */
  async records(): Promise<CustodyRecord[]> {
    const commits = this.commits;
    const [inventory, publicKeyPem] = await Promise.all([
      readCaseInventory(this.store, this.caseId, { scope: "custody", journals: "needed", remembered: true }),
      this.kmsPublicKey(),
    ]);
    const audit = auditInventory(inventory, { caseId: this.caseId, publicKeyPem });
    const chain = verifyChain(audit.entries, { caseId: this.caseId, publicKeyPem });
    if (chain.problem)
      throw new OperationError(
        `the custody chain of case ${this.caseId} does not verify: ${chain.problem.reason} (${chain.problem.location}); nothing is acted on until it does: run flz custody verify --case ${this.caseId}`,
      );
    // A writer that has not opened the case yet opens it from this listing (the commands read, then record): a
    // listing made since is no better, as a claim made in between is found by the conditional create anyway.
    // Only a listing no batch of this ledger's overlapped: it then shows every claim this ledger made.
    if (!this.head && this.commits === commits)
      this.readerListing = { versions: inventory.entries.map(listedVersion), commits };
    return chain.records;
  }

  /**
   * Forgets the object versions this ledger has read or written, so its next reads go to S3 as a new process's would.
   * For a caller that runs several commands through one ledger and must see each command's own requests: the drill,
   * whose recorded calls become the permission reference of each command run on its own.
   */
  forgetReads(): void {
    this.store.forgetVersions();
  }

  async storedRecords(): Promise<StoredRecord[]> {
    const listing = indexListing(this.caseId, await this.store.listVersions(custodyPrefix(this.caseId)));
    const limit = pLimit(32);
    const entries = await Promise.all(
      [...listing.records].map(([sequence, slot]) =>
        limit(async (): Promise<StoredRecord> => {
          const read = await this.store.read(slot.key, slot.versionId);
          return { location: slot.key, sequence, versionId: slot.versionId, bytes: read?.bytes ?? new Uint8Array() };
        }),
      ),
    );
    return entries.sort((a, b) => a.sequence - b.sequence);
  }

  inventory(scope: "case" | "custody" = "case"): Promise<CaseInventory> {
    return readCaseInventory(this.store, this.caseId, { scope });
  }

  async storedPublicKey(): Promise<string | undefined> {
    const read = await this.store.read(publicKeyKey(this.caseId));
    return read ? Buffer.from(read.bytes).toString("utf8") : undefined;
  }

  kmsPublicKey(): Promise<string> {
    this.kmsKey ??= this.kms.send(new GetPublicKeyCommand({ KeyId: this.keyArn })).then((res) => {
      if (!res.PublicKey) throw new OperationError(`KMS returned no public key for custody key ${this.keyArn}`);
      if (res.KeyUsage && res.KeyUsage !== "SIGN_VERIFY") {
        throw new OperationError(
          `custody key ${this.keyArn} has key usage ${res.KeyUsage}; it must be SIGN_VERIFY (ECC_NIST_P256)`,
        );
      }
      return publicKeyPemFromDer(res.PublicKey);
    });
    this.kmsKey.catch(() => (this.kmsKey = undefined));
    return this.kmsKey;
  }

  async complete(options: { readonly dryRun?: boolean } = {}): Promise<Completion> {
    this.commits++;
    const ctx = await this.writerContext();
    const opened = await this.openHead(ctx, !options.dryRun);
    if (!options.dryRun) this.head = opened.head;
    return {
      journals: opened.journals,
      sequences: opened.copied,
      head: opened.head.sequence >= 0 ? { sequence: opened.head.sequence, hash: opened.head.hash } : undefined,
    };
  }

  /** Group commit: writes everything queued, one batch after another, until the queue is empty. */
  private async flushAll(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        let outcomes: BatchOutcome[];
        try {
          outcomes = await this.commit(batch.map((p) => p.event));
        } catch (err) {
          outcomes = batch.map(() => ({ error: err }));
        }
        batch.forEach((p, i) => {
          const outcome = outcomes[i];
          if ("record" in outcome) p.resolve(outcome.record);
          else p.reject(outcome.error);
        });
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Writes one batch: chain locally after the head, sign every record (in parallel), claim the first sequence with
   * the journal of signed records, then write the records in parallel and check the retention S3 gave them. Losing
   * the claim means other writers own those sequences: follow all of them, back off, and re-chain after them.
   */
  private async commit(events: CustodyEvent[]): Promise<BatchOutcome[]> {
    this.commits++;
    const ctx = await this.writerContext();
    // The reader's listing serves only the first batch after it (none of this ledger's writes since).
    const listed = this.readerListing?.commits === this.commits - 1 ? this.readerListing.versions : undefined;
    this.readerListing = undefined;
    if (!this.head) {
      const opened = await this.openHead(ctx, true, listed);
      this.head = opened.head;
      this.needsPublicKey = !opened.hasPublicKey;
    }
    let head = this.head;
    let stalled = 0;
    // The event time is when the batch set out; a batch that must follow other writers keeps it.
    const time = this.now().toISOString();
    let signedAfter: { head: Head; records: CustodyRecord[] } | undefined;
    for (;;) {
      const attemptStarted = performance.now();
      if (signedAfter?.head !== head) {
        const sealed = chainEvents(events, head, { caseId: this.caseId, actor: ctx.actor, time });
        signedAfter = { head, records: await this.writer.sealAll(sealed, ctx) };
      }
      const signed = signedAfter.records;
      const first = signed[0].sequence;
      const key = journalKey(this.caseId, first);
      const body = serialiseJournal(this.caseId, signed);
      let claimed: string | undefined;
      try {
        claimed = await this.writer.claim(key, body, ctx);
      } catch (err) {
        if (!isConditionalConflict(err)) throw err;
        const followed = await this.claims.follow(head, ctx.publicKeyPem, { first, body });
        if (!followed.ours) {
          const progressed = followed.head.sequence > head.sequence;
          stalled = progressed ? 0 : stalled + 1;
          if (stalled >= this.maxStalled)
            throw new OperationError(
              `could not append to case ${this.caseId}: ${stalled} attempts in a row found sequence ${first} claimed without a journal that could be read yet; retry`,
            );
          // How busy the case is: records other writers claimed during this one attempt (sign, claim, follow).
          const landed = followed.head.sequence - head.sequence;
          if (progressed) head = followed.head;
          this.head = head;
          this.contention = Math.min(this.contention + 1, 10);
          await this.backoff(landed * (performance.now() - attemptStarted));
          continue;
        }
        // The journal there is this very batch's (an SDK retry of a claim that had landed): it is ours.
      }
      this.contention = Math.floor(this.contention / 2);
      const outcomes = await this.writeClaimed(signed, key, ctx);
      const contest = await this.contestedClaim(outcomes, key, first, claimed);
      if (contest === "lost") {
        // Nothing of this batch was stored and the claim's first version is another writer's: a lost claim after
        // all. Re-open the case from the listing (first versions decide; the journal's current version is ours).
        const opened = await this.openHead(ctx, true);
        head = opened.head;
        this.head = head;
        this.contention = Math.min(this.contention + 1, 10);
        await this.backoff();
        continue;
      }
      if (contest === "refused")
        return outcomes.map((o) => ("error" in o ? { error: contestedError(o.error, this.store.url(key)) } : o));
      return outcomes;
    }
  }

  /**
   * After a record key of this batch was found holding another record: whether the batch's claim was contested, i.e.
   * the journal key's first version (the claim) is not the version this writer created. S3's conditional creates are
   * atomic, so on S3 this does not happen; a store that let two creates of one key succeed (the emulator under load)
   * does. `lost` when nothing of the batch was stored (the writer re-chains after the real claim and goes on),
   * `refused` when some of it was (the chain now mixes two claims' records: nothing more is written), `no` otherwise.
   */
  private async contestedClaim(
    outcomes: BatchOutcome[],
    key: string,
    first: number,
    claimed: string | undefined,
  ): Promise<"no" | "lost" | "refused"> {
    if (!claimed || !outcomes.some((o) => "error" in o && o.error instanceof RecordTakenError)) return "no";
    const claim = indexListing(this.caseId, await this.store.listVersions(key)).journals.get(first);
    if (!claim || claim.versionId === claimed) return "no";
    return outcomes.every((o) => "error" in o && o.error instanceof RecordTakenError) ? "lost" : "refused";
  }

  /** Writes the records of a batch this writer has claimed, and checks the retention of everything written. */
  private async writeClaimed(signed: CustodyRecord[], key: string, ctx: WriterContext): Promise<BatchOutcome[]> {
    const last = signed[signed.length - 1];
    this.head = { sequence: last.sequence, hash: last.hash, first: signed[0].sequence };
    const where = this.store.url(key);
    const extra: Promise<void>[] = [this.writer.checkRetention(key, undefined, ctx, `the batch journal ${where}`)];
    if (this.needsPublicKey) {
      this.needsPublicKey = false;
      extra.push(this.writer.storePublicKey(ctx));
    }
    const [sideResults, stored] = await Promise.all([Promise.allSettled(extra), this.writer.storeAll(signed, ctx)]);
    const outcomes = stored.map((o, i): BatchOutcome => ("error" in o ? o : { record: signed[i] }));
    const sideFailure = sideResults.find((r): r is PromiseRejectedResult => r.status === "rejected")?.reason as unknown;
    if (!outcomes.some((o) => "error" in o) && sideFailure === undefined) return outcomes;
    // The next append re-opens the case, which completes this batch from its journal if a record is missing.
    this.head = undefined;
    return batchFailures(outcomes, signed, sideFailure, { caseId: this.caseId, journal: where });
  }

  private writerContext(): Promise<WriterContext> {
    this.context ??= Promise.all([this.callerArn(), this.kmsPublicKey(), this.store.defaultRetention()]).then(
      ([actor, publicKeyPem, bucketDefault]) => ({
        actor,
        publicKeyPem,
        retentionDays: this.options.retentionDays ?? custodyRetentionDays(bucketDefault),
      }),
    );
    this.context.catch(() => (this.context = undefined));
    return this.context;
  }

  private callerArn(): Promise<string> {
    this.actor ??= this.sts.send(new GetCallerIdentityCommand({})).then((res) => {
      if (!res.Arn)
        throw new OperationError("STS GetCallerIdentity returned no ARN: cannot name the actor of custody records");
      return res.Arn;
    });
    this.actor.catch(() => (this.actor = undefined));
    return this.actor;
  }

  /**
   * Waits after a lost claim: full jitter over a window that doubles with the writer's recent lost claims (and shrinks
   * as it wins), so writers that keep colliding spread out instead of colliding in lockstep. Unless a longest wait is
   * configured, the window may grow past 400 ms to what the case's traffic says (`busyMs`: the records others claimed
   * during the lost attempt times its duration, up to 5 s): with dozens of writers on one case (one Lambda container
   * per concurrent task) and ~100 ms per request, a 400 ms window made each record cost about seven lost claims,
   * each a Sign, a create and reads, for the same chain throughput (one claim at a time).
   */
  private async backoff(busyMs = 0): Promise<void> {
    const base = this.options.backoffBaseMs ?? 10;
    const max = this.options.backoffMaxMs ?? Math.min(5000, Math.max(400, busyMs));
    const random = this.options.random ?? Math.random;
    await (this.options.sleep ?? realSleep)(Math.round(random() * Math.min(max, base * 2 ** this.contention)));
  }

  /**
   * Opens the case for writing: finds the last claimed record (every journal relied on checked against the key from
   * KMS) and, when `write`, copies the records of claims their writers never wrote.
   */
  private async openHead(
    ctx: WriterContext,
    write: boolean,
    listed?: readonly ObjectVersion[],
  ): Promise<{ head: Head; copied: number[]; journals: string[]; hasPublicKey: boolean }> {
    const opened = await this.claims.open(ctx.publicKeyPem, listed);
    if (write) for (const u of opened.unwritten) await this.writer.copyFromJournal(u.journal, u.missing, ctx);
    return {
      head: opened.head,
      copied: opened.unwritten.flatMap((u) => u.missing),
      journals: opened.unwritten.map((u) => this.store.url(u.key)),
      hasPublicKey: opened.hasPublicKey,
    };
  }
}

/** One queued append. */
interface PendingAppend {
  readonly event: CustodyEvent;
  readonly resolve: (record: CustodyRecord) => void;
  readonly reject: (err: unknown) => void;
}

/** A placement used only to validate an event when it is queued. */
const PROBE_PLACEMENT = {
  sequence: 0,
  caseId: "probe",
  time: new Date(0).toISOString(),
  actor: "probe",
  previousHash: GENESIS_HASH,
};
