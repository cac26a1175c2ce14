/**
 * Identity (permission) policies of the four forensic roles. Each grants what its job needs and nothing else:
 * responders capture and contain, investigators read. Where a service supports resource-level permissions the
 * statements name resource types; where it does not (Describe*, List*), `Resource: "*"` is the only valid value.
 * No statement grants `*` actions, and nothing lets a role create or delete principals.
 */
import type { PolicyDocument, PolicyStatement } from "./types";
import { EVIDENCE_KEY_USE_ACTIONS } from "./kms";
import {
  KEY_PURPOSE,
  PURPOSE_TAG_KEY,
  accountKeyPattern,
  keyScope,
  mergeConditions,
  type ForensicKeysByTag,
  type KeyScope,
} from "./keys";
import { forensicAssessmentStatements, memberAssessmentStatement } from "./assess";
import { quarantineResponderStatements } from "./quarantine-delegation";
import { memoryCaptureStatements } from "./ssm-memory";
import { CUSTODY_KEY_PATTERNS } from "./rcp";
import {
  DocumentInputError,
  partitionOf,
  requireAccountId,
  requireArn,
  requireOrganizationId,
  requireRoleName,
} from "./validate";

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

/** Arguments of {@link forensicResponderPermissions}. */
export interface ForensicResponderPermissionsArgs {
  /** Name of the responder role in every member account. */
  readonly memberResponderRoleName: string;
  /** ARN of the Object-Locked evidence bucket. */
  readonly evidenceBucketArn: string;
  /** The evidence keys, one per governed region. Or `keysByTag`. */
  readonly evidenceKeyArns?: readonly string[];
  /** The custody signing key (ECC P-256). Or `keysByTag`. */
  readonly signingKeyArn?: string;
  /**
   * Instead of key ARNs: the forensic account's keys tagged as evidence keys and as the custody signing key, known
   * before the keys exist (see `keys.ts`). ARNs given take precedence, key by key.
   */
  readonly keysByTag?: ForensicKeysByTag;
  /**
   * When given, the member role may be assumed only in accounts of this organisation (`aws:ResourceOrgID`).
   * Recommended; without it the member role's own trust policy is the only check.
   */
  readonly organizationId?: string;
}

/** Arguments of {@link forensicInvestigatorPermissions}. */
export interface ForensicInvestigatorPermissionsArgs {
  /** Name of the investigator role in every member account. */
  readonly memberInvestigatorRoleName: string;
  /** ARN of the organisation-trail bucket. */
  readonly trailBucketArn: string;
  /** ARN of the evidence bucket (read only). */
  readonly evidenceBucketArn: string;
  /** The trail key; its key policy further limits decryption to CloudTrail ciphertext. Or `keysByTag`. */
  readonly trailKeyArn?: string;
  /** When given, the evidence keys the investigator may decrypt evidence with. Default: none (see `keysByTag`). */
  readonly evidenceKeyArns?: readonly string[];
  /**
   * Instead of key ARNs: the forensic account's keys tagged as the trail key and (with `decryptEvidence`) as evidence
   * keys, known before the keys exist (see `keys.ts`). ARNs given take precedence, key by key.
   */
  readonly keysByTag?: ForensicKeysByTag;
  /** With `keysByTag`: whether the investigator may decrypt evidence under the evidence keys. Default true. */
  readonly decryptEvidence?: boolean;
  /** When given, the member role may be assumed only in accounts of this organisation. */
  readonly organizationId?: string;
  /**
   * The custody signing key, whose configuration `flz assess` reads (with key ARNs; `keysByTag` covers it by tag).
   * Default: none.
   */
  readonly signingKeyArn?: string;
  /** When given, the Athena query-results bucket the investigator writes to. Default: none. */
  readonly athenaResultsBucketArn?: string;
  /**
   * Key prefix of the query results inside `athenaResultsBucketArn` (e.g. `athena-results/`). Default: the whole
   * bucket. Give it when the results bucket is the evidence bucket: investigators then write results there and nowhere
   * else in it.
   */
  readonly athenaResultsPrefix?: string;
}

/** A results prefix as an object-key prefix: no leading slash, one trailing slash (empty for the whole bucket). */
function athenaPrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? "").replace(/^\/+/, "").replace(/\/+$/, "");
  if (/[*?]/.test(trimmed))
    throw new DocumentInputError(
      `athenaResultsPrefix "${prefix ?? ""}" contains a wildcard; give a plain key prefix such as athena-results/`,
    );
  return trimmed === "" ? "" : `${trimmed}/`;
}

/** A statement over the keys of `scope`, its own condition merged with the scope's purpose-tag condition. */
function onKeys(statement: Omit<PolicyStatement, "Resource">, scope: KeyScope): PolicyStatement {
  const condition =
    statement.Condition === undefined && scope.Condition === undefined
      ? undefined
      : mergeConditions(statement.Condition, scope.Condition);
  return { ...statement, Resource: scope.Resource, ...(condition === undefined ? {} : { Condition: condition }) };
}

/** The partition of the first key ARN given, else of `keysByTag`, else `aws`. */
function keyPartition(arns: readonly string[] | undefined, byTag: ForensicKeysByTag | undefined): string {
  const first = arns?.[0];
  return first !== undefined ? partitionOf(first) : (byTag?.partition ?? "aws");
}

/**
 * What the responders' identity policies allow on the evidence keys: the key policy's evidence-use list without
 * `kms:Encrypt`, which no command calls (EBS re-encrypts snapshot copies with data keys and `ReEncrypt`, S3 with data
 * keys; `docs/permissions.md` lists the calls).
 */
export const EVIDENCE_KEY_IDENTITY_ACTIONS: readonly string[] = EVIDENCE_KEY_USE_ACTIONS.filter(
  (a) => a !== "kms:Encrypt",
);

/** Evidence-key use, with `CreateGrant` only for grants an AWS service (EBS) makes on the caller's behalf. */
function evidenceKeyStatements(scope: KeyScope): PolicyStatement[] {
  return [
    onKeys({ Sid: "UseEvidenceKeys", Effect: "Allow", Action: [...EVIDENCE_KEY_IDENTITY_ACTIONS] }, scope),
    onKeys(
      {
        Sid: "CreateEvidenceKeyGrantsForAwsServices",
        Effect: "Allow",
        Action: "kms:CreateGrant",
        Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
      },
      scope,
    ),
  ];
}

/** Assume a same-named role in member accounts, optionally only inside the organisation. */
function assumeMemberRole(
  sid: string,
  partition: string,
  roleName: string,
  organizationId: string | undefined,
): PolicyStatement {
  const statement: PolicyStatement = {
    Sid: sid,
    Effect: "Allow",
    Action: ["sts:AssumeRole", "sts:TagSession"],
    Resource: `arn:${partition}:iam::*:role/${roleName}`,
  };
  if (organizationId !== undefined) {
    statement.Condition = {
      StringEquals: { "aws:ResourceOrgID": requireOrganizationId("organizationId", organizationId) },
    };
  }
  return statement;
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

/** Destructive or policy-changing S3 actions a forensic role must never perform on an evidence or trail bucket. */
export const FORBIDDEN_EVIDENCE_BUCKET_ACTIONS: readonly string[] = [
  "s3:DeleteObject",
  "s3:DeleteObjectVersion",
  "s3:BypassGovernanceRetention",
  "s3:PutBucketPolicy",
  "s3:DeleteBucketPolicy",
  "s3:PutBucketObjectLockConfiguration",
  "s3:PutLifecycleConfiguration",
  "s3:PutBucketVersioning",
  "s3:DeleteBucket",
];

/** Explicit deny of the forbidden actions: it holds even if someone later attaches a broader policy to the role. */
function denyTampering(bucketArns: string[]): PolicyStatement {
  return {
    Sid: "DenyEvidenceTampering",
    Effect: "Deny",
    Action: [...FORBIDDEN_EVIDENCE_BUCKET_ACTIONS],
    Resource: bucketArns.flatMap((arn) => [arn, `${arn}/*`]),
  };
}

/**
 * Permissions of the forensic responder role: enter member accounts as the member responder (tagging the session
 * with the case), write and read evidence (never delete, never change the bucket's policy or lock), sign custody
 * records, use the evidence keys, take ownership of shared snapshots (copy, lock, describe), read their blocks, and
 * manage the organisation's quarantine SCPs (and only those) through the delegation the landing zone publishes.
 * Exactly what the commands call (measured by the authorization oracle; `docs/permissions.md`).
 */
export function forensicResponderPermissions(args: ForensicResponderPermissionsArgs): PolicyDocument {
  const roleName = requireRoleName("memberResponderRoleName", args.memberResponderRoleName);
  const bucketArn = requireArn("evidenceBucketArn", args.evidenceBucketArn, "s3");
  const evidenceKeys = keyScope("evidenceKeyArns", args.evidenceKeyArns, args.keysByTag, KEY_PURPOSE.evidence);
  const signingKey = keyScope("signingKeyArn", args.signingKeyArn, args.keysByTag, KEY_PURPOSE.signing);
  const p = partitionOf(bucketArn);
  const snapshots = `arn:${p}:ec2:*::snapshot/*`;
  return {
    Version: "2012-10-17",
    Statement: [
      assumeMemberRole("AssumeMemberResponderRoles", p, roleName, args.organizationId),
      {
        Sid: "ListEvidence",
        Effect: "Allow",
        // Versions too: the custody ledger and verify read every version and delete marker under a case, so a delete
        // marker cannot hide a record nor a later version replace one (docs/custody.md).
        Action: ["s3:ListBucket", "s3:ListBucketVersions"],
        Resource: bucketArn,
      },
      {
        Sid: "ReadEvidenceLockConfiguration",
        Effect: "Allow",
        // The bucket's default retention: custody writes ask for at least as long (scripts/custody/retention.ts).
        Action: "s3:GetBucketObjectLockConfiguration",
        Resource: bucketArn,
      },
      {
        Sid: "WriteAndReadEvidence",
        Effect: "Allow",
        // GetObjectVersion: custody reads the first version of each record key, not whatever is current.
        Action: ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"],
        Resource: `${bucketArn}/*`,
      },
      {
        Sid: "LockMemoryImagesInComplianceMode",
        Effect: "Allow",
        // flz capture memory sets the image's retention when it creates the upload (S3 applies a bucket's default
        // retention too, but the emulator does not to multipart objects). COMPLIANCE only: it can never be shortened.
        Action: "s3:PutObjectRetention",
        Resource: `${bucketArn}/cases/*/evidence/memory/*`,
        Condition: { StringEquals: { "s3:object-lock-mode": "COMPLIANCE" } },
      },
      {
        Sid: "ResumeEvidenceUploads",
        Effect: "Allow",
        // flz evidence put resumes an interrupted multipart upload of a case's evidence (docs/reliability.md): it
        // finds the upload by its key, lists the parts already stored, and aborts the upload of a file that changed
        // since. Aborting drops uncommitted parts only; a completed object is untouched (S3 API reference,
        // AbortMultipartUpload).
        Action: ["s3:ListBucketMultipartUploads"],
        Resource: bucketArn,
      },
      {
        Sid: "ResumeCaseEvidenceUploadParts",
        Effect: "Allow",
        Action: ["s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"],
        Resource: `${bucketArn}/cases/*`,
      },
      {
        Sid: "LockCustodyRecords",
        Effect: "Allow",
        // Custody records, journals and the public-key copy carry their own COMPLIANCE retention (a PutObject with
        // Object Lock headers is authorized as s3:PutObjectRetention too), whatever the bucket's default says:
        // COMPLIANCE only, and only on custody keys.
        Action: "s3:PutObjectRetention",
        Resource: CUSTODY_KEY_PATTERNS.map((pattern) => `${bucketArn}/${pattern}`),
        Condition: { StringEquals: { "s3:object-lock-mode": "COMPLIANCE" } },
      },
      {
        Sid: "ReadEvidenceRetention",
        Effect: "Allow",
        // HeadObject and GetObject return an object's Object Lock mode and retain-until date only to a caller with
        // s3:GetObjectRetention (S3 API reference, HeadObject): the ledger reads back the retention of every record it
        // writes, and verify checks every version under a case.
        Action: "s3:GetObjectRetention",
        Resource: `${bucketArn}/cases/*`,
      },
      denyTampering([bucketArn]),
      onKeys(
        {
          Sid: "SignCustodyRecords",
          Effect: "Allow",
          // Verification is offline, with the public key (docs/custody.md): no kms:Verify.
          Action: ["kms:Sign", "kms:GetPublicKey"],
        },
        signingKey,
      ),
      ...evidenceKeyStatements(evidenceKeys),
      {
        Sid: "DescribeSnapshots",
        Effect: "Allow",
        Action: ["ec2:DescribeSnapshots", "ec2:DescribeLockedSnapshots"],
        Resource: "*",
      },
      {
        Sid: "OwnAndLockEvidenceSnapshots",
        Effect: "Allow",
        Action: ["ec2:CopySnapshot", "ec2:LockSnapshot", "ec2:CreateTags"],
        Resource: snapshots,
      },
      {
        Sid: "ReadSnapshotBlocks",
        Effect: "Allow",
        Action: ["ebs:ListSnapshotBlocks", "ebs:GetSnapshotBlock"],
        Resource: snapshots,
      },
      // Session and credential revocation: quarantine SCPs through Organizations' delegated policy management.
      ...quarantineResponderStatements({ organizationId: args.organizationId, partition: p }),
    ],
  };
}

/**
 * Permissions of the forensic investigator role: enter member accounts as the member investigator, read the trail
 * logs (and decrypt them under the trail key), read evidence, and query the trail with Athena and Glue. Reads only,
 * apart from Athena's own query results; both buckets are protected by the same explicit deny as the responder's.
 */
export function forensicInvestigatorPermissions(args: ForensicInvestigatorPermissionsArgs): PolicyDocument {
  const roleName = requireRoleName("memberInvestigatorRoleName", args.memberInvestigatorRoleName);
  const trailBucketArn = requireArn("trailBucketArn", args.trailBucketArn, "s3");
  const evidenceBucketArn = requireArn("evidenceBucketArn", args.evidenceBucketArn, "s3");
  const trailKey = keyScope("trailKeyArn", args.trailKeyArn, args.keysByTag, KEY_PURPOSE.trail);
  const p = partitionOf(trailBucketArn);
  const statements: PolicyStatement[] = [
    assumeMemberRole("AssumeMemberInvestigatorRoles", p, roleName, args.organizationId),
    {
      Sid: "ListLogsAndEvidence",
      Effect: "Allow",
      Action: ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation"],
      Resource: [trailBucketArn, evidenceBucketArn],
    },
    {
      Sid: "ReadLogsAndEvidence",
      Effect: "Allow",
      Action: [
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:GetObjectAttributes",
        "s3:GetObjectRetention",
        "s3:GetObjectLegalHold",
      ],
      Resource: [`${trailBucketArn}/*`, `${evidenceBucketArn}/*`],
    },
    denyTampering([trailBucketArn, evidenceBucketArn]),
    onKeys({ Sid: "DescribeTrailKey", Effect: "Allow", Action: "kms:DescribeKey" }, trailKey),
    // The key policy's "Enable IAM policies" statement makes this grant effective on its own in the forensic
    // account, so the CloudTrail-only condition is repeated here: the trail key stays no general decryption oracle.
    onKeys(
      {
        Sid: "DecryptTrailLogs",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Condition: {
          Null: { "kms:EncryptionContextKeys": "false" },
          StringLike: { "kms:EncryptionContext:aws:cloudtrail:arn": `arn:${p}:cloudtrail:*:*:trail/*` },
        },
      },
      trailKey,
    ),
    {
      Sid: "QueryTrailWithAthena",
      Effect: "Allow",
      Action: [
        "athena:StartQueryExecution",
        "athena:StopQueryExecution",
        "athena:GetQueryExecution",
        "athena:GetQueryResults",
        "athena:ListQueryExecutions",
        "athena:GetWorkGroup",
        "glue:GetDatabase",
        "glue:GetDatabases",
        "glue:GetTable",
        "glue:GetTables",
        "glue:GetPartition",
        "glue:GetPartitions",
      ],
      Resource: "*",
    },
  ];
  // flz assess reads the forensic keys' configuration (state, rotation, policy): every forensic key, by tag or by ARN.
  const assessedKeys: KeyScope =
    args.trailKeyArn === undefined && args.keysByTag !== undefined
      ? {
          Resource: accountKeyPattern(args.keysByTag),
          Condition: {
            StringEquals: {
              [`aws:ResourceTag/${args.keysByTag.tagKey ?? PURPOSE_TAG_KEY}`]: [
                KEY_PURPOSE.evidence,
                KEY_PURPOSE.trail,
                KEY_PURPOSE.signing,
              ],
            },
          },
        }
      : {
          Resource: [
            ...(Array.isArray(trailKey.Resource) ? trailKey.Resource : [trailKey.Resource]),
            ...(args.evidenceKeyArns ?? []),
            ...(args.signingKeyArn !== undefined ? [requireArn("signingKeyArn", args.signingKeyArn, "kms")] : []),
          ],
        };
  statements.push(...forensicAssessmentStatements([trailBucketArn, evidenceBucketArn], assessedKeys));
  const evidenceByArn = args.evidenceKeyArns !== undefined && args.evidenceKeyArns.length > 0;
  if (evidenceByArn || (args.keysByTag !== undefined && args.decryptEvidence !== false)) {
    statements.push(
      onKeys(
        { Sid: "DecryptEvidence", Effect: "Allow", Action: ["kms:Decrypt", "kms:DescribeKey"] },
        keyScope(
          "evidenceKeyArns",
          evidenceByArn ? args.evidenceKeyArns : undefined,
          args.keysByTag,
          KEY_PURPOSE.evidence,
        ),
      ),
    );
  }
  if (args.athenaResultsBucketArn !== undefined) {
    const results = requireArn("athenaResultsBucketArn", args.athenaResultsBucketArn, "s3");
    statements.push(
      {
        Sid: "ListAthenaResults",
        Effect: "Allow",
        Action: ["s3:ListBucket", "s3:GetBucketLocation"],
        Resource: results,
      },
      {
        Sid: "WriteAthenaResults",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
        Resource: `${results}/${athenaPrefix(args.athenaResultsPrefix)}*`,
      },
    );
  }
  return { Version: "2012-10-17", Statement: statements };
}
