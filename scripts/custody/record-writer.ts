/**
 * The ledger's writes: signing a writer's own records (and checking each signature against the key from KMS),
 * storing records under their keys with a conditional create and explicit COMPLIANCE retention, reading that retention
 * back, copying the records of an unwritten claim from its checked journal (the author's bytes, never re-signed), and
 * storing the case's copy of the public key. ledger.ts decides what to write and when.
 */
import { KMSClient, SignCommand } from "@aws-sdk/client-kms";
import pLimit from "p-limit";
import { OperationError } from "../errors";
import { BATCH_METADATA_KEY, batchTagOf, formatBatchTag, type BatchJournal, type SealedRecord } from "./batch";
import {
  publicKeyKey,
  recordKey,
  serialiseRecord,
  SIGNING_ALGORITHM,
  signatureIsValid,
  signingStatement,
} from "./record";
import { retainUntilFor, retentionProblem } from "./retention";
import { isConditionalConflict, type CustodyStore } from "./store";
import type { CustodyRecord } from "./types";

/** What a writer needs before its first batch: who it is, the trusted key, the retention to ask for. */
export interface WriterContext {
  /** Caller ARN (the records' actor). */
  readonly actor: string;
  /** The custody public key from KMS. */
  readonly publicKeyPem: string;
  /** Days of COMPLIANCE retention to ask for. */
  readonly retentionDays: number;
}

/** Options of {@link RecordWriter}. */
export interface RecordWriterOptions {
  /** The evidence bucket. */
  readonly store: CustodyStore;
  /** KMS client in the custody key's region. */
  readonly kms: KMSClient;
  /** The custody signing key. */
  readonly keyArn: string;
  /** Case ID. */
  readonly caseId: string;
  /** Clock. */
  readonly now: () => Date;
  /** Most KMS Sign requests, and most S3 writes, in flight at once. */
  readonly parallelRequests: number;
}

/**
 * A record key of a claimed batch already held another record. On S3 a batch's claim is exclusive (an atomic
 * conditional create), so this means either that the claim was not this writer's after all (a store that let two
 * conditional creates of one journal key succeed: the emulator under load did) or that something other than flz wrote
 * there. The ledger tells the two apart (ledger.ts).
 */
export class RecordTakenError extends OperationError {
  /**
   * @param sequence the record's sequence
   * @param message what was found, for the user
   */
  constructor(
    readonly sequence: number,
    message: string,
  ) {
    super(message);
    this.name = "RecordTakenError";
  }
}

/** Signs and stores records for one ledger. */
export class RecordWriter {
  private readonly signLimit: ReturnType<typeof pLimit>;
  private readonly writeLimit: ReturnType<typeof pLimit>;

  /** @param options the store, KMS client, key, case and limits */
  constructor(private readonly options: RecordWriterOptions) {
    this.signLimit = pLimit(Math.max(1, options.parallelRequests));
    this.writeLimit = pLimit(Math.max(1, options.parallelRequests));
  }

  /**
   * Signs records this writer authored (its own appends, chained by it), in parallel, and checks every signature with
   * the custody key's public key from KMS. The only path in flz that calls `kms:Sign`.
   */
  sealAll(records: readonly SealedRecord[], ctx: WriterContext): Promise<CustodyRecord[]> {
    return Promise.all(records.map((r) => this.signLimit(() => this.seal(r, ctx))));
  }

  /** Stores the records of a batch this writer has claimed; one outcome per record (the error, when it failed). */
  storeAll(records: readonly CustodyRecord[], ctx: WriterContext): Promise<({ ok: true } | { error: unknown })[]> {
    const tag = formatBatchTag(batchTagOf(records));
    return Promise.all(
      records.map((record) =>
        this.writeLimit(() => this.storeRecord(record, tag, ctx)).then(
          () => ({ ok: true as const }),
          (error: unknown) => ({ error }),
        ),
      ),
    );
  }

  /** Writes records of a checked journal under their own keys: the author's signed bytes, never re-signed. */
  async copyFromJournal(journal: BatchJournal, missing: readonly number[], ctx: WriterContext): Promise<void> {
    const tag = formatBatchTag(batchTagOf(journal.records));
    await Promise.all(
      missing.map((sequence) =>
        // The author's signed record, serialised canonically: the very bytes the author would have written.
        this.writeLimit(() => this.storeRecord(journal.records[sequence - journal.first], tag, ctx)),
      ),
    );
  }

  /**
   * Creates a claim's journal (conditional create, explicit retention); throws the conflict when it lost. Returns the
   * new version's ID (to tell, if the claim is ever contested, whether the claim's first version is this one).
   */
  async claim(key: string, body: string, ctx: WriterContext): Promise<string | undefined> {
    return this.options.store.createOnce(key, body, {
      contentType: "application/json",
      retainUntil: this.retainUntil(ctx),
    });
  }

  /** Reads back the retention S3 gave a version this writer stored; throws when it is not what custody needs. */
  async checkRetention(key: string, versionId: string | undefined, ctx: WriterContext, what: string): Promise<void> {
    const head = await this.options.store.head(key, versionId);
    const problem = head
      ? retentionProblem(head.lock, head.lastModified, ctx.retentionDays)
      : "was not found when its retention was read back";
    if (problem)
      throw new OperationError(
        `${what} was stored, but ${problem}: S3 did not apply the COMPLIANCE retention the ledger asked for; stop, and check the evidence bucket's Object Lock configuration`,
      );
  }

  /** Stores the case's copy of the public key (a convenience for examiners, never trusted on its own). */
  async storePublicKey(ctx: WriterContext): Promise<void> {
    const { store, caseId } = this.options;
    const key = publicKeyKey(caseId);
    let versionId: string | undefined;
    try {
      versionId = await store.createOnce(key, ctx.publicKeyPem, {
        contentType: "application/x-pem-file",
        retainUntil: this.retainUntil(ctx),
      });
    } catch (err) {
      // Another writer stored it first (or someone planted one: verify names a copy that is not the KMS key's).
      if (isConditionalConflict(err)) return;
      throw err;
    }
    await this.checkRetention(key, versionId, ctx, `the public key copy ${store.url(key)}`);
  }

  /** Signs one of this writer's own records, and checks the signature with the custody key's public key from KMS. */
  private async seal(unsigned: SealedRecord, ctx: WriterContext): Promise<CustodyRecord> {
    const { kms, keyArn } = this.options;
    const res = await kms.send(
      new SignCommand({
        KeyId: keyArn,
        Message: signingStatement(unsigned, keyArn),
        MessageType: "RAW",
        SigningAlgorithm: SIGNING_ALGORITHM,
      }),
    );
    if (!res.Signature) throw new OperationError(`KMS returned no signature from custody key ${keyArn}`);
    const record: CustodyRecord = {
      ...unsigned,
      signature: { keyArn, algorithm: SIGNING_ALGORITHM, value: Buffer.from(res.Signature).toString("base64") },
    };
    // Fail closed: never store a record that the custody public key would reject.
    if (!signatureIsValid(record, ctx.publicKeyPem))
      throw new OperationError(
        `custody key ${keyArn} produced a signature that does not verify with its own public key from KMS`,
      );
    return record;
  }

  /**
   * Stores a record at a sequence claimed by its batch (this writer's, or a journal being completed), then checks
   * its retention. A conditional conflict there means the record is already stored: it must be these very bytes, or
   * the chain is not what the claim says and nothing more is written (fail closed).
   */
  private async storeRecord(record: CustodyRecord, tag: string, ctx: WriterContext): Promise<void> {
    const { store, caseId } = this.options;
    const key = recordKey(caseId, record.sequence);
    const bytes = serialiseRecord(record);
    let versionId: string | undefined;
    try {
      versionId = await store.createOnce(key, bytes, {
        contentType: "application/json",
        metadata: { [BATCH_METADATA_KEY]: tag },
        retainUntil: this.retainUntil(ctx),
      });
    } catch (err) {
      if (!isConditionalConflict(err)) throw err;
      const stored = await store.read(key);
      if (!stored || Buffer.from(stored.bytes).toString("utf8") !== bytes)
        throw new RecordTakenError(
          record.sequence,
          `${store.url(key)} holds a record other than the one its batch claimed: refusing to go on; run flz custody verify --case ${caseId}`,
        );
      versionId = stored.versionId;
    }
    await this.checkRetention(key, versionId, ctx, `record ${record.sequence} (${store.url(key)})`);
  }

  private retainUntil(ctx: WriterContext): Date {
    return retainUntilFor(this.options.now(), ctx.retentionDays);
  }
}
