/**
 * `flz case metrics <id>` / `flz case metrics --all`: the incident-response metrics AWS defines (time to detect,
 * acknowledge, respond, contain, recover; attacker dwell time), computed from the case's ledger; and
 * `--record <input> --at <time> --source <citation>`, which records an instant the ledger cannot know by itself
 * (first indicator of compromise, initial access, ...) with the CloudTrail event or finding it comes from.
 */
import type { Command } from "commander";
import { parseInstant } from "../clock/time";
import { loadLandingZone, type LandingZone } from "../contract";
import { openLedger } from "../custody/ledger";
import type { CustodyRecord, JsonValue } from "../custody/types";
import { UsageError } from "../errors";
import { note, printJson, printLine, processIo, type Io } from "../output";
import {
  caseMetrics,
  caseTimeline,
  formatDuration,
  isClosed,
  metricLines,
  METRICS,
  summarizeMetrics,
  type MetricValue,
  type Timeline,
} from "../cases/metrics";
import {
  describeCitation,
  metricInputEvent,
  METRIC_INPUT_KINDS,
  parseCitation,
  parseInputKind,
} from "../cases/metrics-input";
import { listCases } from "../cases/registry";
import { caseStore, requireCaseIdFormat, withCaseLedger, withResponderFactory } from "../cases/with-case";

/** Options of `flz case metrics`. */
export interface CaseMetricsFlags {
  /** `--all`: every closed case. */
  readonly all?: boolean;
  /** `--record <input>`. */
  readonly record?: string;
  /** `--at <time>`. */
  readonly at?: string;
  /** `--source <citation>`. */
  readonly source?: string;
  /** `--landing-zone`. */
  readonly landingZone?: string;
  /** `--dry-run` (with `--record`). */
  readonly dryRun?: boolean;
  /** `--json`. */
  readonly json?: boolean;
}

/** One case's metrics, as printed in JSON and used by the drill report and the custody export. */
export interface CaseMetricsReport {
  /** The case. */
  readonly caseId: string;
  /** Its timeline. */
  readonly timeline: Timeline;
  /** Its metrics. */
  readonly metrics: MetricValue[];
}

/** Computes a case's metrics from its records (pure). */
export function metricsReport(caseId: string, records: readonly CustodyRecord[]): CaseMetricsReport {
  const timeline = caseTimeline(caseId, records);
  return { caseId, timeline, metrics: caseMetrics(timeline) };
}

const FUTURE_TOLERANCE_MS = 5 * 60_000;

async function recordInput(caseId: string, flags: CaseMetricsFlags, lz: LandingZone, io: Io): Promise<void> {
  const kind = parseInputKind(flags.record);
  if (!flags.at)
    throw new UsageError(`--at is required with --record: when the ${kind} happened (ISO 8601 with a zone)`);
  const at = parseInstant(flags.at, "--at");
  if (at.getTime() > Date.now() + FUTURE_TOLERANCE_MS) {
    throw new UsageError(`--at ${flags.at} is in the future: give when the ${kind} happened`);
  }
  const source = parseCitation(flags.source, kind);
  const event = metricInputEvent(caseId, kind, at, source);
  await withCaseLedger(lz, caseId, async (ledger) => {
    if (flags.dryRun) {
      if (flags.json) printJson(io, { dryRun: true, case: caseId, ...(event.details ?? {}) });
      else printLine(io, `would record ${kind} at ${at.toISOString()} (${describeCitation(source)})`);
      note(io, `dry run: nothing recorded in case ${caseId}`);
      return;
    }
    const record = await ledger.append(event);
    const report = metricsReport(caseId, await ledger.records());
    if (flags.json) {
      printJson(io, { case: caseId, recordedAs: record.sequence, ...(event.details ?? {}), metrics: toJson(report) });
      return;
    }
    printLine(io, `recorded ${kind} at ${at.toISOString()} (${describeCitation(source)}) as record ${record.sequence}`);
    for (const line of metricLines(report.metrics, report.timeline.warnings)) printLine(io, line);
  });
}

function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

async function allCases(flags: CaseMetricsFlags, lz: LandingZone, io: Io): Promise<void> {
  const reports = await withResponderFactory(lz, undefined, async (factory) => {
    const cases = (await listCases(caseStore(factory, lz))).filter((c) => c.state === "open");
    const out: CaseMetricsReport[] = [];
    // One case at a time: a ledger read is a list and a get per record, and --all is not a hurried command.
    for (const c of cases) {
      const ledger = await openLedger({ factory, landingZone: lz, caseId: c.caseId });
      out.push(metricsReport(c.caseId, await ledger.records()));
    }
    return out;
  });
  const closed = reports.filter((r) => isClosed(r.timeline));
  const open = reports.filter((r) => !isClosed(r.timeline)).map((r) => r.caseId);
  const summary = summarizeMetrics(closed);
  if (flags.json) {
    printJson(io, { closedCases: closed.map((r) => r.caseId), openCases: open, summary: toJson(summary) });
    return;
  }
  printLine(io, `closed cases (recovery recorded): ${closed.length}; still open: ${open.length}`);
  for (const s of summary) {
    printLine(
      io,
      `${s.name}: mean ${formatDuration(s.meanSeconds)}, median ${formatDuration(s.medianSeconds)} over ${s.cases} case(s)` +
        (s.missingIn.length > 0 ? `; not computed in ${s.missingIn.join(", ")}` : ""),
    );
    printLine(io, `  AWS: "${s.definition}"`);
  }
}

/**
 * `flz case metrics`.
 *
 * @param caseId the case, unless `--all`.
 * @param flags the flags.
 * @param io where to print.
 */
export async function runCaseMetrics(caseId: string | undefined, flags: CaseMetricsFlags, io: Io): Promise<void> {
  if (flags.all && caseId !== undefined) throw new UsageError("give a case ID or --all, not both");
  if (!flags.all && caseId === undefined)
    throw new UsageError("give a case ID (flz case metrics IR-2026-0042) or --all");
  if (flags.all && flags.record !== undefined)
    throw new UsageError("--record records an input of one case: give its ID, not --all");
  if (caseId !== undefined) requireCaseIdFormat(caseId);
  if (flags.record === undefined && (flags.at !== undefined || flags.source !== undefined)) {
    throw new UsageError(`--at and --source go with --record <${METRIC_INPUT_KINDS.join("|")}>`);
  }
  const lz = loadLandingZone(flags.landingZone);
  if (flags.all) return allCases(flags, lz, io);
  const id = caseId as string;
  if (flags.record !== undefined) return recordInput(id, flags, lz, io);
  const report = await withCaseLedger(lz, id, async (ledger) => metricsReport(id, await ledger.records()), {
    access: "read",
  });
  if (flags.json) printJson(io, { case: id, ...(toJson(report) as { [key: string]: JsonValue }) });
  else for (const line of metricLines(report.metrics, report.timeline.warnings)) printLine(io, line);
}

/** The help text: every metric with AWS's definition, the inputs, and examples. */
export function metricsHelp(): string {
  const defs = METRICS.map((m) => `  ${m.name} (${m.from} -> ${m.to}): "${m.definition}" (${m.url})`).join("\n");
  return (
    `\nMetrics (AWS Security Incident Response Guide):\n${defs}\n` +
    "\nInstants: alert = the awareness time of case.opened; acknowledged = when the case was opened; first-action = the " +
    "first containment, capture or evidence record; contained = the last containment completed (none left interrupted), " +
    "or the recorded contained input; first-indicator, initial-access, recovered = recorded inputs. A metric whose " +
    "inputs are missing, or whose end is before its start, is reported as such, never guessed. --all averages over closed " +
    "cases: those whose recovery is recorded.\n" +
    "\nExamples:\n" +
    "  flz case metrics IR-2026-0042\n" +
    "  flz case metrics IR-2026-0042 --record first-indicator --at 2026-03-01T22:10:00Z --source cloudtrail:3e5f0a52-1c7e-4a8b-9d1e-2f6c7b8a9d0e\n" +
    "  flz case metrics IR-2026-0042 --record initial-access --at 2026-03-01T21:58:00Z --source finding:5ab2c4d7e8f90123456789abcdef0123\n" +
    "  flz case metrics IR-2026-0042 --record recovered --at 2026-03-04T10:00:00Z --source note:CHG-1234\n" +
    "  flz case metrics --all --json\n"
  );
}

/** Adds `flz case metrics` under `flz case`. */
export function registerCaseMetrics(cases: Command): void {
  cases
    .command("metrics")
    .summary(
      "AWS's incident metrics of a case (detect, acknowledge, respond, contain, recover, dwell), or over all closed cases.",
    )
    .description(
      "Computes time to detect, acknowledge, respond, contain and recover, and attacker dwell time, from the case's custody " +
        "ledger and the instants recorded with --record (each citing the CloudTrail event or finding it comes from). " +
        "'Respond' and 'recover' are separate metrics (AWS calls both MTTR).",
    )
    .argument("[id]", "case ID (or --all)")
    .option("--all", "means and medians over every closed case (recovery recorded)")
    .option("--record <input>", `record an instant: ${METRIC_INPUT_KINDS.join(", ")}`)
    .option("--at <time>", "with --record: when it happened, ISO 8601 with a zone")
    .option(
      "--source <citation>",
      "with --record: cloudtrail:<event ID>, finding:<finding ID or ARN> (contained, recovered: also note:<ticket>)",
    )
    .option(
      "--landing-zone <file>",
      "landing-zone contract, the JSON of `pulumi stack output --json` (default: $FLZ_LANDING_ZONE)",
    )
    .option("--dry-run", "with --record: print what would be recorded; record nothing")
    .option("--json", "print one JSON document")
    .addHelpText("after", metricsHelp())
    .action(async (id: string | undefined, flags: CaseMetricsFlags) => {
      await runCaseMetrics(id, flags, processIo());
    });
}
