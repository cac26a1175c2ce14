/**
 * Session policies of the response automation's acting functions (issue 15: "each with its own least-privilege
 * role"). Every acting function runs the CLI's own code as the forensic responder (so its custody records are signed
 * by the one custody key, written where the bucket and key policies let the responder write, and its member sessions
 * carry the case tag, exactly as `flz`), but each opens that session, and its member sessions, with a session policy
 * naming only what its step does. AWS grants a session the intersection of the role's identity-based policies and the
 * session policy ("The resulting session's permissions are the intersection of the role's identity-based policy and
 * the session policies": AWS STS API reference, AssumeRole, `Policy`; IAM user guide, "Session policies"): a session
 * policy can only take permissions away. A resource policy that names the role (the evidence bucket's, the custody
 * key's) is limited by the session policy too (IAM user guide, "Policy evaluation logic", session policies).
 *
 * What each function's sessions may do:
 * - intake: read and write its case's ledger and its Distributed Map item lists; in member accounts, read only the
 *   tags the opt-out guardrail looks at (DescribeInstances, GetRole, ListUserTags): it changes nothing there;
 * - record: the ledger only, no member account;
 * - contain: the ledger, the organisation's quarantine policies (session revocation), and in member accounts the
 *   containment actions only: no snapshot is created, copied or shared, nothing but custody records is written;
 * - capture: the ledger and its artefacts, snapshot copy and lock in the forensic account, and in member accounts the
 *   snapshot actions only: it cannot isolate, change an instance or a network interface, or touch a security group;
 * - hash: read the forensic snapshots' blocks and write custody records, nothing else, no member account;
 * - verify: read the ledger and the custody public key; it writes nothing.
 *
 * Pure: names in, documents out. STS refuses a session policy over 2,048 characters of plaintext (AssumeRole,
 * `Policy`), so the documents are compact; {@link SESSION_POLICY_MAX_CHARS} is checked by the builder.
 */
import type { PolicyDocument, PolicyStatement } from "./types";
import { DocumentInputError } from "./validate";

/** The functions that act through the forensic responder (every one but the dispatcher). */
export type ActingFunction = "intake" | "record" | "contain" | "capture" | "hash" | "verify";

/** STS's limit on an inline session policy's plaintext (AssumeRole, `Policy`). */
export const SESSION_POLICY_MAX_CHARS = 2048;

/** Arguments of {@link automationSessionPolicies}. */
export interface AutomationSessionArgs {
  /** The evidence bucket (the case ledger's and the item lists' home). */
  readonly evidenceBucket: string;
  /** Name of the member responder role (the only role a function may enter member accounts through). */
  readonly memberResponderRoleName: string;
  /** AWS partition. Default `aws`. */
  readonly partition?: string;
}

/** The session policies of one function: its forensic session's, and its member sessions' (absent: none allowed). */
export interface AutomationSessionPolicies {
  /** Passed when the function assumes the forensic responder. */
  readonly forensic: PolicyDocument;
  /** Passed when it assumes the member responder role; undefined when it must not enter member accounts at all. */
  readonly member?: PolicyDocument;
}

const allow = (Sid: string, Action: string | string[], Resource: string | string[]): PolicyStatement => ({
  Sid,
  Effect: "Allow",
  Action,
  Resource,
});

/** Reading a case's ledger (and the case gate's look at record 0). */
const READ_CASE = [
  "s3:GetObject",
  "s3:GetObjectVersion",
  "s3:GetObjectRetention",
  "s3:ListBucket",
  "s3:ListBucketVersions",
  "s3:GetBucketObjectLockConfiguration",
];

/** Entering member accounts as the member responder, with the case as session tag. */
const ENTER_MEMBERS = ["sts:AssumeRole", "sts:TagSession"];

/** What containment does in a member account (`flz contain instance|role|access-key`): no snapshot action. */
const CONTAIN_IN_MEMBER = [
  "ec2:Describe*",
  "autoscaling:Describe*",
  "ec2:ModifyInstanceAttribute",
  "ec2:ModifyInstanceMetadataOptions",
  "ec2:ModifyNetworkInterfaceAttribute",
  "ec2:CreateSecurityGroup",
  "ec2:AuthorizeSecurityGroup*",
  "ec2:RevokeSecurityGroup*",
  "ec2:CreateTags",
  "ec2:DeleteTags",
  "autoscaling:EnterStandby",
  "autoscaling:DetachInstances",
  "autoscaling:SetInstanceProtection",
  "iam:GetRole",
  "iam:GetUser",
  "iam:ListAccessKeys",
  "iam:GetAccessKeyLastUsed",
  "iam:UpdateAccessKey",
];

/** What capture does in a member account (`flz capture`): snapshots, their sharing, their keys through EC2. */
const CAPTURE_IN_MEMBER = [
  "ec2:Describe*",
  "ec2:CreateSnapshot",
  "ec2:CopySnapshot",
  "ec2:ModifySnapshotAttribute",
  "ec2:CreateTags",
  "ec2:GetConsoleOutput",
  "kms:CreateGrant",
  "kms:Decrypt",
  "kms:DescribeKey",
  "kms:Encrypt",
  "kms:GenerateDataKey*",
  "kms:ReEncrypt*",
];

/**
 * The session policies of `fn`. Throws {@link DocumentInputError} for a bad bucket name, and when a document would
 * exceed STS's limit (a change to this file that AWS would refuse at the first invocation).
 */
export function automationSessionPolicies(fn: ActingFunction, args: AutomationSessionArgs): AutomationSessionPolicies {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(args.evidenceBucket))
    throw new DocumentInputError(`evidenceBucket: ${JSON.stringify(args.evidenceBucket)} is not an S3 bucket name`);
  const bucket = `arn:${args.partition ?? "aws"}:s3:::${args.evidenceBucket}`;
  const cases = `${bucket}/cases/*`;
  const read = allow("ReadCase", READ_CASE, [bucket, cases]);
  // Custody records and their batch journals: the only objects every writing function may create.
  const records = [`${cases}/custody/*`, `${cases}/custody-journal/*`];
  const writeRecords = (extra: string[] = []) =>
    allow("WriteRecords", ["s3:PutObject", "s3:PutObjectRetention"], [...records, ...extra]);
  // Signing records; GenerateDataKey/Decrypt are what S3 asks of the bucket's key on the caller's behalf.
  const sign = allow("SignAndStore", ["kms:Sign", "kms:GetPublicKey", "kms:GenerateDataKey", "kms:Decrypt"], "*");
  if (!/^[\w+=,.@-]{1,64}$/.test(args.memberResponderRoleName))
    throw new DocumentInputError(
      `memberResponderRoleName: ${JSON.stringify(args.memberResponderRoleName)} is not an IAM role name`,
    );
  const memberRoles = `arn:${args.partition ?? "aws"}:iam::*:role/${args.memberResponderRoleName}`;
  const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: "2012-10-17", Statement });
  let policies: AutomationSessionPolicies;
  switch (fn) {
    case "intake":
      policies = {
        forensic: doc(read, writeRecords([`${cases}/automation/*`]), sign, allow("Enter", ENTER_MEMBERS, memberRoles)),
        member: doc(allow("ReadOptOutTags", ["ec2:DescribeInstances", "iam:GetRole", "iam:ListUserTags"], "*")),
      };
      break;
    case "record":
      policies = { forensic: doc(read, writeRecords(), sign) };
      break;
    case "contain":
      policies = {
        forensic: doc(
          read,
          writeRecords(),
          sign,
          allow("Enter", ENTER_MEMBERS, memberRoles),
          // Session revocation: the organisation-level quarantine (PLAN decision 3), through delegated management.
          allow(
            "Quarantine",
            [
              "organizations:CreatePolicy",
              "organizations:UpdatePolicy",
              "organizations:AttachPolicy",
              "organizations:TagResource",
              "organizations:DescribePolicy",
              "organizations:List*",
              "organizations:DescribeOrganization",
            ],
            "*",
          ),
        ),
        member: doc(allow("Contain", CONTAIN_IN_MEMBER, "*")),
      };
      break;
    case "capture":
      policies = {
        forensic: doc(
          read,
          writeRecords([`${cases}/artefacts/*`]),
          sign,
          allow("Enter", ENTER_MEMBERS, memberRoles),
          allow(
            "OwnAndLockCopies",
            [
              "ec2:DescribeSnapshots",
              "ec2:DescribeLockedSnapshots",
              "ec2:CopySnapshot",
              "ec2:LockSnapshot",
              "ec2:CreateTags",
              "kms:CreateGrant",
              "kms:DescribeKey",
              "kms:GenerateDataKey*",
              "kms:ReEncrypt*",
            ],
            "*",
          ),
        ),
        member: doc(allow("Capture", CAPTURE_IN_MEMBER, "*")),
      };
      break;
    case "hash":
      policies = {
        forensic: doc(
          read,
          writeRecords(),
          sign,
          allow("ReadSnapshotBlocks", ["ec2:DescribeSnapshots", "ebs:ListSnapshotBlocks", "ebs:GetSnapshotBlock"], "*"),
        ),
      };
      break;
    case "verify":
      policies = { forensic: doc(read, allow("ReadKey", ["kms:GetPublicKey", "kms:Decrypt"], "*")) };
      break;
  }
  for (const [kind, d] of Object.entries(policies))
    if (d && JSON.stringify(d).length > SESSION_POLICY_MAX_CHARS)
      throw new DocumentInputError(
        `${fn}: its ${kind} session policy is ${JSON.stringify(d).length} characters; STS allows ${SESSION_POLICY_MAX_CHARS}`,
      );
  return policies;
}
