/**
 * The preventive controls on the evidence and trail buckets and the forensic keys, as pure statements, and the
 * resource control policy (RCP) that carries them above the forensic account.
 *
 * Why the same statements live in three places (docs/threat-model.md, "Evidence and trail buckets"):
 * - in the bucket and key policies, where they bind every principal, management-account principals included, as long
 *   as nobody rewrites the policy;
 * - in an RCP attached above the forensic account, so that no principal of the forensic account can lift them by
 *   editing a bucket or key policy (an RCP is evaluated on every request to a resource of a member account, whoever
 *   the principal; AWS Organizations user guide, "Resource control policies"). S3 and KMS are among the services RCPs
 *   apply to ("List of AWS services that support RCPs": S3, STS, KMS, SQS and Secrets Manager from the start, more
 *   added since); an RCP allows only `Deny` statements with `Principal: "*"`, no `NotPrincipal`/`NotAction`, and no
 *   `Action: "*"` ("RCP syntax"), and is at most 5,120 characters ("Quotas for AWS Organizations");
 * - the bucket-owner account's root user may always call `PutBucketPolicy`/`DeleteBucketPolicy`, even against a bucket
 *   policy that denies it, and only Organizations policies can stop it (S3 API reference, PutBucketPolicy): that is
 *   what the RCP and the SCP copy ({@link forensicResourceScpStatements}) are for.
 *
 * RCPs never apply to resources of the management account and never restrict service-linked roles; SCPs never apply
 * to management-account principals. A management-account principal can also detach these policies: what AWS cannot
 * prevent there, the incident alarms detect (`alarms.ts`, {@link FORENSIC_BUCKET_CHANGE_EVENTS}).
 */
import { KEY_PURPOSE, PURPOSE_TAG_KEY, accountKeyPattern, type ForensicKeysByTag } from "./keys";
import type { PolicyCondition, PolicyDocument, PolicyStatement } from "./types";
import { DocumentInputError, requireAccountId, requireArn, requireArns } from "./validate";

/** The largest RCP AWS Organizations accepts, in characters of the policy text. */
export const RCP_MAX_CHARACTERS = 5120;

/**
 * Object-level calls that erase evidence or hide it. `DeleteObject` without a version ID does not remove a locked
 * version but puts a delete marker over it, which hides the record from every reader that lists the current objects
 * (REFERENCE.md, "Object Lock"): it is denied like `DeleteObjectVersion`. `BypassGovernanceRetention` matters only if a
 * bucket was ever switched to GOVERNANCE mode.
 */
export const EVIDENCE_DELETION_ACTIONS: readonly string[] = [
  "s3:DeleteObject",
  "s3:DeleteObjectVersion",
  "s3:BypassGovernanceRetention",
];

/**
 * Bucket-level calls that would weaken a forensic bucket: its Object Lock default retention, policy, lifecycle (an
 * expiry rule), default encryption, versioning, ownership, public-access block, ACL, access logging and replication
 * (a copy under someone else's control), and deleting the bucket. The `Delete*` API calls that remove a lifecycle,
 * encryption or public-access block are authorised by these same `Put*` actions (S3 "Actions, resources and condition
 * keys").
 */
export const BUCKET_CONFIGURATION_ACTIONS: readonly string[] = [
  "s3:PutBucketObjectLockConfiguration",
  "s3:PutBucketPolicy",
  "s3:DeleteBucketPolicy",
  "s3:PutLifecycleConfiguration",
  "s3:PutEncryptionConfiguration",
  "s3:PutBucketVersioning",
  "s3:PutBucketOwnershipControls",
  "s3:PutBucketPublicAccessBlock",
  "s3:PutBucketAcl",
  "s3:PutBucketLogging",
  "s3:PutReplicationConfiguration",
  "s3:DeleteBucket",
];

/**
 * KMS calls that make evidence unreadable, signatures unverifiable, or a key someone else's: a new key policy,
 * scheduled deletion, disabling the key or its rotation, deleting imported material, replicating it (a replica gets a
 * key policy its creator picks) or moving its primary region. Only the deployment principal may make them.
 */
export const KEY_PROTECTION_ACTIONS: readonly string[] = [
  "kms:PutKeyPolicy",
  "kms:ScheduleKeyDeletion",
  "kms:DisableKey",
  "kms:DisableKeyRotation",
  "kms:DeleteImportedKeyMaterial",
  "kms:ReplicateKey",
  "kms:UpdatePrimaryRegion",
];

/**
 * Key prefixes of custody records in the evidence bucket (`scripts/custody/record.ts` and `batch.ts`): every object
 * here is written once, with `If-None-Match: *`. A wildcard in an S3 ARN also matches `/`, so these patterns cover
 * every case.
 */
export const CUSTODY_KEY_PATTERNS: readonly string[] = ["cases/*/custody/*", "cases/*/custody-journal/*"];

/** Key prefix of everything a case stores (custody, evidence, artefacts): only the case writers may write here. */
export const CASE_KEY_PATTERN = "cases/*";

/** What the protection statements protect, and who stays able to act. */
export interface ForensicResourceProtection {
  /** ARN of the evidence bucket (custody records, evidence, Athena results). */
  readonly evidenceBucketArn: string;
  /** ARN of the organisation-trail bucket. */
  readonly trailBucketArn: string;
  /** ARNs of the server-access-log buckets of both: their configuration and objects are frozen too. Default none. */
  readonly accessLogBucketArns?: readonly string[];
  /**
   * ARN of the deployment principal: the role the deployment acts as in the forensic account (the role its providers
   * assume there). The only principal that may change bucket configuration and key policies. An any-account pattern
   * (`arn:aws:iam::*:role/<name>`) is accepted; the SCP protects that role name in every account.
   */
  readonly deploymentPrincipalArn: string;
  /**
   * The only principals that may write under `cases/` of the evidence bucket: the forensic responder role, and any
   * automation role the stack names later. Required: an empty list would let nobody record custody.
   */
  readonly caseWriterArns: readonly string[];
  /** The forensic keys, by owner account and purpose tag (known before the keys exist; see `keys.ts`). */
  readonly keys: ForensicKeysByTag;
  /**
   * The only principals that may sign with the custody signing key (the forensic responder role, plus automation
   * later). Default: `caseWriterArns`.
   */
  readonly signerArns?: readonly string[];
}

/** A validated copy: every ARN checked once, one line naming the bad one. */
interface Checked {
  readonly evidence: string;
  readonly trail: string;
  readonly logs: string[];
  readonly deployment: string;
  readonly writers: string[];
  readonly signers: string[];
  readonly keys: ForensicKeysByTag;
}

function check(args: ForensicResourceProtection): Checked {
  const deployment = requireArn("deploymentPrincipalArn", args.deploymentPrincipalArn, "iam");
  if (!/^arn:[^:]+:iam::(\d{12}|\*):role\/.+$/.test(deployment)) {
    throw new DocumentInputError(
      `deploymentPrincipalArn: ${JSON.stringify(deployment)} is not a role ARN (arn:aws:iam::<account or *>:role/<name>).`,
    );
  }
  requireAccountId("keys.accountId", args.keys.accountId);
  const writers = requireArns("caseWriterArns", args.caseWriterArns, "iam");
  return {
    evidence: requireArn("evidenceBucketArn", args.evidenceBucketArn, "s3"),
    trail: requireArn("trailBucketArn", args.trailBucketArn, "s3"),
    logs:
      args.accessLogBucketArns === undefined ? [] : requireArns("accessLogBucketArns", args.accessLogBucketArns, "s3"),
    deployment,
    writers,
    signers: args.signerArns === undefined ? writers : requireArns("signerArns", args.signerArns, "iam"),
    keys: args.keys,
  };
}

/** One ARN or a list, as short as possible (policy size counts). */
function one(values: readonly string[]): string | string[] {
  return values.length === 1 ? values[0] : [...values];
}

/** `ArnNotLike aws:PrincipalArn` for the principals that stay able to act. */
function except(arns: readonly string[]): PolicyCondition {
  return { ArnNotLike: { "aws:PrincipalArn": one(arns) } };
}

/** Merges condition blocks. */
function and(...blocks: PolicyCondition[]): PolicyCondition {
  const merged: PolicyCondition = {};
  for (const block of blocks) {
    for (const [operator, keys] of Object.entries(block)) merged[operator] = { ...(merged[operator] ?? {}), ...keys };
  }
  return merged;
}

/** The tag condition that selects the forensic keys of the given purposes. */
function tagged(keys: ForensicKeysByTag, purposes: readonly string[]): PolicyCondition {
  return { StringEquals: { [`aws:ResourceTag/${keys.tagKey ?? PURPOSE_TAG_KEY}`]: one(purposes) } };
}

/**
 * The S3 statements, without `Principal` (added where the policy type needs it):
 * - `FlzDenyEvidenceDeletion`: nobody deletes an object or a version, or adds a delete marker, in the evidence, trail
 *   and access-log buckets. No exception: not even the deployment principal needs it.
 * - `FlzCustodyWriteOnce`: a custody record or journal is created only with `If-None-Match: *`, so no key is ever
 *   written twice. Multipart parts carry no conditional header and are exempted through `s3:ObjectCreationOperation`
 *   (S3 user guide, "Enforce conditional writes on Amazon S3 buckets"); `CompleteMultipartUpload` still needs it.
 * - `FlzCaseWritesByWritersOnly`: only the case writers (the forensic responder) write under `cases/`, so nobody else can
 *   plant a record, a journal or a look-alike artefact.
 * - `FlzFreezeForensicBuckets`: only the deployment principal changes the buckets' configuration.
 */
function s3Statements(c: Checked): PolicyStatement[] {
  const buckets = [c.evidence, c.trail, ...c.logs];
  return [
    {
      Sid: "FlzDenyEvidenceDeletion",
      Effect: "Deny",
      Action: [...EVIDENCE_DELETION_ACTIONS],
      Resource: buckets.map((b) => `${b}/*`),
    },
    {
      Sid: "FlzCustodyWriteOnce",
      Effect: "Deny",
      Action: "s3:PutObject",
      Resource: CUSTODY_KEY_PATTERNS.map((p) => `${c.evidence}/${p}`),
      Condition: { Null: { "s3:if-none-match": "true" }, Bool: { "s3:ObjectCreationOperation": "true" } },
    },
    {
      Sid: "FlzCaseWritesByWritersOnly",
      Effect: "Deny",
      Action: "s3:PutObject",
      Resource: `${c.evidence}/${CASE_KEY_PATTERN}`,
      Condition: except(c.writers),
    },
    {
      Sid: "FlzFreezeForensicBuckets",
      Effect: "Deny",
      Action: [...BUCKET_CONFIGURATION_ACTIONS],
      Resource: buckets,
      Condition: except([c.deployment]),
    },
  ];
}

/**
 * The KMS statements over the forensic keys named by owner and purpose tag, without `Principal`:
 * - `FlzProtectForensicKeys`: {@link KEY_PROTECTION_ACTIONS} only by the deployment principal;
 * - `FlzNoForensicKeyGrants`: `CreateGrant` only for grants an AWS service makes on the caller's behalf
 *   (`kms:GrantIsForAWSResource`, what EBS needs to copy an encrypted snapshot); a direct grant could hand `Decrypt`
 *   or `Sign` to anyone;
 * - `FlzFreezeForensicKeyTag`: nobody but the deployment principal sets or removes the purpose tag on any key of the
 *   forensic account (untagging would take a key out of these statements, tagging would dress up a lure);
 * - `FlzSignOnlyBySigners`: only the signer roles sign with the custody key, whatever its key policy says.
 */
function kmsStatements(c: Checked): PolicyStatement[] {
  const keys = accountKeyPattern(c.keys);
  const forensic = tagged(c.keys, Object.values(KEY_PURPOSE));
  return [
    {
      Sid: "FlzProtectForensicKeys",
      Effect: "Deny",
      Action: [...KEY_PROTECTION_ACTIONS],
      Resource: keys,
      Condition: and(forensic, except([c.deployment])),
    },
    {
      Sid: "FlzNoForensicKeyGrants",
      Effect: "Deny",
      Action: "kms:CreateGrant",
      Resource: keys,
      Condition: and(forensic, { BoolIfExists: { "kms:GrantIsForAWSResource": "false" } }, except([c.deployment])),
    },
    {
      Sid: "FlzFreezeForensicKeyTag",
      Effect: "Deny",
      Action: ["kms:TagResource", "kms:UntagResource"],
      Resource: keys,
      Condition: and(
        { "ForAnyValue:StringEquals": { "aws:TagKeys": c.keys.tagKey ?? PURPOSE_TAG_KEY } },
        except([c.deployment]),
      ),
    },
    {
      Sid: "FlzSignOnlyBySigners",
      Effect: "Deny",
      Action: "kms:Sign",
      Resource: keys,
      Condition: and(tagged(c.keys, [KEY_PURPOSE.signing]), except(c.signers)),
    },
  ];
}

/** Adds `Principal: "*"`, which resource policies and RCPs require. */
function forEveryone(statement: PolicyStatement): PolicyStatement {
  const { Sid, Effect, ...rest } = statement;
  return { Sid, Effect, Principal: "*", ...rest };
}

/**
 * The resource control policy `flz-protect-evidence`: the S3 and KMS statements above, for every principal. Attach it
 * to the root or to an OU above the forensic account. Throws when it would exceed {@link RCP_MAX_CHARACTERS}.
 */
export function protectForensicResourcesRcp(args: ForensicResourceProtection): PolicyDocument {
  const c = check(args);
  const doc: PolicyDocument = {
    Version: "2012-10-17",
    Statement: [...s3Statements(c), ...kmsStatements(c)].map(forEveryone),
  };
  const size = JSON.stringify(doc).length;
  if (size > RCP_MAX_CHARACTERS) {
    throw new DocumentInputError(
      `RCP flz-protect-evidence is ${size} characters: AWS Organizations accepts at most ${RCP_MAX_CHARACTERS}; name fewer writers or buckets`,
    );
  }
  return doc;
}

/**
 * The same S3 and KMS statements for the protection SCP (no `Principal` in an SCP). They bind the principals of every
 * member account, the forensic account's root user included, even where the RCP is not attached or the policy type is
 * not enabled; together the two leave only the management account and the deployment principal.
 */
export function forensicResourceScpStatements(args: ForensicResourceProtection): PolicyStatement[] {
  const c = check(args);
  // The SCP carries the bucket freeze, deletion and key statements; the write rules on `cases/` live in the RCP and
  // the bucket policy (an SCP copy would add nothing an admin of the account could not already be refused there).
  return [
    ...s3Statements(c).filter((s) => s.Sid === "FlzDenyEvidenceDeletion" || s.Sid === "FlzFreezeForensicBuckets"),
    ...kmsStatements(c).filter((s) => s.Sid === "FlzProtectForensicKeys" || s.Sid === "FlzNoForensicKeyGrants"),
  ].map((s) => ({ ...s, Sid: `${s.Sid}Scp` }));
}

/**
 * The bucket-policy statements of one forensic bucket (with `Principal: "*"`): deletion, the bucket freeze, and for
 * the evidence bucket the two case-write rules. A bucket policy binds principals of every account, including the
 * management account, but the bucket owner's root user can replace it: the RCP is what makes it stick.
 */
export function protectedBucketStatements(
  args: ForensicResourceProtection,
  bucket: "evidence" | "trail" | "access-log",
  bucketArn: string,
): PolicyStatement[] {
  const c = check(args);
  const own = requireArn("bucketArn", bucketArn, "s3");
  const single: Checked = { ...c, evidence: own, trail: own, logs: [] };
  const statements = s3Statements(single).filter(
    (s) => bucket === "evidence" || s.Sid === "FlzDenyEvidenceDeletion" || s.Sid === "FlzFreezeForensicBuckets",
  );
  return statements.map((s) => ({
    ...forEveryone(s),
    // One bucket per policy: no duplicate resource entries.
    Resource: Array.isArray(s.Resource) ? one([...new Set(s.Resource)]) : s.Resource,
  }));
}

/**
 * The key-policy statements of one forensic key (with `Principal: "*"`, `Resource: "*"` as key policies require): the
 * protected actions and direct grants only by the deployment principal, and for the signing key, signing only by the
 * signers. KMS's own lockout check (`PutKeyPolicy` must leave the caller able to change the policy again) passes
 * because the deployment principal, which makes the call, is the exception.
 */
export function protectedKeyStatements(
  deploymentPrincipalArn: string,
  options: { readonly signerArns?: readonly string[] } = {},
): PolicyStatement[] {
  const deployment = requireArn("deploymentPrincipalArn", deploymentPrincipalArn, "iam");
  const statements: PolicyStatement[] = [
    {
      Sid: "DenyKeyTamperingExceptDeployment",
      Effect: "Deny",
      Principal: "*",
      Action: [...KEY_PROTECTION_ACTIONS],
      Resource: "*",
      Condition: except([deployment]),
    },
    {
      Sid: "DenyDirectGrantsExceptDeployment",
      Effect: "Deny",
      Principal: "*",
      Action: "kms:CreateGrant",
      Resource: "*",
      Condition: and({ BoolIfExists: { "kms:GrantIsForAWSResource": "false" } }, except([deployment])),
    },
  ];
  if (options.signerArns !== undefined) {
    statements.push({
      Sid: "DenySigningExceptSigners",
      Effect: "Deny",
      Principal: "*",
      Action: "kms:Sign",
      Resource: "*",
      Condition: except(requireArns("signerArns", options.signerArns, "iam")),
    });
  }
  return statements;
}
