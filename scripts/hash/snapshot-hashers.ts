/**
 * The SHA-256 work of snapshot hashing: running digests (the image digest and the LINEAR aggregate, savable for
 * checkpoints), and the verification of each fetched block against the checksum the service returned.
 *
 * For AWS-sized blocks both SHA-256 passes run on worker threads over a pool of slots in shared memory
 * (snapshot-pool.ts); small blocks are hashed here (`localSlots`, `localImageDigest`).
 */
import { createHash } from "node:crypto";
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
