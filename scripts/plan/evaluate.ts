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
 * Used by `npm run plan` and the policy tests. Never imports `policies/index.ts` (that starts a gRPC server).
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
import { asAnalyzerDelivers, isUnknownValueError, outputsOf, previewCreateProps } from "./delivery";
import type { RecordedResource } from "./mock-engine";
import { effectiveLevel, getConfigFor, validatePackConfig } from "./pack-config";

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

/** The version the engine names the pack by in its messages (`policies/package.json`). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const PACK_VERSION = (require("../../policies/package.json") as { version: string }).version;

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
  // A config may name any rule of the pack, also when only some rules are evaluated (as one file serves every run).
  if (options.config) validatePackConfig(options.config, [...allRules, ...rules.filter((r) => !allRules.includes(r))]);
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
