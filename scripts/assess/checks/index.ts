/**
 * Runs every check over the facts of an assessment. Pure: the same facts give the same findings, in a stable order.
 * A scope that could not be read yields "unknown" findings for each check that needed it, naming why.
 */
import { CHECKS } from "../catalog";
import type { Finding } from "../types";
import { accountAccessChecks, breakGlassChecks } from "./access";
import { regionKey, unknown, type AssessmentFacts, type AssessmentSettings } from "./common";
import { computeChecks } from "./compute";
import { detectionChecks } from "./detection";
import { KEY_CHECKS, keyChecks } from "./keys";
import { networkChecks } from "./network";
import { accountGuardrailChecks, organizationChecks } from "./organization";
import { STORAGE_CHECKS, storageChecks } from "./storage";
import { TRAIL_CHECKS, trailChecks } from "./trail";

export { regionKey, type AssessmentFacts, type AssessmentSettings } from "./common";

/** Checks evaluated per account and region. */
export const REGION_CHECKS: readonly string[] = CHECKS.filter((c) => c.scope === "account-region").map((c) => c.id);

const ORDER = new Map(CHECKS.map((c, i) => [c.id, i]));

/** Stable order: catalogue order, then account, region, resource. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    (ORDER.get(a.check) ?? 0) - (ORDER.get(b.check) ?? 0) ||
    (a.account ?? "").localeCompare(b.account ?? "") ||
    (a.region ?? "").localeCompare(b.region ?? "") ||
    (a.resource ?? "").localeCompare(b.resource ?? "")
  );
}

/** Every finding of the assessment. */
export function runChecks(settings: AssessmentSettings, facts: AssessmentFacts): Finding[] {
  const out: Finding[] = [];
  const lz = settings.landingZone;
  if (facts.organization.ok) out.push(...trailChecks(facts.organization.value, settings));
  else out.push(...TRAIL_CHECKS.map((c) => unknown(c, {}, facts.organization.ok ? "" : facts.organization.error)));
  out.push(...organizationChecks(facts.organization, settings));

  if (facts.forensic.ok) {
    out.push(...storageChecks(facts.forensic.value, settings));
    out.push(...keyChecks(facts.forensic.value, facts.organization, settings));
    out.push(...breakGlassChecks(facts.forensic.value, facts.organization, settings));
  } else {
    const reason = facts.forensic.error;
    out.push(
      ...[...STORAGE_CHECKS, ...KEY_CHECKS, "FLZ-ROLE-03", "FLZ-ROLE-04", "FLZ-ROLE-05"].map((c) =>
        unknown(c, { account: lz.forensicAccountId }, reason, "the forensic account could not be read"),
      ),
    );
  }

  for (const account of settings.accounts) {
    const accountFacts = facts.accounts[account] ?? { ok: false, error: "not assessed (interrupted)" };
    out.push(...accountAccessChecks(account, accountFacts, settings));
    out.push(...accountGuardrailChecks(facts.organization, account, settings));
    if (!accountFacts.ok) {
      // One finding per check for the whole account, not one per region: the reason is the same everywhere.
      out.push(...REGION_CHECKS.map((c) => unknown(c, { account }, accountFacts.error, "not read in any region")));
      continue;
    }
    for (const region of settings.regions) {
      const regionFacts = facts.regions[regionKey(account, region)] ?? {
        ok: false,
        error: "not assessed (interrupted)",
      };
      if (!regionFacts.ok) {
        out.push(...REGION_CHECKS.map((c) => unknown(c, { account, region }, regionFacts.error)));
        continue;
      }
      out.push(...detectionChecks(account, region, regionFacts.value, facts.organization, settings));
      out.push(...networkChecks(account, region, regionFacts.value, settings));
      out.push(...computeChecks(account, region, regionFacts.value));
    }
  }
  return out.sort(compareFindings);
}
