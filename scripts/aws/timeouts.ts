/**
 * Time bounds of every AWS request the `flz` CLI makes (issue 19 item 1, PLAN.md decision 6): no request may wait
 * forever. Three bounds apply to every attempt of every call made through the client factory:
 *
 * - **connect**: the TCP (and TLS) connection must be up within `connectMs`;
 * - **attempt**: from sending the request to the last byte of an answer the CLI reads at once, an operation gets its own
 *   budget (a 512 KiB block read is short, a CopySnapshot or CompleteMultipartUpload answer may take a while), plus
 *   time for the bytes it sends at a floor rate (an UploadPart of 64 MiB is not a stall);
 * - **idle**: no byte in either direction for `idleMs` ends the attempt (large streamed downloads have no attempt
 *   budget, only this).
 *
 * An attempt cut short by any of them fails with `TimeoutError`, which the retry strategy treats like any transient
 * fault. The defaults fit AWS; `FLZ_AWS_TIMEOUTS` (or the factory's `timeouts` option) changes them, for a slow link or
 * for tests: `FLZ_AWS_TIMEOUTS="connect=2000,default=10000,GetSnapshotBlock=3000"` (milliseconds).
 */
import { UsageError } from "../errors";

/** Time bounds of AWS requests; see the module comment. All values in milliseconds. */
export interface TimeoutPolicy {
  /** TCP/TLS connection establishment. */
  readonly connectMs: number;
  /** Socket inactivity (no byte sent or received) after which an attempt fails. */
  readonly idleMs: number;
  /** Attempt budget of an operation not listed in `operations`. */
  readonly defaultMs: number;
  /** Attempt budgets by operation name (`GetSnapshotBlock`, `CopySnapshot`, ...). */
  readonly operations: Readonly<Record<string, number>>;
  /** Slowest upload rate, bytes per second, that is not a stall: request bodies add `bytes / rate` to the budget. */
  readonly minUploadBytesPerSecond: number;
}

/**
 * The defaults. Why each: EBS direct API block reads answer in tens of milliseconds (AWS's own example runs 100
 * connections at 100 ms), so 10 s is a stalled read, not a slow one; KMS Sign answers in milliseconds; EC2 snapshot
 * creations validate keys and permissions before answering and may take seconds; CompleteMultipartUpload "could
 * take several minutes" for large objects (S3 user guide, "Uploading and copying objects using multipart upload").
 * The snapshot copies themselves take hours: they are waited for by polling (`--max-wait`), never inside a request.
 */
export const DEFAULT_TIMEOUTS: TimeoutPolicy = {
  connectMs: 5_000,
  idleMs: 60_000,
  defaultMs: 30_000,
  operations: {
    GetSnapshotBlock: 10_000,
    PutSnapshotBlock: 15_000,
    ListSnapshotBlocks: 15_000,
    ListChangedBlocks: 15_000,
    Sign: 10_000,
    GetPublicKey: 10_000,
    GetCallerIdentity: 15_000,
    CreateSnapshot: 60_000,
    CopySnapshot: 60_000,
    LockSnapshot: 60_000,
    CompleteMultipartUpload: 900_000,
  },
  minUploadBytesPerSecond: 256 * 1024,
};

/** Environment variable that overrides the defaults (see the module comment). */
export const TIMEOUTS_ENV = "FLZ_AWS_TIMEOUTS";

const NAMED: Record<string, keyof Omit<TimeoutPolicy, "operations">> = {
  connect: "connectMs",
  idle: "idleMs",
  default: "defaultMs",
  "min-upload-rate": "minUploadBytesPerSecond",
};

/**
 * Parses `name=value` pairs separated by commas: `connect`, `idle`, `default` and operation names take milliseconds,
 * `all` sets the default and every operation's budget at once (later pairs still refine it), `min-upload-rate` is
 * bytes per second. Throws a {@link UsageError} naming the first bad pair.
 */
export function parseTimeouts(
  spec: string,
  base: TimeoutPolicy = DEFAULT_TIMEOUTS,
  source = TIMEOUTS_ENV,
): TimeoutPolicy {
  const policy: { -readonly [K in keyof TimeoutPolicy]: TimeoutPolicy[K] } = {
    ...base,
    operations: { ...base.operations },
  };
  const operations: Record<string, number> = { ...base.operations };
  for (const part of spec
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([A-Za-z][\w-]*)=(\d{1,9})$/.exec(part);
    const value = match ? Number(match[2]) : NaN;
    if (!match || value < 1) {
      throw new UsageError(
        `${source}: ${JSON.stringify(part)} is not valid: use name=milliseconds pairs separated by commas, e.g. connect=2000,default=10000,GetSnapshotBlock=3000 (names: connect, idle, default, all, min-upload-rate or an operation name such as CopySnapshot)`,
      );
    }
    const named = NAMED[match[1]];
    if (match[1] === "all") {
      policy.defaultMs = value;
      for (const op of Object.keys(operations)) operations[op] = value;
    } else if (named) policy[named] = value;
    else if (/^[A-Z][A-Za-z0-9]+$/.test(match[1])) operations[match[1]] = value;
    else {
      throw new UsageError(
        `${source}: ${JSON.stringify(match[1])} is neither connect, idle, default, all, min-upload-rate nor an operation name such as CopySnapshot`,
      );
    }
  }
  policy.operations = operations;
  return policy;
}

/** The policy in force: the defaults, changed by `FLZ_AWS_TIMEOUTS` when it is set. */
export function timeoutsFromEnvironment(env: NodeJS.ProcessEnv = process.env): TimeoutPolicy {
  const spec = env[TIMEOUTS_ENV];
  return spec ? parseTimeouts(spec) : DEFAULT_TIMEOUTS;
}

/**
 * Milliseconds one attempt of `operation` may take, sending `bodyBytes` bytes: the operation's budget plus the time
 * the body takes at the floor rate.
 */
export function attemptBudgetMs(policy: TimeoutPolicy, operation: string, bodyBytes = 0): number {
  const base = policy.operations[operation] ?? policy.defaultMs;
  return base + Math.ceil((Math.max(0, bodyBytes) / policy.minUploadBytesPerSecond) * 1000);
}

/**
 * Longest time one call may take through the factory before its error reaches the caller: every attempt at its full
 * budget, plus the longest backoff between attempts. What a test of "no command hangs" measures against.
 */
export function callBudgetMs(
  policy: TimeoutPolicy,
  operation: string,
  maxAttempts: number,
  maxBackoffMs = 20_000,
): number {
  return maxAttempts * (policy.connectMs + attemptBudgetMs(policy, operation)) + (maxAttempts - 1) * maxBackoffMs;
}
