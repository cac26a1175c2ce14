/**
 * Printing for people and for machines: `--json` prints exactly one JSON document on stdout; human output and
 * progress go to stderr when JSON is requested, so stdout stays parseable.
 */

/** Where a command writes; tests pass buffers. */
export interface Io {
  /** Standard output (results). */
  readonly out: NodeJS.WritableStream;
  /** Standard error (progress, notes). */
  readonly err: NodeJS.WritableStream;
  /** Whether stderr is a terminal (progress bars instead of plain lines). */
  readonly isTty: boolean;
}

/** The process's own streams. */
export function processIo(): Io {
  return { out: process.stdout, err: process.stderr, isTty: Boolean(process.stderr.isTTY) };
}

/** Writes one JSON document. */
export function printJson(io: Io, value: unknown): void {
  io.out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes a line for people. */
export function printLine(io: Io, line: string): void {
  io.out.write(`${line}\n`);
}

/** Writes a note (progress, hints) to stderr. */
export function note(io: Io, line: string): void {
  io.err.write(`${line}\n`);
}
