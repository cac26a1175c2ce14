/**
 * CloudTrail rules: the organisation trail is the record investigators reconstruct an incident from, so it must
 * cover every region and the global services, be tamper-evident and encrypted, stay on, and keep management events.
 */
import { resourceRule } from "./lib/rule";
import { DEFAULT_ENFORCEMENT, type ResourceRule } from "./lib/types";
import { TYPES, validateTypes } from "./lib/resources";
import { read, UNKNOWN } from "./lib/unknowns";
import { asArray, asBoolean, asRecord, asString, stringList, type Props } from "./lib/values";

const NO_CONFIG = { properties: {} };

/** Trails log every region, so activity in a region nobody watches is still recorded. */
export const trailMultiRegion: ResourceRule = resourceRule({
  name: "trail-multi-region",
  description:
    "Checks whether CloudTrail trails log all regions, so an attacker cannot act unrecorded in an unused region.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps: "Set isMultiRegionTrail: true on the trail.",
  configSchema: NO_CONFIG,
  validateResource: validateTypes(TYPES.trail, (trail, _args, report) => {
    if (asBoolean(trail.isMultiRegionTrail) !== true) {
      report(
        `isMultiRegionTrail is ${String(trail.isMultiRegionTrail)}: set isMultiRegionTrail: true so every region is logged.`,
      );
    }
  }),
});

/** Trails write signed digest files so log tampering is detectable. */
export const trailLogFileValidation: ResourceRule = resourceRule({
  name: "trail-log-file-validation",
  description: "Checks whether CloudTrail trails write signed digest files, so tampering with logs is detectable.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps: "Set enableLogFileValidation: true on the trail.",
  configSchema: NO_CONFIG,
  validateResource: validateTypes(TYPES.trail, (trail, _args, report) => {
    if (asBoolean(trail.enableLogFileValidation) !== true) {
      report(
        "Log file validation is off: set enableLogFileValidation: true so every log file is covered by a signed digest.",
      );
    }
  }),
});

/** Trails encrypt logs with a customer-managed KMS key. */
export const trailKmsEncrypted: ResourceRule = resourceRule({
  name: "trail-kms-encrypted",
  description:
    "Checks whether CloudTrail trails encrypt log files with a customer-managed KMS key, so reading them needs a key grant that is itself logged.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps:
    "Create a KMS key whose policy lets cloudtrail.amazonaws.com encrypt for your trail, and set kmsKeyId to its ARN.",
  configSchema: NO_CONFIG,
  validateResource: validateTypes(TYPES.trail, (trail, _args, report) => {
    const raw = read(trail, "kmsKeyId");
    // Unknown during a preview means the key is created (or updated) by this program: a customer-managed key, since
    // AWS-managed keys are never program resources. The rule runs again on the known ARN before the trail is created.
    if (raw === UNKNOWN) return;
    const key = asString(raw);
    if (!key) report("kmsKeyId is not set: set it to the ARN of a customer-managed KMS key.");
    else if (/alias\/aws\//i.test(key))
      report(`kmsKeyId ${key} is an AWS-managed alias: use a customer-managed key ARN.`);
  }),
});

/** Trails include global service events (IAM, STS, CloudFront), where most credential abuse shows. */
export const trailGlobalServiceEvents: ResourceRule = resourceRule({
  name: "trail-global-service-events",
  description:
    "Checks whether CloudTrail trails include global service events (IAM, STS), where credential abuse is recorded.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps: "Remove includeGlobalServiceEvents: false (the default is true) or set it to true.",
  configSchema: NO_CONFIG,
  validateResource: validateTypes(TYPES.trail, (trail, _args, report) => {
    if (asBoolean(trail.includeGlobalServiceEvents) === false) {
      report("includeGlobalServiceEvents is false: set it to true so IAM and STS activity is logged.");
    }
  }),
});

/** Trails are logging. */
export const trailEnabled: ResourceRule = resourceRule({
  name: "trail-logging-enabled",
  description: "Checks whether CloudTrail trails are logging, since a defined but stopped trail records nothing.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps: "Remove enableLogging: false (the default is true) or set it to true.",
  configSchema: NO_CONFIG,
  validateResource: validateTypes(TYPES.trail, (trail, _args, report) => {
    if (asBoolean(trail.enableLogging) === false)
      report("enableLogging is false: set it to true so the trail records events.");
  }),
});

/**
 * Why management events are missing from a trail's selectors, or undefined when they are all recorded. Without
 * selectors a trail logs all management events; basic and advanced selectors are read separately.
 */
export function managementEventGap(trail: Props): string | undefined {
  const basic = asArray(trail.eventSelectors)
    .map(asRecord)
    .filter((s): s is Props => s !== undefined);
  const advanced = asArray(trail.advancedEventSelectors)
    .map(asRecord)
    .filter((s): s is Props => s !== undefined);
  if (advanced.length > 0) return advancedGap(advanced);
  if (basic.length === 0) return undefined;
  const full = basic.find(
    (s) => asBoolean(s.includeManagementEvents) !== false && (asString(s.readWriteType) ?? "All") === "All",
  );
  if (!full) return "no event selector records all (read and write) management events";
  const excluded = stringList(full.excludeManagementEventSources);
  if (excluded.length > 0) return `management events from ${excluded.join(", ")} are excluded`;
  return undefined;
}

function advancedGap(selectors: Props[]): string | undefined {
  for (const selector of selectors) {
    const fields = asArray(selector.fieldSelectors)
      .map(asRecord)
      .filter((f): f is Props => f !== undefined);
    const category = fields.find((f) => asString(f.field) === "eventCategory");
    if (!category || !stringList(category.equals).includes("Management")) continue;
    const narrowing = fields.filter((f) => asString(f.field) !== "eventCategory");
    if (narrowing.length === 0) return undefined;
    return `the management-event selector narrows on ${narrowing.map((f) => asString(f.field)).join(", ")}`;
  }
  return "no advanced event selector has eventCategory equals Management";
}

/** Trails keep every management event (no read-only filter, no excluded event sources). */
export const trailManagementEvents: ResourceRule = resourceRule({
  name: "trail-management-events",
  description:
    "Checks whether CloudTrail trails record all management events, read and write, with no event source excluded.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps:
    "Keep a selector with includeManagementEvents: true and readWriteType: All and no excludeManagementEventSources, or an advanced selector with only eventCategory = Management.",
  configSchema: NO_CONFIG,
  validateResource: validateTypes(TYPES.trail, (trail, _args, report) => {
    const gap = managementEventGap(trail);
    if (gap) report(`Management events are not fully recorded: ${gap}. Record all management events, read and write.`);
  }),
});

/** Every trail rule. */
export const trailRules: ResourceRule[] = [
  trailMultiRegion,
  trailLogFileValidation,
  trailKmsEncrypted,
  trailGlobalServiceEvents,
  trailEnabled,
  trailManagementEvents,
];
