/**
 * The case's custody ledger over the Object-Locked evidence bucket (DESIGN.md §6). Each event becomes one record at
 * `cases/<case>/custody/<seq>.json`: canonical JSON, hash-chained to the record before it, signed by the custody key in
 * KMS (ECDSA P-256 over a short RAW statement), written once with a conditional create (`If-None-Match: *`) and an S3
 * SHA-256 checksum, and kept by the bucket's default COMPLIANCE retention.
 *
 * Group commit: appends that arrive while a write is in flight are queued, and the next flush writes them as one
 * batch. The batch is chained locally (hashes need no round trip), every record is signed on its own (one KMS Sign
 * each, in parallel), and the records are written in parallel. That turns ~90 strictly sequential Sign + PutObject
 * pairs of a 16-volume capture into a handful of batches, each a few round trips long.
 *
 * Two operators appending to the same case never fork the chain. Writing several records in parallel is only safe if
 * a batch owns its sequence numbers before it writes them, and if a batch cut short can be finished by someone else
 * (a record in the Object-Locked bucket can never be removed, so a gap would break the chain for good). So:
 * 1. A batch claims its first sequence s with a conditional create (`If-None-Match: *`) of its journal
 *    `cases/<case>/custody-journal/<s>.json` (batch.ts): the batch's records, unsigned, each with its hash. The claim
 *    goes out while the records are being signed, so it costs no round trip of its own. Every append claims this
 *    way, a batch of one too: a record key is only ever written by the owner of the claim that covers it.
 * 2. Once claimed, every record is written in parallel, each tagged in object metadata with its batch's range.
 * 3. Losing a claim (412 PreconditionFailed, or 409 ConditionalRequestConflict while another write to the key is in
 *    flight) means another writer owns s.. : read its journal, check that it links to the same head, write any of its
 *    records not stored yet (re-signed from the journal: the hash that links the chain does not cover the signature,
 *    so a fresh signature by the custody key gives an equally valid record), and re-chain this whole batch after it.
 *    A writer reading the head does the same for a tagged record whose batch is incomplete. A conflict on a record
 *    write is checked to be the same record (same hash), or the append stops (fail closed).
 * Records already stored stay valid: each lies in a range claimed once, and links to the head its claim was made on.
 * Every operator of a case must run a version of flz that claims this way (appends by an older one would not).
 */
import { createHash } from "node:crypto";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetPublicKeyCommand, KMSClient, SignCommand } from "@aws-sdk/client-kms";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import pLimit from "p-limit";
import type { ClientFactory } from "../aws/clients";
import type { LandingZone } from "../contract";
import { describeError, OperationError, UsageError } from "../errors";
import {
  BATCH_METADATA_KEY,
  batchTagOf,
  chainEvents,
  formatBatchTag,
  journalKey,
  journalProblem,
  missingSequences,
  parseBatchTag,
  serialiseJournal,
  type BatchJournal,
  type SealedRecord,
} from "./batch";
import { toJsonValue } from "./canonical";
import type { StoredRecord } from "./chain";
import {
  buildUnsignedRecord,
  custodyPrefix,
  GENESIS_HASH,
  isValidCaseId,
  publicKeyKey,
  publicKeyPemFromDer,
  recordHash,
  recordKey,
  sequenceOfFileName,
  serialiseRecord,
  SIGNING_ALGORITHM,
  signatureIsValid,
  signingStatement,
} from "./record";
import type { CustodyEvent, CustodyLedger, CustodyRecord } from "./types";

/** Options of {@link openLedger}. */
export interface OpenLedgerOptions {
  /** Client factory acting in the forensic account (pass `forensicRoleArn: lz.forensicResponderRoleArn`). */
  readonly factory: ClientFactory;
  /** The landing-zone contract: evidence bucket, home region, custody signing key. */
  readonly landingZone: LandingZone;
  /** Case ID; see `CASE_ID_PATTERN` in record.ts. */
  readonly caseId: string;
  /** Clock, for tests. Default: the system clock. */
  readonly now?: () => Date;
  /** How many times an append re-reads the head and retries after losing a conditional create. Default 50. */
  readonly maxConflictRetries?: number;
  /** Most records written in one batch (group commit). Default 256 (a journal of a few hundred KiB). */
  readonly maxBatch?: number;
  /** Most KMS Sign requests, and most S3 writes, in flight at once. Default 32. */
  readonly parallelRequests?: number;
}

/** The S3-backed ledger: the {@link CustodyLedger} contract plus what `flz custody` needs to verify and export. */
export interface EvidenceBucketLedger extends CustodyLedger {
  /** The evidence bucket holding the case. */
  readonly bucket: string;
  /** The case's stored copy of the custody public key (PEM), or undefined when the case has no records yet. */
  storedPublicKey(): Promise<string | undefined>;
  /** The custody key's public key as KMS returns it now (PEM). */
  kmsPublicKey(): Promise<string>;
  /** Every stored record's bytes, in sequence order (for verification and export). */
  storedRecords(): Promise<StoredRecord[]>;
}

interface Head {
  readonly sequence: number;
  readonly hash: string;
}

/** Whether an S3 error means a conditional create lost to another writer. */
export function isConditionalConflict(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    e?.name === "PreconditionFailed" ||
    e?.name === "ConditionalRequestConflict" ||
    e?.$metadata?.httpStatusCode === 412 ||
    e?.$metadata?.httpStatusCode === 409
  );
}

/** Whether an S3 error means the object does not exist. */
export function isMissingObject(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}

/** Region of a KMS key ARN (`arn:aws:kms:<region>:<account>:key/<id>`). */
export function regionOfKeyArn(arn: string): string {
  const region = arn.split(":")[3];
  if (!region)
    throw new UsageError(`custody signing key ${arn} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)`);
  return region;
}

/** Base64 SHA-256 of bytes, as S3's `ChecksumSHA256` wants it. */
export function sha256Base64(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("base64");
}

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
  private readonly s3: S3Client;
  private readonly kms: KMSClient;
  private readonly sts: STSClient;
  private readonly keyArn: string;
  private readonly now: () => Date;
  private readonly maxConflictRetries: number;
  private actor?: Promise<string>;
  private publicKey?: Promise<string>;
  private kmsKey?: Promise<string>;
  private head?: Head;
  // Group commit: appends that arrive while a batch is being written wait here and go out together in the next one.
  private pending: PendingAppend[] = [];
  private flushing = false;
  private readonly maxBatch: number;
  private readonly signLimit: ReturnType<typeof pLimit>;
  private readonly writeLimit: ReturnType<typeof pLimit>;

  constructor(options: OpenLedgerOptions) {
    const lz = options.landingZone;
    this.caseId = options.caseId;
    this.bucket = lz.evidenceBucket;
    this.keyArn = lz.custodySigningKeyArn;
    this.s3 = options.factory.client(S3Client, { region: lz.homeRegion });
    this.kms = options.factory.client(KMSClient, { region: regionOfKeyArn(lz.custodySigningKeyArn) });
    this.sts = options.factory.client(STSClient, { region: lz.homeRegion });
    this.now = options.now ?? (() => new Date());
    this.maxConflictRetries = options.maxConflictRetries ?? 50;
    this.maxBatch = Math.max(1, options.maxBatch ?? 256);
    this.signLimit = pLimit(Math.max(1, options.parallelRequests ?? 32));
    this.writeLimit = pLimit(Math.max(1, options.parallelRequests ?? 32));
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
        void this.flushAll();
      }
    });
  }

  async records(): Promise<CustodyRecord[]> {
    return (await this.storedRecords()).map(
      (entry) => JSON.parse(Buffer.from(entry.bytes).toString("utf8")) as CustodyRecord,
    );
  }

  async storedRecords(): Promise<StoredRecord[]> {
    const keys = await this.listRecordKeys();
    const limit = pLimit(16);
    const entries = await Promise.all(
      keys.map(({ key, sequence }) =>
        limit(async () => ({ location: key, sequence, bytes: (await this.getBytes(key)) ?? new Uint8Array() })),
      ),
    );
    return entries.sort((a, b) => a.sequence - b.sequence);
  }

  async storedPublicKey(): Promise<string | undefined> {
    return this.getText(publicKeyKey(this.caseId));
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
   * Writes one batch: chain locally after the head, claim the first sequence with the journal while every record
   * is signed (in parallel), then write the records in parallel. Losing the claim means another writer owns that
   * sequence: nothing of this batch was stored, so follow that writer's batch and re-chain all of this one after it.
   */
  private async commit(events: CustodyEvent[]): Promise<BatchOutcome[]> {
    const [actor, publicKeyPem] = await Promise.all([this.callerArn(), this.ensurePublicKey()]);
    let head = this.head ?? (await this.findHead(undefined));
    for (let attempt = 0; attempt <= this.maxConflictRetries; attempt++) {
      const sealed = chainEvents(events, head, { caseId: this.caseId, actor, time: this.now().toISOString() });
      const first = sealed[0].sequence;
      const key = journalKey(this.caseId, first);
      const [claim, signed] = await Promise.allSettled([
        this.createOnce(key, serialiseJournal(this.caseId, sealed), "application/json"),
        Promise.all(sealed.map((r) => this.signLimit(() => this.seal(r, publicKeyPem)))),
      ]);
      if (claim.status === "rejected") {
        if (!isConditionalConflict(claim.reason)) throw claim.reason;
        const owner = await this.followClaim(first, head, sealed[0]);
        if (owner !== "ours") {
          head = owner;
          // A little jitter keeps two writers that keep colliding from colliding in lockstep.
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** Math.min(attempt, 5))));
          continue;
        }
        // The journal there is this very batch (an SDK retry of a claim that had landed): it is ours.
      }
      // The batch owns first..last now: no other writer can store a different record there.
      const last = sealed[sealed.length - 1];
      this.head = { sequence: last.sequence, hash: last.hash };
      const where = `s3://${this.bucket}/${key}`;
      if (signed.status === "rejected") {
        this.head = undefined;
        const why = describeError(signed.reason);
        return sealed.map((r) => ({
          error: new OperationError(
            `record ${r.sequence} of case ${this.caseId} is claimed but could not be signed (${why}); the next append completes it from ${where}`,
          ),
        }));
      }
      const metadata = sealed.length > 1 ? { [BATCH_METADATA_KEY]: formatBatchTag(batchTagOf(sealed)) } : undefined;
      const outcomes = await Promise.all(
        signed.value.map((record) =>
          this.writeLimit(() => this.storeClaimed(record, metadata)).then(
            (stored): BatchOutcome => ({ record: stored }),
            (error: unknown): BatchOutcome => ({ error }),
          ),
        ),
      );
      if (outcomes.some((o) => "error" in o)) {
        // Make the next append re-read the head, which completes this batch from its journal.
        this.head = undefined;
        return outcomes.map((o, i): BatchOutcome =>
          "error" in o
            ? {
                error: new OperationError(
                  `record ${sealed[i].sequence} of case ${this.caseId} is claimed but was not stored (${describeError(o.error)}); the next append completes it from ${where}`,
                ),
              }
            : o,
        );
      }
      return outcomes;
    }
    throw new OperationError(
      `could not append to case ${this.caseId} after ${this.maxConflictRetries} conflicting writes: other appenders keep winning; retry`,
    );
  }

  /** Signs a sealed record and checks the signature against the case's public key. */
  private async seal(unsigned: SealedRecord, publicKeyPem: string): Promise<CustodyRecord> {
    const signature = await this.sign(signingStatement(unsigned, this.keyArn));
    const record: CustodyRecord = {
      ...unsigned,
      signature: { keyArn: this.keyArn, algorithm: SIGNING_ALGORITHM, value: signature },
    };
    // Fail closed: never store a record that the case's public key would reject.
    if (!signatureIsValid(record, publicKeyPem)) {
      throw new OperationError(
        `custody key ${this.keyArn} produced a signature that does not verify with the case's public key ${publicKeyKey(this.caseId)}`,
      );
    }
    return record;
  }

  /**
   * Stores a record at a sequence its batch has claimed. A conditional conflict there can only be another writer
   * completing the same batch from its journal: the stored record must then carry the same hash, or the chain is
   * not what this batch claimed and nothing more is written (fail closed).
   */
  private async storeClaimed(
    record: CustodyRecord,
    metadata: Record<string, string> | undefined,
  ): Promise<CustodyRecord> {
    const key = recordKey(this.caseId, record.sequence);
    try {
      await this.createOnce(key, serialiseRecord(record), "application/json", metadata);
      return record;
    } catch (err) {
      if (!isConditionalConflict(err)) throw err;
      const stored = parseRecord(await this.getObject(key));
      if (stored?.hash !== record.hash || recordHash(stored) !== record.hash) {
        throw new OperationError(
          `s3://${this.bucket}/${key} holds a record other than the one its batch claimed: refusing to go on; run flz custody verify --case ${this.caseId}`,
        );
      }
      return stored;
    }
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

  /** The case's public key: the stored copy, checked against KMS; stored from KMS on the case's first append. */
  private ensurePublicKey(): Promise<string> {
    this.publicKey ??= (async () => {
      const fromKms = await this.kmsPublicKey();
      const key = publicKeyKey(this.caseId);
      let stored = await this.getText(key);
      if (stored === undefined) {
        try {
          await this.createOnce(key, fromKms, "application/x-pem-file");
          stored = fromKms;
        } catch (err) {
          if (!isConditionalConflict(err)) throw err;
          stored = await this.getText(key);
        }
      }
      if (stored?.trim() !== fromKms.trim()) {
        throw new OperationError(
          `s3://${this.bucket}/${key} is not the public key of custody key ${this.keyArn}: refusing to append to case ${this.caseId}`,
        );
      }
      return stored;
    })();
    this.publicKey.catch(() => (this.publicKey = undefined));
    return this.publicKey;
  }

  private async sign(message: Buffer): Promise<string> {
    const res = await this.kms.send(
      new SignCommand({
        KeyId: this.keyArn,
        Message: message,
        MessageType: "RAW",
        SigningAlgorithm: SIGNING_ALGORITHM,
      }),
    );
    if (!res.Signature) throw new OperationError(`KMS returned no signature from custody key ${this.keyArn}`);
    return Buffer.from(res.Signature).toString("base64");
  }

  /** Writes an object only if the key does not exist yet, with an S3-verified SHA-256 of exactly these bytes. */
  private async createOnce(
    key: string,
    body: string,
    contentType: string,
    metadata?: Record<string, string>,
  ): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        Metadata: metadata,
        IfNoneMatch: "*",
        ChecksumAlgorithm: "SHA256",
        ChecksumSHA256: sha256Base64(body),
      }),
    );
  }

  private async getBytes(key: string): Promise<Uint8Array | undefined> {
    return (await this.getObject(key))?.bytes;
  }

  /** An object's bytes and user metadata, or undefined when it does not exist. */
  private async getObject(key: string): Promise<StoredObject | undefined> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return { bytes: (await res.Body?.transformToByteArray()) ?? new Uint8Array(), metadata: res.Metadata ?? {} };
    } catch (err) {
      if (isMissingObject(err)) return undefined;
      throw err;
    }
  }

  private async getText(key: string): Promise<string | undefined> {
    const bytes = await this.getBytes(key);
    return bytes === undefined ? undefined : Buffer.from(bytes).toString("utf8");
  }

  private async listRecordKeys(after?: number): Promise<{ key: string; sequence: number }[]> {
    const prefix = custodyPrefix(this.caseId);
    const found: { key: string; sequence: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          ContinuationToken: token,
          StartAfter: token || after === undefined ? undefined : recordKey(this.caseId, after),
        }),
      );
      for (const object of page.Contents ?? []) {
        const sequence = object.Key ? sequenceOfFileName(object.Key.slice(prefix.length)) : undefined;
        if (object.Key && sequence !== undefined) found.push({ key: object.Key, sequence });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found.sort((a, b) => a.sequence - b.sequence);
  }

  /**
   * Finds the last record (after a known head, if any) and checks that it is sound enough to link to. When it belongs
   * to a batch, the head is the batch's last record, and any record of the batch a writer left unwritten (it died
   * midway) is written from the batch's journal first, so the chain never keeps a gap. Batches claimed beyond the
   * last stored record are found when the next claim conflicts with them.
   */
  private async findHead(known: Head | undefined): Promise<Head> {
    const keys = await this.listRecordKeys(known?.sequence);
    const last = keys[keys.length - 1];
    if (!last) return known ?? { sequence: -1, hash: GENESIS_HASH };
    const object = await this.getObject(last.key);
    const record = parseRecord(object);
    if (!record) {
      throw new OperationError(
        `s3://${this.bucket}/${last.key} is not a readable custody record: refusing to append; run flz custody verify --case ${this.caseId}`,
      );
    }
    if (record.sequence !== last.sequence || recordHash(record) !== record.hash) {
      throw new OperationError(
        `the last record of case ${this.caseId} (s3://${this.bucket}/${last.key}) fails its hash check: refusing to append; run flz custody verify --case ${this.caseId}`,
      );
    }
    const tag = parseBatchTag(object?.metadata[BATCH_METADATA_KEY]);
    if (!tag) return { sequence: record.sequence, hash: record.hash };
    const journal = await this.readJournal(
      tag.first,
      `record ${record.sequence} is tagged with batch ${tag.first}-${tag.last}`,
    );
    if (
      journal.last !== tag.last ||
      journal.records[0].hash.slice(0, 16) !== tag.firstHash ||
      journal.records[record.sequence - tag.first]?.hash !== record.hash
    ) {
      this.refuseJournal(tag.first, `does not hold record ${record.sequence} as stored`);
    }
    return this.completeBatch(journal);
  }

  /**
   * After losing the claim of `first`: reads the winner's journal, checks that it links to the head this batch was
   * chained on (anything else would mean two different chains), completes it, and returns its last record as the
   * new head. Returns `"ours"` when the journal is this batch's own (the claim had landed; only its answer was lost).
   */
  private async followClaim(first: number, head: Head, ourFirst: SealedRecord): Promise<Head | "ours"> {
    const journal = await this.readJournal(first, `sequence ${first} is claimed`, true);
    // A 409 answers a claim while the other writer's create is still in flight: try again once it has landed.
    if (!journal) return head;
    if (journal.records[0].hash === ourFirst.hash) return "ours";
    if (journal.records[0].previousHash !== head.hash) {
      this.refuseJournal(
        first,
        `links to ${journal.records[0].previousHash.slice(0, 12)}…, not to record ${head.sequence} (${head.hash.slice(0, 12)}…)`,
      );
    }
    return this.completeBatch(journal);
  }

  /** Reads and checks the journal of the batch claimed at `first`; refuses to go on when it is missing or unsound. */
  private async readJournal(first: number, context: string): Promise<BatchJournal>;
  private async readJournal(first: number, context: string, allowMissing: true): Promise<BatchJournal | undefined>;
  private async readJournal(first: number, context: string, allowMissing = false): Promise<BatchJournal | undefined> {
    const object = await this.getObject(journalKey(this.caseId, first));
    if (!object && allowMissing) return undefined;
    let journal: unknown;
    try {
      journal = object ? JSON.parse(Buffer.from(object.bytes).toString("utf8")) : undefined;
    } catch {
      journal = undefined;
    }
    if (journal === undefined) this.refuseJournal(first, `is missing or unreadable (${context})`);
    const problem = journalProblem(journal, this.caseId, first);
    if (problem) this.refuseJournal(first, problem);
    return journal as BatchJournal;
  }

  private refuseJournal(first: number, why: string): never {
    throw new OperationError(
      `the batch journal s3://${this.bucket}/${journalKey(this.caseId, first)} of case ${this.caseId} ${why}: refusing to append; run flz custody verify --case ${this.caseId}`,
    );
  }

  /** Makes sure every record of a claimed batch is stored (writing the missing ones from its journal); returns its last. */
  private async completeBatch(journal: BatchJournal): Promise<Head> {
    const stored = new Set(
      (await this.listRecordKeys(journal.first > 0 ? journal.first - 1 : undefined)).map((k) => k.sequence),
    );
    const missing = missingSequences(journal, stored);
    if (missing.length > 0) {
      const publicKeyPem = await this.ensurePublicKey();
      const tag = batchTagOf(journal.records);
      const metadata = journal.records.length > 1 ? { [BATCH_METADATA_KEY]: formatBatchTag(tag) } : undefined;
      await Promise.all(
        missing.map((sequence) =>
          this.writeLimit(async () => {
            const record = await this.signLimit(() =>
              this.seal(journal.records[sequence - journal.first], publicKeyPem),
            );
            await this.storeClaimed(record, metadata);
          }),
        ),
      );
    }
    const end = journal.records[journal.records.length - 1];
    return { sequence: end.sequence, hash: end.hash };
  }
}

/** One queued append. */
interface PendingAppend {
  readonly event: CustodyEvent;
  readonly resolve: (record: CustodyRecord) => void;
  readonly reject: (err: unknown) => void;
}

/** What became of one event of a batch. */
type BatchOutcome = { readonly record: CustodyRecord } | { readonly error: unknown };

/** An object read back: its bytes and user metadata. */
interface StoredObject {
  readonly bytes: Uint8Array;
  readonly metadata: Record<string, string>;
}

/** A placement used only to validate an event when it is queued. */
const PROBE_PLACEMENT = {
  sequence: 0,
  caseId: "probe",
  time: new Date(0).toISOString(),
  actor: "probe",
  previousHash: GENESIS_HASH,
};

/** Parses a stored record; undefined when absent or not JSON. */
function parseRecord(object: StoredObject | undefined): CustodyRecord | undefined {
  if (!object) return undefined;
  try {
    const value = JSON.parse(Buffer.from(object.bytes).toString("utf8")) as CustodyRecord;
    return typeof value === "object" && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}
