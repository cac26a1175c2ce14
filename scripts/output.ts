/**
 * Printing for people and for machines: `--json` prints exactly one JSON document on stdout; human output and
 * progress go to stderr when JSON is requested, so stdout stays parseable. Also the two edges every command shares
 * with the terminal and the disk: a reader that closes the pipe early, and output folders given on the command line.
 */
import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileSystemErrorLine, UsageError } from "./errors";

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

const quietStreams = new WeakSet<NodeJS.WritableStream>();

/**
 * Makes a closed pipe (`flz custody show | head -1`) end the output quietly instead of with an EPIPE stack trace.
 * The command itself is not cut short: a command that is changing AWS or appending custody records finishes its work
 * and records it, whatever happened to the reader of its output; only what it would still print is dropped.
 */
export function quietOnClosedPipe(...streams: NodeJS.WritableStream[]): void {
  for (const stream of streams) {
    if (quietStreams.has(stream)) continue;
    quietStreams.add(stream);
    // Any error on an output stream means nothing more can be shown there; the exit code still tells the caller.
    stream.on("error", () => undefined);
  }
}

/**
 * Makes sure `dir` is a folder this process can write to, creating it (not its parents) when missing, before any
 * work that would be lost if the results could not be written. A typo in a parent is refused rather than created.
 * Throws a {@link UsageError} of one line naming the folder, the flag and what would fix it.
 *
 * @param dir the folder from the command line.
 * @param flag the flag that named it, for the message (e.g. `--out`).
 */
export function prepareOutputFolder(dir: string, flag: string): string {
  const folder = path.resolve(dir);
  const refuse = (why: string): never => {
    throw new UsageError(`${flag} ${dir}: ${why}`);
  };
  let isDirectory: boolean | undefined;
  try {
    isDirectory = statSync(folder).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") refuse(fileSystemErrorLine(err) ?? String(err));
  }
  if (isDirectory === false) refuse("is a file, not a folder: give a folder (it is created if missing)");
  if (isDirectory === undefined) {
    const parent = path.dirname(folder);
    let parentIsDirectory = false;
    try {
      parentIsDirectory = statSync(parent).isDirectory();
    } catch {
      // reported below
    }
    if (!parentIsDirectory) refuse(`the folder it would go in, ${parent}, does not exist: create it first`);
    // Never `recursive: true`: Node's recursive mkdir loops forever under /proc, and a missing parent is a typo.
    try {
      mkdirSync(folder);
    } catch (err) {
      refuse(fileSystemErrorLine(err) ?? String(err));
    }
  }
  try {
    accessSync(folder, constants.W_OK);
  } catch (err) {
    refuse(fileSystemErrorLine(err) ?? String(err));
  }
  return folder;
}
