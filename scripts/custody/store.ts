/**
 * The custody ledger's S3 layer: conditional creates with explicit COMPLIANCE retention, reads of a given object
 * version that survive truncated bodies and connection resets, version listings (delete markers included), and the
 * bucket's default retention. Thin I/O only; what to make of it is decided in ledger.ts, inventory.ts and audit.ts.
 */
import { createHash } from "node:crypto";
import {
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { backoffDelay, errorName, realSleep, type Sleep } from "../aws/backoff";
import { describeError, OperationError } from "../errors";
import type { DefaultRetention, VersionLock } from "./retention";

/** One object version or delete marker, as ListObjectVersions reports it. */
export interface ObjectVersion {
  /** Object key. */
  readonly key: string;
  /** Version ID (`null` for a version written before versioning was enabled). */
  readonly versionId: string;
  /** True for a delete marker. */
  readonly deleteMarker: boolean;
  /** Whether this is the key's current version. */
  readonly isLatest: boolean;
  /** When S3 stored it. */
  readonly lastModified?: Date;
  /** Size in bytes (versions only). */
  readonly size?: number;
}

/** An object version read back. */
export interface ReadVersion {
  /** Its bytes. */
  readonly bytes: Uint8Array;
  /** Its user metadata. */
  readonly metadata: Record<string, string>;
  /** Its version ID. */
  readonly versionId?: string;
  /** Its Object Lock state. */
  readonly lock: VersionLock;
  /** When S3 stored it. */
  readonly lastModified?: Date;
}

/** An object version's Object Lock state and write time, from HeadObject. */
export interface VersionHead {
  /** Its version ID. */
  readonly versionId?: string;
  /** Its Object Lock state. */
  readonly lock: VersionLock;
  /** When S3 stored it. */
  readonly lastModified?: Date;
}

/** Options of {@link CustodyStore}. */
export interface CustodyStoreOptions {
  /** Attempts per object read (truncated body, reset, 5xx), the first included. Default 6. */
  readonly readAttempts?: number;
  /** First retry delay, ms (doubles, with jitter). Default 100. */
  readonly readRetryBaseMs?: number;
  /** Sleep, for tests. */
  readonly sleep?: Sleep;
}

/** What to write with {@link CustodyStore.createOnce}. */
export interface CreateOptions {
  /** Content type. */
  readonly contentType: string;
  /** User metadata. */
  readonly metadata?: Record<string, string>;
  /** COMPLIANCE retain-until date set explicitly on the new version. */
  readonly retainUntil: Date;
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

/** Whether an S3 error means the object (or version) does not exist. */
export function isMissingObject(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    e?.name === "NoSuchKey" ||
    e?.name === "NotFound" ||
    e?.name === "NoSuchVersion" ||
    e?.$metadata?.httpStatusCode === 404
  );
}

/**
 * Whether a read met a delete marker: GetObject of a marker's version answers 405 MethodNotAllowed, and of a key whose
 * current version is a marker, 404 with `x-amz-delete-marker: true` (S3 user guide, "Working with delete markers").
 */
function isDeleteMarkerRead(err: unknown): boolean {
  const e = err as {
    name?: string;
    $metadata?: { httpStatusCode?: number };
    $response?: { headers?: Record<string, string | undefined> };
  };
  return (
    e?.name === "MethodNotAllowed" ||
    e?.$metadata?.httpStatusCode === 405 ||
    e?.$response?.headers?.["x-amz-delete-marker"] === "true"
  );
}

const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ECONNREFUSED",
  "EAI_AGAIN",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

/**
 * Whether a read failed in a way a second attempt can fix: the connection dropped, the body came short or corrupted,
 * a timeout, or S3 asked to slow down or failed on its side. The SDK retries failed requests itself, but not a body
 * that breaks off after the response headers arrived: that is what this covers.
 */
export function isTransientReadError(err: unknown): boolean {
  if (err instanceof TruncatedBodyError) return true;
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if ((e?.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  const name = errorName(err) ?? "";
  if (
    [
      "TimeoutError",
      "RequestTimeout",
      "RequestTimeTooSkewed",
      "NetworkingError",
      "SlowDown",
      "InternalError",
      "ServiceUnavailable",
      "AbortError",
    ].includes(name)
  )
    return true;
  if (e?.code && TRANSIENT_CODES.has(e.code)) return true;
  return /aborted|socket hang up|premature close|checksum mismatch|ECONNRESET/i.test(e?.message ?? "");
}

/** A body that came shorter (or different) than S3 said it would. */
export class TruncatedBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TruncatedBodyError";
  }
}

/** Base64 SHA-256 of bytes, as S3's `ChecksumSHA256` wants it. */
export function sha256Base64(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("base64");
}

/** Options of {@link CustodyStore.read}. */
export interface ReadOptions {
  /**
   * Read from S3 even when this store already holds the version: an audit reads each version's Object Lock state as
   * S3 reports it now (a version this store wrote is remembered with the retention it asked for, not the one read).
   */
  readonly fresh?: boolean;
}

/** Most object versions one store remembers (about 1 KiB each for records). */
const MAX_REMEMBERED_VERSIONS = 50_000;

function versionKey(key: string, versionId: string): string {
  return `${key}\u0000${versionId}`;
}

/** Custody objects in the evidence bucket. */
export class CustodyStore {
  private readonly readAttempts: number;
  private readonly readRetryBaseMs: number;
  private readonly sleep: Sleep;
  /**
   * Object versions already read or written by this store, by key and version ID. An S3 object version never changes
   * (a write makes a new version), so reading one twice can only return the same bytes: a reader of the chain reads
   * each version once per process instead of on every `records()` (which re-read the whole case each time).
   */
  private readonly versions = new Map<string, ReadVersion>();

  /**
   * @param s3 client acting in the forensic account, in the bucket's region
   * @param bucket the evidence bucket
   * @param options read retries
   */
  constructor(
    readonly s3: S3Client,
    readonly bucket: string,
    options: CustodyStoreOptions = {},
  ) {
    this.readAttempts = Math.max(1, options.readAttempts ?? 6);
    this.readRetryBaseMs = options.readRetryBaseMs ?? 100;
    this.sleep = options.sleep ?? realSleep;
  }

  /** `s3://bucket/key`, for messages. */
  url(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  /**
   * Creates an object only if its key holds no current version (`If-None-Match: *`), with an S3-verified SHA-256 of
   * exactly these bytes and an explicit COMPLIANCE retention; returns the new version's ID.
   */
  async createOnce(key: string, body: string, options: CreateOptions): Promise<string | undefined> {
    const res = await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: options.contentType,
        Metadata: options.metadata,
        IfNoneMatch: "*",
        ChecksumAlgorithm: "SHA256",
        ChecksumSHA256: sha256Base64(body),
        ObjectLockMode: "COMPLIANCE",
        ObjectLockRetainUntilDate: options.retainUntil,
      }),
    );
    if (res.VersionId)
      this.remember(key, {
        bytes: Buffer.from(body, "utf8"),
        metadata: options.metadata ?? {},
        versionId: res.VersionId,
        lock: { mode: "COMPLIANCE", retainUntil: options.retainUntil.toISOString() },
      });
    return res.VersionId;
  }

  /**
   * Reads an object (a given version, or the current one), checking that the body is as long as S3 said and, when S3
   * returns its SHA-256 checksum, that it matches; a short, broken or corrupted body is read again (per object, with
   * backoff). Undefined when the object or version does not exist, or the version is a delete marker.
   */
  async read(key: string, versionId?: string, options: ReadOptions = {}): Promise<ReadVersion | undefined> {
    const read = await this.readCurrent(key, versionId, options);
    return read === "delete-marker" ? undefined : read;
  }

  /**
   * Like {@link read}, but tells a key whose current version is a delete marker (S3 answers 404 with
   * `x-amz-delete-marker: true`) from a key that holds nothing: the versions under a marker still count.
   */
  async readCurrent(
    key: string,
    versionId?: string,
    options: ReadOptions = {},
  ): Promise<ReadVersion | "delete-marker" | undefined> {
    const known = versionId === undefined || options.fresh ? undefined : this.versions.get(versionKey(key, versionId));
    if (known) return known;
    const read = await this.readUncached(key, versionId);
    if (read && read !== "delete-marker" && read.versionId) this.remember(key, read);
    return read;
  }

  /** Forgets every version read or written (a long-lived reader that wants to see S3 again; tests). */
  forgetVersions(): void {
    this.versions.clear();
  }

  private remember(key: string, read: ReadVersion): void {
    // Bounded: a process that reads very many cases keeps the most recent versions only.
    if (this.versions.size >= MAX_REMEMBERED_VERSIONS) this.versions.clear();
    this.versions.set(versionKey(key, read.versionId ?? "null"), read);
  }

  private async readUncached(key: string, versionId?: string): Promise<ReadVersion | "delete-marker" | undefined> {
    return this.retrying(`read ${this.url(key)}${versionId ? ` (version ${versionId})` : ""}`, async () => {
      let res;
      try {
        res = await this.s3.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId, ChecksumMode: "ENABLED" }),
        );
      } catch (err) {
        if (isDeleteMarkerRead(err)) return "delete-marker";
        if (isMissingObject(err)) return undefined;
        throw err;
      }
      const bytes = (await res.Body?.transformToByteArray()) ?? new Uint8Array();
      if (res.ContentLength !== undefined && bytes.length !== res.ContentLength)
        throw new TruncatedBodyError(`got ${bytes.length} of ${res.ContentLength} bytes`);
      if (res.ChecksumSHA256 && !res.ChecksumSHA256.includes("-") && sha256Base64(bytes) !== res.ChecksumSHA256)
        throw new TruncatedBodyError("the body does not match the SHA-256 checksum S3 returned");
      return {
        bytes,
        metadata: res.Metadata ?? {},
        versionId: res.VersionId ?? versionId,
        lock: {
          mode: res.ObjectLockMode,
          retainUntil: res.ObjectLockRetainUntilDate?.toISOString(),
        },
        lastModified: res.LastModified,
      };
    });
  }

  /** An object version's Object Lock state and write time; undefined when it does not exist. */
  async head(key: string, versionId?: string): Promise<VersionHead | undefined> {
    return this.retrying(`head ${this.url(key)}`, async () => {
      try {
        const res = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }));
        return {
          versionId: res.VersionId ?? versionId,
          lock: { mode: res.ObjectLockMode, retainUntil: res.ObjectLockRetainUntilDate?.toISOString() },
          lastModified: res.LastModified,
        };
      } catch (err) {
        if (isMissingObject(err) || isDeleteMarkerRead(err)) return undefined;
        throw err;
      }
    });
  }

  /**
   * Every version and delete marker under a prefix, in key order (oldest version of a key first), paging through the
   * whole listing. Always from the start of the prefix: the emulator drops the first version at or after a key marker
   * given alone (S3 lists the keys after it), so only the markers of S3's own pagination are ever sent.
   */
  async listVersions(prefix: string): Promise<ObjectVersion[]> {
    const found: ObjectVersion[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = await this.s3.send(
        new ListObjectVersionsCommand({
          Bucket: this.bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
      const entries = [
        ...(page.Versions ?? []).map((v) => ({ ...v, deleteMarker: false })),
        ...(page.DeleteMarkers ?? []).map((m) => ({ ...m, Size: undefined, deleteMarker: true })),
      ];
      for (const e of entries) {
        if (!e.Key) continue;
        found.push({
          key: e.Key,
          versionId: e.VersionId ?? "null",
          deleteMarker: e.deleteMarker,
          isLatest: e.IsLatest === true,
          lastModified: e.LastModified,
          size: e.Size,
        });
      }
      if (!page.IsTruncated) break;
      if (page.NextKeyMarker === keyMarker && page.NextVersionIdMarker === versionIdMarker)
        throw new OperationError(`listing ${this.url(prefix)} did not advance past ${keyMarker}`);
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
    const wanted = found;
    // S3 lists a key's versions newest first (and its delete markers apart from them). Return keys in order and,
    // within a key, versions oldest first, then delete markers oldest first: the first version written under a key
    // is the one a conditional create put there; anything after it was written over it. Timestamps have whole-second
    // precision, so the listing's own order decides between versions.
    const order = new Map(wanted.map((v, i) => [v, i]));
    return [...wanted].sort((a, b) => {
      if (a.key !== b.key) return a.key < b.key ? -1 : 1;
      if (a.deleteMarker !== b.deleteMarker) return a.deleteMarker ? 1 : -1;
      return (order.get(b) ?? 0) - (order.get(a) ?? 0);
    });
  }

  /** The bucket's default Object Lock retention; undefined when it has none (or it cannot be read). */
  async defaultRetention(): Promise<DefaultRetention | undefined> {
    try {
      const res = await this.s3.send(new GetObjectLockConfigurationCommand({ Bucket: this.bucket }));
      const rule = res.ObjectLockConfiguration?.Rule?.DefaultRetention;
      return rule ? { mode: rule.Mode, days: rule.Days, years: rule.Years } : undefined;
    } catch {
      // Unreadable counts as none: the ledger then writes with the floor, which is never less safe.
      return undefined;
    }
  }

  private async retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isTransientReadError(err) || attempt >= this.readAttempts) {
          if (attempt > 1)
            throw new OperationError(`could not ${what} after ${attempt} attempts: ${describeError(err)}`, {
              cause: err,
            });
          throw err;
        }
        await this.sleep(backoffDelay(attempt, this.readRetryBaseMs, 5000, Math.random));
      }
    }
  }
}
