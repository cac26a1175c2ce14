/**
 * The reporting obligations `flz clock` knows (REFERENCE.md "Reporting clocks"): for each, the event that starts
 * it and the period to its deadline. A table, not code, so adding a regime is adding rows.
 */

/** Events that start a reporting clock. */
export type StartEvent = "aware" | "determined" | "classified" | "notified" | "intermediate-reported" | "ransom-paid";

/** Every start event, in the order an incident usually meets them. */
export const START_EVENTS: readonly StartEvent[] = [
  "aware",
  "determined",
  "classified",
  "notified",
  "intermediate-reported",
  "ransom-paid",
];

/** What each start event means, as printed next to a deadline and in `--help`. */
export const START_EVENT_DESCRIPTIONS: Record<StartEvent, string> = {
  aware: "became aware of the incident (NIS2, GDPR, DORA) / discovered the breach (HIPAA)",
  determined:
    "determined the incident is material (SEC) / that a cybersecurity incident occurred (NYDFS) / reasonably believes a covered incident occurred (CIRCIA)",
  classified: "classified the incident as major (DORA)",
  notified: "submitted the incident notification (NIS2) / initial notification (DORA)",
  "intermediate-reported": "submitted the (latest) intermediate report (DORA)",
  "ransom-paid": "made an extortion or ransom payment (NYDFS, CIRCIA)",
};

/** Regulatory regimes, as named on the command line. */
export type Regime = "gdpr" | "nis2" | "dora" | "sec" | "hipaa" | "nydfs" | "circia";

/** Every regime, in the order `--regime all` lists them. */
export const REGIMES: readonly Regime[] = ["gdpr", "nis2", "dora", "sec", "hipaa", "nydfs", "circia"];

/** How long after its start event an obligation falls due. */
export type Period =
  | { readonly kind: "hours"; readonly hours: number }
  | { readonly kind: "calendar-days"; readonly days: number }
  | { readonly kind: "months"; readonly months: number }
  | {
      /** Business days after the start date, due at a cut-off wall time in a zone on the last one. */
      readonly kind: "us-business-days";
      readonly days: number;
      /** Cut-off hour on the due day, in {@link Period.zone}. */
      readonly cutoffHour: number;
      /** Cut-off minute. */
      readonly cutoffMinute: number;
      /** Zone whose calendar counts the days and holds the cut-off. */
      readonly zone: string;
    };

/** One reporting obligation. */
export interface ReportingRule {
  /** Regime it belongs to. */
  readonly regime: Regime;
  /** What must be done, in the regime's words. */
  readonly obligation: string;
  /** Legal source, so a reader can check us. */
  readonly citation: string;
  /** Event that starts the clock. */
  readonly start: StartEvent;
  /** Time from the start event to the deadline. */
  readonly period: Period;
  /** A caveat printed with the deadline, when the rule is simplified. */
  readonly note?: string;
}

/**
 * SEC filings are accepted until 17:30 Eastern on a business day (EDGAR's regular close): the earliest reading of
 * "within four business days", so the clock never shows a later deadline than the filing desk will honour.
 */
const SEC_PERIOD: Period = {
  kind: "us-business-days",
  days: 4,
  cutoffHour: 17,
  cutoffMinute: 30,
  zone: "America/New_York",
};

/** The obligations, by regime. */
export const REPORTING_RULES: readonly ReportingRule[] = [
  {
    regime: "gdpr",
    obligation: "notify the supervisory authority of the personal data breach",
    citation: "GDPR Art. 33(1)",
    start: "aware",
    period: { kind: "hours", hours: 72 },
  },
  {
    regime: "nis2",
    obligation: "early warning to the CSIRT or competent authority",
    citation: "NIS2 Art. 23(4)(a)",
    start: "aware",
    period: { kind: "hours", hours: 24 },
  },
  {
    regime: "nis2",
    obligation: "incident notification",
    citation: "NIS2 Art. 23(4)(b)",
    start: "aware",
    period: { kind: "hours", hours: 72 },
  },
  {
    regime: "nis2",
    obligation: "final report",
    citation: "NIS2 Art. 23(4)(d)",
    start: "notified",
    period: { kind: "months", months: 1 },
  },
  {
    regime: "dora",
    obligation: "initial notification (4 h after classification as major)",
    citation: "DORA Art. 19(4); Delegated Regulation (EU) 2025/301",
    start: "classified",
    period: { kind: "hours", hours: 4 },
  },
  {
    regime: "dora",
    obligation: "initial notification (24 h after awareness, at the latest)",
    citation: "DORA Art. 19(4); Delegated Regulation (EU) 2025/301",
    start: "aware",
    period: { kind: "hours", hours: 24 },
    note: "whichever initial-notification deadline comes first binds",
  },
  {
    regime: "dora",
    obligation: "intermediate report",
    citation: "DORA Art. 19(4); Delegated Regulation (EU) 2025/301",
    start: "notified",
    period: { kind: "hours", hours: 72 },
  },
  {
    regime: "dora",
    obligation: "final report",
    citation: "DORA Art. 19(4); Delegated Regulation (EU) 2025/301",
    start: "intermediate-reported",
    period: { kind: "months", months: 1 },
  },
  {
    regime: "sec",
    obligation: "file Form 8-K Item 1.05 (material cybersecurity incident)",
    citation: "Form 8-K General Instruction B.1; Item 1.05",
    start: "determined",
    period: SEC_PERIOD,
    note: "due 17:30 New York time on the 4th US business day after the determination date; add one-off federal closures with --us-closure",
  },
  {
    regime: "hipaa",
    obligation: "notify affected individuals (and HHS and the media if 500 or more)",
    citation: "45 CFR 164.404(b), 164.406, 164.408",
    start: "aware",
    period: { kind: "calendar-days", days: 60 },
  },
  {
    regime: "nydfs",
    obligation: "notify the superintendent of the cybersecurity incident",
    citation: "23 NYCRR 500.17(a)",
    start: "determined",
    period: { kind: "hours", hours: 72 },
  },
  {
    regime: "nydfs",
    obligation: "notice of the extortion payment",
    citation: "23 NYCRR 500.17(c)(1)",
    start: "ransom-paid",
    period: { kind: "hours", hours: 24 },
  },
  {
    regime: "nydfs",
    obligation: "written explanation of why the extortion payment was necessary",
    citation: "23 NYCRR 500.17(c)(2)",
    start: "ransom-paid",
    period: { kind: "calendar-days", days: 30 },
  },
  {
    regime: "circia",
    obligation: "covered cyber incident report to CISA",
    citation: "6 U.S.C. 681b(a)(1) (rule proposed)",
    start: "determined",
    period: { kind: "hours", hours: 72 },
    note: "CIRCIA's final rule is not in force yet; the statute's periods are shown",
  },
  {
    regime: "circia",
    obligation: "ransom payment report to CISA",
    citation: "6 U.S.C. 681b(a)(2) (rule proposed)",
    start: "ransom-paid",
    period: { kind: "hours", hours: 24 },
  },
];

/** A period as people say it: `72 h`, `60 days`, `1 month`, `4 business days`. */
export function describePeriod(period: Period): string {
  switch (period.kind) {
    case "hours":
      return `${period.hours} h`;
    case "calendar-days":
      return `${period.days} days`;
    case "months":
      return period.months === 1 ? "1 month" : `${period.months} months`;
    case "us-business-days":
      return `${period.days} US business days`;
  }
}
