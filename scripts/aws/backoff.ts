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

/** How a change whose call failed ended: certainly not carried out, or unknown (the answer was lost). */
export type ChangeOutcome = "not-applied" | "unknown";

/** A change that failed; `outcome` says whether it may have been carried out anyway. */
export class ChangeFailedError extends Error {
  constructor(
    message: string,
    /** Whether the change may have happened. */
    readonly outcome: ChangeOutcome,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ChangeFailedError";
  }
}

/** Options of {@link lookBeforeRetry}. */
export interface LookBeforeRetryOptions<T> {
  /** Makes the change (one call, no SDK retry). */
  readonly change: () => Promise<T>;
  /** Finds the change by the identifier it was made with; undefined when it is not there. */
  readonly look: () => Promise<T | undefined>;
  /** Whether an error leaves the outcome unknown (a timeout, a reset, a 5xx): then look before retrying. */
  readonly unknownOutcome: (err: unknown) => boolean;
  /** Attempts of the change in all. Default 5. */
  readonly attempts?: number;
  /**
   * Waits before each look after an unknown outcome, ms: AWS lists a new resource eventually, not at once, so one
   * empty look is not proof. Default [0, 1000, 3000].
   */
  readonly settleMs?: readonly number[];
  /** First backoff between attempts, ms (doubles, equal jitter). Default 500. */
  readonly baseDelayMs?: number;
  /** Absolute time after which no new attempt starts. */
  readonly deadline?: number;
  /** Called when an attempt's outcome was unknown and the look found nothing (before the retry). */
  readonly onRetry?: (attempt: number, err: unknown) => void;
  /** Sleep (tests). */
  readonly sleep?: Sleep;
  /** Clock (tests). */
  readonly now?: () => number;
}

/**
 * Makes a non-idempotent change (a creation) without ever making it twice (PLAN.md decision 5): the SDK does not
 * retry it (clients.ts); when an attempt fails with an unknown outcome, the change is looked for by its identifier
 * before it is tried again. Resolves with the change's result and whether it was found by looking. Rejects with a
 * {@link ChangeFailedError} whose `outcome` says whether the change may have happened (`unknown`: the caller keeps
 * its intent open so the next run looks again).
 */
export async function lookBeforeRetry<T>(options: LookBeforeRetryOptions<T>): Promise<{ value: T; found: boolean }> {
  const attempts = options.attempts ?? 5;
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await options.change(), found: false };
    } catch (err) {
      if (!options.unknownOutcome(err)) {
        throw new ChangeFailedError(describe(err), "not-applied", { cause: err });
      }
      for (const wait of options.settleMs ?? [0, 1000, 3000]) {
        if (wait > 0) await sleep(wait);
        const found = await options.look();
        if (found !== undefined) return { value: found, found: true };
      }
      const delay = backoffDelay(attempt, options.baseDelayMs ?? 500, 20_000, Math.random);
      if (attempt >= attempts || (options.deadline !== undefined && now() + delay > options.deadline)) {
        throw new ChangeFailedError(
          `${describe(err)} (outcome unknown after ${attempt} attempt(s); not found by its identifier)`,
          "unknown",
          {
            cause: err,
          },
        );
      }
      options.onRetry?.(attempt, err);
      await sleep(delay);
    }
  }
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string } | undefined;
  const message = (e?.message ?? String(err)).split("\n")[0];
  return e?.name && e.name !== "Error" && !message.startsWith(e.name) ? `${e.name}: ${message}` : message;
}
