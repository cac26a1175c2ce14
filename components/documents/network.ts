/**
 * Policy documents of the forensic VPC's flow logs: the key that encrypts the log group, and the role VPC Flow Logs
 * assumes to write into it.
 */
import { accountAdministersKey } from "./kms";
import type { PolicyDocument } from "./types";

/**
 * Key policy for the flow-log key: the account administers it; CloudWatch Logs in this region may use it, only for log
 * groups of this account (`kms:EncryptionContext:aws:logs:arn`).
 */
export function flowLogKeyPolicy(accountId: string, region: string, partition = "aws"): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      accountAdministersKey(partition, accountId, "AccountAdministers"),
      {
        Sid: "CloudWatchLogsEncrypts",
        Effect: "Allow",
        Principal: { Service: `logs.${region}.amazonaws.com` },
        Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        Resource: "*",
        Condition: {
          ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${region}:${accountId}:log-group:*` },
        },
      },
    ],
  };
}

/** Trust policy of the flow-log delivery role: only VPC Flow Logs, only on behalf of this account. */
export function flowLogTrustPolicy(accountId: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "vpc-flow-logs.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
    ],
  };
}

/** Permissions of the flow-log delivery role: write to one log group. */
export function flowLogWritePolicy(logGroupArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
        Resource: [logGroupArn, `${logGroupArn}:*`],
      },
    ],
  };
}
