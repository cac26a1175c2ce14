/**
 * Runs `bin/flz` as a separate process behind a {@link FaultProxy}, so the proxy's `kill` fault can SIGKILL it at a
 * chosen AWS operation, as a crash would. Each process gets its own app ID (`AWS_SDK_UA_APP_ID`, which the SDK puts in
 * its user agent) so rules can target one of several concurrent processes, and a hard time budget: a process still
 * running at its budget is killed and reported as over budget (no command may hang).
 *
 * ```ts
 * await ensureCompiledCli();                       // bin/flz runs dist/ when it is fresh (starts in about a second)
 * const proxy = await startFaultProxy(emulator.endpoint());
 * proxy.add({ operation: "ec2:CopySnapshot", when: "after", fault: "kill" });
 * const first = await runFlzProcess(["capture", ...], { proxy, landingZone: file });   // first.killed === true
 * const rerun = await runFlzProcess(["capture", ...], { proxy, landingZone: file });   // rerun.code === 0
 * ```
 */
import { execFile, spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import type { FaultProxy } from "./fault-proxy";

const ROOT = path.join(__dirname, "..", "..");

/** What a process did. */
export interface FlzRun {
  /** The arguments it ran with. */
  readonly args: readonly string[];
  /** Its app ID. */
  readonly app: string;
  /** Exit code (null when killed by a signal). */
  readonly code: number | null;
  /** The signal that ended it, if any. */
  readonly signal: NodeJS.Signals | null;
  /** What it printed. */
  readonly stdout: string;
  /** What it printed on stderr. */
  readonly stderr: string;
  /** Wall time, ms. */
  readonly ms: number;
  /** Whether the proxy's `kill` fault ended it. */
  readonly killed: boolean;
  /** Whether it was still running at its budget (and was killed for it). */
  readonly overBudget: boolean;
}

/** Options of {@link spawnFlz}. */
export interface SpawnOptions {
  /** The proxy the process talks through (its `kill` fault reaches the process). */
  readonly proxy: FaultProxy;
  /** Landing-zone contract file (`FLZ_LANDING_ZONE`). */
  readonly landingZone?: string;
  /** App ID. Default: a fresh `flz-<n>`. */
  readonly app?: string;
  /** Wall-time budget, ms; the process is killed past it. Default 120 000. */
  readonly budgetMs?: number;
  /** Time bounds of its AWS calls (`FLZ_AWS_TIMEOUTS`). Default: 5 s per attempt, 1 s to connect. */
  readonly timeouts?: string;
  /** More environment. */
  readonly env?: Record<string, string>;
}

let counter = 0;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith(".ts") || entry.name.endsWith(".py"))
      newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Makes sure `bin/flz` runs the compiled CLI (as it does after `npm ci`), building `dist/` once when the sources are
 * newer: through ts-node every process would spend seconds compiling before its first AWS call.
 */
export async function ensureCompiledCli(): Promise<void> {
  let built = 0;
  try {
    built = statSync(path.join(ROOT, "dist", "scripts", "cli.js")).mtimeMs;
  } catch {
    built = 0;
  }
  const newest = Math.max(
    newestSource(path.join(ROOT, "scripts")),
    newestSource(path.join(ROOT, "components", "documents")),
  );
  if (built >= newest) return;
  await new Promise<void>((resolve, reject) =>
    execFile("npm", ["run", "build"], { cwd: ROOT, timeout: 300_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`npm run build failed: ${stderr || err.message}`)) : resolve(),
    ),
  );
}

/** Starts `node bin/flz <args>` behind the proxy. */
export function spawnFlz(
  args: readonly string[],
  options: SpawnOptions,
): { app: string; pid: number; done: Promise<FlzRun> } {
  const app = options.app ?? `flz-${++counter}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ENDPOINT_URL: options.proxy.url,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: process.env.AWS_REGION ?? "us-east-1",
    AWS_SDK_UA_APP_ID: app,
    FLZ_AWS_TIMEOUTS: options.timeouts ?? "all=5000,connect=1000,idle=5000",
    ...(options.landingZone ? { FLZ_LANDING_ZONE: options.landingZone } : {}),
    ...options.env,
  };
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  const started = Date.now();
  const child = spawn(process.execPath, [path.join(ROOT, "bin", "flz"), ...args], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let killed = false;
  let overBudget = false;
  options.proxy.processes.set(app, {
    kill(signal) {
      killed = true;
      return child.kill(signal);
    },
  });
  const budget = setTimeout(() => {
    overBudget = true;
    child.kill("SIGKILL");
  }, options.budgetMs ?? 120_000);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<FlzRun>((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(budget);
      options.proxy.processes.delete(app);
      resolve({ args, app, code, signal, stdout, stderr, ms: Date.now() - started, killed, overBudget });
    });
  });
  return { app, pid: child.pid ?? -1, done };
}

/** Runs `node bin/flz <args>` behind the proxy to its end. */
export function runFlzProcess(args: readonly string[], options: SpawnOptions): Promise<FlzRun> {
  return spawnFlz(args, options).done;
}
