import { DocumentInputError } from "../components/documents/validate";

/**
 * Errors the CLI turns into one clear line and an exit code (DESIGN.md §9: 0 done, 1 failed, 2 bad usage).
 *
 * The rule, applied the same way by every command: exit 2 when what the operator typed cannot be used (a malformed
 * value, a missing flag, a path that cannot be read or written, or a name that names nothing: an unknown case, an
 * unknown instance, a missing file); exit 1 when the request was usable but the work failed (AWS refused or could
 * not be reached, a check failed, evidence does not verify).
 */

/** Bad input: wrong flag, malformed value, unusable file. Exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Something the operator named does not exist (a case, an instance, a file). Bad usage, exit code 2, in every command:
 * the same mistyped ID gives the same exit code whichever command it was typed into.
 */
export class NotFoundError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = "NotFoundError";
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

/** A Node.js system error (file system or network), as thrown by `fs` and `net`. */
interface SystemError {
  readonly code?: string;
  readonly syscall?: string;
  readonly path?: string;
  readonly dest?: string;
  readonly address?: string;
  readonly port?: number;
  readonly hostname?: string;
  readonly message?: string;
  readonly name?: string;
}

/** What each file-system error code means, and what would fix it. */
const FILE_ERRORS: Record<string, { readonly usage: boolean; readonly text: string }> = {
  ENOENT: { usage: true, text: "it (or a folder above it) does not exist: check the path, or create the folder first" },
  ENOTDIR: { usage: true, text: "a part of the path is a file, not a folder: choose a path inside a folder" },
  EISDIR: { usage: true, text: "it is a folder: give a file" },
  EEXIST: { usage: true, text: "it already exists and is not a folder: choose a new folder name" },
  EACCES: { usage: true, text: "permission denied: choose a place you may write to, or fix its permissions" },
  EPERM: { usage: true, text: "operation not permitted there: choose another place" },
  EROFS: { usage: true, text: "the file system is read-only: choose a writable place" },
  ENOSPC: { usage: false, text: "the disk is full: free space or choose another disk" },
  EDQUOT: { usage: false, text: "the disk quota is exhausted: free space or choose another disk" },
  EMFILE: { usage: false, text: "too many open files: raise the limit (ulimit -n) and rerun" },
  EIO: { usage: false, text: "input/output error from the device: check the disk" },
  ENAMETOOLONG: { usage: true, text: "the name is too long: choose a shorter path" },
  ELOOP: { usage: true, text: "too many symbolic links: check the path" },
};

/** Network error codes, and what they mean for the endpoint. */
const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "DNS lookup failed (temporary)",
  ETIMEDOUT: "connection timed out",
  ECONNRESET: "connection reset",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EPIPE: "connection closed while sending",
};

const VERB: Record<string, string> = {
  open: "open",
  read: "read",
  write: "write",
  mkdir: "create the folder",
  scandir: "list the folder",
  stat: "read",
  lstat: "read",
  rename: "rename",
  unlink: "remove",
  copyfile: "copy",
  access: "use",
};

function isSystemError(err: unknown): err is SystemError {
  return typeof err === "object" && err !== null && typeof (err as SystemError).code === "string";
}

/** The endpoint AWS calls go to, for messages: the override when one is set, else AWS's own. */
export function awsEndpointDescription(): string {
  return process.env.AWS_ENDPOINT_URL ? `${process.env.AWS_ENDPOINT_URL} (AWS_ENDPOINT_URL)` : "the AWS endpoint";
}

/** One line for a file-system error naming the path and what would fix it, or undefined when it is not one. */
export function fileSystemErrorLine(err: unknown): string | undefined {
  if (!isSystemError(err) || !err.code || !err.path) return undefined;
  const known = FILE_ERRORS[err.code];
  if (!known) return `cannot ${VERB[err.syscall ?? ""] ?? "use"} ${err.path}: ${err.code}`;
  return `cannot ${VERB[err.syscall ?? ""] ?? "use"} ${err.path}: ${known.text} (${err.code})`;
}

/** One line for a network error naming the endpoint and what would fix it, or undefined when it is not one. */
export function networkErrorLine(err: unknown): string | undefined {
  if (!isSystemError(err) || !err.code) return undefined;
  const what = NETWORK_ERRORS[err.code];
  if (!what || err.path) return undefined;
  const where = err.hostname ?? (err.address ? `${err.address}${err.port ? `:${err.port}` : ""}` : undefined);
  return `cannot reach ${where ?? awsEndpointDescription()}: ${what} (${err.code}); check the network, the region and AWS_ENDPOINT_URL${process.env.AWS_ENDPOINT_URL ? ` (now ${process.env.AWS_ENDPOINT_URL})` : " (unset: AWS's own endpoints)"}`;
}

/** Hints for AWS errors whose own words do not say what to do. */
function awsHint(name: string, message: string): string | undefined {
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message))
    return "no AWS credentials found: set AWS_PROFILE (after aws sso login) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the forensic account";
  if (/^(ExpiredToken|ExpiredTokenException|RequestExpired)$/.test(name))
    return "the AWS credentials have expired: refresh them (aws sso login, or new keys) and rerun";
  if (/^(InvalidClientTokenId|UnrecognizedClientException|SignatureDoesNotMatch|InvalidAccessKeyId)$/.test(name))
    return "AWS does not accept these credentials: check AWS_PROFILE / AWS_ACCESS_KEY_ID, and that they belong to the forensic account";
  if (name === "TimeoutError" || /timed? ?out/i.test(name))
    return `no answer from ${awsEndpointDescription()} in time: check the network and rerun (what was recorded stays recorded)`;
  return undefined;
}

/** Exit code for any error: usage errors 2, everything else 1. */
export function exitCodeOf(err: unknown): number {
  // A document builder refusing an input (a malformed cutoff, a case ID IAM cannot name a policy after) is bad usage.
  if (err instanceof UsageError || err instanceof DocumentInputError) return 2;
  if (err instanceof OperationError) return 1;
  // A path the operator gave that cannot be read or written is bad usage; a full disk or a device error is a failure.
  if (isSystemError(err) && err.code && err.path) return FILE_ERRORS[err.code]?.usage ? 2 : 1;
  return 1;
}

/** One line describing an error, without a stack trace; AWS errors keep their code and get a hint where one helps. */
export function describeError(err: unknown): string {
  if (err instanceof UsageError || err instanceof OperationError || err instanceof DocumentInputError)
    return firstLine(err.message);
  // An AWS call that gave up after its attempts already names the operation, the resource and why (aws/attempts.ts).
  if (err && typeof err === "object" && (err as Record<symbol, unknown>)[Symbol.for("flz.gaveUp")]) {
    const e = err as { name?: string; message?: string };
    const line = firstLine(e.message ?? "");
    const gaveUp = e.name && e.name !== "Error" && !line.startsWith(e.name) ? `${e.name}: ${line}` : line;
    // An endpoint that cannot be reached at all: what to check first, then which call gave up.
    const unreachable = networkErrorLine(err);
    return unreachable && !/ECONNRESET|EPIPE/.test(unreachable) ? `${unreachable} (${gaveUp})` : gaveUp;
  }
  const fsLine = fileSystemErrorLine(err);
  if (fsLine) return fsLine;
  const netLine = networkErrorLine(err);
  if (netLine) return netLine;
  if (err && typeof err === "object") {
    const e = err as { name?: string; message?: string; Code?: string };
    const code = e.Code ?? e.name;
    const message = firstLine(e.message ?? String(err));
    const hint = awsHint(code ?? "", message);
    if (hint) return `${hint} (${code && code !== "Error" ? `${code}: ` : ""}${message})`;
    // A network failure wrapped by the SDK keeps the system error as its cause.
    const cause = (err as { cause?: unknown }).cause;
    const causeLine = cause ? networkErrorLine(cause) : undefined;
    if (causeLine) return causeLine;
    return code && code !== "Error" && !message.startsWith(code) ? `${code}: ${message}` : message;
  }
  return firstLine(String(err));
}

function firstLine(text: string): string {
  return text.split("\n")[0];
}
