/**
 * Where a case stands, read from its ledger alone (pure): who opened it and when the organisation became aware, every
 * action taken, which containments are still in effect as far as the ledger says, the evidence held with its hashes,
 * the last computed deadlines (re-marked against now) and the verification of the chain made for this status.
 *
 * "Still in effect" is what the ledger implies: a containment record that no later `contain.undone` record reverses.
 * Whether AWS still agrees (a policy removed by hand, a key re-activated) is the live drift check's question: see
 * {@link LiveState} and `scripts/cases/live.ts`, the one place that check plugs in.
 */
import { CLOCK_ACTION } from "../clock/case-events";
import { statusOf, type DeadlineStatus } from "../clock/deadlines";
import type { UnrecordedObject } from "../custody/orphans";
import type { CustodyRecord, JsonValue } from "../custody/types";
import { openingOf } from "./registry";

/** Ledger action of an undo (scripts/contain/undo.ts writes it). */
const UNDO_ACTION = "contain.undone";
/** Ledger action of a containment's write-ahead intent (scripts/contain/intent.ts). */
const INTENT_ACTION = "contain.intent";

/** One action as the status lists it. */
export interface ActionTaken {
  /** Record sequence. */
  readonly sequence: number;
  /** When, UTC. */
  readonly time: string;
  /** Action. */
  readonly action: string;
  /** Subjects. */
  readonly subjects: string[];
  /** Outcome. */
  readonly outcome: "succeeded" | "failed";
  /** Error line, when failed. */
  readonly error?: string;
}

/** What the live check found for one containment, when it ran. */
export interface LiveState {
  /** `in-effect`, `drifted` (no longer as recorded), or `not-checked`. */
  readonly state: "in-effect" | "drifted" | "not-checked";
  /** What was found, or why it was not checked. */
  readonly detail: string;
}

/** A containment the ledger says is still in effect. */
export interface ContainmentInEffect {
  /** Record that applied it. */
  readonly sequence: number;
  /** Since when. */
  readonly time: string;
  /** Containment action, e.g. `contain.sessions.revoked`. */
  readonly action: string;
  /** What it acted on. */
  readonly subjects: string[];
  /** Account and region it acted in, when the record says. */
  readonly account?: string;
  /** Region. */
  readonly region?: string;
  /** A later record of the same action on the same first subject (e.g. a moved cutoff), when there is one. */
  readonly supersededBy?: number;
  /** The command that reverses it. */
  readonly undoCommand: string;
  /** The live check's finding (filled in by the command; `not-checked` until a live check exists). */
  readonly live?: LiveState;
}

/** A containment that was reversed. */
export interface ContainmentUndone {
  /** Record that applied it. */
  readonly sequence: number;
  /** Action. */
  readonly action: string;
  /** Record that reversed it. */
  readonly undoneBy: number;
}

/** One piece of evidence the case holds. */
export interface EvidenceHeld {
  /** Record that vouches for it. */
  readonly sequence: number;
  /** Kind. */
  readonly kind: string;
  /** Location. */
  readonly location: string;
  /** SHA-256, when known. */
  readonly sha256?: string;
  /** Bytes, when known. */
  readonly bytes?: number;
}

/** A recorded deadline, re-marked against the status's `now`. */
export interface DeadlineNow {
  /** Regime. */
  readonly regime: string;
  /** Obligation. */
  readonly obligation: string;
  /** Due, UTC. */
  readonly dueUtc: string;
  /** Overdue, due soon or open, relative to now. */
  readonly status: DeadlineStatus;
}

/** The deadlines of the last clock record. */
export interface DeadlinesOfCase {
  /** Record that holds them. */
  readonly sequence: number;
  /** When they were computed. */
  readonly computedAt: string;
  /** The deadlines, earliest first. */
  readonly deadlines: DeadlineNow[];
}

/** The verification made for the status. */
export interface StatusVerification {
  /** Whether the chain verified. */
  readonly ok: boolean;
  /** The verdict line. */
  readonly verdict: string;
  /** Records that verified. */
  readonly verified: number;
  /** Records found. */
  readonly total: number;
  /** When it was made. */
  readonly at: string;
}

/** Everything `flz case status` shows. */
export interface CaseStatus {
  /** Case ID. */
  readonly caseId: string;
  /** What record 0 says, when it opens the case. */
  readonly opened?: {
    readonly title: string;
    readonly awarenessTime: string;
    readonly openedBy: string;
    readonly at: string;
    readonly actor: string;
  };
  /** Why record 0 does not open the case, when it does not. */
  readonly openingProblem?: string;
  /** Records read. */
  readonly records: number;
  /** Time of the last record. */
  readonly lastRecordAt?: string;
  /** Every action, in order (record 0 included). */
  readonly actions: ActionTaken[];
  /** Containments still in effect per the ledger. */
  readonly inEffect: ContainmentInEffect[];
  /** Containments reversed. */
  readonly undone: ContainmentUndone[];
  /** Evidence held. */
  readonly evidence: EvidenceHeld[];
  /** The last computed deadlines, when any. */
  readonly deadlines?: DeadlinesOfCase;
  /** The verification made now. */
  readonly verification: StatusVerification;
  /** The moment deadlines are marked against. */
  readonly now: string;
  /**
   * Objects in the case's folder that no record names (what a crash between a write and its record leaves, issue 19
   * item 4), with S3's SHA-256 of each; filled in by the command, which reads the bucket.
   */
  readonly unrecorded?: UnrecordedObject[];
  /** Why the bucket could not be read for {@link CaseStatus.unrecorded}, when it could not. */
  readonly unrecordedProblem?: string;
}

function text(value: JsonValue | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The containments of a case and which were reversed. */
export function containments(
  records: readonly CustodyRecord[],
  caseId: string,
): { inEffect: ContainmentInEffect[]; undone: ContainmentUndone[] } {
  const undoneBy = new Map<number, number>();
  for (const r of records) {
    if (r.action !== UNDO_ACTION || r.outcome === "failed") continue;
    const target = r.details?.undoes;
    if (typeof target === "number" && !undoneBy.has(target)) undoneBy.set(target, r.sequence);
  }
  // Intents (contain.intent) announce a containment; its completion record is the containment.
  const applied = records.filter(
    (r) =>
      r.action.startsWith("contain.") &&
      r.action !== UNDO_ACTION &&
      r.action !== INTENT_ACTION &&
      r.undo !== undefined &&
      r.undo !== null,
  );
  const inEffect: ContainmentInEffect[] = [];
  const undone: ContainmentUndone[] = [];
  for (const r of applied) {
    const by = undoneBy.get(r.sequence);
    if (by !== undefined) {
      undone.push({ sequence: r.sequence, action: r.action, undoneBy: by });
      continue;
    }
    const later = applied.find(
      (x) =>
        x.sequence > r.sequence &&
        x.action === r.action &&
        x.subjects[0] === r.subjects[0] &&
        !undoneBy.has(x.sequence),
    );
    inEffect.push({
      sequence: r.sequence,
      time: r.time,
      action: r.action,
      subjects: r.subjects,
      ...(text(r.undo?.account) ? { account: text(r.undo?.account) } : {}),
      ...(text(r.undo?.region) ? { region: text(r.undo?.region) } : {}),
      ...(later ? { supersededBy: later.sequence } : {}),
      undoCommand: `flz contain undo --case ${caseId} --action ${r.sequence}`,
    });
  }
  return { inEffect, undone };
}

/** The last clock record's deadlines, re-marked against `now`. */
export function lastDeadlines(records: readonly CustodyRecord[], now: Date): DeadlinesOfCase | undefined {
  const last = [...records].reverse().find((r) => r.action === CLOCK_ACTION && r.outcome !== "failed");
  const list = last?.details?.deadlines;
  if (!last || !Array.isArray(list)) return undefined;
  const deadlines: DeadlineNow[] = list.filter(isObject).flatMap((d) => {
    const due = text(d.dueUtc);
    if (!due || Number.isNaN(Date.parse(due))) return [];
    return [
      {
        regime: text(d.regime) ?? "?",
        obligation: text(d.obligation) ?? "?",
        dueUtc: due,
        status: statusOf(new Date(due), now, 24),
      },
    ];
  });
  return { sequence: last.sequence, computedAt: text(last.details?.computedAt) ?? last.time, deadlines };
}

/**
 * The status of a case from its readable records and the verification made now.
 *
 * @param caseId the case.
 * @param records every readable record, in sequence order.
 * @param verification the verification made for this status.
 * @param now the moment deadlines are marked against.
 */
export function caseStatus(
  caseId: string,
  records: readonly CustodyRecord[],
  verification: StatusVerification,
  now: Date,
): CaseStatus {
  const first = records[0];
  const read = first && first.sequence === 0 ? openingOf(first) : { reason: "is missing" };
  const { inEffect, undone } = containments(records, caseId);
  const deadlines = lastDeadlines(records, now);
  return {
    caseId,
    ...("opening" in read
      ? {
          opened: {
            title: read.opening.title,
            awarenessTime: read.opening.awarenessTime,
            openedBy: read.opening.openedBy,
            at: first.time,
            actor: first.actor,
          },
        }
      : { openingProblem: `record 0 ${read.reason}` }),
    records: records.length,
    ...(records.length > 0 ? { lastRecordAt: records[records.length - 1].time } : {}),
    actions: records.map((r) => ({
      sequence: r.sequence,
      time: r.time,
      action: r.action,
      subjects: r.subjects,
      outcome: r.outcome ?? "succeeded",
      ...(r.error ? { error: r.error } : {}),
    })),
    inEffect,
    undone,
    evidence: records.flatMap((r) =>
      (r.evidence ?? []).map((e) => ({
        sequence: r.sequence,
        kind: e.kind,
        location: e.location,
        ...(e.sha256 ? { sha256: e.sha256 } : {}),
        ...(e.bytes !== undefined ? { bytes: e.bytes } : {}),
      })),
    ),
    ...(deadlines ? { deadlines } : {}),
    verification,
    now: now.toISOString(),
  };
}
