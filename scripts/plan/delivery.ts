/**
 * How the analyzer delivers property bags to rules, and what a FIRST `pulumi preview` knows of each resource. Every
 * bag goes through the policy SDK's own code (a protobuf `Struct`, `deserializeProperties`, `unknownCheckingProxy`),
 * so a rule that reads an unknown value throws the SDK's own `UnknownValueError`.
 */
import { UNKNOWN_SENTINELS } from "../../policies/lib/unknowns";
import type { RecordedResource } from "./mock-engine";

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

/**
 * What the engine would show a stack rule as a resource's outputs once it exists: the planned inputs, over the
 * values only the provider computes (ARNs, key IDs), plus the physical ID. Inputs win: a preview's planned state for
 * a create is the checked inputs plus computed values, so a recorded output never masks the input it echoed (a
 * mutated or hand-built resource whose `outputs` still hold the old echo must be judged on its inputs).
 */
export function outputsOf(resource: RecordedResource): Record<string, unknown> {
  return { ...(resource.outputs ?? {}), ...resource.inputs, id: resource.id };
}

/** Whether an error is the policy SDK's `UnknownValueError` (a rule read a value unknown during the preview). */
export function isUnknownValueError(error: unknown): error is Error {
  return error instanceof sdk.UnknownValueError;
}
