/**
 * Documents of the incident alarms: the EventBridge patterns that raise an alarm, the key and topic policies of the
 * encrypted alarm topic, and the documents that forward the management account's trail changes to the forensic
 * account's event bus.
 */
import { accountAdministersKey } from "./kms";
import { ROLE_CHANGE_ACTIONS, TRAIL_TAMPERING_ACTIONS } from "./scp";
import type { PolicyDocument } from "./types";

/** An EventBridge event pattern (a JSON object). */
export type EventPattern = Record<string, unknown>;

/**
 * Assumptions of a role (the break-glass role, the deployment role), recorded by CloudTrail in the role's account as
 * well as the caller's, in the region of the STS endpoint used: one rule per governed region.
 */
export function roleAssumedPattern(roleArns: string | readonly string[]): EventPattern {
  return {
    source: ["aws.sts"],
    "detail-type": ["AWS API Call via CloudTrail"],
    detail: {
      eventSource: ["sts.amazonaws.com"],
      eventName: ["AssumeRole"],
      requestParameters: { roleArn: typeof roleArns === "string" ? [roleArns] : [...roleArns] },
    },
  };
}

/** Assumptions of the break-glass role (see {@link roleAssumedPattern}). */
export function breakGlassPattern(breakGlassRoleArn: string): EventPattern {
  return roleAssumedPattern(breakGlassRoleArn);
}

/**
 * CloudTrail event names of the calls that change a forensic bucket (the API names behind
 * `BUCKET_CONFIGURATION_ACTIONS` of `rcp.ts`; CloudTrail user guide, "Amazon S3 ... logged by CloudTrail"), and the
 * deletions: an attempt is recorded (with its error code) even when the policies refuse it, so it alarms too.
 */
export const FORENSIC_BUCKET_CHANGE_EVENTS: readonly string[] = [
  "PutBucketPolicy",
  "DeleteBucketPolicy",
  "PutObjectLockConfiguration",
  "PutBucketLifecycle",
  "DeleteBucketLifecycle",
  "PutBucketEncryption",
  "DeleteBucketEncryption",
  "PutBucketVersioning",
  "PutBucketOwnershipControls",
  "DeleteBucketOwnershipControls",
  "PutBucketPublicAccessBlock",
  "DeleteBucketPublicAccessBlock",
  "PutBucketAcl",
  "PutBucketLogging",
  "PutBucketReplication",
  "DeleteBucketReplication",
  "DeleteBucket",
  // Data events: present when the trail logs S3 object writes in the forensic account (s3DataEvents, the default).
  "DeleteObject",
  "DeleteObjects",
];

/** Changes (and attempted changes) of the named buckets, recorded in the buckets' account and region. */
export function forensicBucketChangePattern(bucketNames: readonly string[]): EventPattern {
  return {
    source: ["aws.s3"],
    "detail-type": ["AWS API Call via CloudTrail"],
    detail: {
      eventSource: ["s3.amazonaws.com"],
      eventName: [...FORENSIC_BUCKET_CHANGE_EVENTS],
      requestParameters: { bucketName: [...bucketNames] },
    },
  };
}

/** CloudTrail event names of the calls that change a KMS key's policy, state, tags or replicas. */
export const FORENSIC_KEY_CHANGE_EVENTS: readonly string[] = [
  "PutKeyPolicy",
  "ScheduleKeyDeletion",
  "DisableKey",
  "DisableKeyRotation",
  "DeleteImportedKeyMaterial",
  "ReplicateKey",
  "UpdatePrimaryRegion",
  "TagResource",
  "UntagResource",
];

/**
 * Changes of any key of the account in this region (the forensic account holds only forensic keys and the alarm and
 * flow-log keys, all worth hearing about), and grants created by direct calls. Grants an AWS service creates on a
 * caller's behalf (EBS copying an encrypted snapshot during capture) carry `userIdentity.invokedBy` and do not alarm.
 */
export function forensicKeyChangePattern(): EventPattern {
  return {
    source: ["aws.kms"],
    "detail-type": ["AWS API Call via CloudTrail"],
    detail: {
      eventSource: ["kms.amazonaws.com"],
      $or: [
        { eventName: [...FORENSIC_KEY_CHANGE_EVENTS] },
        { eventName: ["CreateGrant"], userIdentity: { invokedBy: [{ exists: false }] } },
      ],
    },
  };
}

/**
 * Changes of the named roles (trust, permissions, tags, deletion; the actions the protection SCP denies). IAM is a
 * global service: its events reach EventBridge in us-east-1 only (EventBridge user guide, "Events from AWS services";
 * re:Post "EventBridge rule for IAM events only triggers in us-east-1"), so this rule lives there.
 */
export function forensicRoleChangePattern(roleNames: readonly string[]): EventPattern {
  return {
    source: ["aws.iam"],
    "detail-type": ["AWS API Call via CloudTrail"],
    detail: {
      eventSource: ["iam.amazonaws.com"],
      eventName: ROLE_CHANGE_ACTIONS.map((a) => a.split(":")[1]),
      requestParameters: { roleName: [...roleNames] },
    },
  };
}

/** What {@link organizationGuardrailChangePattern} watches. */
export interface OrganizationGuardrails {
  /** IDs of the guardrail SCPs and the RCP (`p-...`): detaching, changing or deleting one alarms. */
  readonly policyIds: readonly string[];
  /** The forensic account: removing, moving or closing it alarms. */
  readonly forensicAccountId: string;
}

/**
 * What only the management account can do, and no SCP or RCP can prevent: detach, change or delete the guardrail
 * policies, disable a policy type or a service's trusted access, change delegated administration or the resource
 * policy that delegates policy management, and remove, move or close the forensic account. Organizations events reach
 * EventBridge in us-east-1 of the management account only; a rule there forwards them to the forensic account.
 */
export function organizationGuardrailChangePattern(guardrails: OrganizationGuardrails): EventPattern {
  return {
    source: ["aws.organizations"],
    "detail-type": ["AWS API Call via CloudTrail"],
    detail: {
      eventSource: ["organizations.amazonaws.com"],
      $or: [
        {
          eventName: ["DetachPolicy", "UpdatePolicy", "DeletePolicy"],
          requestParameters: { policyId: [...guardrails.policyIds] },
        },
        {
          eventName: [
            "DisablePolicyType",
            "DisableAWSServiceAccess",
            "DeregisterDelegatedAdministrator",
            "PutResourcePolicy",
            "DeleteResourcePolicy",
          ],
        },
        {
          eventName: ["RemoveAccountFromOrganization", "MoveAccount", "CloseAccount"],
          requestParameters: { accountId: [guardrails.forensicAccountId] },
        },
      ],
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
 * encrypted topic (it cannot otherwise: SNS calls KMS on the publisher's behalf), and only for this topic.
 *
 * The condition is the encryption context SNS puts on every data key of an encrypted topic,
 * `kms:EncryptionContext:aws:sns:topicArn` (AWS's own key policies for services publishing to encrypted topics pin
 * it, e.g. GameLift FlexMatch guide, "Set up an SNS topic with server-side encryption"). An earlier version used
 * `aws:SourceAccount`, which nothing documents as present on the KMS calls SNS makes for an EventBridge delivery: if
 * absent, the statement would never match and every alarm would be dropped silently. The encryption context is set by
 * SNS itself, so it is present on exactly these calls; the topic policy's `aws:SourceArn` (the rule ARNs) remains the
 * confused-deputy guard for who may publish.
 */
export function alarmKeyPolicy(accountId: string, topicArn: string, partition = "aws"): PolicyDocument {
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
        Condition: { StringEquals: { "kms:EncryptionContext:aws:sns:topicArn": topicArn } },
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
 * Policy of the forensic account's default event bus: the management account may put events on it, so its rules can
 * forward trail and organisation changes to the forensic account's alarms.
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
