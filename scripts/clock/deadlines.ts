/**
 * The reporting clocks: from the incident's start events to every deadline of the chosen regimes, sorted by due
 * time and marked overdue / due soon relative to now. Pure: the command and the drill do the I/O.
 */
import { UsageError } from "../errors";
import {
  REGIMES,
  REPORTING_RULES,
  START_EVENTS,
  START_EVENT_DESCRIPTIONS,
  describePeriod,
  type Period,
  type Regime,
  type ReportingRule,
  type StartEvent,
} from "./regimes";
import {
  addCalendarMonths,
  addDays,
  addHours,
  calendarDateIn,
  formatInZone,
  formatUtc,
  instantOfWallTime,
} from "./time";
import { consistencyWarnings } from "./consistency";
import { addUsBusinessDays, type SkippedDay } from "./us-business-days";

/** The times of the events that start clocks; absent events leave their obligations waiting. */
export type IncidentTimes = Partial<Record<StartEvent, Date>>;

/** Options of {@link computeClock}. */
export interface ClockOptions {
  /** Regimes to compute. Default: all. */
  readonly regimes?: readonly Regime[];
  /** The moment the marks are relative to. */
  readonly now: Date;
  /** IANA zone of the local display. */
  readonly timeZone: string;
  /** A deadline this close (hours) and not yet passed is marked due soon. Default 24. */
  readonly dueSoonHours?: number;
  /** One-off US federal closures (`YYYY-MM-DD`) that SEC business days also skip. */
  readonly usClosures?: ReadonlySet<string>;
}

/** Where a deadline stands relative to now. */
export type DeadlineStatus = "overdue" | "due-soon" | "open";

/** One computed deadline. */
export interface Deadline {
  /** Regime. */
  readonly regime: Regime;
  /** What must be done. */
  readonly obligation: string;
  /** Legal source. */
  readonly citation: string;
  /** Event that started the clock. */
  readonly startEvent: StartEvent;
  /** When it happened, UTC ISO 8601. */
  readonly startedAt: string;
  /** Period, as people say it (`72 h`). */
  readonly period: string;
  /** Due time, UTC ISO 8601. */
  readonly dueUtc: string;
  /** Due time in the display zone, ISO 8601 with the offset in force then. */
  readonly dueLocal: string;
  /** Overdue, due soon or open, relative to {@link ClockReport.now}. */
  readonly status: DeadlineStatus;
  /** Hours from now to the deadline (negative when overdue), one decimal, rounded down (never more time than there is). */
  readonly hoursLeft: number;
  /** Whole minutes from now to the deadline, rounded down (negative when overdue). */
  readonly minutesLeft: number;
  /** Days a business-day count passed over (SEC), with the reason. */
  readonly skipped?: SkippedDay[];
  /** Caveat, when the rule is simplified. */
  readonly note?: string;
}

/** An obligation whose start event has not been given. */
export interface WaitingObligation {
  /** Regime. */
  readonly regime: Regime;
  /** What will have to be done. */
  readonly obligation: string;
  /** Legal source. */
  readonly citation: string;
  /** The event it waits for. */
  readonly waitingFor: StartEvent;
  /** What that event means. */
  readonly waitingForMeaning: string;
  /** Period that will run from it. */
  readonly period: string;
}

/** Everything `flz clock` prints. */
export interface ClockReport {
  /** The reference moment, UTC ISO 8601. */
  readonly now: string;
  /** Display zone. */
  readonly timeZone: string;
  /** Regimes computed. */
  readonly regimes: Regime[];
  /** Start events given, UTC ISO 8601. */
  readonly events: Partial<Record<StartEvent, string>>;
  /** Deadlines, earliest first. */
  readonly deadlines: Deadline[];
  /** Obligations waiting for their start event. */
  readonly waiting: WaitingObligation[];
  /** Start events that contradict each other or lie in the future (see consistency.ts); empty when none. */
  readonly warnings: string[];
}

/** Due time of one rule from its start instant, and the days a business-day count skipped. */
export function dueTime(
  period: Period,
  start: Date,
  usClosures: ReadonlySet<string> = new Set(),
): { due: Date; skipped?: SkippedDay[] } {
  switch (period.kind) {
    case "hours":
      return { due: addHours(start, period.hours) };
    case "calendar-days":
      return { due: addDays(start, period.days) };
    case "months":
      return { due: addCalendarMonths(start, period.months) };
    case "us-business-days": {
      const count = addUsBusinessDays(calendarDateIn(start, period.zone), period.days, usClosures);
      return {
        due: instantOfWallTime(count.date, period.cutoffHour, period.cutoffMinute, period.zone),
        skipped: count.skipped,
      };
    }
  }
}

/** Marks a deadline relative to now. */
export function statusOf(due: Date, now: Date, dueSoonHours: number): DeadlineStatus {
  const left = due.getTime() - now.getTime();
  if (left <= 0) return "overdue";
  return left <= dueSoonHours * 3_600_000 ? "due-soon" : "open";
}

/** Parses `--regime`: a comma-separated list of regime names, or `all`. */
export function parseRegimes(text: string): Regime[] {
  const names = text
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0);
  // An empty list is a mistake (an unset shell variable), not a request for everything.
  if (names.length === 0)
    throw new UsageError(
      `--regime ${JSON.stringify(text)} names no regime: use a comma-separated list of ${REGIMES.join(", ")}, or all`,
    );
  if (names.includes("all")) return [...REGIMES];
  const unknown = names.filter((n) => !(REGIMES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new UsageError(
      `--regime ${JSON.stringify(unknown.join(","))} is not a known regime: use a comma-separated list of ${REGIMES.join(", ")}, or all`,
    );
  }
  return REGIMES.filter((r) => names.includes(r));
}

function rulesFor(regimes: readonly Regime[]): ReportingRule[] {
  return REPORTING_RULES.filter((r) => regimes.includes(r.regime));
}

/** Computes every deadline of the chosen regimes from the given start events. */
export function computeClock(times: IncidentTimes, options: ClockOptions): ClockReport {
  const regimes = [...(options.regimes ?? REGIMES)];
  const dueSoon = options.dueSoonHours ?? 24;
  const deadlines: Deadline[] = [];
  const waiting: WaitingObligation[] = [];
  for (const rule of rulesFor(regimes)) {
    const start = times[rule.start];
    if (!start) {
      waiting.push({
        regime: rule.regime,
        obligation: rule.obligation,
        citation: rule.citation,
        waitingFor: rule.start,
        waitingForMeaning: START_EVENT_DESCRIPTIONS[rule.start],
        period: describePeriod(rule.period),
      });
      continue;
    }
    const { due, skipped } = dueTime(rule.period, start, options.usClosures);
    deadlines.push({
      regime: rule.regime,
      obligation: rule.obligation,
      citation: rule.citation,
      startEvent: rule.start,
      startedAt: formatUtc(start),
      period: describePeriod(rule.period),
      dueUtc: formatUtc(due),
      dueLocal: formatInZone(due, options.timeZone),
      status: statusOf(due, options.now, dueSoon),
      // Rounded down: time left is never shown larger than it is (59 d 23 h 59 m must not read as 60 d).
      hoursLeft: Math.floor((due.getTime() - options.now.getTime()) / 360_000) / 10,
      minutesLeft: Math.floor((due.getTime() - options.now.getTime()) / 60_000),
      ...(skipped && skipped.length > 0 ? { skipped } : {}),
      ...(rule.note ? { note: rule.note } : {}),
    });
  }
  // Stable sort: equal due times keep the table's order (regime, then obligation as listed).
  deadlines.sort((a, b) => Date.parse(a.dueUtc) - Date.parse(b.dueUtc));
  const events: Partial<Record<StartEvent, string>> = {};
  for (const e of START_EVENTS) {
    const t = times[e];
    if (t) events[e] = formatUtc(t);
  }
  return {
    now: formatUtc(options.now),
    timeZone: options.timeZone,
    regimes,
    events,
    deadlines,
    waiting,
    warnings: consistencyWarnings(times, options.now),
  };
}

const STATUS_MARK: Record<DeadlineStatus, string> = { overdue: "OVERDUE", "due-soon": "DUE SOON", open: "" };

/** Minutes as `in 2 d 3 h 4 m` or `1 h 5 m ago`; the minutes are already rounded down (see minutesLeft). */
export function humanLeft(minutes: number): string {
  const abs = Math.abs(minutes);
  const d = Math.floor(abs / 1440);
  const h = Math.floor((abs % 1440) / 60);
  const m = abs % 60;
  const text = d > 0 ? `${d} d ${h} h ${m} m` : h > 0 ? `${h} h ${m} m` : `${m} m`;
  return minutes < 0 ? `${text} ago` : `in ${text}`;
}

/** The report as lines for people: one line per deadline, then what is waiting. */
export function formatClock(report: ClockReport): string[] {
  const lines: string[] = [];
  lines.push(`Reporting clocks at ${report.now} (local zone ${report.timeZone})`);
  if (report.deadlines.length === 0) lines.push("  no deadline is running yet");
  const regimeWidth = Math.max(6, ...report.deadlines.map((d) => d.regime.length));
  for (const d of report.deadlines) {
    const mark = STATUS_MARK[d.status];
    lines.push(
      `  ${mark.padEnd(8)} ${d.dueUtc}  ${d.dueLocal}  ${d.regime.toUpperCase().padEnd(regimeWidth)} ${d.obligation}` +
        ` (${d.period} after ${d.startEvent}; ${humanLeft(d.minutesLeft)}; ${d.citation})`,
    );
    if (d.skipped) lines.push(`           skipped: ${d.skipped.map((s) => `${s.date} ${s.reason}`).join(", ")}`);
    if (d.note) lines.push(`           note: ${d.note}`);
  }
  if (report.waiting.length > 0) {
    lines.push("Waiting for a start event:");
    for (const w of report.waiting) {
      lines.push(
        `  ${w.regime.toUpperCase().padEnd(regimeWidth)} ${w.obligation}: ${w.period} after --${w.waitingFor}-at (${w.waitingForMeaning})`,
      );
    }
  }
  return lines;
}
