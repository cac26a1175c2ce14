/**
 * Checks of the organisation trail (FLZ-TRAIL-01..07): organisation-wide and multi-region, logging, validated,
 * encrypted, recording what a hunt needs, and actually delivering.
 */
import type { OrganizationFacts, TrailFacts } from "../facts";
import type { Finding } from "../types";
import { fail, pass, unknown, withRead, type AssessmentSettings } from "./common";

/** The trail checks, in catalogue order. */
export const TRAIL_CHECKS = [
  "FLZ-TRAIL-01",
  "FLZ-TRAIL-02",
  "FLZ-TRAIL-03",
  "FLZ-TRAIL-04",
  "FLZ-TRAIL-05",
  "FLZ-TRAIL-06",
  "FLZ-TRAIL-07",
];

/** The trail the assessment judges: the landing zone's by ARN, else the first organisation trail, else any trail. */
export function organizationTrail(trails: readonly TrailFacts[], trailArn: string): TrailFacts | undefined {
  return (
    trails.find((t) => t.arn === trailArn) ??
    trails.find((t) => t.isOrganizationTrail && t.isMultiRegionTrail) ??
    trails.find((t) => t.isOrganizationTrail)
  );
}

function describe(t: TrailFacts): string[] {
  return [
    `DescribeTrails: ${t.arn} IsOrganizationTrail=${t.isOrganizationTrail} IsMultiRegionTrail=${t.isMultiRegionTrail} LogFileValidationEnabled=${t.logFileValidationEnabled} IncludeGlobalServiceEvents=${t.includeGlobalServiceEvents} KmsKeyId=${t.kmsKeyId ?? "none"}`,
  ];
}

/** Delivery: a recent LatestDeliveryTime and no LatestDeliveryError. */
function delivery(t: TrailFacts, settings: AssessmentSettings): Finding {
  const where = { resource: t.arn };
  if (!t.status.ok) return unknown("FLZ-TRAIL-07", where, t.status.error);
  const s = t.status.value;
  const evidence = [
    `GetTrailStatus: IsLogging=${s.isLogging} LatestDeliveryTime=${s.latestDeliveryTime ?? "never"} LatestDeliveryError=${s.latestDeliveryError ?? "none"}`,
  ];
  if (s.latestDeliveryError)
    return fail("FLZ-TRAIL-07", where, `the trail's last delivery failed: ${s.latestDeliveryError}`, evidence);
  if (!s.latestDeliveryTime) return fail("FLZ-TRAIL-07", where, "the trail has never delivered a log file", evidence);
  const ageHours = (Date.parse(settings.now) - Date.parse(s.latestDeliveryTime)) / 3_600_000;
  if (ageHours > settings.deliveryMaxAgeHours)
    return fail(
      "FLZ-TRAIL-07",
      where,
      `the last delivery was ${Math.round(ageHours)} h ago (more than ${settings.deliveryMaxAgeHours} h)`,
      evidence,
    );
  return pass("FLZ-TRAIL-07", where, "the trail delivered within the last day, without error", evidence);
}

function judge(t: TrailFacts, settings: AssessmentSettings): Finding[] {
  const where = { resource: t.arn };
  const ev = describe(t);
  const out: Finding[] = [];
  out.push(
    t.isOrganizationTrail && t.isMultiRegionTrail
      ? pass("FLZ-TRAIL-01", where, "organisation-wide, every region", ev)
      : fail(
          "FLZ-TRAIL-01",
          where,
          `the trail is ${t.isOrganizationTrail ? "" : "not organisation-wide"}${!t.isOrganizationTrail && !t.isMultiRegionTrail ? " and " : ""}${t.isMultiRegionTrail ? "" : "single-region"}`,
          ev,
        ),
  );
  if (!t.status.ok) out.push(unknown("FLZ-TRAIL-02", where, t.status.error));
  else
    out.push(
      t.status.value.isLogging
        ? pass("FLZ-TRAIL-02", where, "logging", [`GetTrailStatus: IsLogging=true`])
        : fail("FLZ-TRAIL-02", where, "the trail is stopped (IsLogging=false)", [`GetTrailStatus: IsLogging=false`]),
    );
  out.push(
    t.logFileValidationEnabled
      ? pass("FLZ-TRAIL-03", where, "log file validation on", ev)
      : fail("FLZ-TRAIL-03", where, "log file validation is off: no digest proves the logs unaltered", ev),
  );
  out.push(
    t.kmsKeyId
      ? pass("FLZ-TRAIL-04", where, `SSE-KMS under ${t.kmsKeyId}`, ev)
      : fail("FLZ-TRAIL-04", where, "logs are not encrypted with a KMS key", ev),
  );
  out.push(
    ...withRead(t.selectors, ["FLZ-TRAIL-05", "FLZ-TRAIL-06"], where, (sel) => {
      const selEv = [
        `GetEventSelectors: management=${sel.management} excluded=[${sel.excludedSources.join(",")}] s3Data=${sel.s3Data}${sel.s3Buckets.length ? ` buckets=[${sel.s3Buckets.join(",")}]` : ""}`,
      ];
      const problems: string[] = [];
      if (sel.management !== "All") problems.push(`management events ${sel.management} (not All)`);
      if (sel.excludedSources.length > 0) problems.push(`excludes ${sel.excludedSources.join(", ")}`);
      if (!t.includeGlobalServiceEvents) problems.push("no global service events (IAM, STS)");
      return [
        problems.length === 0
          ? pass("FLZ-TRAIL-05", where, "all management events, read and write, global services included", [
              ...ev,
              ...selEv,
            ])
          : fail("FLZ-TRAIL-05", where, problems.join("; "), [...ev, ...selEv]),
        sel.s3Data === "none"
          ? fail("FLZ-TRAIL-06", where, "no S3 data events are recorded", selEv)
          : pass(
              "FLZ-TRAIL-06",
              where,
              sel.s3Data === "all"
                ? "S3 data events for every bucket"
                : `S3 data events for ${sel.s3Buckets.length} bucket(s)`,
              selEv,
            ),
      ];
    }),
  );
  out.push(delivery(t, settings));
  return out;
}

/** FLZ-TRAIL-01..07. */
export function trailChecks(org: OrganizationFacts, settings: AssessmentSettings): Finding[] {
  return withRead(org.trails, TRAIL_CHECKS, {}, (trails) => {
    const trail = organizationTrail(trails, settings.landingZone.trailArn);
    if (!trail) {
      const ev = [`DescribeTrails: ${trails.length} trail(s), none organisation-wide`];
      return TRAIL_CHECKS.map((c) => fail(c, {}, "there is no organisation trail", ev));
    }
    return judge(trail, settings);
  });
}
