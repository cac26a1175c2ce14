/**
 * The read-only calls of `flz assess`, as IAM actions, by where they are made: in every member account (as the member
 * investigator), in the forensic account (as the forensic investigator), and in the management account (a read-only
 * role the operator names). Every action here is of IAM access level Read or List (the tests check it against the
 * service authorization reference data); none changes anything. The investigator policies grant the first two lists;
 * {@link managementAssessorPermissions} is the policy of the management account's role.
 */
import type { PolicyDocument, PolicyStatement } from "./types";

/** Reads in each member account and region (member investigator). */
export const MEMBER_ASSESSMENT_READS: readonly string[] = [
  "iam:GetRole",
  "guardduty:ListDetectors",
  "guardduty:GetDetector",
  "guardduty:GetAdministratorAccount",
  "securityhub:DescribeHub",
  "securityhub:GetAdministratorAccount",
  "detective:ListGraphs",
  "detective:ListInvitations",
  "ec2:DescribeVpcs",
  "ec2:DescribeFlowLogs",
  "ec2:DescribeInstances",
  "ec2:DescribeLaunchTemplateVersions",
  "ec2:DescribeVolumes",
  "ec2:GetEbsEncryptionByDefault",
  "ec2:GetEbsDefaultKmsKeyId",
  "kms:DescribeKey",
  "kms:GetKeyPolicy",
  "route53resolver:ListResolverQueryLogConfigAssociations",
  "route53resolver:ListResolverQueryLogConfigs",
  "logs:DescribeLogGroups",
  "ssm:DescribeInstanceInformation",
  "servicequotas:ListServiceQuotas",
  "servicequotas:ListAWSDefaultServiceQuotas",
];

/** Reads of the forensic account's own resources (forensic investigator): buckets, keys, break-glass, alarms. */
export const FORENSIC_ASSESSMENT_READS = {
  /** On the trail and evidence buckets. */
  buckets: [
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketVersioning",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketPolicy",
  ],
  /** On the forensic keys. */
  keys: ["kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:GetKeyPolicy"],
  /** Account-wide listings and the break-glass role. */
  account: ["iam:GetRole", "events:ListRules", "events:ListTargetsByRule", "sns:ListSubscriptionsByTopic"],
} as const;

/** Reads in the management account: the organisation and its trail. */
export const MANAGEMENT_ASSESSMENT_READS: readonly string[] = [
  "organizations:DescribeOrganization",
  "organizations:ListAccounts",
  "organizations:ListParents",
  "organizations:ListPolicies",
  "organizations:DescribePolicy",
  "organizations:ListTargetsForPolicy",
  "organizations:ListAWSServiceAccessForOrganization",
  "organizations:ListDelegatedAdministrators",
  "organizations:DescribeResourcePolicy",
  "cloudtrail:DescribeTrails",
  "cloudtrail:GetTrailStatus",
  "cloudtrail:GetEventSelectors",
];

/** The member investigator's statement for the assessment (reads that take no resource-level permission). */
export function memberAssessmentStatement(): PolicyStatement {
  return { Sid: "AssessReadiness", Effect: "Allow", Action: [...MEMBER_ASSESSMENT_READS], Resource: "*" };
}

/**
 * The forensic investigator's statements for the assessment: configuration reads on the two forensic buckets and the
 * forensic keys, and the account-wide listings (EventBridge and SNS listings take no resource-level permission).
 *
 * @param bucketArns the trail and evidence bucket ARNs.
 * @param keys the forensic keys as a statement resource (ARNs, or the tag-scoped pattern) and its condition.
 */
export function forensicAssessmentStatements(
  bucketArns: readonly string[],
  keys: Pick<PolicyStatement, "Resource" | "Condition">,
): PolicyStatement[] {
  return [
    {
      Sid: "AssessForensicBuckets",
      Effect: "Allow",
      Action: [...FORENSIC_ASSESSMENT_READS.buckets],
      Resource: [...bucketArns],
    },
    { Sid: "AssessForensicKeys", Effect: "Allow", Action: [...FORENSIC_ASSESSMENT_READS.keys], ...keys },
    {
      Sid: "AssessBreakGlassAndAlarms",
      Effect: "Allow",
      Action: [...FORENSIC_ASSESSMENT_READS.account],
      Resource: "*",
    },
  ];
}

/**
 * Policy of the read-only role `flz assess --management-role` assumes in the management account: the organisation's
 * structure, policies and delegations, and the trail's settings and status. Nothing else.
 */
export function managementAssessorPermissions(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "AssessOrganization", Effect: "Allow", Action: [...MANAGEMENT_ASSESSMENT_READS], Resource: "*" },
    ],
  };
}
