/**
 * Network rules. A VPC used for forensic analysis (tagged with the forensic-network purpose) has no path to or from
 * the internet: evidence volumes are attached there, and malware under analysis must not call home.
 */
import type { PolicyResource } from "@pulumi/policy";
import { configOf } from "./lib/config";
import { PURPOSE, PURPOSE_TAG_SCHEMA } from "./lib/purpose";
import { describe, ofTypes, purposeOf, refersTo, TYPES } from "./lib/resources";
import { DEFAULT_ENFORCEMENT, type RuleConfigSchema, type StackRule } from "./lib/types";
import type { Props } from "./lib/values";

const SCHEMA: RuleConfigSchema = { properties: { purposeTagKey: PURPOSE_TAG_SCHEMA } };

/** The gateways that give `vpc` a path to or from the internet (NAT gateways joined through their subnet). */
export function internetPaths(resources: readonly PolicyResource[], vpc: PolicyResource): PolicyResource[] {
  const inVpc = (r: PolicyResource) => refersTo((r.props as Props).vpcId, vpc);
  const direct = ofTypes(resources, [
    ...TYPES.internetGateway,
    ...TYPES.internetGatewayAttachment,
    ...TYPES.egressOnlyInternetGateway,
  ]).filter(inVpc);
  const subnets = ofTypes(resources, TYPES.subnet).filter(inVpc);
  const nats = ofTypes(resources, TYPES.natGateway).filter((n) =>
    subnets.some((s) => refersTo((n.props as Props).subnetId, s)),
  );
  return [...direct, ...nats];
}

/** Forensic VPCs have no internet, egress-only or NAT gateway. */
export const forensicVpcNoInternet: StackRule = {
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
    const vpcs = ofTypes(args.resources, TYPES.vpc).filter(
      (v) => purposeOf(v.props as Props, purposeTagKey) === PURPOSE.forensicNetwork,
    );
    if (vpcs.length === 0) args.notApplicable(`No VPC is tagged ${purposeTagKey}=${PURPOSE.forensicNetwork}.`);
    for (const vpc of vpcs) {
      for (const gateway of internetPaths(args.resources, vpc))
        report(
          `VPC ${vpc.name} is for forensic analysis but ${describe(gateway)} gives it an internet path: remove it.`,
          gateway.urn,
        );
    }
  },
};

/** Every network rule. */
export const networkRules: StackRule[] = [forensicVpcNoInternet];
