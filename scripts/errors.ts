import { DocumentInputError } from "../components/documents/validate";

/**
 * Errors the CLI turns into one clear line and an exit code (DESIGN.md §9: 0 done, 1 failed, 2 bad usage).
 */

/** Bad input: wrong flag, malformed value, unusable file. Exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The operation failed (AWS refused, evidence check failed, ...). Exit code 1. */
export class OperationError extends Error {
  readonly exitCode = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OperationError";
  }
}

/** Exit code for any error: usage errors 2, everything else 1. */
export function exitCodeOf(err: unknown): number {
  // A document builder refusing an input (a malformed cutoff, a case ID IAM cannot name a policy after) is bad usage.
  if (err instanceof UsageError || err instanceof DocumentInputError) return 2;
  return 1;
}

/** One line describing an error, without a stack trace; AWS errors keep their code. */
export function describeError(err: unknown): string {
  if (err instanceof UsageError || err instanceof OperationError || err instanceof DocumentInputError)
    return err.message;
  if (err && typeof err === "object") {
    const e = err as { name?: string; message?: string; Code?: string };
    const code = e.Code ?? e.name;
    const message = (e.message ?? String(err)).split("\n")[0];
    return code && code !== "Error" && !message.startsWith(code) ? `${code}: ${message}` : message;
  }
  return String(err);
}
