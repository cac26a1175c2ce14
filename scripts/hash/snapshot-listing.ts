/**
 * The written blocks of an EBS snapshot, from `ListSnapshotBlocks`: paged lazily (a page may be empty while a token
 * remains), in index order (checked), with the block and volume sizes the first page reports.
 */
import { ListSnapshotBlocksCommand, type EBSClient } from "@aws-sdk/client-ebs";
import { OperationError } from "../errors";

/** One written block as listed: its index and the token GetSnapshotBlock needs. */
export interface ListedBlock {
  /** Block index. */
  readonly index: number;
  /** Block token (valid for a limited time). */
  readonly token: string;
}

/** What the listing needs to know. */
export interface ListingSource {
  /** EBS client in the snapshot's account and region. */
  readonly ebs: EBSClient;
  /** Snapshot ID. */
  readonly snapshotId: string;
  /** `MaxResults` of a page. Default 10 000 (the API maximum). */
  readonly pageSize?: number;
}

/** Lazily pages `ListSnapshotBlocks` to the end; checks that indices ascend. */
export class BlockListing {
  /** Volume size the listing reported, GiB. */
  volumeSizeGiB = 0;
  /** Block size the listing reported, bytes. */
  blockSize = 0;
  private buffer: ListedBlock[] = [];
  private head = 0;
  private token: string | undefined;
  private started = false;
  private lastIndex = -1;

  /**
   * @param source the snapshot and its client
   * @param call runs one request with the caller's retries (throttling, transient faults)
   * @param skipThrough blocks up to this index were hashed before (a resumed hash): listed, then skipped
   */
  constructor(
    private readonly source: ListingSource,
    private readonly call: <T>(fn: () => Promise<T>) => Promise<T>,
    private readonly skipThrough = -1,
  ) {}

  /** The next written block, or undefined after the last page. */
  async next(): Promise<ListedBlock | undefined> {
    while (this.head >= this.buffer.length) {
      if (this.started && !this.token) return undefined;
      await this.page();
    }
    // An index instead of shift(): a page holds up to 10,000 blocks, and shift() moves them all every time.
    return this.buffer[this.head++];
  }

  /** Reads the first page (to learn the block size and volume size). */
  async start(): Promise<void> {
    if (!this.started) await this.page();
  }

  private async page(): Promise<void> {
    const { ebs, snapshotId } = this.source;
    const res = await this.call(() =>
      ebs.send(
        new ListSnapshotBlocksCommand({
          SnapshotId: snapshotId,
          NextToken: this.token,
          MaxResults: this.source.pageSize ?? 10000,
        }),
      ),
    );
    this.started = true;
    this.token = res.NextToken || undefined;
    if (res.VolumeSize !== undefined) this.volumeSizeGiB = res.VolumeSize;
    if (res.BlockSize !== undefined) this.blockSize = res.BlockSize;
    if (!Number.isInteger(this.blockSize) || this.blockSize <= 0) {
      throw new OperationError(`ListSnapshotBlocks for ${snapshotId} reported no usable block size (${res.BlockSize})`);
    }
    const blocks = (res.Blocks ?? [])
      .map((b) => ({ index: Number(b.BlockIndex), token: b.BlockToken ?? "" }))
      .sort((a, b) => a.index - b.index);
    this.buffer = this.buffer.slice(this.head);
    this.head = 0;
    for (const block of blocks) {
      if (!Number.isInteger(block.index) || block.index <= this.lastIndex) {
        throw new OperationError(
          `ListSnapshotBlocks for ${snapshotId} listed block ${block.index} after block ${this.lastIndex}: blocks must ascend`,
        );
      }
      this.lastIndex = block.index;
      if (block.index > this.skipThrough) this.buffer.push(block);
    }
  }
}
