/**
 * Reading IAM policy documents (identity, trust, bucket, key policies, SCPs) as they arrive in resource properties:
 * a JSON string (what `pulumi.jsonStringify` produces) or an object. Decisions here are pure and shared by the
 * storage, kms, iam and organization rules.
 */
import { asArray, asRecord, asString, stringList } from "./values";

/**
 * A principal element as written. Declared here rather than imported from components/documents so the pack stays
 * self-contained (`pulumi policy publish` uploads only this folder).
 */
export type Principal = "*" | { AWS?: string | string[]; Service?: string | string[]; Federated?: string | string[] };

/** A statement with its list-valued elements normalised to arrays. */
export interface Statement {
  /** The statement's Sid, if any. */
  readonly sid?: string;
  /** "Allow" or "Deny" (anything else is read as "Allow", the dangerous reading). */
  readonly effect: "Allow" | "Deny";
  /** `Principal` as written (undefined for identity policies). */
  readonly principal?: Principal;
  /** Whether the statement uses `NotPrincipal`. */
  readonly notPrincipal: boolean;
  /** `Action` values (empty when `NotAction` is used). */
  readonly actions: string[];
  /** `NotAction` values. */
  readonly notActions: string[];
  /** `Resource` values (empty when `NotResource` is used). */
  readonly resources: string[];
  /** `NotResource` values. */
  readonly notResources: string[];
  /** Condition block: operator → key → values. */
  readonly condition: Record<string, Record<string, string[]>>;
}

/**
 * The statements of a document, or undefined when the value is not a readable policy document. Rules treat an
 * unreadable document as a violation: a guardrail that cannot read a policy must not pass it.
 */
export function statementsOf(document: unknown): Statement[] | undefined {
  let parsed: unknown = document;
  if (typeof document === "string") {
    try {
      parsed = JSON.parse(document);
    } catch {
      return undefined;
    }
  }
  const doc = asRecord(parsed);
  if (!doc || doc.Statement === undefined) return undefined;
  const statements: Statement[] = [];
  for (const raw of asArray(doc.Statement)) {
    const s = asRecord(raw);
    if (!s) return undefined;
    statements.push(normalise(s));
  }
  return statements;
}

function normalise(s: Record<string, unknown>): Statement {
  const condition: Record<string, Record<string, string[]>> = {};
  for (const [operator, block] of Object.entries(asRecord(s.Condition) ?? {})) {
    const entries: Record<string, string[]> = {};
    for (const [key, value] of Object.entries(asRecord(block) ?? {})) {
      entries[key] = asArray(value).map((v) => String(v));
    }
    condition[operator] = entries;
  }
  return {
    sid: asString(s.Sid),
    effect: s.Effect === "Deny" ? "Deny" : "Allow",
    principal: (s.Principal ?? s.NotPrincipal) as Principal,
    notPrincipal: s.NotPrincipal !== undefined,
    actions: stringList(s.Action),
    notActions: stringList(s.NotAction),
    resources: stringList(s.Resource),
    notResources: stringList(s.NotResource),
    condition,
  };
}

/** Whether an IAM pattern (`*` and `?` wildcards, case-insensitive) matches a value. */
export function wildcardMatches(pattern: string, value: string): boolean {
  const regex = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${regex}$`, "i").test(value);
}

/** Whether the statement's actions cover `action` (a `NotAction` that does not exclude it covers it too). */
export function coversAction(statement: Statement, action: string): boolean {
  if (statement.notActions.length > 0) return !statement.notActions.some((p) => wildcardMatches(p, action));
  return statement.actions.some((p) => wildcardMatches(p, action));
}

/** Whether the statement names every action of a service (`*` or `<service>:*`), or excludes only some. */
export function grantsAllActionsOf(statement: Statement, service: string): boolean {
  if (statement.notActions.length > 0) return true;
  return statement.actions.some((a) => a === "*" || a.toLowerCase() === `${service.toLowerCase()}:*`);
}

/** Whether the statement applies to every resource. */
export function coversAllResources(statement: Statement): boolean {
  if (statement.notResources.length > 0) return true;
  return statement.resources.includes("*");
}

/**
 * Whether the principal admits anyone: `"*"`, `{ AWS: "*" }`, or `NotPrincipal` (which admits everyone but the
 * listed principals).
 */
export function admitsEveryone(statement: Statement): boolean {
  if (statement.notPrincipal) return true;
  const principal = statement.principal;
  if (principal === "*") return true;
  const aws = asRecord(principal)?.AWS;
  return stringList(aws).some((p) => p === "*");
}

/** Condition keys that narrow who can act (values compared case-insensitively). */
export const IDENTITY_RESTRICTING_KEYS = [
  "aws:PrincipalOrgID",
  "aws:PrincipalOrgPaths",
  "aws:PrincipalAccount",
  "aws:PrincipalArn",
  "aws:SourceArn",
  "aws:SourceAccount",
  "aws:SourceOrgID",
  "aws:SourceVpc",
  "aws:SourceVpce",
  "aws:CalledVia",
  "kms:CallerAccount",
  "kms:ViaService",
  "sts:ExternalId",
];

/**
 * Whether a condition value narrows `key` to a small, known set of callers. A value without wildcards narrows (a
 * literal account, organisation, ARN, VPC or external ID). A value with `*` or `?` narrows only when the pattern is
 * provably pinned: an ARN whose account field is a literal 12-digit account (`arn:aws:iam::123456789012:role/ci-*`),
 * an organisation path under a literal organisation (`o-abc123/*`), a `kms:ViaService` whose service label is
 * literal (`ec2.*.amazonaws.com`). Anything else (`arn:aws:iam::*:*`, `o-*`, `*`) admits anyone and counts as no
 * restriction. Account, organisation ID, VPC, endpoint and external-ID keys never accept a wildcard.
 */
export function narrowValue(key: string, value: string): boolean {
  if (value === "") return false;
  if (!/[*?]/.test(value)) return true;
  const k = key.toLowerCase();
  if (k === "aws:principalarn" || k === "aws:sourcearn") {
    const fields = value.split(":");
    return fields.length >= 6 && fields[0] === "arn" && /^\d{12}$/.test(fields[4] ?? "");
  }
  if (k === "aws:principalorgpaths") return /^o-[a-z0-9]+\//i.test(value);
  if (k === "kms:viaservice") return /^[a-z0-9-]+\./i.test(value);
  return false;
}

/** Operators that never narrow who matches: negations, and tests that pass when the key is absent. */
function narrowingOperator(operator: string): boolean {
  const op = operator.toLowerCase();
  if (op.endsWith("ifexists") || op === "null" || op.startsWith("forallvalues:")) return false;
  const base = op.includes(":") ? op.slice(op.indexOf(":") + 1) : op;
  return !base.includes("not");
}

/**
 * Whether the statement carries a condition on one of `keys` that actually narrows who matches: a positive operator
 * (not a negation such as `StringNotEquals`, which admits everyone else; not `...IfExists`, `Null` or
 * `ForAllValues:`, which pass when the key is absent) whose every value is narrow ({@link narrowValue}).
 */
export function hasRestrictingCondition(
  statement: Statement,
  keys: readonly string[] = IDENTITY_RESTRICTING_KEYS,
): boolean {
  const wanted = new Set(keys.map((k) => k.toLowerCase()));
  for (const [operator, block] of Object.entries(statement.condition)) {
    if (!narrowingOperator(operator)) continue;
    for (const [key, values] of Object.entries(block)) {
      if (!wanted.has(key.toLowerCase())) continue;
      if (values.length > 0 && values.every((v) => narrowValue(key, v))) return true;
    }
  }
  return false;
}

/**
 * Whether an ARN pattern names principals (a literal role or user name, or a literal prefix such as `ci-*`), as a
 * deny's exemption must: `arn:aws:iam::*:role/FlzDeployment` does, `arn:aws:iam::*:role/*`, `arn:aws:iam::*:root`
 * and `*` do not.
 */
export function namesPrincipal(pattern: string): boolean {
  const match = /^arn:aws[a-z-]*:(?:iam|sts)::[^:]*:(?:role|user|assumed-role)\/(.+)$/i.exec(pattern);
  const name = match?.[1]?.split("/").pop();
  return !!name && !/^[*?]/.test(name);
}

/** The values a condition sets for a key under an operator (case-insensitive key and operator). */
export function conditionValues(statement: Statement, operator: string, key: string): string[] | undefined {
  for (const [op, block] of Object.entries(statement.condition)) {
    if (op.toLowerCase() !== operator.toLowerCase()) continue;
    for (const [k, values] of Object.entries(block)) {
      if (k.toLowerCase() === key.toLowerCase()) return values;
    }
  }
  return undefined;
}
