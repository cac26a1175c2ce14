/**
 * What kind of fault an AWS call's error is (issue 19 items 1 and 5): throttling (retry later, nothing was done) or a
 * transient fault (a timeout, a broken connection, a truncated answer, a 5xx: retry, the outcome is unknown). The
 * attempt middleware, the factory's retry strategy and callers that retry for themselves all classify errors here.
 */

/** Error names of throttling, as the SDK and the services spell them (EC2, S3, KMS, STS, the EBS direct APIs). */
export const THROTTLING_NAMES = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottledException",
  "RequestThrottled",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "SlowDown",
  "ConcurrentLimitExceededException",
  "EC2ThrottledException",
  "BandwidthLimitExceeded",
  "LimitExceededException",
  "PriorRequestNotComplete",
]);

const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ERR_STREAM_PREMATURE_CLOSE",
]);
/** Codes of a connection that broke (the handler names them TimeoutError too, but they are not timeouts). */
export const CONNECTION_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ERR_STREAM_PREMATURE_CLOSE"]);
const TRANSIENT_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException", "TruncatedBodyError"]);

export interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $response?: unknown;
  cause?: unknown;
}

/** Whether an error is throttling ("slow down"): retry later, the request was not carried out. */
export function isThrottlingError(err: unknown): boolean {
  const e = err as ErrorShape | undefined;
  return THROTTLING_NAMES.has(e?.name ?? "") || e?.$metadata?.httpStatusCode === 429;
}

/**
 * Whether an error is a transient fault: a timeout, a reset or refused connection, a truncated answer, a 5xx. The
 * request may or may not have been carried out.
 */
export function isTransientError(err: unknown, depth = 0): boolean {
  const e = err as ErrorShape | undefined;
  if (!e || typeof e !== "object" || e.name === "AbortError") return false;
  if (TRANSIENT_NAMES.has(e.name ?? "") || TRANSIENT_CODES.has(e.code ?? "")) return true;
  const status = e.$metadata?.httpStatusCode ?? 0;
  if (status >= 500 && status <= 599) return true;
  if (/^(aborted|socket hang up|premature close)$/i.test(e.message ?? "")) return true;
  return e.cause !== undefined && depth < 5 && isTransientError(e.cause, depth + 1);
}

/** Whether an error is a fault worth retrying: throttling or transient. */
export function isRetryableFault(err: unknown): boolean {
  return isThrottlingError(err) || isTransientError(err);
}

/** Thrown when a streamed answer ends before its announced length (a truncated body). */
export class TruncatedBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TruncatedBodyError";
  }
}

/** Marks an error the retry strategy must not retry (a non-idempotent creation whose answer was lost). */
export const NO_SDK_RETRY = Symbol.for("flz.noSdkRetry");
