import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync, ftruncateSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { EBSClient } from "@aws-sdk/client-ebs";
import { ClientFactory } from "../../../scripts/aws/clients";
import { hashSnapshot } from "../../../scripts/hash/snapshot";
import { runHash } from "../../../scripts/commands/hash";
import { readFileSync } from "node:fs";
import { captureIo } from "./io";
import { useEmulator } from "../../support/emulator";
import { blockBytes, uploadSnapshot, type UploadBlock } from "./ebs-fixtures";

/** Writes the raw image a restored volume would have: zeros everywhere except the written blocks. */
function rawImage(dir: string, volumeSizeGiB: number, blockSize: number, blocks: UploadBlock[]): string {
  const file = path.join(dir, "image.raw");
  const fd = openSync(file, "w");
  ftruncateSync(fd, volumeSizeGiB * 2 ** 30);
  for (const b of blocks) writeSync(fd, b.data, 0, b.data.length, b.index * blockSize);
  closeSync(fd);
  return file;
}

describe("snapshot hashing through the EBS direct APIs (emulator)", () => {
  useEmulator();
  let factory: ClientFactory;
  let dir: string;
  beforeEach(() => {
    factory = new ClientFactory({});
    dir = mkdtempSync(path.join(tmpdir(), "flz-snap-"));
  });
  afterEach(() => {
    factory.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("computes the image digest of a sparse snapshot equal to sha256sum of the raw image, with the block size the API reports", async function () {
    this.timeout(120000);
    const ebs = factory.client(EBSClient, { region: "us-east-1" });
    const blockSize = 512; // what the emulator reports; AWS reports 524288, and the tool takes whichever is reported
    const lastIndex = 2 ** 30 / blockSize - 1;
    const blocks = [0, 1, 2, 9, 100, 4097, 65536, lastIndex].map((index) => ({
      index,
      data: blockBytes(index, blockSize),
    }));
    const snapshotId = await uploadSnapshot(ebs, 1, blocks);
    const manifest: { index: number; sha256: string }[] = [];
    const digest = await hashSnapshot({ ebs, snapshotId, concurrency: 3, onBlock: (b) => manifest.push(b) });

    const expected = execFileSync("sha256sum", [rawImage(dir, 1, blockSize, blocks)])
      .toString()
      .split(" ")[0];
    expect(digest.imageSha256).to.equal(expected);
    expect(digest.blockSize).to.equal(blockSize);
    expect(digest.volumeSizeGiB).to.equal(1);
    expect(digest.writtenBlocks).to.equal(blocks.length);
    expect(manifest).to.deep.equal(
      blocks.map((b) => ({ index: b.index, sha256: createHash("sha256").update(b.data).digest("hex") })),
    );
    const linear = createHash("sha256");
    for (const b of blocks) linear.update(createHash("sha256").update(b.data).digest());
    expect(digest.linearChecksum).to.equal(linear.digest("base64"));
  });

  it("hashes a snapshot with no written blocks as an all-zero image", async function () {
    this.timeout(120000);
    const ebs = factory.client(EBSClient, { region: "us-east-1" });
    const snapshotId = await uploadSnapshot(ebs, 1, []);
    const digest = await hashSnapshot({ ebs, snapshotId });
    const zeros = createHash("sha256");
    const mib = Buffer.alloc(2 ** 20);
    for (let i = 0; i < 1024; i++) zeros.update(mib);
    expect(digest.imageSha256).to.equal(zeros.digest("hex"));
    expect(digest.writtenBlocks).to.equal(0);
  });

  it("flz hash --snapshot --json prints the digest facts and writes the written blocks to the manifest", async function () {
    this.timeout(60000);
    const ebs = factory.client(EBSClient, { region: "us-east-1" });
    const blocks = [5, 6, 300].map((index) => ({ index, data: blockBytes(index, 512) }));
    const snapshotId = await uploadSnapshot(ebs, 1, blocks);
    const manifest = path.join(dir, "snap.jsonl");
    const io = captureIo();
    await runHash([], { snapshot: snapshotId, region: "us-east-1", concurrency: "8", manifest, json: true }, io);
    const printed = JSON.parse(io.stdout()) as Record<string, unknown>;
    expect(printed).to.include({ snapshotId, volumeSizeGiB: 1, blockSize: 512, writtenBlocks: 3 });
    expect(printed.imageSha256).to.match(/^[0-9a-f]{64}$/);
    expect(printed.linearChecksum).to.be.a("string");
    const lines = readFileSync(manifest, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.type)).to.deep.equal(["source", "block", "block", "block", "summary"]);
    expect(lines[0]).to.include({ kind: "snapshot", source: snapshotId, blockSize: 512 });
    expect(lines.slice(1, 4).map((l) => l.index)).to.deep.equal([5, 6, 300]);
    expect(lines[4]).to.include({ imageSha256: printed.imageSha256 });
  });

  it("reports a block whose data does not match the checksum it was uploaded with, by index", async () => {
    const ebs = factory.client(EBSClient, { region: "us-east-1" });
    const blocks: UploadBlock[] = [
      { index: 3, data: blockBytes(3, 512) },
      {
        index: 8,
        data: blockBytes(8, 512),
        claimedChecksum: createHash("sha256").update("something else").digest("base64"),
      },
    ];
    const snapshotId = await uploadSnapshot(ebs, 1, blocks);
    let error: Error | undefined;
    try {
      await hashSnapshot({ ebs, snapshotId, checksumRetries: 2 });
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.match(
      new RegExp(
        `^block 8 of ${snapshotId} failed verification 3 times: data hashes to .* but the service returned checksum`,
      ),
    );
  });
});
