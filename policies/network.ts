/**
 * Network rules. A VPC used for forensic analysis (tagged with the forensic-network purpose) has no path to or from
 * the internet: evidence volumes are attached there, and malware under analysis must not call home.
 */
import { stackRule } from "./lib/rule";
import type { PolicyResource } from "@pulumi/policy";
import { configOf } from "./lib/config";
import { PURPOSE, PURPOSE_TAG_SCHEMA } from "./lib/purpose";
import { describe, linkOf, ofTypes, purposeOf, TYPES, type Link } from "./lib/resources";
import { UNKNOWN } from "./lib/unknowns";
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

/** Every network rule. */
export const networkRules: StackRule[] = [forensicVpcNoInternet];
