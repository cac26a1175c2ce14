/**
 * The record that opens a case (issue 14): record 0 of every case, written only by `flz case open`. Every other
 * command acts on a case only when this record exists, so a mistyped case ID can never start a new, permanent case
 * in the Object-Locked bucket.
 */
import type { CustodyEvent } from "../custody/types";

/** Ledger action of a case's first record. */
export const CASE_OPENED_ACTION = "case.opened";

/** What the operator states when opening a case. */
export interface CaseOpening {
  /** Case ID (validated by the ledger). */
  readonly caseId: string;
  /** Short title, e.g. "Leaked access key of ci-deployer". */
  readonly title: string;
  /** When the organisation became aware of the incident, ISO 8601 UTC: the start of GDPR, NIS2 and NYDFS clocks. */
  readonly awarenessTime: string;
  /** Who opened it (a person or an automation), as they wish to be named in the record. */
  readonly openedBy: string;
}

/** The custody event of `flz case open`. */
export function caseOpenedEvent(opening: CaseOpening): CustodyEvent {
  return {
    action: CASE_OPENED_ACTION,
    subjects: [opening.caseId],
    details: { title: opening.title, awarenessTime: opening.awarenessTime, openedBy: opening.openedBy },
  };
}
