/**
 * Trust policies (who may assume a role). Each names its principals explicitly: a trust policy that names an
 * account root, or `*` with conditions, lets every principal of that account that gets `sts:AssumeRole` in IAM
 * become the forensic role, which is exactly what an intruder with admin in that account would do.
 */
import type { PolicyDocument } from "./types";
import { DocumentInputError, requireArn, requireArns, requireOrganizationId } from "./validate";

/** Session tag key the `flz` CLI puts on every session it opens, carrying the case ID. */
export const CASE_SESSION_TAG_KEY = "flz-case";

/** Arguments of {@link forensicRoleTrust}. */
export interface ForensicRoleTrustArgs {
  /** The principals (roles or users, e.g. the incident-response team's SSO roles) that may assume the role. */
  readonly trustedPrincipalArns: readonly string[];
  /** The organisation those principals must belong to, checked at assumption time. */
  readonly organizationId: string;
}

/** Arguments of {@link breakGlassTrust}. */
export interface BreakGlassTrustArgs {
  /** The principals (normally IAM users with MFA devices) that may assume the break-glass role. */
  readonly trustedPrincipalArns: readonly string[];
  /** Oldest MFA authentication accepted, in seconds (strictly less than). A positive whole number, e.g. 3600. */
  readonly maxMfaAgeSeconds: number;
  /** When given, the principals must also belong to this organisation. */
  readonly organizationId?: string;
}

/** Arguments of {@link memberRoleTrust}. */
export interface MemberRoleTrustArgs {
  /**
   * The one forensic-account role that may assume this member role: the forensic responder role for the member
   * responder, the forensic investigator role for the member investigator.
   */
  readonly forensicRoleArn: string;
}

/**
 * Trust of the forensic account's responder and investigator roles: only the named principals, only
 * `sts:AssumeRole` and `sts:TagSession` (the CLI tags sessions with the case ID), and only while they belong to
 * the organisation (a principal of an account that left the organisation is refused).
 */
export function forensicRoleTrust(args: ForensicRoleTrustArgs): PolicyDocument {
  const principals = requireArns("trustedPrincipalArns", args.trustedPrincipalArns, "iam");
  const organizationId = requireOrganizationId("organizationId", args.organizationId);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowNamedPrincipalsOfOrganization",
        Effect: "Allow",
        Principal: { AWS: principals },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: { StringEquals: { "aws:PrincipalOrgID": organizationId } },
      },
    ],
  };
}

/**
 * Trust of the break-glass role: the named principals, only with MFA (`aws:MultiFactorAuthPresent`, absent for
 * long-term access keys, so `Bool true` refuses them) and only if that MFA is fresher than `maxMfaAgeSeconds`
 * (a stolen session that once did MFA does not stay good for break-glass forever).
 */
export function breakGlassTrust(args: BreakGlassTrustArgs): PolicyDocument {
  const principals = requireArns("trustedPrincipalArns", args.trustedPrincipalArns, "iam");
  if (!Number.isInteger(args.maxMfaAgeSeconds) || args.maxMfaAgeSeconds <= 0) {
    throw new DocumentInputError(
      `maxMfaAgeSeconds: ${String(args.maxMfaAgeSeconds)} is not a positive whole number of seconds (e.g. 3600).`,
    );
  }
  const condition: Record<string, Record<string, string>> = {
    Bool: { "aws:MultiFactorAuthPresent": "true" },
    NumericLessThan: { "aws:MultiFactorAuthAge": String(args.maxMfaAgeSeconds) },
  };
  if (args.organizationId !== undefined) {
    condition.StringEquals = { "aws:PrincipalOrgID": requireOrganizationId("organizationId", args.organizationId) };
  }
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowNamedPrincipalsWithFreshMfa",
        Effect: "Allow",
        Principal: { AWS: principals },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: condition,
      },
    ],
  };
}

/**
 * Trust of a member-account role (deployed by the StackSet): only the one forensic role, `sts:AssumeRole` and
 * `sts:TagSession`, and the only session tag key it may set is `flz-case` (`ForAllValues` over `aws:TagKeys`), so a
 * session cannot smuggle in tags that attribute-based policies of the member account might trust. Sessions without
 * tags stay possible (an investigator switching role in the console).
 */
export function memberRoleTrust(args: MemberRoleTrustArgs): PolicyDocument {
  const forensicRoleArn = requireArn("forensicRoleArn", args.forensicRoleArn, "iam");
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowForensicRoleOnly",
        Effect: "Allow",
        Principal: { AWS: forensicRoleArn },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: { "ForAllValues:StringEquals": { "aws:TagKeys": [CASE_SESSION_TAG_KEY] } },
      },
    ],
  };
}
