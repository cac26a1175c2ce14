/**
 * Benchmark: whole-file SHA-256 plus the 512 KiB block manifest (`flz hash --manifest`) against `openssl dgst -sha256`
 * (the practical limit: OpenSSL with the CPU's SHA instructions) and `sha256sum`, on the same file from the page
 * cache, in the same run. Prints throughput and ratios against openssl; rounds are interleaved and the best of each
 * is kept, so a noisy neighbour hurts every tool alike. Targets (issue 16): the engine's whole digest + manifest
 * ≥ 0.95 × openssl, whole digest only ≥ 0.98 × openssl. The manifest needs a second core (its block digests run on a
 * worker thread): the run prints how much parallel SHA-256 capacity the machine gave and its load average.
 *
 * Usage: npx ts-node --transpile-only bench/hash.ts [GiB, default 2] [rounds, default 3]
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { hashFile } from "../scripts/hash/file";

const SHA_JOB = `
const { createHash } = require("node:crypto");
const block = Buffer.alloc(8 * 2 ** 20, 1);
const h = createHash("sha256");
for (let i = 0; i < 64; i++) h.update(block);
h.digest();
require("node:worker_threads").parentPort.postMessage(1);
`;

/** Seconds for `jobs` concurrent 512 MiB SHA-256 jobs on worker threads. */
function shaJobs(jobs: number): Promise<number> {
  const start = process.hrtime.bigint();
  return Promise.all(
    Array.from(
      { length: jobs },
      () => new Promise((resolve) => new Worker(SHA_JOB, { eval: true }).once("message", resolve)),
    ),
  ).then(() => Number(process.hrtime.bigint() - start) / 1e9);
}

const GIB = 2 ** 30;

function timed<T>(fn: () => T): { seconds: number; value: T } {
  const start = process.hrtime.bigint();
  const value = fn();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

async function timedAsync<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

async function main(): Promise<void> {
  const gib = Number(process.argv[2] ?? 2);
  const rounds = Number(process.argv[3] ?? 3);
  const dir = mkdtempSync(path.join(tmpdir(), "flz-bench-hash-"));
  const file = path.join(dir, "artefact.bin");
  const manifest = path.join(dir, "artefact.manifest.jsonl");
  const bytes = gib * GIB;
  try {
    // SHA-256 speed does not depend on the data; a repeated random pattern keeps set-up fast.
    const pattern = randomBytes(8 * 2 ** 20);
    const fd = openSync(file, "w");
    for (let written = 0; written < bytes; written += pattern.length)
      writeSync(fd, pattern, 0, Math.min(pattern.length, bytes - written));
    closeSync(fd);
    execFileSync("cat", [file], { stdio: ["ignore", "ignore", "inherit"] }); // warm the page cache

    const flzBin = path.join(__dirname, "..", "bin", "flz");
    const best: Record<string, number> = {};
    const digests = new Set<string>();
    const keep = (name: string, seconds: number, digest: string) => {
      best[name] = Math.min(best[name] ?? Infinity, seconds);
      digests.add(digest);
    };
    let capacity = 0;
    for (let round = 0; round < rounds; round++) {
      // How many cores' worth of SHA-256 this machine gives us right now (2.0 on two idle cores).
      capacity = Math.max(capacity, (2 * (await shaJobs(1))) / (await shaJobs(2)));
      const openssl = timed(() => execFileSync("openssl", ["dgst", "-sha256", "-r", file]).toString().split(" ")[0]);
      keep("openssl dgst -sha256", openssl.seconds, openssl.value);
      const engine = await timedAsync(() => hashFile(file, { manifest: true, onBlock: () => undefined }));
      keep("flz hashing engine (whole + manifest, in-process)", engine.seconds, engine.value.sha256);
      const cli = timed(() => execFileSync(flzBin, ["hash", "--manifest", manifest, file]).toString().split(" ")[0]);
      keep("flz hash --manifest (CLI, incl. start-up)", cli.seconds, cli.value);
      const plain = await timedAsync(() => hashFile(file));
      keep("flz hashing engine (whole only)", plain.seconds, plain.value.sha256);
      const sum = timed(() => execFileSync("sha256sum", [file]).toString().split(" ")[0]);
      keep("sha256sum", sum.seconds, sum.value);
    }
    if (digests.size !== 1) throw new Error(`tools disagree on the digest: ${[...digests].join(", ")}`);
    const startup = timed(() => execFileSync(flzBin, ["--version"]));
    const reference = best["openssl dgst -sha256"];
    console.log(`file ${gib} GiB from the page cache, best of ${rounds} interleaved rounds, ${cpus().length} CPUs`);
    console.log(`digest ${[...digests][0]} (all tools agree)`);
    for (const [name, seconds] of Object.entries(best)) {
      console.log(
        `${name.padEnd(52)} ${seconds.toFixed(2).padStart(6)} s  ${(bytes / seconds / 1e9).toFixed(2).padStart(5)} GB/s  ${(reference / seconds).toFixed(2)}x openssl`,
      );
    }
    console.log(`flz CLI start-up (flz --version): ${startup.seconds.toFixed(2)} s`);
    console.log(
      `parallel SHA-256 capacity during the run: ${capacity.toFixed(2)} cores (two concurrent hashes vs one; 2.00 when both cores are ours)`,
    );
    const ratio = (name: string) => reference / best[name];
    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(", ");
    console.log(`load average (1, 5, 15 min) at the end: ${load}`);
    console.log(
      `whole + manifest: ${ratio("flz hashing engine (whole + manifest, in-process)").toFixed(2)}x openssl (target >= 0.95); whole only: ${ratio("flz hashing engine (whole only)").toFixed(2)}x openssl (target >= 0.98)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
