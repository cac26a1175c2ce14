/**
 * Organisation guardrails (FLZ-ORG-01..06): SCPs over every account that protect the trail and the forensic roles,
 * an RCP over the forensic account, the quarantine delegation that session revocation needs, trusted access, and an
 * SCP that keeps the detection administrator's own administrators from silencing GuardDuty.
 */
import { GUARDDUTY_SILENCING_ACTIONS, guardDutyResourceOf } from "../../../components/documents/scp-alarms";
import type { OrganizationFacts } from "../facts";
import { awsPrincipals, deniesAll, statementsOf } from "../policy";
import { coversAction } from "../../../policies/lib/documents";
import type { Finding, Read } from "../types";
import { exemptedEvidence, fail, pass, unknown, withRead, type AssessmentSettings } from "./common";

/** The least a trail guardrail must deny (the policy pack's `scp-protects-organization-trail` default). */
export const TRAIL_PROTECTION_MINIMUM = [
  "cloudtrail:StopLogging",
  "cloudtrail:DeleteTrail",
  "cloudtrail:UpdateTrail",
  "cloudtrail:PutEventSelectors",
];

/** The least a role guardrail must deny on the member roles (the pack's `scp-protects-forensic-roles` core). */
export const ROLE_PROTECTION_MINIMUM = [
  "iam:DeleteRole",
  "iam:UpdateAssumeRolePolicy",
  "iam:PutRolePolicy",
  "iam:AttachRolePolicy",
];

/** Service principals whose trusted access the landing zone needs. */
export const REQUIRED_SERVICE_ACCESS = [
  "cloudtrail.amazonaws.com",
  "member.org.stacksets.cloudformation.amazonaws.com",
  "guardduty.amazonaws.com",
  "securityhub.amazonaws.com",
  "detective.amazonaws.com",
];

/** Organizations calls the quarantine delegation must allow the forensic account (decision 3 of the plan). */
export const QUARANTINE_DELEGATION_ACTIONS = ["organizations:CreatePolicy", "organizations:AttachPolicy"];

/**
 * The policy documents of a type in force over an account: those attached to the account, to each OU above it and
 * to the root.
 */
export function effectivePolicies(org: Read<OrganizationFacts>, account: string, type: string): Read<string[]> {
  if (!org.ok) return org;
  const { ancestry, policies } = org.value;
  if (!ancestry.ok) return ancestry;
  if (!policies.ok) return policies;
  const path = ancestry.value[account];
  if (path === undefined) return { ok: false, error: `account ${account} is not in the organisation's account list` };
  const targets = new Set([account, ...path]);
  return {
    ok: true,
    value: policies.value.filter((p) => p.type === type && p.targets.some((t) => targets.has(t))).map((p) => p.content),
  };
}

/** FLZ-ORG-01 and -02 for one account. */
export function accountGuardrailChecks(
  org: Read<OrganizationFacts>,
  account: string,
  settings: AssessmentSettings,
): Finding[] {
  const lz = settings.landingZone;
  const where = { account };
  if (org.ok && org.value.managementAccountId.ok && org.value.managementAccountId.value === account) {
    // SCPs never apply to the management account (AWS Organizations): there is nothing to attach; docs/assess.md.
    return [];
  }
  const scps = effectivePolicies(org, account, "SERVICE_CONTROL_POLICY");
  if (!scps.ok) return ["FLZ-ORG-01", "FLZ-ORG-02"].map((c) => unknown(c, where, scps.error));
  const count = `SCPs in force over ${account}: ${scps.value.length}`;
  const role = `arn:aws:iam::${account}:role/${lz.memberResponderRoleName}`;
  // Who the denies leave free to act is what a reader weighs next (the deployment role, by design; anyone else is a gap).
  const trailEv = [count, exemptedEvidence(scps.value, TRAIL_PROTECTION_MINIMUM, lz.trailArn)];
  const roleEv = [count, exemptedEvidence(scps.value, ROLE_PROTECTION_MINIMUM, role)];
  return [
    deniesAll(scps.value, TRAIL_PROTECTION_MINIMUM, lz.trailArn, account)
      ? pass("FLZ-ORG-01", where, "an SCP in force denies stopping or changing the organisation trail", trailEv)
      : fail(
          "FLZ-ORG-01",
          where,
          "no SCP in force denies StopLogging, DeleteTrail, UpdateTrail and PutEventSelectors on the organisation trail",
          trailEv,
        ),
    deniesAll(scps.value, ROLE_PROTECTION_MINIMUM, role, account)
      ? pass("FLZ-ORG-02", where, "an SCP in force denies changing or deleting the member responder role", roleEv)
      : fail(
          "FLZ-ORG-02",
          where,
          `no SCP in force denies ${ROLE_PROTECTION_MINIMUM.join(", ")} on ${lz.memberResponderRoleName}`,
          roleEv,
        ),
  ];
}

/** Whether a resource policy lets `account` make and attach policies (the quarantine delegation). */
export function delegatesQuarantine(policy: string, account: string): boolean {
  const allows = (statementsOf(policy) ?? []).filter(
    (s) =>
      s.effect === "Allow" &&
      awsPrincipals(s).some(
        (p) => p === account || p === `arn:aws:iam::${account}:root` || p.split(":")[4] === account,
      ),
  );
  return QUARANTINE_DELEGATION_ACTIONS.every((a) => allows.some((s) => coversAction(s, a)));
}

/** Any detector ID: an SCP names detectors by pattern, and the check evaluates the SCP, not the detector. */
const PROBE_DETECTOR_ID = "00000000000000000000000000000000";

/**
 * FLZ-ORG-06: every GuardDuty call that keeps findings from being generated or from reaching an alarm is denied, by the
 * SCPs in force over the detection administrator, to that account's administrators, each call on the resource AWS
 * authorizes it on.
 */
function guardDutySilencingCheck(org: OrganizationFacts, settings: AssessmentSettings): Finding {
  const admin = settings.detectionAdminAccountId;
  const where = { account: admin };
  if (org.managementAccountId.ok && org.managementAccountId.value === admin)
    return fail(
      "FLZ-ORG-06",
      where,
      "the detection administrator is the management account, which no SCP binds: delegate GuardDuty to the forensic account",
      [`detection administrator: ${admin} (the management account)`],
    );
  const scps = effectivePolicies({ ok: true, value: org }, admin, "SERVICE_CONTROL_POLICY");
  if (!scps.ok) return unknown("FLZ-ORG-06", where, scps.error, "the service control policies could not be read");
  const region = settings.landingZone.homeRegion;
  const probe = (action: string) => guardDutyResourceOf(action, admin, region, PROBE_DETECTOR_ID);
  const open = GUARDDUTY_SILENCING_ACTIONS.filter((action) => !deniesAll(scps.value, [action], probe(action), admin));
  const ev = [
    `SCPs in force over ${admin}: ${scps.value.length}`,
    exemptedEvidence(scps.value, GUARDDUTY_SILENCING_ACTIONS, probe),
  ];
  return open.length === 0
    ? pass("FLZ-ORG-06", where, "an SCP in force denies suppressing GuardDuty's findings and turning it off", ev)
    : fail("FLZ-ORG-06", where, `no SCP in force denies ${open.join(", ")} to the account's administrators`, ev);
}

/** FLZ-ORG-03..06. */
export function organizationChecks(org: Read<OrganizationFacts>, settings: AssessmentSettings): Finding[] {
  const lz = settings.landingZone;
  if (!org.ok) return ["FLZ-ORG-03", "FLZ-ORG-04", "FLZ-ORG-05", "FLZ-ORG-06"].map((c) => unknown(c, {}, org.error));
  const out: Finding[] = [];
  const rcps = effectivePolicies(org, lz.forensicAccountId, "RESOURCE_CONTROL_POLICY");
  if (!rcps.ok) out.push(unknown("FLZ-ORG-03", { account: lz.forensicAccountId }, rcps.error));
  else {
    // RCPFullAWSAccess (AWS-managed, attached everywhere once RCPs are enabled) restricts nothing.
    const own = org.value.policies.ok
      ? org.value.policies.value.filter(
          (p) => p.type === "RESOURCE_CONTROL_POLICY" && !p.awsManaged && rcps.value.includes(p.content),
        )
      : [];
    const ev = [
      `RCPs in force over ${lz.forensicAccountId}: ${own.map((p) => p.name).join(", ") || "none of its own"}`,
    ];
    out.push(
      own.length > 0
        ? pass("FLZ-ORG-03", { account: lz.forensicAccountId }, `resource control policy ${own[0].name} in force`, ev)
        : fail(
            "FLZ-ORG-03",
            { account: lz.forensicAccountId },
            "no resource control policy of the organisation's own is in force over the forensic account",
            ev,
          ),
    );
  }
  out.push(
    ...withRead(org.value.resourcePolicy, ["FLZ-ORG-04"], {}, (policy) => {
      if (policy === null)
        return [
          fail(
            "FLZ-ORG-04",
            {},
            "Organizations has no resource policy: the forensic account cannot write quarantine SCPs",
            ["DescribeResourcePolicy: none"],
          ),
        ];
      const ev = [`DescribeResourcePolicy: ${policy.length} characters`];
      return [
        delegatesQuarantine(policy, lz.forensicAccountId)
          ? pass("FLZ-ORG-04", {}, "the forensic account may create and attach (quarantine) policies", ev)
          : fail(
              "FLZ-ORG-04",
              {},
              `the resource policy does not let ${lz.forensicAccountId} create and attach policies`,
              ev,
            ),
      ];
    }),
  );
  out.push(
    ...withRead(org.value.serviceAccess, ["FLZ-ORG-05"], {}, (enabled) => {
      const missing = REQUIRED_SERVICE_ACCESS.filter((p) => !enabled.includes(p));
      const ev = [`ListAWSServiceAccessForOrganization: ${enabled.join(", ") || "none"}`];
      return [
        missing.length === 0
          ? pass("FLZ-ORG-05", {}, "trusted access enabled for every service the landing zone needs", ev)
          : fail("FLZ-ORG-05", {}, `no trusted access for ${missing.join(", ")}`, ev),
      ];
    }),
  );
  out.push(guardDutySilencingCheck(org.value, settings));
  return out;
}
