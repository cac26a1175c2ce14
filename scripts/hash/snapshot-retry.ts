/**
 * Retries of snapshot-hashing requests on top of the SDK's own: throttling (the EBS direct APIs allow about 1,000
 * GetSnapshotBlock requests per second per account) with capped exponential backoff, and transient faults of one block
 * (reset, timeout, truncated answer), so one bad block does not throw away hours of hashing.
 */
import { isTransientError } from "../aws/attempts";

/** Names of the errors that mean "slow down" on the EBS direct APIs. */
export const THROTTLING_ERRORS = new Set([
  "RequestThrottledException",
  "ConcurrentLimitExceededException",
  "ThrottlingException",
  "TooManyRequestsException",
  "SlowDown",
]);

/** Whether an error is EBS throttling. */
export function isThrottling(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return THROTTLING_ERRORS.has(e?.name ?? "") || e?.$metadata?.httpStatusCode === 429;
}

/** Capped exponential backoff with full jitter: a random wait in [0, min(cap, base × 2^attempt)). */
export function backoffMs(attempt: number, baseMs: number, capMs = 5000, random = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

/** Limits and clock of {@link retrying}. */
export interface RetryPolicy {
  /** Retries of a throttled request. */
  readonly throttleRetries: number;
  /** Retries of a request that failed on a transient fault. */
  readonly faultRetries: number;
  /** Base backoff, ms. */
  readonly backoffBaseMs: number;
  /** Sleep (tests replace it). */
  readonly sleep: (ms: number) => Promise<void>;
}

/** Counts of what {@link retrying} absorbed. */
export interface RetryCounts {
  /** Throttled requests retried here. */
  throttled: number;
  /** Requests retried here after a transient fault. */
  faultsRetried: number;
}

/** A runner of requests under `policy` that counts what it retried in `counts`. */
export function retrying(policy: RetryPolicy, counts: RetryCounts): <T>(fn: () => Promise<T>) => Promise<T> {
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    let throttledAttempts = 0;
    let faultAttempts = 0;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (isThrottling(err) && throttledAttempts < policy.throttleRetries) {
          counts.throttled++;
          await policy.sleep(backoffMs(throttledAttempts++, policy.backoffBaseMs));
        } else if (!isThrottling(err) && isTransientError(err) && faultAttempts < policy.faultRetries) {
          counts.faultsRetried++;
          await policy.sleep(backoffMs(faultAttempts++, policy.backoffBaseMs));
        } else throw err;
      }
    }
  };
}
