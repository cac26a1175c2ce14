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
  guardDutyFindingPattern,
  trailChangeBusPolicy,
  trailChangePattern,
} from "./documents/alarms";

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
    if (args.managementProvider && args.managementAccountId === undefined) {
      throw new Error(
        `IncidentAlarms "${name}": managementProvider needs managementAccountId, for the event bus policy that admits its events`,
      );
    }
    const opt = { parent: this, provider: args.provider };
    const identity = aws.getCallerIdentityOutput({}, { parent: this, provider: args.provider });

    const key = new aws.kms.Key(
      `${name}-topic`,
      {
        description: "Forensic landing zone alarm topic",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: identity.accountId.apply((account) => JSON.stringify(alarmKeyPolicy(account))),
      },
      opt,
    );
    const topic = new aws.sns.Topic(
      `${name}-topic`,
      { name: `${name}-incident-alarms`, kmsMasterKeyId: key.arn, displayName: "Forensic landing zone alarms" },
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

    const rules: Record<string, pulumi.Output<string>> = {};
    for (const [purpose, eventPattern, description] of patterns) {
      const rule = new aws.cloudwatch.EventRule(
        `${name}-${purpose}`,
        { description, eventPattern, state: "ENABLED" },
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

    if (args.managementProvider && (args.trailChanges ?? true))
      this.forwardTrailChanges(name, args, identity.accountId);

    this.topicArn = topic.arn;
    this.topicKeyArn = key.arn;
    this.ruleArns = pulumi.all(rules);
    this.registerOutputs({ topicArn: this.topicArn, topicKeyArn: this.topicKeyArn, ruleArns: this.ruleArns });
  }

  /**
   * The organisation trail is changed through the management account: forward those events from its default bus to
   * the forensic account's default bus, where the trail-change rule matches them.
   */
  private forwardTrailChanges(name: string, args: IncidentAlarmsArgs, forensicAccountId: pulumi.Output<string>): void {
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
    const rule = new aws.cloudwatch.EventRule(
      `${name}-forward-trail-change`,
      {
        description: "Forward trail changes to the forensic account",
        eventPattern: JSON.stringify(trailChangePattern()),
        state: "ENABLED",
      },
      management,
    );
    new aws.cloudwatch.EventTarget(
      `${name}-forward-trail-change`,
      { rule: rule.name, arn: forensicBusArn, roleArn: role.arn },
      management,
    );
  }
}
