// Behaviour the emulator cannot show (it lists every block in one page, never throttles, never returns corrupt data
// once and then good data): the real calls are exercised against aws-sdk-client-mock.
import { expect } from "chai";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { mockClient, type AwsStub } from "aws-sdk-client-mock";
import {
  EBSClient,
  GetSnapshotBlockCommand,
  ListSnapshotBlocksCommand,
  type EBSClientResolvedConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from "@aws-sdk/client-ebs";
import { backoffMs, hashSnapshot } from "../../../scripts/hash/snapshot";
import { blockBytes } from "./ebs-fixtures";

const BLOCK = 512 * 1024;
const GIB_BLOCKS = 2 ** 30 / BLOCK;

function imageDigest(written: Map<number, Buffer>): string {
  const h = createHash("sha256");
  const zero = Buffer.alloc(BLOCK);
  for (let i = 0; i < GIB_BLOCKS; i++) h.update(written.get(i) ?? zero);
  return h.digest("hex");
}

function blockResponse(data: Buffer, checksumOf: Buffer = data) {
  return {
    BlockData: { transformToByteArray: async () => new Uint8Array(data) } as never,
    DataLength: data.length,
    Checksum: createHash("sha256").update(checksumOf).digest("base64"),
    ChecksumAlgorithm: "SHA256" as const,
  };
}

/** An answer whose body is a Node stream, as a real (passed-through) GetSnapshotBlock answer is. */
function streamedResponse(body: Readable, checksumOf: Buffer, dataLength = BLOCK) {
  return {
    BlockData: body as never,
    DataLength: dataLength,
    Checksum: createHash("sha256").update(checksumOf).digest("base64"),
    ChecksumAlgorithm: "SHA256" as const,
  };
}

/** `data` in 64 KiB chunks, as a socket delivers it. */
function chunked(data: Buffer): Readable {
  return Readable.from(
    Array.from({ length: Math.ceil(data.length / 65536) }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536)),
  );
}

describe("snapshot hashing: paging, throttling, refetching and the reorder window (mocked EBS)", () => {
  // Created in before(), not at load time: a client mock replaces EBSClient's send for the whole process, and the
  // suites that talk to the emulator must keep the real one.
  let mock: AwsStub<ServiceInputTypes, ServiceOutputTypes, EBSClientResolvedConfig>;
  const ebs = new EBSClient({ region: "us-east-1" });
  before(() => {
    mock = mockClient(EBSClient);
  });
  afterEach(() => mock.reset());
  after(() => mock.restore());

  function serve(written: Map<number, Buffer>): void {
    mock
      .on(GetSnapshotBlockCommand)
      .callsFake((input: { BlockIndex: number }) => blockResponse(written.get(input.BlockIndex) ?? Buffer.alloc(0)));
  }

  it("pages the listing to the end, through an empty page that still carries a token", async () => {
    const written = new Map([0, 5, 6, 2047].map((i) => [i, blockBytes(i, BLOCK)]));
    const page = (indices: number[], NextToken?: string) => ({
      Blocks: indices.map((BlockIndex) => ({ BlockIndex, BlockToken: `tok-${BlockIndex}` })),
      BlockSize: BLOCK,
      VolumeSize: 1,
      NextToken,
    });
    mock.on(ListSnapshotBlocksCommand).resolves(page([0, 5], "a"));
    mock.on(ListSnapshotBlocksCommand, { NextToken: "a" }).resolves(page([], "b"));
    mock.on(ListSnapshotBlocksCommand, { NextToken: "b" }).resolves(page([6], "c"));
    mock.on(ListSnapshotBlocksCommand, { NextToken: "c" }).resolves(page([2047]));
    serve(written);
    const digest = await hashSnapshot({ ebs, snapshotId: "snap-0123", concurrency: 2 });
    expect(mock.commandCalls(ListSnapshotBlocksCommand).map((c) => c.args[0].input.NextToken)).to.deep.equal([
      undefined,
      "a",
      "b",
      "c",
    ]);
    expect(digest.writtenBlocks).to.equal(4);
    expect(digest.imageSha256).to.equal(imageDigest(written));
    const tokens = mock.commandCalls(GetSnapshotBlockCommand).map((c) => c.args[0].input.BlockToken);
    expect(tokens.sort()).to.deep.equal(["tok-0", "tok-2047", "tok-5", "tok-6"]);
  });

  it("backs off and retries throttled requests, then succeeds", async () => {
    const written = new Map([[1, blockBytes(1, BLOCK)]]);
    mock
      .on(ListSnapshotBlocksCommand)
      .resolves({ Blocks: [{ BlockIndex: 1, BlockToken: "t" }], BlockSize: BLOCK, VolumeSize: 1 });
    const throttle = Object.assign(new Error("slow down"), { name: "ConcurrentLimitExceededException" });
    const throttle2 = Object.assign(new Error("slow down"), { name: "RequestThrottledException" });
    mock
      .on(GetSnapshotBlockCommand)
      .rejectsOnce(throttle)
      .rejectsOnce(throttle2)
      .resolves(blockResponse(written.get(1) as Buffer));
    const waits: number[] = [];
    const digest = await hashSnapshot({
      ebs,
      snapshotId: "snap-1",
      sleep: async (ms) => void waits.push(ms),
      backoffBaseMs: 50,
    });
    expect(digest.throttled).to.equal(2);
    expect(waits).to.have.length(2);
    expect(digest.imageSha256).to.equal(imageDigest(written));
  });

  it("gives up on throttling after the configured retries, with the service's error", async () => {
    mock
      .on(ListSnapshotBlocksCommand)
      .resolves({ Blocks: [{ BlockIndex: 1, BlockToken: "t" }], BlockSize: BLOCK, VolumeSize: 1 });
    mock
      .on(GetSnapshotBlockCommand)
      .rejects(Object.assign(new Error("slow down"), { name: "RequestThrottledException" }));
    let error: Error | undefined;
    try {
      await hashSnapshot({ ebs, snapshotId: "snap-1", sleep: async () => undefined, throttleRetries: 3 });
    } catch (err) {
      error = err as Error;
    }
    expect(error?.name).to.equal("RequestThrottledException");
    expect(mock.commandCalls(GetSnapshotBlockCommand)).to.have.length(4);
  });

  it("refetches a block whose data did not match its checksum, and counts the recovery", async () => {
    const good = blockBytes(2, BLOCK);
    const corrupt = Buffer.from(good);
    corrupt[1000] ^= 0xff;
    mock
      .on(ListSnapshotBlocksCommand)
      .resolves({ Blocks: [{ BlockIndex: 2, BlockToken: "t" }], BlockSize: BLOCK, VolumeSize: 1 });
    mock.on(GetSnapshotBlockCommand).resolvesOnce(blockResponse(corrupt, good)).resolves(blockResponse(good));
    const digest = await hashSnapshot({ ebs, snapshotId: "snap-2" });
    expect(digest.checksumRetries).to.equal(1);
    expect(digest.imageSha256).to.equal(imageDigest(new Map([[2, good]])));
  });

  it("keeps fetches within the reorder window while blocks complete out of order", async () => {
    const indices = Array.from({ length: 40 }, (_, i) => i * 3);
    const written = new Map(indices.map((i) => [i, blockBytes(i, BLOCK)]));
    mock.on(ListSnapshotBlocksCommand).resolves({
      Blocks: indices.map((BlockIndex) => ({ BlockIndex, BlockToken: "t" })),
      BlockSize: BLOCK,
      VolumeSize: 1,
    });
    let inFlight = 0;
    let maxInFlight = 0;
    let consumed = 0;
    let maxAhead = 0;
    mock.on(GetSnapshotBlockCommand).callsFake(async (input: { BlockIndex: number }) => {
      const position = input.BlockIndex / 3;
      maxAhead = Math.max(maxAhead, position - consumed);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // early positions are slowest, so later blocks finish first
      await new Promise((r) => setTimeout(r, position % 8 === 0 ? 30 : 1));
      inFlight--;
      return blockResponse(written.get(input.BlockIndex) as Buffer);
    });
    const digest = await hashSnapshot({
      ebs,
      snapshotId: "snap-3",
      concurrency: 4,
      window: 8,
      onProgress: (n) => (consumed = n),
    });
    expect(digest.imageSha256).to.equal(imageDigest(written));
    expect(maxInFlight).to.equal(4);
    expect(maxAhead).to.be.at.most(7);
    expect(maxAhead).to.be.at.least(4);
  });

  it("sends no request for the blocks still queued when a block fails", async () => {
    // One request at a time, a window of 6: five blocks queue for the request the first one holds. Its answer names an
    // algorithm that cannot be verified, which fails the hash at once; the queued five must not be fetched after it.
    mock.on(ListSnapshotBlocksCommand).resolves({
      Blocks: Array.from({ length: 6 }, (_, BlockIndex) => ({ BlockIndex, BlockToken: "t" })),
      BlockSize: BLOCK,
      VolumeSize: 1,
    });
    const fetched: number[] = [];
    mock.on(GetSnapshotBlockCommand).callsFake(async (input: { BlockIndex: number }) => {
      fetched.push(input.BlockIndex);
      await new Promise((r) => setTimeout(r, 5));
      return { ...blockResponse(blockBytes(input.BlockIndex, BLOCK)), ChecksumAlgorithm: "SHA1" };
    });
    let error: Error | undefined;
    try {
      await hashSnapshot({ ebs, snapshotId: "snap-queued", concurrency: 1, window: 6 });
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.match(/^block 0 of snap-queued came with a SHA1 checksum/);
    expect(fetched).to.deep.equal([0]);
  });

  it("refuses a listing whose indices do not ascend across pages", async () => {
    mock
      .on(ListSnapshotBlocksCommand)
      .resolvesOnce({ Blocks: [{ BlockIndex: 9, BlockToken: "t" }], BlockSize: BLOCK, VolumeSize: 1, NextToken: "n" });
    mock
      .on(ListSnapshotBlocksCommand, { NextToken: "n" })
      .resolves({ Blocks: [{ BlockIndex: 4, BlockToken: "t" }], BlockSize: BLOCK, VolumeSize: 1 });
    mock
      .on(GetSnapshotBlockCommand)
      .callsFake((input: { BlockIndex: number }) => blockResponse(blockBytes(input.BlockIndex, BLOCK)));
    let error: Error | undefined;
    try {
      await hashSnapshot({ ebs, snapshotId: "snap-4" });
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.contain("listed block 4 after block 9");
  });

  describe("a block's body streamed straight into its pool slot", () => {
    const good = blockBytes(7, BLOCK);
    const listOne = () =>
      mock
        .on(ListSnapshotBlocksCommand)
        .resolves({ Blocks: [{ BlockIndex: 7, BlockToken: "t" }], BlockSize: BLOCK, VolumeSize: 1 });
    const expected = () => imageDigest(new Map([[7, good]]));

    it("retries a body that ends before its announced length, with its request", async () => {
      listOne();
      mock
        .on(GetSnapshotBlockCommand)
        .resolvesOnce(streamedResponse(chunked(good.subarray(0, 3 * 65536 + 100)), good))
        .callsFake(() => streamedResponse(chunked(good), good));
      const digest = await hashSnapshot({ ebs, snapshotId: "snap-short", sleep: async () => undefined });
      expect(digest.faultsRetried).to.equal(1);
      expect(digest.checksumRetries).to.equal(0);
      expect(digest.imageSha256).to.equal(expected());
      expect(mock.commandCalls(GetSnapshotBlockCommand)).to.have.length(2);
    });

    it("retries a body that stalled and was destroyed at the attempt's deadline", async () => {
      listOne();
      const stalled = new Readable({ read() {} });
      stalled.push(good.subarray(0, 65536));
      // What TimedHttpHandler does to a body that has not ended by the attempt's deadline.
      setTimeout(
        () => stalled.destroy(Object.assign(new Error("the answer's body did not arrive"), { name: "TimeoutError" })),
        10,
      );
      mock
        .on(GetSnapshotBlockCommand)
        .resolvesOnce(streamedResponse(stalled, good))
        .callsFake(() => streamedResponse(chunked(good), good));
      const digest = await hashSnapshot({ ebs, snapshotId: "snap-stall", sleep: async () => undefined });
      expect(digest.faultsRetried).to.equal(1);
      expect(digest.imageSha256).to.equal(expected());
    });

    it("refetches a streamed block whose bytes do not match the checksum, and never hashes the bad bytes", async () => {
      listOne();
      const corrupt = Buffer.from(good);
      corrupt[BLOCK - 1] ^= 0x01;
      mock
        .on(GetSnapshotBlockCommand)
        .resolvesOnce(streamedResponse(chunked(corrupt), good))
        .callsFake(() => streamedResponse(chunked(good), good));
      const digest = await hashSnapshot({ ebs, snapshotId: "snap-bad", sleep: async () => undefined });
      expect(digest.checksumRetries).to.equal(1);
      expect(digest.imageSha256).to.equal(expected());
    });

    it("refuses a block whose streamed checksum never matches, naming the block", async () => {
      listOne();
      const corrupt = Buffer.from(good);
      corrupt[0] ^= 0x80;
      mock.on(GetSnapshotBlockCommand).callsFake(() => streamedResponse(chunked(corrupt), good));
      let error: Error | undefined;
      try {
        await hashSnapshot({ ebs, snapshotId: "snap-never", sleep: async () => undefined, checksumRetries: 2 });
      } catch (err) {
        error = err as Error;
      }
      expect(error?.message).to.contain("block 7 of snap-never failed verification 3 times");
      expect(mock.commandCalls(GetSnapshotBlockCommand)).to.have.length(3);
    });

    it("refuses a body longer than a block without writing past its slot", async () => {
      const next = blockBytes(8, BLOCK);
      mock.on(ListSnapshotBlocksCommand).resolves({
        Blocks: [7, 8].map((BlockIndex) => ({ BlockIndex, BlockToken: "t" })),
        BlockSize: BLOCK,
        VolumeSize: 1,
      });
      mock
        .on(GetSnapshotBlockCommand, { BlockIndex: 7 })
        .resolvesOnce(streamedResponse(chunked(Buffer.concat([good, Buffer.alloc(1)])), good, BLOCK + 1))
        .callsFake(() => streamedResponse(chunked(good), good));
      mock.on(GetSnapshotBlockCommand, { BlockIndex: 8 }).callsFake(() => streamedResponse(chunked(next), next));
      const digest = await hashSnapshot({ ebs, snapshotId: "snap-long", concurrency: 1, window: 2 });
      expect(digest.checksumRetries).to.equal(1);
      expect(digest.imageSha256).to.equal(
        imageDigest(
          new Map([
            [7, good],
            [8, next],
          ]),
        ),
      );
    });
  });

  it("spreads backoff with full jitter under a cap", () => {
    expect(backoffMs(0, 100, 5000, () => 0.999)).to.equal(99);
    expect(backoffMs(3, 100, 5000, () => 0.5)).to.equal(400);
    expect(backoffMs(20, 100, 5000, () => 0.999)).to.equal(4995);
  });
});
