/**
 * IAM policy document types shared by every builder in `components/documents/`. Builders are pure functions of
 * plain strings (no Pulumi inside), so components (through `pulumi.all(...).apply`), the policy pack, the CLI and
 * the tests all evaluate exactly the same documents.
 */

/** A condition block: operator → key → value(s). */
export type PolicyCondition = Record<string, Record<string, string | string[] | boolean>>;

/** A principal element. */
export type PolicyPrincipal =
  "*" | { AWS?: string | string[]; Service?: string | string[]; Federated?: string | string[] };

/** One statement. */
export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: PolicyPrincipal;
  NotPrincipal?: PolicyPrincipal;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: PolicyCondition;
}

/** A policy document (identity, resource, trust, key, SCP). */
export interface PolicyDocument {
  Version: "2012-10-17";
  Id?: string;
  Statement: PolicyStatement[];
}
