/**
 * A neutral, process-global hook that sees every AWS call made through the client factory (`clients.ts`): which
 * service and operation, with what input, in which account and region, as whom (the chain of roles the factory
 * assumed, with their session tags), and how it ended. Nothing here decides anything: without an observer the hook
 * costs one property read per call. The authorization oracle (`scripts/oracle/`, loaded only by the tests and by
 * `flz drill`) is the one observer this project installs; product code never depends on one being there.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Pluggable } from "@smithy/types";

/** Who a call acts as: the factory's base credentials, or a role session the factory assumed from another identity. */
export type CallIdentity =
  | {
      /** The credentials the factory was given, or the SDK's default chain: the operator's own. */
      readonly kind: "base";
    }
  | {
      /** A role session the factory opened with `sts:AssumeRole`. */
      readonly kind: "role";
      /** ARN of the role assumed. */
      readonly roleArn: string;
      /** Session name given to STS. */
      readonly sessionName: string;
      /** Session tags given to STS (key to value). */
      readonly sessionTags: Readonly<Record<string, string>>;
      /**
       * The session policy given to STS (`Policy`, JSON), if any: the session may do only what both the role's
       * policies and this policy allow (IAM user guide, "Session policies").
       */
      readonly sessionPolicy?: string;
      /** Who assumed it. */
      readonly assumedBy: CallIdentity;
    };

/** One call, as the observer sees it once it has ended. */
export interface ObservedCall {
  /** The service's signing name from the SDK's model (`ec2`, `s3`, `kms`, `autoscaling`, ...). */
  readonly signingName: string;
  /** The SDK's service ID (`EC2`, `Auto Scaling`, ...). */
  readonly serviceId: string;
  /** Operation name (`CreateSnapshot`): the command class name without its `Command` suffix. */
  readonly operation: string;
  /** The command's input, as sent. */
  readonly input: Readonly<Record<string, unknown>>;
  /** Region the client sends to. Undefined when the SDK resolves it (STS calls inside a credential provider). */
  readonly region?: string;
  /** Account the factory placed the client in (undefined: the forensic account, the identity's own). */
  readonly account?: string;
  /** Who the call acts as. */
  readonly identity: CallIdentity;
  /** When the call was sent. */
  readonly startedAt: Date;
  /** The response, when the call succeeded. */
  readonly output?: Readonly<Record<string, unknown>>;
  /** The error's name and message, when it failed. */
  readonly error?: { readonly name: string; readonly message: string };
  /** The label of the work the call was made for (see {@link withCallLabel}), if any. */
  readonly label?: string;
}

/** Receives every call made through a factory client, once it has ended. Must not throw. */
export type CallObserver = (call: ObservedCall) => void;

let current: CallObserver | undefined;

/** Installs `observer` (or removes any with `undefined`); returns the one it replaces. */
export function setCallObserver(observer: CallObserver | undefined): CallObserver | undefined {
  const previous = current;
  current = observer;
  return previous;
}

/** The installed observer, if any. */
export function callObserver(): CallObserver | undefined {
  return current;
}

const labels = new AsyncLocalStorage<string>();

/**
 * Runs `fn` with every call it makes (directly or through anything it awaits) labelled `label`, e.g. the `flz`
 * command a drill step runs, so an observer can tell which command needed which permission.
 */
export function withCallLabel<T>(label: string, fn: () => Promise<T>): Promise<T> {
  return labels.run(label, fn);
}

function report(call: ObservedCall): void {
  const label = labels.getStore();
  try {
    current?.(label === undefined ? call : { ...call, label });
  } catch {
    // An observer is a bystander: its failure must never change what the command does.
  }
}

/** What the hook needs from an SDK command object. */
interface CommandLike {
  readonly input?: unknown;
  readonly constructor: { readonly name: string };
}

/** What the hook needs from an SDK client. */
interface SendingClient {
  readonly config: { readonly serviceId?: string; readonly defaultSigningName?: string; region?: unknown };
  send(command: CommandLike, ...rest: unknown[]): Promise<unknown>;
}

const asRecord = (value: unknown): Readonly<Record<string, unknown>> =>
  value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};

async function regionOf(client: SendingClient): Promise<string | undefined> {
  const region = client.config.region;
  if (typeof region === "string") return region;
  if (typeof region === "function") {
    const resolved: unknown = await (region as () => Promise<unknown>)();
    return typeof resolved === "string" ? resolved : undefined;
  }
  return undefined;
}

/**
 * Wraps `client.send` so every call is reported. The wrapper looks up the class's `send` at call time, so a test's
 * `aws-sdk-client-mock` stub on the class (installed before or after the client was made) still answers, and the
 * mocked call is observed like a real one: the code made it, so it must be authorized like one.
 */
export function observeClient(client: object, identity: CallIdentity, account: string | undefined): void {
  const target = client as SendingClient;
  const prototype = Object.getPrototypeOf(client) as SendingClient;
  const observed = async (command: CommandLike, ...rest: unknown[]): Promise<unknown> => {
    if (!current) return prototype.send.call(target, command, ...rest);
    const startedAt = new Date();
    const base = {
      signingName: target.config.defaultSigningName ?? "",
      serviceId: target.config.serviceId ?? "",
      operation: command.constructor.name.replace(/Command$/, ""),
      input: asRecord(command.input),
      account,
      identity,
      startedAt,
    };
    const region = await regionOf(target).catch(() => undefined);
    try {
      const output = await prototype.send.call(target, command, ...rest);
      report({ ...base, region, output: asRecord(output) });
      return output;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      report({ ...base, region, error: { name: e.name, message: e.message } });
      throw err;
    }
  };
  Object.defineProperty(client, "send", { value: observed, configurable: true, writable: true });
}

/**
 * A client plugin for the STS client a credential provider makes internally (`fromTemporaryCredentials`): that
 * client is not the factory's, so its `AssumeRole` is reported through middleware, as made by `identity`.
 */
export function observingPlugin(identity: CallIdentity, account: string | undefined): Pluggable<object, object> {
  // The provider applies its plugins each time it refreshes credentials, to the same client: add the middleware once.
  const applied = new WeakSet<object>();
  return {
    applyToStack(stack) {
      if (applied.has(stack)) return;
      applied.add(stack);
      stack.add(
        (next, context) => async (args) => {
          if (!current) return next(args);
          const startedAt = new Date();
          const base = {
            signingName: "sts",
            serviceId: "STS",
            operation: String((context as { commandName?: string }).commandName ?? "").replace(/Command$/, ""),
            input: asRecord(args.input),
            account,
            identity,
            startedAt,
          };
          try {
            const result = await next(args);
            report({ ...base, output: asRecord(result.output) });
            return result;
          } catch (err) {
            const e = err instanceof Error ? err : new Error(String(err));
            report({ ...base, error: { name: e.name, message: e.message } });
            throw err;
          }
        },
        { step: "initialize", name: "flzCallObserver" },
      );
    },
  };
}
