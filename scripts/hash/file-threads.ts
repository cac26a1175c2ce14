/**
 * The plumbing the file-hashing loops of scripts/hash/file.ts share: reads that fill a chunk, progress and yields to
 * the event loop while a loop blocks its thread, and the block-hashing worker's start, pulses and waits.
 */
import { readSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { BlockWorkerData } from "./file-worker";
import type { TwinWorkerData } from "./file-twin";

/** Bytes read and hashed between two yields to the event loop. */
export const YIELD_EVERY_BYTES = 64 * 2 ** 20;
const PROGRESS_EVERY_BYTES = 8 * 2 ** 20;

/**
 * Progress every {@link PROGRESS_EVERY_BYTES} and a yield to the event loop every {@link YIELD_EVERY_BYTES}, shared by
 * both read loops: `advance` after each chunk, `finish` once at the end (a last report, or one for an empty file).
 *
 * @param onProgress called with the running byte count.
 */
export function pacer(onProgress: ((bytes: number) => void) | undefined): {
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
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Reads into `view` until it is full or the input ends (a read may return less: pipes, devices), so chunks stay
 * block-aligned for the manifest. A non-blocking descriptor that has nothing yet (EAGAIN) is waited for.
 *
 * @param fd the descriptor.
 * @param view where the bytes go; its length is the chunk.
 * @param position the offset to read at, or null to read on from the descriptor's position (pipes).
 */
export async function fill(fd: number, view: Uint8Array, position: number | null): Promise<number> {
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

/**
 * Starts a block-hashing worker; `failed()` is its error once it failed or exited with a code other than 0.
 *
 * @param source the worker's plain JavaScript (file-worker.ts or file-twin.ts).
 * @param workerData what it receives.
 */
export function startWorker(
  source: string,
  workerData: BlockWorkerData | TwinWorkerData,
): { worker: Worker; exited: Promise<void>; failed: () => Error | undefined } {
  const worker = new Worker(source, { eval: true, workerData });
  let workerError: Error | undefined;
  worker.on("error", (err) => (workerError = err));
  // The worker ends with 0 after the last chunk or when told to stop; anything else is a failure.
  const exited = new Promise<void>((resolve) =>
    worker.on("exit", (code) => {
      if (code !== 0) workerError ??= new Error(`the block-hashing worker exited with code ${code}`);
      resolve();
    }),
  );
  return { worker, exited, failed: () => workerError };
}

/**
 * Wakes the threads sleeping on `word` after counting it up.
 *
 * @param ctl the control words.
 * @param word the pulse word.
 */
export function pulse(ctl: Int32Array, word: number): void {
  Atomics.add(ctl, word, 1);
  Atomics.notify(ctl, word);
}

/**
 * Sleeps until the worker's pulse changes from `seen`, in short synchronous slices; between slices the event loop
 * runs once, so a worker that failed to start or died is noticed. Throws the worker's error once it failed.
 *
 * @param ctl the control words.
 * @param words which of them are the worker's pulse and its failure flag.
 * @param seen the pulse as last seen.
 * @param worker the worker, as {@link startWorker} started it.
 */
export async function awaitPulse(
  ctl: Int32Array,
  words: { pulse: number; failed: number },
  seen: number,
  worker: ReturnType<typeof startWorker>,
): Promise<void> {
  if (Atomics.load(ctl, words.failed) === 1 || worker.failed()) {
    await worker.exited; // a failed worker throws, so it ends; its error event comes first, to report it
    throw worker.failed() ?? new Error("the block-hashing worker failed");
  }
  if (Atomics.wait(ctl, words.pulse, seen, 50) === "timed-out") await yieldToEventLoop();
}
