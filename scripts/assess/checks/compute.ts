/**
 * Compute readiness per account and region (FLZ-EC2-01..06): IMDSv2 on instances and launch templates, Systems
 * Manager coverage (memory capture), EBS encryption by default, volume keys that allow the forensic copy, and the
 * snapshot copy quota capture needs.
 */
import type { RegionFacts } from "../facts";
import type { Finding } from "../types";
import { both, fail, pass, unknown, withRead } from "./common";

/** FLZ-EC2-01..06 for one account and region. */
export function computeChecks(account: string, region: string, facts: RegionFacts): Finding[] {
  const where = { account, region };
  const out: Finding[] = [];
  out.push(
    ...withRead(facts.instances, ["FLZ-EC2-01"], where, (instances) =>
      instances
        .filter((i) => i.state === "running")
        .map((i) => {
          const ev = [`DescribeInstances: ${i.id} HttpTokens=${i.httpTokens}`];
          return i.httpTokens === "required"
            ? pass("FLZ-EC2-01", { ...where, resource: i.id }, "IMDSv2 required", ev)
            : fail("FLZ-EC2-01", { ...where, resource: i.id }, `IMDSv1 allowed (HttpTokens=${i.httpTokens})`, ev);
        }),
    ),
  );
  out.push(
    ...withRead(facts.launchTemplates, ["FLZ-EC2-02"], where, (templates) =>
      templates.map((t) => {
        const ev = [`DescribeLaunchTemplateVersions: ${t.id} ($Default) HttpTokens=${t.httpTokens ?? "unset"}`];
        const at = { ...where, resource: t.id };
        return t.httpTokens === "required"
          ? pass("FLZ-EC2-02", at, `${t.name}: IMDSv2 required`, ev)
          : fail("FLZ-EC2-02", at, `${t.name}: the default version allows IMDSv1`, ev);
      }),
    ),
  );
  out.push(
    ...withRead(both(facts.instances, facts.ssmOnline), ["FLZ-EC2-03"], where, ([instances, online]) =>
      instances
        .filter((i) => i.state === "running")
        .map((i) => {
          const at = { ...where, resource: i.id };
          const ev = [`DescribeInstanceInformation: ${i.id} ${online.includes(i.id) ? "Online" : "not managed"}`];
          return online.includes(i.id)
            ? pass("FLZ-EC2-03", at, "SSM agent online: memory can be captured", ev)
            : fail("FLZ-EC2-03", at, "not managed by Systems Manager: its memory cannot be captured", ev);
        }),
    ),
  );
  out.push(
    ...withRead(facts.ebsDefault, ["FLZ-EC2-04"], where, (d) => {
      const ev = [`GetEbsEncryptionByDefault: ${d.enabled}`];
      return [
        d.enabled
          ? pass("FLZ-EC2-04", where, "on", ev)
          : fail("FLZ-EC2-04", where, "EBS encryption by default is off", ev),
      ];
    }),
  );
  out.push(
    ...withRead(
      both(both(facts.volumes, facts.volumeKeys), facts.ebsDefault),
      ["FLZ-EC2-05"],
      where,
      ([[volumes, keys], d]) => {
        const subjects = [
          ...volumes
            .filter((v) => v.encrypted && v.kmsKeyId)
            .map((v) => ({ resource: v.id, key: v.kmsKeyId as string })),
          ...(d.enabled && d.kmsKeyId ? [{ resource: "EBS default key", key: d.kmsKeyId }] : []),
        ];
        return subjects.map(({ resource, key }) => {
          const at = { ...where, resource };
          const k = keys[key];
          if (!k) return unknown("FLZ-EC2-05", at, `key ${key} was not described`);
          const ev = [
            `DescribeKey: ${key} KeyManager=${k.manager}`,
            `GetKeyPolicy: account IAM policies may use it=${k.accountMayUse}`,
          ];
          if (k.manager === "AWS")
            return fail(
              "FLZ-EC2-05",
              at,
              "encrypted under the AWS-managed aws/ebs key: its snapshots cannot be shared",
              ev,
            );
          if (!k.accountMayUse)
            return fail(
              "FLZ-EC2-05",
              at,
              `the policy of ${key} does not let the account's roles use it: capture cannot copy`,
              ev,
            );
          return pass("FLZ-EC2-05", at, "customer key usable by the account's roles", ev);
        });
      },
    ),
  );
  out.push(
    ...withRead(both(facts.snapshotCopyQuota, facts.instances), ["FLZ-EC2-06"], where, ([quota, instances]) => {
      if (quota === null)
        return [unknown("FLZ-EC2-06", where, "Service Quotas lists no concurrent snapshot copy quota for EBS")];
      const largest = Math.max(0, ...instances.map((i) => i.volumeIds.length));
      const ev = [
        `ListServiceQuotas(ebs): concurrent snapshot copies per destination Region=${quota}`,
        `largest instance: ${largest} volume(s)`,
      ];
      return [
        quota >= largest
          ? pass("FLZ-EC2-06", where, `quota ${quota} covers the largest instance (${largest} volumes)`, ev)
          : fail(
              "FLZ-EC2-06",
              where,
              `quota ${quota} is below the ${largest} volumes of the largest instance: copies will queue`,
              ev,
            ),
      ];
    }),
  );
  return out;
}
