/**
 * Network rules. A VPC used for forensic analysis (tagged with the forensic-network purpose) has no path to or from
 * the internet: evidence volumes are attached there, and malware under analysis must not call home.
 */
import { stackRule } from "./lib/rule";
import type { PolicyResource } from "@pulumi/policy";
import { configOf } from "./lib/config";
import { PURPOSE, PURPOSE_TAG_SCHEMA } from "./lib/purpose";
import { attachedTo, describe, linkOf, ofTypes, purposeOf, TYPES, undecidedJoin, type Link } from "./lib/resources";
import { read, UNKNOWN } from "./lib/unknowns";
import { DEFAULT_ENFORCEMENT, type RuleConfigSchema, type StackRule } from "./lib/types";
import type { Props } from "./lib/values";

const SCHEMA: RuleConfigSchema = { properties: { purposeTagKey: PURPOSE_TAG_SCHEMA } };

/**
 * The gateways that give `vpc` a path to or from the internet (NAT gateways joined through their subnet), each with
 * whether the join is certain. A gateway whose VPC or subnet reference is unknown during a preview and cannot be
 * traced to one resource is listed as `undecided`: failing closed, it counts.
 */
export function internetPaths(
  resources: readonly PolicyResource[],
  vpc: PolicyResource,
): Array<{ gateway: PolicyResource; undecided: boolean }> {
  const inVpc = (r: PolicyResource): Link => linkOf(r, "vpcId", vpc, TYPES.vpc);
  const paths: Array<{ gateway: PolicyResource; undecided: boolean }> = [];
  for (const gateway of ofTypes(resources, [
    ...TYPES.internetGateway,
    ...TYPES.internetGatewayAttachment,
    ...TYPES.egressOnlyInternetGateway,
  ])) {
    const link = inVpc(gateway);
    if (link !== "no") paths.push({ gateway, undecided: link === "undecided" });
  }
  const subnets = ofTypes(resources, TYPES.subnet)
    .map((subnet) => ({ subnet, link: inVpc(subnet) }))
    .filter((s) => s.link !== "no");
  for (const nat of ofTypes(resources, TYPES.natGateway)) {
    const links = subnets.map((s) => ({ link: linkOf(nat, "subnetId", s.subnet, TYPES.subnet), via: s.link }));
    if (links.some((l) => l.link === "yes" && l.via === "yes")) paths.push({ gateway: nat, undecided: false });
    else if (links.some((l) => l.link !== "no")) paths.push({ gateway: nat, undecided: true });
  }
  return paths;
}

/** Forensic VPCs have no internet, egress-only or NAT gateway. */
export const forensicVpcNoInternet: StackRule = stackRule({
  name: "forensic-vpc-no-internet",
  description:
    "Checks whether a VPC tagged for forensic analysis has no internet gateway, egress-only internet gateway or NAT gateway.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps:
    "Remove the gateway; reach AWS APIs through VPC endpoints (interface endpoints and the S3 gateway endpoint), as ForensicVpc does.",
  configSchema: SCHEMA,
  validateStack: (args, report) => {
    const { purposeTagKey } = configOf<{ purposeTagKey: string }>(args, SCHEMA);
    // A VPC whose purpose tag is unknown during a preview may be the forensic one: failing closed, it is checked too.
    const vpcs = ofTypes(args.resources, TYPES.vpc).filter((v) => {
      const purpose = purposeOf(v.props as Props, purposeTagKey);
      return purpose === PURPOSE.forensicNetwork || purpose === UNKNOWN;
    });
    if (vpcs.length === 0) args.notApplicable(`No VPC is tagged ${purposeTagKey}=${PURPOSE.forensicNetwork}.`);
    for (const vpc of vpcs) {
      for (const { gateway, undecided } of internetPaths(args.resources, vpc))
        report(
          undecided
            ? `VPC ${vpc.name} is for forensic analysis and ${describe(gateway)} may give it an internet path: cannot verify during preview which VPC it belongs to (its vpcId or subnetId is unknown and names no single resource); failing closed.`
            : `VPC ${vpc.name} is for forensic analysis but ${describe(gateway)} gives it an internet path: remove it.`,
          gateway.urn,
        );
    }
  },
});

interface FlowLogConfig {
  acceptedTrafficTypes: string[];
}
const FLOW_LOG_SCHEMA: RuleConfigSchema = {
  properties: {
    acceptedTrafficTypes: {
      type: "array",
      items: { type: "string" },
      default: ["ALL"],
      description:
        'Flow-log traffic types that count: "ALL" records accepted and rejected flows (an investigation needs both: the exfiltration that succeeded, the scan that did not).',
    },
  },
};

/**
 * Every VPC has a flow log (`aws.ec2.FlowLog` joined by `vpcId`) of an accepted traffic type. Without one, the
 * network side of an intrusion (what talked to what, and when) is lost for good; it cannot be turned on afterwards.
 */
export const vpcFlowLogsEnabled: StackRule = stackRule({
  name: "vpc-flow-logs-enabled",
  description:
    "Checks whether every VPC the program creates has a flow log recording all traffic (accepted and rejected).",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps:
    'Add an aws.ec2.FlowLog { vpcId: vpc.id, trafficType: "ALL", logDestinationType: "cloud-watch-logs" or "s3", ... } for each VPC.',
  configSchema: FLOW_LOG_SCHEMA,
  validateStack: (args, report) => {
    const { acceptedTrafficTypes } = configOf<FlowLogConfig>(args, FLOW_LOG_SCHEMA);
    const vpcs = ofTypes(args.resources, TYPES.vpc);
    if (vpcs.length === 0) args.notApplicable("The program creates no VPC.");
    for (const vpc of vpcs) {
      const joined = attachedTo(args.resources, TYPES.flowLog, "vpcId", vpc, TYPES.vpc);
      const types = joined.attached.map((f) => read(f.props, "trafficType"));
      if (types.some((t) => typeof t === "string" && acceptedTrafficTypes.includes(t))) continue;
      if (types.includes(UNKNOWN)) {
        report(
          `VPC ${vpc.name}: cannot verify during preview: its flow log's trafficType is unknown until deployment; write it as a literal (failing closed).`,
          vpc.urn,
        );
      } else if (joined.attached.length === 0 && joined.undecided.length > 0) {
        report(`VPC ${vpc.name}: ${undecidedJoin(joined.undecided, "vpcId")}.`, vpc.urn);
      } else if (joined.attached.length > 0) {
        report(
          `VPC ${vpc.name} logs only ${types.map(String).join(", ")} traffic: set trafficType to ${acceptedTrafficTypes.join(" or ")}.`,
          vpc.urn,
        );
      } else {
        report(`VPC ${vpc.name} has no flow log: add an aws.ec2.FlowLog with vpcId and trafficType "ALL".`, vpc.urn);
      }
    }
  },
});

/** Every network rule. */
export const networkRules: StackRule[] = [forensicVpcNoInternet, vpcFlowLogsEnabled];
