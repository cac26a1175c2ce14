/**
 * An S3 bucket fit to hold evidence: Object Lock COMPLIANCE by default, versioned, SSE-KMS under a customer key,
 * closed to the public, owner-enforced, reachable only over TLS from inside the organisation, moved to colder
 * storage as it ages, with its server access logs in a separate bucket. Used for the trail logs and the evidence.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { bucketArn } from "./arns";
import {
  accessLogBucketPolicy,
  evidenceBucketPolicy,
  trailBucketPolicy,
  type ForensicResourceProtection,
} from "./documents";
import { PURPOSE, purposeTags } from "./tags";

/** One lifecycle step to a colder storage class. */
export interface StorageTransition {
  /** Days after an object version is written (or becomes noncurrent) before it moves. */
  readonly days: number;
  /** Target S3 storage class, e.g. `GLACIER_IR`, `GLACIER`, `DEEP_ARCHIVE`. */
  readonly storageClass: string;
}

/** The CloudTrail trail allowed to write into the bucket, when the bucket receives trail logs. */
export interface CloudTrailWriter {
  /** Management account ID: CloudTrail writes that account's own logs under `AWSLogs/<id>/`. */
  readonly managementAccountId: pulumi.Input<string>;
  /** ARN of the only trail allowed to write (matched with `aws:SourceArn`). */
  readonly trailArn: pulumi.Input<string>;
}

/**
 * Default transitions: Glacier Instant Retrieval after 90 days, and nothing colder. Glacier Instant Retrieval is read
 * in milliseconds like S3 Standard, so Athena still queries the trail logs and `flz custody verify` still reads every
 * record years later. Athena cannot read objects in S3 Glacier Flexible Retrieval or Deep Archive (it skips or fails on
 * them until they are restored; Athena user guide, "Querying restored Amazon S3 Glacier objects"), and neither can a
 * plain GetObject: a colder class is an explicit choice (`transitions`) with a restore before every investigation.
 */
export const DEFAULT_TRANSITIONS: readonly StorageTransition[] = [{ days: 90, storageClass: "GLACIER_IR" }];

/** Storage classes whose objects can be read (by GetObject or Athena) only after a restore. */
export const ARCHIVE_STORAGE_CLASSES: readonly string[] = ["GLACIER", "DEEP_ARCHIVE"];

/** Arguments of {@link EvidenceBucket}. */
export interface EvidenceBucketArgs {
  /**
   * Bucket name. Default: a unique name derived from the resource name. Evidence buckets usually get a fixed name so
   * the CLI can be pointed at it; with one, the bucket policies are built from `arn:aws:s3:::<name>` and are known at
   * a first `pulumi preview` (the policy pack checks them before anything exists). Without one, they name the bucket
   * by its ARN once S3 has created it, and the pack can check them only at `pulumi up`.
   */
  readonly bucketName?: pulumi.Input<string>;
  /** Days every object version stays immutable. COMPLIANCE mode: nobody, root included, can shorten it. Default 365. */
  readonly retentionDays?: number;
  /**
   * Object Lock mode of the default retention. Default `COMPLIANCE`. `GOVERNANCE` lets principals with
   * `s3:BypassGovernanceRetention` delete evidence early: a weakening, for sandboxes only.
   */
  readonly lockMode?: "COMPLIANCE" | "GOVERNANCE";
  /** Customer-managed key for SSE-KMS. Required: evidence is never encrypted with an AWS-managed key. */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** Organisation ID: the bucket policy denies every principal outside it. Required. */
  readonly organizationId: pulumi.Input<string>;
  /** Account that owns the bucket: the only source account the access-log bucket accepts logs from. Required. */
  readonly accountId: pulumi.Input<string>;
  /**
   * When set, the bucket receives CloudTrail logs: its policy lets this trail alone write its own prefixes with
   * `bucket-owner-full-control`. Default: unset, an evidence bucket that no service writes into.
   */
  readonly cloudTrailWriter?: CloudTrailWriter;
  /**
   * Lifecycle transitions of current and noncurrent versions. Default {@link DEFAULT_TRANSITIONS}; nothing ever
   * expires. A transition to an archive class ({@link ARCHIVE_STORAGE_CLASSES}) is refused unless
   * `allowArchiveTransitions` says the objects will be restored before they are read.
   */
  readonly transitions?: readonly StorageTransition[];
  /**
   * Accept transitions to GLACIER or DEEP_ARCHIVE. Default false: archived trail logs drop out of Athena and archived
   * custody records out of `flz custody verify` until someone restores them (S3 RestoreObject).
   */
  readonly allowArchiveTransitions?: boolean;
  /**
   * The preventive controls of the bucket policies (`documents/rcp.ts`): no deletion or delete marker, custody keys
   * written once and only by the case writers, configuration changed only by the deployment principal. Required.
   */
  readonly protection: pulumi.Input<ForensicResourceProtection>;
  /**
   * Protect the locked bucket from `pulumi destroy` (`protect` and `retainOnDelete`). Default true: a COMPLIANCE
   * bucket cannot be emptied before its retention ends, and a destroy must never look like it removed evidence.
   */
  readonly protectFromDeletion?: boolean;
}

/** An Object-Locked, encrypted, organisation-only S3 bucket and its separate access-log bucket. */
export class EvidenceBucket extends pulumi.ComponentResource {
  /** Name of the bucket. */
  public readonly bucketName: pulumi.Output<string>;
  /** ARN of the bucket. */
  public readonly bucketArn: pulumi.Output<string>;
  /** Name of the bucket that receives the server access logs. */
  public readonly accessLogBucketName: pulumi.Output<string>;
  /** The bucket policy: a trail must not be created before CloudTrail is allowed to write (REFERENCE.md). */
  public readonly bucketPolicy: aws.s3.BucketPolicy;
  /**
   * The Object Lock configuration (default COMPLIANCE retention): a trail must not deliver before it is in place, or the
   * first log files land without a default retention.
   */
  public readonly objectLock: aws.s3.BucketObjectLockConfiguration;

  constructor(name: string, args: EvidenceBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flz:storage:EvidenceBucket", name, {}, opts);
    const retentionDays = args.retentionDays ?? 365;
    if (!Number.isInteger(retentionDays) || retentionDays < 1) {
      throw new Error(
        `EvidenceBucket ${name}: retentionDays must be a whole number of days >= 1, got ${retentionDays}`,
      );
    }
    const protect = args.protectFromDeletion ?? true;
    const transitions = args.transitions ?? DEFAULT_TRANSITIONS;
    const archived = transitions.find((t) => ARCHIVE_STORAGE_CLASSES.includes(t.storageClass));
    if (archived !== undefined && args.allowArchiveTransitions !== true) {
      throw new Error(
        `EvidenceBucket ${name}: transition to ${archived.storageClass} after ${archived.days} days makes objects unreadable (Athena, GetObject) until restored; use GLACIER_IR, or set allowArchiveTransitions and restore before reading`,
      );
    }

    const bucket = new aws.s3.Bucket(
      name,
      {
        bucket: args.bucketName,
        objectLockEnabled: true,
        forceDestroy: false,
        tags: purposeTags(args.cloudTrailWriter ? PURPOSE.trailBucket : PURPOSE.evidenceBucket),
      },
      { ...this.settingOpts(protect), protect },
    );
    const logs = this.accessLogBucket(name, bucket, args, protect);

    const versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      this.settingOpts(protect),
    );
    this.objectLock = new aws.s3.BucketObjectLockConfiguration(
      `${name}-lock`,
      {
        bucket: bucket.id,
        objectLockEnabled: "Enabled",
        rule: { defaultRetention: { mode: args.lockMode ?? "COMPLIANCE", days: retentionDays } },
      },
      { ...this.settingOpts(protect), dependsOn: [versioning] },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.id,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn },
            // Bucket keys cut KMS calls (and cost) by orders of magnitude for trail logs, without weakening anything.
            bucketKeyEnabled: true,
          },
        ],
      },
      this.settingOpts(protect),
    );
    const publicAccess = this.privateAccess(name, bucket.id, protect);

    // From the explicit name when there is one: known before the bucket exists (see arns.ts); `bucket: bucket.id`
    // below still orders the policy after the bucket.
    const ownArn = args.bucketName === undefined ? bucket.arn : pulumi.output(args.bucketName).apply(bucketArn);
    const writer = args.cloudTrailWriter;
    const policy = writer
      ? pulumi
          .all([ownArn, args.organizationId, writer.managementAccountId, writer.trailArn, args.protection])
          .apply(([bucketArn, organizationId, managementAccountId, trailArn, protection]) =>
            JSON.stringify(
              trailBucketPolicy({
                bucketArn,
                organizationId,
                managementAccountId,
                trailArn,
                protection: protection as ForensicResourceProtection,
              }),
            ),
          )
      : pulumi
          .all([ownArn, args.organizationId, args.protection])
          .apply(([bucketArn, organizationId, protection]) =>
            JSON.stringify(
              evidenceBucketPolicy({ bucketArn, organizationId, protection: protection as ForensicResourceProtection }),
            ),
          );
    // S3 rejects concurrent changes to the policy and the public-access block of one bucket.
    this.bucketPolicy = new aws.s3.BucketPolicy(
      `${name}-policy`,
      { bucket: bucket.id, policy },
      { ...this.settingOpts(protect), dependsOn: [publicAccess] },
    );

    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      { bucket: bucket.id, rules: [lifecycleRule(transitions)] },
      { ...this.settingOpts(protect), dependsOn: [versioning] },
    );
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.accessLogBucketName = logs.bucket;
    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      accessLogBucketName: this.accessLogBucketName,
    });
  }

  /**
   * Options of every resource of the component. When protected, each is also retained on delete: deleting the
   * lock configuration, policy or public-access block of a bucket that outlives the stack would strip its
   * defences (default retention, TLS-only, organisation-only) from evidence that is still there.
   */
  private settingOpts(protect: boolean): pulumi.CustomResourceOptions {
    return { parent: this, retainOnDelete: protect };
  }

  /**
   * Keeps a bucket of the component private: every kind of public access blocked, and ACLs off (the bucket owner owns
   * every object). Returns the public-access block, which each bucket policy waits for: S3 rejects concurrent changes
   * to the policy and the public-access block of one bucket.
   */
  private privateAccess(name: string, bucket: pulumi.Input<string>, protect: boolean): aws.s3.BucketPublicAccessBlock {
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      this.settingOpts(protect),
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } },
      this.settingOpts(protect),
    );
    return publicAccess;
  }

  /**
   * The separate server-access-log bucket. It carries no default retention (S3 refuses to deliver access logs
   * into a bucket with one) and uses SSE-S3 (log delivery cannot use SSE-KMS), but is versioned, private, TLS- and
   * organisation-only, and accepts logs only from the evidence bucket.
   */
  private accessLogBucket(
    name: string,
    source: aws.s3.Bucket,
    args: EvidenceBucketArgs,
    protect: boolean,
  ): aws.s3.Bucket {
    const logName = `${name}-access-logs`;
    const logBucketName = args.bucketName === undefined ? undefined : pulumi.interpolate`${args.bucketName}-logs`;
    const logs = new aws.s3.Bucket(
      logName,
      { bucket: logBucketName, forceDestroy: false },
      { ...this.settingOpts(protect), protect },
    );
    // Known at a first preview when the names are explicit (see the policy of the bucket itself).
    const logArn = logBucketName === undefined ? logs.arn : logBucketName.apply(bucketArn);
    const sourceArnKnown = args.bucketName === undefined ? source.arn : pulumi.output(args.bucketName).apply(bucketArn);
    new aws.s3.BucketVersioning(
      `${logName}-versioning`,
      { bucket: logs.id, versioningConfiguration: { status: "Enabled" } },
      this.settingOpts(protect),
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${logName}-encryption`,
      { bucket: logs.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      this.settingOpts(protect),
    );
    const publicAccess = this.privateAccess(logName, logs.id, protect);
    const policy = new aws.s3.BucketPolicy(
      `${logName}-policy`,
      {
        bucket: logs.id,
        policy: pulumi
          .all([logArn, sourceArnKnown, args.accountId, args.organizationId, args.protection])
          .apply(([bucketArn, sourceArn, sourceAccountId, organizationId, protection]) =>
            JSON.stringify(
              accessLogBucketPolicy({
                bucketArn,
                sourceBucketArns: [sourceArn],
                sourceAccountId,
                organizationId,
                protection: protection as ForensicResourceProtection,
              }),
            ),
          ),
      },
      { ...this.settingOpts(protect), dependsOn: [publicAccess] },
    );
    new aws.s3.BucketLogging(
      `${name}-logging`,
      {
        bucket: source.id,
        targetBucket: logs.id,
        targetPrefix: "s3-access/",
        targetObjectKeyFormat: { partitionedPrefix: { partitionDateSource: "EventTime" } },
      },
      { ...this.settingOpts(protect), dependsOn: [policy] },
    );
    return logs;
  }
}

/** The one lifecycle rule: every version moves through the transitions; none ever expires (evidence is kept). */
export function lifecycleRule(
  transitions: readonly StorageTransition[],
): aws.types.input.s3.BucketLifecycleConfigurationRule {
  return {
    id: "colder-storage",
    status: "Enabled",
    filter: {},
    transitions: transitions.map((t) => ({ days: t.days, storageClass: t.storageClass })),
    noncurrentVersionTransitions: transitions.map((t) => ({ noncurrentDays: t.days, storageClass: t.storageClass })),
    abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
  };
}
