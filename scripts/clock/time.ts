/**
 * Instants, zones and calendar arithmetic for the reporting clocks. Pure functions over `Date` and the platform's
 * IANA zone data (Intl), so a deadline computed on a laptop in Tokyo equals one computed in CI.
 */
import { UsageError } from "../errors";

/** A calendar date (no time, no zone). */
export interface CalendarDate {
  /** Full year, e.g. 2026. */
  readonly year: number;
  /** Month 1-12. */
  readonly month: number;
  /** Day of month 1-31. */
  readonly day: number;
}

const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 24 * MS_PER_HOUR;

/** ISO 8601 with a mandatory zone: a local time without one is ambiguous, and at a DST change even twice so. */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}:?\d{2})$/;

/** Number of days in a month of a year (month 1-12), leap years included. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Parses an ISO 8601 instant such as `2026-03-02T09:15:00Z` or `2026-03-02T10:15+01:00`. Rejects times without a zone,
 * impossible calendar values (Feb 30, 24:00) and anything else with a {@link UsageError} naming the flag and value.
 */
export function parseInstant(text: string, flag: string): Date {
  const m = ISO_INSTANT.exec(text.trim());
  const hint = `${flag} ${JSON.stringify(text)} is not an ISO 8601 time with a zone: use e.g. 2026-03-02T09:15:00Z or 2026-03-02T10:15:00+01:00`;
  if (!m) throw new UsageError(hint);
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? "0"].map(Number);
  const fraction = m[7] ? Number(`0.${m[7]}`) : 0;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} names a date or time that does not exist: check month, day and hour`,
    );
  }
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== "Z" && zone !== "z") {
    const digits = zone.replace(":", "");
    const sign = digits.startsWith("-") ? -1 : 1;
    const oh = Number(digits.slice(1, 3));
    const om = Number(digits.slice(3, 5));
    if (oh > 14 || om > 59)
      throw new UsageError(
        `${flag} ${JSON.stringify(text)} has an impossible UTC offset ${zone}: offsets run from -12:00 to +14:00`,
      );
    offsetMinutes = sign * (oh * 60 + om);
  }
  const utc =
    Date.UTC(year, month - 1, day, hour, minute, second) + Math.round(fraction * 1000) - offsetMinutes * 60_000;
  return new Date(utc);
}

/**
 * Throws a {@link UsageError} unless `zone` is an IANA time zone the platform knows; returns it as given (ICU's
 * canonical names are sometimes the old ones, such as Asia/Calcutta, which would surprise the operator).
 */
export function checkTimeZone(zone: string, flag = "--tz"): string {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone }).format(0);
    return zone;
  } catch {
    throw new UsageError(
      `${flag} ${JSON.stringify(zone)} is not a time zone: use an IANA name such as Europe/Berlin, America/New_York or UTC`,
    );
  }
}

/** The system's zone, as Intl reports it (the operator's default display zone). */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(instant: Date, zone: string): WallClock {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(zone, f);
  }
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(instant)) if (p.type !== "literal") parts[p.type] = Number(p.value);
  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    hour: parts.hour,
    minute: parts.minute,
    second: parts.second,
  };
}

/** Offset of `zone` from UTC at `instant`, in minutes (positive east of Greenwich). */
export function offsetMinutesAt(instant: Date, zone: string): number {
  const w = wallClock(instant, zone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
}

/** The calendar date an instant falls on in a zone. */
export function calendarDateIn(instant: Date, zone: string): CalendarDate {
  const w = wallClock(instant, zone);
  return { year: w.year, month: w.month, day: w.day };
}

/** The instant at which the wall clock of `zone` shows `hour:minute` on `date` (times in a DST gap move forward). */
export function instantOfWallTime(date: CalendarDate, hour: number, minute: number, zone: string): Date {
  const naive = Date.UTC(date.year, date.month - 1, date.day, hour, minute);
  // Two passes settle the offset: the first guess uses the offset at the naive instant, the second the offset at
  // the corrected one, which differs only within hours of a DST change.
  let guess = naive - offsetMinutesAt(new Date(naive), zone) * 60_000;
  guess = naive - offsetMinutesAt(new Date(guess), zone) * 60_000;
  return new Date(guess);
}

function pad(n: number, width = 2): string {
  return String(Math.abs(n)).padStart(width, "0");
}

/** Formats an offset in minutes as `+02:00`. */
export function formatOffset(minutes: number): string {
  return `${minutes < 0 ? "-" : "+"}${pad(Math.trunc(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
}

/** An instant as local ISO 8601 in a zone, with the offset in force at that instant: `2026-03-29T12:00:00+02:00`. */
export function formatInZone(instant: Date, zone: string): string {
  const w = wallClock(instant, zone);
  const offset = offsetMinutesAt(instant, zone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${formatOffset(offset)}`;
}

/** An instant as UTC ISO 8601 without milliseconds: `2026-03-29T10:00:00Z`. */
export function formatUtc(instant: Date): string {
  return instant.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** `instant` plus a number of elapsed hours (absolute time: a DST change does not stretch or shrink it). */
export function addHours(instant: Date, hours: number): Date {
  return new Date(instant.getTime() + hours * MS_PER_HOUR);
}

/** `instant` plus a number of 24-hour days. */
export function addDays(instant: Date, days: number): Date {
  return new Date(instant.getTime() + days * MS_PER_DAY);
}

/**
 * `instant` plus calendar months, in UTC, keeping the time of day; when the target month is shorter, the day is
 * clamped to its last day (Jan 31 + 1 month = Feb 28, or Feb 29 in a leap year; Feb 29 + 12 months = Feb 28).
 *
 * Why clamping: it is the rule of Regulation (EEC, Euratom) No 1182/71 Art. 3(2)(c) for EU time limits in months
 * ("if ... the day on which it should expire does not occur in the last month, the period shall end with the expiry
 * of the last hour of the last day of that month"), and it never carries a deadline into the month after, which
 * overflow arithmetic (Jan 31 + 1 month = Mar 3) would; keeping the time of day instead of running to the end of the
 * day makes the computed deadline at most as late as the legal one, never later.
 */
export function addCalendarMonths(instant: Date, months: number): Date {
  const y = instant.getUTCFullYear();
  const m0 = instant.getUTCMonth() + months;
  const year = y + Math.floor(m0 / 12);
  const month0 = ((m0 % 12) + 12) % 12;
  const day = Math.min(instant.getUTCDate(), daysInMonth(year, month0 + 1));
  return new Date(
    Date.UTC(
      year,
      month0,
      day,
      instant.getUTCHours(),
      instant.getUTCMinutes(),
      instant.getUTCSeconds(),
      instant.getUTCMilliseconds(),
    ),
  );
}

/** The calendar date after `date`. */
export function nextDay(date: CalendarDate): CalendarDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + 1));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Day of week of a calendar date: 0 Sunday ... 6 Saturday. */
export function dayOfWeek(date: CalendarDate): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}

/** `YYYY-MM-DD`. */
export function formatDate(date: CalendarDate): string {
  return `${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`;
}

/** Parses `YYYY-MM-DD` (a real calendar date) or throws a {@link UsageError} naming the flag. */
export function parseCalendarDate(text: string, flag: string): CalendarDate {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  const date = m ? { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } : undefined;
  if (!date || date.month < 1 || date.month > 12 || date.day < 1 || date.day > daysInMonth(date.year, date.month)) {
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a calendar date: use YYYY-MM-DD, e.g. 2025-01-09`);
  }
  return date;
}
