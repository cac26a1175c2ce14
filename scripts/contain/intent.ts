/**
 * Write-ahead intent for containment (PLAN.md decision 5, issue 19 item 2). Before a containment changes AWS, the
 * case's ledger holds an intent record: what is about to be done, to which targets, the state before it, how to undo
 * it, and the identifiers the change can be found by (quarantine policy names, containment group names, tags). After
 * the change, a completion record names the intent it completes. So:
 *
 * - a crash at any point leaves either nothing done (no intent), or an open intent whose "before" is the true original
 *   state: a rerun of the same command finds the open intent, takes its "before" instead of re-reading a half-changed
 *   AWS (which would, say, save the allow-all group as an interface's original groups), finishes the work and records
 *   the completion once;
 * - `contain undo` of an interrupted containment restores the state before it began, from the intent.
 *
 * Every containment record carries `details.targets`: keys naming what it changed (`quarantine:<principal>`,
 * `access-key:<account>:<key>`, `instance:<account>:<region>:<id>`, `subnet:<account>:<region>:<id>`), which the undo
 * rule and the drift check compare.
 */
import type { CustodyEvent, CustodyLedger, CustodyRecord, JsonValue } from "../custody/types";
import { describeError, OperationError } from "../errors";

/** Ledger action of an intent record. */
export const INTENT_ACTION = "contain.intent";
/** Ledger action of an undo (imported here so the protocol knows what closes an intent). */
export const UNDO_ACTION = "contain.undone";

/** A JSON object, as records carry them. */
export type JsonObject = { [key: string]: JsonValue };

/** What a containment is about to do. */
export interface Intent {
  /** Ledger action of the completion record (`contain.sessions.revoked`, ...). */
  readonly action: string;
  /** Subjects of the records (ARNs, IDs). */
  readonly subjects: string[];
  /** Target keys (see the module comment). */
  readonly targets: string[];
  /** Member account acted in. */
  readonly account: string;
  /** Region acted in. */
  readonly region: string;
  /** The state before the change, as the command read it. */
  readonly before: JsonObject;
  /** What is about to change, for people and for a rerun. */
  readonly plan: JsonObject;
  /** How to find what the change creates (names, tags), so a rerun never makes it twice. */
  readonly identifiers?: JsonObject;
  /** Undo information that restores `before`. */
  readonly undo: JsonObject;
}

/** The target keys a record names. */
export function targetsOf(record: CustodyRecord): string[] {
  const targets = record.details?.targets;
  return Array.isArray(targets) ? targets.filter((t): t is string => typeof t === "string") : [];
}

/** The intent a completion or undo record completes, if any. */
export function intentSequenceOf(record: CustodyRecord): number | undefined {
  const value = record.details?.intent;
  return typeof value === "number" ? value : undefined;
}

/** The sequence an undo record reverses. */
export function undoneSequenceOf(record: CustodyRecord): number | undefined {
  const value = record.action === UNDO_ACTION ? record.details?.undoes : undefined;
  return typeof value === "number" ? value : undefined;
}

/** Whether the record is an intent. */
export function isIntent(record: CustodyRecord): boolean {
  return record.action === INTENT_ACTION;
}

/**
 * Whether a record completes the intent at `sequence`: it names it (`details.intent`), or lists it among the intents it
 * supersedes (`details.supersedes`: an intent whose append was interrupted inside the ledger's own protocol, written by
 * the ledger only after the rerun had already recorded a fresh intent; nothing had been changed under it).
 */
export function completes(record: CustodyRecord, sequence: number): boolean {
  if (intentSequenceOf(record) === sequence) return true;
  const superseded = record.details?.supersedes;
  return Array.isArray(superseded) && superseded.includes(sequence);
}

/** The completion action an intent announces. */
export function intentFor(record: CustodyRecord): string | undefined {
  const value = record.details?.for;
  return typeof value === "string" ? value : undefined;
}

/**
 * The records of one action: its intent (if it had one) and its completion. Given either sequence, returns both
 * (absent ones undefined). Records written before write-ahead intents existed are their own action.
 */
export function actionRecords(
  records: readonly CustodyRecord[],
  sequence: number,
): { intent?: CustodyRecord; completion?: CustodyRecord } {
  const record = records.find((r) => r.sequence === sequence);
  if (!record) return {};
  if (isIntent(record)) {
    const completion = records.find((r) => r.action !== UNDO_ACTION && intentSequenceOf(r) === sequence);
    return { intent: record, completion };
  }
  const intentSeq = intentSequenceOf(record);
  const intent = intentSeq === undefined ? undefined : records.find((r) => r.sequence === intentSeq && isIntent(r));
  return { intent, completion: record };
}

/** Whether an action (by any of its sequences) was undone by a later, not failed, undo record. */
export function undoneBy(records: readonly CustodyRecord[], sequences: readonly number[]): CustodyRecord | undefined {
  return records.find((r) => {
    const undone = undoneSequenceOf(r);
    return undone !== undefined && sequences.includes(undone) && r.outcome !== "failed";
  });
}

/**
 * The open intent of an action on the same targets: an intent for `action` whose targets equal `targets`, that no
 * record completed and no undo reversed. There is at most one in a well-formed ledger (a rerun completes it).
 */
export function findOpenIntent(
  records: readonly CustodyRecord[],
  action: string,
  targets: readonly string[],
): CustodyRecord | undefined {
  const wanted = [...targets].sort().join("\n");
  const open = records.filter(
    (r) =>
      isIntent(r) &&
      intentFor(r) === action &&
      [...targetsOf(r)].sort().join("\n") === wanted &&
      !records.some((c) => completes(c, r.sequence)) &&
      undoneBy(records, [r.sequence]) === undefined,
  );
  return open[open.length - 1];
}

/** Every intent of the case that no record completed and no undo reversed (for status and undo). */
export function openIntents(records: readonly CustodyRecord[]): CustodyRecord[] {
  return records.filter(
    (r) =>
      isIntent(r) && !records.some((c) => completes(c, r.sequence)) && undoneBy(records, [r.sequence]) === undefined,
  );
}

function extraTargets(event: CustodyEvent): string[] {
  const targets = event.details?.targets;
  return Array.isArray(targets) ? targets.filter((t): t is string => typeof t === "string") : [];
}

/** Appends the intent. Nothing has changed yet, so a refusal of the ledger stops the command cleanly. */
export async function recordIntent(ledger: CustodyLedger, intent: Intent): Promise<CustodyRecord> {
  try {
    return await ledger.append({
      action: INTENT_ACTION,
      subjects: intent.subjects,
      details: {
        for: intent.action,
        targets: intent.targets,
        account: intent.account,
        region: intent.region,
        before: intent.before,
        plan: intent.plan,
        identifiers: intent.identifiers ?? {},
      },
      undo: intent.undo,
    });
  } catch (err) {
    throw new OperationError(
      `the intent of ${intent.action} could not be recorded in the ledger of case ${ledger.caseId} (${describeError(err)}); nothing was changed`,
      { cause: err },
    );
  }
}

/**
 * Appends the completion of an intent: the event, with `details.intent` and `details.targets`. If the ledger refuses,
 * the changes stay made: the error carries the undo information, and the intent already in the ledger lets
 * `contain undo --action <intent>` reverse them.
 */
export async function recordCompletion(
  ledger: CustodyLedger,
  intent: CustodyRecord,
  event: CustodyEvent,
): Promise<CustodyRecord> {
  try {
    // Intents of the same action on the same targets that no record closes and that precede ours were interrupted
    // before anything was changed (otherwise the rerun would have found and continued them): this completion closes them.
    const records = await ledger.records();
    const superseded = records
      .filter(
        (r) =>
          r.sequence < intent.sequence &&
          isIntent(r) &&
          intentFor(r) === intentFor(intent) &&
          targetsOf(r).some((t) => targetsOf(intent).includes(t)) &&
          !records.some((c) => completes(c, r.sequence)) &&
          undoneBy(records, [r.sequence]) === undefined,
      )
      .map((r) => r.sequence);
    return await ledger.append({
      ...event,
      details: {
        ...(event.details ?? {}),
        ...(superseded.length > 0 ? { supersedes: superseded } : {}),
        intent: intent.sequence,
        // A rerun may reach further than the interrupted run planned (a subnet added): its targets join the intent's.
        targets: [...new Set([...targetsOf(intent), ...extraTargets(event)])],
      },
    });
  } catch (err) {
    throw new OperationError(
      `${event.action} was applied but its completion could not be recorded in the ledger of case ${ledger.caseId} (${describeError(err)}); its intent is record ${intent.sequence}: rerun the command to record it, or undo it with flz contain undo --case ${ledger.caseId} --action ${intent.sequence}`,
      { cause: err },
    );
  }
}

/** A plain value (undo information, statements) as the JSON object a record stores. */
export function toJsonObject(value: object): JsonObject {
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}
