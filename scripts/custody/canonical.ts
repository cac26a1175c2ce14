/**
 * Canonical JSON (RFC 8785, JSON Canonicalization Scheme): sorted keys, no whitespace, ECMAScript number and string
 * serialisation. A record's hash is taken over these bytes, so any verifier in any language that implements RFC 8785
 * recomputes the same hash. `json-canonicalize` does the serialisation; this module adds the strictness a custody
 * record needs (no `undefined`, no NaN, no functions, no class instances silently turned into something else).
 */
import { canonicalize } from "json-canonicalize";
import type { JsonValue } from "./types";

/** Serialises a JSON value canonically (RFC 8785). */
export function canonicalJson(value: JsonValue): string {
  return canonicalize(value);
}

/**
 * Deep-copies an arbitrary value into a plain JSON value, dropping object keys whose value is `undefined` (they are
 * absent, as in `JSON.stringify`) and refusing anything that JSON cannot carry faithfully. Refusing, rather than
 * coercing NaN to null as `JSON.stringify` does, keeps what was recorded equal to what the caller meant.
 * @param path where the value sits, for the error message
 */
export function toJsonValue(value: unknown, path = "value"): JsonValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`${path} is ${value}: custody records hold finite numbers only`);
    return value;
  }
  if (Array.isArray(value))
    return value.map((item, i) => toJsonValue(item === undefined ? null : item, `${path}[${i}]`));
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(
        `${path} is a ${(value as object).constructor?.name ?? "non-plain object"}: convert it to a string or plain object first`,
      );
    }
    const out: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (item !== undefined) out[key] = toJsonValue(item, `${path}.${key}`);
    }
    return out;
  }
  throw new TypeError(`${path} is a ${typeof value}: custody records hold JSON values only`);
}
