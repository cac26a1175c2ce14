/**
 * The hashing engine over a stream (an S3 object read back, a pipe): the whole-artefact SHA-256 and the 512 KiB block
 * manifest, in the one pass that reads it. The stream's own speed (the network) bounds this, so both digests run on
 * this thread; for local files and devices, `hashFile` (file.ts) is the fast path.
 */
import { createHash, type Hash } from "node:crypto";
import { MANIFEST_BLOCK_SIZE, type ManifestBlock } from "./blocks";

/** Options of {@link hashStream}. */
export interface HashStreamOptions {
  /** Manifest block size. Default 512 KiB. */
  readonly blockSize?: number;
  /** Called for every block digest, in order. */
  readonly onBlock?: (block: ManifestBlock) => void;
  /** Called with the running byte count after each chunk. */
  readonly onProgress?: (bytes: number) => void;
}

/** What {@link hashStream} found. */
export interface StreamDigest {
  /** Bytes read. */
  readonly bytes: number;
  /** Lower-case hex SHA-256 of the whole content. */
  readonly sha256: string;
  /** Number of manifest blocks. */
  readonly blocks: number;
  /** Manifest block size. */
  readonly blockSize: number;
}

/** Hashes everything a stream yields (any async iterable of byte chunks). */
export async function hashStream(
  source: AsyncIterable<Uint8Array>,
  options: HashStreamOptions = {},
): Promise<StreamDigest> {
  const blockSize = options.blockSize ?? MANIFEST_BLOCK_SIZE;
  if (!Number.isInteger(blockSize) || blockSize <= 0)
    throw new RangeError(`block size ${blockSize} is not a positive integer`);
  const whole = createHash("sha256");
  let block: Hash = createHash("sha256");
  let inBlock = 0;
  let index = 0;
  let bytes = 0;
  const endBlock = (): void => {
    options.onBlock?.({ index: index++, sha256: block.digest("hex") });
    block = createHash("sha256");
    inBlock = 0;
  };
  for await (const chunk of source) {
    whole.update(chunk);
    // A chunk may straddle block boundaries: cut it at each one.
    for (let offset = 0; offset < chunk.length;) {
      const take = Math.min(blockSize - inBlock, chunk.length - offset);
      block.update(chunk.subarray(offset, offset + take));
      inBlock += take;
      offset += take;
      if (inBlock === blockSize) endBlock();
    }
    bytes += chunk.length;
    options.onProgress?.(bytes);
  }
  if (inBlock > 0) endBlock();
  return { bytes, sha256: whole.digest("hex"), blocks: index, blockSize };
}
