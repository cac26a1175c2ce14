/**
 * The vocabulary of `flz assess`: what a check is (its catalogue entry), what it found (a finding), and the outcome of
 * one read from AWS (a value, or the reason it could not be read). Everything here is plain JSON, so the facts of a run
 * can be kept in a state file and the register compared with the next run's.
 */

/** How much a gap hurts on the day of an incident. */
export type Severity = "critical" | "high" | "medium" | "low";

/** Severities from worst to mildest. */
export const SEVERITIES: readonly Severity[] = ["critical", "high", "medium", "low"];

/** NIST SP 800-61 (Rev. 2) incident-handling phase a check serves. */
export type NistPhase =
  "preparation" | "detection-and-analysis" | "containment-eradication-recovery" | "post-incident-activity";

/** Where a check looks: the organisation (management account), the forensic account, a member account, or one region of one. */
export type CheckScope = "organization" | "forensic" | "account" | "account-region";

/** One entry of the check catalogue. */
export interface CheckDefinition {
  /** Stable ID, `FLZ-<DOMAIN>-<nn>`; SARIF rule ID and baseline key. */
  readonly id: string;
  /** One line: what must be true. */
  readonly title: string;
  /** Incident impact when it is not. */
  readonly severity: Severity;
  /** NIST SP 800-61 phase. */
  readonly phase: NistPhase;
  /** AWS Well-Architected security practice (e.g. `SEC10-BP05`). */
  readonly wellArchitected: string;
  /** Where it looks. */
  readonly scope: CheckScope;
  /** The API calls it reads, as IAM actions (also the permission it needs). */
  readonly reads: readonly string[];
  /** Why it matters on the day, in incident terms. */
  readonly why: string;
  /** How to close it: this project's configuration key or `flz` command where there is one. */
  readonly fix: string;
}

/** What a check decided for one subject. */
export type FindingStatus = "pass" | "fail" | "unknown";

/** Where a finding applies. `account` and `region` are absent for organisation-wide findings. */
export interface FindingLocation {
  /** Account ID. */
  readonly account?: string;
  /** Region. */
  readonly region?: string;
  /** The resource it is about (trail ARN, bucket, key ARN, VPC ID, ...). */
  readonly resource?: string;
}

/** One check's verdict on one subject. */
export interface Finding extends FindingLocation {
  /** Catalogue ID of the check. */
  readonly check: string;
  /** Pass, fail, or unknown (could not be read: never a silent pass). */
  readonly status: FindingStatus;
  /** What is wrong (or right), in one sentence. */
  readonly message: string;
  /** The evidence read: `Api: field=value` lines. */
  readonly evidence: readonly string[];
}

/** The outcome of one read: the value, or why it could not be read. */
export type Read<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** A successful read. */
export function readOk<T>(value: T): Read<T> {
  return { ok: true, value };
}

/** A failed read, with the reason. */
export function readFailed<T>(error: string): Read<T> {
  return { ok: false, error };
}
