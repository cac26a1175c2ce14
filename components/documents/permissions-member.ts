/**
 * Identity (permission) policies of the member roles in every governed account: the member responder captures and
 * contains, the member investigator reads. Where a service supports resource-level permissions the statements name
 * resource types; where it does not (Describe*, List*), `Resource: "*"` is the only valid value. No statement grants
 * `*` actions, and nothing lets a role create or delete principals.
 */
import type { PolicyDocument, PolicyStatement } from "./types";
import { KEY_PURPOSE, keyScope, type ForensicKeysByTag } from "./keys";
import { memberAssessmentStatement } from "./assess";
import { memoryCaptureStatements } from "./ssm-memory";
import { requireAccountId } from "./validate";

import { evidenceKeyStatements, keyPartition } from "./permissions-keys";

/**
 * Tag keys `flz contain instance` puts on a contained instance (and its undo restores or removes): the case and the
 * time of containment (`scripts/contain/instance-plan.ts`, `CASE_TAG` and `CONTAINED_AT_TAG`). The member responder may
 * set or remove these keys on instances and no others, so it cannot rewrite tags that the account's own tag-based
 * policies trust.
 */
export const INSTANCE_CONTAINMENT_TAG_KEYS: readonly string[] = ["flz:case", "flz:contained-at"];

/** Arguments of {@link memberResponderPermissions}. */
export interface MemberResponderPermissionsArgs {
  /** The evidence keys (one per governed region) that snapshot copies are re-encrypted under. Or `keysByTag`. */
  readonly evidenceKeyArns?: readonly string[];
  /**
   * Instead of `evidenceKeyArns`: the forensic account's keys tagged as evidence keys, which is known before the keys
   * exist (see `keys.ts` for why it is as tight). Ignored when `evidenceKeyArns` is given.
   */
  readonly keysByTag?: ForensicKeysByTag;
  /**
   * When given, snapshots may be shared (`createVolumePermission`) with this account only (the forensic account).
   * Default: any account; making a snapshot public is refused either way.
   */
  readonly forensicAccountId?: string;
}

/**
 * IAM calls that write permissions or credentials: whoever may make one of them can grant a principal anything (IAM
 * has no condition on a policy's content). The member responder is explicitly denied all of them, whatever else is
 * ever attached to it; session and credential revocation go through the organisation-level quarantine instead
 * (`quarantine.ts`).
 */
export const IAM_ESCALATION_ACTIONS: readonly string[] = [
  "iam:PutRolePolicy",
  "iam:DeleteRolePolicy",
  "iam:AttachRolePolicy",
  "iam:DetachRolePolicy",
  "iam:PutUserPolicy",
  "iam:DeleteUserPolicy",
  "iam:AttachUserPolicy",
  "iam:DetachUserPolicy",
  "iam:PutGroupPolicy",
  "iam:AttachGroupPolicy",
  "iam:AddUserToGroup",
  "iam:CreatePolicyVersion",
  "iam:SetDefaultPolicyVersion",
  "iam:UpdateAssumeRolePolicy",
  "iam:PutRolePermissionsBoundary",
  "iam:DeleteRolePermissionsBoundary",
  "iam:PutUserPermissionsBoundary",
  "iam:DeleteUserPermissionsBoundary",
  "iam:CreateRole",
  "iam:CreateUser",
  "iam:CreateAccessKey",
  "iam:CreateLoginProfile",
  "iam:UpdateLoginProfile",
  "iam:PassRole",
];

/**
 * Permissions of the member responder role: capture (snapshots, copies under the evidence key, sharing, console
 * output, EBS direct reads) and containment (security groups, instance attributes, connection tracking, a subnet
 * network ACL, IMDSv2, ASG standby, the case tags, access-key deactivation). Nothing else: no `iam:Create*`, no
 * deletion of principals or data, and no IAM policy write at all ({@link IAM_ESCALATION_ACTIONS} are explicitly
 * denied): revoking sessions is an organisation-level quarantine managed from the forensic account. Volume keys owned
 * by the member account may be used only through EC2 (`kms:ViaService`), which is what copying a snapshot encrypted
 * under them needs.
 */
export function memberResponderPermissions(args: MemberResponderPermissionsArgs): PolicyDocument {
  const evidenceKeys = keyScope("evidenceKeyArns", args.evidenceKeyArns, args.keysByTag, KEY_PURPOSE.evidence);
  const p = keyPartition(args.evidenceKeyArns, args.keysByTag);
  const ec2 = (type: string, account = "*"): string => `arn:${p}:ec2:*:${account}:${type}/*`;
  const snapshots = `arn:${p}:ec2:*::snapshot/*`;
  const roles = `arn:${p}:iam::*:role/*`;
  const shareCondition =
    args.forensicAccountId === undefined
      ? undefined
      : { StringEquals: { "ec2:Add/userId": requireAccountId("forensicAccountId", args.forensicAccountId) } };
  const statements: PolicyStatement[] = [
    { Sid: "DescribeCompute", Effect: "Allow", Action: ["ec2:Describe*", "autoscaling:Describe*"], Resource: "*" },
    // One snapshot per volume (CreateSnapshot), never CreateSnapshots of a whole instance: the capture names volumes.
    { Sid: "CaptureSnapshots", Effect: "Allow", Action: "ec2:CreateSnapshot", Resource: [ec2("volume"), snapshots] },
    { Sid: "CopySnapshots", Effect: "Allow", Action: "ec2:CopySnapshot", Resource: snapshots },
    {
      Sid: "ShareSnapshots",
      Effect: "Allow",
      Action: "ec2:ModifySnapshotAttribute",
      Resource: snapshots,
      ...(shareCondition === undefined ? {} : { Condition: shareCondition }),
    },
    {
      Sid: "DenyPublicSnapshots",
      Effect: "Deny",
      Action: "ec2:ModifySnapshotAttribute",
      Resource: snapshots,
      Condition: { StringEquals: { "ec2:Add/group": "all" } },
    },
    {
      Sid: "TagEvidenceAndQuarantineGroups",
      Effect: "Allow",
      Action: "ec2:CreateTags",
      Resource: [snapshots, ec2("security-group")],
    },
    {
      // Containment marks the instance with the case, and undo puts the previous values back or removes the keys.
      // `Null aws:TagKeys false` refuses a DeleteTags without tags, which would remove every tag of the instance.
      Sid: "MarkContainedInstances",
      Effect: "Allow",
      Action: ["ec2:CreateTags", "ec2:DeleteTags"],
      Resource: ec2("instance"),
      Condition: {
        "ForAllValues:StringEquals": { "aws:TagKeys": [...INSTANCE_CONTAINMENT_TAG_KEYS] },
        Null: { "aws:TagKeys": "false" },
      },
    },
    { Sid: "ReadConsoleOutput", Effect: "Allow", Action: "ec2:GetConsoleOutput", Resource: ec2("instance") },
    {
      Sid: "ProtectAndIsolateInstances",
      Effect: "Allow",
      Action: ["ec2:ModifyInstanceAttribute", "ec2:ModifyInstanceMetadataOptions"],
      Resource: [ec2("instance"), ec2("security-group")],
    },
    {
      Sid: "QuarantineNetworkInterfaces",
      Effect: "Allow",
      Action: "ec2:ModifyNetworkInterfaceAttribute",
      Resource: [ec2("network-interface"), ec2("security-group"), ec2("instance"), ec2("subnet"), ec2("vpc")],
    },
    {
      Sid: "ManageQuarantineSecurityGroups",
      Effect: "Allow",
      Action: [
        "ec2:CreateSecurityGroup",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
      ],
      Resource: [ec2("security-group"), ec2("security-group-rule"), ec2("vpc")],
    },
    {
      Sid: "HoldAutoScalingInstances",
      Effect: "Allow",
      // AttachInstances is the undo of a detach (when Standby would have taken the group below its minimum).
      Action: [
        "autoscaling:EnterStandby",
        "autoscaling:ExitStandby",
        "autoscaling:DetachInstances",
        "autoscaling:AttachInstances",
      ],
      Resource: `arn:${p}:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*`,
    },
    {
      // The subnet quarantine step of `contain instance --network-acl`: a new network ACL (no rules: everything
      // denied), tagged at creation, swapped in for the subnet's, and swapped back on undo.
      Sid: "QuarantineSubnets",
      Effect: "Allow",
      Action: ["ec2:CreateNetworkAcl", "ec2:ReplaceNetworkAclAssociation"],
      Resource: [ec2("network-acl"), ec2("vpc"), ec2("subnet")],
    },
    {
      // `contain network`: deny entries for an attacker's ranges, and their removal on undo. EC2 has no condition key
      // on an entry's action or range, so the grant is on network ACLs as a whole.
      Sid: "DenyAttackerRanges",
      Effect: "Allow",
      Action: ["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAclEntry"],
      Resource: ec2("network-acl"),
    },
    {
      // `contain bucket`: deny statements added to (and on undo taken out of) a bucket's policy, and its public access
      // block turned on (PutBucketPublicAccessBlock is also what DeletePublicAccessBlock needs). IAM has no condition on
      // a policy's content: this grant is the trust placed in the responder, bounded to member accounts by its trust.
      Sid: "RestrictBuckets",
      Effect: "Allow",
      Action: [
        "s3:GetBucketLocation",
        "s3:GetBucketPolicy",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
      ],
      Resource: `arn:${p}:s3:::*`,
    },
    {
      // `contain key`: a deny statement added to a key policy (never DisableKey or ScheduleKeyDeletion).
      Sid: "RestrictKeys",
      Effect: "Allow",
      Action: ["kms:GetKeyPolicy", "kms:PutKeyPolicy"],
      Resource: `arn:${p}:kms:*:*:key/*`,
    },
    {
      // `contain function`: reserved concurrency to 0 and back (Delete restores "no reservation"), public function URLs
      // switched to AWS_IAM and back, read through GetFunctionConfiguration (never GetFunction: its answer links to the
      // code). `function:*` also matches the alias ARNs a URL call with a Qualifier is authorized on. Never
      // AddPermission / RemovePermission (a statement of a resource-based policy cannot always be put back, and
      // AddPermission can make any function public), UpdateFunctionCode, UpdateFunctionConfiguration or Delete*.
      Sid: "ContainFunctions",
      Effect: "Allow",
      Action: [
        "lambda:GetFunctionConfiguration",
        "lambda:GetFunctionConcurrency",
        "lambda:PutFunctionConcurrency",
        "lambda:DeleteFunctionConcurrency",
        "lambda:ListFunctionUrlConfigs",
        "lambda:UpdateFunctionUrlConfig",
      ],
      Resource: `arn:${p}:lambda:*:*:function:*`,
    },
    {
      // ... and their polling triggers paused and resumed. Listing has no resource type (`*` is the only value);
      // UpdateEventSourceMapping has no condition key on `Enabled`, so the grant is on mappings as a whole.
      Sid: "ListFunctionTriggers",
      Effect: "Allow",
      Action: "lambda:ListEventSourceMappings",
      Resource: "*",
    },
    {
      Sid: "PauseFunctionTriggers",
      Effect: "Allow",
      Action: "lambda:UpdateEventSourceMapping",
      Resource: `arn:${p}:lambda:*:*:event-source-mapping:*`,
    },
    {
      Sid: "TagQuarantineNetworkAcls",
      Effect: "Allow",
      Action: "ec2:CreateTags",
      Resource: ec2("network-acl"),
      Condition: { StringEquals: { "ec2:CreateAction": "CreateNetworkAcl" } },
    },
    {
      Sid: "ReadRolesForContainment",
      Effect: "Allow",
      Action: "iam:GetRole",
      Resource: roles,
    },
    {
      Sid: "NeverWriteIamPolicies",
      Effect: "Deny",
      Action: [...IAM_ESCALATION_ACTIONS],
      Resource: "*",
    },
    {
      Sid: "DeactivateAccessKeys",
      Effect: "Allow",
      // GetUser: the user's ARN (with its path) is what the quarantine statement names as aws:PrincipalArn.
      Action: ["iam:GetUser", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "iam:UpdateAccessKey"],
      Resource: `arn:${p}:iam::*:user/*`,
    },
    {
      Sid: "ReadSnapshotBlocks",
      Effect: "Allow",
      Action: ["ebs:ListSnapshotBlocks", "ebs:GetSnapshotBlock"],
      Resource: snapshots,
    },
    ...evidenceKeyStatements(evidenceKeys),
    {
      Sid: "UseVolumeKeysThroughEc2",
      Effect: "Allow",
      Action: [
        "kms:DescribeKey",
        "kms:Decrypt",
        "kms:ReEncrypt*",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:CreateGrant",
      ],
      Resource: `arn:${p}:kms:*:*:key/*`,
      Condition: { StringLike: { "kms:ViaService": "ec2.*.amazonaws.com" } },
    },
    // flz capture memory (issue 16): the FLZ memory document only, never an arbitrary command.
    ...memoryCaptureStatements(p),
  ];
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * AWS managed policies of the member investigator role: `SecurityAudit` (configuration of every service) and
 * `ViewOnlyAccess` (resource listings), both read-only and maintained by AWS as services appear.
 */
export function memberInvestigatorManagedPolicyArns(partition = "aws"): string[] {
  return [
    `arn:${partition}:iam::aws:policy/SecurityAudit`,
    `arn:${partition}:iam::aws:policy/job-function/ViewOnlyAccess`,
  ];
}

/**
 * Inline additions to the managed policies for the member investigator: the read-only calls an investigation
 * needs that `SecurityAudit` and `ViewOnlyAccess` leave out (log events, CloudTrail event history, console output),
 * and the reads of `flz assess` named explicitly (so they are provable from this document alone, whatever the
 * managed policies hold). All reads; none of them changes anything.
 */
export function memberInvestigatorPermissions(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadInvestigationData",
        Effect: "Allow",
        Action: [
          "cloudtrail:LookupEvents",
          "logs:GetLogEvents",
          "logs:FilterLogEvents",
          "logs:StartQuery",
          "logs:GetQueryResults",
          "ec2:GetConsoleOutput",
          "guardduty:GetFindings",
          "guardduty:ListFindings",
        ],
        Resource: "*",
      },
      memberAssessmentStatement(),
    ],
  };
}
