/**
 * Per-snapshot progress for `flz capture`: bars on a terminal (cli-progress), plain lines otherwise (logs, CI,
 * `--json` runs, where stdout must stay one JSON document and progress goes to stderr).
 */
import { MultiBar, Presets, type SingleBar } from "cli-progress";

/** What a capture reports as it goes. */
export interface CaptureProgress {
  /** A volume's capture moved: the stage it is in and that stage's percentage (from the snapshot `Progress`). */
  update(volumeId: string, stage: string, percent: number): void;
  /** A line for the operator (a retry, a resumed snapshot). */
  note(line: string): void;
  /** The capture is over: release the terminal. */
  stop(): void;
}

/** Reports nothing (library use, benchmarks). */
export const silentProgress: CaptureProgress = { update() {}, note() {}, stop() {} };

/**
 * One line per stage change and per quarter of progress within a stage, so a log shows movement without a line
 * per poll.
 */
export function lineProgress(write: (line: string) => void): CaptureProgress {
  const last = new Map<string, { stage: string; quarter: number }>();
  return {
    update(volumeId, stage, percent) {
      const quarter = Math.floor(percent / 25);
      const before = last.get(volumeId);
      if (before && before.stage === stage && before.quarter === quarter) return;
      last.set(volumeId, { stage, quarter });
      write(`${volumeId}: ${stage} ${Math.round(percent)}%`);
    },
    note: write,
    stop() {},
  };
}

/** Progress bars, one per volume, on a terminal stream. */
export function barProgress(stream: NodeJS.WritableStream): CaptureProgress {
  const multibar = new MultiBar(
    {
      stream: stream as NodeJS.WritableStream & { isTTY?: boolean },
      format: "{volume} [{bar}] {percentage}% | {stage}",
      hideCursor: true,
      clearOnComplete: false,
      forceRedraw: true,
    },
    Presets.shades_classic,
  );
  const bars = new Map<string, SingleBar>();
  return {
    update(volumeId, stage, percent) {
      let bar = bars.get(volumeId);
      if (!bar) {
        bar = multibar.create(100, 0, { volume: volumeId, stage });
        bars.set(volumeId, bar);
      }
      bar.update(Math.round(percent), { volume: volumeId, stage });
    },
    note(line) {
      multibar.log(`${line}\n`);
    },
    stop() {
      multibar.stop();
    },
  };
}
