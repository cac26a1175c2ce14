/**
 * The manifest of a regular file with two readers: the main thread reads the file for the whole digest exactly as
 * the whole-only loop does, and a worker thread reads the same file by offset for the block digests, each thread
 * into its own small buffer. Neither thread waits for the other's bytes, so neither pays for the other's pace: the
 * shared ring of scripts/hash/file-worker.ts makes both threads meet on every 512 KiB chunk (a slot is refilled only
 * when both are done with it), and each wait costs a wake-up and the other thread's cache. The price is that every
 * byte is copied out of the page cache twice (about a sixth of a SHA-256 pass each), which is why only regular files
 * take this path: a block device or a file that is not cached would be read from the disk twice, and a pipe can be
 * read only once.
 *
 * The readers stay within {@link TWIN_WINDOW_CHUNKS} chunks of each other (the leader waits), so the second read of
 * a chunk finds it in the page cache the first one filled even when the file is larger than memory. The two threads
 * must have read the same number of bytes (the main thread adds up the lengths of the worker's chunks as it hands
out their digests); a file that grew or shrank while it was hashed is refused. (A file
 * rewritten in place, at the same size, during its own hash is not detectable by either design; evidence files are
 * written once and hashed after.)
 */

/** Int32 words between two control counters: 64 bytes, one cache line each. */
const LINE = 16;

/** Control words. */
export const TWIN = {
  /** Chunks the main thread has read (its whole-digest progress, in chunk units, rounded down). */
  MAIN_READ: 0,
  /** Chunks whose block digests the main thread has handed out (their digest slots are free again). */
  MAIN_EMITTED: LINE,
  MAIN_PULSE: 2 * LINE,
  /** Chunks whose block digests are in the digest ring. */
  WORKER_DONE: 3 * LINE,
  WORKER_PULSE: 4 * LINE,
  STOP: 6 * LINE,
  FAILED: 7 * LINE,
  WORDS: 8 * LINE,
} as const;

/** How many chunks apart the two readers may be (and how many chunks' digests the ring holds). */
export const TWIN_WINDOW_CHUNKS = 128;

/** What the twin worker receives. */
export interface TwinWorkerData {
  readonly control: SharedArrayBuffer;
  readonly lengths: SharedArrayBuffer;
  readonly digests: SharedArrayBuffer;
  readonly chunkSize: number;
  readonly blockSize: number;
  /** The file's path: the worker opens its own descriptor (its reads by offset never move the main thread's). */
  readonly path: string;
  /** Chunks the readers may be apart ({@link TWIN_WINDOW_CHUNKS}; smaller in tests). */
  readonly window: number;
  /** Test hook: the worker throws when it reaches this chunk (-1: never). */
  readonly failAt: number;
}

const T = TWIN;

/**
 * Plain JavaScript so the worker needs no TypeScript loader. Chunk by chunk: wait while its digest slot is still
 * unread or the main thread is a window behind, read the chunk by offset, hash its blocks into the slot, count it.
 */
export const TWIN_WORKER = `
const { workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { openSync, readSync, closeSync } = require("node:fs");
const { control, lengths, digests, chunkSize, blockSize, path, window, failAt } = workerData;
const ctl = new Int32Array(control);
const len = new Int32Array(lengths);
const out = Buffer.from(digests);
const perChunk = chunkSize / blockSize;
const buffer = Buffer.allocUnsafe(chunkSize);
const fd = openSync(path, "r");
const pulse = () => { Atomics.add(ctl, ${T.WORKER_PULSE}, 1); Atomics.notify(ctl, ${T.WORKER_PULSE}); };
try {
  for (let k = 0; ; k++) {
    if (k === failAt) throw new Error("block-hashing worker test failure at chunk " + k);
    for (;;) {
      const seen = Atomics.load(ctl, ${T.MAIN_PULSE});
      if (Atomics.load(ctl, ${T.STOP}) === 1) process.exit(0);
      if (k - Atomics.load(ctl, ${T.MAIN_EMITTED}) < window && k - Atomics.load(ctl, ${T.MAIN_READ}) < window) break;
      Atomics.wait(ctl, ${T.MAIN_PULSE}, seen, 1000);
    }
    let length = 0;
    while (length < chunkSize) {
      const n = readSync(fd, buffer, length, chunkSize - length, k * chunkSize + length);
      if (n === 0) break;
      length += n;
    }
    const slot = k % window;
    for (let b = 0, offset = 0; offset < length; b++, offset += blockSize) {
      createHash("sha256")
        .update(buffer.subarray(offset, Math.min(offset + blockSize, length)))
        .digest()
        .copy(out, (slot * perChunk + b) * 32);
    }
    len[slot] = length;
    Atomics.store(ctl, ${T.WORKER_DONE}, k + 1);
    pulse();
    if (length < chunkSize) break;
  }
  closeSync(fd);
} catch (err) {
  Atomics.store(ctl, ${T.FAILED}, 1);
  pulse();
  throw err;
}
`;
