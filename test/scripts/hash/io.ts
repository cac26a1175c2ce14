/** An {@link Io} that collects what a command prints, for the hashing and custody command tests. */
import { Writable } from "node:stream";
import type { Io } from "../../../scripts/output";

/** Collected output. */
export interface CapturedIo extends Io {
  /** Everything written to stdout. */
  stdout(): string;
  /** Everything written to stderr. */
  stderr(): string;
}

/** A fresh capturing Io (not a terminal). */
export function captureIo(): CapturedIo {
  const chunks = { out: [] as string[], err: [] as string[] };
  const sink = (into: string[]) =>
    new Writable({
      write(chunk: Buffer | string, _enc, done) {
        into.push(chunk.toString());
        done();
      },
    });
  return {
    out: sink(chunks.out),
    err: sink(chunks.err),
    isTty: false,
    stdout: () => chunks.out.join(""),
    stderr: () => chunks.err.join(""),
  };
}
