/**
 * The small parts every guardrail SCP builder shares (scp.ts, scp-automation.ts): the document wrapper, the checks of
 * the plain strings the builders take, and the exception for the principals that stay able to act. Not re-exported
 * from the documents index: they are how the builders are written, not what they build.
 */
import type { PolicyDocument, PolicyStatement } from "./types";

/** A policy document of these statements. */
export function document(statements: PolicyStatement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * Returns `value`, or throws one line when it is blank.
 *
 * @param value the value given.
 * @param what its name, for the message.
 * @param example what a valid value looks like, for the message.
 */
export function requireValue(value: string, what: string, example: string): string {
  if (value.trim() === "") throw new Error(`${what} is empty: give ${example}`);
  return value;
}

/**
 * Returns `arn` if it is an IAM role ARN (an account ID or `*` for "that role name in any account"), or throws one
 * line naming it.
 *
 * @param arn the ARN given.
 * @param what its name, for the message.
 */
export function requireRoleArn(arn: string, what: string): string {
  if (!/^arn:aws[a-z-]*:iam::(\d{12}|\*):role\/.+$/.test(arn)) {
    throw new Error(`${what} "${arn}" is not an IAM role ARN: expected arn:aws:iam::<account>:role/<name>`);
  }
  return arn;
}

/**
 * `ArnNotLike aws:PrincipalARN` for the principals that stay able to act.
 *
 * @param arns their ARNs (patterns allowed).
 */
export function exceptPrincipals(arns: string[]): PolicyStatement["Condition"] {
  return { ArnNotLike: { "aws:PrincipalARN": arns.length === 1 ? arns[0] : arns } };
}
