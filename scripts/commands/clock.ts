/**
 * `flz clock`: the regulatory reporting deadlines of an incident (GDPR, NIS2, DORA, SEC, HIPAA, NYDFS, CIRCIA), from
 * the times given on the command line or read from the case's custody ledger.
 */
import { Command } from "commander";
import { clockCustodyEvent, eventsFromLedger, type EventSource } from "../clock/case-events";
import { computeClock, formatClock, parseRegimes, type ClockReport, type IncidentTimes } from "../clock/deadlines";
import { REGIMES, START_EVENTS, type StartEvent } from "../clock/regimes";
import { checkTimeZone, formatDate, parseCalendarDate, parseInstant, systemTimeZone } from "../clock/time";
import { loadLandingZone } from "../contract";
import { withCaseLedger } from "./case";
import type { CustodyLedger, CustodyRecord } from "../custody/types";
import { UsageError } from "../errors";
import { note, printJson, printLine, processIo, type Io } from "../output";

/** Options of `flz clock`, as commander parses them. */
export interface ClockCommandOptions {
  /** `--aware-at`. */
  readonly awareAt?: string;
  /** `--determined-at`. */
  readonly determinedAt?: string;
  /** `--classified-at`. */
  readonly classifiedAt?: string;
  /** `--notified-at`. */
  readonly notifiedAt?: string;
  /** `--intermediate-reported-at`. */
  readonly intermediateReportedAt?: string;
  /** `--ransom-paid-at`. */
  readonly ransomPaidAt?: string;
  /** `--regime`. */
  readonly regime?: string;
  /** `--now`. */
  readonly now?: string;
  /** `--tz`. */
  readonly tz?: string;
  /** `--due-soon`, hours. */
  readonly dueSoon?: string;
  /** `--us-closure`, comma-separated dates. */
  readonly usClosure?: string;
  /** `--case`: read the start events from this case's ledger and record the deadlines in it. */
  readonly case?: string;
  /** `--landing-zone`: the contract file (default `FLZ_LANDING_ZONE`). */
  readonly landingZone?: string;
  /** `--aware-record`: sequence number of the record whose time is awareness (default the first). */
  readonly awareRecord?: string;
  /** `--dry-run`: with `--case`, compute and print but record nothing. */
  readonly dryRun?: boolean;
  /** `--json`. */
  readonly json?: boolean;
}

/** Commander's camel-case key of each event's `--<event>-at` flag. */
const EVENT_OPTION: Record<StartEvent, keyof ClockCommandOptions> = {
  aware: "awareAt",
  determined: "determinedAt",
  classified: "classifiedAt",
  notified: "notifiedAt",
  "intermediate-reported": "intermediateReportedAt",
  "ransom-paid": "ransomPaidAt",
};

/** The start events given as flags, parsed and validated. */
export function eventTimesFromOptions(options: ClockCommandOptions): IncidentTimes {
  const times: IncidentTimes = {};
  for (const event of START_EVENTS) {
    const value = options[EVENT_OPTION[event]];
    if (typeof value === "string") times[event] = parseInstant(value, `--${event}-at`);
  }
  return times;
}

/** Everything but the event times: regimes, now, zone, due-soon window, closures. */
export function clockSettings(options: ClockCommandOptions): {
  regimes: ReturnType<typeof parseRegimes>;
  now: Date;
  timeZone: string;
  dueSoonHours: number;
  usClosures: Set<string>;
} {
  const regimes = parseRegimes(options.regime ?? "all");
  const now = options.now ? parseInstant(options.now, "--now") : new Date();
  const timeZone = checkTimeZone(options.tz ?? systemTimeZone());
  let dueSoonHours = 24;
  if (options.dueSoon !== undefined) {
    dueSoonHours = Number(options.dueSoon);
    if (!/^\d+(\.\d+)?$/.test(options.dueSoon.trim()) || !Number.isFinite(dueSoonHours)) {
      throw new UsageError(
        `--due-soon ${JSON.stringify(options.dueSoon)} is not a number of hours: use e.g. 24 or 6.5`,
      );
    }
  }
  const usClosures = new Set(
    (options.usClosure ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .map((s) => formatDate(parseCalendarDate(s, "--us-closure"))),
  );
  return { regimes, now, timeZone, dueSoonHours, usClosures };
}

/** Computes the clock from command-line options alone (no case). */
export function clockFromOptions(options: ClockCommandOptions, extraTimes: IncidentTimes = {}): ClockReport {
  const settings = clockSettings(options);
  const times = { ...extraTimes, ...eventTimesFromOptions(options) };
  return computeClock(times, settings);
}

/** What `flz clock --case` produced. */
export interface CaseClockResult {
  /** The computed clock. */
  readonly report: ClockReport;
  /** Where each start event came from. */
  readonly sources: Partial<Record<StartEvent, EventSource>>;
  /** The record appended (absent on a dry run). */
  readonly record?: CustodyRecord;
}

/** Parses `--aware-record`. */
export function parseRecordSequence(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  // At most 15 digits: a longer number is no sequence, and would be echoed back as 1e+23.
  if (!/^\d{1,15}$/.test(text.trim()))
    throw new UsageError(
      `--aware-record ${JSON.stringify(text)} is not a record sequence number: use 0 for the first record, 1 for the next, ...`,
    );
  return Number(text);
}

/**
 * Computes a case's clock from its ledger (and any times given as flags) and, unless dry-running, records the
 * deadlines in the ledger. Exported so `flz drill` runs the same code path as an operator.
 */
export async function clockForCase(ledger: CustodyLedger, options: ClockCommandOptions): Promise<CaseClockResult> {
  const settings = clockSettings(options);
  const records = await ledger.records();
  const { times, sources } = eventsFromLedger(records, {
    given: eventTimesFromOptions(options),
    awareRecord: parseRecordSequence(options.awareRecord),
  });
  if (!times.aware && Object.keys(times).length === 0) {
    throw new UsageError(`case ${ledger.caseId} has no records and no start event was given: pass --aware-at <time>`);
  }
  const report = computeClock(times, settings);
  if (options.dryRun) return { report, sources };
  const record = await ledger.append(clockCustodyEvent(report, sources));
  return { report, sources, record };
}

/** Prints a clock report for people or, with `--json`, as one JSON document; warnings also go to stderr. */
export function printClock(io: Io, report: ClockReport, json: boolean): void {
  for (const warning of report.warnings) note(io, `warning: ${warning}`);
  if (json) printJson(io, report);
  else for (const line of formatClock(report)) printLine(io, line);
}

/** Adds `flz clock` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command("clock")
    .summary("Reporting deadlines (GDPR, NIS2, DORA, SEC, HIPAA, NYDFS, CIRCIA) from the incident's start events.")
    .description(
      "Computes every reporting deadline of the chosen regimes from the incident's start events, sorted by due time, in UTC\n" +
        "and in your zone, marked OVERDUE or DUE SOON relative to --now. An obligation whose start event was not given is\n" +
        "listed as waiting for it. Times are ISO 8601 with a zone (Z or +01:00).\n\n" +
        "Conventions: hour periods are elapsed time from the exact instant (a DST change neither adds nor removes an hour);\n" +
        "'1 month' is the same day of the next calendar month in UTC, clamped to the month's last day (Jan 31 -> Feb 28/29);\n" +
        "SEC 8-K is due 17:30 New York time on the 4th US business day after the determination date (weekends and the\n" +
        "11 federal holidays, observed dates, are skipped).",
    )
    .option("--aware-at <time>", "when the organisation became aware of the incident / discovered the breach")
    .option(
      "--determined-at <time>",
      "when the incident was determined material (SEC) / a cybersecurity incident (NYDFS, CIRCIA)",
    )
    .option("--classified-at <time>", "when the incident was classified as major (DORA)")
    .option("--notified-at <time>", "when the incident notification (NIS2) / initial notification (DORA) was submitted")
    .option("--intermediate-reported-at <time>", "when the latest intermediate report (DORA) was submitted")
    .option("--ransom-paid-at <time>", "when an extortion / ransom payment was made (NYDFS, CIRCIA)")
    .option("--regime <list>", `comma-separated regimes: ${REGIMES.join(",")}, or all`, "all")
    .option("--now <time>", "reference time for the OVERDUE / DUE SOON marks (default: the current time)")
    .option("--tz <zone>", "IANA zone for the local due times (default: the system zone)")
    .option("--due-soon <hours>", "mark deadlines this close as DUE SOON", "24")
    .option(
      "--us-closure <dates>",
      "extra US federal closure dates (YYYY-MM-DD, comma-separated) SEC business days skip",
    )
    .option(
      "--case <id>",
      "read the start events from this case's custody ledger (first record = awareness) and record the deadlines in it",
    )
    .option(
      "--landing-zone <file>",
      "landing-zone contract (pulumi stack output --json), with --case (default: FLZ_LANDING_ZONE)",
    )
    .option("--aware-record <sequence>", "with --case: the record whose time is awareness (default 0, the first)")
    .option("--dry-run", "with --case: compute and print, record nothing")
    .option("--json", "print one JSON document")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  flz clock --aware-at 2026-03-02T09:15:00Z\n" +
        "  flz clock --aware-at 2026-03-02T09:15Z --determined-at 2026-03-04T16:00-05:00 --regime sec,nydfs --tz America/New_York\n" +
        "  flz clock --aware-at 2026-03-02T09:15Z --classified-at 2026-03-02T13:00Z --regime dora,nis2 --json\n" +
        "  flz clock --case IR-2026-0042 --landing-zone lz.json --determined-at 2026-03-04T21:00Z   # records the deadlines\n",
    );
  cmd.action(async (options: ClockCommandOptions) => {
    const io = processIo();
    if (options.case !== undefined) {
      await runForCase(io, options, options.case);
      return;
    }
    if (options.awareRecord !== undefined || options.dryRun)
      throw new UsageError("--aware-record and --dry-run only apply with --case <id>");
    const times = eventTimesFromOptions(options);
    if (Object.keys(times).length === 0) {
      throw new UsageError(
        "no start event given: pass at least --aware-at <time> (ISO 8601 with a zone, e.g. 2026-03-02T09:15:00Z)",
      );
    }
    printClock(io, clockFromOptions(options), Boolean(options.json));
  });
}

async function runForCase(io: Io, options: ClockCommandOptions, caseId: string): Promise<void> {
  clockSettings(options); // bad flags fail before any AWS call
  parseRecordSequence(options.awareRecord);
  const lz = loadLandingZone(options.landingZone);
  await withCaseLedger(lz, caseId, async (ledger) => {
    const result = await clockForCase(ledger, options);
    if (options.json) {
      for (const warning of result.report.warnings) note(io, `warning: ${warning}`);
      printJson(io, {
        case: caseId,
        ...result.report,
        eventSources: result.sources,
        recordedAs: result.record?.sequence ?? null,
        dryRun: Boolean(options.dryRun),
      });
      return;
    }
    printClock(io, result.report, false);
    for (const [event, source] of Object.entries(result.sources)) note(io, `${event}: from ${source}`);
    note(
      io,
      result.record
        ? `recorded in case ${caseId} as record ${result.record.sequence} (${result.record.action})`
        : `dry run: nothing recorded in case ${caseId}`,
    );
  });
}
