/**
 * Hashing a file or block device in one streaming read: the whole-artefact SHA-256 (what `sha256sum` prints) and,
 * optionally, a manifest of per-block SHA-256s (DESIGN.md §6).
 *
 * Throughput: SHA-256 is sequential, so one core can only run one digest at OpenSSL speed. With a manifest the work
 * doubles, so the whole-file digest runs on this thread and the block digests on a worker thread, fed the same
 * buffers: each chunk is read once, hashed here, then transferred (zero-copy) to the worker, which hashes its blocks
 * and transfers the buffer back for reuse. A small fixed pool of chunk buffers bounds memory and gives backpressure;
 * reads run on libuv's thread pool ahead of the hashing.
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { MANIFEST_BLOCK_SIZE, type ManifestBlock } from "./blocks";

/** Options of {@link hashFile}. */
export interface HashFileOptions {
  /** Produce block digests (the manifest). Default false: the whole digest only. */
  readonly manifest?: boolean;
  /** Manifest block size. Default 512 KiB. */
  readonly blockSize?: number;
  /** Blocks per read. Default 16 (8 MiB reads with 512 KiB blocks). */
  readonly blocksPerChunk?: number;
  /** Chunk buffers in the pool (memory = chunks × chunk size). Default 4. */
  readonly chunks?: number;
  /** Called for every block digest, in block order (only with `manifest`). */
  readonly onBlock?: (block: ManifestBlock) => void;
  /** Called with the running byte count after each chunk. */
  readonly onProgress?: (bytes: number) => void;
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

// Plain JavaScript so the worker needs no TypeScript loader; it hashes each block of a chunk and hands the buffer back.
const BLOCK_WORKER = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
parentPort.on("message", ({ buffer, length, blockSize }) => {
  const view = new Uint8Array(buffer, 0, length);
  const digests = [];
  for (let offset = 0; offset < length; offset += blockSize) {
    digests.push(createHash("sha256").update(view.subarray(offset, Math.min(offset + blockSize, length))).digest("hex"));
  }
  parentPort.postMessage({ buffer, digests }, [buffer]);
});
`;

interface WorkerReply {
  readonly buffer: ArrayBuffer;
  readonly digests: string[];
}

/** Hashes one file or block device; see the module comment for how. */
export async function hashFile(path: string, options: HashFileOptions = {}): Promise<FileDigest> {
  const blockSize = options.blockSize ?? MANIFEST_BLOCK_SIZE;
  if (!Number.isInteger(blockSize) || blockSize <= 0)
    throw new RangeError(`block size ${blockSize} is not a positive integer`);
  const chunkSize = blockSize * (options.blocksPerChunk ?? 16);
  const handle = await open(path, "r");
  // Regular files and block devices are read by offset; pipes and character devices only in order.
  const info = await handle.stat();
  const seekable = info.isFile() || info.isBlockDevice();
  const whole = createHash("sha256");
  let bytes = 0;
  let blockIndex = 0;
  const free: ArrayBuffer[] = Array.from(
    { length: Math.max(2, options.chunks ?? 4) },
    () => new ArrayBuffer(chunkSize),
  );
  const waiting: ((buffer: ArrayBuffer) => void)[] = [];
  const release = (buffer: ArrayBuffer): void => {
    const next = waiting.shift();
    if (next) next(buffer);
    else free.push(buffer);
  };
  const acquire = (): Promise<ArrayBuffer> => {
    const buffer = free.pop();
    return buffer ? Promise.resolve(buffer) : new Promise((resolve) => waiting.push(resolve));
  };

  let worker: Worker | undefined;
  let workerFailure: Error | undefined;
  let inWorker = 0;
  let drained: (() => void) | undefined;
  if (options.manifest) {
    worker = new Worker(BLOCK_WORKER, { eval: true });
    worker.on("message", (reply: WorkerReply) => {
      for (const sha256 of reply.digests) options.onBlock?.({ index: blockIndex++, sha256 });
      inWorker--;
      release(reply.buffer);
      if (inWorker === 0) drained?.();
    });
    worker.on("error", (err) => {
      workerFailure = err;
      drained?.();
    });
  }

  // Reads until the chunk is full or the file ends: a read may return less (pipes, devices), and chunks must stay
  // block-aligned for the manifest.
  const readChunk = async (position: number): Promise<{ buffer: ArrayBuffer; length: number }> => {
    const buffer = await acquire();
    const view = new Uint8Array(buffer);
    let length = 0;
    while (length < chunkSize) {
      const { bytesRead } = await handle.read(view, length, chunkSize - length, seekable ? position + length : null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return { buffer, length };
  };

  try {
    let pending = readChunk(0);
    for (;;) {
      const { buffer, length } = await pending;
      if (workerFailure) throw workerFailure;
      if (length === 0) {
        release(buffer);
        break;
      }
      bytes += length;
      if (length === chunkSize) pending = readChunk(bytes);
      whole.update(new Uint8Array(buffer, 0, length));
      if (worker) {
        inWorker++;
        worker.postMessage({ buffer, length, blockSize }, [buffer]);
      } else {
        release(buffer);
      }
      options.onProgress?.(bytes);
      if (length < chunkSize) break;
    }
    if (worker && inWorker > 0) {
      await new Promise<void>((resolve) => (drained = resolve));
      if (workerFailure) throw workerFailure;
    }
  } finally {
    await worker?.terminate();
    await handle.close();
  }
  const sha256 = whole.digest("hex");
  return options.manifest ? { path, bytes, sha256, blocks: blockIndex, blockSize } : { path, bytes, sha256 };
}
