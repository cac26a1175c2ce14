/**
 * Every rule of the pack, in documentation order, without constructing the pack: tests, the offline harness and
 * `npm run plan` import this; only `index.ts` hands it to `PolicyPack` (constructing one starts a gRPC server).
 */
import { computeRules } from "./compute";
import { detectionRules } from "./detection";
import { iamRules } from "./iam";
import { iamPermissionRules } from "./iam-permissions";
import { investigationRules } from "./investigation";
import { networkRules } from "./network";
import { kmsRules } from "./kms";
import { kmsAccessRules } from "./kms-access";
import { organizationRules } from "./organization";
import { storageRules } from "./storage";
import { trailRules } from "./trail";
import type { Rule } from "./lib/types";

/** Name the pack is served and published under. */
export const PACK_NAME = "forensic-landing-zone";

/** Every rule, grouped by domain. */
export const rulesByDomain: Record<string, Rule[]> = {
  trail: trailRules,
  storage: storageRules,
  kms: [...kmsRules, ...kmsAccessRules],
  iam: [...iamRules, ...iamPermissionRules],
  compute: computeRules,
  organization: organizationRules,
  network: networkRules,
  investigation: investigationRules,
  detection: detectionRules,
};

/** Every rule of the pack. */
export const allRules: Rule[] = Object.values(rulesByDomain).flat();
