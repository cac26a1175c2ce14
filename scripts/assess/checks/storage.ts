/**
 * Checks of the trail and evidence buckets (FLZ-STORE-01..05): Object Lock mode and days against the required
 * retention, versioning, public-access block, and a bucket policy that refuses plain HTTP and grants nothing to all.
 */
import type { BucketFacts, ForensicFacts } from "../facts";
import { deniesInsecureTransport, publicAllows } from "../policy";
import type { Finding } from "../types";
import { fail, pass, withRead, type AssessmentSettings } from "./common";

/** The storage checks. */
export const STORAGE_CHECKS = ["FLZ-STORE-01", "FLZ-STORE-02", "FLZ-STORE-03", "FLZ-STORE-04", "FLZ-STORE-05"];

function lock(bucket: BucketFacts, settings: AssessmentSettings): Finding[] {
  const check = bucket.purpose === "trail" ? "FLZ-STORE-01" : "FLZ-STORE-02";
  const where = { account: settings.landingZone.forensicAccountId, resource: bucket.name };
  return withRead(bucket.objectLock, [check], where, (lockConfig) => {
    const ev = [
      `GetObjectLockConfiguration: ${bucket.name} ObjectLockEnabled=${lockConfig?.enabled ?? false} Mode=${lockConfig?.mode ?? "none"} Days=${lockConfig?.days ?? "none"}`,
    ];
    const required = settings.requiredRetentionDays;
    if (!lockConfig?.enabled) return [fail(check, where, "Object Lock is not enabled", ev)];
    if (lockConfig.mode !== "COMPLIANCE")
      return [
        fail(
          check,
          where,
          lockConfig.mode
            ? `default retention is ${lockConfig.mode}, which a privileged user can bypass (COMPLIANCE required)`
            : "no default retention: objects are written unlocked",
          ev,
        ),
      ];
    if ((lockConfig.days ?? 0) < required)
      return [
        fail(
          check,
          where,
          `COMPLIANCE retention ${lockConfig.days ?? 0} days is shorter than the required ${required}`,
          ev,
        ),
      ];
    return [pass(check, where, `COMPLIANCE, ${lockConfig.days} days (required ${required})`, ev)];
  });
}

function bucketChecks(bucket: BucketFacts, settings: AssessmentSettings): Finding[] {
  const where = { account: settings.landingZone.forensicAccountId, resource: bucket.name };
  const out = lock(bucket, settings);
  out.push(
    ...withRead(bucket.versioning, ["FLZ-STORE-03"], where, (status) => {
      const ev = [`GetBucketVersioning: ${bucket.name} Status=${status ?? "never enabled"}`];
      return [
        status === "Enabled"
          ? pass("FLZ-STORE-03", where, "versioned", ev)
          : fail("FLZ-STORE-03", where, `versioning is ${status ?? "off"}`, ev),
      ];
    }),
  );
  out.push(
    ...withRead(bucket.publicAccessBlock, ["FLZ-STORE-04"], where, (block) => {
      const flags = block ?? {
        blockPublicAcls: false,
        ignorePublicAcls: false,
        blockPublicPolicy: false,
        restrictPublicBuckets: false,
      };
      const off = Object.entries(flags)
        .filter(([, on]) => !on)
        .map(([name]) => name);
      const ev = [
        `GetPublicAccessBlock: ${bucket.name} ${
          block
            ? Object.entries(flags)
                .map(([k, v]) => `${k}=${v}`)
                .join(" ")
            : "none"
        }`,
      ];
      return [
        off.length === 0
          ? pass("FLZ-STORE-04", where, "all four public-access-block flags on", ev)
          : fail("FLZ-STORE-04", where, block ? `flags off: ${off.join(", ")}` : "no public access block", ev),
      ];
    }),
  );
  out.push(
    ...withRead(bucket.policy, ["FLZ-STORE-05"], where, (policy) => {
      if (policy === null)
        return [
          fail("FLZ-STORE-05", where, "no bucket policy: plain HTTP is not refused", [
            `GetBucketPolicy: ${bucket.name} none`,
          ]),
        ];
      const problems: string[] = [];
      if (!deniesInsecureTransport(policy)) problems.push("no deny of plain HTTP (aws:SecureTransport false)");
      const open = publicAllows(policy);
      if (open.length > 0)
        problems.push(
          `statement(s) ${open.map((s) => s.sid ?? "(no Sid)").join(", ")} allow "*" without a restricting condition`,
        );
      const ev = [`GetBucketPolicy: ${bucket.name} ${policy.length} characters`];
      return [
        problems.length === 0
          ? pass("FLZ-STORE-05", where, "TLS-only, nothing granted to everyone", ev)
          : fail("FLZ-STORE-05", where, problems.join("; "), ev),
      ];
    }),
  );
  return out;
}

/** FLZ-STORE-01..05 over both buckets. */
export function storageChecks(forensic: ForensicFacts, settings: AssessmentSettings): Finding[] {
  return forensic.buckets.flatMap((b) => bucketChecks(b, settings));
}
