/**
 * The gap register: every gap ranked by how many runbook steps it breaks across scenarios and accounts (then by
 * severity), a readiness score per account and for the organisation, the scopes that could not be read, and, given a
 * previous register, what improved and what regressed. Pure; rendered by `render-*.ts` and `sarif.ts`.
 */
import { CHECKS, checkDefinition } from "./catalog";
import { appliesTo, evaluateScenarios, isGap, type ScenarioDefinition, type ScenarioVerdict } from "./scenarios";
import { SEVERITIES, type CheckDefinition, type Finding, type Severity } from "./types";

/** Weight of a check in the score, by severity: a critical gap costs ten low ones. */
export const SEVERITY_WEIGHT: Record<Severity, number> = { critical: 10, high: 5, medium: 2, low: 1 };

/** A scope that could not be read, and why. */
export interface Unreadable {
  /** `organization` (management account), `forensic`, `account` or `region`. */
  readonly scope: "organization" | "forensic" | "account" | "region";
  /** Account, when the scope is one. */
  readonly account?: string;
  /** Region, when the scope is one. */
  readonly region?: string;
  /** The error. */
  readonly reason: string;
}

/** A runbook step a gap breaks. */
export interface BrokenStep {
  /** Scenario. */
  readonly scenario: string;
  /** Step. */
  readonly step: string;
  /** Account whose incident it breaks. */
  readonly account: string;
}

/** A gap with its rank. */
export interface RankedGap extends Finding {
  /** 1 = fix first. */
  readonly rank: number;
  /** The check's severity. */
  readonly severity: Severity;
  /** Stable identity across runs (check, account, region, resource). */
  readonly key: string;
  /** Runbook steps it breaks. */
  readonly breaks: readonly BrokenStep[];
}

/** Scores out of 100. */
export interface Scores {
  /** The whole organisation (every finding once). */
  readonly organization: number;
  /** Per account (its own findings and the organisation- and forensic-wide ones). */
  readonly accounts: Readonly<Record<string, number>>;
}

/** What changed since a previous register. */
export interface BaselineComparison {
  /** The previous register's file. */
  readonly file: string;
  /** When it was generated. */
  readonly generatedAt: string;
  /** Gaps then, closed now. */
  readonly improved: readonly string[];
  /** Gaps now, absent then. */
  readonly regressed: readonly string[];
  /** Gaps in both. */
  readonly unchanged: number;
  /** Score now minus score then. */
  readonly scoreDelta: Scores;
}

/** The assessment's result. */
export interface AssessmentReport {
  /** Format version. */
  readonly version: 1;
  /** When the register was made. */
  readonly generatedAt: string;
  /** When the run (first attempt, if resumed) started. */
  readonly startedAt: string;
  /** Organisation. */
  readonly organizationId: string;
  /** Forensic account. */
  readonly forensicAccountId: string;
  /** Accounts assessed. */
  readonly accounts: readonly string[];
  /** Regions assessed. */
  readonly regions: readonly string[];
  /** Scenarios assessed. */
  readonly scenarioNames: readonly string[];
  /** Days logs and evidence must be kept, and why. */
  readonly requiredRetention: { readonly days: number; readonly reason: string };
  /** True when every scope was read. */
  readonly complete: boolean;
  /** Scopes that could not be read. */
  readonly unreadable: readonly Unreadable[];
  /** The catalogue used. */
  readonly checks: readonly CheckDefinition[];
  /** Every finding, passes included. */
  readonly findings: readonly Finding[];
  /** Gaps, ranked. */
  readonly gaps: readonly RankedGap[];
  /** Scenario verdicts per account. */
  readonly scenarios: readonly ScenarioVerdict[];
  /** Scores. */
  readonly scores: Scores;
  /** Against a previous register, when given. */
  readonly baseline?: BaselineComparison;
}

/** A finding's identity across runs. */
export function gapKey(f: Finding): string {
  return [f.check, f.account ?? "", f.region ?? "", f.resource ?? ""].join("|");
}

/** Score out of 100 over findings, weighted by severity (unknown counts as a gap). */
export function score(findings: readonly Finding[]): number {
  let total = 0;
  let passed = 0;
  for (const f of findings) {
    const w = SEVERITY_WEIGHT[checkDefinition(f.check).severity];
    total += w;
    if (f.status === "pass") passed += w;
  }
  return total === 0 ? 100 : Math.round((100 * passed) / total);
}

/** Scores of the organisation and of each account. */
export function scores(findings: readonly Finding[], accounts: readonly string[]): Scores {
  return {
    organization: score(findings),
    accounts: Object.fromEntries(accounts.map((a) => [a, score(findings.filter((f) => appliesTo(f, a)))])),
  };
}

/** Ranks gaps: most runbook steps broken first, then severity, then catalogue order. */
export function rankGaps(findings: readonly Finding[], verdicts: readonly ScenarioVerdict[]): RankedGap[] {
  const breaks = new Map<string, BrokenStep[]>();
  for (const v of verdicts)
    for (const s of v.steps)
      for (const g of s.brokenBy) {
        const k = gapKey(g);
        breaks.set(k, [...(breaks.get(k) ?? []), { scenario: v.scenario, step: s.step, account: v.account }]);
      }
  const order = new Map(CHECKS.map((c, i) => [c.id, i]));
  const gaps = findings.filter(isGap).map((f) => ({
    finding: f,
    key: gapKey(f),
    severity: checkDefinition(f.check).severity,
    breaks: breaks.get(gapKey(f)) ?? [],
  }));
  gaps.sort(
    (a, b) =>
      b.breaks.length - a.breaks.length ||
      SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
      (order.get(a.finding.check) ?? 0) - (order.get(b.finding.check) ?? 0) ||
      a.key.localeCompare(b.key),
  );
  return gaps.map((g, i) => ({ ...g.finding, rank: i + 1, severity: g.severity, key: g.key, breaks: g.breaks }));
}

/** Compares with a previous register. */
export function compareWithBaseline(
  current: Pick<AssessmentReport, "gaps" | "scores">,
  previous: Pick<AssessmentReport, "gaps" | "scores" | "generatedAt">,
  file: string,
): BaselineComparison {
  const now = new Set(current.gaps.map((g) => g.key));
  const then = new Set(previous.gaps.map((g) => g.key));
  const accounts = Object.keys(current.scores.accounts);
  return {
    file,
    generatedAt: previous.generatedAt,
    improved: [...then].filter((k) => !now.has(k)).sort(),
    regressed: [...now].filter((k) => !then.has(k)).sort(),
    unchanged: [...now].filter((k) => then.has(k)).length,
    scoreDelta: {
      organization: current.scores.organization - previous.scores.organization,
      accounts: Object.fromEntries(
        accounts.map((a) => [a, current.scores.accounts[a] - (previous.scores.accounts[a] ?? 0)]),
      ),
    },
  };
}

/** Inputs of {@link buildReport}. */
export interface BuildReportArgs {
  readonly startedAt: string;
  readonly generatedAt: string;
  readonly organizationId: string;
  readonly forensicAccountId: string;
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
  readonly scenarios: readonly ScenarioDefinition[];
  readonly requiredRetention: { readonly days: number; readonly reason: string };
  readonly findings: readonly Finding[];
  readonly unreadable: readonly Unreadable[];
}

/** The register from the findings. */
export function buildReport(args: BuildReportArgs): AssessmentReport {
  const verdicts = evaluateScenarios(args.scenarios, args.accounts, args.findings);
  return {
    version: 1,
    generatedAt: args.generatedAt,
    startedAt: args.startedAt,
    organizationId: args.organizationId,
    forensicAccountId: args.forensicAccountId,
    accounts: args.accounts,
    regions: args.regions,
    scenarioNames: args.scenarios.map((s) => s.name),
    requiredRetention: args.requiredRetention,
    complete: args.unreadable.length === 0,
    unreadable: args.unreadable,
    checks: CHECKS,
    findings: args.findings,
    gaps: rankGaps(args.findings, verdicts),
    scenarios: verdicts,
    scores: scores(args.findings, args.accounts),
  };
}

/** Whether a gap at or above `threshold` exists (the exit-code decision); `none` never fails. */
export function failsThreshold(report: Pick<AssessmentReport, "gaps">, threshold: Severity | "none"): boolean {
  if (threshold === "none") return false;
  const limit = SEVERITIES.indexOf(threshold);
  return report.gaps.some((g) => SEVERITIES.indexOf(g.severity) <= limit);
}
