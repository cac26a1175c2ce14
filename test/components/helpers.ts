/**
 * Small readers over a recorded run, shared by the component and stack tests: find resources by type and name,
 * and parse the JSON documents (policies, templates) the components pass as text.
 */
import { expect } from "chai";
import type { PolicyDocument, PolicyStatement } from "../../components/documents";
import type { RecordedResource } from "../../scripts/plan/mock-engine";

/** A recorded run. */
export interface Run {
  readonly resources: RecordedResource[];
}

/** Every resource of a type. */
export function allOf(run: Run, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.type === type);
}

/** The one resource of a type (whose name ends with `suffix`, when given); fails the test otherwise. */
export function one(run: Run, type: string, suffix?: string): RecordedResource {
  const found = allOf(run, type).filter((r) => suffix === undefined || r.name.endsWith(suffix));
  expect(
    found,
    `exactly one ${type}${suffix ? ` named *${suffix}` : ""}; got ${found.map((r) => r.name).join(", ")}`,
  ).to.have.length(1);
  return found[0];
}

/** Parses a JSON-text input (a policy document or a template). */
export function json<T = PolicyDocument>(resource: RecordedResource, key: string): T {
  const raw = resource.inputs[key];
  expect(raw, `${resource.name}.${key}`).to.be.a("string");
  return JSON.parse(raw as string) as T;
}

/** The statements of a policy input. */
export function statements(resource: RecordedResource, key = "policy"): PolicyStatement[] {
  return json<PolicyDocument>(resource, key).Statement;
}

/** Actions of a statement as a list. */
export function actions(statement: PolicyStatement): string[] {
  const a = statement.Action ?? [];
  return Array.isArray(a) ? a : [a];
}

/** Whether a statement grants (or denies) `action` to anything, by exact name or `service:*` / prefix wildcard. */
export function covers(statement: PolicyStatement, action: string): boolean {
  return actions(statement).some(
    (a) => a === action || a === "*" || (a.endsWith("*") && action.startsWith(a.slice(0, -1))),
  );
}

/** The URN of a recorded resource's parent resource, resolved to the resource. */
export function parentOf(run: Run, resource: RecordedResource): RecordedResource | undefined {
  return run.resources.find((r) => r.urn === resource.parent);
}
