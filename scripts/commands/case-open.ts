/**
 * `flz case open <id>`: the only command that creates a case. Writes record 0, `case.opened` (title, awareness time,
 * who), through the custody ledger; every other command refuses a case without it.
 */
import { userInfo } from "node:os";
import { caseOpenedEvent, type CaseOpening } from "../cases/opened";
import { requireCaseIdFormat, withCaseLedger } from "../cases/with-case";
import { parseInstant } from "../clock/time";
import { loadLandingZone } from "../contract";
import type { CustodyRecord } from "../custody/types";
import { OperationError, UsageError } from "../errors";
import { note, printJson, printLine, type Io } from "../output";

/** Options of `flz case open`, as commander parses them. */
export interface CaseOpenFlags {
  /** `--title`. */
  readonly title?: string;
  /** `--aware-at`: ISO 8601 with a zone, or `now`. */
  readonly awareAt?: string;
  /** `--by`: who opens it. */
  readonly by?: string;
  /** `--landing-zone`. */
  readonly landingZone?: string;
  /** `--dry-run`. */
  readonly dryRun?: boolean;
  /** `--json`. */
  readonly json?: boolean;
}

/** How far in the future an awareness time may lie (clock skew between the operator's note and this machine). */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

/** Longest title kept (a title is a line, not the incident report). */
const MAX_TITLE = 200;

/**
 * Validates what `case open` will record; throws {@link UsageError} naming the bad value.
 *
 * @param caseId the case ID typed.
 * @param flags the flags typed.
 * @param now the current time.
 */
export function parseCaseOpening(caseId: string, flags: CaseOpenFlags, now: Date): CaseOpening {
  requireCaseIdFormat(caseId);
  const title = flags.title?.trim() ?? "";
  if (!title) throw new UsageError('--title is required: a short title, e.g. --title "Leaked key of ci-deployer"');
  if (title.length > MAX_TITLE || /\p{Cc}/u.test(title))
    throw new UsageError(
      `--title must be one line of at most ${MAX_TITLE} characters (got ${title.length} characters${/[\n\r]/.test(title) ? " over several lines" : ""})`,
    );
  if (flags.awareAt === undefined)
    throw new UsageError(
      "--aware-at is required: when the organisation became aware of the incident (ISO 8601 with a zone, or now); it starts the GDPR, NIS2, DORA and HIPAA clocks",
    );
  const aware = flags.awareAt.trim() === "now" ? now : parseInstant(flags.awareAt, "--aware-at");
  if (aware.getTime() > now.getTime() + FUTURE_TOLERANCE_MS)
    throw new UsageError(
      `--aware-at ${JSON.stringify(flags.awareAt)} is in the future (now is ${now.toISOString()}): give when the organisation became aware`,
    );
  const by = (flags.by ?? defaultOpener()).trim();
  if (!by || by.length > MAX_TITLE || /\p{Cc}/u.test(by))
    throw new UsageError(`--by must name who opens the case, on one line (e.g. --by "Alice Martin, IR lead")`);
  return { caseId, title, awarenessTime: aware.toISOString(), openedBy: by };
}

function defaultOpener(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "";
  }
}

/** What `case open` did. */
export interface CaseOpenResult {
  /** The opening recorded (or that would be). */
  readonly opening: CaseOpening;
  /** Record 0, absent on a dry run. */
  readonly record?: CustodyRecord;
}

/**
 * `flz case open <id>`: checks the case does not exist, then writes record 0.
 *
 * @param caseId the case ID.
 * @param flags the command's flags.
 * @param io where to print.
 */
export async function runCaseOpen(caseId: string, flags: CaseOpenFlags, io: Io): Promise<CaseOpenResult> {
  const opening = parseCaseOpening(caseId, flags, new Date());
  const lz = loadLandingZone(flags.landingZone);
  return withCaseLedger(
    lz,
    caseId,
    async (ledger) => {
      if (flags.dryRun) {
        if (flags.json) printJson(io, { dryRun: true, case: caseId, ...opening });
        else
          printLine(
            io,
            `would open case ${caseId}: ${JSON.stringify(opening.title)}, aware ${opening.awarenessTime}, by ${opening.openedBy}`,
          );
        note(io, `dry run: nothing recorded in s3://${ledger.bucket}/cases/${caseId}/`);
        return { opening };
      }
      const record = await ledger.append(caseOpenedEvent(opening));
      if (record.sequence !== 0) {
        // Another operator opened the same case in the same moment; the ledger kept both, in order.
        throw new OperationError(
          `case ${caseId} was opened by someone else at the same moment: this opening was recorded as record ${record.sequence}, after theirs; see flz case status ${caseId}`,
        );
      }
      if (flags.json)
        printJson(io, {
          case: caseId,
          ...opening,
          record: { sequence: record.sequence, hash: record.hash, time: record.time, actor: record.actor },
        });
      else {
        printLine(io, `opened case ${caseId}: ${JSON.stringify(opening.title)}`);
        printLine(io, `  aware ${opening.awarenessTime}, by ${opening.openedBy}; record 0 ${record.hash}`);
        note(io, `next: flz clock --case ${caseId}  (the deadlines from this awareness time)`);
      }
      return { opening, record };
    },
    { access: "open" },
  );
}
