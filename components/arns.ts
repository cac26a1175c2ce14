/**
 * ARNs the landing zone must know before the resources they name exist. The trail's ARN appears in the trail key's
 * policy and the trail bucket's policy, which CloudTrail checks when the trail is created, so it is computed from
 * the trail's explicit name rather than read back from the trail. Bucket and role ARNs are computed from their
 * explicit names for another reason: a policy document built from `bucket.arn` or `role.arn` is unknown on a first
 * `pulumi preview`, so the policy pack could not check it before the resources exist; built from names it is known.
 * Where a policy names a principal that must exist first (KMS and IAM reject unknown principals), the component keeps
 * the creation order with `dependsOn` instead of a data dependency.
 */

/**
 * The partition every ARN is built in. The landing zone targets the commercial partition; GovCloud and China need
 * their own region lists and service principals, which are not modelled yet.
 */
export const PARTITION = "aws";

/**
 * Returns `partition` when it is {@link PARTITION}, and throws otherwise. Guardrail policies are where a wrong
 * partition is silent: Organizations accepts an SCP whose `arn:aws:` resources match nothing in GovCloud or China, so
 * the deny would be in force and protect nothing. The guardrails fail closed through this check instead.
 *
 * @param what - who needs the partition, for the error (e.g. `GuardrailPolicies "guardrails"`).
 * @param partition - the partition the deploying provider is in (`aws.getPartition`).
 */
export function commercialPartition(what: string, partition: string): string {
  if (partition !== PARTITION)
    throw new Error(
      `${what}: the provider is in partition "${partition}", but the landing zone's policies name ARNs in "${PARTITION}" ` +
        `(the commercial partition), which would match nothing there; valid: a provider in a commercial region`,
    );
  return partition;
}

/** ARN of an IAM role with the default path `/`. */
export function roleArn(accountId: string, roleName: string): string {
  return `arn:${PARTITION}:iam::${accountId}:role/${roleName}`;
}

/** ARN of a CloudTrail trail named `trailName` whose home region is `region`, owned by `accountId`. */
export function trailArn(region: string, accountId: string, trailName: string): string {
  return `arn:${PARTITION}:cloudtrail:${region}:${accountId}:trail/${trailName}`;
}

/** The account root principal, which stands for "any principal of this account that its IAM policies allow". */
export function accountRootArn(accountId: string): string {
  return `arn:${PARTITION}:iam::${accountId}:root`;
}

/** ARN of an S3 bucket: `arn:aws:s3:::<name>` (bucket names are global, so no account or region). */
export function bucketArn(bucketName: string): string {
  return `arn:${PARTITION}:s3:::${bucketName}`;
}
