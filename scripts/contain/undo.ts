/**
 * `contain undo`: reverses one recorded containment action from the undo information its ledger record carries, and
 * records the reversal. Each record's undo restores the state from just before that action, so undoing a re-run that
 * changed nothing changes nothing, and undoing the first run restores the original state.
 */
import type { CustodyRecord, JsonValue } from "../custody/types";
import { OperationError, UsageError } from "../errors";
import { isAccessKeyUndo, undoAccessKey } from "./access-key";
import { type ContainContext, type ContainResult, recordChanges } from "./common";
import { isInstanceUndo, undoInstance } from "./instance";
import { isSessionsUndo, undoSessions } from "./sessions";

/** Ledger action of an undo. */
export const UNDO_ACTION = "contain.undone";

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
  | { readonly kind: "undo"; readonly record: CustodyRecord }
  | { readonly kind: "already"; readonly record: CustodyRecord; readonly by: CustodyRecord };

/**
 * Finds the record to undo and refuses what cannot be undone: an unknown sequence, a record that is not a
 * containment action with undo information, and an undo itself. A record already undone is reported, not redone.
 */
export function decideUndo(records: CustodyRecord[], sequence: number, caseId: string): UndoDecision {
  const record = records.find((r) => r.sequence === sequence);
  if (!record) {
    const last = records.length > 0 ? records[records.length - 1].sequence : undefined;
    throw new UsageError(
      `case ${caseId} has no record ${sequence}: ${last === undefined ? "the case has no records yet" : `its records are 0 to ${last}`}`,
    );
  }
  if (record.action === UNDO_ACTION)
    throw new UsageError(
      `record ${sequence} of case ${caseId} is itself an undo: run the containment command again instead`,
    );
  if (!record.action.startsWith("contain.") || !record.undo) {
    throw new UsageError(
      `record ${sequence} of case ${caseId} (${record.action}) carries no undo information: only containment actions can be undone`,
    );
  }
  const by = records.find((r) => r.action === UNDO_ACTION && r.details?.undoes === sequence && r.outcome !== "failed");
  return by ? { kind: "already", record, by } : { kind: "undo", record };
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
  /** Sequence number of the record to undo. */
  readonly sequence: number;
  /** `--account`, if given: must match the record. */
  readonly account?: string;
  /** `--region`, if given: must match the record. */
  readonly region?: string;
}

/** Reverses the recorded action and records the reversal (outcome `failed` when a step could not be reversed). */
export async function undoAction(
  ctx: Omit<ContainContext, "account" | "region">,
  args: UndoArgs,
): Promise<ContainResult> {
  const caseId = ctx.ledger.caseId;
  const decision = decideUndo(await ctx.ledger.records(), args.sequence, caseId);
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
  let lines: string[];
  let failures: string[] = [];
  if (isSessionsUndo(undo)) lines = await undoSessions(placed, undo);
  else if (isAccessKeyUndo(undo)) lines = await undoAccessKey(placed, undo);
  else if (isInstanceUndo(undo)) ({ lines, failures } = await undoInstance(placed, undo));
  else
    throw new OperationError(
      `record ${args.sequence} carries undo information of an unknown kind ${JSON.stringify(undo.kind ?? null)}: this flz cannot reverse it`,
    );

  const changes = lines.map((description) => ({ target: decision.record.subjects[0] ?? "", description }));
  if (lines.length === 0) {
    return {
      action: UNDO_ACTION,
      dryRun: ctx.dryRun,
      changes,
      notes: [`record ${args.sequence} changed nothing, so there is nothing to undo`],
      details,
    };
  }
  if (ctx.dryRun) return { action: UNDO_ACTION, dryRun: true, changes, notes: [], details };
  const record = await recordChanges(ctx.ledger, {
    action: UNDO_ACTION,
    subjects: decision.record.subjects,
    details: { ...details, changes: lines, failures },
    outcome: failures.length > 0 ? "failed" : "succeeded",
    error: failures.length > 0 ? failures.join("; ") : undefined,
  });
  return { action: UNDO_ACTION, dryRun: false, changes, notes: [], details, record, failures };
}
