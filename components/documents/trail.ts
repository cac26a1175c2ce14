/**
 * Documents of the organisation trail's optional CloudWatch Logs delivery: the role CloudTrail assumes to write into
 * the trail's log group.
 */
import type { PolicyDocument } from "./types";

/**
 * Trust policy of the delivery role: only CloudTrail, and only on behalf of the one trail (`aws:SourceArn`), so no
 * other trail (or service) can borrow the role to write into the group.
 */
export function trailLogDeliveryTrust(trailArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "cloudtrail.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceArn": trailArn } },
      },
    ],
  };
}

/** Permissions of the delivery role: create streams and put events in the one log group, nothing else. */
export function trailLogDeliveryPolicy(logGroupArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: `${logGroupArn}:*`,
      },
    ],
  };
}
