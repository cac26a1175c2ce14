/** Builds sparse snapshots in the emulator with StartSnapshot / PutSnapshotBlock / CompleteSnapshot. */
import { createHash } from "node:crypto";
import { CompleteSnapshotCommand, EBSClient, PutSnapshotBlockCommand, StartSnapshotCommand } from "@aws-sdk/client-ebs";

/** A block to upload: its index and bytes, and optionally a checksum to claim instead of the true one. */
export interface UploadBlock {
  readonly index: number;
  readonly data: Buffer;
  readonly claimedChecksum?: string;
}

/** Deterministic, distinct bytes for block `index`. */
export function blockBytes(index: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = (index + 1) * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Uploads a snapshot of a `volumeSizeGiB` volume with the given blocks, in index order, and completes it. */
export async function uploadSnapshot(ebs: EBSClient, volumeSizeGiB: number, blocks: UploadBlock[]): Promise<string> {
  const started = await ebs.send(
    new StartSnapshotCommand({ VolumeSize: volumeSizeGiB, Description: "flz test image", Timeout: 60 }),
  );
  const snapshotId = started.SnapshotId ?? "";
  for (const block of [...blocks].sort((a, b) => a.index - b.index)) {
    await ebs.send(
      new PutSnapshotBlockCommand({
        SnapshotId: snapshotId,
        BlockIndex: block.index,
        BlockData: block.data,
        DataLength: block.data.length,
        Checksum: block.claimedChecksum ?? createHash("sha256").update(block.data).digest("base64"),
        ChecksumAlgorithm: "SHA256",
      }),
    );
  }
  await ebs.send(new CompleteSnapshotCommand({ SnapshotId: snapshotId, ChangedBlocksCount: blocks.length }));
  return snapshotId;
}
