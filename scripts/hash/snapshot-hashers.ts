/**
 * The SHA-256 work of snapshot hashing: running digests (the image digest and the LINEAR aggregate, savable for
 * checkpoints), and the verification of each fetched block against the checksum the service returned.
 *
 * For AWS-sized blocks both SHA-256 passes run on worker threads, and this thread is left to the requests (the SDK's
 * per-request work, signing, body collection, is what it spends its time on: profiled with `--cpu-prof`). Blocks are
 * not sent to the workers: each block's body is read straight into a slot of a pool in shared memory (slot = listing
 * position modulo the pool size; the reorder window guarantees that no two blocks in flight share a slot, and a slot
 * is reused only after the image digest has read it), the verifier hashes the slot in place and writes the digest
 * beside it, and the image worker reads the same slot, in index order. The pool is allocated once: no block buffer is
 * kept, transferred or collected per block (profiling showed garbage collection and ArrayBuffer transfers taking as
 * much of this thread as the image digest itself). Messages are arrays of numbers, one per turn of the event loop
 * in each direction (a message per block cost this thread a sixth of its time in `postMessage` at 1,000 blocks/s:
 * each one wakes the other thread).
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

/**
 * Where fetched blocks live until the image digest has read them, and how each one's SHA-256 is computed: one slot per
 * listing position that can be in flight (slot = position modulo the slot count; the reorder window guarantees no
 * two blocks in flight share one). A block's body is read straight into its slot (snapshot-body.ts).
 */
export interface BlockSlots {
  /** The slot of the block at listing position `position` (valid until the position `slots` later is read in). */
  slot(position: number): Uint8Array;
  /** The SHA-256 of the whole slot of `position`, once its block is read in (a view: copy it to keep it). */
  verify(position: number): Promise<Uint8Array>;
  /** Stops the workers, if any. */
  close(): Promise<void>;
}

/** Slots in ordinary memory, hashed on this thread: for small blocks (the emulator's 512 bytes), cheaper than a hand-off. */
export function localSlots(slots: number, blockSize: number): BlockSlots {
  const bytes = new Uint8Array(slots * blockSize);
  const slot = (position: number): Uint8Array => {
    const at = (position % slots) * blockSize;
    return bytes.subarray(at, at + blockSize);
  };
  return {
    slot,
    verify: async (position) => createHash("sha256").update(slot(position)).digest(),
    close: async () => undefined,
  };
}

/** The image digest: every block in index order, zeros for unwritten blocks. */
export interface ImageDigest {
  /** Adds the block held at listing position `position` (its bytes are `data`). */
  block(position: number, data: Uint8Array): void;
  /** Adds `bytes` zero bytes (unwritten blocks). */
  zeros(bytes: number): void;
  /** Blocks the digest has read so far: their pool slots may be used again. */
  readonly freed: number;
  /** The digest, hex. */
  digest(): Promise<string>;
  /** The state, base64 (when the digest runs here, on a savable hash: checkpoints). */
  save?(): string;
}

/** An image digest on this thread, over `hash` (savable for checkpoints, or OpenSSL's). */
export function localImageDigest(hash: RunningHash, blockSize: number): ImageDigest {
  const zeros = Buffer.alloc(Math.max(blockSize, Math.floor((8 << 20) / blockSize) * blockSize));
  let freed = 0;
  return {
    block(_position, data) {
      hash.update(data);
      freed++;
    },
    zeros(bytes) {
      for (let remaining = bytes; remaining > 0; remaining -= zeros.length)
        hash.update(remaining >= zeros.length ? zeros : zeros.subarray(0, remaining));
    },
    get freed() {
      return freed;
    },
    digest: async () => hash.digest("hex"),
    ...(hash.save ? { save: () => (hash.save as () => string)() } : {}),
  };
}

// Plain JavaScript so the workers need no TypeScript loader. Each message is an array of numbers, answered by one
// message once the whole array is done. The verifier hashes the given slots of the shared pool in place, writes each
// digest into the slot's 32 bytes of the shared digest area, and answers with the same slots. The image worker takes,
// in index order, slot numbers (hash that block) and negative numbers (that many zero bytes), and answers with the
// count of blocks read; the string "digest" gets the hex digest.
const VERIFY_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { pool, digests, blockSize } = workerData;
const data = Buffer.from(pool);
const out = Buffer.from(digests);
parentPort.on("message", (slots) => {
  for (const slot of slots) {
    const start = slot * blockSize;
    createHash("sha256").update(data.subarray(start, start + blockSize)).digest().copy(out, slot * 32);
  }
  parentPort.postMessage(slots);
});
`;

const IMAGE_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { pool, blockSize } = workerData;
const data = Buffer.from(pool);
const zeros = Buffer.alloc(8 * 1024 * 1024);
const image = createHash("sha256");
parentPort.on("message", (m) => {
  if (m === "digest") return parentPort.postMessage(image.digest("hex"));
  let blocks = 0;
  for (const n of m) {
    if (n < 0) {
      for (let remaining = -n; remaining > 0; remaining -= zeros.length)
        image.update(remaining >= zeros.length ? zeros : zeros.subarray(0, remaining));
    } else {
      image.update(data.subarray(n * blockSize, (n + 1) * blockSize));
      blocks++;
    }
  }
  if (blocks > 0) parentPort.postMessage(blocks);
});
`;

/** Collects numbers for a worker and posts them as one array at the end of this turn of the event loop. */
class Batch {
  private items: number[] = [];
  private scheduled = false;
  constructor(private readonly worker: Worker) {}
  push(n: number): void {
    this.items.push(n);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }
  /** Posts what is pending now (before a message that must follow it). */
  flush(): void {
    this.scheduled = false;
    if (this.items.length === 0) return;
    this.worker.postMessage(this.items);
    this.items = [];
  }
}

/**
 * Blocks of `blockSize` bytes in a pool of `slots` slots in shared memory, a verifier worker and (on request) an image
 * worker over it; see the module comment. `slots` must be at least the number of listing positions in flight (the
 * reorder window).
 */
export class BlockPool implements BlockSlots {
  private readonly pool: SharedArrayBuffer;
  private readonly bytes: Uint8Array;
  private readonly out: Buffer;
  private readonly workers: Worker[] = [];
  private failure: Error | undefined;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private readonly verifierWorker: Worker;
  private readonly toVerify: Batch;
  /** Called once when a worker fails (a fetcher waiting for a slot must not wait for ever). */
  onFailure?: (err: Error) => void;

  constructor(
    private readonly slots: number,
    private readonly blockSize: number,
  ) {
    this.pool = new SharedArrayBuffer(slots * blockSize);
    const digests = new SharedArrayBuffer(slots * 32);
    this.bytes = new Uint8Array(this.pool);
    this.out = Buffer.from(digests);
    this.verifierWorker = this.start(VERIFY_WORKER, { pool: this.pool, digests, blockSize });
    this.toVerify = new Batch(this.verifierWorker);
    this.verifierWorker.on("message", (slots: number[]) => {
      for (const slot of slots) {
        this.waiting.get(slot)?.resolve();
        this.waiting.delete(slot);
      }
    });
  }

  /** The slot of listing position `position`, in shared memory. */
  slot(position: number): Uint8Array {
    const at = (position % this.slots) * this.blockSize;
    return this.bytes.subarray(at, at + this.blockSize);
  }

  /** Hashes the slot of `position` in place, on the verifier worker; resolves with a view of its digest. */
  async verify(position: number): Promise<Uint8Array> {
    if (this.failure) throw this.failure;
    const slot = position % this.slots;
    // One verification per slot at a time (a refetch waits for its first check), so the slot names the request.
    await new Promise<void>((resolve, reject) => {
      this.waiting.set(slot, { resolve, reject });
      this.toVerify.push(slot);
    });
    return this.out.subarray(slot * 32, slot * 32 + 32);
  }

  /**
   * The image digest on a worker of its own, reading the slots in place; `onFreed` is called as blocks are read (their
   * slots may then be reused). The OpenSSL digest cannot be saved: checkpoints keep the digest on this thread.
   */
  imageOnWorker(onFreed: () => void): ImageDigest {
    const worker = this.start(IMAGE_WORKER, { pool: this.pool, blockSize: this.blockSize });
    const batch = new Batch(worker);
    let freed = 0;
    let digestWaiter: ((hex: string) => void) | undefined;
    worker.on("message", (m: number | string) => {
      if (typeof m === "string") {
        this.waiting.delete(-1);
        digestWaiter?.(m);
      } else {
        freed += m;
        onFreed();
      }
    });
    return {
      block: (position) => batch.push(position % this.slots),
      zeros: (bytes) => {
        if (bytes > 0) batch.push(-bytes);
      },
      get freed() {
        return freed;
      },
      digest: () =>
        new Promise<string>((resolve, reject) => {
          if (this.failure) return reject(this.failure);
          digestWaiter = resolve;
          this.waiting.set(-1, { resolve: () => undefined, reject });
          batch.flush();
          worker.postMessage("digest");
        }),
    };
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    for (const worker of this.workers) worker.removeAllListeners("exit");
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private start(code: string, workerData: object): Worker {
    const worker = new Worker(code, { eval: true, workerData });
    worker.unref();
    const fail = (err: Error): void => {
      this.failure ??= err;
      for (const waiter of this.waiting.values()) waiter.reject(this.failure);
      this.waiting.clear();
      this.onFailure?.(this.failure);
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`a block-hashing worker exited with code ${code}`)));
    this.workers.push(worker);
    return worker;
  }
}
