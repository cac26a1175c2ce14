/**
 * What every check needs: the assessment's inputs, the facts read, and small constructors for findings so that a
 * failed read always becomes an "unknown" finding naming the reason (never a silent pass).
 */
import type { LandingZone } from "../../contract";
import type { AccountFacts, ForensicFacts, OrganizationFacts, RegionFacts } from "../facts";
import { exemptedPrincipals } from "../policy";
import type { Finding, FindingLocation, Read } from "../types";

/** The inputs that decide what "ready" means for this organisation. */
export interface AssessmentSettings {
  /** The landing zone's outputs contract (forensic account, buckets, keys, role names, regions). */
  readonly landingZone: LandingZone;
  /** Accounts assessed. */
  readonly accounts: readonly string[];
  /** Regions assessed. */
  readonly regions: readonly string[];
  /** Days logs and evidence must be kept: the larger of the configured retention and the longest reporting window. */
  readonly requiredRetentionDays: number;
  /** Name of the break-glass role in the forensic account. */
  readonly breakGlassRoleName: string;
  /** Account detection is delegated to. Default: the forensic account. */
  readonly detectionAdminAccountId: string;
  /** A trail whose last delivery is older than this many hours is not delivering. */
  readonly deliveryMaxAgeHours: number;
  /** Time of the assessment (for delivery age). */
  readonly now: string;
}

/** Everything read, by scope; a scope that could not be read at all is a failed {@link Read}. */
export interface AssessmentFacts {
  /** Management account: organisation and trail. */
  readonly organization: Read<OrganizationFacts>;
  /** Forensic account: buckets, keys, break-glass, alarms. */
  readonly forensic: Read<ForensicFacts>;
  /** Per account. */
  readonly accounts: Readonly<Record<string, Read<AccountFacts>>>;
  /** Per `account|region`. */
  readonly regions: Readonly<Record<string, Read<RegionFacts>>>;
}

/** Key of an account-region unit. */
export function regionKey(account: string, region: string): string {
  return `${account}|${region}`;
}

/** A passing finding. */
export function pass(check: string, where: FindingLocation, message: string, evidence: string[]): Finding {
  return { check, ...where, status: "pass", message, evidence };
}

/** A failing finding. */
export function fail(check: string, where: FindingLocation, message: string, evidence: string[]): Finding {
  return { check, ...where, status: "fail", message, evidence };
}

/**
 * Evidence line naming the principals the denies of `documents` that cover `actions` on `resource` leave free to act
 * (their `aws:PrincipalArn` exemptions), or "nobody".
 *
 * @param documents - the policy documents in force (JSON text).
 * @param actions - the actions the guardrail must deny.
 * @param resource - the protected resource's ARN, or, when the actions are authorized on different resources, the
 *   resource of each action.
 */
export function exemptedEvidence(
  documents: readonly string[],
  actions: readonly string[],
  resource: string | ((action: string) => string),
): string {
  const exempted =
    typeof resource === "string"
      ? exemptedPrincipals(documents, actions, resource)
      : [...new Set(actions.flatMap((action) => exemptedPrincipals(documents, [action], resource(action))))].sort();
  return `exempted from the deny: ${exempted.join(", ") || "nobody"}`;
}

/** A finding for something that could not be read. */
export function unknown(check: string, where: FindingLocation, reason: string, what = "could not be read"): Finding {
  return { check, ...where, status: "unknown", message: `${what}: ${reason}`, evidence: [] };
}

/**
 * Runs `decide` on a read value, or returns one unknown finding per check when the read failed. `checks` names the
 * checks that needed the value.
 */
export function withRead<T>(
  read: Read<T>,
  checks: readonly string[],
  where: FindingLocation,
  decide: (value: T) => Finding[],
): Finding[] {
  if (!read.ok) return checks.map((c) => unknown(c, where, read.error));
  return decide(read.value);
}

/** Combines two reads: both values, or the first failure. */
export function both<A, B>(a: Read<A>, b: Read<B>): Read<[A, B]> {
  if (!a.ok) return a;
  if (!b.ok) return b;
  return { ok: true, value: [a.value, b.value] };
}

/** The role name at the end of a role ARN. */
export function roleNameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf("/") + 1);
}
