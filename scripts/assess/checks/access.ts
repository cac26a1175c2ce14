/**
 * Access on the day (FLZ-ROLE-01..05): the member investigator role actually assumed in every account, the member
 * responder role present and trusting only the forensic responder, the break-glass role with MFA, its alarm, and the
 * SCP that keeps the forensic account's own administrators from silencing that alarm.
 */
import type { AccountFacts, AlarmFacts, ForensicFacts, OrganizationFacts, RuleFacts } from "../facts";
import { deniesAll, exemptedPrincipals, publicAllows, requiresMfa, trusts } from "../policy";
import type { Finding, Read } from "../types";
import { fail, pass, unknown, withRead, type AssessmentSettings } from "./common";
import { effectivePolicies } from "./organization";

/**
 * The least an SCP over the forensic account must deny on the break-glass rule (turn it off, re-point or re-pattern it)
 * and on each topic it publishes to (delete or re-policy the topic, unsubscribe the on-call channel): the core of the
 * landing zone's `flz-protect-alarms` (components/documents/scp-alarms.ts).
 */
export const ALARM_RULE_PROTECTION_MINIMUM = [
  "events:DisableRule",
  "events:DeleteRule",
  "events:PutRule",
  "events:PutTargets",
  "events:RemoveTargets",
];
/** See {@link ALARM_RULE_PROTECTION_MINIMUM}: the topic's share. */
export const ALARM_TOPIC_PROTECTION_MINIMUM = ["sns:DeleteTopic", "sns:SetTopicAttributes"];
/** See {@link ALARM_RULE_PROTECTION_MINIMUM}: the subscriptions' share (`Unsubscribe` names `<topic ARN>:<id>`). */
export const ALARM_SUBSCRIPTION_PROTECTION_MINIMUM = ["sns:Unsubscribe"];

/** Errors that mean "refused" (a gap), as opposed to "could not ask" (unknown). */
const REFUSAL = /AccessDenied|not authorized|NoSuchEntity|InvalidClientTokenId|ExpiredToken|RegionDisabled/i;

/** Whether a read's error is a refusal by AWS rather than a failure to ask. */
export function isRefusal(error: string): boolean {
  return REFUSAL.test(error);
}

/** FLZ-ROLE-01 and -02 for one account. */
export function accountAccessChecks(
  account: string,
  facts: Read<AccountFacts>,
  settings: AssessmentSettings,
): Finding[] {
  const lz = settings.landingZone;
  const where = { account };
  if (!facts.ok) {
    const assumeFailed = `the member investigator role ${lz.memberInvestigatorRoleName} could not be assumed`;
    return [
      isRefusal(facts.error)
        ? fail("FLZ-ROLE-01", where, `${assumeFailed}: ${facts.error}`, [
            `AssumeRole ${lz.memberInvestigatorRoleName}: ${facts.error}`,
          ])
        : unknown("FLZ-ROLE-01", where, facts.error, assumeFailed),
      unknown("FLZ-ROLE-02", where, facts.error, "not read (no session in the account)"),
    ];
  }
  const out: Finding[] = [];
  out.push(
    ...withRead(facts.value.identity, ["FLZ-ROLE-01"], where, (arn) => {
      const ev = [`AssumeRole: ${arn}`];
      const expected = `:assumed-role/${lz.memberInvestigatorRoleName}/`;
      return [
        arn.split(":")[4] === account && arn.includes(expected)
          ? pass("FLZ-ROLE-01", where, "assumed", ev)
          : fail("FLZ-ROLE-01", where, `the session is ${arn}, not the member investigator role of ${account}`, ev),
      ];
    }),
  );
  out.push(
    ...withRead(facts.value.responderRole, ["FLZ-ROLE-02"], where, (role) => {
      if (role === null)
        return [
          fail("FLZ-ROLE-02", where, `the member responder role ${lz.memberResponderRoleName} does not exist`, [
            `GetRole ${lz.memberResponderRoleName}: NoSuchEntity`,
          ]),
        ];
      const ev = [`GetRole: ${role.arn} trust ${role.trust.length} characters`];
      const problems: string[] = [];
      if (!trusts(role.trust, lz.forensicResponderRoleArn))
        problems.push(`does not trust ${lz.forensicResponderRoleArn}`);
      if (publicAllows(role.trust).length > 0) problems.push('trusts "*" without a restricting condition');
      return [
        problems.length === 0
          ? pass("FLZ-ROLE-02", where, "present, trusted by the forensic responder role", ev)
          : fail("FLZ-ROLE-02", where, `the member responder role ${problems.join(" and ")}`, ev),
      ];
    }),
  );
  return out;
}

/** Whether a rule fires on assuming `roleArn`: an AssumeRole pattern on STS, unfiltered or naming the role. */
export function ruleWatchesAssumeRole(rule: RuleFacts, roleArn: string): boolean {
  if (rule.state !== "ENABLED" || rule.pattern === undefined) return false;
  let pattern: { source?: unknown; detail?: { eventName?: unknown; requestParameters?: { roleArn?: unknown } } };
  try {
    pattern = JSON.parse(rule.pattern) as typeof pattern;
  } catch {
    return false;
  }
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
  const sources = list(pattern.source);
  const names = list(pattern.detail?.eventName);
  const roles = list(pattern.detail?.requestParameters?.roleArn);
  return (
    sources.includes("aws.sts") &&
    (names.length === 0 || names.includes("AssumeRole")) &&
    (roles.length === 0 || roles.includes(roleArn))
  );
}

function alarm(alarms: AlarmFacts, roleArn: string, where: { account: string; region: string }): Finding[] {
  return withRead(alarms.rules, ["FLZ-ROLE-04"], where, (rules) => {
    const watching = rules.filter((r) => ruleWatchesAssumeRole(r, roleArn) && r.targets.length > 0);
    const ev = [
      `ListRules: ${rules.length} rule(s); watching break-glass: ${watching.map((r) => r.name).join(", ") || "none"}`,
    ];
    if (watching.length === 0)
      return [
        fail("FLZ-ROLE-04", where, "no enabled rule with a target fires when the break-glass role is assumed", ev),
      ];
    return withRead(alarms.subscriptions, ["FLZ-ROLE-04"], where, (subscriptions) => {
      const targets = watching.flatMap((r) => r.targets);
      // A non-SNS target (Lambda, SQS, another bus) delivers somewhere by itself; an SNS topic needs a subscriber.
      const heard = targets.some((t) => !t.startsWith("arn:aws:sns:") || (subscriptions[t] ?? 0) > 0);
      const subEv = [
        ...ev,
        `ListSubscriptionsByTopic: ${
          Object.entries(subscriptions)
            .map(([t, n]) => `${t}=${n}`)
            .join(" ") || "no topics"
        }`,
      ];
      return [
        heard
          ? pass("FLZ-ROLE-04", where, `rule ${watching[0].name} alarms and someone is subscribed`, subEv)
          : fail("FLZ-ROLE-04", where, "the break-glass rule publishes to a topic nobody is subscribed to", subEv),
      ];
    });
  });
}

/**
 * FLZ-ROLE-05: every rule that alarms on the break-glass role, and every topic it publishes to, protected by an SCP in
 * force over the forensic account. Nothing to protect (no such rule: FLZ-ROLE-04 fails) gives no finding.
 */
function alarmProtection(
  alarms: AlarmFacts,
  org: Read<OrganizationFacts>,
  roleArn: string,
  settings: AssessmentSettings,
): Finding[] {
  const lz = settings.landingZone;
  const where = { account: lz.forensicAccountId, region: lz.homeRegion };
  return withRead(alarms.rules, ["FLZ-ROLE-05"], where, (rules) => {
    const watching = rules.filter((r) => ruleWatchesAssumeRole(r, roleArn) && r.targets.length > 0);
    if (watching.length === 0) return [];
    const scps = effectivePolicies(org, lz.forensicAccountId, "SERVICE_CONTROL_POLICY");
    if (!scps.ok) return [unknown("FLZ-ROLE-05", where, scps.error)];
    const ruleArn = (name: string) => `arn:aws:events:${lz.homeRegion}:${lz.forensicAccountId}:rule/${name}`;
    const open: string[] = [];
    for (const rule of watching) {
      if (!deniesAll(scps.value, ALARM_RULE_PROTECTION_MINIMUM, ruleArn(rule.name), lz.forensicAccountId))
        open.push(`rule ${rule.name}`);
      for (const topic of rule.targets.filter((t) => t.startsWith("arn:aws:sns:"))) {
        const subscription = `${topic}:00000000-0000-0000-0000-000000000000`;
        const protectedTopic =
          deniesAll(scps.value, ALARM_TOPIC_PROTECTION_MINIMUM, topic, lz.forensicAccountId) &&
          deniesAll(scps.value, ALARM_SUBSCRIPTION_PROTECTION_MINIMUM, subscription, lz.forensicAccountId);
        if (!protectedTopic) open.push(`topic ${topic}`);
      }
    }
    const exempted = watching.flatMap((rule) =>
      exemptedPrincipals(scps.value, ALARM_RULE_PROTECTION_MINIMUM, ruleArn(rule.name)),
    );
    const ev = [
      `SCPs in force over ${lz.forensicAccountId}: ${scps.value.length}`,
      `break-glass rules: ${watching.map((r) => r.name).join(", ")}`,
      `exempted from the rule's protection: ${[...new Set(exempted)].join(", ") || "nobody"}`,
    ];
    return [
      open.length === 0
        ? pass(
            "FLZ-ROLE-05",
            where,
            "an SCP in force denies changing, disabling or deleting the alarm's rule and topic",
            ev,
          )
        : fail(
            "FLZ-ROLE-05",
            where,
            `no SCP in force over the forensic account keeps its administrators from silencing ${open.join(" and ")}`,
            ev,
          ),
    ];
  });
}

/** FLZ-ROLE-03, -04 and -05 (forensic account). */
export function breakGlassChecks(
  forensic: ForensicFacts,
  org: Read<OrganizationFacts>,
  settings: AssessmentSettings,
): Finding[] {
  const lz = settings.landingZone;
  const roleArn = `arn:aws:iam::${lz.forensicAccountId}:role/${settings.breakGlassRoleName}`;
  const where = { account: lz.forensicAccountId, resource: roleArn };
  const out = withRead(forensic.breakGlass, ["FLZ-ROLE-03"], where, (role) => {
    if (role === null)
      return [
        fail("FLZ-ROLE-03", where, `the break-glass role ${settings.breakGlassRoleName} does not exist`, [
          `GetRole ${settings.breakGlassRoleName}: NoSuchEntity`,
        ]),
      ];
    const ev = [`GetRole: ${role.arn}`];
    return [
      requiresMfa(role.trust)
        ? pass("FLZ-ROLE-03", where, "present, MFA required to assume it", ev)
        : fail("FLZ-ROLE-03", where, "the break-glass role can be assumed without MFA", ev),
    ];
  });
  out.push(...alarm(forensic.alarms, roleArn, { account: lz.forensicAccountId, region: lz.homeRegion }));
  out.push(...alarmProtection(forensic.alarms, org, roleArn, settings));
  return out;
}
