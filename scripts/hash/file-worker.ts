/**
 * The block-hashing worker of {@link hashFile}'s manifest mode and the shared-memory protocol it follows with the main
 * thread (scripts/hash/file.ts).
 *
 * Chunks are numbered 0, 1, 2… in file order; chunk k lives in ring slot k mod slots. For a seekable input the two
 * threads share the reading: the main thread reads the even chunks, the worker the odd ones (by offset, `pread`), so
 * each thread does half the reading besides its SHA-256 pass (the main thread the whole digest, the worker the block
 * digests). Reading costs about a sixth of a SHA-256 pass; left on the main thread it made that thread the slower one,
 * and the whole run waited for it (bench/hash, CPU by thread per 2 GiB: main 2.1 s and worker 1.9 s when the main
 * thread reads everything, 1.9 s and 2.0 s shared half and half; a third on the worker measured the same as half).
 * A pipe can only be read in order, by one thread: the main thread reads every chunk and the worker none.
 *
 * Each thread publishes four counters, each on its own 64-byte cache line so one thread's writes do not evict the
 * line the other is polling: the chunks it read (its own chunk k is read when its counter is above k), the chunks it
 * is done with, and a pulse it increments and notifies after either changes (the other side sleeps on that one word
 * with `Atomics.wait`). A slot is refilled only when both threads are done with the chunk it held.
 */

/** Int32 words between two control counters: 64 bytes, one cache line each. */
const LINE = 16;

/** Control words: the main thread's, then the worker's (read, done, pulse), then the stop and failure flags. */
export const CONTROL = {
  MAIN_READ: 0,
  MAIN_DONE: LINE,
  MAIN_PULSE: 2 * LINE,
  WORKER_READ: 3 * LINE,
  WORKER_DONE: 4 * LINE,
  WORKER_PULSE: 5 * LINE,
  STOP: 6 * LINE,
  FAILED: 7 * LINE,
  WORDS: 8 * LINE,
} as const;

/** How far past the chunk it is hashing a thread reads its own chunks (slots allowing): slack for the other side. */
export const READ_AHEAD = 2;

/** What the worker receives. */
export interface BlockWorkerData {
  readonly ring: SharedArrayBuffer;
  readonly control: SharedArrayBuffer;
  readonly lengths: SharedArrayBuffer;
  readonly digests: SharedArrayBuffer;
  readonly slots: number;
  readonly chunkSize: number;
  readonly blockSize: number;
  /** The descriptor the worker reads its chunks from (by offset). */
  readonly fd: number;
  /** The worker reads chunk k when k mod `readEvery` = `readEvery` − 1 (2: the odd chunks); 0: it reads none. */
  readonly readEvery: number;
  /** Test hook: the worker throws when it reaches this chunk (-1: never). */
  readonly failAt: number;
}

const C = CONTROL;

/**
 * Plain JavaScript so the worker needs no TypeScript loader. Chunk by chunk: read its own chunks ahead while their
 * slots are free, wait until chunk k is read, hash each of its blocks into the slot's digest area, count k done.
 * A failure sets the failure flag and wakes the main thread, which reports the error; it never yields a digest.
 */
export const BLOCK_WORKER = `
const { workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { readSync } = require("node:fs");
const { ring, control, lengths, digests, slots, chunkSize, blockSize, fd, readEvery, failAt } = workerData;
const ctl = new Int32Array(control);
const len = new Int32Array(lengths);
const data = Buffer.from(ring);
const out = Buffer.from(digests);
const perChunk = chunkSize / blockSize;
const reads = readEvery > 0;
let next = readEvery - 1; // the next chunk this worker reads
let ended = false; // a read of ours came back short: nothing after it
const isRead = (k) => (reads && k % readEvery === readEvery - 1 ? Atomics.load(ctl, ${C.WORKER_READ}) : Atomics.load(ctl, ${C.MAIN_READ})) > k;
const slotFree = (j) => Math.min(Atomics.load(ctl, ${C.MAIN_DONE}), Atomics.load(ctl, ${C.WORKER_DONE})) > j - slots;
function readChunk(j) {
  const start = (j % slots) * chunkSize;
  let length = 0;
  while (length < chunkSize) {
    const n = readSync(fd, data, start + length, chunkSize - length, j * chunkSize + length);
    if (n === 0) break;
    length += n;
  }
  len[j % slots] = length;
  if (length < chunkSize) ended = true;
  Atomics.store(ctl, ${C.WORKER_READ}, j + 1);
  Atomics.add(ctl, ${C.WORKER_PULSE}, 1);
  Atomics.notify(ctl, ${C.WORKER_PULSE});
}
try {
  for (let k = 0; ; k++) {
    if (k === failAt) throw new Error("block-hashing worker test failure at chunk " + k);
    for (;;) {
      const pulse = Atomics.load(ctl, ${C.MAIN_PULSE});
      while (reads && !ended && next <= k + ${READ_AHEAD} && slotFree(next)) { readChunk(next); next += readEvery; }
      if (isRead(k)) break;
      if (Atomics.load(ctl, ${C.STOP}) === 1) process.exit(0);
      Atomics.wait(ctl, ${C.MAIN_PULSE}, pulse, 1000);
    }
    const slot = k % slots;
    const length = len[slot];
    for (let b = 0, offset = 0; offset < length; b++, offset += blockSize) {
      const start = slot * chunkSize + offset;
      createHash("sha256")
        .update(data.subarray(start, start + Math.min(blockSize, length - offset)))
        .digest()
        .copy(out, (slot * perChunk + b) * 32);
    }
    Atomics.store(ctl, ${C.WORKER_DONE}, k + 1);
    Atomics.add(ctl, ${C.WORKER_PULSE}, 1);
    Atomics.notify(ctl, ${C.WORKER_PULSE});
    if (length < chunkSize) break;
  }
} catch (err) {
  Atomics.store(ctl, ${C.FAILED}, 1);
  Atomics.add(ctl, ${C.WORKER_PULSE}, 1);
  Atomics.notify(ctl, ${C.WORKER_PULSE});
  throw err;
}
`;
