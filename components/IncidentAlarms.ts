/**
 * Alarms for the events a forensic team must hear about at once: the break-glass role used, the organisation trail
 * changed, a high-severity GuardDuty finding. EventBridge rules in the forensic account deliver to an SNS topic
 * encrypted with a customer-managed key.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  alarmKeyPolicy,
  alarmTopicPolicy,
  breakGlassPattern,
  eventForwarderPolicy,
  eventForwarderTrust,
  forensicBucketChangePattern,
  forensicKeyChangePattern,
  forensicRoleChangePattern,
  guardDutyFindingPattern,
  organizationGuardrailChangePattern,
  roleAssumedPattern,
  trailChangeBusPolicy,
  trailChangePattern,
  type EventPattern,
} from "./documents/alarms";
import { ALARM_KEY_PURPOSE, PURPOSE_TAG_KEY } from "./documents/keys";

/** One alarm subscription. */
export interface AlarmSubscription {
  /** SNS protocol: `email`, `https`, `sqs`, `lambda`, `sms`. */
  readonly protocol: string;
  /** Address, URL or ARN for the protocol. */
  readonly endpoint: pulumi.Input<string>;
}

/** Arguments of {@link IncidentAlarms}. */
export interface IncidentAlarmsArgs {
  /**
   * Provider for the forensic account in one region. EventBridge sees only its own region's events and SNS targets
   * must be in the rule's region: create one IncidentAlarms per governed region (STS and GuardDuty are regional).
   */
  readonly provider: aws.Provider;
  /** ARN of the break-glass role: every assumption of it alarms. Omit to leave out that rule. */
  readonly breakGlassRoleArn?: pulumi.Input<string>;
  /**
   * Alarm on trail changes. Default true. The organisation trail lives in the management account, whose events do not
   * reach the forensic account by themselves: give `managementProvider` to forward them.
   */
  readonly trailChanges?: boolean;
  /**
   * Provider for the management account in the same region. When given, a rule there forwards trail-change events to
   * the forensic account's default event bus (which admits only that account's events for that purpose).
   */
  readonly managementProvider?: aws.Provider;
  /** Account ID of the management account; required with `managementProvider`, for the event bus policy. */
  readonly managementAccountId?: pulumi.Input<string>;
  /** Minimum GuardDuty severity that alarms. Default 7 (High and Critical). Set to 0 to leave out that rule. */
  readonly guardDutyMinimumSeverity?: number;
  /** Subscriptions to the alarm topic. Default none: subscribe the on-call channel before relying on the alarms. */
  readonly subscriptions?: AlarmSubscription[];
  /**
   * Buckets of this account and region whose configuration changes (and deletions, attempted or not) alarm: the
   * evidence, trail and access-log buckets. Default none.
   */
  readonly protectedBucketNames?: pulumi.Input<pulumi.Input<string>[]>;
  /** Alarm on every change of a KMS key of this account and region (policy, state, tags, replicas, direct grants). Default false. */
  readonly protectedKeys?: boolean;
  /**
   * Roles of this account whose changes alarm. IAM events reach EventBridge in us-east-1 only: give it to the alarms of
   * us-east-1 (`globalServiceEvents`), it is refused elsewhere. Default none.
   */
  readonly protectedRoleNames?: pulumi.Input<pulumi.Input<string>[]>;
  /** Whether this is us-east-1, where the global services (IAM, Organizations) deliver their events. Default false. */
  readonly globalServiceEvents?: boolean;
  /** Roles whose every assumption alarms besides break-glass (the deployment role: every `pulumi up` shows up). */
  readonly watchedRoleArns?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * With `managementProvider` and `globalServiceEvents`: forward the management account's changes of these guardrail
   * policies and of the forensic account (Organizations events) here, where a rule alarms. Default none.
   */
  readonly organizationGuardrails?: pulumi.Input<{
    policyIds: pulumi.Input<string>[];
    forensicAccountId: pulumi.Input<string>;
  }>;
}

/**
 * EventBridge rules for break-glass use, trail changes and high-severity GuardDuty findings, delivering to an SNS topic
 * encrypted with its own customer-managed key, which only those rules may publish to.
 */
export class IncidentAlarms extends pulumi.ComponentResource {
  /** ARN of the alarm topic. */
  public readonly topicArn: pulumi.Output<string>;
  /** ARN of the key that encrypts the topic. */
  public readonly topicKeyArn: pulumi.Output<string>;
  /** ARNs of the alarm rules, by purpose. */
  public readonly ruleArns: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: IncidentAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flz:alarms:IncidentAlarms", name, {}, opts);
    const severity = args.guardDutyMinimumSeverity ?? 7;
    if (!(severity >= 0 && severity <= 10))
      throw new Error(
        `IncidentAlarms "${name}": guardDutyMinimumSeverity ${severity} is outside 0 to 10 (0 turns the rule off)`,
      );
    if (
      !args.globalServiceEvents &&
      (args.protectedRoleNames !== undefined || args.organizationGuardrails !== undefined)
    ) {
      throw new Error(
        `IncidentAlarms "${name}": protectedRoleNames and organizationGuardrails need globalServiceEvents (us-east-1): IAM and Organizations events reach EventBridge nowhere else`,
      );
    }
    if (args.managementProvider && args.managementAccountId === undefined) {
      throw new Error(
        `IncidentAlarms "${name}": managementProvider needs managementAccountId, for the event bus policy that admits its events`,
      );
    }
    const opt = { parent: this, provider: args.provider };
    const identity = aws.getCallerIdentityOutput({}, { parent: this, provider: args.provider });
    const region = aws.getRegionOutput({}, { parent: this, provider: args.provider });
    const topicName = `${name}-incident-alarms`;
    // Built from the name, so the key policy can pin the topic before the topic exists.
    const topicArn = pulumi.interpolate`arn:aws:sns:${region.region}:${identity.accountId}:${topicName}`;

    const key = new aws.kms.Key(
      `${name}-topic`,
      {
        description: "Forensic landing zone alarm topic",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        // The landing zone's protection SCP freezes keys carrying this tag (documents/scp-alarms.ts).
        tags: { [PURPOSE_TAG_KEY]: ALARM_KEY_PURPOSE },
        policy: pulumi
          .all([identity.accountId, topicArn])
          .apply(([account, arn]) => JSON.stringify(alarmKeyPolicy(account, arn))),
      },
      opt,
    );
    const topic = new aws.sns.Topic(
      `${name}-topic`,
      { name: topicName, kmsMasterKeyId: key.arn, displayName: "Forensic landing zone alarms" },
      opt,
    );

    const patterns: Array<[string, pulumi.Input<string>, string]> = [];
    if (args.breakGlassRoleArn !== undefined) {
      patterns.push([
        "break-glass",
        pulumi.output(args.breakGlassRoleArn).apply((arn) => JSON.stringify(breakGlassPattern(arn))),
        "The break-glass role was assumed",
      ]);
    }
    if (args.trailChanges ?? true)
      patterns.push([
        "trail-change",
        JSON.stringify(trailChangePattern()),
        "A CloudTrail trail was stopped, deleted or narrowed",
      ]);
    if (severity > 0)
      patterns.push([
        "guardduty-high",
        JSON.stringify(guardDutyFindingPattern(severity)),
        `A GuardDuty finding of severity ${severity} or more`,
      ]);
    const json = (pattern: pulumi.Input<EventPattern>): pulumi.Output<string> =>
      pulumi.output(pattern).apply((p) => JSON.stringify(p));
    if (args.protectedBucketNames !== undefined)
      patterns.push([
        "forensic-bucket-change",
        json(pulumi.output(args.protectedBucketNames).apply((names) => forensicBucketChangePattern(names))),
        "A forensic bucket's configuration was changed, or an object deletion was tried",
      ]);
    if (args.protectedKeys)
      patterns.push([
        "key-change",
        JSON.stringify(forensicKeyChangePattern()),
        "A KMS key's policy, state, tags or grants changed",
      ]);
    if (args.protectedRoleNames !== undefined)
      patterns.push([
        "forensic-role-change",
        json(pulumi.output(args.protectedRoleNames).apply((names) => forensicRoleChangePattern(names))),
        "A forensic role's trust, permissions or tags were changed",
      ]);
    if (args.watchedRoleArns !== undefined)
      patterns.push([
        "watched-role-assumed",
        json(pulumi.output(args.watchedRoleArns).apply((arns) => roleAssumedPattern(arns))),
        "The deployment role was assumed",
      ]);
    const guardrailPattern =
      args.organizationGuardrails === undefined
        ? undefined
        : json(pulumi.output(args.organizationGuardrails).apply((g) => organizationGuardrailChangePattern(g)));
    if (guardrailPattern !== undefined)
      patterns.push([
        "organization-guardrail-change",
        guardrailPattern,
        "A guardrail policy or the forensic account was changed in Organizations",
      ]);

    const rules: Record<string, pulumi.Output<string>> = {};
    for (const [purpose, eventPattern, description] of patterns) {
      // Named, not auto-named: the landing zone's protection SCP names the rules by this prefix (scp-alarms.ts), and
      // a project's auto-naming pattern could otherwise name them so that it misses them.
      const ruleName = `${name}-${purpose}`;
      if (ruleName.length > 64)
        throw new Error(
          `IncidentAlarms "${name}": the rule name ${ruleName} is ${ruleName.length} characters, EventBridge allows 64: choose a shorter name`,
        );
      const rule = new aws.cloudwatch.EventRule(
        `${name}-${purpose}`,
        { name: ruleName, description, eventPattern, state: "ENABLED" },
        opt,
      );
      new aws.cloudwatch.EventTarget(`${name}-${purpose}`, { rule: rule.name, arn: topic.arn }, opt);
      rules[purpose] = rule.arn;
    }

    new aws.sns.TopicPolicy(
      `${name}-topic`,
      {
        arn: topic.arn,
        policy: pulumi
          .all([topic.arn, pulumi.all(Object.values(rules)), identity.accountId])
          .apply(([arn, ruleArns, account]) => JSON.stringify(alarmTopicPolicy(arn, ruleArns, account))),
      },
      opt,
    );
    (args.subscriptions ?? []).forEach((sub, i) => {
      new aws.sns.TopicSubscription(
        `${name}-subscription-${i}`,
        { topic: topic.arn, protocol: sub.protocol, endpoint: sub.endpoint },
        opt,
      );
    });

    const forwarded: Array<[string, pulumi.Input<string>]> = [];
    if (args.trailChanges ?? true) forwarded.push(["trail-change", JSON.stringify(trailChangePattern())]);
    if (guardrailPattern !== undefined) forwarded.push(["organization-guardrail-change", guardrailPattern]);
    if (args.managementProvider && forwarded.length > 0)
      this.forwardManagementEvents(name, args, identity.accountId, forwarded);

    this.topicArn = topic.arn;
    this.topicKeyArn = key.arn;
    this.ruleArns = pulumi.all(rules);
    this.registerOutputs({ topicArn: this.topicArn, topicKeyArn: this.topicKeyArn, ruleArns: this.ruleArns });
  }

  /**
   * The organisation trail and the guardrail policies are changed through the management account: forward those events
   * from its default bus to the forensic account's default bus, where the same patterns alarm.
   */
  private forwardManagementEvents(
    name: string,
    args: IncidentAlarmsArgs,
    forensicAccountId: pulumi.Output<string>,
    patterns: Array<[string, pulumi.Input<string>]>,
  ): void {
    const management = { parent: this, provider: args.managementProvider };
    const region = aws.getRegionOutput({}, { parent: this, provider: args.provider });
    const forensicBusArn = pulumi.interpolate`arn:aws:events:${region.region}:${forensicAccountId}:event-bus/default`;
    new aws.cloudwatch.EventBusPolicy(
      `${name}-admit-management`,
      {
        eventBusName: "default",
        policy: pulumi
          .all([forensicBusArn, args.managementAccountId as pulumi.Input<string>])
          .apply(([busArn, account]) => JSON.stringify(trailChangeBusPolicy(busArn, account))),
      },
      { parent: this, provider: args.provider },
    );
    const role = new aws.iam.Role(
      `${name}-forward`,
      {
        description: "Forwards trail-change events to the forensic account",
        assumeRolePolicy: JSON.stringify(eventForwarderTrust()),
      },
      management,
    );
    new aws.iam.RolePolicy(
      `${name}-forward`,
      {
        role: role.id,
        policy: forensicBusArn.apply((arn) => JSON.stringify(eventForwarderPolicy(arn))),
      },
      management,
    );
    for (const [purpose, eventPattern] of patterns) {
      const rule = new aws.cloudwatch.EventRule(
        `${name}-forward-${purpose}`,
        { description: `Forward ${purpose} events to the forensic account`, eventPattern, state: "ENABLED" },
        management,
      );
      new aws.cloudwatch.EventTarget(
        `${name}-forward-${purpose}`,
        { rule: rule.name, arn: forensicBusArn, roleArn: role.arn },
        management,
      );
    }
  }
}
