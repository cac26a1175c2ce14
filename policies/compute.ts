/**
 * Compute rules: instances a responder may have to examine must not hand credentials to anyone who can make the
 * instance fetch a URL (IMDSv1), and disks must be encrypted, in every region the program deploys to.
 */
import { configOf } from "./lib/config";
import { ofTypes, regionOf, TYPES, validateTypes } from "./lib/resources";
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

/** Instances and launch templates require IMDSv2 with a short hop limit. */
export const ec2Imdsv2Required: ResourceRule = {
  name: "ec2-imdsv2-required",
  description:
    "Checks whether EC2 instances and launch templates require IMDSv2 tokens with a PUT response hop limit at most the configured value.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps:
    'Set metadataOptions { httpTokens: "required", httpPutResponseHopLimit: 1 } (or httpEndpoint: "disabled").',
  configSchema: IMDS_SCHEMA,
  validateResource: validateTypes([...TYPES.instance, ...TYPES.launchTemplate], (props, args, report) => {
    const { maxHopLimit } = configOf<ImdsConfig>(args, IMDS_SCHEMA);
    const problem = imdsProblem(props.metadataOptions, maxHopLimit);
    if (problem) report(problem);
  }),
};

/** The unencrypted disks a volume, instance or launch template declares, by device name. */
export function unencryptedDisks(type: string, props: Props): string[] {
  if (TYPES.volume.includes(type as (typeof TYPES.volume)[number]))
    return asBoolean(props.encrypted) === true ? [] : ["the volume"];
  if (TYPES.instance.includes(type as (typeof TYPES.instance)[number])) {
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

/** EBS volumes and instance block devices are encrypted. */
export const ebsVolumesEncrypted: ResourceRule = {
  name: "ebs-volumes-encrypted",
  description:
    "Checks whether EBS volumes, instance root and EBS block devices, and launch template EBS mappings are encrypted.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps:
    'Set encrypted: true on the volume or block device (launch templates: ebs.encrypted "true"), ideally with a customer-managed kmsKeyId.',
  configSchema: { properties: {} },
  validateResource: validateTypes(
    [...TYPES.volume, ...TYPES.instance, ...TYPES.launchTemplate],
    (props, args, report) => {
      const disks = unencryptedDisks(args.type, props);
      if (disks.length > 0) report(`Unencrypted: ${disks.join(", ")}. Set encrypted: true.`);
    },
  ),
};

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

/** The regions a stack deploys AWS resources to, and those with EBS encryption by default turned on. */
export function ebsDefaultEncryptionGaps(
  resources: ReadonlyArray<{
    type: string;
    props: Record<string, unknown>;
    provider?: { props: Record<string, unknown> };
  }>,
): string[] {
  const regions = new Set(resources.filter(isRegional).map(regionOf));
  const covered = new Set(
    ofTypes(resources as never, TYPES.encryptionByDefault)
      // Unknown during a preview counts as off (failing closed); programs write it as a literal.
      .filter((r) => {
        const enabled = read(r.props, "enabled");
        return enabled !== UNKNOWN && asBoolean(enabled) !== false;
      })
      .map(regionOf),
  );
  return [...regions].filter((region) => !covered.has(region)).sort();
}

/** EBS encryption by default is on in each region the program deploys to. */
export const ebsEncryptionByDefault: StackRule = {
  name: "ebs-encryption-by-default",
  description:
    "Checks whether EBS encryption by default is turned on in each region the program deploys AWS resources to (by resource region, else provider region).",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "medium",
  remediationSteps:
    "Add an aws.ebs.EncryptionByDefault { enabled: true } through the provider of each region (and an aws.ebs.DefaultKmsKey for a customer key).",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    if (!args.resources.some(isRegional)) args.notApplicable("The program deploys no regional AWS resources.");
    const gaps = ebsDefaultEncryptionGaps(args.resources);
    if (gaps.length > 0)
      report(
        `EBS encryption by default is not enabled in ${gaps.join(", ")}: add aws.ebs.EncryptionByDefault { enabled: true } for each.`,
      );
  },
};

/** Every compute rule. */
export const computeRules: Array<ResourceRule | StackRule> = [
  ec2Imdsv2Required,
  ebsVolumesEncrypted,
  ebsEncryptionByDefault,
];
