/**
 * Progress of `flz assess` on stderr: a bar on a terminal (cli-progress), one line per unit otherwise (logs, CI),
 * so stdout stays the register (or one JSON document with --json).
 */
import { Presets, SingleBar } from "cli-progress";

/** What the assessment reports as it goes. */
export interface AssessProgress {
  /** The run starts: units in all, and how many were carried over from an interrupted run. */
  start(total: number, resumed: number): void;
  /** A unit finished (read, or not with the reason). */
  unitDone(label: string, error?: string): void;
  /** A line for the operator. */
  note(line: string): void;
  /** Release the terminal. */
  stop(): void;
}

/** Reports nothing (library use, benchmarks). */
export const silentAssessProgress: AssessProgress = { start() {}, unitDone() {}, note() {}, stop() {} };

/** One line per unit. */
export function lineAssessProgress(write: (line: string) => void): AssessProgress {
  let done = 0;
  let total = 0;
  return {
    start(t, resumed) {
      total = t;
      done = resumed;
      write(`assess: ${t} units${resumed ? `, ${resumed} already read (resuming)` : ""}`);
    },
    unitDone(label, error) {
      done += 1;
      write(`assess: [${done}/${total}] ${label}${error ? ` NOT READ: ${error}` : ""}`);
    },
    note: write,
    stop() {},
  };
}

/** A progress bar on a terminal stream; unreadable units are logged above it. */
export function barAssessProgress(stream: NodeJS.WritableStream): AssessProgress {
  const bar = new SingleBar(
    {
      stream: stream as NodeJS.WritableStream & { isTTY?: boolean },
      format: "assess [{bar}] {value}/{total} units | {label}",
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  );
  return {
    start(total, resumed) {
      bar.start(total, resumed, { label: resumed ? `resumed ${resumed}` : "" });
    },
    unitDone(label, error) {
      if (error) stream.write(`\nNOT READ ${label}: ${error}\n`);
      bar.increment(1, { label });
    },
    note(line) {
      stream.write(`\n${line}\n`);
    },
    stop() {
      bar.stop();
    },
  };
}
