/**
 * Detection and retention rules: the signals an investigation starts from must exist and must last. A GuardDuty
 * detector that is declared but disabled produces no findings; a log group that expires its events after days loses
 * them before most intrusions are even noticed; an EBS snapshot or AMI shared with every AWS account hands a disk
 * (and whatever secrets it holds) to anyone.
 */
import { configOf } from "./lib/config";
import { TYPES, validateTypes } from "./lib/resources";
import { resourceRule } from "./lib/rule";
import { DEFAULT_ENFORCEMENT, type ResourceRule, type RuleConfigSchema } from "./lib/types";
import { read, UNKNOWN } from "./lib/unknowns";
import { asBoolean, asNumber, asString } from "./lib/values";

/** Declared GuardDuty detectors are enabled. */
export const guardDutyDetectorEnabled: ResourceRule = resourceRule({
  name: "guardduty-detector-enabled",
  description: "Checks whether every GuardDuty detector the program declares is enabled.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps:
    "Set enable: true (the default) on the aws.guardduty.Detector, or remove it to leave an existing detector alone.",
  configSchema: { properties: {} },
  validateResource: validateTypes(TYPES.guardDutyDetector, (props, _args, report) => {
    const enable = read(props, "enable");
    if (enable === UNKNOWN)
      report(
        "cannot verify during preview: enable is unknown until deployment; write it as a literal (failing closed).",
      );
    else if (asBoolean(enable) === false)
      report("the detector is disabled: it produces no findings. Set enable: true.");
  }),
});

interface RetentionConfig {
  minRetentionDays: number;
}
const RETENTION_SCHEMA: RuleConfigSchema = {
  properties: {
    minRetentionDays: {
      type: "integer",
      minimum: 1,
      default: 365,
      description:
        "Shortest retention accepted, in days (AWS Security Hub control CloudWatch.16 uses 365). Unset or 0 means never expire, which passes.",
    },
  },
};

/** Log groups keep their events at least a year (or forever). */
export const logGroupRetention: ResourceRule = resourceRule({
  name: "log-group-retention",
  description:
    "Checks whether every CloudWatch log group keeps its events for at least the configured period (365 days by default) or never expires them.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "medium",
  remediationSteps:
    "Set retentionInDays to 365 or more (or leave it unset: events never expire); archive older logs to S3 if cost matters.",
  configSchema: RETENTION_SCHEMA,
  validateResource: validateTypes(TYPES.logGroup, (props, args, report) => {
    const { minRetentionDays } = configOf<RetentionConfig>(args, RETENTION_SCHEMA);
    const raw = read(props, "retentionInDays");
    if (raw === UNKNOWN) {
      report(
        "cannot verify during preview: retentionInDays is unknown until deployment; write it as a literal (failing closed).",
      );
      return;
    }
    const days = asNumber(raw) ?? 0;
    if (days > 0 && days < minRetentionDays)
      report(
        `retentionInDays is ${days}: events expire before most intrusions are found. Set at least ${minRetentionDays}.`,
      );
  }),
});

/** No snapshot or AMI is shared with every AWS account. */
export const ebsSnapshotNotPublic: ResourceRule = resourceRule({
  name: "ebs-snapshot-not-public",
  description:
    'Checks whether any EBS snapshot or AMI is shared with all AWS accounts (create-volume permission or launch permission for the group "all").',
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps:
    "Share snapshots and AMIs with named account IDs only; to share evidence, copy it under a customer-managed key and grant the forensic account.",
  configSchema: { properties: {} },
  validateResource: validateTypes(
    [...TYPES.snapshotPermission, ...TYPES.amiLaunchPermission],
    (props, _args, report) => {
      const account = asString(props.accountId)?.toLowerCase();
      const group = asString(props.group)?.toLowerCase();
      if (account === "all" || group === "all")
        report(
          'shared with the group "all": every AWS account can create a volume from it. Share with named account IDs.',
        );
    },
  ),
});

/** Every detection and retention rule. */
export const detectionRules: ResourceRule[] = [guardDutyDetectorEnabled, logGroupRetention, ebsSnapshotNotPublic];
