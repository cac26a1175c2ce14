/**
 * Resource-policy containment shared by `contain bucket` and `contain key` (pure): the deny statements they add, put
 * into the resource's existing policy beside its own statements (never replacing them), and taken out again on undo,
 * leaving whatever else changed in the policy since. Statements of ours are recognised by their Sid prefix.
 */
import { createHash } from "node:crypto";
import { canonicalize } from "json-canonicalize";
import type { PolicyDocument, PolicyStatement } from "../../components/documents";
import { OperationError } from "../errors";

/** Sid prefix of every containment statement flz puts into a resource policy. */
export const CONTAIN_SID_PREFIX = "FlzContain";

/** A stable Sid for a case's statement of one kind on one resource. */
export function containSid(caseId: string, kind: string, resource: string): string {
  return `${CONTAIN_SID_PREFIX}${createHash("sha256").update(`${caseId}\n${kind}\n${resource}`).digest("hex").slice(0, 20)}`;
}

/** Parses a policy text; an absent policy is an empty document. */
export function parsePolicy(text: string | undefined, what: string): PolicyDocument {
  if (text === undefined || text.trim() === "") return { Version: "2012-10-17", Statement: [] };
  try {
    const doc = JSON.parse(text) as PolicyDocument & { Statement?: unknown };
    const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
    return { ...doc, Version: doc.Version ?? "2012-10-17", Statement: statements as PolicyStatement[] };
  } catch {
    throw new OperationError(`the policy of ${what} is not JSON: fix it by hand before containing`);
  }
}

/** The policy with the given statements put in (replacing any of the same Sid), the others kept in order. */
export function withStatements(policy: PolicyDocument, statements: readonly PolicyStatement[]): PolicyDocument {
  const sids = new Set(statements.map((s) => s.Sid));
  return { ...policy, Statement: [...policy.Statement.filter((s) => !sids.has(s.Sid)), ...statements] };
}

/** The policy without the statements of these Sids. */
export function withoutStatements(policy: PolicyDocument, sids: readonly string[]): PolicyDocument {
  return { ...policy, Statement: policy.Statement.filter((s) => !sids.includes(s.Sid ?? "")) };
}

/** Whether the policy holds each statement exactly. */
export function holds(policy: PolicyDocument, statements: readonly PolicyStatement[]): boolean {
  return statements.every((s) => policy.Statement.some((p) => p.Sid === s.Sid && canonicalize(p) === canonicalize(s)));
}

/** The Sids of the statements the policy no longer holds as made. */
export function missing(policy: PolicyDocument, statements: readonly PolicyStatement[]): string[] {
  return statements.filter((s) => !holds(policy, [s])).map((s) => s.Sid ?? "?");
}
