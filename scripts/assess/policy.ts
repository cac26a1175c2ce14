/**
 * Pure readings of the policy documents the assessment finds (SCPs, bucket, key and trust policies). The statement
 * model and wildcard matching are the policy pack's (`policies/lib/documents.ts`, pure, no Pulumi), so the pack and
 * the assessment read a document the same way.
 */
import {
  admitsEveryone,
  conditionValues,
  coversAction,
  hasRestrictingCondition,
  statementsOf,
  wildcardMatches,
  type Statement,
} from "../../policies/lib/documents";

export { statementsOf, type Statement };

/** Principals a statement names under `AWS` (`"*"` when it admits everyone). */
export function awsPrincipals(statement: Statement): string[] {
  if (admitsEveryone(statement)) return ["*"];
  const principal = statement.principal;
  if (principal === undefined || principal === "*") return [];
  const aws = principal.AWS;
  return aws === undefined ? [] : Array.isArray(aws) ? aws : [aws];
}

/** Whether the statement's resources cover `resource` (`NotResource` read the way IAM does). */
export function coversResource(statement: Statement, resource: string): boolean {
  if (statement.notResources.length > 0) return !statement.notResources.some((p) => wildcardMatches(p, resource));
  return statement.resources.some((p) => wildcardMatches(p, resource));
}

/**
 * Whether some document denies every one of `actions` on `resource` (each action may be denied by a different
 * statement). Conditions are allowed: an SCP exempts the deployment role with `ArnNotLike aws:PrincipalArn`.
 */
export function deniesAll(documents: readonly string[], actions: readonly string[], resource: string): boolean {
  const denies = documents.flatMap((d) => (statementsOf(d) ?? []).filter((s) => s.effect === "Deny"));
  return actions.every((action) => denies.some((s) => coversAction(s, action) && coversResource(s, resource)));
}

/** Statements that allow something to everyone without a condition that narrows who. */
export function publicAllows(document: string): Statement[] {
  return (statementsOf(document) ?? []).filter(
    (s) => s.effect === "Allow" && admitsEveryone(s) && !hasRestrictingCondition(s),
  );
}

/** Whether a bucket policy denies requests made without TLS (`Bool aws:SecureTransport false`). */
export function deniesInsecureTransport(document: string): boolean {
  return (statementsOf(document) ?? []).some(
    (s) =>
      s.effect === "Deny" &&
      admitsEveryone(s) &&
      (coversAction(s, "s3:GetObject") || coversAction(s, "s3:PutObject")) &&
      (conditionValues(s, "Bool", "aws:SecureTransport") ?? []).some((v) => v.toLowerCase() === "false"),
  );
}

/** Principals allowed an action by a key or trust policy (`"*"` for everyone; conditions are not evaluated). */
export function principalsAllowed(document: string, action: string): string[] {
  return (statementsOf(document) ?? [])
    .filter((s) => s.effect === "Allow" && coversAction(s, action))
    .flatMap((s) => (admitsEveryone(s) && hasRestrictingCondition(s) ? ["*(conditional)"] : awsPrincipals(s)));
}

/** Whether a trust policy lets `principalArn` assume the role (named exactly, or its account's root). */
export function trusts(document: string, principalArn: string): boolean {
  const account = principalArn.split(":")[4];
  return principalsAllowed(document, "sts:AssumeRole").some(
    (p) => p === principalArn || p === `arn:aws:iam::${account}:root` || p === account,
  );
}

/** Whether every statement that allows assuming the role requires MFA (present, or not older than some age). */
export function requiresMfa(document: string): boolean {
  const allows = (statementsOf(document) ?? []).filter(
    (s) => s.effect === "Allow" && coversAction(s, "sts:AssumeRole"),
  );
  return (
    allows.length > 0 &&
    allows.every(
      (s) =>
        (conditionValues(s, "Bool", "aws:MultiFactorAuthPresent") ?? []).includes("true") ||
        conditionValues(s, "NumericLessThan", "aws:MultiFactorAuthAge") !== undefined ||
        conditionValues(s, "NumericLessThanEquals", "aws:MultiFactorAuthAge") !== undefined,
    )
  );
}

/** Whether an IAM pattern matches a value (case-insensitive, `*` and `?`). */
export { wildcardMatches };
