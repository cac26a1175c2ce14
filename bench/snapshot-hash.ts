/**
 * Benchmark: EBS direct snapshot hashing throughput against the emulator with injected per-request latency (AWS
 * answers in tens of milliseconds, the emulator in microseconds), for concurrency 1, 8 and 64. Prints achieved versus
 * ideal blocks/s (concurrency ÷ latency) and the process's peak RSS. Target (issue 16): ≥ 90 % of ideal at c=64 with 512 KiB
 * blocks, peak RSS ≤ 256 MiB.
 *
 * The emulator's blocks are 512 bytes, so a second part replays AWS-sized 512 KiB blocks (a 4 GiB snapshot, every
 * block written) from an in-process fake of the two EBS calls with the same latency, to show that memory stays bounded
 * by the reorder window, not by the snapshot size. (aws-sdk-client-mock is not used there: its sinon stubs keep every
 * response, so the benchmark would measure the mock's memory.) The emulator's own ceiling (no injected latency) is
 * printed too: achieved rates above it are impossible whatever the client does. Each part runs in its own process,
 * so the AWS-sized part's peak RSS is its own, not the emulator part's.
 *
 * Hashing a snapshot costs two SHA-256 passes per byte (each block's checksum is verified, and the image digest covers
 * every byte): at c=64 and 50 ms, ideal is 640 MiB/s, about 1.1 cores of SHA-256 alone. The run prints the CPU time it
 * used and the load average, so a shortfall on a shared machine can be told from a slow client.
 *
 * Usage: npx ts-node --transpile-only bench/snapshot-hash.ts [latency ms, default 50]
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { EBSClient, GetSnapshotBlockCommand, ListSnapshotBlocksCommand } from "@aws-sdk/client-ebs";
import { ClientFactory } from "../scripts/aws/clients";
import { startEmulator } from "../scripts/emulator";
import { hashSnapshot } from "../scripts/hash/snapshot";
import { blockBytes, uploadSnapshot } from "../test/scripts/hash/ebs-fixtures";

const peakRssMiB = (): number => process.resourceUsage().maxRSS / 1024;

function line(label: string, concurrency: number, latencyMs: number, blocks: number, blocksPerSecond: number): void {
  const ideal = (concurrency * 1000) / latencyMs;
  const share = (100 * blocksPerSecond) / ideal;
  console.log(
    `${label.padEnd(34)} c=${String(concurrency).padStart(2)}  ${String(blocks).padStart(5)} blocks  ${blocksPerSecond.toFixed(1).padStart(7)} blocks/s  ideal ${ideal.toFixed(0).padStart(5)}  ${share.toFixed(0).padStart(3)} % of ideal  peak RSS ${peakRssMiB().toFixed(0)} MiB`,
  );
}

async function emulatorRuns(latencyMs: number): Promise<void> {
  const emulator = await startEmulator();
  process.env.AWS_ENDPOINT_URL = emulator.endpoint;
  process.env.AWS_ACCESS_KEY_ID = "testing";
  process.env.AWS_SECRET_ACCESS_KEY = "testing";
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  try {
    const setup = new ClientFactory({});
    const uploader = setup.client(EBSClient, { region: "us-east-1" });
    {
      const snapshotId = await uploadSnapshot(
        uploader,
        1,
        Array.from({ length: 2000 }, (_, index) => ({ index, data: blockBytes(index, 512) })),
      );
      const digest = await hashSnapshot({ ebs: uploader, snapshotId, concurrency: 64 });
      console.log(`emulator ceiling (no injected latency, c=64): ${digest.blocksPerSecond.toFixed(0)} blocks/s`);
    }
    for (const concurrency of [1, 8, 64]) {
      // about four seconds of ideal work per run
      const blocks = Math.max(20, Math.round((4 * concurrency * 1000) / latencyMs));
      const snapshotId = await uploadSnapshot(
        uploader,
        1,
        Array.from({ length: blocks }, (_, index) => ({ index, data: blockBytes(index, 512) })),
      );
      const factory = new ClientFactory({ injectedLatencyMs: latencyMs });
      const ebs = factory.client(EBSClient, { region: "us-east-1" });
      const digest = await hashSnapshot({ ebs, snapshotId, concurrency });
      line("emulator (512 B blocks)", concurrency, latencyMs, digest.writtenBlocks, digest.blocksPerSecond);
      factory.destroy();
    }
    setup.destroy();
  } finally {
    await emulator.stop();
  }
}

async function awsSizedRuns(latencyMs: number): Promise<void> {
  const BLOCK = 512 * 1024;
  const volumeGiB = 4;
  const blocks = (volumeGiB * 2 ** 30) / BLOCK;
  const pattern = randomBytes(BLOCK);
  const checksum = createHash("sha256").update(pattern).digest("base64");
  const fake = {
    async send(command: unknown): Promise<unknown> {
      await new Promise((r) => setTimeout(r, latencyMs));
      if (command instanceof ListSnapshotBlocksCommand) {
        const start = Number(command.input.NextToken ?? 0);
        const end = Math.min(blocks, start + 10000);
        return {
          Blocks: Array.from({ length: end - start }, (_, i) => ({
            BlockIndex: start + i,
            BlockToken: `t${start + i}`,
          })),
          BlockSize: BLOCK,
          VolumeSize: volumeGiB,
          NextToken: end < blocks ? String(end) : undefined,
        };
      }
      if (command instanceof GetSnapshotBlockCommand) {
        const data = Buffer.from(pattern); // a fresh buffer per response, as the SDK would allocate
        return {
          BlockData: { transformToByteArray: async () => new Uint8Array(data.buffer, data.byteOffset, data.length) },
          DataLength: BLOCK,
          Checksum: checksum,
          ChecksumAlgorithm: "SHA256",
        };
      }
      throw new Error("unexpected command");
    },
  } as unknown as EBSClient;
  for (const concurrency of [8, 64]) {
    const cpu = process.cpuUsage();
    const digest = await hashSnapshot({ ebs: fake, snapshotId: "snap-0aws000000000000", concurrency });
    const used = process.cpuUsage(cpu);
    line(
      `fake AWS (512 KiB blocks, ${volumeGiB} GiB)`,
      concurrency,
      latencyMs,
      digest.writtenBlocks,
      digest.blocksPerSecond,
    );
    console.log(
      `${"".padEnd(34)} CPU ${((used.user + used.system) / 1e6).toFixed(1)} s for ${volumeGiB} GiB over ${digest.seconds.toFixed(1)} s wall (${((used.user + used.system) / 1e6 / digest.seconds).toFixed(2)} cores)`,
    );
  }
}

async function main(): Promise<void> {
  const latencyMs = Number(process.argv[2] ?? 50);
  console.log(
    `injected latency ${latencyMs} ms per request; ideal = concurrency / latency; target >= 90 % of ideal at c=64, peak RSS <= 256 MiB`,
  );
  if (process.argv[3] === "--aws-sized") {
    await awsSizedRuns(latencyMs);
    return;
  }
  await emulatorRuns(latencyMs);
  const child = spawnSync(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", __filename, String(latencyMs), "--aws-sized"],
    { stdio: "inherit" },
  );
  console.log(
    `load average (1, 5, 15 min) at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(", ")}`,
  );
  if (child.status !== 0) process.exitCode = 1;
}

void main();
