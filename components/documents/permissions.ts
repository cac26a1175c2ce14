/**
 * Identity (permission) policies of the forensic account's roles: the forensic responder (capture, custody, the
 * quarantine delegation) and the forensic investigator (reads the trail, the evidence and Athena). The member roles'
 * policies are in `permissions-member.ts`, what both share about keys in `permissions-keys.ts`. No statement grants
 * `*` actions, and nothing lets a role create or delete principals.
 */
import type { PolicyDocument, PolicyStatement } from "./types";
import {
  KEY_PURPOSE,
  PURPOSE_TAG_KEY,
  accountKeyPattern,
  keyScope,
  type ForensicKeysByTag,
  type KeyScope,
} from "./keys";
import { forensicAssessmentStatements } from "./assess";
import { quarantineResponderStatements } from "./quarantine-delegation";
import { CUSTODY_KEY_PATTERNS } from "./rcp";
import { DocumentInputError, partitionOf, requireArn, requireOrganizationId, requireRoleName } from "./validate";

import { evidenceKeyStatements, onKeys } from "./permissions-keys";

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
