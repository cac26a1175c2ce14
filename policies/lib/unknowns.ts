/**
 * Reading properties that may be unknown. During `pulumi preview` a value the cloud has not assigned yet (a new
 * bucket's ID, a new key's ARN, anything built from them) reaches a rule as a sentinel string inside a proxy
 * (`@pulumi/policy` `unknownCheckingProxy`): the moment a rule reads it, the proxy throws `UnknownValueError`, and the
 * analyzer reports the whole rule as "can't run during preview" (advisory), whatever it had left to check. Rules read
 * properties they are not sure about through {@link read}, which looks at the raw value without tripping the proxy,
 * so they can decide first whether they need the value at all and what to do when it is unknown.
 */

/** Marks a value that is unknown during this preview. */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");

/** A value as read by {@link read}: the value, or {@link UNKNOWN}. */
export type Maybe<T> = T | typeof UNKNOWN;

/** The shape of `@pulumi/policy/proxy` at runtime (its published typings are empty). */
interface PolicyProxyModule {
  readonly unknownBooleanValue: string;
  readonly unknownNumberValue: string;
  readonly unknownStringValue: string;
  readonly unknownArrayValue: string;
  readonly unknownAssetValue: string;
  readonly unknownArchiveValue: string;
  readonly unknownObjectValue: string;
}

// The sentinels come from the policy SDK itself, so the pack recognises exactly what its analyzer sends.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const proxyModule = require("@pulumi/policy/proxy") as PolicyProxyModule;

/** The sentinel strings the engine and the policy SDK use for values unknown during preview. */
export const UNKNOWN_SENTINELS: ReadonlySet<string> = new Set([
  proxyModule.unknownBooleanValue,
  proxyModule.unknownNumberValue,
  proxyModule.unknownStringValue,
  proxyModule.unknownArrayValue,
  proxyModule.unknownAssetValue,
  proxyModule.unknownArchiveValue,
  proxyModule.unknownObjectValue,
]);

/** Whether a raw value is an unknown sentinel (or already read as {@link UNKNOWN}). */
export function isUnknown(value: unknown): value is typeof UNKNOWN {
  return value === UNKNOWN || (typeof value === "string" && UNKNOWN_SENTINELS.has(value));
}

/**
 * The property `key` of `holder` (an object or array, proxied or not): its value, `undefined` when absent, or
 * {@link UNKNOWN}. Never throws: it inspects the raw value through the property descriptor (the proxy traps only
 * `get`) and reads through the proxy only a known value, so nested values stay guarded.
 */
export function read(holder: unknown, key: string | number): Maybe<unknown> {
  if (holder === null || typeof holder !== "object") return undefined;
  const descriptor = Object.getOwnPropertyDescriptor(holder, String(key));
  if (!descriptor) return undefined;
  if (isUnknown(descriptor.value)) return UNKNOWN;
  return (holder as Record<string, unknown>)[String(key)];
}

/** Reads a path of keys; {@link UNKNOWN} as soon as one step is unknown, undefined when one is absent. */
export function readPath(holder: unknown, ...path: Array<string | number>): Maybe<unknown> {
  let current: unknown = holder;
  for (const key of path) {
    current = read(current, key);
    if (current === UNKNOWN || current === undefined) return current;
  }
  return current;
}

/** The elements of a list property (a lone value is a one-element list); each element may be {@link UNKNOWN}. */
export function elements(value: Maybe<unknown>): Array<Maybe<unknown>> {
  if (value === undefined || value === null) return [];
  if (value === UNKNOWN) return [UNKNOWN];
  if (!Array.isArray(value)) return [value];
  const out: Array<Maybe<unknown>> = [];
  for (let i = 0; i < value.length; i += 1) out.push(read(value, i));
  return out;
}

/** Whether any value inside `value` (deeply) is unknown, without tripping a proxy. */
export function containsUnknown(value: unknown): boolean {
  if (isUnknown(value)) return true;
  if (value === null || typeof value !== "object") return false;
  for (const key of Object.keys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (!descriptor) continue;
    if (isUnknown(descriptor.value)) return true;
    if (containsUnknown((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/**
 * Reads an unknown property on purpose, so the policy SDK's proxy throws its own `UnknownValueError` (naming the
 * property) and the analyzer reports the rule as "can't run during preview". Rules call it last, after reporting
 * everything they could decide, for values that no program can know before creation (see docs/policies.md).
 * `path` leads from `holder` to the unknown value; the first unknown step is the one read.
 */
export function deferToUpdate(holder: unknown, ...path: Array<string | number>): never {
  let current: unknown = holder;
  for (const key of path) {
    if (read(current, key) === UNKNOWN) void (current as Record<string, unknown>)[String(key)];
    current = read(current, key);
  }
  // Only reached when the holder is not the analyzer's proxy (a rule called directly): stop all the same.
  throw new Error(`value at .${path.join(".")} can't be known during preview`);
}
