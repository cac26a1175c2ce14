/**
 * Offline evaluation of the policy pack: runs the rule modules over the resources the recording mock engine captured,
 * the way the Pulumi engine's analyzer host (`@pulumi/policy` server) would during `pulumi preview --policy-pack`:
 *
 * - resource rules run once per resource with `type`, `props` (inputs), `urn`, `name`, `opts`, `provider`,
 *   `stackTags`, `isType`/`asType`, `getConfig` and a throwing `notApplicable`;
 * - stack rules run once with every resource (props = outputs; under mocks the inputs plus the physical `id`, and
 *   the mock's computed outputs when the recording carries them), parents linked;
 * - enforcement: the pack config's level for the rule, else the rule's own, else the pack default (advisory);
 *   `disabled` skips the rule, `remediate` reports as mandatory;
 * - `getConfig()` returns only what the config sent (never the schema defaults: rules apply those themselves).
 *
 * Used by the policy tests and by `npm run plan`. Never imports `policies/index.ts` (that starts a gRPC server).
 */
import type {
  EnforcementLevel,
  PolicyPackConfig,
  PolicyProviderResource,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  Severity,
  StackValidationArgs,
} from "@pulumi/policy";
import { allRules, PACK_NAME } from "../../policies/pack";
import { isStackRule, type Rule } from "../../policies/lib/types";
import type { RecordedResource } from "./mock-engine";

/** The pack default the real pack declares in policies/index.ts (applies to rules without a level). */
export const PACK_DEFAULT_ENFORCEMENT: EnforcementLevel = "advisory";

/** One reported violation. */
export interface Violation {
  /** URN of the offending resource; absent when a stack rule blames the stack as a whole. */
  readonly urn?: string;
  /** Logical name of the offending resource (from the URN), when there is one. */
  readonly name?: string;
  /** What is wrong and what to do, as the rule reported it. */
  readonly message: string;
}

/** The outcome of one rule over the program. */
export interface PolicyVerdict {
  /** Rule name. */
  readonly name: string;
  /** Effective enforcement level (after config; `remediate` reported as `mandatory`). */
  readonly enforcementLevel: EnforcementLevel;
  /** Rule severity. */
  readonly severity?: Severity;
  /** Rule description. */
  readonly description: string;
  /** `fail`: violations; `pass`: applied and none; `not-applicable`: applied to nothing; `disabled`: not run. */
  readonly status: "pass" | "fail" | "not-applicable" | "disabled";
  /** Violations, in resource order. */
  readonly violations: Violation[];
}

/** The outcome of the whole pack. */
export interface PackVerdict {
  /** Pack name. */
  readonly pack: string;
  /** One verdict per rule, in pack order. */
  readonly policies: PolicyVerdict[];
  /** Violations of mandatory rules (what makes `pulumi preview` fail). */
  readonly mandatoryViolations: number;
  /** Violations of advisory rules (printed as warnings). */
  readonly advisoryViolations: number;
  /** True when no mandatory rule is violated. */
  readonly passed: boolean;
}

/** Options of {@link evaluatePack}. */
export interface EvaluateOptions {
  /** Pack configuration as given to `--policy-pack-config` (rule name → level, or object with `enforcementLevel` and settings). */
  readonly config?: PolicyPackConfig;
  /** Stack tags the engine would pass. */
  readonly stackTags?: Record<string, string>;
  /** Rules to run instead of the whole pack (tests of one rule). */
  readonly rules?: readonly Rule[];
}

class NotApplicableError extends Error {
  constructor(readonly reason?: string) {
    super(reason ?? "Policy does not apply");
  }
}

function throwNotApplicable(reason?: string): never {
  throw new NotApplicableError(reason);
}

/** Settings of one rule in a pack config, normalised (a bare level becomes `{ enforcementLevel }`). */
function ruleConfig(
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

function effectiveLevel(rule: Rule, config: PolicyPackConfig | undefined): EnforcementLevel {
  const all = ruleConfig(config, "all").enforcementLevel;
  const level =
    ruleConfig(config, rule.name).enforcementLevel ?? all ?? rule.enforcementLevel ?? PACK_DEFAULT_ENFORCEMENT;
  return level === "remediate" ? "mandatory" : level;
}

function getConfigFor(config: PolicyPackConfig | undefined, name: string): <T extends object>() => T {
  return <T extends object>() => {
    const settings: Record<string, unknown> = { ...ruleConfig(config, name) };
    delete settings.enforcementLevel;
    return settings as T;
  };
}

function isTypeOf(type: string, resourceClass: unknown): boolean {
  const token = (resourceClass as { __pulumiType?: unknown }).__pulumiType;
  if (typeof token === "string" && token.length > 0) return type === token;
  const isInstance = (resourceClass as { isInstance?: (o: unknown) => boolean }).isInstance;
  return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

const DEFAULT_OPTS = (parent?: string): PolicyResourceOptions => ({
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
  parent,
});

/** The logical name in a URN (its last `::` segment). */
export function nameFromUrn(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

function providerOf(
  resources: readonly RecordedResource[],
  resource: RecordedResource,
): PolicyProviderResource | undefined {
  if (!resource.provider) return undefined;
  const urn = resource.provider.split("::").slice(0, -1).join("::");
  const provider = resources.find((r) => r.urn === urn);
  if (!provider) return undefined;
  return { type: provider.type, props: provider.inputs, urn: provider.urn, name: provider.name };
}

/**
 * What the engine would show a stack rule as a resource's outputs during a preview: the planned inputs, over the
 * values only the provider computes (ARNs, key IDs), plus the physical ID. Inputs win: a preview's planned state for
 * a create is the checked inputs plus computed values, so a recorded output never masks the input it echoed (a
 * mutated or hand-built resource whose `outputs` still hold the old echo must be judged on its inputs).
 */
export function outputsOf(resource: RecordedResource): Record<string, unknown> {
  return { ...(resource.outputs ?? {}), ...resource.inputs, id: resource.id };
}

function stackResources(resources: readonly RecordedResource[]): PolicyResource[] {
  const views = resources.map((r) => {
    const view: PolicyResource = {
      type: r.type,
      props: outputsOf(r),
      urn: r.urn,
      name: r.name,
      opts: DEFAULT_OPTS(r.parent),
      dependencies: [],
      propertyDependencies: {},
      isType: (cls) => isTypeOf(r.type, cls),
      asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? outputsOf(r) : undefined)) as PolicyResource["asType"],
    };
    const provider = providerOf(resources, r);
    if (provider) view.provider = provider;
    return view;
  });
  const byUrn = new Map(views.map((v) => [v.urn, v]));
  resources.forEach((r, i) => {
    const view = views[i];
    if (view && r.parent && byUrn.has(r.parent)) view.parent = byUrn.get(r.parent);
  });
  return views;
}

async function runResourceRule(
  rule: Rule,
  resources: readonly RecordedResource[],
  options: EvaluateOptions,
  stackTags: ReadonlyMap<string, string>,
): Promise<{ applied: boolean; violations: Violation[] }> {
  if (isStackRule(rule) || !rule.validateResource) return { applied: false, violations: [] };
  const validations = Array.isArray(rule.validateResource) ? rule.validateResource : [rule.validateResource];
  const violations: Violation[] = [];
  let applied = false;
  for (const resource of resources) {
    for (const validation of validations) {
      const args: ResourceValidationArgs = {
        type: resource.type,
        props: resource.inputs,
        urn: resource.urn,
        name: resource.name,
        opts: DEFAULT_OPTS(resource.parent),
        stackTags,
        isType: (cls) => isTypeOf(resource.type, cls),
        asType: ((cls: unknown) =>
          isTypeOf(resource.type, cls) ? resource.inputs : undefined) as ResourceValidationArgs["asType"],
        getConfig: getConfigFor(options.config, rule.name),
        notApplicable: throwNotApplicable,
      };
      const provider = providerOf(resources, resource);
      if (provider) args.provider = provider;
      try {
        await validation(args, (message: string) =>
          violations.push({ urn: resource.urn, name: resource.name, message }),
        );
        applied = true;
      } catch (error) {
        if (error instanceof NotApplicableError) continue;
        throw new Error(
          `rule ${rule.name} failed on ${resource.name} (${resource.type}): ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
  return { applied, violations };
}

async function runStackRule(
  rule: Rule,
  resources: readonly RecordedResource[],
  options: EvaluateOptions,
  stackTags: ReadonlyMap<string, string>,
): Promise<{ applied: boolean; violations: Violation[] }> {
  if (!isStackRule(rule)) return { applied: false, violations: [] };
  const violations: Violation[] = [];
  const args: StackValidationArgs = {
    resources: stackResources(resources),
    stackTags,
    getConfig: getConfigFor(options.config, rule.name),
    notApplicable: throwNotApplicable,
  };
  try {
    await rule.validateStack(args, (message: string, urn?: string) =>
      violations.push({ urn, name: urn ? nameFromUrn(urn) : undefined, message }),
    );
    return { applied: true, violations };
  } catch (error) {
    if (error instanceof NotApplicableError) return { applied: false, violations: [] };
    throw new Error(`rule ${rule.name} failed on the stack: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Evaluates the pack (or `options.rules`) over recorded resources, as the engine would during a preview.
 *
 * @param resources what `runProgram` recorded.
 * @param options pack config, stack tags, or a subset of rules.
 * @throws Error naming the bad key when the config is invalid, or the rule and resource when a rule crashes.
 */
export async function evaluatePack(
  resources: readonly RecordedResource[],
  options: EvaluateOptions = {},
): Promise<PackVerdict> {
  const rules = options.rules ?? allRules;
  if (options.config) validatePackConfig(options.config, rules);
  const stackTags: ReadonlyMap<string, string> = new Map(Object.entries(options.stackTags ?? {}));
  const policies: PolicyVerdict[] = [];
  for (const rule of rules) {
    const enforcementLevel = effectiveLevel(rule, options.config);
    const base = { name: rule.name, enforcementLevel, severity: rule.severity, description: rule.description };
    if (enforcementLevel === "disabled") {
      policies.push({ ...base, status: "disabled", violations: [] });
      continue;
    }
    const { applied, violations } = isStackRule(rule)
      ? await runStackRule(rule, resources, options, stackTags)
      : await runResourceRule(rule, resources, options, stackTags);
    policies.push({
      ...base,
      status: violations.length > 0 ? "fail" : applied ? "pass" : "not-applicable",
      violations,
    });
  }
  const count = (level: EnforcementLevel): number =>
    policies.filter((p) => p.enforcementLevel === level).reduce((n, p) => n + p.violations.length, 0);
  const mandatoryViolations = count("mandatory");
  return {
    pack: PACK_NAME,
    policies,
    mandatoryViolations,
    advisoryViolations: count("advisory"),
    passed: mandatoryViolations === 0,
  };
}

const STATUS_LABEL: Record<PolicyVerdict["status"], string> = {
  pass: "pass",
  fail: "FAIL",
  "not-applicable": "n/a ",
  disabled: "off ",
};

/** A people-readable report: one line per rule, violations under it, and a summary line. */
export function formatVerdicts(verdict: PackVerdict): string {
  const lines: string[] = [];
  for (const p of verdict.policies) {
    const label = p.status === "fail" && p.enforcementLevel === "advisory" ? "warn" : STATUS_LABEL[p.status];
    lines.push(`  ${label}  ${p.name} (${p.enforcementLevel}${p.severity ? `, ${p.severity}` : ""})`);
    for (const v of p.violations) lines.push(`          - ${v.name ?? "(stack)"}: ${v.message}`);
  }
  const summary = verdict.passed
    ? `Policy pack ${verdict.pack}: passed (${verdict.advisoryViolations} advisory violation(s)).`
    : `Policy pack ${verdict.pack}: FAILED with ${verdict.mandatoryViolations} mandatory violation(s) and ${verdict.advisoryViolations} advisory.`;
  return [`Policy pack ${verdict.pack}: ${verdict.policies.length} rules`, ...lines, summary].join("\n");
}
