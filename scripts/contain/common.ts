/**
 * What every containment action shares: where it acts, the ledger it records in, what it reports back, and the
 * small validators of the identifiers operators type under pressure.
 */
import { quarantineSubjectKey, type QuarantineSubject } from "../../components/documents/quarantine";
import type { ClientFactory } from "../aws/clients";
import type { CustodyLedger, CustodyRecord, JsonValue } from "../custody/types";
import { isValidCaseId } from "../custody/record";
import { UsageError } from "../errors";

/** Where and how a containment action runs. */
export interface ContainContext {
  /** Hands out clients; member accounts are reached through the member responder role, tagged with the case. */
  readonly factory: ClientFactory;
  /** The case's ledger; every change is appended here with its undo information. Not written on a dry run. */
  readonly ledger: CustodyLedger;
  /** Member account the action acts in (12 digits). */
  readonly account: string;
  /** Region of the action (IAM is global, but its client still needs one). */
  readonly region: string;
  /** Show what would change and change nothing (no AWS write, no ledger record). */
  readonly dryRun: boolean;
}

/** One change a containment action makes (or would make, on a dry run). */
export interface PlannedChange {
  /** What is changed: an ARN, instance ID, interface ID, key ID. */
  readonly target: string;
  /** One line for people: what changes, from what to what. */
  readonly description: string;
}

/** What a containment action reports back to the command. */
export interface ContainResult {
  /** Ledger action name, e.g. `contain.sessions.revoked`. */
  readonly action: string;
  /** Whether this was a dry run (nothing changed, nothing recorded). */
  readonly dryRun: boolean;
  /** The changes made (or that would be made); empty when everything was already contained. */
  readonly changes: PlannedChange[];
  /** Facts worth printing: other keys and their last use, notes about tracked paths, skipped steps. */
  readonly notes: string[];
  /** The ledger record written, absent on a dry run. */
  readonly record?: CustodyRecord;
  /** Steps that failed (the others still ran and are recorded); the command exits 1 when there is any. */
  readonly failures?: string[];
  /**
   * Work started beside the containment that outlives it (the `--capture` capture, which waits for snapshots): the
   * containment is recorded without waiting for it; the command waits for it and prints its outcome.
   */
  readonly pending?: Promise<{ [key: string]: JsonValue }>;
  /** Extra machine-readable facts (also stored in the record's details). */
  readonly details: { [key: string]: JsonValue };
}

/** Validates a 12-digit account ID. */
export function requireAccountId(value: string | undefined, flag = "--account"): string {
  if (!value || !/^\d{12}$/.test(value)) {
    throw new UsageError(
      `${flag} ${value ?? "(missing)"} is not an AWS account ID: give the 12 digits of the member account`,
    );
  }
  return value;
}

/** Validates a region name. */
export function requireRegion(value: string | undefined): string {
  if (!value || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(value)) {
    throw new UsageError(`--region ${value ?? "(missing)"} is not an AWS region: give a name such as us-east-1`);
  }
  return value;
}

/** Validates a case ID: what the ledger, session names and tags carry. */
export function requireCaseId(value: string | undefined): string {
  if (!value || !isValidCaseId(value)) {
    throw new UsageError(
      `--case ${value ?? "(missing)"} is not a usable case ID: 1 to 128 letters, digits and . _ - + = @, starting with a letter or digit (for example IR-2026-0042)`,
    );
  }
  return value;
}

/** Partition of an ARN in the account's partition; the emulator and commercial regions use `aws`. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/** The `name` of an AWS SDK error, when it is one. */
export function awsErrorName(err: unknown): string | undefined {
  if (err && typeof err === "object" && "name" in err) return String((err as { name: unknown }).name);
  return undefined;
}

/** Target key of a quarantine statement (see `intent.ts`). */
export function quarantineTarget(subject: QuarantineSubject): string {
  return `quarantine:${quarantineSubjectKey(subject)}`;
}

/** Target key of an access key. */
export function accessKeyTarget(account: string, accessKeyId: string): string {
  return `access-key:${account}:${accessKeyId}`;
}

/** Target key of an instance. */
export function instanceTarget(account: string, region: string, instanceId: string): string {
  return `instance:${account}:${region}:${instanceId}`;
}

/** Target key of a subnet (its network ACL association). */
export function subnetTarget(account: string, region: string, subnetId: string): string {
  return `subnet:${account}:${region}:${subnetId}`;
}
