/**
 * Opens a case in a test the way `flz case open` does: record 0 is `case.opened`. Every emulator test that acts on a
 * case opens it first through this one helper, so the cases-are-opened-explicitly rule (issue 14) holds in tests too.
 */
import { caseOpenedEvent } from "../../scripts/cases/opened";
import type { CustodyLedger, CustodyRecord } from "../../scripts/custody/types";

/** Options of {@link openTestCase}. */
export interface TestCaseOptions {
  /** Title. Default "test case". */
  readonly title?: string;
  /** Awareness time. Default: now. */
  readonly awarenessTime?: string;
  /** Who opened it. Default "flz test". */
  readonly openedBy?: string;
}

/** Appends the `case.opened` record to an empty case's ledger and returns it. */
export function openTestCase(ledger: CustodyLedger, options: TestCaseOptions = {}): Promise<CustodyRecord> {
  return ledger.append(
    caseOpenedEvent({
      caseId: ledger.caseId,
      title: options.title ?? "test case",
      awarenessTime: options.awarenessTime ?? new Date().toISOString(),
      openedBy: options.openedBy ?? "flz test",
    }),
  );
}
