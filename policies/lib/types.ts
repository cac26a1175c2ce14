/**
 * Shapes shared by every rule of the pack. A rule is a plain `@pulumi/policy` policy object with the metadata the
 * pack's documentation and the offline harness need beside it.
 */
import type { ResourceValidationPolicy, StackValidationPolicy, EnforcementLevel, Severity } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";

/** Pack-wide enforcement level: evidence-integrity rules block by default. */
export const DEFAULT_ENFORCEMENT: EnforcementLevel = "mandatory";

/** A rule's config schema, with the defaults the rule itself applies (the engine does not send them). */
export interface RuleConfigSchema {
  /** One JSON-schema entry per configurable key; every entry names its `default`. */
  readonly properties: Record<string, PolicyConfigJSONSchema>;
}

/** Metadata every rule of this pack carries, on top of what `@pulumi/policy` requires. */
interface RuleMetadata {
  /** Kebab-case name, unique in the pack. */
  readonly name: string;
  /** One sentence beginning "Checks whether ...". */
  readonly description: string;
  /** Default enforcement; a pack config can override it per rule. */
  readonly enforcementLevel: EnforcementLevel;
  /** How bad a violation is for an investigation. */
  readonly severity: Severity;
  /** What to change in the program to comply. */
  readonly remediationSteps: string;
  /** Configurable values and their defaults. */
  readonly configSchema: RuleConfigSchema;
}

/** A rule that checks one resource at a time. */
export type ResourceRule = ResourceValidationPolicy &
  RuleMetadata & { readonly validateResource: NonNullable<ResourceValidationPolicy["validateResource"]> };

/** A rule that checks the whole stack (joins across resources). */
export type StackRule = StackValidationPolicy & RuleMetadata;

/** Any rule of the pack. */
export type Rule = ResourceRule | StackRule;

/** Whether a rule checks the whole stack. */
export function isStackRule(rule: Rule): rule is StackRule {
  return typeof (rule as StackRule).validateStack === "function";
}
