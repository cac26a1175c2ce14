/**
 * KMS key policies of the forensic account's keys. A key policy is the final word on a KMS key: IAM policies count
 * only where the key policy lets them (the "Enable IAM policies" statement), so each policy below names exactly who
 * may use the key for what, and everything else is implicitly denied.
 */
import { protectedKeyStatements } from "./rcp";
import type { PolicyDocument, PolicyStatement } from "./types";
import {
  partitionOf,
  requireAccountId,
  requireArn,
  requireArns,
  requireOrganizationId,
  requireRoleName,
} from "./validate";

/** Arguments of {@link trailKeyPolicy}. */
export interface TrailKeyPolicyArgs {
  /** Account that owns the key (the forensic account). */
  readonly keyAccountId: string;
  /** Management account that owns the organisation trail. */
  readonly managementAccountId: string;
  /** The organisation (kept for callers and future statements; the trail grants are pinned to the trail ARN). */
  readonly organizationId: string;
  /** ARN of the one trail allowed to encrypt with this key. */
  readonly trailArn: string;
  /** Roles that may decrypt trail logs (investigators). Empty: nobody but IAM-enabled key-account principals. */
  readonly investigatorRoleArns: readonly string[];
  /**
   * The deployment principal (the role the deployment acts as in the forensic account): the only principal that may
   * re-policy, disable, delete or grant on the key (`rcp.ts`, {@link protectedKeyStatements}). Required.
   */
  readonly deploymentPrincipalArn: string;
}

/** Arguments of {@link evidenceKeyPolicy}. */
export interface EvidenceKeyPolicyArgs {
  /** Account that owns the key (the forensic account). */
  readonly keyAccountId: string;
  /** The organisation whose member responder roles may use the key. */
  readonly organizationId: string;
  /** Name of the responder role in every member account (same name everywhere, deployed by the StackSet). */
  readonly memberResponderRoleName: string;
  /** Roles of the forensic account that use the key: the responder (copy, re-encrypt) and investigators (decrypt). */
  readonly forensicRoleArns: readonly string[];
  /** The deployment principal: the only principal that may re-policy, disable, delete or grant on the key. Required. */
  readonly deploymentPrincipalArn: string;
}

/** Arguments of {@link custodySigningKeyPolicy}. */
export interface CustodySigningKeyPolicyArgs {
  /** Account that owns the key (the forensic account). */
  readonly keyAccountId: string;
  /** The organisation whose principals may verify custody signatures. */
  readonly organizationId: string;
  /** The only role allowed to sign custody records (the forensic responder role). */
  readonly signerRoleArn: string;
  /** The deployment principal: the only principal that may re-policy, disable, delete or grant on the key. Required. */
  readonly deploymentPrincipalArn: string;
}

/**
 * What evidence handling needs on a key (the list AWS documents for sharing encrypted snapshots): describe it,
 * encrypt and decrypt, re-encrypt a copy, and generate data keys. `kms:CreateGrant` is separate: it is allowed
 * only for grants that AWS services (EBS) create on the caller's behalf.
 */
export const EVIDENCE_KEY_USE_ACTIONS: readonly string[] = [
  "kms:DescribeKey",
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:ReEncrypt*",
  "kms:GenerateDataKey*",
];

/**
 * Administration of the custody signing key, listed explicitly instead of `kms:*`. It leaves out `kms:Sign` (an
 * administrator must not be able to forge custody records), `kms:CreateGrant` (a grant could hand `Sign` to anyone)
 * and `kms:ReplicateKey` (a replica gets a new key policy chosen by the caller). `kms:PutKeyPolicy` stays, because
 * without it the key could never be administered again; changing the policy is a management event in the
 * organisation trail, so a forgery would have to leave that trace first.
 */
export const SIGNING_KEY_ADMIN_ACTIONS: readonly string[] = [
  "kms:DescribeKey",
  "kms:GetKeyPolicy",
  "kms:PutKeyPolicy",
  "kms:ListKeyPolicies",
  "kms:GetPublicKey",
  "kms:ListResourceTags",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:CreateAlias",
  "kms:UpdateAlias",
  "kms:DeleteAlias",
  "kms:UpdateKeyDescription",
  "kms:EnableKey",
  "kms:DisableKey",
  "kms:ListGrants",
  "kms:RevokeGrant",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
];

/**
 * The standard "Enable IAM policies" statement, the one place every key policy gets it from: the key account's root
 * may do everything with the key, which in KMS means IAM policies of that account may grant use of it. Without it the
 * key could become unmanageable. `sid` defaults to `EnableIamPolicies`; keys that shipped with another Sid keep
 * theirs, because changing a Sid rewrites the deployed key policy for nothing.
 */
export function accountAdministersKey(
  partition: string,
  keyAccountId: string,
  sid = "EnableIamPolicies",
): PolicyStatement {
  return {
    Sid: sid,
    Effect: "Allow",
    Principal: { AWS: `arn:${partition}:iam::${keyAccountId}:root` },
    Action: "kms:*",
    Resource: "*",
  };
}

/** The CloudTrail encryption context of any trail owned by the management account. */
function cloudTrailContext(partition: string, managementAccountId: string): string {
  return `arn:${partition}:cloudtrail:*:${managementAccountId}:trail/*`;
}

/**
 * Policy of the trail key:
 * - `EnableIamPolicies`: the forensic account administers the key through IAM.
 * - `AllowCloudTrailEncrypt`: CloudTrail may generate data keys only for this trail (`aws:SourceArn`) and only
 *   with an encryption context naming a trail of the management account.
 * - `AllowCloudTrailDescribeKey`: CloudTrail checks the key when the trail is created or updated.
 * - `AllowInvestigatorsDecryptTrailLogs`: investigators may decrypt, but only ciphertext that carries a CloudTrail
 *   encryption context of the management account: the key cannot be used as a general-purpose decryption oracle.
 * - `AllowTrailCreatorDecrypt`: the management account, which creates and updates the trail, may decrypt CloudTrail
 *   ciphertext. The trail bucket uses an S3 Bucket Key, and then "kms:Decrypt permissions are required to create or
 *   update a trail with SSE-KMS encryption enabled" (CloudTrail user guide, "Configure AWS KMS key policies for
 *   CloudTrail", decrypt permissions); AWS SRA grants it to the management account with exactly this
 *   `Null kms:EncryptionContext:aws:cloudtrail:arn = false` condition, so only CloudTrail ciphertext qualifies.
 * - the {@link protectedKeyStatements}: re-policy, disable, delete and direct grants only by the deployment principal.
 */
export function trailKeyPolicy(args: TrailKeyPolicyArgs): PolicyDocument {
  const keyAccountId = requireAccountId("keyAccountId", args.keyAccountId);
  const managementAccountId = requireAccountId("managementAccountId", args.managementAccountId);
  requireOrganizationId("organizationId", args.organizationId);
  const trailArn = requireArn("trailArn", args.trailArn, "cloudtrail");
  const partition = partitionOf(trailArn);
  const statements: PolicyStatement[] = [
    accountAdministersKey(partition, keyAccountId),
    {
      Sid: "AllowCloudTrailEncrypt",
      Effect: "Allow",
      Principal: { Service: "cloudtrail.amazonaws.com" },
      Action: "kms:GenerateDataKey*",
      Resource: "*",
      Condition: {
        StringLike: { "kms:EncryptionContext:aws:cloudtrail:arn": cloudTrailContext(partition, managementAccountId) },
        StringEquals: { "aws:SourceArn": trailArn },
      },
    },
    {
      Sid: "AllowCloudTrailDescribeKey",
      Effect: "Allow",
      Principal: { Service: "cloudtrail.amazonaws.com" },
      Action: "kms:DescribeKey",
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceArn": trailArn } },
    },
  ];
  if (args.investigatorRoleArns.length > 0) {
    statements.push({
      Sid: "AllowInvestigatorsDecryptTrailLogs",
      Effect: "Allow",
      Principal: { AWS: requireArns("investigatorRoleArns", args.investigatorRoleArns, "iam") },
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: {
        Null: { "kms:EncryptionContextKeys": "false" },
        StringLike: { "kms:EncryptionContext:aws:cloudtrail:arn": cloudTrailContext(partition, managementAccountId) },
      },
    });
  }
  statements.push(
    {
      Sid: "AllowTrailCreatorDecrypt",
      Effect: "Allow",
      Principal: { AWS: `arn:${partition}:iam::${managementAccountId}:root` },
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: { Null: { "kms:EncryptionContext:aws:cloudtrail:arn": "false" } },
    },
    ...protectedKeyStatements(args.deploymentPrincipalArn),
  );
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * Policy of an evidence key (one per governed region). Member accounts copy their snapshots re-encrypted under it
 * and share the copies, so the member responder role of every organisation account needs the snapshot-sharing
 * permissions on it; the forensic roles need the same to copy again and to analyse.
 * - `EnableIamPolicies`: the forensic account administers the key.
 * - `AllowMemberRespondersUseKey` / `AllowMemberRespondersCreateGrantsForAwsServices`: any principal whose ARN is the
 *   member responder role AND whose account is in the organisation; a role of that name in a foreign account fails
 *   the `aws:PrincipalOrgID` test.
 * - `AllowForensicRolesUseKey` / `AllowForensicRolesCreateGrantsForAwsServices`: the named forensic roles.
 */
export function evidenceKeyPolicy(args: EvidenceKeyPolicyArgs): PolicyDocument {
  const keyAccountId = requireAccountId("keyAccountId", args.keyAccountId);
  const organizationId = requireOrganizationId("organizationId", args.organizationId);
  const roleName = requireRoleName("memberResponderRoleName", args.memberResponderRoleName);
  const forensicRoleArns = requireArns("forensicRoleArns", args.forensicRoleArns, "iam");
  const partition = partitionOf(forensicRoleArns[0]);
  const memberResponder = {
    StringEquals: { "aws:PrincipalOrgID": organizationId },
    ArnLike: { "aws:PrincipalArn": `arn:${partition}:iam::*:role/${roleName}` },
  };
  const grantForAwsService = { Bool: { "kms:GrantIsForAWSResource": "true" } };
  return {
    Version: "2012-10-17",
    Statement: [
      accountAdministersKey(partition, keyAccountId),
      {
        Sid: "AllowMemberRespondersUseKey",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: [...EVIDENCE_KEY_USE_ACTIONS],
        Resource: "*",
        Condition: memberResponder,
      },
      {
        Sid: "AllowMemberRespondersCreateGrantsForAwsServices",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: "kms:CreateGrant",
        Resource: "*",
        Condition: { ...memberResponder, ...grantForAwsService },
      },
      {
        Sid: "AllowForensicRolesUseKey",
        Effect: "Allow",
        Principal: { AWS: forensicRoleArns },
        Action: [...EVIDENCE_KEY_USE_ACTIONS],
        Resource: "*",
      },
      {
        Sid: "AllowForensicRolesCreateGrantsForAwsServices",
        Effect: "Allow",
        Principal: { AWS: forensicRoleArns },
        Action: "kms:CreateGrant",
        Resource: "*",
        Condition: grantForAwsService,
      },
      ...protectedKeyStatements(args.deploymentPrincipalArn),
    ],
  };
}

/**
 * Policy of the custody signing key (ECC P-256, SIGN_VERIFY). The key's whole value is that one role, and nobody
 * else, can produce a valid signature:
 * - `AllowKeyAdministrationWithoutSigning`: the key account administers the key through {@link SIGNING_KEY_ADMIN_ACTIONS},
 *   which has no `kms:Sign`; there is deliberately no `kms:*` statement, so even an administrator whose identity
 *   policy says `kms:*` cannot sign.
 * - `AllowCustodySigning`: `kms:Sign` for the signer role only.
 * - `AllowOrganizationVerify`: anyone in the organisation may verify signatures and read the public key.
 * - the {@link protectedKeyStatements} with the signer: nobody else signs, whatever a later statement allows, and only
 *   the deployment principal re-policies, disables, deletes or grants.
 */
export function custodySigningKeyPolicy(args: CustodySigningKeyPolicyArgs): PolicyDocument {
  const keyAccountId = requireAccountId("keyAccountId", args.keyAccountId);
  const organizationId = requireOrganizationId("organizationId", args.organizationId);
  const signerRoleArn = requireArn("signerRoleArn", args.signerRoleArn, "iam");
  const partition = partitionOf(signerRoleArn);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowKeyAdministrationWithoutSigning",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${keyAccountId}:root` },
        Action: [...SIGNING_KEY_ADMIN_ACTIONS],
        Resource: "*",
      },
      {
        Sid: "AllowCustodySigning",
        Effect: "Allow",
        Principal: { AWS: signerRoleArn },
        Action: ["kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"],
        Resource: "*",
      },
      {
        Sid: "AllowOrganizationVerify",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: ["kms:Verify", "kms:GetPublicKey", "kms:DescribeKey"],
        Resource: "*",
        Condition: { StringEquals: { "aws:PrincipalOrgID": organizationId } },
      },
      ...protectedKeyStatements(args.deploymentPrincipalArn, { signerArns: [signerRoleArn] }),
    ],
  };
}
