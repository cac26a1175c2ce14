/**
 * Config with defaults. The engine's `getConfig()` returns only what the pack configuration sent (REFERENCE.md), so
 * every rule reads its settings through {@link configOf}, which fills in the schema's defaults itself.
 */
import type { RuleConfigSchema } from "./types";

/** Anything that can hand a rule its configuration (resource and stack validation args both can). */
export interface ConfigSource {
  /** Returns what the engine sent for this rule, without defaults. */
  getConfig<T extends object>(): T;
}

/** The schema's defaults, keyed like the schema. */
export function schemaDefaults(schema: RuleConfigSchema): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties)) {
    if (property.default !== undefined) defaults[key] = property.default;
  }
  return defaults;
}

/** The rule's configuration: what the engine sent, over the schema's defaults. */
export function configOf<T extends object>(source: ConfigSource, schema: RuleConfigSchema): T {
  const sent = source.getConfig<Record<string, unknown>>();
  const merged: Record<string, unknown> = { ...schemaDefaults(schema) };
  for (const [key, value] of Object.entries(sent ?? {})) {
    if (value !== undefined && key !== "enforcementLevel") merged[key] = value;
  }
  return merged as T;
}
