/**
 * The pool of AWS-sized blocks and the two worker threads that hash it (snapshot hashing's SHA-256 passes off the
 * thread that makes the requests: the SDK's per-request work, signing, body handling, is what that thread spends its
 * time on, profiled with `--cpu-prof`).
 *
 * Blocks are not sent to the workers: each block's body is read straight into a slot of a pool in shared memory (slot
 * = listing position modulo the pool size; the reorder window guarantees that no two blocks in flight share a slot,
 * and a slot is reused only after the image digest has read it), the verifier hashes the slot in place and writes the
 * digest beside it, and the image worker reads the same slot, in index order. The pool is allocated once: no block
 * buffer is kept, transferred or collected per block.
 *
 * The threads signal each other through shared memory, not messages: each direction is a ring of numbers in a
 * SharedArrayBuffer and a counter of entries written, advanced with `Atomics.store` after the entry (so the reader,
 * which loads the counter with `Atomics.load`, sees the entry) and announced with `Atomics.notify`. A worker blocks in
 * `Atomics.wait` when it has nothing to do; this thread waits with `Atomics.waitAsync`, one pending wait per
 * direction, re-armed after each wake-up. A `postMessage` per event-loop turn (the previous design) cost this thread
 * 9–12 % of its samples at c=64: serialising an array, a port and a wake-up of the other loop each time.
 * `Atomics.waitAsync` does not keep Node's event loop alive, so a worker is `ref`ed while work is outstanding on it
 * (otherwise a process waiting only for the last digest could exit before it).
 *
 * Counters are 32-bit: they would wrap after 2^31 blocks (1 PiB of 512 KiB blocks; an EBS volume is at most 64 TiB).
 */
import { Worker } from "node:worker_threads";
import type { BlockSlots, ImageDigest } from "./snapshot-hashers";

// Indices into the control array (Int32). Written by this thread: VERIFY_SUBMITTED, IMAGE_SUBMITTED, STOP. Written by
// the workers: VERIFY_DONE, IMAGE_DONE (entries taken, zeros and digest requests included), IMAGE_FREED (blocks read).
const VERIFY_SUBMITTED = 0;
const VERIFY_DONE = 1;
const IMAGE_SUBMITTED = 2;
const IMAGE_DONE = 3;
const IMAGE_FREED = 4;
const STOP = 5;
// Set by a worker while it waits (or is about to) for entries: only then does this thread call `Atomics.notify`.
const VERIFY_SLEEPING = 6;
const IMAGE_SLEEPING = 7;
const CONTROL_LENGTH = 8;

/** `Atomics.waitAsync` (Node ≥ 16; its type is in the ES2024 library, newer than this project's `lib`). */
type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };
const waitAsync: WaitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** The image ring's entry that asks for the digest (entries are otherwise slot numbers, or -(zero bytes)). */
const DIGEST_REQUEST = Number.POSITIVE_INFINITY;

// Plain JavaScript so the workers need no TypeScript loader. Both loop until STOP: take every entry submitted so far,
// publish each result, wait (Atomics.wait) when none is left. Before waiting a worker raises its sleeping flag and
// looks at the count once more; this thread stores the count before it reads the flag (both sequentially consistent),
// so either the worker sees the new entry or this thread sees the flag and wakes it: no wake-up is lost. The wait has
// a timeout only so that a STOP raised between the worker's last look and its wait cannot keep it waiting.
const WORKER_PRELUDE = `
const { workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { pool, control, ring, results, blockSize } = workerData;
const data = Buffer.from(pool);
const c = new Int32Array(control);
const STOP = ${STOP};
function run(submittedAt, sleepingAt, take) {
  let taken = 0;
  for (;;) {
    const submitted = Atomics.load(c, submittedAt);
    if (submitted === taken) {
      if (Atomics.load(c, STOP) !== 0) return;
      Atomics.store(c, sleepingAt, 1);
      if (Atomics.load(c, submittedAt) === taken) Atomics.wait(c, submittedAt, taken, 1000);
      Atomics.store(c, sleepingAt, 0);
      continue;
    }
    while (taken !== submitted) take(taken++);
  }
}
`;

// The verifier: ring = slot numbers; hashes the slot, writes its digest into the slot's 32 bytes of `results`, and
// writes the slot number into the second half of the ring (its completions, read in order) before counting it done.
const VERIFY_WORKER = `${WORKER_PRELUDE}
const slots = ring.length / 2;
const requests = new Int32Array(ring.buffer, ring.byteOffset, slots);
const completions = new Int32Array(ring.buffer, ring.byteOffset + slots * 4, slots);
const out = Buffer.from(results);
run(${VERIFY_SUBMITTED}, ${VERIFY_SLEEPING}, (n) => {
  const slot = requests[n % slots];
  const start = slot * blockSize;
  createHash("sha256").update(data.subarray(start, start + blockSize)).digest().copy(out, slot * 32);
  completions[n % slots] = slot;
  Atomics.store(c, ${VERIFY_DONE}, n + 1);
  Atomics.notify(c, ${VERIFY_DONE});
});
`;

// The image digest: ring = slot numbers (hash that block), negative numbers (that many zero bytes) and Infinity (write
// the digest into the first 32 bytes of \`results\`), in index order.
const IMAGE_WORKER = `${WORKER_PRELUDE}
const zeros = Buffer.alloc(8 * 1024 * 1024);
const image = createHash("sha256");
const out = Buffer.from(results);
let freed = 0;
run(${IMAGE_SUBMITTED}, ${IMAGE_SLEEPING}, (n) => {
  const entry = ring[n % ring.length];
  if (entry === Infinity) {
    image.digest().copy(out, 0);
  } else if (entry < 0) {
    for (let remaining = -entry; remaining > 0; remaining -= zeros.length)
      image.update(remaining >= zeros.length ? zeros : zeros.subarray(0, remaining));
  } else {
    image.update(data.subarray(entry * blockSize, (entry + 1) * blockSize));
    Atomics.store(c, ${IMAGE_FREED}, ++freed);
  }
  Atomics.store(c, ${IMAGE_DONE}, n + 1);
  Atomics.notify(c, ${IMAGE_DONE});
});
`;

/**
 * This thread's side of one worker's ring: entries written, and announced to a sleeping worker once per turn of the
 * event loop (an `Atomics.notify` that wakes a thread is a system call: one per block cost this thread more than the
 * messages it replaced); the worker's progress watched with one pending `Atomics.waitAsync` while entries are
 * outstanding (the worker `ref`ed meanwhile).
 */
class Channel {
  private submitted = 0;
  private seen = 0;
  private armed = false;
  private wakeScheduled = false;

  constructor(
    private readonly control: Int32Array,
    private readonly submittedAt: number,
    private readonly sleepingAt: number,
    private readonly doneAt: number,
    private readonly capacity: number,
    private readonly worker: Worker,
    /** Called with the worker's new progress count (entries done) after each wake-up that moved it. */
    private readonly onProgress: (from: number, to: number) => void,
  ) {}

  /** Writes one entry with `write(index)` (index into the ring, mod its capacity) and announces it. */
  submit(write: (at: number) => void): void {
    if (this.submitted - this.seen >= this.capacity) {
      throw new Error("a block-hashing ring is full: more blocks in flight than pool slots");
    }
    write(this.submitted % this.capacity);
    Atomics.store(this.control, this.submittedAt, ++this.submitted);
    if (!this.wakeScheduled) {
      this.wakeScheduled = true;
      setImmediate(() => this.wake());
    }
    this.arm();
  }

  /** Wakes the worker if it sleeps (it reads every entry stored so far). */
  wake(): void {
    this.wakeScheduled = false;
    if (Atomics.load(this.control, this.sleepingAt) !== 0) Atomics.notify(this.control, this.submittedAt);
  }

  private arm(): void {
    if (this.armed || this.seen === this.submitted) return;
    const waited = waitAsync(this.control, this.doneAt, this.seen);
    if (!waited.async) {
      // The worker moved on since the last look: collect now (a microtask, so submit() returns first).
      this.armed = true;
      queueMicrotask(() => this.collect());
      return;
    }
    this.armed = true;
    this.worker.ref();
    void waited.value.then(() => this.collect());
  }

  private collect(): void {
    this.armed = false;
    const done = Atomics.load(this.control, this.doneAt);
    if (done !== this.seen) {
      const from = this.seen;
      this.seen = done;
      this.onProgress(from, done);
    }
    if (this.seen === this.submitted) this.worker.unref();
    else this.arm();
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
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_LENGTH * 4));
  private readonly digests: Buffer;
  private readonly workers: Worker[] = [];
  private failure: Error | undefined;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private readonly verifier: Channel;
  private readonly verifyRequests: Int32Array;
  /** Called once when a worker fails (a fetcher waiting for a slot must not wait for ever). */
  onFailure?: (err: Error) => void;

  constructor(
    private readonly slots: number,
    private readonly blockSize: number,
  ) {
    this.pool = new SharedArrayBuffer(slots * blockSize);
    this.bytes = new Uint8Array(this.pool);
    const digests = new SharedArrayBuffer(slots * 32);
    this.digests = Buffer.from(digests);
    // Requests in the first half, the worker's completions (slot numbers, in the order done) in the second.
    const ring = new Int32Array(new SharedArrayBuffer(slots * 2 * 4));
    this.verifyRequests = ring.subarray(0, slots);
    const completions = ring.subarray(slots);
    const worker = this.start(VERIFY_WORKER, { ring, results: digests });
    this.verifier = new Channel(
      this.control,
      VERIFY_SUBMITTED,
      VERIFY_SLEEPING,
      VERIFY_DONE,
      slots,
      worker,
      (from, to) => {
        for (let n = from; n !== to; n++) {
          const slot = completions[n % slots];
          this.waiting.get(slot)?.resolve();
          this.waiting.delete(slot);
        }
      },
    );
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
      this.verifier.submit((at) => (this.verifyRequests[at] = slot));
    });
    return this.digests.subarray(slot * 32, slot * 32 + 32);
  }

  /**
   * The image digest on a worker of its own, reading the slots in place; `onFreed` is called as blocks are read (their
   * slots may then be reused). The OpenSSL digest cannot be saved: checkpoints keep the digest on this thread.
   */
  imageOnWorker(onFreed: () => void): ImageDigest {
    // Entries not yet seen done: at most two per block (a run of zeros, the block) for the blocks of the window, plus
    // the blocks the worker read between this thread's two loads (progress, then the freed count: at most a window
    // more), the last zeros and the digest request. Bounded at 4 × slots + 2; more is a bug, refused by submit().
    const ring = new Float64Array(new SharedArrayBuffer((4 * this.slots + 8) * 8));
    const result = new SharedArrayBuffer(32);
    const worker = this.start(IMAGE_WORKER, { ring, results: result });
    let digestAt = -1;
    let digestWaiter: ((hex: string) => void) | undefined;
    let freed = 0;
    const channel = new Channel(
      this.control,
      IMAGE_SUBMITTED,
      IMAGE_SLEEPING,
      IMAGE_DONE,
      ring.length,
      worker,
      (_from, to) => {
        const nowFreed = Atomics.load(this.control, IMAGE_FREED);
        if (nowFreed !== freed) {
          freed = nowFreed;
          onFreed();
        }
        if (digestWaiter && to > digestAt) {
          this.waiting.delete(-1);
          digestWaiter(Buffer.from(result).toString("hex"));
          digestWaiter = undefined;
        }
      },
    );
    const submit = (entry: number): void => channel.submit((at) => (ring[at] = entry));
    return {
      block: (position) => submit(position % this.slots),
      zeros: (bytes) => {
        if (bytes > 0) submit(-bytes);
      },
      get freed() {
        return freed;
      },
      digest: () =>
        new Promise<string>((resolve, reject) => {
          if (this.failure) return reject(this.failure);
          this.waiting.set(-1, { resolve: () => undefined, reject });
          digestWaiter = resolve;
          digestAt = Atomics.load(this.control, IMAGE_SUBMITTED);
          submit(DIGEST_REQUEST);
        }),
    };
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    for (const worker of this.workers) worker.removeAllListeners("exit");
    Atomics.store(this.control, STOP, 1);
    Atomics.notify(this.control, VERIFY_SUBMITTED);
    Atomics.notify(this.control, IMAGE_SUBMITTED);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private start(code: string, data: { ring: Int32Array | Float64Array; results: SharedArrayBuffer }): Worker {
    const worker = new Worker(code, {
      eval: true,
      workerData: { pool: this.pool, control: this.control.buffer, blockSize: this.blockSize, ...data },
    });
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
