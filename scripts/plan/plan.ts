/**
 * The offline plan: runs a Pulumi TypeScript program (by default the landing-zone stack) under the recording mock
 * engine, with a stack configuration file, and reports every resource `pulumi up` would create with the account
 * and region it lands in, plus the stack outputs, and the policy pack's verdicts over the same resources (what
 * `pulumi preview --policy-pack policies` would report). No AWS credentials, no Pulumi CLI.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import type { PolicyPackConfig } from "@pulumi/policy";
import { MOCK_PROJECT, placementOf, providerOf, RecordedResource, runProgram } from "./mock-engine";
import { evaluatePack, type PackVerdict, type PolicyVerdict } from "./evaluate";
import { UsageError } from "../errors";

/** Repository root (this file lives in scripts/plan/). */
const ROOT = path.resolve(__dirname, "..", "..");
/** The landing-zone stack program. */
export const DEFAULT_PROGRAM = path.join(ROOT, "stacks", "index.ts");
/** The example stack configuration. */
export const DEFAULT_STACK_CONFIG = path.join(ROOT, "stacks", "Pulumi.example.yaml");

/** Options of {@link planProgram}. */
export interface PlanOptions {
  /** The Pulumi TypeScript program to run. Default: the landing-zone stack, `stacks/index.ts`. */
  readonly program?: string;
  /** A `Pulumi.<stack>.yaml` file whose `config:` the program sees. Default: `stacks/Pulumi.example.yaml`. */
  readonly stackConfig?: string;
  /** Config namespace assumed for keys written without one. Default: the project name, `forensic-landing-zone`. */
  readonly project?: string;
  /**
   * A policy pack configuration file (JSON, the format `pulumi preview --policy-pack-config` reads): rule name →
   * enforcement level, or `{ enforcementLevel, <settings> }`. Default: none (each rule's own level and defaults).
   */
  readonly policyConfig?: string;
  /**
   * Stack tags the rules see, as `pulumi stack tag set` would give them (e.g. `flz:stack-kind: account-baseline`,
   * which declares the stack an account baseline). Default: none.
   */
  readonly stackTags?: Record<string, string>;
}

/** One resource of the plan. */
export interface PlannedResource {
  /** Resource type token, e.g. `aws:s3/bucket:Bucket`. */
  readonly type: string;
  /** Logical name. */
  readonly name: string;
  /** Logical name of the parent component, or null for the stack's direct children. */
  readonly parent: string | null;
  /** Logical name of the explicit provider the resource is deployed through, or null (default provider, or a component). */
  readonly provider: string | null;
  /** Account the resource lands in (through its provider), or null for components. */
  readonly account: string | null;
  /** Region the resource lands in (through its provider), or null for components and global defaults. */
  readonly region: string | null;
  /** Whether this is a cloud resource (false: a component that only groups others). */
  readonly custom: boolean;
  /** The inputs the program passed, resolved (policy documents stay JSON text, as AWS receives them). */
  readonly inputs: Record<string, unknown>;
}

/** What `npm run plan` reports. */
export interface PlanResult {
  /** Every resource, in registration order. */
  readonly resources: PlannedResource[];
  /** The stack's exported outputs, resolved. */
  readonly outputs: Record<string, unknown>;
  /** The policy pack's verdict per rule over `resources`: `name`, `enforcementLevel`, `status`, `violations[]` (`urn`, `name`, `message`). */
  readonly policies: PolicyVerdict[];
  /** The pack's summary: whether `pulumi preview --policy-pack policies` would pass. */
  readonly policyPack: {
    /** Pack name. */
    readonly name: string;
    /** True when no mandatory rule is violated. */
    readonly passed: boolean;
    /** Violations of mandatory rules. */
    readonly mandatoryViolations: number;
    /** Violations of advisory rules. */
    readonly advisoryViolations: number;
  };
}

/** The pack verdict carried in a plan, in the shape `formatVerdicts` prints. */
export function verdictOf(plan: PlanResult): PackVerdict {
  return {
    pack: plan.policyPack.name,
    policies: plan.policies,
    mandatoryViolations: plan.policyPack.mandatoryViolations,
    advisoryViolations: plan.policyPack.advisoryViolations,
    passed: plan.policyPack.passed,
  };
}

/** Reads a policy pack configuration file (JSON object); a bad file is bad usage. */
export function readPolicyConfig(file: string): PolicyPackConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(
      `cannot read policy configuration ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}; pass --policy-config naming a JSON file`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`policy configuration ${file} is not JSON: ${(err as Error).message.split("\n")[0]}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new UsageError(
      `policy configuration ${file} must be a JSON object of rule name → level or settings, e.g. {"ec2-imdsv2-required": "advisory"}`,
    );
  return parsed as PolicyPackConfig;
}

/**
 * Reads the `config:` of a Pulumi stack file into the raw map the engine would hand the program: full
 * `namespace:key` names, strings as they are, structured values as JSON text (as Pulumi passes them).
 */
export function readStackConfig(file: string, project = MOCK_PROJECT): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(
      `cannot read stack configuration ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}; pass --stack-config naming a Pulumi.<stack>.yaml file`,
    );
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    throw new UsageError(`stack configuration ${file} is not YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  const config = (document as { config?: unknown } | null)?.config ?? {};
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new UsageError(`stack configuration ${file}: "config" must be a map of key: value`);
  }
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    const fullKey = key.includes(":") ? key : `${project}:${key}`;
    if (value && typeof value === "object" && !Array.isArray(value) && "secure" in value) {
      throw new UsageError(
        `stack configuration ${file}: ${fullKey} is a secret; the offline plan cannot decrypt it, give a plain value in a copy of the file`,
      );
    }
    raw[fullKey] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return raw;
}

/** Loads (or reloads) a program module and returns its exports; a program may also export a function. */
async function loadProgram(file: string): Promise<Record<string, unknown>> {
  // Pulumi programs register their resources when their module is evaluated: a second plan in the same process
  // must evaluate it again, not get the cached exports of the first.
  delete require.cache[require.resolve(file)];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(file) as unknown;
  const entry = typeof loaded === "function" ? loaded : (loaded as { default?: unknown }).default;
  if (typeof entry === "function") return ((await (entry as () => unknown)()) ?? {}) as Record<string, unknown>;
  return { ...(loaded as Record<string, unknown>) };
}

/** Turns an engine record into a plan entry (a pure function of the run). */
export function plannedResource(
  run: { resources: RecordedResource[] },
  resource: RecordedResource,
  defaultRegion: string | null,
): PlannedResource {
  const byUrn = (urn: string | undefined) => (urn ? run.resources.find((r) => r.urn === urn) : undefined);
  const provider = providerOf(run, resource);
  let account: string | null = null;
  let region: string | null = null;
  if (resource.type.startsWith("pulumi:providers:")) {
    // A provider lands where its own settings point.
    const self = placementOf({ resources: [resource] }, { ...resource, provider: `${resource.urn}::self` });
    account = self.account ?? null;
    region = self.region ?? defaultRegion;
  } else if (resource.custom) {
    const placement = placementOf(run, resource);
    account = placement.account ?? null;
    region = placement.region ?? defaultRegion;
  }
  return {
    type: resource.type,
    name: resource.name,
    parent: byUrn(resource.parent)?.name ?? null,
    provider: provider?.name ?? null,
    account,
    region,
    custom: resource.custom,
    inputs: resource.inputs,
  };
}

/**
 * Runs a program under the recording mock engine with a stack configuration and returns its plan.
 * Configuration errors of the landing-zone stack surface as {@link UsageError}s.
 */
export async function planProgram(options: PlanOptions = {}): Promise<PlanResult> {
  const program = path.resolve(options.program ?? DEFAULT_PROGRAM);
  try {
    require.resolve(program);
  } catch {
    throw new UsageError(`program ${program} not found; pass --program <file> naming a Pulumi TypeScript program`);
  }
  const config = readStackConfig(options.stackConfig ?? DEFAULT_STACK_CONFIG, options.project);
  const policyConfig = options.policyConfig === undefined ? undefined : readPolicyConfig(options.policyConfig);
  let run;
  try {
    run = await runProgram(() => loadProgram(program), config);
  } catch (err) {
    // The stack reports configuration mistakes as RunErrors (one line, no stack trace).
    if (pulumi.RunError.isInstance(err)) throw new UsageError(err.message);
    throw err;
  }
  const defaultRegion = config["aws:region"] ?? null;
  let verdict: PackVerdict;
  try {
    verdict = await evaluatePack(run.resources, { config: policyConfig, stackTags: options.stackTags });
  } catch (err) {
    // A config naming an unknown rule, key or level is the caller's mistake; a crashing rule is not.
    if (policyConfig !== undefined && /^policy config /.test((err as Error).message))
      throw new UsageError(`${options.policyConfig ?? ""}: ${(err as Error).message}`);
    throw err;
  }
  return {
    resources: run.resources.map((r) => plannedResource(run, r, defaultRegion)),
    outputs: run.outputs,
    policies: verdict.policies,
    policyPack: {
      name: verdict.pack,
      passed: verdict.passed,
      mandatoryViolations: verdict.mandatoryViolations,
      advisoryViolations: verdict.advisoryViolations,
    },
  };
}
