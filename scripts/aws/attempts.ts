/**
 * What happens to one AWS call made through the client factory, attempt by attempt (issue 19 items 1 and 5):
 *
 * - every attempt runs under the time bounds of timeouts.ts, enforced by {@link TimedHttpHandler} (the SDK's own Node
 *   handler, told each request's budget);
 * - a small streamed answer (an EBS block, a custody record) is read to its end inside the attempt, so a truncated or
 *   stalled body fails the attempt and is retried like a reset, instead of surfacing later in the caller's read;
 *   a command marked with {@link passBodyThrough} opts out: its caller reads the stream itself, under the same
 *   attempt deadline, and retries a truncated or stalled body (snapshot hashing reads each block straight into
 *   shared memory, where buffering first cost a copy and its garbage per block);
 * - {@link FlzRetryStrategy} retries throttling and transient faults (timeouts included) with capped exponential
 *   backoff and jitter, the same number of times however long the process has been failing (the SDK's standard
 *   strategy also spends a client-wide retry quota, so under sustained faults it gave up after fewer attempts than
 *   configured), and never retries a non-idempotent creation: those callers look before they retry;
 * - every attempt's outcome is reported to the factory's observers (throttling is counted where it happens, even when
 *   a retry absorbed it);
 * - when the last attempt fails on a fault, the error says, in one line, which operation on which resource gave up
 *   after how many attempts.
 */
import { Agent as HttpAgent, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { Readable } from "node:stream";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { HttpHandlerOptions, MetadataBearer, MiddlewareStack } from "@smithy/types";
import {
  CONNECTION_CODES,
  isRetryableFault,
  isThrottlingError,
  isTransientError,
  NO_SDK_RETRY,
  TruncatedBodyError,
  type ErrorShape,
} from "./faults";
import { attemptBudgetMs, type TimeoutPolicy } from "./timeouts";

export { isRetryableFault, isThrottlingError, isTransientError, THROTTLING_NAMES, TruncatedBodyError } from "./faults";
export { FlzRetryStrategy, type RetryStrategyOptions } from "./retry-strategy";

/**
 * Creations that are not idempotent: a retry after a lost answer would make a second resource. The factory never
 * lets the SDK retry them; their callers look for the resource by the identifier it was created with, then retry
 * (PLAN.md decision 5).
 */
export const NON_IDEMPOTENT_OPERATIONS: ReadonlySet<string> = new Set([
  "CreateSnapshot",
  "CopySnapshot",
  "CreateMultipartUpload",
]);

/** Marks an error whose message names the call that gave up (errors.ts prints it as it is). */
export const GAVE_UP = Symbol.for("flz.gaveUp");

/** What one attempt of a call came to. */
export interface AttemptEvent {
  /** Client name without `Client`, e.g. `EC2`, `EBS`, `S3`. */
  readonly service: string;
  /** Operation name, e.g. `GetSnapshotBlock`. */
  readonly operation: string;
  /** Account the client acts in (undefined: the forensic account). */
  readonly account?: string;
  /** Region the client acts in. */
  readonly region: string;
  /** `ok`, `throttled`, `transient` (timeout, reset, truncated, 5xx) or `failed` (any other error). */
  readonly outcome: "ok" | "throttled" | "transient" | "failed";
  /** The error, when the attempt failed. */
  readonly error?: unknown;
  /** Milliseconds the attempt took. */
  readonly ms: number;
}

/** Receives every attempt's outcome. */
export type AttemptObserver = (event: AttemptEvent) => void;

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { name: "TimeoutError", code: "ETIMEDOUT" });
}

/** Per request: the attempt's deadline and, once the answer is in, a way to stop watching its body. */
interface AttemptWatch {
  readonly deadline: number;
  readonly budgetMs: number;
  release?: () => void;
}

const watches = new WeakMap<object, AttemptWatch>();

/**
 * Connection pools one factory's clients share. Every client of a factory reaches the same few endpoints (a service's
 * regional host), and its calls are signed one by one with the client's own credentials, so a kept-alive connection
 * can carry any client's request: sharing the pools spares each client of each account its own TCP and TLS handshake
 * to a host that another client has a connection to (the SDK's advice: reuse connections). Idle sockets are closed by
 * the client after {@link IDLE_SOCKET_MS}, before any endpoint's idle timeout, so a request is never sent on a
 * connection the server is closing.
 */
export interface SharedAgents {
  readonly httpAgent: HttpAgent;
  readonly httpsAgent: HttpsAgent;
}

/** Milliseconds an idle kept-alive socket stays open (AWS's load balancers keep idle connections 60 s and more). */
export const IDLE_SOCKET_MS = 5000;

/** New connection pools for one factory: keep-alive, 256 sockets per host (callers bound their own concurrency). */
export function sharedAgents(): SharedAgents {
  const options = { keepAlive: true, maxSockets: 256, timeout: IDLE_SOCKET_MS };
  return { httpAgent: new HttpAgent(options), httpsAgent: new HttpsAgent(options) };
}

/**
 * The SDK's Node handler, with each request's attempt budget applied: until the answer's headers arrive through the
 * handler's own `requestTimeout` (turned into an error, not only a warning), and after them by destroying the body
 * if it has not ended by the deadline (the caller reading a large streamed download releases that watch).
 *
 * It sends through the {@link SharedAgents} it is given and leaves them open when its client is destroyed: they are
 * the factory's, which closes them once all its clients are done.
 */
export class TimedHttpHandler extends NodeHttpHandler {
  constructor(policy: TimeoutPolicy, shared: SharedAgents) {
    super({
      connectionTimeout: policy.connectMs,
      socketTimeout: policy.idleMs,
      requestTimeout: policy.defaultMs,
      throwOnRequestTimeout: true,
      // The attempt budget starts when the request is handed over: waiting for a free socket counts. Callers bound
      // their own concurrency (hash 64 by default, the ledger 32), well below the pools' 256 sockets per host.
      httpAgent: shared.httpAgent,
      httpsAgent: shared.httpsAgent,
    });
  }

  /** Nothing to release: the only resources are the shared pools, which their factory closes. */
  override destroy(): void {}

  override async handle(
    request: Parameters<NodeHttpHandler["handle"]>[0],
    options: HttpHandlerOptions = {},
  ): ReturnType<NodeHttpHandler["handle"]> {
    const watch = watches.get(request);
    if (!watch) return super.handle(request, options);
    const remaining = Math.max(1, watch.deadline - Date.now());
    const result = await super.handle(request, { ...options, requestTimeout: remaining });
    const body = result.response.body as IncomingMessage | undefined;
    if (body && typeof body.once === "function" && !body.readableEnded) {
      const timer = setTimeout(
        () => body.destroy(timeoutError(`the answer's body did not arrive within ${watch.budgetMs} ms`)),
        Math.max(1, watch.deadline - Date.now()),
      );
      const release = () => clearTimeout(timer);
      body.once("end", release);
      body.once("close", release);
      body.once("error", release);
      watch.release = release;
    }
    return result;
  }
}

/** Answers up to this size that arrive as a stream are read within the attempt (EBS blocks, custody records). */
export const BUFFERED_BODY_LIMIT = 16 * 1024 * 1024;

interface StreamLike {
  transformToByteArray?: () => Promise<Uint8Array>;
  destroy?: (err?: Error) => void;
}

/** A buffered body with the SDK's stream helpers (`transformToByteArray`, `transformToString`, piping). */
function bufferedBody(bytes: Uint8Array): Readable {
  const stream = Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]);
  return Object.assign(stream, {
    transformToByteArray: async () => bytes,
    transformToString: async (encoding?: BufferEncoding) =>
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(encoding ?? "utf8"),
    transformToWebStream: () => Readable.toWeb(Readable.from([Buffer.from(bytes)])),
  });
}

/**
 * Reads every small streamed body of an output to its end, inside the attempt: a truncated or stalled body then fails
 * the attempt (and is retried) rather than the caller's later read. Large bodies stay streams.
 */
async function bufferSmallBodies(output: Record<string, unknown>, contentLength: number | undefined): Promise<void> {
  for (const [key, value] of Object.entries(output)) {
    const stream = value as StreamLike | undefined;
    if (!stream || typeof stream !== "object" || typeof stream.transformToByteArray !== "function") continue;
    if (contentLength !== undefined && contentLength > BUFFERED_BODY_LIMIT) continue;
    let bytes: Uint8Array;
    try {
      bytes = await stream.transformToByteArray();
    } catch (err) {
      const e = err as ErrorShape;
      if (isTransientError(err)) throw err;
      throw Object.assign(new TruncatedBodyError(`reading the answer failed: ${e.message ?? String(err)}`), {
        cause: err,
      });
    }
    if (contentLength !== undefined && bytes.byteLength !== contentLength) {
      throw new TruncatedBodyError(`the answer ended after ${bytes.byteLength} of ${contentLength} bytes`);
    }
    output[key] = bufferedBody(bytes);
  }
}

/** Marks, in a command's handler context, that its caller reads the streamed answer itself. */
const PASS_BODY = Symbol.for("flz.passBodyThrough");

/**
 * Lets the caller of `command` read its streamed answer itself instead of the attempt reading it first. The body's
 * deadline stays: the attempt's budget destroys a body that has not ended by then (a `TimeoutError`), and the
 * caller must treat a body that ends short, or fails, as a transient fault and retry the call (the SDK's own retries
 * no longer see it). For callers that copy large answers somewhere of their own, once.
 */
export function passBodyThrough<I extends object, O extends MetadataBearer>(command: {
  readonly middlewareStack: MiddlewareStack<I, O>;
}): void {
  command.middlewareStack.add(
    (next, context) => (args) => {
      (context as Record<symbol, unknown>)[PASS_BODY] = true;
      return next(args);
    },
    { step: "initialize", name: "flzPassBodyThrough" },
  );
}

/** Outcome of an attempt's error, for observers. */
function outcomeOf(err: unknown): AttemptEvent["outcome"] {
  if (isThrottlingError(err)) return "throttled";
  if (isTransientError(err)) return "transient";
  return "failed";
}

function headerValue(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const found = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return found ? headers[found] : undefined;
}

/** What the attempt middleware needs to know about its client. */
export interface AttemptContext {
  readonly policy: TimeoutPolicy;
  readonly account?: string;
  readonly region: string;
  readonly observers: ReadonlySet<AttemptObserver>;
}

/** Minimal shapes of the middleware arguments this file touches (the SDK's are generic over every service). */
interface MiddlewareArgs {
  request?: { headers?: Record<string, string>; body?: unknown };
  input?: Record<string, unknown>;
}
interface MiddlewareResult {
  output: Record<string, unknown> & { $metadata?: object };
  response: unknown;
}
interface HandlerContext {
  commandName?: string;
  clientName?: string;
  [PASS_BODY]?: boolean;
}
type Next = (args: MiddlewareArgs) => Promise<MiddlewareResult>;

function names(context: HandlerContext): { service: string; operation: string } {
  return {
    service: (context.clientName ?? "AWS").replace(/Client$/, ""),
    operation: (context.commandName ?? "Request").replace(/Command$/, ""),
  };
}

/**
 * Per attempt (inside the retry loop, outside the deserializer): the deadline, the body read, the observers, and
 * the mark that keeps the SDK from retrying a non-idempotent creation.
 */
export function attemptMiddleware(ctx: AttemptContext) {
  return (next: Next, context: HandlerContext) =>
    async (args: MiddlewareArgs): Promise<MiddlewareResult> => {
      const { service, operation } = names(context);
      const started = Date.now();
      const request = args.request;
      const length = Number(headerValue(request?.headers, "content-length") ?? 0);
      const budgetMs = attemptBudgetMs(ctx.policy, operation, Number.isFinite(length) ? length : 0);
      const watch: AttemptWatch = { deadline: started + budgetMs, budgetMs };
      if (request && typeof request === "object") watches.set(request, watch);
      const report = (outcome: AttemptEvent["outcome"], error?: unknown) => {
        for (const observer of ctx.observers) {
          observer({
            service,
            operation,
            account: ctx.account,
            region: ctx.region,
            outcome,
            error,
            ms: Date.now() - started,
          });
        }
      };
      try {
        const result = await next(args);
        const response = result.response as { headers?: Record<string, string> } | undefined;
        if (context[PASS_BODY]) {
          // The caller reads the body; the watch set by the handler ends with it (end, close or error).
          report("ok");
          return result;
        }
        const announced = headerValue(response?.headers, "content-length");
        await bufferSmallBodies(result.output, announced === undefined ? undefined : Number(announced));
        watch.release?.();
        report("ok");
        return result;
      } catch (err) {
        watch.release?.();
        report(outcomeOf(err), err);
        // Throttling means the request was not carried out: only an unknown outcome needs a look before a retry.
        if (NON_IDEMPOTENT_OPERATIONS.has(operation) && !isThrottlingError(err) && isTransientError(err)) {
          Object.defineProperty(err, NO_SDK_RETRY, { value: true, configurable: true });
        }
        throw err;
      }
    };
}

/** The resource a call acts on, from its input, for error messages. */
export function resourceOf(input: Record<string, unknown> | undefined): string {
  if (!input) return "";
  const s = (k: string) => (typeof input[k] === "string" ? (input[k] as string) : undefined);
  if (s("Bucket")) return `s3://${s("Bucket")}${s("Key") ? `/${s("Key")}` : ""}`;
  for (const key of ["SnapshotId", "SourceSnapshotId", "VolumeId", "KeyId", "RoleArn", "UserName", "GroupId"]) {
    if (s(key)) return s(key) as string;
  }
  const ids = ["InstanceIds", "SnapshotIds", "VolumeIds"].find((k) => Array.isArray(input[k]));
  if (ids) return (input[ids] as string[]).join(",");
  return s("InstanceId") ?? s("AutoScalingGroupName") ?? "";
}

/**
 * Outermost (before the retry loop): when a call fails on a fault after its last attempt, its error says in one line
 * which operation on which resource gave up, after how many attempts. The error's name and metadata are kept, so
 * callers still recognise throttling, timeouts and service errors by them.
 */
export function giveUpMiddleware(ctx: Pick<AttemptContext, "account" | "region" | "policy">) {
  return (next: Next, context: HandlerContext) =>
    async (args: MiddlewareArgs): Promise<MiddlewareResult> => {
      try {
        return await next(args);
      } catch (err) {
        if (!err || typeof err !== "object" || !isRetryableFault(err)) throw err;
        const e = err as ErrorShape;
        const { service, operation } = names(context);
        const resource = resourceOf(args.input);
        const where = [ctx.account ? `account ${ctx.account}` : "forensic account", ctx.region].join(", ");
        const attempts = e.$metadata?.attempts ?? 1;
        const why = isThrottlingError(err)
          ? `throttled (${e.name})`
          : e.code && CONNECTION_CODES.has(e.code)
            ? `connection ${e.code === "ECONNREFUSED" ? "refused" : "reset"} (${e.code})`
            : e.name === "TimeoutError"
              ? `no complete answer within ${attemptBudgetMs(ctx.policy, operation)} ms (timed out)`
              : `${e.name ?? "fault"}${e.message ? ` (${e.message.split("\n")[0]})` : ""}`;
        const retries = (err as { [NO_SDK_RETRY]?: boolean })[NO_SDK_RETRY]
          ? "not retried by the SDK (a creation: the caller looks before it retries)"
          : `gave up after ${attempts} attempt${attempts === 1 ? "" : "s"}`;
        const message = `${service} ${operation}${resource ? ` ${resource}` : ""} (${where}): ${why}; ${retries}`;
        try {
          e.message = message;
          Object.defineProperty(err, GAVE_UP, { value: true, configurable: true });
        } catch {
          // A frozen error keeps its own message.
        }
        throw err;
      }
    };
}
