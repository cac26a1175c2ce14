/**
 * Compute rules: instances a responder may have to examine must not hand credentials to anyone who can make the
 * instance fetch a URL (IMDSv1), and disks must be encrypted, in every region the program deploys to.
 */
import { resourceRule, stackRule } from "./lib/rule";
import { configOf } from "./lib/config";
import { accountOf, isOneOf, regionOf, TYPES, validateTypes } from "./lib/resources";
import { STACK_KIND_SCHEMA, STACK_KIND_TAG, stackKindOf, type StackKindConfig } from "./lib/stack-kind";
import { read, UNKNOWN } from "./lib/unknowns";
import { DEFAULT_ENFORCEMENT, type ResourceRule, type RuleConfigSchema, type StackRule } from "./lib/types";
import { asArray, asBoolean, asNumber, asRecord, asString, type Props } from "./lib/values";

interface ImdsConfig {
  maxHopLimit: number;
}
const IMDS_SCHEMA: RuleConfigSchema = {
  properties: {
    maxHopLimit: {
      type: "integer",
      minimum: 1,
      maximum: 64,
      default: 1,
      description: "Highest PUT response hop limit accepted (2 is needed for containers on the instance).",
    },
  },
};

/** Why metadata options allow IMDSv1 or a long hop limit, or undefined. */
export function imdsProblem(metadataOptions: unknown, maxHopLimit: number): string | undefined {
  const options = asRecord(metadataOptions);
  if (asString(options?.httpEndpoint) === "disabled") return undefined;
  const tokens = asString(options?.httpTokens);
  if (tokens !== "required")
    return `metadataOptions.httpTokens is ${String(tokens)}: set it to "required" (IMDSv2 only).`;
  const hops = asNumber(options?.httpPutResponseHopLimit) ?? 1;
  if (hops > maxHopLimit)
    return `metadataOptions.httpPutResponseHopLimit is ${hops}: set it to at most ${maxHopLimit}.`;
  return undefined;
}

/** Everything that launches instances and carries metadata options (IMDSv1 on any of them hands out credentials). */
const IMDS_TYPES = [
  ...TYPES.instance,
  ...TYPES.spotInstanceRequest,
  ...TYPES.launchTemplate,
  ...TYPES.launchConfiguration,
];

/** Instances, spot requests, launch templates and launch configurations require IMDSv2 with a short hop limit. */
export const ec2Imdsv2Required: ResourceRule = resourceRule({
  name: "ec2-imdsv2-required",
  description:
    "Checks whether EC2 instances, spot instance requests, launch templates and launch configurations require IMDSv2 tokens with a PUT response hop limit at most the configured value.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps:
    'Set metadataOptions { httpTokens: "required", httpPutResponseHopLimit: 1 } (or httpEndpoint: "disabled").',
  configSchema: IMDS_SCHEMA,
  validateResource: validateTypes(IMDS_TYPES, (props, args, report) => {
    const { maxHopLimit } = configOf<ImdsConfig>(args, IMDS_SCHEMA);
    const problem = imdsProblem(props.metadataOptions, maxHopLimit);
    if (problem) report(problem);
  }),
});

/** Types whose disks {@link unencryptedDisks} reads. */
const DISK_TYPES = [
  ...TYPES.volume,
  ...TYPES.instance,
  ...TYPES.spotInstanceRequest,
  ...TYPES.launchTemplate,
  ...TYPES.launchConfiguration,
];

/** The unencrypted disks a volume, instance, spot request, launch template or launch configuration declares. */
export function unencryptedDisks(type: string, props: Props): string[] {
  if (isOneOf(type, TYPES.volume)) return asBoolean(props.encrypted) === true ? [] : ["the volume"];
  if (isOneOf(type, [...TYPES.instance, ...TYPES.spotInstanceRequest, ...TYPES.launchConfiguration])) {
    const disks: string[] = [];
    if (asBoolean(asRecord(props.rootBlockDevice)?.encrypted) !== true) disks.push("root block device");
    for (const device of asArray(props.ebsBlockDevices).map(asRecord)) {
      if (asBoolean(device?.encrypted) !== true) disks.push(asString(device?.deviceName) ?? "an EBS block device");
    }
    return disks;
  }
  return asArray(props.blockDeviceMappings)
    .map(asRecord)
    .filter((m) => m?.ebs !== undefined && asBoolean(asRecord(m.ebs)?.encrypted) !== true)
    .map((m) => asString(m?.deviceName) ?? "a block device mapping");
}

type Placed = { type: string; props: Record<string, unknown>; provider?: { props: Record<string, unknown> } };

/** Where EBS encryption by default is on in this stack: `<account> <region>` keys (unknown `enabled` counts as off). */
function defaultEncryptionOn(resources: readonly Placed[]): Set<string> {
  return new Set(
    resources
      .filter((r) => isOneOf(r.type, TYPES.encryptionByDefault))
      .filter((r) => {
        const enabled = read(r.props, "enabled");
        return enabled !== UNKNOWN && asBoolean(enabled) !== false;
      })
      .map((r) => `${accountOf(r)} ${regionOf(r)}`),
  );
}

/**
 * EBS volumes and instance block devices are encrypted, or launched where the same stack turns EBS encryption by
 * default on (same account and region): AWS then encrypts every new volume, whatever the program asks for.
 */
export const ebsVolumesEncrypted: StackRule = stackRule({
  name: "ebs-volumes-encrypted",
  description:
    "Checks whether EBS volumes, instance and spot request disks, and launch template and launch configuration mappings are encrypted, unless the same stack turns on EBS encryption by default in their account and region.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps:
    'Set encrypted: true on the volume or block device (launch templates: ebs.encrypted "true"), or add aws.ebs.EncryptionByDefault { enabled: true } through the same provider.',
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const disks = args.resources.filter((r) => isOneOf(r.type, DISK_TYPES));
    if (disks.length === 0) args.notApplicable("The program declares no EBS volume or instance.");
    const covered = defaultEncryptionOn(args.resources);
    for (const r of disks) {
      if (covered.has(`${accountOf(r)} ${regionOf(r)}`)) continue;
      const unencrypted = unencryptedDisks(r.type, r.props as Props);
      if (unencrypted.length > 0)
        report(
          `${r.name}: unencrypted ${unencrypted.join(", ")}. Set encrypted: true, or turn on EBS encryption by default in ${regionOf(r)} in this stack.`,
          r.urn,
        );
    }
  },
});

/** Services whose resources are global: they do not make a program "deploy to" a region. */
const GLOBAL_SERVICES = [
  "iam",
  "organizations",
  "route53",
  "cloudfront",
  "globalaccelerator",
  "shield",
  "budgets",
  "costexplorer",
  "account",
];

/** Whether a resource is an AWS resource that lives in a region. */
function isRegional(resource: { type: string }): boolean {
  const match = /^aws:([a-z0-9]+)\//i.exec(resource.type);
  return !!match && !GLOBAL_SERVICES.includes((match[1] ?? "").toLowerCase());
}

/** The regions a stack deploys AWS resources to that have no EBS encryption by default in the stack. */
export function ebsDefaultEncryptionGaps(resources: readonly Placed[]): string[] {
  const regions = new Set(resources.filter(isRegional).map(regionOf));
  const covered = new Set(
    resources
      .filter((r) => isOneOf(r.type, TYPES.encryptionByDefault))
      // Unknown during a preview counts as off (failing closed); programs write it as a literal.
      .filter((r) => {
        const enabled = read(r.props, "enabled");
        return enabled !== UNKNOWN && asBoolean(enabled) !== false;
      })
      .map(regionOf),
  );
  return [...regions].filter((region) => !covered.has(region)).sort();
}

type BaselineConfig = StackKindConfig;
const BASELINE_SCHEMA: RuleConfigSchema = { properties: { ...STACK_KIND_SCHEMA } };

/**
 * EBS encryption by default is on in each region an account baseline or landing zone deploys to. An account-wide
 * setting: demanded only of stacks that declare themselves to own it (policies/lib/stack-kind.ts).
 */
export const ebsEncryptionByDefault: StackRule = stackRule({
  name: "ebs-encryption-by-default",
  description: `Checks whether a stack that declares itself an account baseline or landing zone (stack tag ${STACK_KIND_TAG}, or its component) turns on EBS encryption by default in each region it deploys AWS resources to.`,
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "medium",
  remediationSteps:
    "Add an aws.ebs.EncryptionByDefault { enabled: true } through the provider of each region (and an aws.ebs.DefaultKmsKey for a customer key).",
  configSchema: BASELINE_SCHEMA,
  validateStack: (args, report) => {
    const config = configOf<BaselineConfig>(args, BASELINE_SCHEMA);
    if (!stackKindOf(args, config).accountBaseline)
      args.notApplicable(
        `The stack does not declare itself an account baseline or landing zone (stack tag ${STACK_KIND_TAG}): account-wide settings belong to the account's baseline.`,
      );
    if (!args.resources.some(isRegional)) args.notApplicable("The program deploys no regional AWS resources.");
    const gaps = ebsDefaultEncryptionGaps(args.resources);
    if (gaps.length > 0)
      report(
        `EBS encryption by default is not enabled in ${gaps.join(", ")}: add aws.ebs.EncryptionByDefault { enabled: true } for each.`,
      );
  },
});

/** Every compute rule. */
export const computeRules: Array<ResourceRule | StackRule> = [
  ec2Imdsv2Required,
  ebsVolumesEncrypted,
  ebsEncryptionByDefault,
];
