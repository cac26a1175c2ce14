/**
 * The decisions of a quarantine change, as pure functions of what the organisation holds and what the ledger says:
 * which statements to put, keep or restore, which policies to create, update, attach, detach or delete, in an order
 * that never leaves a statement absent between two calls.
 */
import { canonicalize } from "json-canonicalize";
import {
  SCPS_PER_TARGET,
  placeQuarantineStatement,
  quarantineCutoff,
  quarantineSid,
  quarantineStatement,
  removeQuarantineStatement,
  type PolicyStatement,
  type QuarantinePolicyState,
  type QuarantineSubject,
} from "../../components/documents";
import type { CustodyRecord, JsonValue } from "../custody/types";
import type { JsonObject } from "./intent";
import {
  canonical,
  describeQuarantineDrift,
  expectedQuarantine,
  managementAccountRefusal,
  type QuarantineState,
} from "./quarantine-state";

/** One statement to put (or keep, when a later cutoff is already in place). */
export interface QuarantineEntry {
  /** Who. */
  readonly subject: QuarantineSubject;
  /** Sessions issued before this are denied. */
  readonly cutoff: string;
}

/** What happens to one subject's statement. */
export interface QuarantineDecision {
  /** The subject (absent for a restore by statement ID). */
  readonly subject?: QuarantineSubject;
  /** Its statement ID. */
  readonly sid: string;
  /** Its statement before (per the ledger), or null. */
  readonly previous: PolicyStatement | null;
  /** Its statement after, or null when removed. */
  readonly next: PolicyStatement | null;
  /** `put` (new or moved cutoff), `keep` (a later cutoff already denies at least as much), `remove`. */
  readonly kind: "put" | "keep" | "remove";
}

/** One Organizations call of a plan. */
export type QuarantineStep =
  | { readonly kind: "create"; readonly name: string; readonly statements: PolicyStatement[] }
  | { readonly kind: "update"; readonly name: string; readonly id: string; readonly statements: PolicyStatement[] }
  | { readonly kind: "attach"; readonly name: string; readonly id: string }
  | { readonly kind: "detach"; readonly name: string; readonly id: string }
  | { readonly kind: "delete"; readonly name: string; readonly id: string };

/** A quarantine change, decided before anything is called. */
export interface QuarantinePlan {
  /** The case. */
  readonly caseId: string;
  /** The member account. */
  readonly account: string;
  /** What the organisation held. */
  readonly state: QuarantineState;
  /** What the ledger says it should hold. */
  readonly expected: QuarantinePolicyState[];
  /** What it will hold: every policy of the case in the account (empty statements: deleted). */
  readonly desired: QuarantinePolicyState[];
  /** Per subject, what happens. */
  readonly decisions: QuarantineDecision[];
  /** Drift found (what differed from the ledger); the steps restore it. */
  readonly drift: string[];
  /** The calls, in a safe order (nothing is ever left unprotected between two calls). */
  readonly steps: QuarantineStep[];
}

/** Arguments of {@link planQuarantine}. */
export interface PlanQuarantineArgs {
  /** The case. */
  readonly caseId: string;
  /** The member account (of every subject). */
  readonly account: string;
  /** The case's records (the reference for what should be there). */
  readonly records: readonly CustodyRecord[];
  /** Statements to put. A later cutoff already recorded for a subject is kept (undo moves cutoffs back). */
  readonly put?: readonly QuarantineEntry[];
  /** Statements to restore to a recorded previous state (undo): the statement, or null to remove it. */
  readonly restore?: readonly { readonly sid: string; readonly statement: PolicyStatement | null }[];
}

const sameStatements = (a: readonly PolicyStatement[] | undefined, b: readonly PolicyStatement[]): boolean =>
  canonical(a) === canonical(b);

/** The calls that take the organisation from `state` to `desired` (and repair drift of the other expected policies). */
export function quarantineSteps(state: QuarantineState, desired: readonly QuarantinePolicyState[]): QuarantineStep[] {
  const creates: QuarantineStep[] = [];
  const attaches: QuarantineStep[] = [];
  const gaining: QuarantineStep[] = [];
  const losing: QuarantineStep[] = [];
  const detaches: QuarantineStep[] = [];
  const deletes: QuarantineStep[] = [];
  for (const policy of desired) {
    const found = state.found.find((f) => f.name === policy.name);
    if (policy.statements.length === 0) {
      if (found?.attached) detaches.push({ kind: "detach", name: found.name, id: found.id });
      if (found) deletes.push({ kind: "delete", name: found.name, id: found.id });
      continue;
    }
    if (!found) {
      creates.push({ kind: "create", name: policy.name, statements: [...policy.statements] });
      continue;
    }
    if (!sameStatements(found.statements, policy.statements)) {
      const before = new Set((found.statements ?? []).map((s) => canonicalize(s)));
      const gains = policy.statements.some((s) => !before.has(canonicalize(s)));
      (gains ? gaining : losing).push({
        kind: "update",
        name: found.name,
        id: found.id,
        statements: [...policy.statements],
      });
    }
    if (!found.attached) attaches.push({ kind: "attach", name: found.name, id: found.id });
  }
  // Denies are added before any is taken away, so a statement moving between policies is never absent.
  return [...creates, ...gaining, ...attaches, ...losing, ...detaches, ...deletes];
}

/**
 * Decides a quarantine change: the ledger's expected content, with drift repaired, and the requested statements put
 * (or restored) on top; the calls that get there. Pure apart from the state it is given.
 */
export function decideQuarantine(state: QuarantineState, args: PlanQuarantineArgs): QuarantinePlan {
  if (args.account === state.managementAccountId) throw managementAccountRefusal(args.account);
  const expected = expectedQuarantine(args.records, args.account);
  const drift = describeQuarantineDrift(expected, state.found);
  // Policies of this case found in AWS that the ledger does not hold (a crashed run's creation) are part of the plan.
  let desired: QuarantinePolicyState[] = [
    ...expected,
    ...state.found
      .filter((f) => !expected.some((e) => e.name === f.name))
      .map((f) => ({ name: f.name, statements: [] })),
  ];
  const placement = {
    caseId: args.caseId,
    accountId: args.account,
    maxPolicies: SCPS_PER_TARGET - state.otherAttached.length,
  };
  const decisions: QuarantineDecision[] = [];
  const current = (sid: string) => desired.flatMap((p) => p.statements).find((s) => s.Sid === sid) ?? null;
  for (const entry of args.put ?? []) {
    const next = quarantineStatement({ caseId: args.caseId, subject: entry.subject, cutoff: entry.cutoff });
    const sid = next.Sid ?? quarantineSid(args.caseId, entry.subject);
    const previous = current(sid);
    const previousCutoff = quarantineCutoff(previous ?? undefined);
    if (previous && previousCutoff !== undefined && Date.parse(previousCutoff) >= Date.parse(entry.cutoff)) {
      decisions.push({ subject: entry.subject, sid, previous, next: previous, kind: "keep" });
      continue;
    }
    desired = placeQuarantineStatement(desired, next, placement);
    decisions.push({ subject: entry.subject, sid, previous, next, kind: "put" });
  }
  for (const entry of args.restore ?? []) {
    const previous = current(entry.sid);
    desired = entry.statement
      ? placeQuarantineStatement(desired, entry.statement, placement)
      : removeQuarantineStatement(desired, entry.sid);
    decisions.push({
      sid: entry.sid,
      previous,
      next: entry.statement,
      kind: entry.statement ? "put" : "remove",
    });
  }
  return {
    caseId: args.caseId,
    account: args.account,
    state,
    expected,
    desired,
    decisions,
    drift,
    steps: quarantineSteps(state, desired),
  };
}

/** One line per step, for people (and dry runs). */
export function describeSteps(plan: QuarantinePlan): string[] {
  return plan.steps.map((step) => {
    switch (step.kind) {
      case "create":
        return `create quarantine SCP ${step.name} (${step.statements.length} statement(s)) and attach it to account ${plan.account}`;
      case "update":
        return `update quarantine SCP ${step.name} to ${step.statements.length} statement(s)`;
      case "attach":
        return `attach quarantine SCP ${step.name} to account ${plan.account}`;
      case "detach":
        return `detach quarantine SCP ${step.name} from account ${plan.account}`;
      case "delete":
        return `delete quarantine SCP ${step.name}`;
    }
  });
}

/**
 * The quarantine content a plan leaves (every policy of the case in the account, emptied ones with no statements),
 * for `details.quarantine` of the completion or undo record: the ledger's reference for the drift check.
 */
export function quarantineDetails(plan: QuarantinePlan): JsonObject {
  return {
    account: plan.account,
    policies: plan.desired.map((p) => ({
      name: p.name,
      statements: JSON.parse(JSON.stringify(p.statements)) as JsonValue,
    })),
  };
}
