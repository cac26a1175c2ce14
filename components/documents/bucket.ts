/**
 * S3 bucket policies for the forensic account's buckets. Every bucket that holds evidence or logs refuses plain
 * HTTP and refuses every principal outside the organisation, whatever its own IAM policies say: an explicit Deny in
 * a bucket policy cannot be overridden by any grant elsewhere.
 */
import { protectedBucketStatements, type ForensicResourceProtection } from "./rcp";
import type { PolicyDocument, PolicyStatement } from "./types";
import { requireAccountId, requireArn, requireArns, requireOrganizationId } from "./validate";

/** Arguments of {@link lockedBucketPolicy}. */
export interface LockedBucketPolicyArgs {
  /** ARN of the bucket (`arn:aws:s3:::name`); the policy covers the bucket and every object in it. */
  readonly bucketArn: string;
  /** The organisation whose principals may reach the bucket (`o-...`); everyone else is denied. */
  readonly organizationId: string;
  /** Statements appended after the two denies, typically the Allow statements a service needs. */
  readonly extraStatements?: readonly PolicyStatement[];
}

/** Arguments of {@link evidenceBucketPolicy}. */
export interface EvidenceBucketPolicyArgs {
  /** ARN of the evidence bucket. */
  readonly bucketArn: string;
  /** The organisation whose principals may reach the evidence. */
  readonly organizationId: string;
  /**
   * The preventive controls (`rcp.ts`): no deletion or delete marker, custody keys written once and only by the case
   * writers, the bucket's configuration changed only by the deployment principal. Required: the RCP repeats them above
   * the account, and the bucket policy is what binds principals the RCP does not (none today, but defence in depth).
   */
  readonly protection: ForensicResourceProtection;
}

/** Arguments of {@link trailBucketPolicy}. */
export interface TrailBucketPolicyArgs {
  /** ARN of the bucket that receives the organisation trail. */
  readonly bucketArn: string;
  /** The organisation; an organisation trail writes under `AWSLogs/<organizationId>/`. */
  readonly organizationId: string;
  /** The management account that owns the trail; CloudTrail also writes under `AWSLogs/<managementAccountId>/`. */
  readonly managementAccountId: string;
  /**
   * ARN of the one trail allowed to write (`arn:aws:cloudtrail:<region>:<management>:trail/<name>`). Pinning it
   * stops another account's trail from using this bucket through CloudTrail as a confused deputy.
   */
  readonly trailArn: string;
  /** The preventive controls (`rcp.ts`): no deletion or delete marker, configuration changed only by the deployment principal. Required. */
  readonly protection: ForensicResourceProtection;
}

/** Arguments of {@link accessLogBucketPolicy}. */
export interface AccessLogBucketPolicyArgs {
  /** ARN of the bucket that receives S3 server-access logs. */
  readonly bucketArn: string;
  /** ARNs of the buckets whose access logs may be delivered here; any other source bucket is refused. */
  readonly sourceBucketArns: readonly string[];
  /** Account that owns the source buckets; pinned so a bucket of the same name elsewhere cannot deliver. */
  readonly sourceAccountId: string;
  /**
   * When given, principals outside this organisation are also denied (the log-delivery service is exempt through
   * `aws:PrincipalIsAWSService`). Default: TLS-only deny and the delivery grant, as the design asks.
   */
  readonly organizationId?: string;
  /**
   * When given, the access logs are protected like the evidence (no deletion, configuration changed only by the
   * deployment principal): they are the record of who read the evidence. The landing zone always gives it.
   */
  readonly protection?: ForensicResourceProtection;
}

/** The bucket and every object key in it: bucket-level and object-level actions are matched separately. */
function bucketAndObjects(bucketArn: string): string[] {
  return [bucketArn, `${bucketArn}/*`];
}

/**
 * Denies every request that does not use TLS. `aws:SecureTransport` is present on every request, so `Bool false`
 * matches exactly the plain-HTTP ones, for every principal including the bucket owner.
 */
export function denyInsecureTransport(bucketArn: string): PolicyStatement {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: bucketAndObjects(bucketArn),
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/**
 * Denies every principal outside the organisation. `StringNotEqualsIfExists` also catches anonymous callers and
 * principals of accounts that belong to no organisation (the key is then absent). AWS service principals carry no
 * `aws:PrincipalOrgID` either, so `BoolIfExists aws:PrincipalIsAWSService false` exempts them: CloudTrail and S3
 * log delivery still write, and only under the narrow grants that follow in each policy.
 */
export function denyOutsideOrganization(bucketArn: string, organizationId: string): PolicyStatement {
  return {
    Sid: "DenyPrincipalsOutsideOrganization",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: bucketAndObjects(bucketArn),
    Condition: {
      StringNotEqualsIfExists: { "aws:PrincipalOrgID": organizationId },
      BoolIfExists: { "aws:PrincipalIsAWSService": "false" },
    },
  };
}

/**
 * The base policy of every forensic bucket: TLS only, organisation only, then `extraStatements`. It grants nothing
 * by itself; same-account principals still need an identity policy, and service grants come in `extraStatements`.
 */
export function lockedBucketPolicy(args: LockedBucketPolicyArgs): PolicyDocument {
  const bucketArn = requireArn("bucketArn", args.bucketArn, "s3");
  const organizationId = requireOrganizationId("organizationId", args.organizationId);
  return {
    Version: "2012-10-17",
    Statement: [
      denyInsecureTransport(bucketArn),
      denyOutsideOrganization(bucketArn, organizationId),
      ...(args.extraStatements ?? []),
    ],
  };
}

/**
 * Policy of the evidence bucket: the locked policy and the preventive controls of `rcp.ts`. Responders and
 * investigators get access through their own identity policies in the forensic account; no service writes here.
 */
export function evidenceBucketPolicy(args: EvidenceBucketPolicyArgs): PolicyDocument {
  return lockedBucketPolicy({
    bucketArn: args.bucketArn,
    organizationId: args.organizationId,
    extraStatements: protectedBucketStatements(args.protection, "evidence", args.bucketArn),
  });
}

/**
 * Policy of the organisation-trail bucket: the locked policy plus what CloudTrail needs, pinned to one trail.
 *
 * - `AWSCloudTrailAclCheck`: CloudTrail reads the bucket ACL before delivering; only for this trail.
 * - `AWSCloudTrailWrite`: PutObject only under `AWSLogs/<management>/` and `AWSLogs/<organisation>/` (the two
 *   prefixes an organisation trail writes), only for this trail (`aws:SourceArn`), and only with
 *   `bucket-owner-full-control`, so the forensic account owns every log object.
 */
export function trailBucketPolicy(args: TrailBucketPolicyArgs): PolicyDocument {
  const bucketArn = requireArn("bucketArn", args.bucketArn, "s3");
  const organizationId = requireOrganizationId("organizationId", args.organizationId);
  const managementAccountId = requireAccountId("managementAccountId", args.managementAccountId);
  const trailArn = requireArn("trailArn", args.trailArn, "cloudtrail");
  return lockedBucketPolicy({
    bucketArn,
    organizationId,
    extraStatements: [
      {
        Sid: "AWSCloudTrailAclCheck",
        Effect: "Allow",
        Principal: { Service: "cloudtrail.amazonaws.com" },
        Action: "s3:GetBucketAcl",
        Resource: bucketArn,
        Condition: { StringEquals: { "aws:SourceArn": trailArn } },
      },
      {
        Sid: "AWSCloudTrailWrite",
        Effect: "Allow",
        Principal: { Service: "cloudtrail.amazonaws.com" },
        Action: "s3:PutObject",
        Resource: [`${bucketArn}/AWSLogs/${managementAccountId}/*`, `${bucketArn}/AWSLogs/${organizationId}/*`],
        Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailArn } },
      },
      ...protectedBucketStatements(args.protection, "trail", bucketArn),
    ],
  });
}

/**
 * Policy of the server-access-log bucket: TLS only, and S3 log delivery (`logging.s3.amazonaws.com`) may put
 * objects only on behalf of the named source buckets of the named account (confused-deputy protection). With
 * `organizationId`, principals outside the organisation are denied too.
 */
export function accessLogBucketPolicy(args: AccessLogBucketPolicyArgs): PolicyDocument {
  const bucketArn = requireArn("bucketArn", args.bucketArn, "s3");
  const sourceBucketArns = requireArns("sourceBucketArns", args.sourceBucketArns, "s3");
  const sourceAccountId = requireAccountId("sourceAccountId", args.sourceAccountId);
  const statements: PolicyStatement[] = [denyInsecureTransport(bucketArn)];
  if (args.organizationId !== undefined) {
    statements.push(denyOutsideOrganization(bucketArn, requireOrganizationId("organizationId", args.organizationId)));
  }
  statements.push({
    Sid: "S3ServerAccessLogsDelivery",
    Effect: "Allow",
    Principal: { Service: "logging.s3.amazonaws.com" },
    Action: "s3:PutObject",
    Resource: `${bucketArn}/*`,
    Condition: {
      ArnLike: { "aws:SourceArn": sourceBucketArns },
      StringEquals: { "aws:SourceAccount": sourceAccountId },
    },
  });
  if (args.protection !== undefined)
    statements.push(...protectedBucketStatements(args.protection, "access-log", bucketArn));
  return { Version: "2012-10-17", Statement: statements };
}
