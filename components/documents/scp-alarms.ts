/**
 * The guardrail statements of the incident alarms (`IncidentAlarms`, in the forensic account): who may silence them.
 *
 * Adversary A2 of docs/threat-model.md (an administrator or the root user of the forensic account) would silence the
 * alarms before acting on anything else: disable or delete a rule, re-point its targets or narrow its pattern, delete
 * the topic or change its policy or key, unsubscribe the on-call channel or give its subscription a filter that matches
 * nothing, or disable the topic's key (SNS then cannot encrypt a single alarm). EventBridge rules have no resource
 * policy, the topic policy lets the account manage the topic, and the key policy lets the account administer the key,
 * so only an SCP can refuse these calls. They are denied to every principal of the forensic account but the deployment
 * role, which creates and changes the alarms.
 *
 * The GuardDuty alarm has one more way to be silenced: at its source. The forensic account is GuardDuty's delegated
 * administrator, so A2 can suppress findings (a filter with the `ARCHIVE` action: suppressed findings never reach
 * EventBridge), trust an address or entity (no finding is generated for it), or turn detection off (delete or disable
 * the detector or its features, take members out of it, stop auto-enabling new accounts). Several of these calls have
 * no resource type, so the statement names `*`: it binds the forensic account alone, where GuardDuty's settings are
 * the deployment's to change. Archiving findings and reading them stay open: responders need both, and the alarm for a
 * finding has fired by the time anyone can archive it.
 *
 * The resources are named by prefix: every alarm rule and topic of the stack is named `<prefix><region>-…`
 * (`IncidentAlarms` names them from its own name, `<landing zone>-alarms-<region>`), and the topic's key carries the
 * purpose tag {@link ALARM_KEY_PURPOSE}, which `flz-protect-forensics` already freezes (`FlzProtectForensicKeyTag`).
 */
import { KEY_DESTRUCTION_ACTIONS } from "./scp";
import { ALARM_KEY_PURPOSE, PURPOSE_TAG_KEY } from "./keys";
import { document, exceptPrincipals, requireRoleArn } from "./scp-statements";
import type { PolicyDocument } from "./types";

/** Calls that silence an alarm rule or topic (see the module comment). */
export const ALARM_SILENCING_ACTIONS: readonly string[] = [
  "events:DeleteRule",
  "events:DisableRule",
  "events:PutRule",
  "events:PutTargets",
  "events:RemoveTargets",
  "sns:DeleteTopic",
  "sns:SetTopicAttributes",
  "sns:AddPermission",
  "sns:RemovePermission",
  "sns:PutDataProtectionPolicy",
  "sns:Unsubscribe",
  "sns:SetSubscriptionAttributes",
];

/** Calls of GuardDuty's administrator account that keep findings from being generated or from reaching the alarm. */
export const GUARDDUTY_SILENCING_ACTIONS: readonly string[] = [
  "guardduty:CreateFilter",
  "guardduty:UpdateFilter",
  "guardduty:CreateIPSet",
  "guardduty:UpdateIPSet",
  "guardduty:CreateTrustedEntitySet",
  "guardduty:UpdateTrustedEntitySet",
  "guardduty:DeleteDetector",
  "guardduty:UpdateDetector",
  "guardduty:UpdateMemberDetectors",
  "guardduty:DisassociateMembers",
  "guardduty:DeleteMembers",
  "guardduty:StopMonitoringMembers",
  "guardduty:UpdateOrganizationConfiguration",
];

/**
 * The resource a GuardDuty silencing call is authorized on, by the service authorization reference: a filter, an IP
 * set, a trusted entity set or the detector, or `*` for the calls that have no resource type. What a reader of an SCP
 * must evaluate each action against (`flz assess` and the adversary tests do).
 *
 * @param action - one of {@link GUARDDUTY_SILENCING_ACTIONS}.
 * @param account - the GuardDuty administrator account.
 * @param region - the detector's region.
 * @param detectorId - the detector's ID (any 32 hex digits will do for evaluating an SCP).
 */
export function guardDutyResourceOf(action: string, account: string, region: string, detectorId: string): string {
  const detector = `arn:aws:guardduty:${region}:${account}:detector/${detectorId}`;
  if (action === "guardduty:CreateFilter" || action === "guardduty:UpdateFilter") return `${detector}/filter/probe`;
  if (action === "guardduty:UpdateIPSet") return `${detector}/ipset/probe`;
  if (action === "guardduty:UpdateTrustedEntitySet") return `${detector}/trustedentityset/probe`;
  if (action === "guardduty:DeleteDetector" || action === "guardduty:UpdateDetector") return detector;
  return "*";
}

/** Arguments of {@link protectAlarmsScp}. */
export interface ProtectAlarmsScpArgs {
  /** The prefix of every alarm rule's and topic's name (`<landing zone>-alarms-`). */
  readonly namePrefix: string;
  /** ARN of the role the deployment acts as: the only principal that may still change the alarms. */
  readonly deploymentRoleArn: string;
}

/**
 * The ARN patterns of the alarm rules and topics (subscriptions included: `<topic ARN>:<id>`) of one prefix, in any
 * account: the SCP is attached to the forensic account alone, and naming no account keeps its text known at a first
 * `pulumi preview` that creates the forensic account (the policy pack can then read it).
 */
export function alarmResourcePatterns(namePrefix: string): string[] {
  return [`arn:aws:events:*:*:rule/${namePrefix}*`, `arn:aws:sns:*:*:${namePrefix}*`];
}

/**
 * Denies silencing the alarms (rules, topics, subscriptions), disabling, deleting or re-policing the topics' keys, and
 * silencing GuardDuty at its source, to everyone but the deployment role. `GuardrailPolicies` attaches it to the
 * forensic account (`flz-protect-alarms`), where it binds every principal, the root user included.
 */
export function protectAlarmsScp(args: ProtectAlarmsScpArgs): PolicyDocument {
  // EventBridge rule names: letters, digits, `.`, `-` and `_` (IncidentAlarms checks each whole name's length).
  if (!/^[A-Za-z0-9._-]{1,63}$/.test(args.namePrefix))
    throw new Error(`alarm name prefix "${args.namePrefix}" is not 1 to 63 letters, digits, ".", "-" or "_"`);
  const deployment = requireRoleArn(args.deploymentRoleArn, "deploymentRoleArn");
  return document([
    {
      Sid: "FlzProtectAlarms",
      Effect: "Deny",
      Action: [...ALARM_SILENCING_ACTIONS],
      Resource: alarmResourcePatterns(args.namePrefix),
      Condition: exceptPrincipals([deployment]),
    },
    {
      Sid: "FlzProtectAlarmKeys",
      Effect: "Deny",
      Action: [...KEY_DESTRUCTION_ACTIONS],
      Resource: "arn:aws:kms:*:*:key/*",
      Condition: {
        StringEquals: { [`aws:ResourceTag/${PURPOSE_TAG_KEY}`]: ALARM_KEY_PURPOSE },
        ...exceptPrincipals([deployment]),
      },
    },
    {
      Sid: "FlzProtectGuardDutyFindings",
      Effect: "Deny",
      Action: [...GUARDDUTY_SILENCING_ACTIONS],
      Resource: "*",
      Condition: exceptPrincipals([deployment]),
    },
  ]);
}
