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
  namesPrincipal,
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
 * The principals that stand for an account's administrators when a deny's exemptions are read: the root user, a role
 * named Administrator, and an IAM Identity Center administrator role. A guardrail may exempt the role that deploys it;
 * an exemption that also covers one of these (`*`, `arn:aws:iam::*:root`, `arn:aws:iam::*:role/*`) leaves the
 * account's administrators free to do what it denies.
 */
export function administratorProbes(account: string): string[] {
  return [
    `arn:aws:iam::${account}:root`,
    `arn:aws:iam::${account}:role/Administrator`,
    `arn:aws:iam::${account}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef`,
  ];
}

/**
 * Whether a deny's conditions let it apply to `principal`. On `aws:PrincipalArn`, a negated test (`ArnNotLike`,
 * `StringNotEquals`, ...) must not match it and must name principals, as the policy pack requires of an exemption
 * ({@link namesPrincipal}); a positive test must match it. A positive test on a resource tag (`StringEquals
 * aws:ResourceTag/...`, as the landing zone's key and alarm-key guardrails use) narrows what is protected, not who is
 * bound: it counts, the resource's tags unread. Any other condition (a region, a principal tag, MFA, `...IfExists`)
 * limits when the deny applies, so an intruder could step outside it: the deny does not count.
 */
function bindsPrincipal(statement: Statement, principal: string): boolean {
  for (const [operator, block] of Object.entries(statement.condition)) {
    const op = operator.toLowerCase();
    for (const [key, values] of Object.entries(block)) {
      const k = key.toLowerCase();
      if (k.startsWith("aws:resourcetag/") && (op === "stringequals" || op === "stringlike")) continue;
      if (k !== "aws:principalarn" || !/^(arn|string)(not)?(like|equals)$/.test(op)) return false;
      const negated = op.includes("not");
      if (negated && !values.every(namesPrincipal)) return false;
      const like = op.startsWith("arn") || op.endsWith("like");
      const matches = values.some((v) => (like ? wildcardMatches(v, principal) : v === principal));
      if (matches === negated) return false;
    }
  }
  return true;
}

/**
 * Whether some document denies every one of `actions` on `resource` (each action may be denied by a different
 * statement) to the administrators of `account` ({@link administratorProbes}): a deny may exempt the deployment role
 * (`ArnNotLike aws:PrincipalArn`), not them.
 */
export function deniesAll(
  documents: readonly string[],
  actions: readonly string[],
  resource: string,
  account: string,
): boolean {
  const probes = administratorProbes(account);
  const denies = documents
    .flatMap((d) => (statementsOf(d) ?? []).filter((s) => s.effect === "Deny"))
    .filter((s) => probes.every((p) => bindsPrincipal(s, p)));
  return actions.every((action) => denies.some((s) => coversAction(s, action) && coversResource(s, resource)));
}

/**
 * The principals exempted (`aws:PrincipalArn` under a negated operator) by the denies that cover any of `actions` on
 * `resource`: what a reader of the register needs to judge who is still free to act.
 */
export function exemptedPrincipals(
  documents: readonly string[],
  actions: readonly string[],
  resource: string,
): string[] {
  const exempted = documents
    .flatMap((d) => statementsOf(d) ?? [])
    .filter((s) => s.effect === "Deny" && coversResource(s, resource) && actions.some((a) => coversAction(s, a)))
    .flatMap((s) =>
      Object.entries(s.condition)
        .filter(([operator]) => /^(arn|string)not(like|equals)(ifexists)?$/i.test(operator))
        .flatMap(([, block]) =>
          Object.entries(block)
            .filter(([key]) => key.toLowerCase() === "aws:principalarn")
            .flatMap(([, values]) => values),
        ),
    );
  return [...new Set(exempted)].sort();
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
