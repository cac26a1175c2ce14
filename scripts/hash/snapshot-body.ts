/**
 * Reading one `GetSnapshotBlock` answer straight into its slot of the block pool (snapshot-pool.ts): the request is
 * sent with its body passed through (`passBodyThrough`, scripts/aws/attempts.ts), so the socket's chunks are copied
 * once, into the slot, with no buffer of the whole block allocated, copied and collected per block. What the attempt
 * middleware did for a buffered body is done here instead: a body that ends before its announced length, or fails
 * (reset, or destroyed at the attempt's deadline because it stalled), is a transient fault, which the caller retries
 * with the request (snapshot-retry.ts).
 */
import { finished, type Readable } from "node:stream";
import { TruncatedBodyError } from "../aws/attempts";

/** The shapes a block's body comes in: the Node stream of a real answer, or anything with the SDK's helper (mocks). */
interface BlockBody {
  transformToByteArray?: () => Promise<Uint8Array>;
  destroy?: (err?: Error) => void;
}

function isNodeStream(body: unknown): body is Readable {
  const b = body as Partial<Readable> | undefined;
  return typeof b?.on === "function" && typeof b.pipe === "function" && typeof b.destroy === "function";
}

/** Discards a body the caller will not read, so its connection is not held until the attempt's deadline. */
export function discardBody(body: unknown): void {
  (body as BlockBody | undefined)?.destroy?.();
}

/**
 * Copies `body` into `slot` and resolves with the number of bytes the body held. A body longer than the slot is cut
 * off (and destroyed) and reported as `slot.length + 1`: the caller treats any length but the block size as a bad
 * block. Rejects with the stream's error (a reset, a timeout), or a {@link TruncatedBodyError} when the body ended
 * before `announced` bytes.
 */
export async function readBlockInto(body: unknown, slot: Uint8Array, announced?: number): Promise<number> {
  let length: number;
  if (body === undefined || body === null) length = 0;
  else if (isNodeStream(body)) length = await copyStream(body, slot);
  else {
    const helper = (body as BlockBody).transformToByteArray;
    if (typeof helper !== "function") throw new TypeError("a block's body is neither a stream nor an SDK stream");
    const bytes = await helper.call(body);
    if (bytes.length <= slot.length) slot.set(bytes);
    length = Math.min(bytes.length, slot.length + 1);
  }
  if (announced !== undefined && length < announced) {
    throw new TruncatedBodyError(`the block's body ended after ${length} of ${announced} bytes`);
  }
  return length;
}

function copyStream(body: Readable, slot: Uint8Array): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let at = 0;
    let overflow = false;
    body.on("data", (chunk: Uint8Array) => {
      if (overflow) return;
      if (at + chunk.length > slot.length) {
        overflow = true;
        body.destroy();
        return;
      }
      // Buffer#copy is a native memmove; TypedArray#set into shared memory takes V8's slower relaxed-atomic copy
      // (about 7 against 8 µs per 64 KiB measured here).
      if (Buffer.isBuffer(chunk)) chunk.copy(slot, at);
      else slot.set(chunk, at);
      at += chunk.length;
    });
    finished(body, (err) => {
      if (overflow) resolve(slot.length + 1);
      else if (err) reject(err);
      else resolve(at);
    });
  });
}
