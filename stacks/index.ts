/**
 * The forensic landing zone stack: reads and validates the stack configuration, builds the landing zone, and
 * exports exactly the outputs contract of DESIGN.md §4 (what `pulumi stack output --json` hands to `flz`).
 */
import * as pulumi from "@pulumi/pulumi";
import { ForensicLandingZone } from "../components/forensicLandingZone";
import { parseStackConfig, StackConfigError } from "./config";

function loadConfig(): ReturnType<typeof parseStackConfig> {
  try {
    return parseStackConfig(pulumi.runtime.allConfig());
  } catch (err) {
    // A RunError is reported as its message alone: a configuration mistake deserves one line, not a stack trace.
    if (err instanceof StackConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

const landingZone = new ForensicLandingZone("flz", loadConfig());
const contract = landingZone.contract();

export const organizationId = contract.organizationId;
export const forensicAccountId = contract.forensicAccountId;
export const homeRegion = contract.homeRegion;
export const regions = contract.regions;
export const evidenceKeyArns = contract.evidenceKeyArns;
export const custodySigningKeyArn = contract.custodySigningKeyArn;
export const evidenceBucket = contract.evidenceBucket;
export const trailBucket = contract.trailBucket;
export const trailArn = contract.trailArn;
export const forensicResponderRoleArn = contract.forensicResponderRoleArn;
export const forensicInvestigatorRoleArn = contract.forensicInvestigatorRoleArn;
export const memberResponderRoleName = contract.memberResponderRoleName;
export const memberInvestigatorRoleName = contract.memberInvestigatorRoleName;
