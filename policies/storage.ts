/**
 * S3 rules. Buckets that hold trail logs or evidence (the target of any trail, or tagged with a forensic purpose) must
 * be immutable (Object Lock COMPLIANCE), versioned, encrypted with a customer key, closed to the public and TLS-only.
 * These are stack rules because @pulumi/aws v7 configures a bucket through separate sub-resources, joined to their
 * bucket by the `bucket` input. No bucket anywhere may be public.
 */
import { resourceRule, stackRule } from "./lib/rule";
import type { PolicyResource } from "@pulumi/policy";
import { configOf } from "./lib/config";
import { admitsEveryone, conditionValues, coversAction, hasRestrictingCondition, statementsOf } from "./lib/documents";
import { attachedTo, isOneOf, TYPES, undecidedJoin, validateTypes } from "./lib/resources";
import {
  BUCKET_KINDS,
  forEachProtectedBucket,
  joinedProblem,
  PROTECTED_SCHEMA,
  unknownSetting,
  type BucketFinding,
} from "./lib/buckets";
import { containsUnknown, elements, read, readPath, UNKNOWN, type Maybe } from "./lib/unknowns";
import { DEFAULT_ENFORCEMENT, type ResourceRule, type RuleConfigSchema, type StackRule } from "./lib/types";
import { asArray, asBoolean, asNumber, asRecord, asString, type Props } from "./lib/values";

const KEY_KINDS: readonly string[] = [...TYPES.key, ...TYPES.replicaKey];

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

/** Why one Object Lock `rule` block falls short (or cannot be verified), or undefined. */
export function lockRuleProblem(rule: Maybe<unknown>, where: string, minRetentionDays: number): string | undefined {
  if (rule === UNKNOWN) return unknownSetting("the Object Lock rule", where);
  const retention = read(rule, "defaultRetention");
  if (retention === UNKNOWN) return unknownSetting("the default retention", where);
  const mode = read(retention, "mode");
  if (mode === UNKNOWN) return unknownSetting("the retention mode", where);
  if (mode !== "COMPLIANCE")
    return `default retention mode is ${String(mode)}: use COMPLIANCE, which nobody (root included) can shorten.`;
  const days = read(retention, "days");
  const years = read(retention, "years");
  if (days === UNKNOWN || years === UNKNOWN) return unknownSetting("the retention period", where);
  const total = retentionDays({ days, years });
  if (total < minRetentionDays) return `default retention is ${total} days: set at least ${minRetentionDays} days.`;
  return undefined;
}

/** Why a bucket's Object Lock falls short, or undefined. */
export function objectLockProblem(
  bucket: PolicyResource,
  resources: readonly PolicyResource[],
  minRetentionDays: number,
): string | undefined {
  const props = bucket.props as Props;
  const enabledFlag = read(props, "objectLockEnabled");
  const inline = read(props, "objectLockConfiguration");
  const inlineEnabled = read(inline, "objectLockEnabled");
  if (enabledFlag === UNKNOWN || (asBoolean(enabledFlag) !== true && inlineEnabled === UNKNOWN))
    return unknownSetting("objectLockEnabled", `bucket ${bucket.name}`);
  const enabled = asBoolean(enabledFlag) === true || inlineEnabled === "Enabled";
  if (!enabled) return "Object Lock is not enabled: create the bucket with objectLockEnabled: true.";
  const inlineRule = read(inline, "rule");
  if (inlineRule !== undefined) {
    const problem = lockRuleProblem(inlineRule, `bucket ${bucket.name}`, minRetentionDays);
    if (problem) return problem;
  }
  const joined = attachedTo(resources, TYPES.objectLock, "bucket", bucket, BUCKET_KINDS);
  return joinedProblem(
    joined,
    (c) => lockRuleProblem(read(c.props, "rule"), c.name, minRetentionDays),
    inlineRule !== undefined
      ? undefined
      : "no Object Lock configuration sets a default retention: add a BucketObjectLockConfiguration in COMPLIANCE mode.",
  );
}

/** Trail-log and evidence buckets are immutable: Object Lock in COMPLIANCE mode with at least the configured retention. */
export const forensicBucketObjectLock: StackRule = stackRule({
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
});

/** Why a bucket is not versioned, or undefined. Object Lock buckets are versioned by S3 itself, and cannot be suspended. */
export function versioningProblem(bucket: PolicyResource, resources: readonly PolicyResource[]): string | undefined {
  const props = bucket.props as Props;
  const joined = attachedTo(resources, TYPES.versioning, "bucket", bucket, BUCKET_KINDS);
  const statusProblem = (config: PolicyResource): string | undefined => {
    const status = readPath(config.props, "versioningConfiguration", "status");
    if (status === UNKNOWN) return unknownSetting("the versioning status", config.name);
    return status === "Enabled"
      ? undefined
      : `versioning status is ${String(status)}: set versioningConfiguration.status to "Enabled".`;
  };
  const inline = readPath(props, "versioning", "enabled");
  if (inline === UNKNOWN) return unknownSetting("inline versioning", `bucket ${bucket.name}`);
  if (asBoolean(inline) === false) return "inline versioning is disabled: enable it.";
  const lockFlag = read(props, "objectLockEnabled");
  const versionedAnyway = asBoolean(inline) === true || asBoolean(lockFlag) === true;
  if (!versionedAnyway)
    return joinedProblem(
      joined,
      statusProblem,
      'versioning is not enabled: add an aws.s3.BucketVersioning with status "Enabled".',
    );
  // Object Lock (or inline versioning) versions the bucket already: only a configuration that would suspend it matters.
  for (const config of joined.attached) {
    const problem = statusProblem(config);
    if (problem) return problem;
  }
  for (const config of joined.undecided) {
    const problem = statusProblem(config);
    if (problem) return `${undecidedJoin([config], "bucket")}, and it would set: ${problem}`;
  }
  return undefined;
}

/** Trail-log and evidence buckets are versioned. */
export const forensicBucketVersioning: StackRule = stackRule({
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
});

/**
 * Why one default-encryption rule is not SSE-KMS under a customer key, or undefined. A key ID unknown during preview
 * passes only when the engine says it came from a KMS key or replica key of this program (a customer-managed key);
 * AWS-managed keys are never resources a program creates.
 */
export function encryptionRuleProblem(
  rule: Maybe<unknown>,
  owner: PolicyResource,
  property: string,
  where: string,
): string | undefined {
  if (rule === UNKNOWN) return unknownSetting("the encryption rule", where);
  const byDefault = read(rule, "applyServerSideEncryptionByDefault");
  if (byDefault === UNKNOWN) return unknownSetting("applyServerSideEncryptionByDefault", where);
  const algorithm = read(byDefault, "sseAlgorithm");
  if (algorithm === UNKNOWN) return unknownSetting("sseAlgorithm", where);
  if (algorithm !== "aws:kms" && algorithm !== "aws:kms:dsse")
    return `default encryption is ${String(algorithm)}: use aws:kms with a customer-managed key.`;
  const key = read(byDefault, "kmsMasterKeyId");
  if (key === UNKNOWN) {
    const fromKey = (owner.propertyDependencies?.[property] ?? []).some((d) => d && isOneOf(d.type, KEY_KINDS));
    return fromKey
      ? undefined
      : `cannot verify during preview: kmsMasterKeyId of ${where} is unknown and does not come from a KMS key of this program, so it may be AWS-managed (failing closed).`;
  }
  const keyId = asString(key);
  if (!keyId)
    return "SSE-KMS without kmsMasterKeyId uses the AWS-managed aws/s3 key: set kmsMasterKeyId to a customer-managed key ARN.";
  if (/alias\/aws\//i.test(keyId)) return `kmsMasterKeyId ${keyId} is AWS-managed: use a customer-managed key ARN.`;
  return undefined;
}

/** Why a bucket's default encryption is not SSE-KMS with a customer key, or undefined. */
export function encryptionProblem(bucket: PolicyResource, resources: readonly PolicyResource[]): string | undefined {
  const inline = read(bucket.props, "serverSideEncryptionConfiguration");
  if (inline === UNKNOWN) return unknownSetting("serverSideEncryptionConfiguration", `bucket ${bucket.name}`);
  const inlineRule = read(inline, "rule");
  if (inlineRule !== undefined) {
    const problem = encryptionRuleProblem(
      inlineRule,
      bucket,
      "serverSideEncryptionConfiguration",
      `bucket ${bucket.name}`,
    );
    if (problem) return problem;
  }
  const joined = attachedTo(resources, TYPES.encryption, "bucket", bucket, BUCKET_KINDS);
  const configProblem = (config: PolicyResource): string | undefined => {
    const rules = elements(read(config.props, "rules"));
    if (rules.length === 0) return `${config.name} has no rules: add one with aws:kms and a customer key.`;
    for (const rule of rules) {
      const problem = encryptionRuleProblem(rule, config, "rules", config.name);
      if (problem) return problem;
    }
    return undefined;
  };
  return joinedProblem(
    joined,
    configProblem,
    inlineRule !== undefined
      ? undefined
      : "no default encryption is configured: add an aws.s3.BucketServerSideEncryptionConfiguration with aws:kms and a customer key.",
  );
}

/** Trail-log and evidence buckets use SSE-KMS with a customer-managed key. */
export const forensicBucketKmsEncryption: StackRule = stackRule({
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
});

const BLOCK_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

/** Why a bucket's public-access block is incomplete, or undefined. */
export function publicAccessBlockProblem(
  bucket: PolicyResource,
  resources: readonly PolicyResource[],
): string | undefined {
  const joined = attachedTo(resources, TYPES.publicAccessBlock, "bucket", bucket, BUCKET_KINDS);
  return joinedProblem(
    joined,
    (block) => {
      const values = BLOCK_FLAGS.map((flag) => ({ flag, value: read(block.props, flag) }));
      const unknown = values.filter((v) => v.value === UNKNOWN).map((v) => v.flag);
      if (unknown.length > 0) return unknownSetting(unknown.join(", "), block.name);
      const off = values.filter((v) => asBoolean(v.value) !== true).map((v) => v.flag);
      return off.length > 0
        ? `public-access block leaves ${off.join(", ")} off: set all four flags to true.`
        : undefined;
    },
    "no public-access block: add an aws.s3.BucketPublicAccessBlock with all four flags true.",
  );
}

/** Trail-log and evidence buckets block every form of public access. */
export const forensicBucketPublicAccessBlock: StackRule = stackRule({
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
});

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

/**
 * Why a bucket does not refuse plain HTTP, or undefined. A policy document unknown during preview (built from the
 * new bucket's ARN, as most programs build it) is deferred to the update: failing closed would stop every compliant
 * first deployment, and the document does not exist before the bucket does.
 */
export function tlsProblem(bucket: PolicyResource, resources: readonly PolicyResource[]): BucketFinding {
  const joined = attachedTo(resources, TYPES.bucketPolicy, "bucket", bucket, BUCKET_KINDS);
  const sources = [
    ...joined.attached.map((p) => ({ holder: p.props, key: "policy" })),
    ...(read(bucket.props, "policy") !== undefined ? [{ holder: bucket.props, key: "policy" }] : []),
  ];
  const known = sources.filter((s) => !containsUnknown(read(s.holder, s.key)));
  if (known.some((s) => deniesInsecureTransport(read(s.holder, s.key)))) return undefined;
  const unknownSource = sources.find((s) => !known.includes(s));
  if (unknownSource) return { deferred: unknownSource };
  if (sources.length === 0 && joined.undecided.length > 0) return `${undecidedJoin(joined.undecided, "bucket")}.`;
  if (sources.length === 0)
    return 'no bucket policy: add one that denies s3:* to "*" when aws:SecureTransport is false.';
  return 'the bucket policy does not deny requests without TLS: add Deny s3:* to "*" with Bool aws:SecureTransport "false".';
}

/** Trail-log and evidence buckets refuse requests made without TLS. */
export const forensicBucketTlsOnly: StackRule = stackRule({
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
});

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
export const s3NoPublicAcl: ResourceRule = resourceRule({
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
});

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
export const s3NoPublicPolicy: ResourceRule = resourceRule({
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
});

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
