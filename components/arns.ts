/**
 * ARNs the landing zone must know before the resources they name exist: the trail's ARN appears in the trail key's
 * policy and the trail bucket's policy, which CloudTrail checks when the trail is created, so it is computed from
 * the trail's explicit name rather than read back from the trail.
 */

/**
 * The partition every ARN is built in. The landing zone targets the commercial partition; GovCloud and China need
 * their own region lists and service principals, which are not modelled yet.
 */
export const PARTITION = "aws";

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
