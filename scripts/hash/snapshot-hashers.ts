/**
 * The SHA-256 work of snapshot hashing: running digests (the image digest and the LINEAR aggregate, savable for
 * checkpoints), and the verification of each fetched block against the checksum the service returned.
 *
 * Verification of AWS-sized blocks runs on a worker thread, so this thread keeps the image digest and the requests.
 * Blocks are not sent to the worker: each is copied once into a slot of a pool in shared memory (slot = listing
 * position modulo the pool size; the reorder window guarantees that no two blocks in flight share a slot), the worker
 * hashes the slot in place and writes the digest beside it, and the image digest later reads the same slot. The pool
 * is allocated once: no block buffer is allocated, transferred or collected per block (profiling showed garbage
 * collection and ArrayBuffer transfers taking as much of this thread as the image digest itself).
 */
import { createHash } from "node:crypto";
import { Worker } from "node:worker_threads";
import { createSHA256, type IHasher } from "hash-wasm";

/** A running SHA-256 whose state can be saved and restored (checkpointing), or not (OpenSSL, faster). */
export interface RunningHash {
  /** Adds bytes. */
  update(data: Uint8Array): void;
  /** The digest, in hex or base64. */
  digest(encoding: "hex" | "base64"): string;
  /** The state, base64 (savable hashes only). */
  save?(): string;
}

/** A running SHA-256 of OpenSSL (node:crypto). */
export function nativeHash(): RunningHash {
  const h = createHash("sha256");
  return { update: (d) => void h.update(d), digest: (e) => h.digest(e) };
}

/** A running SHA-256 of hash-wasm, whose state can be saved; restored from `state` when given. */
export async function savableHash(state?: string): Promise<RunningHash> {
  const h: IHasher = await createSHA256();
  h.init();
  if (state) h.load(Buffer.from(state, "base64"));
  return {
    update: (d) => void h.update(d),
    digest: (e) => Buffer.from(h.digest("binary")).toString(e),
    save: () => Buffer.from(h.save()).toString("base64"),
  };
}

/** A block held for the image digest, with its SHA-256. */
export interface HeldBlock {
  /** The block's bytes (valid until the block at the same position plus the pool size is verified). */
  readonly data: Uint8Array;
  /** Its SHA-256. */
  readonly sha256: Buffer;
}

/** Computes block SHA-256s and holds the bytes until the image digest has read them. */
export interface BlockVerifier {
  /** Holds `data`, the block at listing position `position`, and computes its SHA-256. */
  verify(position: number, data: Uint8Array): Promise<HeldBlock>;
  /** Stops the worker, if any. */
  close(): Promise<void>;
}

/** For small blocks (the emulator's 512 bytes): hashed here, the fetched bytes held as they are. */
export const inlineVerifier: BlockVerifier = {
  verify: async (_position, data) => ({ data, sha256: createHash("sha256").update(data).digest() }),
  close: async () => undefined,
};

// Plain JavaScript so the worker needs no TypeScript loader. It hashes a slot of the shared pool in place and writes
// the digest into the slot's 32 bytes of the shared digest area; the message back carries only the request's number.
const VERIFY_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { pool, digests, blockSize } = workerData;
const data = Buffer.from(pool);
const out = Buffer.from(digests);
parentPort.on("message", ({ id, slot, length }) => {
  const start = slot * blockSize;
  createHash("sha256").update(data.subarray(start, start + length)).digest().copy(out, slot * 32);
  parentPort.postMessage(id);
});
`;

/**
 * Verification on a worker thread over a pool of `slots` blocks of `blockSize` bytes in shared memory (see the module
 * comment). `slots` must be at least the number of listing positions that can be in flight (the reorder window).
 */
export function pooledVerifier(slots: number, blockSize: number): BlockVerifier {
  const pool = new SharedArrayBuffer(slots * blockSize);
  const digests = new SharedArrayBuffer(slots * 32);
  const bytes = new Uint8Array(pool);
  const out = Buffer.from(digests);
  const worker = new Worker(VERIFY_WORKER, { eval: true, workerData: { pool, digests, blockSize } });
  worker.unref();
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  let nextId = 0;
  let failure: Error | undefined;
  const fail = (err: Error): void => {
    failure ??= err;
    for (const waiter of pending.values()) waiter.reject(failure);
    pending.clear();
  };
  worker.on("message", (id: number) => {
    pending.get(id)?.resolve();
    pending.delete(id);
  });
  worker.on("error", fail);
  worker.on("exit", (code) => fail(new Error(`the block-verifying worker exited with code ${code}`)));
  return {
    async verify(position, data) {
      if (failure) throw failure;
      if (data.length > blockSize) throw new RangeError(`a block of ${data.length} bytes does not fit a ${blockSize}-byte slot`);
      const slot = position % slots;
      const held = bytes.subarray(slot * blockSize, slot * blockSize + data.length);
      held.set(data);
      const id = nextId++;
      await new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, slot, length: data.length });
      });
      return { data: held, sha256: Buffer.from(out.subarray(slot * 32, slot * 32 + 32)) };
    },
    close: async () => {
      worker.removeAllListeners("exit");
      await worker.terminate();
    },
  };
}
