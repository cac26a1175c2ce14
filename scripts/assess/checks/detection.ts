/**
 * Detection per account and region (FLZ-DET-01..05): GuardDuty enabled, delegated to the detection administrator
 * with the account a member, its S3 and malware protection on, Security Hub on, and a Detective graph covering it.
 */
import type { OrganizationFacts, RegionFacts } from "../facts";
import type { Finding, Read } from "../types";
import { fail, pass, unknown, withRead, type AssessmentSettings } from "./common";

/** GuardDuty protection plans the compromised-instance and leaked-key scenarios rely on. */
export const REQUIRED_GUARDDUTY_FEATURES = ["S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION"];

/** FLZ-DET-01..05 for one account and region. */
export function detectionChecks(
  account: string,
  region: string,
  facts: RegionFacts,
  org: Read<OrganizationFacts>,
  settings: AssessmentSettings,
): Finding[] {
  const where = { account, region };
  const admin = settings.detectionAdminAccountId;
  const out: Finding[] = [];
  out.push(
    ...withRead(facts.guardDuty, ["FLZ-DET-01", "FLZ-DET-02", "FLZ-DET-03"], where, (gd) => {
      if (gd === null) {
        const ev = ["ListDetectors: none"];
        return [
          fail("FLZ-DET-01", where, "no GuardDuty detector", ev),
          fail("FLZ-DET-02", where, "no GuardDuty detector to delegate", ev),
          fail("FLZ-DET-03", where, "no GuardDuty detector", ev),
        ];
      }
      const ev = [
        `GetDetector: ${gd.detectorId} Status=${gd.status} ${Object.entries(gd.features)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ")}`,
      ];
      const result: Finding[] = [
        gd.status === "ENABLED"
          ? pass("FLZ-DET-01", where, "GuardDuty enabled", ev)
          : fail("FLZ-DET-01", where, `GuardDuty detector is ${gd.status}`, ev),
      ];
      const delegated: Read<string[]> = org.ok
        ? org.value.delegatedAdministrators.ok
          ? { ok: true, value: org.value.delegatedAdministrators.value["guardduty.amazonaws.com"] ?? [] }
          : org.value.delegatedAdministrators
        : org;
      if (!delegated.ok)
        result.push(unknown("FLZ-DET-02", where, delegated.error, "the delegated administrators could not be read"));
      else {
        const adminEv = [
          ...ev,
          `GetAdministratorAccount: ${gd.administrator ?? "none"}`,
          `ListDelegatedAdministrators(guardduty): ${delegated.value.join(", ") || "none"}`,
        ];
        const problems: string[] = [];
        if (!delegated.value.includes(admin)) problems.push(`GuardDuty is not delegated to ${admin}`);
        if (account !== admin && gd.administrator !== admin)
          problems.push(`the account's administrator is ${gd.administrator ?? "none"}, not ${admin}`);
        result.push(
          problems.length === 0
            ? pass("FLZ-DET-02", where, `delegated to ${admin}`, adminEv)
            : fail("FLZ-DET-02", where, problems.join("; "), adminEv),
        );
      }
      const off = REQUIRED_GUARDDUTY_FEATURES.filter((f) => gd.features[f] !== "ENABLED");
      result.push(
        off.length === 0
          ? pass("FLZ-DET-03", where, "S3 protection and EBS malware protection on", ev)
          : fail("FLZ-DET-03", where, `off: ${off.join(", ")}`, ev),
      );
      return result;
    }),
  );
  out.push(
    ...withRead(facts.securityHub, ["FLZ-DET-04"], where, (hub) => {
      const ev = [
        `DescribeHub: ${hub.enabled ? "subscribed" : "not subscribed"}${hub.administrator ? ` administrator ${hub.administrator}` : ""}`,
      ];
      return [
        hub.enabled
          ? pass("FLZ-DET-04", where, "Security Hub enabled", ev)
          : fail("FLZ-DET-04", where, "Security Hub is not enabled", ev),
      ];
    }),
  );
  out.push(
    ...withRead(facts.detective, ["FLZ-DET-05"], where, (d) => {
      const ev = [`ListGraphs: ${d.graphs.length}`, `ListInvitations (ENABLED): ${d.memberships.length}`];
      return [
        d.graphs.length + d.memberships.length > 0
          ? pass("FLZ-DET-05", where, "in a Detective behaviour graph", ev)
          : fail("FLZ-DET-05", where, "in no Detective behaviour graph", ev),
      ];
    }),
  );
  return out;
}
