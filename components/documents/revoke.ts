/**
 * Session revocation for containment: an inline role policy that denies everything to sessions issued before a
 * cutoff. This is what the IAM console's "Revoke active sessions" attaches (`AWSRevokeOlderSessions`): stolen
 * temporary credentials stop working at once, while anyone who assumes the role again after the cutoff (the owner,
 * once the intruder's path in is closed) works normally. It does not affect long-term access keys of users.
 */
import type { PolicyDocument } from "./types";
import { DocumentInputError } from "./validate";

/** Prefix of the inline policy name; the case ID follows so several cases can revoke on the same role. */
export const REVOKE_SESSIONS_POLICY_PREFIX = "FlzRevokeOlderSessions";

/** An ISO 8601 UTC or offset timestamp; a time without a zone would be read in some machine's local time. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Characters IAM allows in a policy name. */
const POLICY_NAME_CHAR = /[\w+=,.@-]/;

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

/**
 * `Deny * *` for every session whose `aws:TokenIssueTime` is before `cutoffIso`. Sessions issued at or after the
 * cutoff are unaffected (`DateLessThan` is strict). Long-term credentials carry no token issue time, so the
 * condition does not match them: deactivate their access keys instead.
 */
export function revokeSessionsPolicy(cutoffIso: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenySessionsIssuedBeforeCutoff",
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: { DateLessThan: { "aws:TokenIssueTime": normalizeCutoff(cutoffIso) } },
      },
    ],
  };
}

/**
 * Name of the inline revocation policy for a case: `FlzRevokeOlderSessions-<case>`, every character IAM does not
 * allow replaced by `-`, cut to IAM's 128 characters. Stable for a case, so re-running containment replaces the
 * policy (moving the cutoff) instead of piling up policies.
 */
export function revokeSessionsPolicyName(caseId: string): string {
  if (caseId.trim() === "") {
    throw new DocumentInputError(`caseId: ${JSON.stringify(caseId)} is empty; give the case ID (e.g. IR-2024-001).`);
  }
  const safe = Array.from(caseId, (c) => (POLICY_NAME_CHAR.test(c) ? c : "-")).join("");
  return `${REVOKE_SESSIONS_POLICY_PREFIX}-${safe}`.slice(0, 128);
}
