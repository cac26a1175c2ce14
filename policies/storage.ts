/**
 * S3 rules. Buckets that hold trail logs or evidence (the target of any trail, or tagged with a forensic purpose) must
 * be immutable (Object Lock COMPLIANCE), versioned, encrypted with a customer key, closed to the public and TLS-only.
 * These are stack rules because @pulumi/aws v7 configures a bucket through separate sub-resources, joined to their
 * bucket by the `bucket` input. No bucket anywhere may be public.
 */
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { configOf } from "./lib/config";
import { admitsEveryone, conditionValues, coversAction, hasRestrictingCondition, statementsOf } from "./lib/documents";
import { PURPOSE, PURPOSE_TAG_SCHEMA } from "./lib/purpose";
import { attachedTo, ofTypes, purposeOf, refersTo, TYPES, validateTypes } from "./lib/resources";
import { DEFAULT_ENFORCEMENT, type ResourceRule, type RuleConfigSchema, type StackRule } from "./lib/types";
import { asArray, asBoolean, asNumber, asRecord, asString, type Props } from "./lib/values";

/** Config schema entry naming the components whose primary bucket holds evidence or trail logs. */
export const EVIDENCE_COMPONENT_SCHEMA = {
  type: "array" as const,
  items: { type: "string" as const },
  default: ["flz:storage:EvidenceBucket"],
  description:
    "Component types whose primary bucket (the child with the component's own name) holds evidence or trail logs.",
};

const PROTECTED_SCHEMA: RuleConfigSchema = {
  properties: { purposeTagKey: PURPOSE_TAG_SCHEMA, evidenceComponentTypes: EVIDENCE_COMPONENT_SCHEMA },
};

interface ProtectedConfig {
  purposeTagKey: string;
  evidenceComponentTypes: string[];
}

/** Whether a bucket is the primary bucket of an evidence component (a child named like its parent component). */
export function isComponentPrimaryBucket(bucket: PolicyResource, componentTypes: readonly string[]): boolean {
  return !!bucket.parent && componentTypes.includes(bucket.parent.type) && bucket.parent.name === bucket.name;
}

/** A bucket the forensic rules guard, and why. */
export interface ProtectedBucket {
  /** The bucket resource. */
  readonly bucket: PolicyResource;
  /** "trail target" or "tagged evidence" etc., for messages. */
  readonly reason: string;
}

/**
 * Buckets that hold trail logs or evidence: trail targets, buckets whose purpose tag says so, and the primary bucket
 * of an evidence component (how a program built from components shows intent without tags).
 */
export function protectedBuckets(
  resources: readonly PolicyResource[],
  purposeTagKey: string,
  evidenceComponentTypes: readonly string[] = EVIDENCE_COMPONENT_SCHEMA.default,
): ProtectedBucket[] {
  const trails = ofTypes(resources, TYPES.trail);
  const result: ProtectedBucket[] = [];
  for (const bucket of ofTypes(resources, TYPES.bucket)) {
    const props = bucket.props as Props;
    const purpose = purposeOf(props, purposeTagKey);
    const target = trails.find((t) => refersTo((t.props as Props).s3BucketName, bucket));
    if (target) result.push({ bucket, reason: `target of trail ${target.name}` });
    else if (purpose === PURPOSE.evidenceBucket || purpose === PURPOSE.trailBucket)
      result.push({ bucket, reason: `tagged ${purposeTagKey}=${purpose}` });
    else if (isComponentPrimaryBucket(bucket, evidenceComponentTypes))
      result.push({ bucket, reason: `primary bucket of ${bucket.parent?.type ?? "a component"}` });
  }
  return result;
}

/** Runs `check` on every protected bucket; not applicable when the program has none. */
function forEachProtectedBucket(
  args: StackValidationArgs,
  report: (message: string, urn?: string) => void,
  check: (bucket: ProtectedBucket, resources: readonly PolicyResource[]) => string | undefined,
): void {
  const { purposeTagKey, evidenceComponentTypes } = configOf<ProtectedConfig>(args, PROTECTED_SCHEMA);
  const buckets = protectedBuckets(args.resources, purposeTagKey, evidenceComponentTypes);
  if (buckets.length === 0)
    args.notApplicable("No bucket is a trail target or tagged as holding evidence or trail logs.");
  for (const entry of buckets) {
    const problem = check(entry, args.resources);
    if (problem) report(`Bucket ${entry.bucket.name} (${entry.reason}): ${problem}`, entry.bucket.urn);
  }
}

/** Retention in days of a `defaultRetention` block (years count as 365 days). */
export function retentionDays(defaultRetention: Props | undefined): number {
  if (!defaultRetention) return 0;
  return (asNumber(defaultRetention.days) ?? 0) + (asNumber(defaultRetention.years) ?? 0) * 365;
}

interface LockConfig {
  minRetentionDays: number;
}
const LOCK_SCHEMA: RuleConfigSchema = {
  properties: {
    ...PROTECTED_SCHEMA.properties,
    minRetentionDays: {
      type: "integer",
      minimum: 1,
      default: 365,
      description: "Shortest default retention accepted, in days.",
    },
  },
};

/** Why a bucket's Object Lock falls short, or undefined. */
export function objectLockProblem(
  bucket: PolicyResource,
  resources: readonly PolicyResource[],
  minRetentionDays: number,
): string | undefined {
  const props = bucket.props as Props;
  const inline = asRecord(props.objectLockConfiguration);
  const enabled = asBoolean(props.objectLockEnabled) === true || asString(inline?.objectLockEnabled) === "Enabled";
  if (!enabled) return "Object Lock is not enabled: create the bucket with objectLockEnabled: true.";
  const rules = attachedTo(resources, TYPES.objectLock, "bucket", bucket).map((c) => asRecord((c.props as Props).rule));
  if (inline?.rule !== undefined) rules.push(asRecord(inline.rule));
  if (rules.length === 0)
    return "no Object Lock configuration sets a default retention: add a BucketObjectLockConfiguration in COMPLIANCE mode.";
  for (const rule of rules) {
    const retention = asRecord(rule?.defaultRetention);
    const mode = asString(retention?.mode);
    if (mode !== "COMPLIANCE")
      return `default retention mode is ${String(mode)}: use COMPLIANCE, which nobody (root included) can shorten.`;
    const days = retentionDays(retention);
    if (days < minRetentionDays) return `default retention is ${days} days: set at least ${minRetentionDays} days.`;
  }
  return undefined;
}

/** Trail-log and evidence buckets are immutable: Object Lock in COMPLIANCE mode with at least the configured retention. */
export const forensicBucketObjectLock: StackRule = {
  name: "forensic-bucket-object-lock",
  description:
    "Checks whether buckets holding trail logs or evidence have Object Lock in COMPLIANCE mode with at least the configured default retention.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps:
    'Create the bucket with objectLockEnabled: true and add an aws.s3.BucketObjectLockConfiguration with rule.defaultRetention { mode: "COMPLIANCE", days: <at least minRetentionDays> }.',
  configSchema: LOCK_SCHEMA,
  validateStack: (args, report) => {
    const { minRetentionDays } = configOf<LockConfig>(args, LOCK_SCHEMA);
    forEachProtectedBucket(args, report, ({ bucket }, resources) =>
      objectLockProblem(bucket, resources, minRetentionDays),
    );
  },
};

/** Why a bucket is not versioned, or undefined. Object Lock buckets are versioned by S3 itself, and cannot be suspended. */
export function versioningProblem(bucket: PolicyResource, resources: readonly PolicyResource[]): string | undefined {
  const props = bucket.props as Props;
  const configs = attachedTo(resources, TYPES.versioning, "bucket", bucket);
  for (const config of configs) {
    const status = asString(asRecord((config.props as Props).versioningConfiguration)?.status);
    if (status !== "Enabled")
      return `versioning status is ${String(status)}: set versioningConfiguration.status to "Enabled".`;
  }
  const inline = asRecord(props.versioning);
  if (inline && asBoolean(inline.enabled) === false) return "inline versioning is disabled: enable it.";
  if (configs.length > 0 || asBoolean(inline?.enabled) === true || asBoolean(props.objectLockEnabled) === true)
    return undefined;
  return 'versioning is not enabled: add an aws.s3.BucketVersioning with status "Enabled".';
}

/** Trail-log and evidence buckets are versioned. */
export const forensicBucketVersioning: StackRule = {
  name: "forensic-bucket-versioning",
  description:
    "Checks whether buckets holding trail logs or evidence are versioned, so an overwrite never destroys the earlier object.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps:
    'Add an aws.s3.BucketVersioning with versioningConfiguration.status "Enabled" (Object Lock buckets are versioned already; never suspend it).',
  configSchema: PROTECTED_SCHEMA,
  validateStack: (args, report) =>
    forEachProtectedBucket(args, report, ({ bucket }, resources) => versioningProblem(bucket, resources)),
};

/** Why a bucket's default encryption is not SSE-KMS with a customer key, or undefined. */
export function encryptionProblem(bucket: PolicyResource, resources: readonly PolicyResource[]): string | undefined {
  const props = bucket.props as Props;
  const rules: unknown[] = attachedTo(resources, TYPES.encryption, "bucket", bucket).flatMap((c) =>
    asArray((c.props as Props).rules),
  );
  const inline = asRecord(props.serverSideEncryptionConfiguration);
  if (inline?.rule !== undefined) rules.push(inline.rule);
  if (rules.length === 0)
    return "no default encryption is configured: add an aws.s3.BucketServerSideEncryptionConfiguration with aws:kms and a customer key.";
  for (const rule of rules) {
    const byDefault = asRecord(asRecord(rule)?.applyServerSideEncryptionByDefault);
    const algorithm = asString(byDefault?.sseAlgorithm);
    const key = asString(byDefault?.kmsMasterKeyId);
    if (algorithm !== "aws:kms" && algorithm !== "aws:kms:dsse")
      return `default encryption is ${String(algorithm)}: use aws:kms with a customer-managed key.`;
    if (!key)
      return "SSE-KMS without kmsMasterKeyId uses the AWS-managed aws/s3 key: set kmsMasterKeyId to a customer-managed key ARN.";
    if (/alias\/aws\//i.test(key)) return `kmsMasterKeyId ${key} is AWS-managed: use a customer-managed key ARN.`;
  }
  return undefined;
}

/** Trail-log and evidence buckets use SSE-KMS with a customer-managed key. */
export const forensicBucketKmsEncryption: StackRule = {
  name: "forensic-bucket-kms-encryption",
  description:
    "Checks whether buckets holding trail logs or evidence encrypt by default with SSE-KMS under a customer-managed key.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps:
    'Add an aws.s3.BucketServerSideEncryptionConfiguration whose rule sets sseAlgorithm "aws:kms" and kmsMasterKeyId to a customer-managed key ARN.',
  configSchema: PROTECTED_SCHEMA,
  validateStack: (args, report) =>
    forEachProtectedBucket(args, report, ({ bucket }, resources) => encryptionProblem(bucket, resources)),
};

const BLOCK_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

/** Why a bucket's public-access block is incomplete, or undefined. */
export function publicAccessBlockProblem(
  bucket: PolicyResource,
  resources: readonly PolicyResource[],
): string | undefined {
  const blocks = attachedTo(resources, TYPES.publicAccessBlock, "bucket", bucket);
  if (blocks.length === 0)
    return "no public-access block: add an aws.s3.BucketPublicAccessBlock with all four flags true.";
  for (const block of blocks) {
    const off = BLOCK_FLAGS.filter((flag) => asBoolean((block.props as Props)[flag]) !== true);
    if (off.length > 0) return `public-access block leaves ${off.join(", ")} off: set all four flags to true.`;
  }
  return undefined;
}

/** Trail-log and evidence buckets block every form of public access. */
export const forensicBucketPublicAccessBlock: StackRule = {
  name: "forensic-bucket-public-access-block",
  description:
    "Checks whether buckets holding trail logs or evidence have a public-access block with all four flags on.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps:
    "Add an aws.s3.BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true.",
  configSchema: PROTECTED_SCHEMA,
  validateStack: (args, report) =>
    forEachProtectedBucket(args, report, ({ bucket }, resources) => publicAccessBlockProblem(bucket, resources)),
};

/** Whether a policy document denies every principal any request made without TLS. */
export function deniesInsecureTransport(document: unknown): boolean {
  const statements = statementsOf(document) ?? [];
  return statements.some(
    (s) =>
      s.effect === "Deny" &&
      admitsEveryone(s) &&
      coversAction(s, "s3:GetObject") &&
      coversAction(s, "s3:PutObject") &&
      (conditionValues(s, "Bool", "aws:SecureTransport") ?? []).some((v) => v.toLowerCase() === "false"),
  );
}

/** Why a bucket does not refuse plain HTTP, or undefined. */
export function tlsProblem(bucket: PolicyResource, resources: readonly PolicyResource[]): string | undefined {
  const documents = attachedTo(resources, TYPES.bucketPolicy, "bucket", bucket).map((p) => (p.props as Props).policy);
  const inline = (bucket.props as Props).policy;
  if (inline !== undefined) documents.push(inline);
  if (documents.length === 0)
    return 'no bucket policy: add one that denies s3:* to "*" when aws:SecureTransport is false.';
  if (!documents.some(deniesInsecureTransport))
    return 'the bucket policy does not deny requests without TLS: add Deny s3:* to "*" with Bool aws:SecureTransport "false".';
  return undefined;
}

/** Trail-log and evidence buckets refuse requests made without TLS. */
export const forensicBucketTlsOnly: StackRule = {
  name: "forensic-bucket-tls-only",
  description:
    "Checks whether buckets holding trail logs or evidence have a policy denying any request made without TLS.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps:
    'In the bucket policy add { Effect: Deny, Principal: "*", Action: "s3:*", Resource: [bucket, bucket/*], Condition: { Bool: { "aws:SecureTransport": "false" } } }.',
  configSchema: PROTECTED_SCHEMA,
  validateStack: (args, report) =>
    forEachProtectedBucket(args, report, ({ bucket }, resources) => tlsProblem(bucket, resources)),
};

const PUBLIC_CANNED_ACLS = ["public-read", "public-read-write", "authenticated-read"];
const PUBLIC_GRANTEE_URIS = [
  "http://acs.amazonaws.com/groups/global/AllUsers",
  "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
];

/** Why an ACL (canned name and grants) is public, or undefined. */
export function publicAclProblem(acl: unknown, grants: unknown[]): string | undefined {
  const canned = asString(acl);
  if (canned && PUBLIC_CANNED_ACLS.includes(canned))
    return `canned ACL ${canned} makes the bucket public: use private and BucketOwnershipControls BucketOwnerEnforced.`;
  for (const grant of grants) {
    const g = asRecord(grant);
    const uri = asString(asRecord(g?.grantee)?.uri) ?? asString(g?.uri);
    if (uri && PUBLIC_GRANTEE_URIS.includes(uri)) return `a grant to ${uri} makes the bucket public: remove it.`;
  }
  return undefined;
}

/** No bucket anywhere has a public ACL. */
export const s3NoPublicAcl: ResourceRule = {
  name: "s3-no-public-acl",
  description: "Checks whether any bucket ACL grants access to everyone or to any authenticated AWS user.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps:
    "Remove public canned ACLs and AllUsers/AuthenticatedUsers grants; prefer BucketOwnershipControls with BucketOwnerEnforced (ACLs disabled).",
  configSchema: { properties: {} },
  validateResource: validateTypes([...TYPES.bucket, ...TYPES.bucketAcl], (props, _args, report) => {
    const policyGrants = asArray(asRecord(props.accessControlPolicy)?.grants);
    const problem = publicAclProblem(props.acl, [...asArray(props.grants), ...policyGrants]);
    if (problem) report(problem);
  }),
};

/** Why a bucket policy grants `*` without a restricting condition, or undefined. */
export function publicPolicyProblem(document: unknown): string | undefined {
  const statements = statementsOf(document);
  if (!statements)
    return "the bucket policy is not a readable policy document: the pack cannot prove it is not public.";
  const open = statements.find((s) => s.effect === "Allow" && admitsEveryone(s) && !hasRestrictingCondition(s));
  if (open) {
    return `statement ${open.sid ?? "(no Sid)"} allows ${open.actions.join(", ") || "NotAction"} to "*" without a condition on the caller's organisation, account, ARN, source or VPC: restrict it.`;
  }
  return undefined;
}

/** No bucket policy grants `*` without a restricting condition. */
export const s3NoPublicPolicy: ResourceRule = {
  name: "s3-no-public-policy",
  description:
    'Checks whether any bucket policy allows "*" without a condition that restricts the caller (organisation, account, ARN, source, VPC).',
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps:
    'Name the principals, or add a condition such as StringEquals aws:PrincipalOrgID or aws:SourceArn to every Allow statement for "*".',
  configSchema: { properties: {} },
  validateResource: validateTypes([...TYPES.bucket, ...TYPES.bucketPolicy], (props, args, report) => {
    if (props.policy === undefined) {
      if (TYPES.bucketPolicy.includes(args.type as (typeof TYPES.bucketPolicy)[number]))
        report("the bucket policy is empty: the pack cannot prove it is not public.");
      return;
    }
    const problem = publicPolicyProblem(props.policy);
    if (problem) report(problem);
  }),
};

/** Every storage rule. */
export const storageRules: Array<ResourceRule | StackRule> = [
  forensicBucketObjectLock,
  forensicBucketVersioning,
  forensicBucketKmsEncryption,
  forensicBucketPublicAccessBlock,
  forensicBucketTlsOnly,
  s3NoPublicAcl,
  s3NoPublicPolicy,
];
