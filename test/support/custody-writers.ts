/**
 * Runs several custody writers, each in its own process (custody-writer.ts), against one case, started together:
 * every writer loads and opens its ledger first, and all begin appending at the same moment. Used by the ledger
 * liveness test and by bench/custody-writers.ts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import type { WriterReport } from "./custody-writer";

/** Options of {@link runWriters}. */
export interface WritersOptions {
  /** The landing-zone contract file. */
  readonly landingZoneFile: string;
  /** Case ID (opened already). */
  readonly caseId: string;
  /** Number of writer processes. */
  readonly writers: number;
  /** Appends per writer. */
  readonly appends: number;
}

/** What the writers did. */
export interface WritersOutcome {
  /** Each writer's report. */
  readonly reports: WriterReport[];
  /** Milliseconds from `go` until the last writer finished. */
  readonly elapsedMs: number;
}

function lines(child: ChildProcess, onLine: (line: string) => void): void {
  let buffer = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    let at: number;
    while ((at = buffer.indexOf("\n")) >= 0) {
      onLine(buffer.slice(0, at));
      buffer = buffer.slice(at + 1);
    }
  });
}

/** Starts the writers, waits until each is ready, lets them all go at once, and collects their reports. */
export async function runWriters(options: WritersOptions): Promise<WritersOutcome> {
  const script = path.join(__dirname, "custody-writer.ts");
  const children: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  const done: Promise<WriterReport>[] = [];
  for (let w = 0; w < options.writers; w++) {
    const child = spawn(
      process.execPath,
      [
        "-r",
        "ts-node/register/transpile-only",
        script,
        options.landingZoneFile,
        options.caseId,
        String(w),
        String(options.appends),
      ],
      { stdio: ["pipe", "pipe", "pipe"], env: process.env },
    );
    children.push(child);
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
    let markReady: () => void = () => undefined;
    ready.push(new Promise<void>((resolve) => (markReady = resolve)));
    done.push(
      new Promise<WriterReport>((resolve, reject) => {
        lines(child, (line) => {
          if (line === "ready") markReady();
          else if (line.startsWith("{")) resolve(JSON.parse(line) as WriterReport);
        });
        child.once("exit", (code) =>
          code === 0 ? undefined : reject(new Error(`writer ${w} exited with ${code}: ${stderr.trim()}`)),
        );
      }),
    );
  }
  try {
    await Promise.race([Promise.all(ready), Promise.all(done)]);
    const started = performance.now();
    for (const child of children) child.stdin?.write("go\n");
    const reports = await Promise.all(done);
    return { reports, elapsedMs: performance.now() - started };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}
