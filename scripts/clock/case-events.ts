/**
 * The reporting clocks of a case: the start events come from its custody ledger and the computed deadlines go back
 * into it. Pure decisions here; `flz clock --case` does the reading and appending.
 *
 * Where each start event comes from, strongest first: the command line; a record the operator names; earlier
 * `clock.deadlines.computed` records of the case (the latest that gives the event wins); and, for awareness only,
 * the awareness time stated when the case was opened (record 0, `case.opened`), or, for a case started before
 * `flz case open` existed, the time of its first record (the latest the organisation can claim to have become aware).
 */
import { openingOf } from "../cases/registry";
import type { CustodyEvent, CustodyRecord, JsonValue } from "../custody/types";
import { UsageError } from "../errors";
import type { ClockReport, IncidentTimes } from "./deadlines";
import { START_EVENTS, type StartEvent } from "./regimes";
import { parseInstant } from "./time";

/** Ledger action of the record `flz clock --case` appends. */
export const CLOCK_ACTION = "clock.deadlines.computed";

/** Where a start event's time came from. */
export type EventSource =
  | "command line"
  | "case opening (record 0)"
  | `record ${number}`
  | `first record (${string})`
  | `earlier clock record ${number}`;

/** Start events read from a case, with their sources. */
export interface CaseEvents {
  /** The times. */
  readonly times: IncidentTimes;
  /** Where each came from. */
  readonly sources: Partial<Record<StartEvent, EventSource>>;
}

/** Options of {@link eventsFromLedger}. */
export interface EventsFromLedgerOptions {
  /** Times given on the command line; they override the ledger. */
  readonly given?: IncidentTimes;
  /** Sequence number of the record whose time is awareness (default: the first record). */
  readonly awareRecord?: number;
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads the start events of a case from its records (in sequence order) and the command line. */
export function eventsFromLedger(records: readonly CustodyRecord[], options: EventsFromLedgerOptions = {}): CaseEvents {
  const times: IncidentTimes = {};
  const sources: Partial<Record<StartEvent, EventSource>> = {};
  if (options.awareRecord === undefined && records.length > 0) {
    const first = records[0];
    const opened = first.sequence === 0 ? openingOf(first) : undefined;
    if (opened && "opening" in opened) {
      times.aware = new Date(opened.opening.awarenessTime);
      sources.aware = "case opening (record 0)";
    } else {
      times.aware = new Date(first.time);
      sources.aware = `first record (${first.action})`;
    }
  }
  for (const record of records) {
    if (record.action !== CLOCK_ACTION || record.outcome === "failed") continue;
    const events = record.details?.events;
    if (!isObject(events)) continue;
    for (const event of START_EVENTS) {
      const value = events[event];
      if (typeof value !== "string") continue;
      times[event] = parseInstant(value, `record ${record.sequence} event ${event}`);
      sources[event] = `earlier clock record ${record.sequence}`;
    }
  }
  if (options.awareRecord !== undefined) {
    const named = records.find((r) => r.sequence === options.awareRecord);
    if (!named) {
      const last = records.length - 1;
      throw new UsageError(
        `--aware-record ${options.awareRecord} is not a record of this case: give a sequence number from 0 to ${last < 0 ? "(none yet)" : last}`,
      );
    }
    times.aware = new Date(named.time);
    sources.aware = `record ${named.sequence}`;
  }
  for (const event of START_EVENTS) {
    const given = options.given?.[event];
    if (given) {
      times[event] = given;
      sources[event] = "command line";
    }
  }
  return { times, sources };
}

/** The custody event that records a computed clock: the start events, their sources and every deadline. */
export function clockCustodyEvent(
  report: ClockReport,
  sources: Partial<Record<StartEvent, EventSource>>,
): CustodyEvent {
  const events: { [key: string]: JsonValue } = {};
  const eventSources: { [key: string]: JsonValue } = {};
  for (const event of START_EVENTS) {
    const at = report.events[event];
    if (at) events[event] = at;
    const source = sources[event];
    if (source) eventSources[event] = source;
  }
  return {
    action: CLOCK_ACTION,
    subjects: [...report.regimes],
    details: {
      computedAt: report.now,
      events,
      eventSources,
      deadlines: report.deadlines.map((d) => ({
        regime: d.regime,
        obligation: d.obligation,
        citation: d.citation,
        startEvent: d.startEvent,
        dueUtc: d.dueUtc,
        status: d.status,
      })),
      waiting: report.waiting.map((w) => ({ regime: w.regime, obligation: w.obligation, waitingFor: w.waitingFor })),
      ...(report.warnings.length > 0 ? { warnings: report.warnings } : {}),
    },
  };
}
