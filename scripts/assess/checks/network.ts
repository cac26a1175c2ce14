/**
 * Network evidence per account and region (FLZ-NET-01, FLZ-NET-02, FLZ-RET-01): flow logs and DNS query logs on
 * every VPC, and CloudWatch Logs groups that keep them as long as the required retention.
 */
import type { RegionFacts } from "../facts";
import type { Finding } from "../types";
import { both, fail, pass, withRead, type AssessmentSettings } from "./common";

/** The log group name in a CloudWatch Logs ARN (`arn:aws:logs:r:a:log-group:NAME[:*]`), or the value itself. */
export function logGroupName(arnOrName: string): string {
  const m = /:log-group:([^:]+)/.exec(arnOrName);
  return m ? m[1] : arnOrName;
}

/** FLZ-NET-01, FLZ-NET-02 and FLZ-RET-01 for one account and region. */
export function networkChecks(
  account: string,
  region: string,
  facts: RegionFacts,
  settings: AssessmentSettings,
): Finding[] {
  const where = { account, region };
  const out: Finding[] = [];
  out.push(
    ...withRead(both(facts.vpcs, facts.flowLogs), ["FLZ-NET-01"], where, ([vpcs, flowLogs]) =>
      vpcs.map((vpc) => {
        const active = flowLogs.filter((f) => f.resourceId === vpc.id && f.status === "ACTIVE");
        const at = { ...where, resource: vpc.id };
        const ev = [
          `DescribeFlowLogs ${vpc.id}: ${active.map((f) => `${f.destinationType}${f.logGroup ? `:${f.logGroup}` : ""}`).join(", ") || "none active"}`,
        ];
        return active.length > 0
          ? pass("FLZ-NET-01", at, "flow logs active", ev)
          : fail("FLZ-NET-01", at, `no active flow log on ${vpc.isDefault ? "the default VPC " : ""}${vpc.id}`, ev);
      }),
    ),
  );
  out.push(
    ...withRead(both(facts.vpcs, facts.queryLogs), ["FLZ-NET-02"], where, ([vpcs, associations]) =>
      vpcs.map((vpc) => {
        const active = associations.filter((a) => a.resourceId === vpc.id && a.status === "ACTIVE");
        const at = { ...where, resource: vpc.id };
        const ev = [
          `ListResolverQueryLogConfigAssociations ${vpc.id}: ${active.map((a) => a.configId).join(", ") || "none active"}`,
        ];
        return active.length > 0
          ? pass("FLZ-NET-02", at, "DNS query logging active", ev)
          : fail("FLZ-NET-02", at, `no DNS query logging on ${vpc.isDefault ? "the default VPC " : ""}${vpc.id}`, ev);
      }),
    ),
  );
  out.push(
    ...withRead(facts.logGroups, ["FLZ-RET-01"], where, (groups) =>
      groups.map((g) => {
        const at = { ...where, resource: g.name };
        const ev = [`DescribeLogGroups: ${g.name} retentionInDays=${g.retentionDays ?? "never expire"}`];
        return g.retentionDays === undefined || g.retentionDays >= settings.requiredRetentionDays
          ? pass(
              "FLZ-RET-01",
              at,
              `kept ${g.retentionDays ?? "forever"} days (required ${settings.requiredRetentionDays})`,
              ev,
            )
          : fail(
              "FLZ-RET-01",
              at,
              `kept ${g.retentionDays} days, shorter than the required ${settings.requiredRetentionDays}`,
              ev,
            );
      }),
    ),
  );
  return out;
}
