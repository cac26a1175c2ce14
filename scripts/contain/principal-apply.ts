/**
 * Puts quarantine statements into a case's quarantine SCPs of one account, with the write-ahead intent protocol (PLAN.md
 * decision 5): the intent (the statements before, the undo) is recorded before Organizations is called, the
 * completion (the whole content of the case's policies afterwards, the drift check's reference) after. Shared by
 * `contain principal`, `contain account` and `contain technique`; `contain undo` reverses them through the quarantine
 * undo it already knows (`{ kind: "quarantine" }`), and `contain status` checks them like session revocations.
 */
import { canonicalize } from "json-canonicalize";
import type { PolicyStatement } from "../../components/documents";
import type { JsonValue } from "../custody/types";
import type { ContainContext, ContainResult, PlannedChange } from "./common";
import { findOpenIntent, recordCompletion, recordIntent, toJsonObject } from "./intent";
import {
  applyQuarantine,
  describeSteps,
  organizationsClient,
  planQuarantine,
  quarantineDetails,
  quarantineUndo,
} from "./quarantine";

/** What one containment puts. */
export interface StatementContainment {
  /** Ledger action of the completion. */
  readonly action: string;
  /** Record subjects (ARNs, account IDs). */
  readonly subjects: string[];
  /** Target keys (`quarantine:<kind>:<key>`): the undo rule and the drift check compare them. */
  readonly targets: string[];
  /** The account whose quarantine policies hold the statements (and that they are attached to). */
  readonly account: string;
  /** The statements to put (replacing any of the same Sid). */
  readonly statements: readonly PolicyStatement[];
  /** One line per statement for people, in the same order. */
  readonly descriptions: readonly string[];
  /** Facts for the record and the JSON output. */
  readonly details: { [key: string]: JsonValue };
}

/**
 * Places the statements, repairing drift of the case's other quarantine statements in the account on the way; a
 * rerun finds the statements in place and changes nothing (or completes an interrupted run's intent).
 */
export async function putQuarantineStatements(ctx: ContainContext, c: StatementContainment): Promise<ContainResult> {
  const caseId = ctx.ledger.caseId;
  const org = organizationsClient(ctx.factory, ctx.region);
  const records = await ctx.ledger.records();
  const open = findOpenIntent(records, c.action, c.targets);
  const plan = await planQuarantine(org, {
    caseId,
    account: c.account,
    records,
    restore: c.statements.map((statement) => ({ sid: statement.Sid ?? "", statement })),
  });
  // A statement is a change unless the ledger already holds exactly it (drift repairs are listed as steps and notes).
  const changed = (s: PolicyStatement): boolean => {
    const previous = plan.decisions.find((d) => d.sid === s.Sid)?.previous;
    return !previous || canonicalize(previous) !== canonicalize(s);
  };
  const target = c.subjects[0] ?? c.account;
  const changes: PlannedChange[] = [
    ...c.statements.flatMap((s, i) => (changed(s) ? [{ target, description: c.descriptions[i] }] : [])),
    ...describeSteps(plan).map((description) => ({ target, description })),
  ];
  const notes = [
    ...plan.drift.map((line) => `drift: ${line}; restoring what the ledger holds`),
    ...(open ? [`completing record ${open.sequence}, an interrupted ${c.action} of the same target`] : []),
  ];
  const details = {
    ...c.details,
    account: c.account,
    statements: c.statements.map((s) => s.Sid ?? ""),
    policies: plan.desired.filter((p) => p.statements.length > 0).map((p) => p.name),
  };
  if (plan.steps.length === 0 && !open) {
    return {
      action: c.action,
      dryRun: ctx.dryRun,
      changes: [],
      notes: [...notes, "already in effect: the case's quarantine policies hold exactly these statements"],
      details,
    };
  }
  if (ctx.dryRun) return { action: c.action, dryRun: true, changes, notes, details };
  const undo = open?.undo ?? toJsonObject({ kind: "quarantine", region: ctx.region, ...quarantineUndo(plan) });
  const intent =
    open ??
    (await recordIntent(ctx.ledger, {
      action: c.action,
      subjects: c.subjects,
      targets: c.targets,
      account: c.account,
      region: ctx.region,
      before: toJsonObject({ statements: plan.decisions.map((d) => ({ sid: d.sid, previous: d.previous })) }),
      plan: { steps: describeSteps(plan), drift: plan.drift },
      identifiers: { policies: plan.desired.map((p) => p.name) },
      undo,
    }));
  await applyQuarantine(org, plan);
  const record = await recordCompletion(ctx.ledger, intent, {
    action: c.action,
    subjects: c.subjects,
    details: { ...details, restored: plan.drift, quarantine: quarantineDetails(plan) },
    undo: intent.undo,
  });
  return { action: c.action, dryRun: false, changes, notes, details, record };
}
