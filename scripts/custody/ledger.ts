/**
 * The case's custody ledger over the Object-Locked evidence bucket (DESIGN.md §6). Each event becomes one record at
 * `cases/<case>/custody/<seq>.json`: canonical JSON, hash-chained to the record before it, signed by the custody key in
 * KMS (ECDSA P-256 over a short RAW statement), written once with a conditional create (`If-None-Match: *`) and an S3
 * SHA-256 checksum, and kept by the bucket's default COMPLIANCE retention.
 *
 * Two operators appending to the same case never fork the chain: a losing writer's conditional create fails (412
 * PreconditionFailed, or 409 ConditionalRequestConflict while another write to the key is in flight), and it re-reads
 * the head and retries at the next sequence number with a freshly linked and signed record.
 */
import { createHash } from "node:crypto";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetPublicKeyCommand, KMSClient, SignCommand } from "@aws-sdk/client-kms";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import pLimit from "p-limit";
import type { ClientFactory } from "../aws/clients";
import type { LandingZone } from "../contract";
import { OperationError, UsageError } from "../errors";
import type { StoredRecord } from "./chain";
import { sdkClient } from "./clients";
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
  // Appends through one ledger object run one after another; other processes are handled by the conditional create.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: OpenLedgerOptions) {
    const lz = options.landingZone;
    this.caseId = options.caseId;
    this.bucket = lz.evidenceBucket;
    this.keyArn = lz.custodySigningKeyArn;
    this.s3 = sdkClient(options.factory, S3Client, { region: lz.homeRegion });
    this.kms = sdkClient(options.factory, KMSClient, { region: regionOfKeyArn(lz.custodySigningKeyArn) });
    this.sts = sdkClient(options.factory, STSClient, { region: lz.homeRegion });
    this.now = options.now ?? (() => new Date());
    this.maxConflictRetries = options.maxConflictRetries ?? 50;
  }

  append(event: CustodyEvent): Promise<CustodyRecord> {
    const run = this.queue.then(() => this.appendNow(event));
    this.queue = run.catch(() => undefined);
    return run;
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

  private async appendNow(event: CustodyEvent): Promise<CustodyRecord> {
    const [actor, publicKeyPem] = await Promise.all([this.callerArn(), this.ensurePublicKey()]);
    let head = this.head ?? (await this.findHead(undefined));
    for (let attempt = 0; attempt <= this.maxConflictRetries; attempt++) {
      const unsigned = buildUnsignedRecord(event, {
        sequence: head.sequence + 1,
        caseId: this.caseId,
        time: this.now().toISOString(),
        actor,
        previousHash: head.hash,
      });
      const hash = recordHash(unsigned);
      const signature = await this.sign(signingStatement({ ...unsigned, hash }, this.keyArn));
      const record: CustodyRecord = {
        ...unsigned,
        hash,
        signature: { keyArn: this.keyArn, algorithm: SIGNING_ALGORITHM, value: signature },
      };
      // Fail closed: never store a record that the case's public key would reject.
      if (!signatureIsValid(record, publicKeyPem)) {
        throw new OperationError(
          `custody key ${this.keyArn} produced a signature that does not verify with the case's public key ${publicKeyKey(this.caseId)}`,
        );
      }
      const body = serialiseRecord(record);
      try {
        await this.createOnce(recordKey(this.caseId, record.sequence), body, "application/json");
        this.head = { sequence: record.sequence, hash };
        return record;
      } catch (err) {
        if (!isConditionalConflict(err)) throw err;
        head = await this.findHead(head);
        // A little jitter keeps two writers that keep colliding from colliding in lockstep.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** Math.min(attempt, 5))));
      }
    }
    throw new OperationError(
      `could not append to case ${this.caseId} after ${this.maxConflictRetries} conflicting writes: other appenders keep winning; retry`,
    );
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
  private async createOnce(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        IfNoneMatch: "*",
        ChecksumAlgorithm: "SHA256",
        ChecksumSHA256: sha256Base64(body),
      }),
    );
  }

  private async getBytes(key: string): Promise<Uint8Array | undefined> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await res.Body?.transformToByteArray()) ?? new Uint8Array();
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

  /** Finds the last record (after a known head, if any) and checks that it is sound enough to link to. */
  private async findHead(known: Head | undefined): Promise<Head> {
    const keys = await this.listRecordKeys(known?.sequence);
    const last = keys[keys.length - 1];
    if (!last) return known ?? { sequence: -1, hash: GENESIS_HASH };
    const text = await this.getText(last.key);
    let record: CustodyRecord;
    try {
      record = JSON.parse(text ?? "") as CustodyRecord;
    } catch {
      throw new OperationError(
        `s3://${this.bucket}/${last.key} is not a readable custody record: refusing to append; run flz custody verify --case ${this.caseId}`,
      );
    }
    if (record.sequence !== last.sequence || recordHash(record) !== record.hash) {
      throw new OperationError(
        `the last record of case ${this.caseId} (s3://${this.bucket}/${last.key}) fails its hash check: refusing to append; run flz custody verify --case ${this.caseId}`,
      );
    }
    return { sequence: record.sequence, hash: record.hash };
  }
}
