/**
 * The organisation CloudTrail trail, created in the management account: every account, every region, global
 * service events, signed digests, encrypted with the forensic account's trail key, delivered into the forensic
 * account's Object-Locked trail bucket.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { trailLogDeliveryPolicy, trailLogDeliveryTrust } from "./documents/trail";

/** An advanced event selector, exactly as CloudTrail takes it. */
export type AdvancedEventSelector = aws.types.input.cloudtrail.TrailAdvancedEventSelector;

/** Optional delivery of the trail to CloudWatch Logs (for alarms and quick queries; the bucket stays the record). */
export interface CloudWatchDelivery {
  /** Days the log group keeps events; one of CloudWatch's allowed retention values. */
  readonly retentionDays: number;
}

/** Arguments of {@link OrganizationTrail}. */
export interface OrganizationTrailArgs {
  /**
   * Trail name. Required and explicit: the trail's ARN (built from it) must appear in the trail key's and the trail
   * bucket's policies before the trail exists.
   */
  readonly trailName: string;
  /** The trail bucket (in the forensic account). Required. */
  readonly bucketName: pulumi.Input<string>;
  /** ARN of the trail key: CloudTrail encrypts every log file and digest with it. Required: no SSE-S3-only trails. */
  readonly kmsKeyArn: pulumi.Input<string>;
  /**
   * Log S3 object-level writes (PutObject, DeleteObject, CopyObject, ...) in every account: what shows exfiltration
   * staging and ransomware. Default true. Volume (and cost) grows with write traffic.
   */
  readonly s3ObjectWrites?: boolean;
  /**
   * Buckets whose object writes are not logged as data events: the trail bucket itself and the access-log buckets.
   * CloudTrail's own log deliveries and S3's access-log deliveries would otherwise be recorded as data events that are
   * delivered as new objects, which are recorded again: volume and cost for no evidence. The evidence bucket stays
   * logged (who wrote custody records is evidence). Default none.
   */
  readonly excludedDataEventBucketArns?: pulumi.Input<pulumi.Input<string>[]>;
  /** Log Lambda function invocations in every account. Default false: high volume, and invocations are rarely the first evidence needed. */
  readonly lambdaInvokes?: boolean;
  /** Further advanced event selectors, added after the built-in ones. Default none. */
  readonly additionalEventSelectors?: readonly AdvancedEventSelector[];
  /** Also deliver to CloudWatch Logs. Default: off (the bucket is the evidence; CloudWatch is a convenience). */
  readonly cloudWatchLogs?: CloudWatchDelivery;
  /**
   * Resources that must exist before the trail: the trail bucket's policy and the trail key (with its policy).
   * CloudTrail checks both when the trail is created and fails otherwise.
   */
  readonly prerequisites?: pulumi.Input<pulumi.Resource>[];
}

/** Management events, read and write: every control-plane call in the organisation. */
export const MANAGEMENT_EVENTS: AdvancedEventSelector = {
  name: "Management events (read and write)",
  fieldSelectors: [{ field: "eventCategory", equals: ["Management"] }],
};
/** S3 object-level write events in every bucket. */
export const S3_OBJECT_WRITES: AdvancedEventSelector = {
  name: "S3 object writes",
  fieldSelectors: [
    { field: "eventCategory", equals: ["Data"] },
    { field: "resources.type", equals: ["AWS::S3::Object"] },
    { field: "readOnly", equals: ["false"] },
  ],
};
/** Lambda invocations of every function. */
export const LAMBDA_INVOKES: AdvancedEventSelector = {
  name: "Lambda invocations",
  fieldSelectors: [
    { field: "eventCategory", equals: ["Data"] },
    { field: "resources.type", equals: ["AWS::Lambda::Function"] },
  ],
};

/**
 * S3 object writes in every bucket except the given ones (`resources.ARN` with `notStartsWith`, one prefix
 * `arn:aws:s3:::<bucket>/` per bucket; CloudTrail user guide, "Filtering data events by using advanced event
 * selectors").
 */
export function s3ObjectWritesExcept(bucketArns: readonly string[]): AdvancedEventSelector {
  if (bucketArns.length === 0) return S3_OBJECT_WRITES;
  return {
    name: S3_OBJECT_WRITES.name,
    fieldSelectors: [
      ...(S3_OBJECT_WRITES.fieldSelectors as aws.types.input.cloudtrail.TrailAdvancedEventSelectorFieldSelector[]),
      { field: "resources.ARN", notStartsWiths: bucketArns.map((arn) => `${arn}/`) },
    ],
  };
}

/** The advanced event selectors a trail gets for the given switches (a pure decision). */
export function eventSelectors(
  args: Pick<OrganizationTrailArgs, "s3ObjectWrites" | "lambdaInvokes" | "additionalEventSelectors">,
  excludedBucketArns: readonly string[] = [],
): AdvancedEventSelector[] {
  return [
    MANAGEMENT_EVENTS,
    ...((args.s3ObjectWrites ?? true) ? [s3ObjectWritesExcept(excludedBucketArns)] : []),
    ...((args.lambdaInvokes ?? false) ? [LAMBDA_INVOKES] : []),
    ...(args.additionalEventSelectors ?? []),
  ];
}

/** The organisation trail (and its optional CloudWatch Logs delivery). */
export class OrganizationTrail extends pulumi.ComponentResource {
  /** ARN of the trail. */
  public readonly trailArn: pulumi.Output<string>;
  /** Name of the trail. */
  public readonly trailName: pulumi.Output<string>;

  constructor(name: string, args: OrganizationTrailArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flz:trail:OrganizationTrail", name, {}, opts);
    const cloudWatch = args.cloudWatchLogs
      ? this.cloudWatchDelivery(name, args.trailName, args.cloudWatchLogs)
      : undefined;
    const trail = new aws.cloudtrail.Trail(
      name,
      {
        name: args.trailName,
        s3BucketName: args.bucketName,
        kmsKeyId: args.kmsKeyArn,
        isOrganizationTrail: true,
        isMultiRegionTrail: true,
        includeGlobalServiceEvents: true,
        enableLogFileValidation: true,
        enableLogging: true,
        advancedEventSelectors: pulumi
          .output(args.excludedDataEventBucketArns ?? [])
          .apply((excluded) => eventSelectors(args, excluded)),
        cloudWatchLogsGroupArn: cloudWatch ? pulumi.interpolate`${cloudWatch.group.arn}:*` : undefined,
        cloudWatchLogsRoleArn: cloudWatch?.role.arn,
      },
      { parent: this, dependsOn: args.prerequisites, protect: true },
    );
    this.trailArn = trail.arn;
    this.trailName = trail.name;
    this.registerOutputs({ trailArn: this.trailArn, trailName: this.trailName });
  }

  /** The log group and the role CloudTrail assumes to write into it (trusted only for this trail). */
  private cloudWatchDelivery(
    name: string,
    trailName: string,
    delivery: CloudWatchDelivery,
  ): { group: aws.cloudwatch.LogGroup; role: aws.iam.Role } {
    const group = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/flz/cloudtrail/${trailName}`, retentionInDays: delivery.retentionDays },
      { parent: this },
    );
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this });
    const sourceArn = pulumi.interpolate`arn:aws:cloudtrail:${region.region}:${identity.accountId}:trail/${trailName}`;
    const role = new aws.iam.Role(
      `${name}-cloudwatch`,
      {
        description: "Lets the flz organisation trail deliver to its CloudWatch Logs group",
        maxSessionDuration: 3600,
        assumeRolePolicy: sourceArn.apply((arn) => JSON.stringify(trailLogDeliveryTrust(arn))),
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-cloudwatch`,
      {
        role: role.name,
        policy: group.arn.apply((arn) => JSON.stringify(trailLogDeliveryPolicy(arn))),
      },
      { parent: this },
    );
    return { group, role };
  }
}
