/**
 * Hashing an EBS snapshot through the EBS direct APIs, without restoring it (DESIGN.md §6, REFERENCE.md "Hashing
 * snapshots through the EBS direct APIs").
 *
 * `ListSnapshotBlocks` is paged lazily (a page may be empty while a token remains) and lists written blocks only, in
 * index order. Blocks are fetched with `GetSnapshotBlock` by a fixed number of concurrent fetchers; each block's
 * SHA-256 is recomputed and compared with the checksum the service returned (a mismatch is refetched a few times,
 * then the hash fails). Blocks arrive out of order, but the image digest needs them in order: a reorder window holds
 * finished blocks until every earlier one is in, and a fetcher may not start a block more than `window` listing
 * positions ahead of the oldest unfinished one. That window is the backpressure that bounds memory to about
 * `window × blockSize`, whatever the snapshot size.
 *
 * Outputs: the image digest (SHA-256 over every block index in order, zeros for unlisted blocks: the `sha256sum` of a
 * raw image of a volume restored from the snapshot), AWS's LINEAR aggregate (SHA-256 over the concatenated per-block
 * checksums, in index order), per-block digests for a manifest, and the rate.
 */
import { createHash } from "node:crypto";
import { Worker } from "node:worker_threads";
import { EBSClient, GetSnapshotBlockCommand, ListSnapshotBlocksCommand } from "@aws-sdk/client-ebs";
import { createSHA256, type IHasher } from "hash-wasm";
import { isTransientError, type AttemptEvent } from "../aws/attempts";
import { OperationError } from "../errors";
import type { HashCheckpoint, ManifestBlock } from "./blocks";

/** Options of {@link hashSnapshot}. */
export interface HashSnapshotOptions {
  /** EBS client in the snapshot's account and region. */
  readonly ebs: EBSClient;
  /** Snapshot ID. */
  readonly snapshotId: string;
  /** Concurrent `GetSnapshotBlock` requests. Default 64. */
  readonly concurrency?: number;
  /** Listing positions a fetch may run ahead of the oldest unfinished block. Default concurrency + max(16, concurrency / 2). */
  readonly window?: number;
  /** Refetches of a block whose data does not match its checksum, before failing. Default 3. */
  readonly checksumRetries?: number;
  /** Retries of a throttled request (on top of the SDK's own), with capped exponential backoff. Default 10. */
  readonly throttleRetries?: number;
  /**
   * Retries of a block whose request failed on a transient fault (reset, timeout, truncated answer) after the SDK's
   * own attempts, with capped exponential backoff: one bad block must not throw away hours of hashing. Default 5.
   */
  readonly faultRetries?: number;
  /**
   * Subscribes to the outcome of every attempt of the client's calls (`ClientFactory.onAttempt`), so throttling is
   * counted where it happens, including what the SDK's retries absorbed. Without it, only throttling that reached
   * this code is counted.
   */
  readonly observeAttempts?: (observer: (event: AttemptEvent) => void) => () => void;
  /**
   * Write a checkpoint every this many bytes of image (about): the SHA-256 states of the image digest and of the LINEAR
   * aggregate, so an interrupted hash resumes from it. Checkpointing hashes the image in WebAssembly (hash-wasm), whose
   * state can be saved, at a fraction of OpenSSL's speed: use it where refetching blocks costs more than hashing.
   */
  readonly checkpoint?: { readonly everyBytes: number; readonly write: (checkpoint: HashCheckpoint) => void };
  /** Resume from this checkpoint (of the same snapshot): blocks up to it are neither fetched nor hashed again. */
  readonly resumeFrom?: HashCheckpoint;
  /** Base backoff in ms after throttling. Default 100. */
  readonly backoffBaseMs?: number;
  /** `MaxResults` of a listing page. Default 10 000 (the API maximum). */
  readonly pageSize?: number;
  /** Called once the first listing page gave the block and volume sizes, before any block. */
  readonly onStart?: (facts: { blockSize: number; volumeSizeGiB: number }) => void;
  /** Called with every written block's digest, in index order. */
  readonly onBlock?: (block: ManifestBlock) => void;
  /** Called after each block with blocks done so far. */
  readonly onProgress?: (done: number) => void;
  /** Sleep, for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What {@link hashSnapshot} found. */
export interface SnapshotDigest {
  /** Snapshot ID. */
  readonly snapshotId: string;
  /** Volume size the snapshot was taken from, GiB. */
  readonly volumeSizeGiB: number;
  /** Block size the API reported, bytes. */
  readonly blockSize: number;
  /** Number of written (listed) blocks. */
  readonly writtenBlocks: number;
  /** SHA-256 (hex) of the full raw image: every block in index order, zeros for unwritten blocks. */
  readonly imageSha256: string;
  /** LINEAR aggregate (base64, as the EBS APIs spell checksums): SHA-256 of the concatenated block checksums. */
  readonly linearChecksum: string;
  /** Blocks whose checksum mismatched at first and matched on a refetch. */
  readonly checksumRetries: number;
  /** Requests throttled (every throttled attempt, the SDK's retries included when attempts are observed). */
  readonly throttled: number;
  /** Requests that failed on a transient fault and were retried for their block. */
  readonly faultsRetried: number;
  /** The block index the hash resumed after, when it resumed from a checkpoint. */
  readonly resumedAfterIndex?: number;
  /** The custody record of the digest, when `flz hash --case` recorded it (or found it recorded). */
  readonly record?: { readonly sequence: number; readonly hash: string };
  /** Wall time, seconds (including the zeros hashed after the last written block). */
  readonly seconds: number;
  /** Written blocks fetched and verified per second, over the time until the last one was in. */
  readonly blocksPerSecond: number;
}

/** Names of the errors that mean "slow down" on the EBS direct APIs. */
export const THROTTLING_ERRORS = new Set([
  "RequestThrottledException",
  "ConcurrentLimitExceededException",
  "ThrottlingException",
  "TooManyRequestsException",
  "SlowDown",
]);

/** Whether an error is EBS throttling. */
export function isThrottling(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return THROTTLING_ERRORS.has(e?.name ?? "") || e?.$metadata?.httpStatusCode === 429;
}

/** Capped exponential backoff with full jitter: a random wait in [0, min(cap, base × 2^attempt)). */
export function backoffMs(attempt: number, baseMs: number, capMs = 5000, random = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

/** A running SHA-256 whose state can be saved and restored (checkpointing), or not (OpenSSL, faster). */
interface RunningHash {
  update(data: Uint8Array): void;
  digest(encoding: "hex" | "base64"): string;
  save?(): string;
}

function nativeHash(): RunningHash {
  const h = createHash("sha256");
  return { update: (d) => void h.update(d), digest: (e) => h.digest(e) };
}

async function savableHash(state?: string): Promise<RunningHash> {
  const h: IHasher = await createSHA256();
  h.init();
  if (state) h.load(Buffer.from(state, "base64"));
  return {
    update: (d) => void h.update(d),
    digest: (e) => Buffer.from(h.digest("binary")).toString(e),
    save: () => Buffer.from(h.save()).toString("base64"),
  };
}

/** Computes block SHA-256s: on a worker thread for AWS-sized blocks, so this thread is left for the image digest. */
interface BlockHasher {
  digest(data: Uint8Array): Promise<{ data: Uint8Array; sha256: Buffer }>;
  close(): Promise<void>;
}

const inlineHasher: BlockHasher = {
  digest: async (data) => ({ data, sha256: createHash("sha256").update(data).digest() }),
  close: async () => undefined,
};

// Plain JavaScript so the worker needs no TypeScript loader. The block travels there and back by transfer (no copy).
const HASH_WORKER = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
parentPort.on("message", ({ id, data }) => {
  const sha256 = createHash("sha256").update(data).digest();
  parentPort.postMessage({ id, data, sha256 }, [data.buffer]);
});
`;

function workerHasher(): BlockHasher {
  const worker = new Worker(HASH_WORKER, { eval: true });
  worker.unref();
  const pending = new Map<number, (reply: { data: Uint8Array; sha256: Uint8Array }) => void>();
  let nextId = 0;
  let failure: Error | undefined;
  worker.on("message", (reply: { id: number; data: Uint8Array; sha256: Uint8Array }) => {
    pending.get(reply.id)?.(reply);
    pending.delete(reply.id);
  });
  worker.on("error", (err) => (failure = err));
  return {
    digest(data) {
      if (failure) return Promise.reject(failure);
      // Only a block that owns its whole ArrayBuffer can be transferred; copy the rare one that does not.
      const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : new Uint8Array(data);
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, (reply) => resolve({ data: reply.data, sha256: Buffer.from(reply.sha256) }));
        worker.postMessage({ id, data: own }, [own.buffer as ArrayBuffer]);
      });
    },
    close: async () => {
      await worker.terminate();
    },
  };
}

interface ListedBlock {
  readonly index: number;
  readonly token: string;
}

interface FetchedBlock {
  readonly index: number;
  readonly data: Uint8Array;
  readonly checksum: Buffer;
}

/** Lazily pages `ListSnapshotBlocks` to the end; checks that indices ascend. */
class BlockListing {
  volumeSizeGiB = 0;
  blockSize = 0;
  private buffer: ListedBlock[] = [];
  private token: string | undefined;
  private started = false;
  private lastIndex = -1;

  constructor(
    private readonly options: HashSnapshotOptions,
    private readonly call: <T>(fn: () => Promise<T>) => Promise<T>,
    /** Blocks up to this index were hashed before (a resumed hash): listed, then skipped. */
    private readonly skipThrough = -1,
  ) {}

  /** The next written block, or undefined after the last page. */
  async next(): Promise<ListedBlock | undefined> {
    while (this.buffer.length === 0) {
      if (this.started && !this.token) return undefined;
      await this.page();
    }
    return this.buffer.shift();
  }

  /** Reads the first page (to learn the block size and volume size). */
  async start(): Promise<void> {
    if (!this.started) await this.page();
  }

  private async page(): Promise<void> {
    const { ebs, snapshotId } = this.options;
    const res = await this.call(() =>
      ebs.send(
        new ListSnapshotBlocksCommand({
          SnapshotId: snapshotId,
          NextToken: this.token,
          MaxResults: this.options.pageSize ?? 10000,
        }),
      ),
    );
    this.started = true;
    this.token = res.NextToken || undefined;
    if (res.VolumeSize !== undefined) this.volumeSizeGiB = res.VolumeSize;
    if (res.BlockSize !== undefined) this.blockSize = res.BlockSize;
    if (!Number.isInteger(this.blockSize) || this.blockSize <= 0) {
      throw new OperationError(`ListSnapshotBlocks for ${snapshotId} reported no usable block size (${res.BlockSize})`);
    }
    const blocks = (res.Blocks ?? [])
      .map((b) => ({ index: Number(b.BlockIndex), token: b.BlockToken ?? "" }))
      .sort((a, b) => a.index - b.index);
    for (const block of blocks) {
      if (!Number.isInteger(block.index) || block.index <= this.lastIndex) {
        throw new OperationError(
          `ListSnapshotBlocks for ${snapshotId} listed block ${block.index} after block ${this.lastIndex}: blocks must ascend`,
        );
      }
      this.lastIndex = block.index;
      if (block.index > this.skipThrough) this.buffer.push(block);
    }
  }
}

/** Hashes a snapshot; see the module comment. Throws {@link OperationError} naming the block on a checksum failure. */
export async function hashSnapshot(options: HashSnapshotOptions): Promise<SnapshotDigest> {
  const started = process.hrtime.bigint();
  const concurrency = Math.max(1, options.concurrency ?? 64);
  const window = Math.max(concurrency, options.window ?? concurrency + Math.max(16, concurrency >> 1));
  const checksumRetries = options.checksumRetries ?? 3;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let ownThrottled = 0;
  let observedThrottled = 0;
  let faultsRetried = 0;
  let mismatchesRecovered = 0;
  const stopObserving = options.observeAttempts?.((e) => {
    if (e.outcome === "throttled" && e.service === "EBS") observedThrottled++;
  });

  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    let throttledAttempts = 0;
    let faultAttempts = 0;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (isThrottling(err) && throttledAttempts < (options.throttleRetries ?? 10)) {
          ownThrottled++;
          await sleep(backoffMs(throttledAttempts++, options.backoffBaseMs ?? 100));
        } else if (!isThrottling(err) && isTransientError(err) && faultAttempts < (options.faultRetries ?? 5)) {
          faultsRetried++;
          await sleep(backoffMs(faultAttempts++, options.backoffBaseMs ?? 100));
        } else throw err;
      }
    }
  };

  const resume = options.resumeFrom;
  const listing = new BlockListing(options, call, resume?.lastIndex ?? -1);
  try {
    await listing.start();
  } catch (err) {
    stopObserving?.();
    throw err;
  }
  const blockSize = listing.blockSize;
  if (resume && resume.blockSize !== blockSize) {
    stopObserving?.();
    throw new OperationError(
      `the checkpoint of ${options.snapshotId} was made with ${resume.blockSize}-byte blocks, but the API now reports ${blockSize}: start over without --resume`,
    );
  }
  const hasher = blockSize >= 64 * 1024 ? workerHasher() : inlineHasher;
  try {
    return await hashBlocks();
  } finally {
    stopObserving?.();
    await hasher.close();
  }

  async function hashBlocks(): Promise<SnapshotDigest> {
    options.onStart?.({ blockSize, volumeSizeGiB: listing.volumeSizeGiB });

    const savable = options.checkpoint !== undefined || resume !== undefined;
    const image = savable ? await savableHash(resume?.imageState) : nativeHash();
    const linear = savable ? await savableHash(resume?.linearState) : nativeHash();
    const everyBlocks = options.checkpoint ? Math.max(1, Math.floor(options.checkpoint.everyBytes / blockSize)) : 0;
    let nextCheckpoint = (resume?.lastIndex ?? -1) + everyBlocks;
    const before = resume?.writtenBlocks ?? 0;
    const zeros = Buffer.alloc(Math.max(blockSize, Math.floor((8 << 20) / blockSize) * blockSize));
    let lastHashedIndex = resume?.lastIndex ?? -1;
    const feedZeros = (blocks: number): void => {
      let remaining = blocks * blockSize;
      while (remaining > 0) {
        const n = Math.min(remaining, zeros.length);
        image.update(zeros.subarray(0, n));
        remaining -= n;
      }
    };

    // Reorder window: listing position → fetched block; `consumed` positions have been hashed in order.
    const done = new Map<number, FetchedBlock>();
    let listed = 0;
    let consumed = 0;
    let failure: unknown;
    const windowWaiters: (() => void)[] = [];
    const wakeWindow = (): void => {
      while (windowWaiters.length > 0 && (listed < consumed + window || failure)) windowWaiters.shift()?.();
    };

    const drain = (): void => {
      for (let block = done.get(consumed); block; block = done.get(consumed)) {
        done.delete(consumed);
        feedZeros(block.index - lastHashedIndex - 1);
        image.update(block.data);
        linear.update(block.checksum);
        options.onBlock?.({ index: block.index, sha256: block.checksum.toString("hex") });
        lastHashedIndex = block.index;
        consumed++;
        options.onProgress?.(before + consumed);
        if (everyBlocks > 0 && block.index >= nextCheckpoint && image.save && linear.save) {
          nextCheckpoint = block.index + everyBlocks;
          options.checkpoint?.write({
            snapshotId: options.snapshotId,
            blockSize,
            lastIndex: block.index,
            writtenBlocks: before + consumed,
            imageState: image.save(),
            linearState: linear.save(),
          });
        }
      }
      wakeWindow();
    };

    // Handing out listing positions is serialised: the listing is one cursor.
    let claim: Promise<unknown> = Promise.resolve();
    const nextBlock = (): Promise<{ position: number; block: ListedBlock } | undefined> => {
      const mine = claim.then(async () => {
        while (listed >= consumed + window && !failure) await new Promise<void>((r) => windowWaiters.push(r));
        if (failure) return undefined;
        const block = await listing.next();
        if (!block) return undefined;
        return { position: listed++, block };
      });
      claim = mine.catch(() => undefined);
      return mine;
    };

    const fetchVerified = async (block: ListedBlock): Promise<FetchedBlock> => {
      let last = "";
      for (let attempt = 0; attempt <= checksumRetries; attempt++) {
        const res = await call(() =>
          options.ebs.send(
            new GetSnapshotBlockCommand({
              SnapshotId: options.snapshotId,
              BlockIndex: block.index,
              BlockToken: block.token,
            }),
          ),
        );
        const { data, sha256: computed } = await hasher.digest(
          res.BlockData ? await res.BlockData.transformToByteArray() : new Uint8Array(),
        );
        const returned = res.Checksum ?? "";
        if (res.ChecksumAlgorithm && res.ChecksumAlgorithm !== "SHA256") {
          throw new OperationError(
            `block ${block.index} of ${options.snapshotId} came with a ${res.ChecksumAlgorithm} checksum; only SHA256 can be verified`,
          );
        }
        if (data.length === blockSize && computed.toString("base64") === returned) {
          if (attempt > 0) mismatchesRecovered++;
          return { index: block.index, data, checksum: computed };
        }
        last =
          data.length !== blockSize
            ? `${data.length} bytes instead of ${blockSize}`
            : `data hashes to ${computed.toString("base64")} but the service returned checksum ${returned || "(none)"}`;
      }
      throw new OperationError(
        `block ${block.index} of ${options.snapshotId} failed verification ${checksumRetries + 1} times: ${last}; the snapshot's data cannot be vouched for`,
      );
    };

    const fetcher = async (): Promise<void> => {
      for (;;) {
        const next = await nextBlock();
        if (!next) return;
        try {
          done.set(next.position, await fetchVerified(next.block));
        } catch (err) {
          failure ??= err;
          wakeWindow();
          return;
        }
        drain();
      }
    };

    await Promise.all(Array.from({ length: concurrency }, fetcher));
    if (failure) throw failure;
    const fetchSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const totalBlocks = Math.ceil((listing.volumeSizeGiB * 2 ** 30) / blockSize);
    if (lastHashedIndex >= totalBlocks) {
      throw new OperationError(
        `${options.snapshotId} lists block ${lastHashedIndex} beyond its ${listing.volumeSizeGiB} GiB volume`,
      );
    }
    feedZeros(totalBlocks - lastHashedIndex - 1);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return {
      snapshotId: options.snapshotId,
      volumeSizeGiB: listing.volumeSizeGiB,
      blockSize,
      writtenBlocks: before + consumed,
      imageSha256: image.digest("hex"),
      linearChecksum: linear.digest("base64"),
      checksumRetries: mismatchesRecovered,
      throttled: options.observeAttempts ? Math.max(observedThrottled, ownThrottled) : ownThrottled,
      faultsRetried,
      seconds,
      blocksPerSecond: fetchSeconds > 0 ? consumed / fetchSeconds : 0,
      ...(resume ? { resumedAfterIndex: resume.lastIndex } : {}),
    };
  }
}
