/**
 * Write-ahead intent (issue 19 item 2, PLAN.md decision 5): before a command changes AWS, the case's ledger holds an
 * intent record saying what is about to be done, the state before it, how it would be undone, and the identifier the
 * change can be found by afterwards (a client token where the API has one, otherwise a tag set at creation, or the
 * object key). A rerun reads the intents first: an intent no later record closes is looked for by its identifier;
 * found, it is recorded once as done; not found, it was never carried out and is done now under a new intent.
 *
 * Records: the intent is `<command>.intent` (`capture.intent`, `evidence.intent`) with `details.intent`; the record
 * that closes it names it in `details.intentId` (the outcome), or names it in `details.supersedes` (a new intent for
 * the same change, after the first was found not carried out). A failure closes an intent only when the change
 * certainly did not happen (`details.intentOutcome: "not-applied"`); after a fault with an unknown outcome the intent
 * stays open, so the next run looks for it.
 *
 * Runs: every intent names the run that wrote it (an ID, the host and the process). A run on the same host whose
 * process is gone is dead; a run elsewhere is presumed alive until its declared deadline.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { CustodyEvent, CustodyRecord, JsonValue } from "./types";

/** Tag key a created resource carries with the ID of the intent that created it. */
export const INTENT_TAG = "flz:intent";

/** Who is acting: one process running one command. */
export interface RunIdentity {
  /** Random ID of the run. */
  readonly id: string;
  /** Host name. */
  readonly host: string;
  /** Process ID on that host. */
  readonly pid: number;
}

/** This process's run identity (one per command run). */
export function newRun(): RunIdentity {
  return { id: randomUUID(), host: hostname(), pid: process.pid };
}

/** Whether a process exists on this host (a signal 0 probe: nothing is sent). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether a run may still be acting: on this host, while its process exists; elsewhere, until its deadline (ms since
 * epoch), since another host's processes cannot be seen from here.
 */
export function runMayBeAlive(
  run: RunIdentity,
  deadline: number | undefined,
  options: { now?: number; self?: RunIdentity; exists?: (pid: number) => boolean } = {},
): boolean {
  const self = options.self;
  if (self && run.id === self.id) return true;
  const now = options.now ?? Date.now();
  if (run.host === (self?.host ?? hostname())) {
    if (run.pid === (self?.pid ?? process.pid)) return false; // our own pid, another (earlier) run: that one is gone
    return (options.exists ?? processExists)(run.pid);
  }
  return deadline === undefined || now < deadline;
}

/** How the change is found again. */
export type IntentIdentifier =
  | { readonly kind: "tag"; readonly key: string; readonly value: string }
  | { readonly kind: "client-token"; readonly token: string }
  | { readonly kind: "object"; readonly bucket: string; readonly key: string }
  | { readonly kind: "state"; readonly description: string };

/** What an intent record says. */
export interface Intent {
  /** Intent ID (also the tag value or client token when the identifier is one). */
  readonly id: string;
  /** The run that wrote it. */
  readonly run: RunIdentity;
  /** AWS operation about to be called, e.g. `CreateSnapshot`. */
  readonly operation: string;
  /** What it acts on, in the command's own terms (`source`, `share`, `instance-record`, ...). */
  readonly step: string;
  /** Account and region of the change (account undefined: the forensic account). */
  readonly account?: string;
  /** Region of the change. */
  readonly region: string;
  /** How the change is found again. */
  readonly identifier: IntentIdentifier;
  /** The state before the change. */
  readonly before: { [key: string]: JsonValue };
  /** How the change would be undone (or why it cannot be). */
  readonly undo: string;
  /** Latest time the change can have started at (ISO 8601): the call's whole time budget after the intent. */
  readonly notAfter: string;
  /** The intents this one replaces (looked for and found not carried out). */
  readonly supersedes?: readonly string[];
  /** Anything else the command needs to resume (volume ID, expected hash, ...). */
  readonly facts?: { [key: string]: JsonValue };
}

/** The ledger event of an intent. */
export function intentEvent(action: string, subjects: string[], intent: Intent): CustodyEvent {
  return {
    action,
    subjects,
    details: {
      intent: JSON.parse(JSON.stringify(intent)) as JsonValue,
      ...(intent.supersedes?.length ? { supersedes: [...intent.supersedes] } : {}),
    },
  };
}

/** An intent as read back from the ledger, with the record that carries it. */
export interface RecordedIntent extends Intent {
  /** Sequence of the intent record. */
  readonly sequence: number;
  /** Time of the intent record (ISO 8601). */
  readonly time: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The intent a record carries, when it is an intent record (`<command>.intent`) of a well-formed shape. */
export function intentOf(record: CustodyRecord): RecordedIntent | undefined {
  if (!record.action.endsWith(".intent")) return undefined;
  const intent = record.details?.intent;
  if (!isObject(intent) || typeof intent.id !== "string" || !isObject(intent.run)) return undefined;
  if (typeof intent.operation !== "string" || typeof intent.step !== "string" || !isObject(intent.identifier))
    return undefined;
  return { ...(intent as unknown as Intent), sequence: record.sequence, time: record.time };
}

/** IDs of the intents a record closes (its outcome, a certain failure, or a superseding intent). */
export function intentsClosedBy(record: CustodyRecord): string[] {
  const d = record.details ?? {};
  const closed: string[] = [];
  if (typeof d.supersedes === "string") closed.push(d.supersedes);
  if (Array.isArray(d.supersedes)) closed.push(...d.supersedes.filter((s): s is string => typeof s === "string"));
  if (typeof d.intentId === "string") {
    const failed = record.outcome === "failed";
    if (!failed || d.intentOutcome === "not-applied") closed.push(d.intentId);
  }
  return closed;
}

/** Intents of a case's records that no later record closes, in ledger order. */
export function openIntents(records: readonly CustodyRecord[], action?: string): RecordedIntent[] {
  const closed = new Set(records.flatMap(intentsClosedBy));
  return records
    .filter((r) => action === undefined || r.action === action)
    .map(intentOf)
    .filter((i): i is RecordedIntent => i !== undefined && !closed.has(i.id));
}

/** A fresh intent ID. */
export function newIntentId(): string {
  return randomUUID();
}
