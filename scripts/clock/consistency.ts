/**
 * Start events that contradict each other. A clock computed from them is still computed (the operator may be right
 * and the order unusual), but each contradiction is named, because a determination typed with the wrong date moves a
 * legal deadline by days without anyone noticing.
 */
import type { IncidentTimes } from "./deadlines";
import type { StartEvent } from "./regimes";
import { formatUtc } from "./time";

/** Pairs that must come in this order: the first event cannot follow the second. */
const ORDER: ReadonlyArray<readonly [StartEvent, StartEvent, string]> = [
  ["aware", "determined", "an incident cannot be determined before anyone was aware of it"],
  ["aware", "classified", "an incident cannot be classified before anyone was aware of it"],
  ["aware", "notified", "a notification cannot precede awareness"],
  ["aware", "ransom-paid", "a ransom paid before awareness of the incident is unusual"],
  ["notified", "intermediate-reported", "an intermediate report follows the initial notification"],
];

const FLAG = (event: StartEvent): string => `--${event}-at`;

/**
 * One warning per contradiction between the start events, and per event later than `now`.
 *
 * @param times the start events.
 * @param now the reference time.
 */
export function consistencyWarnings(times: IncidentTimes, now: Date): string[] {
  const warnings: string[] = [];
  for (const [first, then, why] of ORDER) {
    const a = times[first];
    const b = times[then];
    if (a && b && b.getTime() < a.getTime())
      warnings.push(
        `${FLAG(then)} ${formatUtc(b)} is before ${FLAG(first)} ${formatUtc(a)}: ${why}; check both times (the deadlines below use them as given)`,
      );
  }
  for (const [event, at] of Object.entries(times) as [StartEvent, Date | undefined][]) {
    if (at && at.getTime() > now.getTime())
      warnings.push(
        `${FLAG(event)} ${formatUtc(at)} is later than now (${formatUtc(now)}): check the date and the zone`,
      );
  }
  return warnings;
}
