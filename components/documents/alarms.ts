/**
 * Documents of the incident alarms: the EventBridge patterns that raise an alarm, the key and topic policies of the
 * encrypted alarm topic, and the documents that forward the management account's trail changes to the forensic
 * account's event bus.
 */
import { accountAdministersKey } from "./kms";
import { TRAIL_TAMPERING_ACTIONS } from "./scp";
import type { PolicyDocument } from "./types";

/** An EventBridge event pattern (a JSON object). */
export type EventPattern = Record<string, unknown>;

/** Assumptions of the break-glass role, recorded by CloudTrail in the role's account. */
export function breakGlassPattern(breakGlassRoleArn: string): EventPattern {
  return {
    source: ["aws.sts"],
    "detail-type": ["AWS API Call via CloudTrail"],
    detail: {
      eventSource: ["sts.amazonaws.com"],
      eventName: ["AssumeRole"],
      requestParameters: { roleArn: [breakGlassRoleArn] },
    },
  };
}

/** Calls that stop, delete or narrow a trail (the same list the trail guardrail SCP denies). */
export function trailChangePattern(): EventPattern {
  return {
    source: ["aws.cloudtrail"],
    "detail-type": ["AWS API Call via CloudTrail"],
    detail: {
      eventSource: ["cloudtrail.amazonaws.com"],
      eventName: TRAIL_TAMPERING_ACTIONS.map((a) => a.split(":")[1]),
    },
  };
}

/** GuardDuty findings at or above a severity (7 = High; GuardDuty scores 1.0 to 8.9, Critical from 9). */
export function guardDutyFindingPattern(minimumSeverity: number): EventPattern {
  return {
    source: ["aws.guardduty"],
    "detail-type": ["GuardDuty Finding"],
    detail: { severity: [{ numeric: [">=", minimumSeverity] }] },
  };
}

/**
 * Key policy of the alarm topic's key: the account administers it; EventBridge may use it to publish into the
 * encrypted topic (it cannot otherwise: SNS calls KMS on the publisher's behalf).
 */
export function alarmKeyPolicy(accountId: string, partition = "aws"): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      accountAdministersKey(partition, accountId, "AccountAdministers"),
      {
        Sid: "EventBridgePublishesEncrypted",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
    ],
  };
}

/** Topic policy: only the given rules may publish; the account keeps managing the topic and its subscriptions. */
export function alarmTopicPolicy(topicArn: string, ruleArns: string[], accountId: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountManagesTopic",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: [
          "sns:GetTopicAttributes",
          "sns:SetTopicAttributes",
          "sns:Subscribe",
          "sns:ListSubscriptionsByTopic",
          "sns:TagResource",
        ],
        Resource: topicArn,
      },
      {
        Sid: "OnlyIncidentRulesPublish",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: { ArnEquals: { "aws:SourceArn": ruleArns } },
      },
    ],
  };
}

/**
 * Policy of the forensic account's default event bus: the management account may put events on it, so its rule can
 * forward trail changes to the forensic account's trail-change alarm.
 */
export function trailChangeBusPolicy(busArn: string, managementAccountId: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ManagementForwardsTrailChanges",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${managementAccountId}:root` },
        Action: "events:PutEvents",
        Resource: busArn,
      },
    ],
  };
}

/** Trust policy of the management account's forwarding role: only EventBridge assumes it. */
export function eventForwarderTrust(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sts:AssumeRole" }],
  };
}

/** Permissions of the forwarding role: put events on one bus (the forensic account's default bus), nothing else. */
export function eventForwarderPolicy(busArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "events:PutEvents", Resource: busArn }],
  };
}
