/**
 * A policy pack configuration as `--policy-pack-config` takes it: validated the way `pulumi policy validate-config`
 * would, and resolved per rule the way the analyzer does (level, then settings without defaults).
 */
import type { EnforcementLevel, PolicyPackConfig } from "@pulumi/policy";
import type { Rule } from "../../policies/lib/types";

/** The pack default the real pack declares in policies/index.ts (applies to rules without a level). */
export const PACK_DEFAULT_ENFORCEMENT: EnforcementLevel = "advisory";

/** Settings of one rule in a pack config, normalised (a bare level becomes `{ enforcementLevel }`). */
export function ruleConfig(
  config: PolicyPackConfig | undefined,
  name: string,
): Record<string, unknown> & { enforcementLevel?: EnforcementLevel } {
  const entry = config?.[name];
  if (entry === undefined) return {};
  if (typeof entry === "string") return { enforcementLevel: entry };
  return entry as Record<string, unknown> & { enforcementLevel?: EnforcementLevel };
}

const LEVELS: EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

/**
 * Checks a pack config the way `pulumi policy validate-config` would: known rule names, known levels, known keys
 * with values of the schema's type. Throws one line naming the bad value and what would be valid.
 */
export function validatePackConfig(config: PolicyPackConfig, rules: readonly Rule[]): void {
  const names = rules.map((r) => r.name);
  for (const [name, entry] of Object.entries(config)) {
    if (name === "all") continue;
    const rule = rules.find((r) => r.name === name);
    if (!rule) throw new Error(`policy config names unknown rule "${name}"; valid rules: ${names.join(", ")}`);
    const settings = typeof entry === "string" ? { enforcementLevel: entry } : (entry as Record<string, unknown>);
    for (const [key, value] of Object.entries(settings)) {
      if (key === "enforcementLevel") {
        if (!LEVELS.includes(value as EnforcementLevel))
          throw new Error(`policy config ${name}.enforcementLevel is "${String(value)}"; valid: ${LEVELS.join(", ")}`);
        continue;
      }
      const schema = rule.configSchema.properties[key];
      if (!schema)
        throw new Error(
          `policy config ${name}.${key} is not a setting of ${name}; valid: ${Object.keys(rule.configSchema.properties).join(", ") || "(none)"}`,
        );
      const type = schema.type;
      const ok =
        type === "integer"
          ? Number.isInteger(value)
          : type === "number"
            ? typeof value === "number"
            : type === "array"
              ? Array.isArray(value)
              : type === undefined || typeof value === type;
      if (!ok) throw new Error(`policy config ${name}.${key} is ${JSON.stringify(value)}; expected ${String(type)}`);
      if (schema.enum && !schema.enum.includes(value as never))
        throw new Error(
          `policy config ${name}.${key} is ${JSON.stringify(value)}; valid: ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`,
        );
      if (
        typeof value === "number" &&
        ((schema.minimum !== undefined && value < schema.minimum) ||
          (schema.maximum !== undefined && value > schema.maximum))
      ) {
        throw new Error(
          `policy config ${name}.${key} is ${value}; valid range ${schema.minimum ?? "-∞"}..${schema.maximum ?? "∞"}`,
        );
      }
    }
  }
}

export function effectiveLevel(rule: Rule, config: PolicyPackConfig | undefined): EnforcementLevel {
  const all = ruleConfig(config, "all").enforcementLevel;
  const level =
    ruleConfig(config, rule.name).enforcementLevel ?? all ?? rule.enforcementLevel ?? PACK_DEFAULT_ENFORCEMENT;
  return level === "remediate" ? "mandatory" : level;
}

export function getConfigFor(config: PolicyPackConfig | undefined, name: string): <T extends object>() => T {
  return <T extends object>() => {
    const settings: Record<string, unknown> = { ...ruleConfig(config, name) };
    delete settings.enforcementLevel;
    return settings as T;
  };
}
