/**
 * The revocation cutoff: the instant before which every session of a contained principal is denied, in the exact form
 * IAM compares `aws:TokenIssueTime` against. The statements that carry it are organisation-level quarantine
 * statements (`quarantine.ts`): no role writes inline IAM policies any more, so a stolen responder session cannot use
 * the revocation path to grant itself anything.
 */
import { DocumentInputError } from "./validate";

/** An ISO 8601 UTC or offset timestamp; a time without a zone would be read in some machine's local time. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Whether the date and time fields exist on the calendar: `Date.parse` quietly turns 30 February into 1 March. */
function isCalendarDate(iso: string): boolean {
  const [year, month, day, hour, minute] = [
    iso.slice(0, 4),
    iso.slice(5, 7),
    iso.slice(8, 10),
    iso.slice(11, 13),
    iso.slice(14, 16),
  ].map(Number);
  const probe = new Date(Date.UTC(year, month - 1, day, hour, minute));
  return (
    probe.getUTCMonth() === month - 1 &&
    probe.getUTCDate() === day &&
    probe.getUTCHours() === hour &&
    probe.getUTCMinutes() === minute
  );
}

/**
 * The cutoff as IAM compares it (UTC, second precision, `Z`): `2024-05-01T10:00:00Z`. Throws on anything that is
 * not an ISO 8601 timestamp with a zone.
 *
 * @param cutoffIso an ISO 8601 timestamp with a zone (`Z` or `+hh:mm`).
 */
export function normalizeCutoff(cutoffIso: string): string {
  const millis = Date.parse(cutoffIso);
  if (!ISO_WITH_ZONE.test(cutoffIso) || Number.isNaN(millis) || !isCalendarDate(cutoffIso)) {
    throw new DocumentInputError(
      `cutoff: ${JSON.stringify(cutoffIso)} is not an ISO 8601 timestamp with a zone (e.g. 2024-05-01T10:00:00Z).`,
    );
  }
  return new Date(millis).toISOString().replace(/\.\d{3}Z$/, "Z");
}
