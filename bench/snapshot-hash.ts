/**
 * Benchmark: EBS direct snapshot hashing throughput, as a share of the ideal, and peak RSS. Target (issue 16): ≥ 90 %
 * of ideal at concurrency 64 with AWS-sized (512 KiB) blocks, peak RSS ≤ 256 MiB.
 *
 * Two parts, each in a process of its own (so each peak RSS is its own):
 * 1. **AWS-sized** (the target; bench/support/snapshot-aws-sized.ts, on the compiled engine in dist/ as `flz` runs it):
 *    a 4 GiB snapshot, every block written, 512 KiB blocks, through a real EBS client of the flz client factory whose
 *    network is an in-process handler answering after the injected latency. Ideal = concurrency ÷ latency: with no
 *    transfer time and no service time in the fake, that is exactly what a client that costs nothing would reach.
 *    - **100 ms per request, c=64: the verdict.** 100 ms is what a GetSnapshotBlock request takes on AWS:
 *      AWS's own example reaches 1,000 requests/s with 100 connections at 100 ms (REFERENCE.md). Ideal at c=64: 640
 *      blocks/s = 320 MiB/s, two SHA-256 passes (each block's checksum verified, and the image digest).
 *    - **50 ms, c=64: a stress line, printed beside it.** Ideal 1,280 blocks/s = 640 MiB/s, which is more than AWS
 *      serves one account (about 1,000 GetSnapshotBlock requests/s), and 1.3 GB/s of SHA-256: on this 2-core machine
 *      (SHA-256 at 0.8-1.0 s/GiB per pass) the two passes alone need about one core, so this line is bound by CPU.
 *    The part prints the CPU it used, per thread, and the load average, to tell a slow client from a busy machine.
 * 2. **Emulator** (512-byte blocks, the emulator's own size): the real client against moto with injected latency, for
 *    c = 1, 8, 64. Here the ideal was wrong before: concurrency ÷ latency ignores that the emulator itself serves a
 *    bounded number of requests per second (its ceiling, measured first with no injected latency). No client can
 *    beat min(concurrency ÷ latency, ceiling), so that is the ideal these lines are measured against now.
 *
 * Usage: npx ts-node --transpile-only bench/snapshot-hash.ts [--aws-only] (the emulator part at 50 ms per request)
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import { EBSClient } from "@aws-sdk/client-ebs";
import { ClientFactory } from "../scripts/aws/clients";
import { startEmulator } from "../scripts/emulator";
import { hashSnapshot } from "../scripts/hash/snapshot";
import { blockBytes, uploadSnapshot } from "../test/scripts/hash/ebs-fixtures";

const peakRssMiB = (): number => process.resourceUsage().maxRSS / 1024;

function line(label: string, concurrency: number, ideal: number, blocks: number, blocksPerSecond: number): void {
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
    let ceiling = Infinity;
    const uploader = setup.client(EBSClient, { region: "us-east-1" });
    {
      const snapshotId = await uploadSnapshot(
        uploader,
        1,
        Array.from({ length: 2000 }, (_, index) => ({ index, data: blockBytes(index, 512) })),
      );
      const digest = await hashSnapshot({ ebs: uploader, snapshotId, concurrency: 64 });
      ceiling = digest.blocksPerSecond;
      console.log(`emulator ceiling (no injected latency, c=64): ${ceiling.toFixed(0)} blocks/s`);
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
      const ideal = Math.min((concurrency * 1000) / latencyMs, ceiling);
      line("emulator (512 B blocks)", concurrency, ideal, digest.writtenBlocks, digest.blocksPerSecond);
      factory.destroy();
    }
    setup.destroy();
  } finally {
    await emulator.stop();
  }
}

const ROOT = path.join(__dirname, "..");

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(full) : e.name.endsWith(".ts") ? statSync(full).mtimeMs : 0);
  }
  return t;
}

/**
 * The AWS-sized part as plain JavaScript next to the compiled engine: dist/ is rebuilt when older than the sources
 * (`npm run build`), and the part's own file is transpiled into dist/bench/support so its imports reach dist/scripts.
 */
function compiledAwsSizedPart(): string {
  const engine = path.join(ROOT, "dist", "scripts", "hash", "snapshot.js");
  const sources = Math.max(newest(path.join(ROOT, "scripts")), newest(path.join(ROOT, "components", "documents")));
  if (!existsSync(engine) || statSync(engine).mtimeMs < sources) {
    console.log("dist/ is older than the sources: npm run build");
    const built = spawnSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
    if (built.status !== 0) throw new Error("npm run build failed");
  }
  const source = path.join(__dirname, "support", "snapshot-aws-sized.ts");
  const out = path.join(ROOT, "dist", "bench", "support", "snapshot-aws-sized.js");
  mkdirSync(path.dirname(out), { recursive: true });
  const js = ts.transpileModule(readFileSync(source, "utf8"), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
  writeFileSync(out, js);
  return out;
}

/** One run of the AWS-sized part in its own process (its own peak RSS); its output, and whether it succeeded. */
function awsSizedRun(part: string, latencyMs: number, concurrencies: string): { out: string; ok: boolean } {
  const run = spawnSync(process.execPath, [part, String(latencyMs), concurrencies], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const out = run.stdout.toString();
  process.stdout.write(out);
  return { out, ok: run.status === 0 };
}

async function main(): Promise<void> {
  const emulatorLatencyMs = 50;
  console.log(
    "target: >= 90 % of ideal at c=64 with 512 KiB blocks at AWS's 100 ms per request, peak RSS <= 256 MiB (each run's own process)",
  );
  console.log(`load average (1, 5, 15 min) at the start: ${loadLine()}`);
  const part = compiledAwsSizedPart();
  console.log("AWS-sized, 100 ms per request (AWS's own example: 1,000 requests/s with 100 connections at 100 ms):");
  const verdict = awsSizedRun(part, 100, "64");
  console.log("AWS-sized, 50 ms per request (stress: more than AWS serves one account, bound by this machine's CPU):");
  const stress = awsSizedRun(part, 50, "64");
  if (!process.argv.includes("--aws-only")) await emulatorRuns(emulatorLatencyMs);
  console.log(`load average (1, 5, 15 min) at the end: ${loadLine()}`);
  const c64 = /c=64 .*? (\d+) % of ideal {2}peak RSS (\d+) MiB/;
  const at100 = c64.exec(verdict.out);
  const at50 = c64.exec(stress.out);
  if (at100) {
    console.log(
      `AWS-sized, c=64 at 100 ms: ${at100[1]} % of ideal (target >= 90), peak RSS ${at100[2]} MiB (target <= 256)` +
        (at50 ? `; at 50 ms: ${at50[1]} % of ideal, peak RSS ${at50[2]} MiB` : ""),
    );
  }
  if (!verdict.ok || !stress.ok) process.exitCode = 1;
}

function loadLine(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");
}

void main();
