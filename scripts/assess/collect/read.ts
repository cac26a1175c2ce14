/**
 * Turning AWS calls into {@link Read}s: a call that fails is kept with its reason (the error code and first line),
 * and the errors that mean "there is none" (no bucket policy, no Object Lock configuration, no such role) become a
 * value, because an absent configuration is a fact the checks judge, not a failure to read.
 */
import { errorName } from "../../aws/backoff";
import { describeError } from "../../errors";
import type { Read } from "../types";

/** One line for a failed call: the error code and message (never a stack). */
export function reason(err: unknown): string {
  return describeError(err);
}

/**
 * Runs a read. `absent` maps error names that mean "not configured" to the value that says so.
 *
 * @param fn the call(s) to make.
 * @param absent error name → value to return instead of failing.
 */
export async function attempt<T>(fn: () => Promise<T>, absent: Record<string, T> = {}): Promise<Read<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    const name = errorName(err);
    if (name !== undefined && Object.prototype.hasOwnProperty.call(absent, name))
      return { ok: true, value: absent[name] };
    return { ok: false, error: reason(err) };
  }
}

/** Collects every page of a paginator into one array. */
export async function allPages<P, T>(pages: AsyncIterable<P>, items: (page: P) => T[] | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...(items(page) ?? []));
  return out;
}

/** A time (Date or string) as ISO text. */
export function isoTime(value: Date | string | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(typeof value === "number" ? value * 1000 : value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
