/**
 * What the authorization oracle says about a run (a drill, a test process), in figures and messages, for reports.
 */
import type { CallRecord } from "./decisions";
import { problemsOf } from "./messages";

/** The oracle's verdict on a run. */
export interface AuthorizationSummary {
  /** Whether the calls were evaluated (false when the oracle's development dependencies are not installed). */
  readonly checked: boolean;
  /** Why not, when not checked. */
  readonly note?: string;
  /** Calls recorded through the client factory. */
  readonly calls: number;
  /** Calls evaluated (made by the landing zone's principals or the operator). */
  readonly evaluatedCalls: number;
  /** Authorization requests evaluated (a call can need several: its resources, dependent actions, KMS via EC2/S3). */
  readonly requests: number;
  /** Calls by principals outside the landing zone (the seed's and the plant's administrator role), not evaluated. */
  readonly outsideCalls: number;
  /** Every request AWS would refuse, and every call the oracle could not evaluate: the run fails on any. */
  readonly problems: readonly string[];
}

/** Summarises `records`. */
export function summarize(records: readonly CallRecord[]): AuthorizationSummary {
  const evaluated = records.filter((r) => r.principal !== undefined);
  return {
    checked: true,
    calls: records.length,
    evaluatedCalls: evaluated.length,
    requests: evaluated.reduce((n, r) => n + r.decisions.length, 0),
    outsideCalls: records.length - evaluated.length,
    problems: problemsOf(records),
  };
}

/** The summary of a run the oracle could not check. */
export function unchecked(note: string): AuthorizationSummary {
  return { checked: false, note, calls: 0, evaluatedCalls: 0, requests: 0, outsideCalls: 0, problems: [] };
}

/** One line for people. */
export function summaryLine(summary: AuthorizationSummary): string {
  if (!summary.checked) return `authorization: NOT CHECKED (${summary.note ?? "oracle unavailable"})`;
  const verdict =
    summary.problems.length === 0 ? "every call authorized" : `${summary.problems.length} call(s) AWS would refuse`;
  return (
    `authorization: ${verdict} (${summary.evaluatedCalls} calls, ${summary.requests} requests evaluated against the ` +
    `stack's documents; ${summary.outsideCalls} set-up calls by the organisation's administrator role not evaluated)`
  );
}
