/**
 * Checks of the forensic keys (FLZ-KEY-01..04): present and enabled (an evidence key in every governed region),
 * rotating, protected from deletion by state and by SCP, and used and administered only by named principals.
 */
import type { ForensicFacts, KeyFacts, OrganizationFacts } from "../facts";
import { deniesAll, principalsAllowed, publicAllows } from "../policy";
import type { Finding, Read } from "../types";
import { exemptedEvidence, fail, pass, unknown, withRead, type AssessmentSettings } from "./common";
import { effectivePolicies } from "./organization";

/** The key checks. */
export const KEY_CHECKS = ["FLZ-KEY-01", "FLZ-KEY-02", "FLZ-KEY-03", "FLZ-KEY-04"];

/** The least an SCP must deny on a forensic key: the two calls that make its ciphertext unreadable. */
export const KEY_DESTRUCTION_MINIMUM = ["kms:ScheduleKeyDeletion", "kms:DisableKey"];

/** Actions that administer a key (change who may use it, or end it). */
const KEY_ADMIN_ACTIONS = ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"];

function present(key: KeyFacts, settings: AssessmentSettings): Finding[] {
  const where = { account: settings.landingZone.forensicAccountId, region: key.region, resource: key.arn };
  return withRead(key.metadata, ["FLZ-KEY-01", "FLZ-KEY-02"], where, (m) => {
    const ev = [`DescribeKey: ${key.arn} KeyState=${m.state} KeyManager=${m.manager} KeySpec=${m.spec}`];
    const out: Finding[] = [
      m.state === "Enabled"
        ? pass("FLZ-KEY-01", where, `${key.purpose} key enabled`, ev)
        : fail("FLZ-KEY-01", where, `${key.purpose} key is ${m.state}`, ev),
    ];
    if (m.state === "NotFound") return out;
    out.push(
      ...withRead(key.rotation, ["FLZ-KEY-02"], where, (rotating) =>
        rotating === null
          ? []
          : [
              rotating
                ? pass("FLZ-KEY-02", where, "automatic rotation on", [
                    `GetKeyRotationStatus: ${key.arn} KeyRotationEnabled=true`,
                  ])
                : fail("FLZ-KEY-02", where, "automatic rotation is off", [
                    `GetKeyRotationStatus: ${key.arn} KeyRotationEnabled=false`,
                  ]),
            ],
      ),
    );
    return out;
  });
}

function protectedFromDeletion(key: KeyFacts, scps: Read<string[]>, settings: AssessmentSettings): Finding {
  const where = { account: settings.landingZone.forensicAccountId, region: key.region, resource: key.arn };
  if (!key.metadata.ok) return unknown("FLZ-KEY-03", where, key.metadata.error);
  if (key.metadata.value.state === "NotFound") return fail("FLZ-KEY-03", where, "the key does not exist", []);
  if (key.metadata.value.state === "PendingDeletion")
    return fail("FLZ-KEY-03", where, "the key is scheduled for deletion", [`DescribeKey: KeyState=PendingDeletion`]);
  if (!scps.ok) return unknown("FLZ-KEY-03", where, scps.error, "the service control policies could not be read");
  const ev = [
    `SCPs over the forensic account: ${scps.value.length}`,
    exemptedEvidence(scps.value, KEY_DESTRUCTION_MINIMUM, key.arn),
  ];
  return deniesAll(scps.value, KEY_DESTRUCTION_MINIMUM, key.arn, settings.landingZone.forensicAccountId)
    ? pass("FLZ-KEY-03", where, "an SCP denies ScheduleKeyDeletion and DisableKey on it", ev)
    : fail("FLZ-KEY-03", where, "no SCP over the forensic account denies ScheduleKeyDeletion and DisableKey on it", ev);
}

function namedPrincipals(key: KeyFacts, settings: AssessmentSettings): Finding[] {
  const lz = settings.landingZone;
  const where = { account: lz.forensicAccountId, region: key.region, resource: key.arn };
  return withRead(key.policy, ["FLZ-KEY-04"], where, (policy) => {
    const useAction = key.purpose === "signing" ? "kms:Sign" : "kms:Decrypt";
    const users = principalsAllowed(policy, useAction);
    const admins = [...new Set(KEY_ADMIN_ACTIONS.flatMap((a) => principalsAllowed(policy, a)))];
    const ev = [`GetKeyPolicy: ${key.arn} ${useAction}: [${users.join(", ")}] administer: [${admins.join(", ")}]`];
    const problems: string[] = [];
    const open = publicAllows(policy);
    if (open.length > 0)
      problems.push(
        `"*" is allowed without a restricting condition (${open.map((s) => s.sid ?? "no Sid").join(", ")})`,
      );
    const outsiders = admins.filter((p) => (/^\d{12}$/.test(p) ? p : p.split(":")[4]) !== lz.forensicAccountId);
    if (outsiders.length > 0) problems.push(`administered from outside the forensic account: ${outsiders.join(", ")}`);
    if (key.purpose === "signing") {
      const signers = users.filter(
        (p) => p !== lz.forensicResponderRoleArn && p !== `arn:aws:iam::${lz.forensicAccountId}:root`,
      );
      if (signers.length > 0) problems.push(`kms:Sign allowed beyond the forensic responder: ${signers.join(", ")}`);
    }
    return [
      problems.length === 0
        ? pass("FLZ-KEY-04", where, "use and administration limited to named principals", ev)
        : fail("FLZ-KEY-04", where, problems.join("; "), ev),
    ];
  });
}

/** FLZ-KEY-01..04 over every forensic key. */
export function keyChecks(
  forensic: ForensicFacts,
  org: Read<OrganizationFacts>,
  settings: AssessmentSettings,
): Finding[] {
  const scps = effectivePolicies(org, settings.landingZone.forensicAccountId, "SERVICE_CONTROL_POLICY");
  return forensic.keys.flatMap((key) => [
    ...present(key, settings),
    protectedFromDeletion(key, scps, settings),
    ...namedPrincipals(key, settings),
  ]);
}
