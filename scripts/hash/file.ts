/**
 * Hashing a file or block device in one read: the whole-artefact SHA-256 (what `sha256sum` prints) and, optionally,
 * a manifest of per-block SHA-256s (DESIGN.md §6).
 *
 * Throughput (measured by `bench/hash`, docs/reliability.md): the read-and-hash loop is synchronous, into small
 * buffers that are reused and stay in the CPU's cache (1 MiB reads: 8 MiB reads ran 1.5 to 2 times slower here, the
 * data falling out of the L2 cache between `read` and the hash), with no promise, stream or message per chunk. That
 * loop keeps pace with `openssl dgst -sha256`.
 *
 * A manifest doubles the SHA-256 work (every byte goes into the whole digest and into its block's digest), and one
 * core runs one SHA-256 stream at a time, so the block digests run on a worker thread over the very bytes read for
 * the whole digest: the chunks live in a small ring of slots in shared memory (memory stays bounded and the bytes are
 * still in cache when the other thread reaches them), and the threads meet through counters (`Atomics.wait`/`notify`),
 * never a message or a copy. The two threads also share the reading of a seekable input, so each does half of it
 * besides its own SHA-256 pass; see scripts/hash/file-worker.ts for the protocol and why.
 *
 * The loop blocks this thread's event loop in slices of at most {@link YIELD_EVERY_BYTES}, then yields once, so
 * signals, timers and progress output keep working during a long hash.
 */
import { createHash } from "node:crypto";
import { readSync } from "node:fs";
import { open } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { MANIFEST_BLOCK_SIZE, type ManifestBlock } from "./blocks";
import { BLOCK_WORKER, CONTROL, READ_AHEAD, type BlockWorkerData } from "./file-worker";

/** Options of {@link hashFile}. */
export interface HashFileOptions {
  /** Produce block digests (the manifest). Default false: the whole digest only. */
  readonly manifest?: boolean;
  /** Manifest block size. Default 512 KiB. */
  readonly blockSize?: number;
  /**
   * Blocks per read. Default: as many as fit in 1 MiB for the whole digest alone (2 with 512 KiB blocks), in 512 KiB
   * with a manifest (1 with 512 KiB blocks); at least one.
   */
  readonly blocksPerChunk?: number;
  /** Chunks in the ring shared with the block-hashing worker (memory = chunks × chunk size). Default 4. */
  readonly chunks?: number;
  /** Called for every block digest, in block order (only with `manifest`). */
  readonly onBlock?: (block: ManifestBlock) => void;
  /** Called with the running byte count, about every 8 MiB and at the end. */
  readonly onProgress?: (bytes: number) => void;
  /** @internal Measurement hook: the worker reads 1 chunk in this many of a seekable input (0: none). Default 2. */
  readonly workerReadsEvery?: number;
  /** @internal Test hook: the block-hashing worker fails when it reaches this chunk (0-based). */
  readonly failWorkerAtChunk?: number;
}

/** What {@link hashFile} found. */
export interface FileDigest {
  /** The path hashed. */
  readonly path: string;
  /** Bytes read. */
  readonly bytes: number;
  /** Lower-case hex SHA-256 of the whole content. */
  readonly sha256: string;
  /** Number of manifest blocks (only with `manifest`). */
  readonly blocks?: number;
  /** Manifest block size (only with `manifest`). */
  readonly blockSize?: number;
}

/** Bytes read and hashed between two yields to the event loop. */
export const YIELD_EVERY_BYTES = 64 * 2 ** 20;
const PROGRESS_EVERY_BYTES = 8 * 2 ** 20;

/**
 * Progress every {@link PROGRESS_EVERY_BYTES} and a yield to the event loop every {@link YIELD_EVERY_BYTES}, shared by
 * both read loops: `advance` after each chunk, `finish` once at the end (a last report, or one for an empty file).
 */
function pacer(onProgress: ((bytes: number) => void) | undefined): {
  advance(bytes: number, length: number): Promise<void> | undefined;
  finish(bytes: number): void;
} {
  let sinceYield = 0;
  let sinceProgress = 0;
  return {
    advance(bytes, length) {
      sinceProgress += length;
      if (sinceProgress >= PROGRESS_EVERY_BYTES) {
        sinceProgress = 0;
        onProgress?.(bytes);
      }
      sinceYield += length;
      if (sinceYield < YIELD_EVERY_BYTES) return undefined;
      sinceYield = 0;
      return yieldToEventLoop();
    },
    finish(bytes) {
      if (sinceProgress > 0 || bytes === 0) onProgress?.(bytes);
    },
  };
}
const READ_SIZE = 2 ** 20;
// With a manifest: 512 KiB reads into a ring of 4 (2 MiB, one core's L2 cache here). Measured by bench/hash against
// 1 MiB × 8, 1 MiB × 4, 1 MiB × 3 and 1 MiB × 16 (all threads' CPU, interleaved runs): 0.1 to 0.25 s less CPU per
// 2 GiB, the bytes each thread reads still in its cache when it hashes them.
const MANIFEST_READ_SIZE = 2 ** 19;
const DEFAULT_SLOTS = 4;
const WORKER_READS_EVERY = 2;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Reads into `view` until it is full or the input ends (a read may return less: pipes, devices), so chunks stay
 * block-aligned for the manifest. A non-blocking descriptor that has nothing yet (EAGAIN) is waited for.
 */
async function fill(fd: number, view: Uint8Array, position: number | null): Promise<number> {
  let length = 0;
  while (length < view.length) {
    let bytesRead: number;
    try {
      bytesRead = readSync(fd, view, length, view.length - length, position === null ? null : position + length);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
      await new Promise((resolve) => setTimeout(resolve, 5));
      continue;
    }
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  return length;
}

/** Hashes one file or block device; see the module comment for how. */
export async function hashFile(path: string, options: HashFileOptions = {}): Promise<FileDigest> {
  const blockSize = options.blockSize ?? MANIFEST_BLOCK_SIZE;
  if (!Number.isInteger(blockSize) || blockSize <= 0)
    throw new RangeError(`block size ${blockSize} is not a positive integer`);
  const readSize = options.manifest ? MANIFEST_READ_SIZE : READ_SIZE;
  const blocksPerChunk = options.blocksPerChunk ?? Math.max(1, Math.floor(readSize / blockSize));
  if (!Number.isInteger(blocksPerChunk) || blocksPerChunk <= 0)
    throw new RangeError(`blocks per chunk ${blocksPerChunk} is not a positive integer`);
  const chunkSize = blockSize * blocksPerChunk;
  // Opened off this thread: opening a FIFO waits for its writer.
  const handle = await open(path, "r");
  const fd = handle.fd;
  try {
    // Regular files and block devices are read by offset; pipes and character devices only in order.
    const info = await handle.stat();
    const seekable = info.isFile() || info.isBlockDevice();
    return options.manifest
      ? await hashWithManifest(fd, seekable, path, blockSize, blocksPerChunk, options)
      : await hashWhole(fd, seekable, path, chunkSize, options);
  } finally {
    await handle.close();
  }
}

async function hashWhole(
  fd: number,
  seekable: boolean,
  path: string,
  chunkSize: number,
  options: HashFileOptions,
): Promise<FileDigest> {
  const whole = createHash("sha256");
  const buffer = Buffer.allocUnsafe(chunkSize);
  let bytes = 0;
  const pace = pacer(options.onProgress);
  for (;;) {
    const length = await fill(fd, buffer, seekable ? bytes : null);
    if (length === 0) break;
    whole.update(length === chunkSize ? buffer : buffer.subarray(0, length));
    bytes += length;
    await pace.advance(bytes, length);
    if (length < chunkSize) break;
  }
  pace.finish(bytes);
  return { path, bytes, sha256: whole.digest("hex") };
}

async function hashWithManifest(
  fd: number,
  seekable: boolean,
  path: string,
  blockSize: number,
  blocksPerChunk: number,
  options: HashFileOptions,
): Promise<FileDigest> {
  const chunkSize = blockSize * blocksPerChunk;
  const slots = Math.max(2, options.chunks ?? DEFAULT_SLOTS);
  const ring = new SharedArrayBuffer(slots * chunkSize);
  const control = new SharedArrayBuffer(CONTROL.WORDS * Int32Array.BYTES_PER_ELEMENT);
  const lengths = new SharedArrayBuffer(slots * Int32Array.BYTES_PER_ELEMENT);
  const digests = new SharedArrayBuffer(slots * blocksPerChunk * 32);
  const ctl = new Int32Array(control);
  const slotLengths = new Int32Array(lengths);
  const data = Buffer.from(ring);
  const out = Buffer.from(digests);
  const workerData: BlockWorkerData = {
    ...{ ring, control, lengths, digests, slots, chunkSize, blockSize },
    fd,
    readEvery: seekable ? (options.workerReadsEvery ?? WORKER_READS_EVERY) : 0,
    failAt: options.failWorkerAtChunk ?? -1,
  };
  const worker = new Worker(BLOCK_WORKER, { eval: true, workerData });
  let workerError: Error | undefined;
  worker.on("error", (err) => (workerError = err));
  // The worker ends with 0 after the last chunk or when told to stop; anything else is a failure.
  const exited = new Promise<void>((resolve) =>
    worker.on("exit", (code) => {
      if (code !== 0) workerError ??= new Error(`the block-hashing worker exited with code ${code}`);
      resolve();
    }),
  );

  const whole = createHash("sha256");
  let bytes = 0;
  let hashed = 0; // chunks in the whole digest
  let emitted = 0; // chunks whose block digests were handed out
  let blockIndex = 0;
  let next = 0; // the next chunk this thread reads
  let ended = false; // a read of ours came back short: nothing after it
  const pace = pacer(options.onProgress);

  const publish = (word: number, value: number): void => {
    Atomics.store(ctl, word, value);
    Atomics.add(ctl, CONTROL.MAIN_PULSE, 1);
    Atomics.notify(ctl, CONTROL.MAIN_PULSE);
  };
  // Hands out the block digests of every chunk the worker has finished, in order. A slot counts as done on this side
  // only once both its whole-digest update and its block digests are through: the worker may refill it right after.
  let published = 0; // this side's done count as last published
  const emit = (): void => {
    const done = Atomics.load(ctl, CONTROL.WORKER_DONE);
    for (; emitted < done; emitted++) {
      const slot = emitted % slots;
      const blocks = Math.ceil(slotLengths[slot] / blockSize);
      for (let b = 0; b < blocks; b++) {
        const at = (slot * blocksPerChunk + b) * 32;
        options.onBlock?.({ index: blockIndex++, sha256: out.toString("hex", at, at + 32) });
      }
    }
    // Also after a whole-digest update alone, when the worker was ahead: a stale count would leave it waiting forever.
    if (Math.min(hashed, emitted) !== published) publish(CONTROL.MAIN_DONE, (published = Math.min(hashed, emitted)));
  };
  const workerReads = (k: number): boolean =>
    workerData.readEvery > 0 && k % workerData.readEvery === workerData.readEvery - 1;
  const isRead = (k: number): boolean =>
    Atomics.load(ctl, workerReads(k) ? CONTROL.WORKER_READ : CONTROL.MAIN_READ) > k;
  const slotFree = (j: number): boolean =>
    Math.min(Atomics.load(ctl, CONTROL.MAIN_DONE), Atomics.load(ctl, CONTROL.WORKER_DONE)) > j - slots;
  // Reads this thread's chunks from `next` up to `k + READ_AHEAD` whose slots are free.
  const readAhead = async (k: number): Promise<void> => {
    while (!ended && next <= k + READ_AHEAD && slotFree(next)) {
      const slot = next % slots;
      const view = data.subarray(slot * chunkSize, (slot + 1) * chunkSize);
      const length = await fill(fd, view, seekable ? next * chunkSize : null);
      slotLengths[slot] = length;
      if (length < chunkSize) ended = true;
      publish(CONTROL.MAIN_READ, next + 1);
      next += workerReads(next + 1) ? 2 : 1;
    }
  };
  // Sleeps until the worker moves (its pulse changes from `pulse`), in short synchronous slices; between slices the
  // event loop runs once, so a worker that failed to start or died is noticed.
  const awaitWorker = async (pulse: number): Promise<void> => {
    if (Atomics.load(ctl, CONTROL.FAILED) === 1 || workerError) {
      await exited; // a failed worker throws, so it ends; its error event comes first, to report it
      throw workerError ?? new Error("the block-hashing worker failed");
    }
    if (Atomics.wait(ctl, CONTROL.WORKER_PULSE, pulse, 50) === "timed-out") await yieldToEventLoop();
  };

  try {
    for (let k = 0; ; k++) {
      for (;;) {
        const pulse = Atomics.load(ctl, CONTROL.WORKER_PULSE);
        emit();
        await readAhead(k);
        if (isRead(k)) break;
        await awaitWorker(pulse);
      }
      const slot = k % slots;
      const length = slotLengths[slot];
      if (length === 0) break;
      whole.update(data.subarray(slot * chunkSize, slot * chunkSize + length));
      hashed = k + 1;
      bytes += length;
      emit();
      await pace.advance(bytes, length);
      if (length < chunkSize) break;
    }
    for (;;) {
      const pulse = Atomics.load(ctl, CONTROL.WORKER_PULSE);
      emit();
      if (emitted >= hashed) break;
      await awaitWorker(pulse);
    }
  } finally {
    Atomics.store(ctl, CONTROL.STOP, 1);
    Atomics.add(ctl, CONTROL.MAIN_PULSE, 1);
    Atomics.notify(ctl, CONTROL.MAIN_PULSE);
    await worker.terminate();
  }
  pace.finish(bytes);
  return { path, bytes, sha256: whole.digest("hex"), blocks: blockIndex, blockSize };
}
