/**
 * Waiting helpers for AWS work that the SDK's standard retry does not cover: quota errors that clear only when
 * earlier work finishes (`ResourceLimitExceeded` on concurrent snapshot copies), and polling long-running resources
 * with a cadence and a deadline of our own (so progress can be shown between polls).
 */

/** How to sleep; tests pass a fake. */
export type Sleep = (ms: number) => Promise<void>;

/** Real sleep. */
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Options of {@link withQuotaBackoff}. */
export interface QuotaBackoffOptions {
  /** Error names that mean "a quota is full, try later". Default `["ResourceLimitExceeded"]`. */
  readonly retryOn?: readonly string[];
  /** Attempts in all, the first included. Default 8. */
  readonly maxAttempts?: number;
  /** First delay, ms; doubles each retry. Default 2 000. */
  readonly baseDelayMs?: number;
  /** Longest single delay, ms. Default 60 000. */
  readonly maxDelayMs?: number;
  /** Absolute time (ms since epoch) after which no retry starts. Default: none. */
  readonly deadline?: number;
  /** Called before each wait, e.g. to tell the operator. */
  readonly onRetry?: (attempt: number, delayMs: number, err: unknown) => void;
  /** Sleep function. Default: real. */
  readonly sleep?: Sleep;
  /** Source of randomness in [0, 1) for jitter. Default `Math.random`. */
  readonly random?: () => number;
  /** Clock. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Delay before retry `attempt` (1-based): exponential with "equal jitter" (half fixed, half random), so a burst of
 * refused copies does not come back in lockstep, and never below half the exponential step.
 */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const step = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (step / 2) * random());
}

/** Name of an SDK error (`err.name`, or the legacy `Code`). */
export function errorName(err: unknown): string | undefined {
  if (!err || typeof err !== "object") return undefined;
  const e = err as { name?: string; Code?: string };
  return e.Code ?? e.name;
}

/** Runs `fn`, retrying with bounded exponential backoff while it fails with a quota error. */
export async function withQuotaBackoff<T>(fn: () => Promise<T>, options: QuotaBackoffOptions = {}): Promise<T> {
  const retryOn = options.retryOn ?? ["ResourceLimitExceeded"];
  const maxAttempts = options.maxAttempts ?? 8;
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const name = errorName(err);
      if (!name || !retryOn.includes(name) || attempt >= maxAttempts) throw err;
      const delay = backoffDelay(
        attempt,
        options.baseDelayMs ?? 2000,
        options.maxDelayMs ?? 60000,
        options.random ?? Math.random,
      );
      if (options.deadline !== undefined && now() + delay > options.deadline) throw err;
      options.onRetry?.(attempt, delay, err);
      await sleep(delay);
    }
  }
}

/** What one poll of a long-running resource found. */
export type PollOutcome<T> = { readonly done: true; readonly value: T } | { readonly done: false };

/** Options of {@link pollUntil}. */
export interface PollOptions {
  /** Milliseconds between polls. */
  readonly intervalMs: number;
  /** Absolute time (ms since epoch) after which polling stops with `onTimeout`'s error. */
  readonly deadline: number;
  /** The error to throw at the deadline. */
  readonly onTimeout: () => Error;
  /** Sleep function. Default: real. */
  readonly sleep?: Sleep;
  /** Clock. Default `Date.now`. */
  readonly now?: () => number;
}

/** Polls `check` (first at once, then every `intervalMs`) until it is done or the deadline passes. */
export async function pollUntil<T>(check: () => Promise<PollOutcome<T>>, options: PollOptions): Promise<T> {
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  for (;;) {
    const outcome = await check();
    if (outcome.done) return outcome.value;
    if (now() + options.intervalMs > options.deadline) throw options.onTimeout();
    await sleep(options.intervalMs);
  }
}
