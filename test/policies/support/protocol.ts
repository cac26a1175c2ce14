/**
 * Evaluating recorded resources through the live pack (see live-pack.ts) and reading its answers back as the same
 * verdicts the in-process evaluator (`scripts/plan/evaluate.ts`) returns, so the two can be compared rule by rule.
 *
 * The engine's side of the protocol, as the CLI plays it:
 * - `Configure`: one `PolicyConfig` per rule of the pack: its effective level (config, else `all`, else the rule's
 *   own, else the pack default) and the settings the config file gave, without schema defaults;
 * - `Analyze` once per resource with its inputs (a first preview's inputs in `preview: "create"`), its provider's
 *   inputs, and its options; a diagnostic without a URN belongs to the analysed resource;
 * - `AnalyzeStack` once with every resource's outputs, parent, dependencies and property dependencies;
 * - values unknown during the preview travel as the engine's sentinels; values listed in `secrets` travel as the
 *   engine's secret objects (`{ <sig key>: <secret sig>, value }`), which the SDK unwraps before a rule sees them.
 */
import type { EnforcementLevel, PolicyPackConfig } from "@pulumi/policy";
import { allRules } from "../../../policies/pack";
import { isStackRule, type Rule } from "../../../policies/lib/types";
import { outputsOf, previewCreateProps } from "../../../scripts/plan/delivery";
import type { PolicyVerdict } from "../../../scripts/plan/evaluate";
import type { RecordedResource } from "../../../scripts/plan/mock-engine";
import { effectiveLevel, ruleConfig } from "../../../scripts/plan/pack-config";
import { call, pb, type LivePack, type Message } from "./live-pack";

/* eslint-disable @typescript-eslint/no-require-imports */
const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as {
  Struct: { fromJavaScript(value: Record<string, unknown>): unknown };
};
const rpc = require("@pulumi/pulumi/runtime/rpc") as { specialSigKey: string; specialSecretSig: string };
/* eslint-enable @typescript-eslint/no-require-imports */

const LEVEL_ENUM: Record<EnforcementLevel, number> = { advisory: 0, mandatory: 1, disabled: 2, remediate: 3 };
const LEVEL_NAME = ["advisory", "mandatory", "disabled", "remediate"] as const;

/** Options of {@link verdictsOverProtocol}, as for `evaluatePack`. */
export interface ProtocolOptions {
  readonly rules?: readonly Rule[];
  readonly config?: PolicyPackConfig;
  readonly preview?: "create";
  readonly stackTags?: Record<string, string>;
  /** Top-level property names sent as secrets wherever they occur (default: documents, templates and tags). */
  readonly secrets?: readonly string[];
}

/** Properties that programs commonly mark secret or that the engine marks secret through `additionalSecretOutputs`. */
export const DEFAULT_SECRET_PROPERTIES = ["policy", "assumeRolePolicy", "content", "templateBody", "tags"];

/** The wire form of a property bag: unknowns as they are, chosen top-level values wrapped as secrets. */
function struct(props: Record<string, unknown>, secrets: readonly string[]): unknown {
  const wire = JSON.parse(JSON.stringify(props)) as Record<string, unknown>;
  for (const key of secrets) {
    if (wire[key] !== undefined) wire[key] = { [rpc.specialSigKey]: rpc.specialSecretSig, value: wire[key] };
  }
  return Struct.fromJavaScript(wire);
}

function message(name: string): Message {
  const Class = pb[name];
  if (!Class) throw new Error(`no generated message ${name}`);
  return new Class();
}

function set(m: Message, field: string, value: unknown): Message {
  const setter = m[`set${field}`];
  if (!setter) throw new Error(`no setter set${field}`);
  (setter as (v: unknown) => void).call(m, value);
  return m;
}

function options(r: RecordedResource): Message {
  const o = message("AnalyzerResourceOptions");
  set(o, "Protect", r.options?.protect === true);
  if (r.parent) set(o, "Parent", r.parent);
  return o;
}

function providerOf(
  resources: readonly RecordedResource[],
  r: RecordedResource,
  view: (r: RecordedResource) => Record<string, unknown>,
  secrets: readonly string[],
): Message | undefined {
  if (!r.provider) return undefined;
  const urn = r.provider.split("::").slice(0, -1).join("::");
  const p = resources.find((x) => x.urn === urn);
  if (!p) return undefined;
  const m = message("AnalyzerProviderResource");
  set(m, "Type", p.type);
  set(m, "Name", p.name);
  set(m, "Urn", p.urn);
  set(m, "Properties", struct(view(p), secrets));
  return m;
}

/** Sends `ConfigureStack` with the stack's tags (the pack keeps the last ones it was sent). */
export async function configureStack(pack: LivePack, tags: Record<string, string>): Promise<void> {
  const request = message("AnalyzerStackConfigureRequest");
  set(request, "Stack", "test");
  set(request, "Project", "policy-test");
  set(request, "Organization", "organization");
  set(request, "DryRun", true);
  const map = (request.getTagsMap as () => { set(k: string, v: string): void }).call(request);
  for (const [key, value] of Object.entries(tags)) map.set(key, value);
  await call(pack.client, "configureStack", request);
}

/** Sends `Configure` for one evaluation: every rule of the pack, those not evaluated disabled. */
export async function configure(pack: LivePack, rules: readonly Rule[], config?: PolicyPackConfig): Promise<void> {
  const request = message("ConfigureAnalyzerRequest");
  const map = (request.getPolicyconfigMap as () => { set(k: string, v: unknown): void }).call(request);
  const evaluated = new Set(rules.map((r) => r.name));
  for (const rule of allRules) {
    const entry = message("PolicyConfig");
    const level = evaluated.has(rule.name) ? effectiveLevel(rule, config) : "disabled";
    set(entry, "Enforcementlevel", LEVEL_ENUM[level]);
    const settings: Record<string, unknown> = { ...ruleConfig(config, rule.name) };
    delete settings.enforcementLevel;
    set(entry, "Properties", Struct.fromJavaScript(settings));
    map.set(rule.name, entry);
  }
  await call(pack.client, "configure", request);
}

interface Diagnostic {
  policy: string;
  level: string;
  urn?: string;
  message: string;
}

function diagnosticsOf(response: Message, defaultUrn?: string): Diagnostic[] {
  return (response.getDiagnosticsList as () => Message[])().map((d) => {
    const description = String(d.getDescription!());
    const raw = String(d.getMessage!());
    return {
      policy: String(d.getPolicyname!()),
      level: LEVEL_NAME[Number(d.getEnforcementlevel!())] ?? "advisory",
      urn: String(d.getUrn!()) || defaultUrn,
      // The SDK prefixes a violation's message with the rule's description and a newline.
      message: raw.startsWith(`${description}\n`) ? raw.slice(description.length + 1) : raw,
    };
  });
}

function notApplicableOf(response: Message): string[] {
  return (response.getNotApplicableList as () => Message[])().map((n) => String(n.getPolicyName!()));
}

/**
 * The verdicts of `rules` over `resources` as the live pack gives them through the protocol, shaped like
 * `evaluatePack`'s (status, level, violations with URN and message, "can't run during preview" diagnostics).
 */
export async function verdictsOverProtocol(
  pack: LivePack,
  resources: readonly RecordedResource[],
  opts: ProtocolOptions = {},
): Promise<PolicyVerdict[]> {
  const rules = opts.rules ?? allRules;
  const secrets = opts.secrets ?? DEFAULT_SECRET_PROPERTIES;
  await configureStack(pack, opts.stackTags ?? {});
  await configure(pack, rules, opts.config);
  const planned = opts.preview === "create" ? previewCreateProps(resources) : undefined;
  const inputs = (r: RecordedResource) => planned?.get(r.urn)?.inputs ?? r.inputs;
  const outputs = (r: RecordedResource) => planned?.get(r.urn)?.outputs ?? outputsOf(r);

  const diagnostics: Diagnostic[] = [];
  const notApplicable = new Map<string, number>();
  const count = (names: string[]) => names.forEach((n) => notApplicable.set(n, (notApplicable.get(n) ?? 0) + 1));
  if (rules.some((r) => !isStackRule(r))) {
    for (const r of resources) {
      const request = message("AnalyzeRequest");
      set(request, "Type", r.type);
      set(request, "Name", r.name);
      set(request, "Urn", r.urn);
      set(request, "Properties", struct(inputs(r), secrets));
      set(request, "Options", options(r));
      const provider = providerOf(resources, r, inputs, secrets);
      if (provider) set(request, "Provider", provider);
      const response = await call(pack.client, "analyze", request);
      diagnostics.push(...diagnosticsOf(response, r.urn));
      count(notApplicableOf(response));
    }
  }
  let stackNotApplicable: string[] = [];
  if (rules.some(isStackRule)) {
    const request = message("AnalyzeStackRequest");
    const list = resources.map((r) => {
      const m = message("AnalyzerResource");
      set(m, "Type", r.type);
      set(m, "Name", r.name);
      set(m, "Urn", r.urn);
      set(m, "Properties", struct(outputs(r), secrets));
      set(m, "Options", options(r));
      if (r.parent) set(m, "Parent", r.parent);
      set(m, "DependenciesList", r.options?.dependsOn ?? []);
      const deps = (m.getPropertydependenciesMap as () => { set(k: string, v: unknown): void }).call(m);
      for (const [key, urns] of Object.entries(r.propertyDependencies ?? {}))
        deps.set(key, set(message("AnalyzerPropertyDependencies"), "UrnsList", urns));
      const provider = providerOf(resources, r, inputs, secrets);
      if (provider) set(m, "Provider", provider);
      return m;
    });
    set(request, "ResourcesList", list);
    const response = await call(pack.client, "analyzeStack", request);
    diagnostics.push(...diagnosticsOf(response));
    stackNotApplicable = notApplicableOf(response);
  }

  return rules.map((rule) => {
    const level = effectiveLevel(rule, opts.config);
    const base = { name: rule.name, enforcementLevel: level, severity: rule.severity, description: rule.description };
    if (level === "disabled") return { ...base, status: "disabled", violations: [], previewUnknowns: [] };
    const mine = diagnostics.filter((d) => d.policy === rule.name);
    const cannotRun = mine.filter((d) => d.message.startsWith(`can't run policy '${rule.name}'`));
    const violations = mine
      .filter((d) => !cannotRun.includes(d))
      .map((d) => ({ urn: d.urn, name: d.urn?.split("::").pop(), message: d.message }));
    const applied = isStackRule(rule)
      ? !stackNotApplicable.includes(rule.name)
      : (notApplicable.get(rule.name) ?? 0) < resources.length;
    const status: PolicyVerdict["status"] =
      violations.length > 0 ? "fail" : cannotRun.length > 0 ? "cannot-run" : applied ? "pass" : "not-applicable";
    return {
      ...base,
      status,
      violations,
      previewUnknowns: cannotRun.map((d) => ({
        urn: isStackRule(rule) ? undefined : d.urn,
        name: isStackRule(rule) ? undefined : d.urn?.split("::").pop(),
        message: d.message,
      })),
    };
  });
}

/** A verdict reduced to what both sides must agree on, order-independent. */
export function comparable(v: PolicyVerdict): unknown {
  return {
    name: v.name,
    level: v.enforcementLevel,
    status: v.status,
    violations: v.violations.map((x) => `${x.urn ?? "(stack)"} ${x.message}`).sort(),
    previewUnknowns: (v.previewUnknowns ?? []).map((x) => `${x.urn ?? "(stack)"} ${x.message}`).sort(),
  };
}
