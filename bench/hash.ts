/**
 * Benchmark: whole-file SHA-256 plus the 512 KiB block manifest (`flz hash --manifest`) against `openssl dgst -sha256`
 * (the practical limit: OpenSSL with the CPU's SHA instructions) and `sha256sum`, on the same file from the page
 * cache, in the same run. Prints throughput and ratios against openssl; rounds are interleaved and the best of each
 * is kept, so a noisy neighbour hurts every tool alike. Targets (issue 16): the engine's whole digest + manifest
 * ≥ 0.95 × openssl, whole digest only ≥ 0.98 × openssl. The manifest needs a second core (its block digests run on a
 * worker thread): the run prints how much parallel SHA-256 capacity the machine gave and its load average.
 *
 * Fairness: every tool reads the same file, written once and read through once before the first round (so all of
 * them read it from the page cache), in the same run, rounds interleaved, best of each kept. openssl and sha256sum
 * run as child processes (their start-up, a few ms, is in their time); the engine runs in this process. Each line
 * also prints the CPU time used (user + system, all threads; for the children through bash's `time`), which a busy
 * machine inflates much less than wall time: whole only should use about openssl's CPU, whole + manifest about twice
 * it (two SHA-256 streams over every byte: the file digest, compatible with sha256sum, and each block's), spread over
 * two threads, so it reaches openssl's wall time only when a second core is free. The run measures how much parallel
 * SHA-256 capacity it was given and prints the best whole + manifest ratio that capacity allows.
 *
 * Usage: npx ts-node --transpile-only bench/hash.ts [GiB, default 2] [rounds, default 3]
 * (prefix with `nice -n 19` on a shared machine: every tool then runs at the same low priority)
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { cpus, getPriority, loadavg, tmpdir } from "node:os";
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
const WITH_MANIFEST = "flz hashing engine (whole + manifest, in-process)";
const WHOLE_ONLY = "flz hashing engine (whole only)";

interface Timing<T> {
  readonly seconds: number;
  readonly cpu: number;
  readonly value: T;
}

/** A child process's wall time, CPU time (bash's `time`: user + system of the child) and first output word. */
function timedChild(command: string, args: string[]): Timing<string> {
  const start = process.hrtime.bigint();
  const quoted = [command, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const out = execFileSync("bash", ["-c", `TIMEFORMAT='%U %S'; { time ${quoted} ; } 2>&1`]).toString();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const lines = out.trim().split("\n");
  const [user, system] = (lines.at(-1) ?? "0 0").split(" ").map(Number);
  return { seconds, cpu: user + system, value: lines.find((l) => /^[0-9a-f]{64}/.test(l))?.split(" ")[0] ?? "" };
}

/** CPU seconds of this process's main thread (Linux /proc; NaN elsewhere), to split the engine's CPU by thread. */
function mainThreadCpu(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return NaN;
  }
}

/** This process's wall and CPU time (every thread, workers included, and the main thread's share) for `fn`. */
async function timedHere<T>(fn: () => Promise<T>): Promise<Timing<T> & { readonly mainCpu: number }> {
  const cpu = process.cpuUsage();
  const main = mainThreadCpu();
  const start = process.hrtime.bigint();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { seconds, cpu: (used.user + used.system) / 1e6, mainCpu: mainThreadCpu() - main, value };
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
    // Written back before the first round: until then the kernel's flusher threads write the file's dirty pages out
    // during the rounds, on the same two cores.
    fsyncSync(fd);
    closeSync(fd);
    execFileSync("cat", [file], { stdio: ["ignore", "ignore", "inherit"] }); // warm the page cache

    const flzBin = path.join(__dirname, "..", "bin", "flz");
    const best: Record<string, number> = {};
    const bestCpu: Record<string, number> = {};
    const digests = new Set<string>();
    const keep = (name: string, t: Timing<string>) => {
      best[name] = Math.min(best[name] ?? Infinity, t.seconds);
      bestCpu[name] = Math.min(bestCpu[name] ?? Infinity, t.cpu);
      digests.add(t.value);
    };
    let capacity = 0;
    let split = { main: Infinity, worker: Infinity }; // CPU by thread of the best whole + manifest run (by CPU)
    const paired: number[] = []; // per round: openssl's wall time over the engine's (whole + manifest), same minute
    for (let round = 0; round < rounds; round++) {
      // How many cores' worth of SHA-256 this machine gives us right now (2.0 on two idle cores).
      capacity = Math.max(capacity, (2 * (await shaJobs(1))) / (await shaJobs(2)));
      const reference = timedChild("openssl", ["dgst", "-sha256", "-r", file]);
      keep("openssl dgst -sha256", reference);
      const engine = await timedHere(() => hashFile(file, { manifest: true, onBlock: () => undefined }));
      keep(WITH_MANIFEST, { ...engine, value: engine.value.sha256 });
      paired.push(reference.seconds / engine.seconds);
      if (engine.cpu <= split.main + split.worker)
        split = { main: engine.mainCpu, worker: engine.cpu - engine.mainCpu };
      keep("flz hash --manifest (CLI, incl. start-up)", timedChild(flzBin, ["hash", "--manifest", manifest, file]));
      const plain = await timedHere(() => hashFile(file));
      keep(WHOLE_ONLY, { ...plain, value: plain.value.sha256 });
      keep("sha256sum", timedChild("sha256sum", [file]));
    }
    if (digests.size !== 1) throw new Error(`tools disagree on the digest: ${[...digests].join(", ")}`);
    const startup = timedChild(flzBin, ["--version"]);
    const reference = best["openssl dgst -sha256"];
    console.log(
      `file ${gib} GiB from the page cache, best of ${rounds} interleaved rounds, ${cpus().length} CPUs, nice ${getPriority()}`,
    );
    console.log(`digest ${[...digests][0]} (all tools agree)`);
    console.log(`${"".padEnd(52)}   wall      throughput  ratio          CPU (user+sys)`);
    for (const [name, seconds] of Object.entries(best)) {
      console.log(
        `${name.padEnd(52)} ${seconds.toFixed(2).padStart(6)} s  ${(bytes / seconds / 1e9).toFixed(2).padStart(5)} GB/s  ${(reference / seconds).toFixed(2)}x openssl  ${bestCpu[name].toFixed(2).padStart(6)} s`,
      );
    }
    console.log(`flz CLI start-up (flz --version): ${startup.seconds.toFixed(2)} s`);
    console.log(
      `whole + manifest CPU by thread: main ${split.main.toFixed(2)} s (whole digest, even chunks read), others ${split.worker.toFixed(2)} s (the worker: block digests, odd chunks read; and V8's helper threads, about 0.1 s); balanced, the wall time is about the larger one`,
    );
    console.log(
      `parallel SHA-256 capacity during the run: ${capacity.toFixed(2)} cores (two concurrent hashes vs one; 2.00 when both cores are ours)`,
    );
    const ratio = (name: string) => reference / best[name];
    // Best-of-N per tool takes each tool's luckiest minute: for one thread that is a quiet core, for the engine's two
    // threads both cores quiet at once, which a shared machine gives more rarely. The ratio within each round (the two
    // runs back to back) is printed beside it, to tell the engine's speed from that luck; the verdict stays best-of.
    const sorted = [...paired].sort((a, b) => a - b);
    console.log(
      `whole + manifest, openssl's time over the engine's within each round: ${paired.map((r) => r.toFixed(2)).join(", ")} (median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)}x)`,
    );
    // Two SHA-256 streams at the whole-only speed, on the capacity measured: what this machine allowed this run.
    const bound = ratio(WHOLE_ONLY) * Math.min(1, capacity / 2);
    console.log(
      `with ${capacity.toFixed(2)} cores of parallel SHA-256 during the run, two streams at the whole-only speed allow about ${bound.toFixed(2)}x openssl for whole + manifest`,
    );
    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(", ");
    console.log(`load average (1, 5, 15 min) at the end: ${load}`);
    const verdict = (value: number, target: number) =>
      `${value.toFixed(2)}x openssl (target >= ${target}: ${value >= target ? "met" : "NOT met"})`;
    console.log(
      `RESULT whole + manifest: ${verdict(ratio(WITH_MANIFEST), 0.95)}; whole only: ${verdict(ratio(WHOLE_ONLY), 0.98)}; load ${load}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
