/**
 * The factory's retry strategy (issue 19 items 1 and 5): throttling and transient faults retried with capped
 * exponential backoff and full jitter, the same number of times however long the process has been failing, and never
 * a call marked non-idempotent (see attempts.ts).
 */
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from "@smithy/types";
import { isThrottlingError, isTransientError, NO_SDK_RETRY } from "./faults";

/** Retry token of {@link FlzRetryStrategy}. */
class Token implements RetryToken {
  constructor(
    private readonly count: number,
    private readonly delay: number,
  ) {}
  getRetryCount(): number {
    return this.count;
  }
  getRetryDelay(): number {
    return this.delay;
  }
}

/** Options of {@link FlzRetryStrategy}. */
export interface RetryStrategyOptions {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** First backoff after a transient fault, ms. Default 100. */
  readonly baseDelayMs?: number;
  /** First backoff after throttling, ms. Default 500. */
  readonly throttlingBaseDelayMs?: number;
  /** Longest single backoff, ms. Default 20 000 (the SDK's own cap). */
  readonly maxDelayMs?: number;
  /** Randomness in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

/**
 * Retries throttling and transient faults `maxAttempts - 1` times with capped exponential backoff and full jitter
 * (as the SDK's standard mode does), but without a client-wide retry quota, and never a call marked non-idempotent.
 * The bound on retries is per call (attempts) and per attempt (timeouts.ts); a CLI process has no fleet of callers to
 * protect from a retry storm, and a hash of a million blocks must not stop retrying because earlier blocks did.
 */
export class FlzRetryStrategy implements RetryStrategyV2 {
  readonly mode = "standard";
  constructor(private readonly options: RetryStrategyOptions) {}

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return new Token(0, 0);
  }

  async refreshRetryTokenForRetry(token: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
    const error = errorInfo.error as (object & { [NO_SDK_RETRY]?: boolean }) | undefined;
    // The SDK's classification, widened by ours: a truncated body read inside the attempt is transient too.
    const throttled = errorInfo.errorType === "THROTTLING" || isThrottlingError(error);
    const retryable = throttled || errorInfo.errorType === "TRANSIENT" || isTransientError(error);
    const attempts = token.getRetryCount() + 1;
    if (!retryable || error?.[NO_SDK_RETRY] || attempts >= this.options.maxAttempts) {
      throw new Error("no retry");
    }
    const base = throttled ? (this.options.throttlingBaseDelayMs ?? 500) : (this.options.baseDelayMs ?? 100);
    const cap = this.options.maxDelayMs ?? 20_000;
    let delay = Math.floor((this.options.random ?? Math.random)() * Math.min(cap, base * 2 ** token.getRetryCount()));
    if (errorInfo.retryAfterHint) {
      delay = Math.max(delay, Math.min(cap, errorInfo.retryAfterHint.getTime() - Date.now()));
    }
    return new Token(attempts, delay);
  }

  recordSuccess(): void {}
}
