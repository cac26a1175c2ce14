/**
 * Block-manifest facts shared by file and snapshot hashing: the manifest block size of DESIGN.md §6 and the JSON Lines
 * manifest format, written as blocks are hashed so memory stays bounded however large the artefact.
 */
import { closeSync, openSync, writeSync } from "node:fs";

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
 * Writes a manifest as JSON Lines: per artefact a `source` line, one `block` line per block (for snapshots: per written
 * block), and a `summary` line with the whole-artefact digest. Lines are batched into large synchronous writes.
 */
export class ManifestWriter {
  private readonly fd: number;
  private pending: string[] = [];
  private pendingBytes = 0;

  /** Creates (or truncates) the manifest file. */
  constructor(readonly path: string) {
    this.fd = openSync(path, "w");
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
