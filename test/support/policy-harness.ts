/**
 * Offline evaluation of the policy pack: runs the rule modules over the resources the recording mock engine captured,
 * the way the Pulumi engine's analyzer host (`@pulumi/policy` server) would during `pulumi preview --policy-pack`:
 *
 * - resource rules run once per resource with `type`, `props` (inputs), `urn`, `name`, `opts`, `provider`,
 *   `stackTags`, `isType`/`asType`, `getConfig` and a throwing `notApplicable`;
 * - stack rules run once with every resource (props = outputs; under mocks the inputs plus the physical `id`, and
 *   the mock's computed outputs when the recording carries them), parents, `dependencies` and `propertyDependencies`
 *   linked to the stack's resources;
 * - every property bag goes through the policy SDK's own delivery: `deserializeProperties` of a protobuf `Struct`,
 *   then `unknownCheckingProxy`, so a rule that reads a value unknown during preview throws the SDK's
 *   `UnknownValueError`, which is reported as the engine does: an advisory "can't run ... during preview";
 * - `preview: "create"` evaluates like a FIRST `pulumi preview` (every resource to be created): see
 *   {@link previewCreateProps};
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
import { UNKNOWN_SENTINELS } from "../../policies/lib/unknowns";
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

/**
 * One "can't run during preview" diagnostic: the rule read a value unknown during the preview. The engine reports it
 * as an advisory violation whatever the rule's level (it never fails the preview); the rule runs again at `pulumi up`.
 */
export interface PreviewUnknown {
  /** URN of the resource being validated (resource rules); absent for stack rules. */
  readonly urn?: string;
  /** Logical name of that resource, when there is one. */
  readonly name?: string;
  /** The engine's message: `can't run policy '<rule>' from policy pack '<pack>@v<version>' during preview: ...`. */
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
  /**
   * `fail`: violations; `pass`: applied and none; `cannot-run`: no violation, but the rule read a value unknown
   * during the preview (see `previewUnknowns`); `not-applicable`: applied to nothing; `disabled`: not run.
   */
  readonly status: "pass" | "fail" | "cannot-run" | "not-applicable" | "disabled";
  /** Violations, in resource order. */
  readonly violations: Violation[];
  /**
   * "can't run during preview" diagnostics (advisory in the engine); empty when every value the rule read was known.
   * Always set by {@link evaluatePack}; optional so verdicts read back from a plan's JSON stay valid.
   */
  readonly previewUnknowns?: PreviewUnknown[];
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
  /** "can't run during preview" diagnostics over all rules (advisory warnings in the engine); always set by {@link evaluatePack}. */
  readonly previewUnknowns?: number;
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
  /**
   * `"create"`: evaluate as a first `pulumi preview`, where every resource is to be created and every value the cloud
   * assigns is unknown (see {@link previewCreateProps}). Absent: every value known, as `pulumi up` and the previews
   * after it see them.
   */
  readonly preview?: "create";
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

const DEFAULT_OPTS = (parent?: string, protect = false): PolicyResourceOptions => ({
  protect,
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

/** The runtime shape of `@pulumi/policy/proxy` and `/deserialize` (their published typings are empty). */
interface PolicySdkInternals {
  unknownCheckingProxy<T>(value: T): T;
  UnknownValueError: new (...args: never[]) => Error;
  unknownStringValue: string;
  unknownNumberValue: string;
  unknownBooleanValue: string;
  unknownArrayValue: string;
  unknownObjectValue: string;
  deserializeProperties(
    struct: { toJavaScript(): Record<string, unknown> },
    proxySecrets: boolean,
  ): Record<string, unknown>;
}
/* eslint-disable @typescript-eslint/no-require-imports */
const sdk: PolicySdkInternals = {
  ...(require("@pulumi/policy/proxy") as Omit<PolicySdkInternals, "deserializeProperties">),
  deserializeProperties: (require("@pulumi/policy/deserialize") as Pick<PolicySdkInternals, "deserializeProperties">)
    .deserializeProperties,
};
const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as {
  Struct: { fromJavaScript(value: Record<string, unknown>): { toJavaScript(): Record<string, unknown> } };
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** The version the engine names the pack by in its messages (`policies/package.json`). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const PACK_VERSION = (require("../../policies/package.json") as { version: string }).version;

/**
 * A property bag as the analyzer hands it to a rule: marshalled into a protobuf `Struct` (the gRPC wire form:
 * `undefined` dropped, as the SDK drops it), deserialised by the policy SDK's own `deserializeProperties`, and
 * wrapped in its `unknownCheckingProxy`, which throws `UnknownValueError` when a rule reads an unknown sentinel.
 */
export function asAnalyzerDelivers(props: Record<string, unknown>): Record<string, unknown> {
  const wire = JSON.parse(JSON.stringify(props)) as Record<string, unknown>;
  return sdk.unknownCheckingProxy(sdk.deserializeProperties(Struct.fromJavaScript(wire), false));
}

/** The sentinel the engine sends for an unknown value of this shape (it marshals unknowns by their element type). */
function sentinelFor(value: unknown): string {
  if (typeof value === "boolean") return sdk.unknownBooleanValue;
  if (typeof value === "number") return sdk.unknownNumberValue;
  if (Array.isArray(value)) return sdk.unknownArrayValue;
  if (value !== null && typeof value === "object") return sdk.unknownObjectValue;
  return sdk.unknownStringValue;
}

/** The strings of a value's leaves that are unknown sentinels' replacements, i.e. everything a dependent cannot know. */
type UnknownStrings = ReadonlySet<string>;

/** Replaces every leaf string of `value` that contains one of `unknown` by the unknown-string sentinel. */
function markUnknownLeaves(value: unknown, unknown: UnknownStrings): unknown {
  if (typeof value === "string") {
    for (const u of unknown) if (value.includes(u)) return sdk.unknownStringValue;
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => markUnknownLeaves(v, unknown));
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, markUnknownLeaves(v, unknown)]));
  return value;
}

/** The string leaves of a value that are sentinels in `marked` while `original` held a real string there. */
function unknownLeafStrings(original: unknown, marked: unknown, into: Set<string>): void {
  if (
    typeof original === "string" &&
    typeof marked === "string" &&
    UNKNOWN_SENTINELS.has(marked) &&
    original !== marked
  ) {
    if (original !== "") into.add(original);
    return;
  }
  if (Array.isArray(original) && Array.isArray(marked)) {
    original.forEach((v, i) => unknownLeafStrings(v, marked[i], into));
    return;
  }
  if (original && marked && typeof original === "object" && typeof marked === "object") {
    for (const [k, v] of Object.entries(original)) unknownLeafStrings(v, (marked as Record<string, unknown>)[k], into);
  }
}

/** What a first preview knows of one resource: its inputs and its outputs, unknown values as sentinels. */
export interface PreviewProps {
  /** The inputs after the engine's Check, as resource rules see them. */
  readonly inputs: Record<string, unknown>;
  /** The planned state, as stack rules see it (inputs propagated, computed outputs unknown). */
  readonly outputs: Record<string, unknown>;
}

/**
 * What a FIRST `pulumi preview` knows of each resource (every resource is to be created):
 *
 * - the cloud has assigned nothing yet: the physical `id` and every output the provider computes (the mock's outputs
 *   that are not inputs: ARNs, key IDs, generated names) are unknown;
 * - an input built from an unknown value is unknown too. The recording holds resolved values, so the harness finds
 *   them through the engine's property dependencies: a leaf string of input `p` that contains an unknown value of a
 *   resource in `propertyDependencies[p]` (a computed output, or one of its own unknown inputs, transitively) is
 *   unknown. `bucket: bucket.id` and a policy document `JSON.stringify`-ed from `bucket.arn` both become unknown,
 *   as in a real preview; a plain object with one output inside keeps its other fields, as the SDK serialises it.
 *   When a value equals both a computed output and a known one (a bucket's ID is its explicit name), it is taken as
 *   unknown: the harder case for the rules.
 * - inputs propagate to the planned outputs (what stack rules see), as the engine does in a preview.
 *
 * Unknowns are the engine's sentinel strings, typed by the recorded value's shape.
 */
export function previewCreateProps(resources: readonly RecordedResource[]): Map<string, PreviewProps> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const done = new Map<string, PreviewProps & { unknown: UnknownStrings }>();
  const visiting = new Set<string>();
  const visit = (r: RecordedResource): PreviewProps & { unknown: UnknownStrings } => {
    const cached = done.get(r.urn);
    if (cached) return cached;
    if (visiting.has(r.urn)) return { inputs: r.inputs, outputs: outputsOf(r), unknown: new Set() };
    visiting.add(r.urn);
    const inputs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(r.inputs)) {
      const unknown = new Set<string>();
      for (const urn of r.propertyDependencies?.[key] ?? []) {
        const dep = byUrn.get(urn);
        if (dep && dep !== r) for (const u of visit(dep).unknown) unknown.add(u);
      }
      inputs[key] = unknown.size > 0 ? markUnknownLeaves(value, unknown) : value;
    }
    // What dependents cannot know of this resource: its computed outputs and its own unknown inputs.
    const unknown = new Set<string>();
    unknownLeafStrings(r.inputs, inputs, unknown);
    const outputs: Record<string, unknown> = { ...inputs };
    if (r.custom) {
      for (const [key, value] of Object.entries(r.outputs ?? {})) {
        if (key in r.inputs) continue;
        outputs[key] = sentinelFor(value);
        if (typeof value === "string" && value !== "") unknown.add(value);
      }
      outputs.id = sdk.unknownStringValue;
      if (r.id) unknown.add(r.id);
    } else {
      outputs.id = r.id;
    }
    const result = { inputs, outputs, unknown };
    visiting.delete(r.urn);
    done.set(r.urn, result);
    return result;
  };
  return new Map(resources.map((r) => [r.urn, visit(r)]));
}

/** The props each rule sees, per URN, for one evaluation mode. */
interface Views {
  readonly inputs: (r: RecordedResource) => Record<string, unknown>;
  readonly outputs: (r: RecordedResource) => Record<string, unknown>;
}

function viewsFor(resources: readonly RecordedResource[], preview: EvaluateOptions["preview"]): Views {
  if (preview !== "create") return { inputs: (r) => r.inputs, outputs: outputsOf };
  const planned = previewCreateProps(resources);
  return {
    inputs: (r) => planned.get(r.urn)?.inputs ?? r.inputs,
    outputs: (r) => planned.get(r.urn)?.outputs ?? outputsOf(r),
  };
}

function providerOf(
  resources: readonly RecordedResource[],
  resource: RecordedResource,
  views: Views,
): PolicyProviderResource | undefined {
  if (!resource.provider) return undefined;
  const urn = resource.provider.split("::").slice(0, -1).join("::");
  const provider = resources.find((r) => r.urn === urn);
  if (!provider) return undefined;
  return {
    type: provider.type,
    props: asAnalyzerDelivers(views.inputs(provider)),
    urn: provider.urn,
    name: provider.name,
  };
}

/**
 * What the engine would show a stack rule as a resource's outputs once it exists: the planned inputs, over the
 * values only the provider computes (ARNs, key IDs), plus the physical ID. Inputs win: a preview's planned state for
 * a create is the checked inputs plus computed values, so a recorded output never masks the input it echoed (a
 * mutated or hand-built resource whose `outputs` still hold the old echo must be judged on its inputs).
 */
export function outputsOf(resource: RecordedResource): Record<string, unknown> {
  return { ...(resource.outputs ?? {}), ...resource.inputs, id: resource.id };
}

/** The stack's resources as `analyzeStack` builds them: parent, dependencies and property dependencies linked. */
function stackResources(resources: readonly RecordedResource[], views: Views): PolicyResource[] {
  const built = resources.map((r) => {
    const props = asAnalyzerDelivers(views.outputs(r));
    const view: PolicyResource = {
      type: r.type,
      props,
      urn: r.urn,
      name: r.name,
      opts: DEFAULT_OPTS(r.parent, r.options?.protect === true),
      dependencies: [],
      propertyDependencies: {},
      isType: (cls) => isTypeOf(r.type, cls),
      asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as PolicyResource["asType"],
    };
    const provider = providerOf(resources, r, views);
    if (provider) view.provider = provider;
    return view;
  });
  const byUrn = new Map(built.map((v) => [v.urn, v]));
  const resolve = (urns: readonly string[]): PolicyResource[] =>
    urns.map((u) => byUrn.get(u)).filter((v): v is PolicyResource => v !== undefined);
  resources.forEach((r, i) => {
    const view = built[i];
    if (!view) return;
    if (r.parent && byUrn.has(r.parent)) view.parent = byUrn.get(r.parent);
    view.dependencies = resolve(r.options?.dependsOn ?? []);
    for (const [key, urns] of Object.entries(r.propertyDependencies ?? {}))
      view.propertyDependencies[key] = resolve(urns);
  });
  return built;
}

/** The engine's message for a rule that read an unknown value (`@pulumi/policy` server.js). */
function cannotRunMessage(rule: Rule, error: Error): string {
  return `can't run policy '${rule.name}' from policy pack '${PACK_NAME}@v${PACK_VERSION}' during preview: ${error.message}`;
}

function isUnknownValueError(error: unknown): error is Error {
  return error instanceof sdk.UnknownValueError;
}

interface RuleOutcome {
  applied: boolean;
  violations: Violation[];
  previewUnknowns: PreviewUnknown[];
}

async function runResourceRule(
  rule: Rule,
  resources: readonly RecordedResource[],
  options: EvaluateOptions,
  stackTags: ReadonlyMap<string, string>,
  views: Views,
): Promise<RuleOutcome> {
  const outcome: RuleOutcome = { applied: false, violations: [], previewUnknowns: [] };
  if (isStackRule(rule) || !rule.validateResource) return outcome;
  const validations = Array.isArray(rule.validateResource) ? rule.validateResource : [rule.validateResource];
  for (const resource of resources) {
    for (const validation of validations) {
      const props = asAnalyzerDelivers(views.inputs(resource));
      const args: ResourceValidationArgs = {
        type: resource.type,
        props,
        urn: resource.urn,
        name: resource.name,
        opts: DEFAULT_OPTS(resource.parent, resource.options?.protect === true),
        stackTags,
        isType: (cls) => isTypeOf(resource.type, cls),
        asType: ((cls: unknown) =>
          isTypeOf(resource.type, cls) ? props : undefined) as ResourceValidationArgs["asType"],
        getConfig: getConfigFor(options.config, rule.name),
        notApplicable: throwNotApplicable,
      };
      const provider = providerOf(resources, resource, views);
      if (provider) args.provider = provider;
      try {
        await validation(args, (message: string) =>
          outcome.violations.push({ urn: resource.urn, name: resource.name, message }),
        );
        outcome.applied = true;
      } catch (error) {
        if (error instanceof NotApplicableError) continue;
        if (isUnknownValueError(error)) {
          outcome.applied = true;
          outcome.previewUnknowns.push({
            urn: resource.urn,
            name: resource.name,
            message: cannotRunMessage(rule, error),
          });
          continue;
        }
        throw new Error(
          `rule ${rule.name} failed on ${resource.name} (${resource.type}): ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
  return outcome;
}

async function runStackRule(
  rule: Rule,
  stack: readonly PolicyResource[],
  options: EvaluateOptions,
  stackTags: ReadonlyMap<string, string>,
): Promise<RuleOutcome> {
  const outcome: RuleOutcome = { applied: false, violations: [], previewUnknowns: [] };
  if (!isStackRule(rule)) return outcome;
  const args: StackValidationArgs = {
    resources: [...stack],
    stackTags,
    getConfig: getConfigFor(options.config, rule.name),
    notApplicable: throwNotApplicable,
  };
  try {
    await rule.validateStack(args, (message: string, urn?: string) =>
      outcome.violations.push({ urn, name: urn ? nameFromUrn(urn) : undefined, message }),
    );
    outcome.applied = true;
  } catch (error) {
    if (error instanceof NotApplicableError) return { applied: false, violations: [], previewUnknowns: [] };
    if (!isUnknownValueError(error))
      throw new Error(
        `rule ${rule.name} failed on the stack: ${error instanceof Error ? error.message : String(error)}`,
      );
    // As the engine: violations reported before the unknown read stand; the rule adds an advisory diagnostic.
    outcome.applied = true;
    outcome.previewUnknowns.push({ message: cannotRunMessage(rule, error) });
  }
  return outcome;
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
  const views = viewsFor(resources, options.preview);
  let stack: PolicyResource[] | undefined;
  const policies: PolicyVerdict[] = [];
  for (const rule of rules) {
    const enforcementLevel = effectiveLevel(rule, options.config);
    const base = { name: rule.name, enforcementLevel, severity: rule.severity, description: rule.description };
    if (enforcementLevel === "disabled") {
      policies.push({ ...base, status: "disabled", violations: [], previewUnknowns: [] });
      continue;
    }
    const { applied, violations, previewUnknowns } = isStackRule(rule)
      ? await runStackRule(rule, (stack ??= stackResources(resources, views)), options, stackTags)
      : await runResourceRule(rule, resources, options, stackTags, views);
    policies.push({
      ...base,
      status:
        violations.length > 0
          ? "fail"
          : previewUnknowns.length > 0
            ? "cannot-run"
            : applied
              ? "pass"
              : "not-applicable",
      violations,
      previewUnknowns,
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
    previewUnknowns: policies.reduce((n, p) => n + (p.previewUnknowns?.length ?? 0), 0),
    passed: mandatoryViolations === 0,
  };
}

const STATUS_LABEL: Record<PolicyVerdict["status"], string> = {
  pass: "pass",
  fail: "FAIL",
  "cannot-run": "skip",
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
    for (const u of p.previewUnknowns ?? []) lines.push(`          ~ ${u.name ?? "(stack)"}: ${u.message}`);
  }
  const summary = verdict.passed
    ? `Policy pack ${verdict.pack}: passed (${verdict.advisoryViolations} advisory violation(s)${(verdict.previewUnknowns ?? 0) > 0 ? `, ${verdict.previewUnknowns} rule run(s) that can't run during preview` : ""}).`
    : `Policy pack ${verdict.pack}: FAILED with ${verdict.mandatoryViolations} mandatory violation(s) and ${verdict.advisoryViolations} advisory.`;
  return [`Policy pack ${verdict.pack}: ${verdict.policies.length} rules`, ...lines, summary].join("\n");
}
