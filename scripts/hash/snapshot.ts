/**
 * Hashing an EBS snapshot through the EBS direct APIs, without restoring it (DESIGN.md §6, REFERENCE.md "Hashing
 * snapshots through the EBS direct APIs").
 *
 * `ListSnapshotBlocks` is paged lazily (a page may be empty while a token remains) and lists written blocks only, in
 * index order. Blocks are fetched with `GetSnapshotBlock`, at most `concurrency` requests in flight; each block's
 * SHA-256 is recomputed and compared with the checksum the service returned (a mismatch is refetched a few times,
 * then the hash fails). A block being verified keeps its window position but not its request: the next request starts
 * as soon as a body is in. Blocks arrive out of order, but the image digest needs them in order: a reorder window
 * holds finished blocks until every earlier one is in, and no block is started more than `window` listing positions
 * ahead of the oldest unfinished one. That window is the backpressure that bounds memory to about
 * `window × blockSize`, whatever the snapshot size.
 *
 * Where the work goes (scripts/hash/snapshot-hashers.ts, snapshot-pool.ts): each block's body is read straight into a pooled slot in
 * shared memory (snapshot-body.ts: the request passes its body through the attempt middleware, so the body is copied
 * once, and a body that ends short or stalls is retried here with its request), verified there by a worker thread,
 * and read from the same slot by the image digest; the listing (snapshot-listing.ts) and the retries
 * (snapshot-retry.ts) are their own modules.
 *
 * Outputs: the image digest (SHA-256 over every block index in order, zeros for unlisted blocks: the `sha256sum` of a
 * raw image of a volume restored from the snapshot), AWS's LINEAR aggregate (SHA-256 over the concatenated per-block
 * checksums, in index order), per-block digests for a manifest, and the rate.
 */
import { GetSnapshotBlockCommand, type EBSClient } from "@aws-sdk/client-ebs";
import pLimit from "p-limit";
import { passBodyThrough, type AttemptEvent } from "../aws/attempts";
import { OperationError } from "../errors";
import type { HashCheckpoint, ManifestBlock } from "./blocks";
import { discardBody, readBlockInto } from "./snapshot-body";
import {
  localImageDigest,
  localSlots,
  nativeHash,
  savableHash,
  type BlockSlots,
  type ImageDigest,
} from "./snapshot-hashers";
import { BlockPool } from "./snapshot-pool";
import { BlockListing, type ListedBlock } from "./snapshot-listing";
import { retrying, type RetryCounts } from "./snapshot-retry";

export { backoffMs, isThrottling, THROTTLING_ERRORS } from "./snapshot-retry";

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

interface FetchedBlock {
  readonly index: number;
  readonly data: Uint8Array;
  readonly checksum: Buffer;
}

/** Hashes a snapshot; see the module comment. Throws {@link OperationError} naming the block on a checksum failure. */
export async function hashSnapshot(options: HashSnapshotOptions): Promise<SnapshotDigest> {
  const started = process.hrtime.bigint();
  const concurrency = Math.max(1, options.concurrency ?? 64);
  const window = Math.max(concurrency, options.window ?? concurrency + Math.max(16, concurrency >> 1));
  const checksumRetries = options.checksumRetries ?? 3;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const counts: RetryCounts = { throttled: 0, faultsRetried: 0 };
  let observedThrottled = 0;
  let mismatchesRecovered = 0;
  const stopObserving = options.observeAttempts?.((e) => {
    if (e.outcome === "throttled" && e.service === "EBS") observedThrottled++;
  });
  const call = retrying(
    {
      throttleRetries: options.throttleRetries ?? 10,
      faultRetries: options.faultRetries ?? 5,
      backoffBaseMs: options.backoffBaseMs ?? 100,
      sleep,
    },
    counts,
  );

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
  // AWS-sized blocks: one pooled slot per listing position that can be in flight (the reorder window), both SHA-256
  // passes on workers. Small blocks (the emulator's 512 bytes) cost more to hand over than to hash here.
  const pool = blockSize >= 64 * 1024 ? new BlockPool(window, blockSize) : undefined;
  const slots: BlockSlots = pool ?? localSlots(window, blockSize);
  try {
    return await hashBlocks();
  } finally {
    stopObserving?.();
    await slots.close();
  }

  async function hashBlocks(): Promise<SnapshotDigest> {
    options.onStart?.({ blockSize, volumeSizeGiB: listing.volumeSizeGiB });

    const savable = options.checkpoint !== undefined || resume !== undefined;
    const linear = savable ? await savableHash(resume?.linearState) : nativeHash();
    // Free pool slots wake fetchers waiting for the window.
    const image: ImageDigest =
      pool && !savable
        ? pool.imageOnWorker(() => wakeWindow())
        : localImageDigest(savable ? await savableHash(resume?.imageState) : nativeHash(), blockSize);
    const everyBlocks = options.checkpoint ? Math.max(1, Math.floor(options.checkpoint.everyBytes / blockSize)) : 0;
    let nextCheckpoint = (resume?.lastIndex ?? -1) + everyBlocks;
    const before = resume?.writtenBlocks ?? 0;
    let lastHashedIndex = resume?.lastIndex ?? -1;

    // Reorder window: listing position → fetched block; `consumed` positions have been handed to the image digest in
    // order, and `image.freed` of them read by it (their slots free again).
    const done = new Map<number, FetchedBlock>();
    let listed = 0;
    let consumed = 0;
    let failure: unknown;
    const windowWaiters: (() => void)[] = [];
    const wakeWindow = (): void => {
      while (windowWaiters.length > 0 && (listed < image.freed + window || failure)) windowWaiters.shift()?.();
    };
    if (pool)
      pool.onFailure = (err) => {
        failure ??= err;
        wakeWindow();
      };

    const drain = (): void => {
      for (let block = done.get(consumed); block; block = done.get(consumed)) {
        done.delete(consumed);
        image.zeros((block.index - lastHashedIndex - 1) * blockSize);
        image.block(consumed, block.data);
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
        while (listed >= image.freed + window && !failure) await new Promise<void>((r) => windowWaiters.push(r));
        if (failure) return undefined;
        const block = await listing.next();
        if (!block) return undefined;
        return { position: listed++, block };
      });
      claim = mine.catch(() => undefined);
      return mine;
    };

    // One request, its body read straight into the block's slot, inside the retried call: a body that ends short,
    // fails or stalls (destroyed at the attempt's deadline) is retried with its request, like a reset.
    // The request limit: blocks waiting for a request (window − concurrency of them at most) start in listing order.
    const requests = pLimit(concurrency);
    const fetchInto = (block: ListedBlock, slot: Uint8Array) =>
      requests(async () => {
        // A block still queued for a request when another block failed is not fetched: the hash has failed already.
        // Every error that leaves the retried call fails the hash, so it is recorded before the next request starts.
        if (failure) throw failure;
        try {
          return await call(async () => {
            const command = new GetSnapshotBlockCommand({
              SnapshotId: options.snapshotId,
              BlockIndex: block.index,
              BlockToken: block.token,
            });
            passBodyThrough(command);
            const res = await options.ebs.send(command);
            if (res.ChecksumAlgorithm && res.ChecksumAlgorithm !== "SHA256") {
              discardBody(res.BlockData);
              throw new OperationError(
                `block ${block.index} of ${options.snapshotId} came with a ${res.ChecksumAlgorithm} checksum; only SHA256 can be verified`,
              );
            }
            const length = await readBlockInto(res.BlockData, slot, res.DataLength);
            return { length, checksum: res.Checksum ?? "" };
          });
        } catch (err) {
          failure ??= err;
          throw err;
        }
      });

    const fetchVerified = async (block: ListedBlock, position: number): Promise<FetchedBlock> => {
      const slot = slots.slot(position);
      let last = "";
      for (let attempt = 0; attempt <= checksumRetries; attempt++) {
        const { length, checksum: returned } = await fetchInto(block, slot);
        if (length !== blockSize) {
          last = `${length > blockSize ? "more than " : ""}${Math.min(length, blockSize)} bytes instead of ${blockSize}`;
          continue;
        }
        // Compared as bytes: the service's base64 decoded once (32 bytes), no string made of our digest.
        const expected = Buffer.from(returned, "base64");
        const computed = await slots.verify(position);
        if (expected.length === 32 && Buffer.compare(computed, expected) === 0) {
          if (attempt > 0) mismatchesRecovered++;
          return { index: block.index, data: slot, checksum: expected };
        }
        last = `data hashes to ${Buffer.from(computed).toString("base64")} but the service returned checksum ${returned || "(none)"}`;
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
          done.set(next.position, await fetchVerified(next.block, next.position));
        } catch (err) {
          failure ??= err;
          wakeWindow();
          return;
        }
        drain();
      }
    };

    // One fetcher per window position: `concurrency` of them hold a request, the others verify or wait for one.
    await Promise.all(Array.from({ length: window }, fetcher));
    if (failure) throw failure;
    const fetchSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const totalBlocks = Math.ceil((listing.volumeSizeGiB * 2 ** 30) / blockSize);
    if (lastHashedIndex >= totalBlocks) {
      throw new OperationError(
        `${options.snapshotId} lists block ${lastHashedIndex} beyond its ${listing.volumeSizeGiB} GiB volume`,
      );
    }
    image.zeros((totalBlocks - lastHashedIndex - 1) * blockSize);
    const imageSha256 = await image.digest();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return {
      snapshotId: options.snapshotId,
      volumeSizeGiB: listing.volumeSizeGiB,
      blockSize,
      writtenBlocks: before + consumed,
      imageSha256,
      linearChecksum: linear.digest("base64"),
      checksumRetries: mismatchesRecovered,
      throttled: options.observeAttempts ? Math.max(observedThrottled, counts.throttled) : counts.throttled,
      faultsRetried: counts.faultsRetried,
      seconds,
      blocksPerSecond: fetchSeconds > 0 ? consumed / fetchSeconds : 0,
      ...(resume ? { resumedAfterIndex: resume.lastIndex } : {}),
    };
  }
}
