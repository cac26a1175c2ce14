/**
 * US business days for SEC deadlines: a business day is any day except Saturday, Sunday and a US federal holiday
 * (Exchange Act Rule 0-3, Regulation S-T Rule 11). The 11 federal holidays of 5 U.S.C. 6103(a) come from
 * `@18f/us-federal-holidays`, which computes them by rule for any year (Juneteenth from 2021), with the observed
 * date when one falls on a weekend (Saturday → Friday, Sunday → Monday, Jan 1 on a Saturday → Dec 31 before).
 * One-off closures (a national day of mourning, an executive order closing agencies) cannot be computed: the
 * operator passes them as extra closed dates.
 */
import { allForYear } from "@18f/us-federal-holidays";
import { dayOfWeek, formatDate, nextDay, type CalendarDate } from "./time";

const holidayCache = new Map<number, Map<string, string>>();

/** Observed federal holidays whose observed date falls in `year`, by `YYYY-MM-DD`, with their names. */
export function federalHolidaysObservedIn(year: number): Map<string, string> {
  const cached = holidayCache.get(year);
  if (cached) return cached;
  const byDate = new Map<string, string>();
  // New Year's Day of year+1 on a Saturday is observed on Dec 31 of `year`, so look one year ahead (and one back
  // for symmetry; the filter keeps only dates in `year`).
  for (const y of [year - 1, year, year + 1]) {
    for (const h of allForYear(y)) if (h.dateString.startsWith(`${year}-`)) byDate.set(h.dateString, h.name);
  }
  holidayCache.set(year, byDate);
  return byDate;
}

/** The federal holiday observed on `date`, or undefined. */
export function federalHolidayOn(date: CalendarDate): string | undefined {
  return federalHolidaysObservedIn(date.year).get(formatDate(date));
}

/** Whether `date` is a US business day, given extra closure dates (`YYYY-MM-DD`). */
export function isUsBusinessDay(date: CalendarDate, closures: ReadonlySet<string> = new Set()): boolean {
  const dow = dayOfWeek(date);
  if (dow === 0 || dow === 6) return false;
  if (closures.has(formatDate(date))) return false;
  return federalHolidayOn(date) === undefined;
}

/** What a business-day count skipped, for the explanation printed next to a deadline. */
export interface SkippedDay {
  /** `YYYY-MM-DD`. */
  readonly date: string;
  /** `weekend`, the holiday's name, or `closure`. */
  readonly reason: string;
}

/** Result of {@link addUsBusinessDays}. */
export interface BusinessDayCount {
  /** The n-th business day after the start date. */
  readonly date: CalendarDate;
  /** Non-business days passed over on the way, in order. */
  readonly skipped: SkippedDay[];
}

/**
 * The `n`-th business day after `start` (the start date itself never counts, whatever day it is): a determination
 * on Wednesday Nov 26, 2025 counts Fri 28, Mon Dec 1, Tue 2, Wed 3 (Thanksgiving, Nov 27, is skipped).
 */
export function addUsBusinessDays(
  start: CalendarDate,
  n: number,
  closures: ReadonlySet<string> = new Set(),
): BusinessDayCount {
  const skipped: SkippedDay[] = [];
  let date = start;
  let counted = 0;
  while (counted < n) {
    date = nextDay(date);
    if (isUsBusinessDay(date, closures)) {
      counted += 1;
      continue;
    }
    const dow = dayOfWeek(date);
    const reason =
      dow === 0 || dow === 6
        ? "weekend"
        : closures.has(formatDate(date))
          ? "closure"
          : (federalHolidayOn(date) ?? "holiday");
    skipped.push({ date: formatDate(date), reason });
  }
  return { date, skipped };
}
