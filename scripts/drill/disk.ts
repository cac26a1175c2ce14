/**
 * The drill's planted disks: small sparse disk images with known content (a fake boot sector, a fake implant, a
 * staged archive), written into snapshots with the EBS direct APIs (StartSnapshot / PutSnapshotBlock /
 * CompleteSnapshot), and the SHA-256 of each raw image computed locally. The compromised instance is launched from an
 * image whose block-device mappings name these snapshots, so the evidence the runbook captures can be checked end to
 * end: the image digest of every forensic copy must equal the SHA-256 of the raw image planted here.
 */
import { createHash } from "node:crypto";
import { CompleteSnapshotCommand, EBSClient, PutSnapshotBlockCommand, StartSnapshotCommand } from "@aws-sdk/client-ebs";
import { OperationError } from "../errors";

/** A planted disk's layout: size and the blocks written; every other block is zeros. */
export interface DiskLayout {
  /** Device name the image maps it to, e.g. `/dev/xvda`. */
  readonly device: string;
  /** Volume size, GiB (the EBS direct APIs start at 1). */
  readonly sizeGiB: number;
  /** Written blocks by index. */
  readonly blocks: ReadonlyMap<number, Buffer>;
}

/** A planted disk: its layout, the snapshot holding it, and the digest an examiner would get from a raw image. */
export interface PlantedDisk {
  /** Device name on the instance. */
  readonly device: string;
  /** Volume size, GiB. */
  readonly sizeGiB: number;
  /** The snapshot the image maps to the device. */
  readonly snapshotId: string;
  /** Number of written blocks. */
  readonly writtenBlocks: number;
  /** Block size used, bytes. */
  readonly blockSize: number;
  /** SHA-256 (hex) of the raw image: `sha256sum` of a `dd` of the disk. */
  readonly sha256: string;
}

/** Block size of the emulator's EBS direct APIs (AWS uses 512 KiB; the emulator reports 512 bytes). */
export const EMULATOR_BLOCK_SIZE = 512;

/** One block: text at the start, zero-padded to the block size. */
export function textBlock(text: string, blockSize = EMULATOR_BLOCK_SIZE): Buffer {
  const block = Buffer.alloc(blockSize);
  block.write(text.slice(0, blockSize), "utf8");
  return block;
}

/** The two disks of the drill's compromised instance: root (with the implant) and data (with a staged archive). */
export function drillDisks(blockSize = EMULATOR_BLOCK_SIZE): DiskLayout[] {
  const boot = textBlock("FLZ-DRILL boot sector: not a real disk", blockSize);
  boot.writeUInt16BE(0x55aa, blockSize - 2);
  return [
    {
      device: "/dev/xvda",
      sizeGiB: 1,
      blocks: new Map([
        [0, boot],
        [2048, textBlock("root:x:0:0:root:/root:/bin/bash\napp:x:1000:1000::/srv/app:/bin/sh\n", blockSize)],
        [
          409_600,
          textBlock(
            "#!/bin/sh\n# FLZ-DRILL fake implant: beacons to 203.0.113.66 every 300 s (TEST-NET-3)\n",
            blockSize,
          ),
        ],
        [409_601, Buffer.alloc(blockSize, 0xcc)],
        [2_097_151, textBlock("FLZ-DRILL last block of the root disk", blockSize)],
      ]),
    },
    {
      device: "/dev/sdb",
      sizeGiB: 1,
      blocks: new Map([
        [0, textBlock("FLZ-DRILL data volume", blockSize)],
        [131_072, textBlock("customers.csv staged for exfiltration by the drill's attacker (fake)", blockSize)],
      ]),
    },
  ];
}

/**
 * SHA-256 of the raw image of a sparse layout: every block in index order, zeros where nothing was written. Hashes the
 * full size (about a second per GiB), as `sha256sum` of a `dd` image would.
 */
export function rawImageSha256(layout: DiskLayout, blockSize = EMULATOR_BLOCK_SIZE): string {
  const totalBlocks = (layout.sizeGiB * 2 ** 30) / blockSize;
  const hash = createHash("sha256");
  const zeros = Buffer.alloc(8 * 2 ** 20);
  const zeroRun = (blocks: number): void => {
    for (let bytes = blocks * blockSize; bytes > 0; bytes -= zeros.length)
      hash.update(zeros.subarray(0, Math.min(bytes, zeros.length)));
  };
  let next = 0;
  for (const index of [...layout.blocks.keys()].sort((a, b) => a - b)) {
    const data = layout.blocks.get(index) as Buffer;
    if (index >= totalBlocks || data.length !== blockSize) {
      throw new OperationError(
        `planted block ${index} does not fit a ${layout.sizeGiB} GiB disk of ${blockSize}-byte blocks`,
      );
    }
    zeroRun(index - next);
    hash.update(data);
    next = index + 1;
  }
  zeroRun(totalBlocks - next);
  return hash.digest("hex");
}

/** Writes a layout into a new snapshot with the EBS direct APIs (each block with its SHA-256) and completes it. */
export async function writeDiskSnapshot(ebs: EBSClient, layout: DiskLayout, description: string): Promise<PlantedDisk> {
  const started = await ebs.send(
    new StartSnapshotCommand({ VolumeSize: layout.sizeGiB, Description: description, Timeout: 60 }),
  );
  const snapshotId = started.SnapshotId;
  if (!snapshotId) throw new OperationError(`StartSnapshot returned no snapshot ID for ${layout.device}`);
  const blockSize = started.BlockSize ?? EMULATOR_BLOCK_SIZE;
  if (blockSize !== EMULATOR_BLOCK_SIZE) {
    throw new OperationError(
      `the EBS direct APIs report ${blockSize}-byte blocks; the drill's disks are laid out for ${EMULATOR_BLOCK_SIZE}`,
    );
  }
  await Promise.all(
    [...layout.blocks].map(([index, data]) =>
      ebs.send(
        new PutSnapshotBlockCommand({
          SnapshotId: snapshotId,
          BlockIndex: index,
          BlockData: data,
          DataLength: data.length,
          Checksum: createHash("sha256").update(data).digest("base64"),
          ChecksumAlgorithm: "SHA256",
        }),
      ),
    ),
  );
  await ebs.send(new CompleteSnapshotCommand({ SnapshotId: snapshotId, ChangedBlocksCount: layout.blocks.size }));
  return {
    device: layout.device,
    sizeGiB: layout.sizeGiB,
    snapshotId,
    writtenBlocks: layout.blocks.size,
    blockSize,
    sha256: rawImageSha256(layout, blockSize),
  };
}
