/**
 * What one capture run shares between its volumes and artefacts: the clients, the request, the ledger state it
 * resumed from, its run identity, and the small helpers every step records through (an outcome appended once, an
 * intent appended before a change, an untrusted candidate reported once).
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import pLimit from "p-limit";
import { callBudgetMs } from "../aws/timeouts";
import type { ClientFactory } from "../aws/clients";
import type { LandingZone } from "../contract";
import {
  INTENT_TAG,
  intentEvent,
  newIntentId,
  type Intent,
  type IntentIdentifier,
  type RunIdentity,
} from "../custody/intent";
import type { CustodyEvent, CustodyLedger, CustodyRecord, JsonValue } from "../custody/types";
import { CAPTURE_INTENT_ACTION, recordKey, type CaptureLedgerState } from "./ledger-state";
import { MAX_CONCURRENT_COPIES_PER_REGION, type CaptureRequest, type Destination, type SnapshotRef } from "./plan";
import type { CaptureProgress } from "./progress";
import type { DescribedSnapshot } from "./provenance";
import type { QuotaBackoffOptions, Sleep } from "../aws/backoff";

/**
 * Bounds concurrent snapshot copies per destination account and region (EBS allows 20; more are refused with
 * ResourceLimitExceeded). A copy holds its slot until it completes, because that is what the quota counts. Share
 * one queue between captures that run at the same time.
 */
export class CopyQueue {
  private readonly limits = new Map<string, ReturnType<typeof pLimit>>();

  constructor(private readonly perRegion = MAX_CONCURRENT_COPIES_PER_REGION) {}

  /** Runs `fn` when a copy slot in that account and region is free. */
  run<T>(account: string, region: string, fn: () => Promise<T>): Promise<T> {
    const key = `${account}|${region}`;
    let limit = this.limits.get(key);
    if (!limit) {
      limit = pLimit(this.perRegion);
      this.limits.set(key, limit);
    }
    return limit(fn);
  }
}

/** Options of a capture (see `captureInstance`). */
export interface CaptureOptions {
  /** Clients: forensic account through the forensic responder role, members through the member responder role. */
  readonly factory: ClientFactory;
  /** The landing-zone contract. */
  readonly landingZone: LandingZone;
  /** What to capture. */
  readonly request: CaptureRequest;
  /** The case's custody ledger; every step is appended to it. */
  readonly ledger: CustodyLedger;
  /** Progress reporting. Default: silent. */
  readonly progress?: CaptureProgress;
  /** Copy queue shared with other captures running at the same time. Default: a new one. */
  readonly queue?: CopyQueue;
  /** Milliseconds between snapshot polls (and between looks at another run's progress). Default 5 000. */
  readonly pollIntervalMs?: number;
  /** Backoff on ResourceLimitExceeded (defaults in `withQuotaBackoff`). */
  readonly quotaBackoff?: Omit<QuotaBackoffOptions, "deadline" | "onRetry" | "sleep">;
  /** Waits before each look for a creation whose answer was lost (AWS lists new snapshots eventually). */
  readonly settleMs?: readonly number[];
  /** Sleep (tests). */
  readonly sleep?: Sleep;
  /** Clock (tests). */
  readonly now?: () => Date;
}

/** A snapshot tagged for the case that is not evidence, and why. */
export interface UntrustedCandidate {
  /** Snapshot ID. */
  readonly snapshotId: string;
  /** Account it lives in. */
  readonly account: string;
  /** Region. */
  readonly region: string;
  /** The volume its tags claim. */
  readonly claimedVolume?: string;
  /** The stage its tags claim. */
  readonly claimedStage?: string;
  /** Why it is not trusted. */
  readonly reason: string;
}

/** Everything a capture run touches, resolved once. */
export interface Context {
  readonly options: CaptureOptions;
  readonly request: CaptureRequest;
  readonly lz: LandingZone;
  readonly destination: Destination;
  readonly memberSource: EC2Client;
  readonly memberDestination: EC2Client;
  readonly forensicDestination: EC2Client;
  readonly deadline: number;
  readonly progress: CaptureProgress;
  readonly queue: CopyQueue;
  readonly run: RunIdentity;
  readonly state: CaptureLedgerState;
  /** `action|subject` of every record, this run's included. */
  readonly recorded: Set<string>;
  /** Untrusted candidates found while resolving intents, by snapshot ID. */
  readonly untrusted: Map<string, UntrustedCandidate>;
  readonly now: () => Date;
}

/** Official-format ARN of a snapshot (EBS snapshot ARNs carry no account; the record's details do). */
export function snapshotArn(region: string, snapshotId: string): string {
  return `arn:aws:ec2:${region}::snapshot/${snapshotId}`;
}

/** Appends an event unless the ledger already has that action for that subject (a resumed run). */
export async function recordOnce(
  ctx: Pick<Context, "recorded" | "options">,
  subject: string,
  event: CustodyEvent,
): Promise<void> {
  const key = recordKey(event.action, subject);
  if (ctx.recorded.has(key)) return;
  await ctx.options.ledger.append(event);
  ctx.recorded.add(key);
}

/** The evidence item of a snapshot. */
export function snapshotEvidence(
  region: string,
  account: string,
  snap: Pick<SnapshotRef, "snapshotId" | "kmsKeyId">,
  extra: { [key: string]: JsonValue } = {},
) {
  return {
    kind: "snapshot",
    location: snapshotArn(region, snap.snapshotId),
    details: {
      account,
      region,
      snapshotId: snap.snapshotId,
      ...(snap.kmsKeyId ? { kmsKeyId: snap.kmsKeyId } : {}),
      ...extra,
    },
  };
}

/** What an intent of this run is about. */
export interface IntentSpec {
  readonly operation: string;
  readonly step: string;
  readonly account?: string;
  readonly region: string;
  readonly identifier?: IntentIdentifier;
  readonly before: { [key: string]: JsonValue };
  readonly undo: string;
  readonly subjects: string[];
  readonly facts: { [key: string]: JsonValue };
  /** Open intents of the same change that were looked for and not found: this one replaces them. */
  readonly supersedes?: readonly string[];
}

/**
 * Appends an intent before a change and resolves with it. Creations are tagged with the intent ID
 * (`identifier` defaults to that tag); the window in which the change may start is the call's whole time budget.
 */
export async function appendIntent(ctx: Context, spec: IntentSpec): Promise<{ intent: Intent; record: CustodyRecord }> {
  const id = newIntentId();
  const at = ctx.now();
  const factory = ctx.options.factory;
  const budget = callBudgetMs(factory.timeouts, spec.operation, factory.maxAttempts) * 5;
  const intent: Intent = {
    id,
    run: ctx.run,
    operation: spec.operation,
    step: spec.step,
    ...(spec.account ? { account: spec.account } : {}),
    region: spec.region,
    identifier: spec.identifier ?? { kind: "tag", key: INTENT_TAG, value: id },
    before: spec.before,
    undo: spec.undo,
    notAfter: new Date(at.getTime() + budget).toISOString(),
    ...(spec.supersedes?.length ? { supersedes: spec.supersedes } : {}),
    facts: {
      instance: ctx.request.instanceId,
      memberAccount: ctx.request.account,
      ...spec.facts,
    },
  };
  const record = await ctx.options.ledger.append(intentEvent(CAPTURE_INTENT_ACTION, spec.subjects, intent));
  return { intent, record };
}

/** Notes an untrusted candidate (once per snapshot; the reason found first is kept). */
export function noteUntrusted(ctx: Context, candidate: UntrustedCandidate): void {
  if (!ctx.untrusted.has(candidate.snapshotId)) ctx.untrusted.set(candidate.snapshotId, candidate);
}

/** The candidate as `noteUntrusted` wants it, from a described snapshot. */
export function candidateOf(
  snap: DescribedSnapshot,
  account: string,
  region: string,
  reason: string,
): UntrustedCandidate {
  return {
    snapshotId: snap.snapshotId,
    account,
    region,
    claimedVolume: snap.tags["flz:volume"],
    claimedStage: snap.tags["flz:stage"],
    reason,
  };
}
