/**
 * Readers for resource properties. The engine hands rules untyped property bags (inputs for resource rules, outputs
 * for stack rules); these narrow one value at a time so a rule never trusts a shape it has not checked.
 */

/** A property bag as the engine passes it. */
export type Props = Record<string, unknown>;

/** The value as a plain object, or undefined. */
export function asRecord(value: unknown): Props | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Props) : undefined;
}

/** The value as an array (a lone value becomes a one-element array; absent becomes empty). */
export function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** The value as a string, or undefined. */
export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The value as a number (numeric strings accepted, as some providers send them), or undefined. */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/**
 * The value as a boolean. Launch templates carry booleans as the strings "true"/"false", so both spellings count.
 */
export function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  return undefined;
}

/** The string values of a list property (non-strings dropped). */
export function stringList(value: unknown): string[] {
  return asArray(value).filter((v): v is string => typeof v === "string");
}

/** A resource's tags (`tags` input), as a string map. */
export function tagsOf(props: Props): Record<string, string> {
  const tags = asRecord(props.tags) ?? {};
  return Object.fromEntries(Object.entries(tags).filter((e): e is [string, string] => typeof e[1] === "string"));
}
