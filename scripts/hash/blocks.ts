/**
 * Block-manifest facts shared by file and snapshot hashing: the manifest block size of DESIGN.md §6 and the JSON Lines
 * manifest format, written as blocks are hashed so memory stays bounded however large the artefact.
 */
import { closeSync, openSync, readFileSync, truncateSync, writeSync } from "node:fs";
import { OperationError } from "../errors";

/** Manifest block size for files and devices: 512 KiB, the EBS direct API block size on AWS. */
export const MANIFEST_BLOCK_SIZE = 512 * 1024;

/** Header line of one artefact in a manifest. */
export interface ManifestSource {
  /** `file` (a file or block device) or `snapshot` (an EBS snapshot through the direct APIs). */
  readonly type: "file" | "snapshot";
  /** Path, or snapshot ID. */
  readonly source: string;
  /** Bytes per block. */
  readonly blockSize: number;
}

/** One block line: its index, and the lower-case hex SHA-256 of its bytes. */
export interface ManifestBlock {
  /** 0-based block index (offset = index × blockSize). */
  readonly index: number;
  /** Lower-case hex SHA-256 of the block. */
  readonly sha256: string;
}

/**
 * A resumable point of a snapshot hash: the SHA-256 states (hash-wasm's saved state, base64) of the image digest and of
 * the LINEAR aggregate after the written block `lastIndex` and every block before it.
 */
export interface HashCheckpoint {
  /** Snapshot hashed. */
  readonly snapshotId: string;
  /** Block size the API reported. */
  readonly blockSize: number;
  /** Last block index hashed (the image digest covers every index up to it). */
  readonly lastIndex: number;
  /** Written blocks hashed so far. */
  readonly writtenBlocks: number;
  /** Saved state of the image digest. */
  readonly imageState: string;
  /** Saved state of the LINEAR aggregate. */
  readonly linearState: string;
}

/**
 * Writes a manifest as JSON Lines: per artefact a `source` line, one `block` line per block (for snapshots: per written
 * block), and a `summary` line with the whole-artefact digest. Lines are batched into large synchronous writes.
 */
export class ManifestWriter {
  private readonly fd: number;
  private pending: string[] = [];
  private pendingBytes = 0;

  /** Creates (or truncates) the manifest file; `append` opens it for appending (a resumed hash). */
  constructor(
    readonly path: string,
    append = false,
  ) {
    this.fd = openSync(path, append ? "a" : "w");
  }

  /**
   * Opens a manifest for resuming a snapshot hash: finds its last checkpoint (of that snapshot), cuts the file right
   * after it (the block lines written after it are written again), and appends from there.
   */
  static resume(path: string, snapshotId: string): { writer: ManifestWriter; checkpoint: HashCheckpoint } {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      throw new OperationError(`cannot resume from ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    let offset = 0;
    let found: { checkpoint: HashCheckpoint; end: number } | undefined;
    let source = false;
    for (const line of text.split("\n")) {
      const end = offset + Buffer.byteLength(line) + 1;
      try {
        const value = JSON.parse(line) as { type?: string; source?: string; kind?: string } & Partial<HashCheckpoint>;
        if (value.type === "source") source = value.kind === "snapshot" && value.source === snapshotId;
        if (value.type === "checkpoint" && source && value.snapshotId === snapshotId && end <= Buffer.byteLength(text))
          found = { checkpoint: value as HashCheckpoint, end };
        if (value.type === "summary" && source) {
          throw new OperationError(`${path} already holds the finished hash of ${snapshotId}: nothing to resume`);
        }
      } catch (err) {
        if (err instanceof OperationError) throw err;
        // A line cut short by the crash: ignore it (it lies after the last checkpoint).
      }
      offset = end;
    }
    if (!found) {
      throw new OperationError(
        `${path} holds no checkpoint of ${snapshotId}: start over without --resume (with --checkpoint-every to make one)`,
      );
    }
    truncateSync(path, found.end);
    return { writer: new ManifestWriter(path, true), checkpoint: found.checkpoint };
  }

  /** Starts an artefact. */
  source(source: ManifestSource): void {
    this.line({
      type: "source",
      kind: source.type,
      source: source.source,
      blockSize: source.blockSize,
      algorithm: "SHA-256",
    });
  }

  /** Records a block. */
  block(block: ManifestBlock): void {
    this.line({ type: "block", index: block.index, sha256: block.sha256 });
  }

  /** Ends an artefact with its summary (whole digest and size or equivalent facts). */
  summary(facts: Record<string, string | number>): void {
    this.line({ type: "summary", ...facts });
    this.flush();
  }

  /** Records a checkpoint (every block line before it is written out first). */
  checkpoint(checkpoint: HashCheckpoint): void {
    this.line({ type: "checkpoint", ...checkpoint });
    this.flush();
  }

  /** Flushes and closes the file. */
  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private line(value: object): void {
    const text = `${JSON.stringify(value)}\n`;
    this.pending.push(text);
    this.pendingBytes += text.length;
    if (this.pendingBytes > 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    writeSync(this.fd, this.pending.join(""));
    this.pending = [];
    this.pendingBytes = 0;
  }
}
