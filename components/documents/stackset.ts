/**
 * The CloudFormation template that the service-managed StackSet deploys into every member account, now and in
 * future: the member responder and investigator roles. It is generated here from the same builders the tests
 * evaluate, never kept as hand-written YAML; the component stringifies it as the StackSet's `templateBody`.
 */
import type { PolicyDocument } from "./types";
import {
  memberInvestigatorManagedPolicyArns,
  memberInvestigatorPermissions,
  memberResponderPermissions,
} from "./permissions-member";
import type { ForensicKeysByTag } from "./keys";
import { memberRoleTrust } from "./trust";
import {
  DocumentInputError,
  partitionOf,
  requireAccountId,
  requireArn,
  requireArns,
  requireRoleName,
} from "./validate";

/** Arguments of {@link memberRolesTemplate}. */
export interface MemberRolesTemplateArgs {
  /** The forensic responder role: the only principal trusted by the member responder role. */
  readonly forensicResponderRoleArn: string;
  /** The forensic investigator role: the only principal trusted by the member investigator role. */
  readonly forensicInvestigatorRoleArn: string;
  /** Name of the member responder role, the same in every account (the CLI builds its ARN from it). */
  readonly responderRoleName: string;
  /** Name of the member investigator role, the same in every account. */
  readonly investigatorRoleName: string;
  /** Evidence keys (one per governed region) that the member responder copies snapshots under. Or `keysByTag`. */
  readonly evidenceKeyArns?: readonly string[];
  /**
   * Instead of `evidenceKeyArns`: the forensic account's keys tagged as evidence keys. Known before the keys exist, so
   * the template (and every check of it) is known at a first `pulumi preview`; see `keys.ts` for why it is as tight.
   */
  readonly keysByTag?: ForensicKeysByTag;
  /**
   * Longest session of either role, in seconds (IAM allows 3600 to 43200). Default 3600: a stolen responder
   * session is good for an hour at most.
   */
  readonly maxSessionSeconds?: number;
  /** ARN partition (`aws`, `aws-cn`, `aws-us-gov`). Default: the partition of `forensicResponderRoleArn`. */
  readonly partition?: string;
  /**
   * When given, member responders may share snapshots with this account only. Default: the account of
   * `forensicResponderRoleArn`, which is the forensic account.
   */
  readonly forensicAccountId?: string;
}

/** One `AWS::IAM::Role` resource of the template. */
export interface CloudFormationRoleResource {
  /** Always `AWS::IAM::Role`. */
  readonly Type: "AWS::IAM::Role";
  /** The role's properties, in CloudFormation's names. */
  readonly Properties: {
    /** Fixed role name, the same in every member account. */
    readonly RoleName: string;
    /** Human-readable purpose, shown in the IAM console. */
    readonly Description: string;
    /** Longest session in seconds. */
    readonly MaxSessionDuration: number;
    /** The trust policy. */
    readonly AssumeRolePolicyDocument: PolicyDocument;
    /** AWS managed policies attached to the role. */
    readonly ManagedPolicyArns?: string[];
    /** Inline policies. */
    readonly Policies: { readonly PolicyName: string; readonly PolicyDocument: PolicyDocument }[];
    /** Tags that mark the role as part of the forensic landing zone. */
    readonly Tags: { readonly Key: string; readonly Value: string }[];
  };
}

/** A template output. */
export interface CloudFormationOutput {
  /** What the value is. */
  readonly Description: string;
  /** The value, usually an intrinsic function. */
  readonly Value: unknown;
}

/** The member-roles template, as an object ready for `JSON.stringify`. */
export interface MemberRolesTemplate {
  /** Template format version, `2010-09-09`. */
  readonly AWSTemplateFormatVersion: "2010-09-09";
  /** What the stack instance is, shown in every member account's CloudFormation console. */
  readonly Description: string;
  /** The two roles, by logical ID. */
  readonly Resources: Record<string, CloudFormationRoleResource>;
  /** The role ARNs. */
  readonly Outputs: Record<string, CloudFormationOutput>;
}

/** Logical ID of the member responder role in the template. */
export const MEMBER_RESPONDER_LOGICAL_ID = "FlzMemberResponderRole";
/** Logical ID of the member investigator role in the template. */
export const MEMBER_INVESTIGATOR_LOGICAL_ID = "FlzMemberInvestigatorRole";

/** IAM's bounds for a role's `MaxSessionDuration`. */
const MIN_SESSION_SECONDS = 3600;
const MAX_SESSION_SECONDS = 43200;

function checkSessionSeconds(value: number): number {
  if (!Number.isInteger(value) || value < MIN_SESSION_SECONDS || value > MAX_SESSION_SECONDS) {
    throw new DocumentInputError(
      `maxSessionSeconds: ${String(value)} is not a whole number of seconds from ${MIN_SESSION_SECONDS} to ${MAX_SESSION_SECONDS}.`,
    );
  }
  return value;
}

/** The account ID inside an IAM ARN (`arn:aws:iam::222222222222:role/x` → `222222222222`). */
function accountOf(arn: string): string {
  return arn.split(":")[4] ?? "";
}

/**
 * The StackSet template: the member responder role (trusted only by the forensic responder role; capture and
 * containment permissions; may not modify either FLZ role) and the member investigator role (trusted only by the
 * forensic investigator role; AWS read-only managed policies plus the few reads they miss), and both ARNs as outputs.
 */
export function memberRolesTemplate(args: MemberRolesTemplateArgs): MemberRolesTemplate {
  const responderTrusted = requireArn("forensicResponderRoleArn", args.forensicResponderRoleArn, "iam");
  const investigatorTrusted = requireArn("forensicInvestigatorRoleArn", args.forensicInvestigatorRoleArn, "iam");
  const responderRoleName = requireRoleName("responderRoleName", args.responderRoleName);
  const investigatorRoleName = requireRoleName("investigatorRoleName", args.investigatorRoleName);
  if (responderRoleName === investigatorRoleName) {
    throw new DocumentInputError(
      `investigatorRoleName: ${JSON.stringify(investigatorRoleName)} is the responder's name too; give the two roles different names.`,
    );
  }
  const evidenceKeyArns =
    args.evidenceKeyArns === undefined ? undefined : requireArns("evidenceKeyArns", args.evidenceKeyArns, "kms");
  const maxSessionSeconds = checkSessionSeconds(args.maxSessionSeconds ?? MIN_SESSION_SECONDS);
  const partition = args.partition ?? partitionOf(responderTrusted);
  const forensicAccountId = requireAccountId(
    "forensicAccountId",
    args.forensicAccountId ?? accountOf(responderTrusted),
  );
  const tags = (role: string): { Key: string; Value: string }[] => [
    { Key: "flz:component", Value: "member-roles" },
    { Key: "flz:role", Value: role },
  ];
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description:
      "Forensic landing zone: member-account responder and investigator roles, trusted only by the forensic account's roles.",
    Resources: {
      [MEMBER_RESPONDER_LOGICAL_ID]: {
        Type: "AWS::IAM::Role",
        Properties: {
          RoleName: responderRoleName,
          Description:
            "Forensic landing zone responder: evidence capture and containment, assumed from the forensic account only.",
          MaxSessionDuration: maxSessionSeconds,
          AssumeRolePolicyDocument: memberRoleTrust({ forensicRoleArn: responderTrusted }),
          Policies: [
            {
              PolicyName: "FlzMemberResponder",
              PolicyDocument: memberResponderPermissions({
                evidenceKeyArns,
                keysByTag: args.keysByTag,
                forensicAccountId,
              }),
            },
          ],
          Tags: tags("responder"),
        },
      },
      [MEMBER_INVESTIGATOR_LOGICAL_ID]: {
        Type: "AWS::IAM::Role",
        Properties: {
          RoleName: investigatorRoleName,
          Description: "Forensic landing zone investigator: read-only, assumed from the forensic account only.",
          MaxSessionDuration: maxSessionSeconds,
          AssumeRolePolicyDocument: memberRoleTrust({ forensicRoleArn: investigatorTrusted }),
          ManagedPolicyArns: memberInvestigatorManagedPolicyArns(partition),
          Policies: [{ PolicyName: "FlzMemberInvestigator", PolicyDocument: memberInvestigatorPermissions() }],
          Tags: tags("investigator"),
        },
      },
    },
    Outputs: {
      ResponderRoleArn: {
        Description: "ARN of the member responder role in this account.",
        Value: { "Fn::GetAtt": [MEMBER_RESPONDER_LOGICAL_ID, "Arn"] },
      },
      InvestigatorRoleArn: {
        Description: "ARN of the member investigator role in this account.",
        Value: { "Fn::GetAtt": [MEMBER_INVESTIGATOR_LOGICAL_ID, "Arn"] },
      },
    },
  };
}
