/**
 * Lifecycle of the AWS emulator (`moto_server`, moto 5.2.1) used by the tests, the benchmarks and `flz drill`:
 * start it on a free loopback port, reset it between tests, stop it. The emulator lives as long as its stdin pipe,
 * so a crashed parent never leaves a server behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import * as path from "node:path";
import { OperationError } from "../errors";

/** A running emulator. */
export interface Emulator {
  /** Base URL, e.g. `http://127.0.0.1:40123`; what `AWS_ENDPOINT_URL` should be set to. */
  readonly endpoint: string;
  /** Port it listens on. */
  readonly port: number;
  /** Clears all state (every account and region). */
  reset(): Promise<void>;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

/** Options of {@link startEmulator}. */
export interface EmulatorOptions {
  /** Python interpreter. Default `python3` (or `FLZ_PYTHON`). */
  readonly python?: string;
  /**
   * Milliseconds to wait for the server to answer. Default 120 000: moto's imports take seconds on an idle machine and
   * several times that on a loaded one (CI runners, shared machines), and one slow start fails every emulator suite.
   */
  readonly startTimeoutMs?: number;
}

/** Default time the emulator has to start. */
const START_TIMEOUT_MS = 120000;

/** Finds a free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * One line for an emulator that exited before it was ready: a missing module says what to install, instead of the
 * first line of a Python traceback ("Traceback (most recent call last):").
 */
export function emulatorExitLine(python: string, code: number | null, stderr: string): string {
  const missing = /ModuleNotFoundError: No module named '([^']+)'/.exec(stderr);
  if (missing)
    return `${python} has no ${missing[1]} module: the emulator needs moto 5.2.1: pip install 'moto[server]==5.2.1' for ${python} (or point FLZ_PYTHON at a Python that has it)`;
  const last =
    stderr
      .trim()
      .split("\n")
      .filter((l) => l.trim())
      .pop() ?? "no output";
  return `the emulator (${python}) exited with code ${code ?? "null"} before it was ready: ${last}`;
}

/** Starts `moto_server` on a free loopback port and resolves when it answers. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const port = await freePort();
  const python = options.python ?? process.env.FLZ_PYTHON ?? "python3";
  const script = path.join(__dirname, "moto_flz.py");
  // Never pass MOTO_ACCOUNT_ID: it would override the account of every request (REFERENCE.md).
  const env = { ...process.env };
  delete env.MOTO_ACCOUNT_ID;
  const child: ChildProcess = spawn(python, [script, "--port", String(port)], { stdio: ["pipe", "pipe", "pipe"], env });
  const endpoint = `http://127.0.0.1:${port}`;
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  await new Promise<void>((resolve, reject) => {
    // A missing interpreter is an 'error' event, not an exit: without this listener it is an uncaught stack trace.
    child.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new OperationError(
          err.code === "ENOENT"
            ? `${python} not found: the emulator needs Python 3 with moto 5.2.1: install python3, then pip install 'moto[server]==5.2.1' (or point FLZ_PYTHON at a Python that has it)`
            : `cannot start the emulator with ${python}: ${err.message}`,
        ),
      );
    });
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `emulator did not start on ${endpoint} within ${options.startTimeoutMs ?? START_TIMEOUT_MS} ms: ${stderr.trim()}`,
          ),
        ),
      options.startTimeoutMs ?? START_TIMEOUT_MS,
    );
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new OperationError(emulatorExitLine(python, code, stderr)));
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });

  return {
    endpoint,
    port,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
      if (!res.ok) throw new Error(`emulator reset failed: HTTP ${res.status}`);
    },
    async stop() {
      child.stdin?.end();
      // With the profiling switch on (FLZ_EMULATOR_PROFILE, see flz_profile.py) the server writes its report after it
      // stops, which takes a minute or more for thousands of requests: it gets three minutes before it is killed.
      const grace = env.FLZ_EMULATOR_PROFILE ? 180000 : 5000;
      const timer = setTimeout(() => child.kill("SIGKILL"), grace);
      await exited;
      clearTimeout(timer);
    },
  };
}
