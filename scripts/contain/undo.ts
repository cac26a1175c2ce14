/**
 * `contain undo`: reverses one recorded containment action from the undo information its records carry, and records
 * the reversal (intent first, then the undo record). Each action's undo restores the state from just before that
 * action, so:
 *
 * - an action interrupted by a crash (an intent without completion) is undone from its intent: the state before it
 *   began;
 * - an action whose target a later, still effective action changed is refused, naming that record (undoing the earlier
 *   one would silently discard the later containment, such as a cutoff moved forward): undo the later one first, or
 *   give `--force`.
 */
import type { CustodyRecord, JsonValue } from "../custody/types";
import { OperationError, UsageError } from "../errors";
import { isAccessKeyUndo, undoAccessKey } from "./access-key";
import type { ContainContext, ContainResult } from "./common";
import { isInstanceUndo, undoInstance } from "./instance-undo";
import {
  UNDO_ACTION,
  actionRecords,
  findOpenIntent,
  intentFor,
  isIntent,
  recordCompletion,
  recordIntent,
  targetsOf,
  undoneBy,
  undoneSequenceOf,
  type JsonObject,
} from "./intent";
import { isQuarantineUndo, organizationsClient, undoQuarantine } from "./quarantine";

export { UNDO_ACTION } from "./intent";

/** Parses `--action`: a record sequence number. */
export function parseSequence(text: string | undefined): number {
  // At most 15 digits: a longer number is no sequence, and would be echoed back as 1e+23.
  if (text === undefined || !/^\d{1,15}$/.test(text.trim())) {
    throw new UsageError(
      `--action ${text ?? "(missing)"} is not a record sequence number: give the number a contain command printed, such as 3`,
    );
  }
  return Number(text.trim());
}

/** What undoing a sequence means, given the case's records. */
export type UndoDecision =
  | {
      readonly kind: "undo";
      /** The record whose undo information is used (the completion, or the intent of an interrupted action). */
      readonly record: CustodyRecord;
      /** Sequences of the action (intent and completion). */
      readonly sequences: number[];
      /** True when the action was interrupted (intent without completion). */
      readonly interrupted: boolean;
      /** Later records that changed the same targets, overridden with `--force`. */
      readonly overridden: CustodyRecord[];
    }
  | { readonly kind: "already"; readonly record: CustodyRecord; readonly by: CustodyRecord };

/** The action (intent and completion sequences) a record belongs to. */
function groupOf(records: readonly CustodyRecord[], record: CustodyRecord): number[] {
  const { intent, completion } = actionRecords(records, record.sequence);
  return [intent?.sequence, completion?.sequence].filter((s): s is number => s !== undefined);
}

/**
 * Later records that changed a target of the action and are still in effect: containments (and their intents) that no
 * undo reversed, and undos of earlier actions. Undos of later actions, and later actions they reversed, do not count.
 */
export function laterChanges(records: readonly CustodyRecord[], sequences: readonly number[]): CustodyRecord[] {
  const own = new Set(sequences);
  const last = Math.max(...sequences);
  const targets = new Set(sequences.flatMap((s) => targetsOf(records.find((r) => r.sequence === s) as CustodyRecord)));
  return records.filter((r) => {
    if (r.sequence <= last || own.has(r.sequence) || !r.action.startsWith("contain.")) return false;
    if (!targetsOf(r).some((t) => targets.has(t))) return false;
    if (r.outcome === "failed" && r.action === UNDO_ACTION) return false;
    const undoes =
      r.action === UNDO_ACTION
        ? undoneSequenceOf(r)
        : isIntent(r) && intentFor(r) === UNDO_ACTION
          ? (r.details?.plan as { undoes?: JsonValue } | undefined)?.undoes
          : undefined;
    if (typeof undoes === "number") {
      // An undo: of this very action (a crashed earlier attempt) or of a later one, it does not override us.
      return !own.has(undoes) && undoes < last;
    }
    const group = groupOf(records, r);
    return undoneBy(records, group) === undefined;
  });
}

/**
 * Finds the action to undo and refuses what cannot be undone: an unknown sequence, a record that is not a containment
 * with undo information, an undo itself, and (without `force`) an action a later effective record changed.
 */
export function decideUndo(records: CustodyRecord[], sequence: number, caseId: string, force = false): UndoDecision {
  const record = records.find((r) => r.sequence === sequence);
  if (!record) {
    const last = records.length > 0 ? records[records.length - 1].sequence : undefined;
    throw new UsageError(
      `case ${caseId} has no record ${sequence}: ${last === undefined ? "the case has no records yet" : `its records are 0 to ${last}`}`,
    );
  }
  if (record.action === UNDO_ACTION || (isIntent(record) && intentFor(record) === UNDO_ACTION)) {
    throw new UsageError(
      `record ${sequence} of case ${caseId} is itself an undo: run the containment command again instead`,
    );
  }
  if (!record.action.startsWith("contain.") || !record.undo) {
    throw new UsageError(
      `record ${sequence} of case ${caseId} (${record.action}) carries no undo information: only containment actions can be undone`,
    );
  }
  const { intent, completion } = actionRecords(records, sequence);
  const sequences = groupOf(records, record);
  const by = undoneBy(records, sequences);
  if (by) return { kind: "already", record, by };
  const overridden = laterChanges(records, sequences);
  if (overridden.length > 0 && !force) {
    const later = overridden[overridden.length - 1];
    const shared = targetsOf(later).filter((t) =>
      sequences.some((s) => targetsOf(records.find((r) => r.sequence === s) as CustodyRecord).includes(t)),
    );
    throw new UsageError(
      `record ${later.sequence} (${later.action}) changed ${shared.join(", ")} after record ${sequence}: undo record ${later.sequence} first, or give --force to restore the state from before record ${sequence} anyway (discarding what record ${later.sequence} did)`,
    );
  }
  // A completed action's own undo (it knows what the run really did, e.g. a Standby that became a detach); an
  // interrupted one's intent (the state before it began).
  return {
    kind: "undo",
    record: completion ?? intent ?? record,
    sequences,
    interrupted: completion === undefined,
    overridden,
  };
}

/** Checks that `--account` / `--region`, when given, match where the action was taken. */
export function checkPlacement(
  undo: { [key: string]: JsonValue },
  account: string | undefined,
  region: string | undefined,
  sequence: number,
): void {
  if (account !== undefined && undo.account !== account) {
    throw new UsageError(
      `record ${sequence} acted in account ${String(undo.account)}, not ${account}: drop --account or give ${String(undo.account)}`,
    );
  }
  if (region !== undefined && undo.region !== region) {
    throw new UsageError(
      `record ${sequence} acted in region ${String(undo.region)}, not ${region}: drop --region or give ${String(undo.region)}`,
    );
  }
}

/** Options of {@link undoAction}. */
export interface UndoArgs {
  /** Sequence number of the record to undo (the containment's, or its intent's). */
  readonly sequence: number;
  /** `--account`, if given: must match the record. */
  readonly account?: string;
  /** `--region`, if given: must match the record. */
  readonly region?: string;
  /** `--force`: undo even though a later record changed the same target. */
  readonly force?: boolean;
}

/** The AWS side of an undo: what was (or would be) done, what failed, the quarantine content left. */
interface UndoOutcome {
  lines: string[];
  failures: string[];
  quarantine?: JsonObject;
}

async function reverse(
  ctx: ContainContext,
  undo: { [key: string]: JsonValue },
  records: readonly CustodyRecord[],
  sequence: number,
): Promise<UndoOutcome> {
  const caseId = ctx.ledger.caseId;
  const org = () => organizationsClient(ctx.factory, ctx.region);
  if (undo.kind === "quarantine" && isQuarantineUndo(undo)) {
    const done = await undoQuarantine({ org: org(), caseId, records, undo, dryRun: ctx.dryRun });
    return { lines: done.lines, failures: [], quarantine: done.quarantine };
  }
  if (isAccessKeyUndo(undo)) {
    const lines = await undoAccessKey(ctx, undo);
    if (!undo.quarantine) return { lines, failures: [] };
    const done = await undoQuarantine({ org: org(), caseId, records, undo: undo.quarantine, dryRun: ctx.dryRun });
    return { lines: [...lines, ...done.lines], failures: [], quarantine: done.quarantine };
  }
  if (isInstanceUndo(undo)) return undoInstance(ctx, undo);
  if (undo.kind === "sessions") {
    throw new OperationError(
      `record ${sequence} revoked sessions with the inline role policy ${String(undo.policyName)} (before flz used the organisation-level quarantine); the responder may no longer write IAM policies: an administrator of account ${String(undo.account)} must remove that policy from role ${String(undo.role)}`,
    );
  }
  throw new OperationError(
    `record ${sequence} carries undo information of an unknown kind ${JSON.stringify(undo.kind ?? null)}: this flz cannot reverse it`,
  );
}

/** Reverses the recorded action and records the reversal (outcome `failed` when a step could not be reversed). */
export async function undoAction(
  ctx: Omit<ContainContext, "account" | "region">,
  args: UndoArgs,
): Promise<ContainResult> {
  const caseId = ctx.ledger.caseId;
  const records = await ctx.ledger.records();
  const decision = decideUndo(records, args.sequence, caseId, args.force === true);
  const undo = decision.record.undo ?? {};
  checkPlacement(undo, args.account, args.region, args.sequence);
  const details: { [key: string]: JsonValue } = { undoes: args.sequence, undoneAction: decision.record.action };
  if (decision.kind === "already") {
    return {
      action: UNDO_ACTION,
      dryRun: ctx.dryRun,
      changes: [],
      notes: [`record ${args.sequence} was already undone by record ${decision.by.sequence}`],
      details,
    };
  }
  const placed: ContainContext = { ...ctx, account: String(undo.account), region: String(undo.region) };
  const notes = [
    ...(decision.interrupted
      ? [`record ${args.sequence} was interrupted before it completed: restoring the state from before it began`]
      : []),
    ...decision.overridden.map(
      (r) => `--force: record ${r.sequence} (${r.action}) changed the same target later; its change is discarded`,
    ),
  ];
  const subjects = decision.record.subjects;
  const targets = [
    ...new Set(decision.sequences.flatMap((s) => targetsOf(records.find((r) => r.sequence === s) as CustodyRecord))),
  ];
  if (ctx.dryRun) {
    const planned = await reverse(placed, undo, records, args.sequence);
    const changes = planned.lines.map((description) => ({ target: subjects[0] ?? "", description }));
    return { action: UNDO_ACTION, dryRun: true, changes, notes, details };
  }
  const open = findOpenIntent(records, UNDO_ACTION, targets);
  const intent =
    open && (open.details?.plan as { undoes?: JsonValue } | undefined)?.undoes === args.sequence
      ? open
      : await recordIntent(ctx.ledger, {
          action: UNDO_ACTION,
          subjects,
          targets,
          account: placed.account,
          region: placed.region,
          before: {},
          plan: { undoes: args.sequence, force: args.force === true },
          undo: { kind: "irreversible", reason: "an undo is reversed by running the containment again" },
        });
  const outcome = await reverse(placed, undo, records, args.sequence);
  const changes = outcome.lines.map((description) => ({ target: subjects[0] ?? "", description }));
  const record = await recordCompletion(ctx.ledger, intent, {
    action: UNDO_ACTION,
    subjects,
    details: {
      ...details,
      account: placed.account,
      region: placed.region,
      changes: outcome.lines,
      failures: outcome.failures,
      forced: decision.overridden.map((r) => r.sequence),
      ...(outcome.quarantine ? { quarantine: outcome.quarantine } : {}),
    },
    outcome: outcome.failures.length > 0 ? "failed" : "succeeded",
    error: outcome.failures.length > 0 ? outcome.failures.join("; ") : undefined,
  });
  if (outcome.lines.length === 0) notes.push(`record ${args.sequence} changed nothing, so there was nothing to undo`);
  return { action: UNDO_ACTION, dryRun: false, changes, notes, details, record, failures: outcome.failures };
}
