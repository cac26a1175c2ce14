/** `flz case list`: every case in the evidence bucket, with what its record 0 says. */
import { listCases, type CaseSummary } from "../cases/registry";
import { caseStore, withResponderFactory } from "../cases/with-case";
import { loadLandingZone } from "../contract";
import { note, printJson, printLine, type Io } from "../output";
import { formatTable } from "./table";

/** Options of `flz case list`. */
export interface CaseListFlags {
  /** `--landing-zone`. */
  readonly landingZone?: string;
  /** `--json`. */
  readonly json?: boolean;
}

/**
 * `flz case list`.
 *
 * @param flags the command's flags.
 * @param io where to print.
 */
export async function runCaseList(flags: CaseListFlags, io: Io): Promise<CaseSummary[]> {
  const lz = loadLandingZone(flags.landingZone);
  const cases = await withResponderFactory(lz, undefined, (factory) => listCases(caseStore(factory, lz)));
  if (flags.json) {
    printJson(io, cases);
    return cases;
  }
  if (cases.length === 0) {
    printLine(
      io,
      `no case in s3://${lz.evidenceBucket}/cases/; open one with flz case open <id> --title ... --aware-at ...`,
    );
    return cases;
  }
  const rows = cases.map((c) => [
    c.caseId,
    c.state.toUpperCase(),
    c.openedAt ?? "-",
    c.awarenessTime ?? "-",
    c.openedBy ?? "-",
    c.title ?? c.note ?? "",
  ]);
  for (const line of formatTable(["CASE", "STATE", "OPENED (UTC)", "AWARE (UTC)", "BY", "TITLE"], rows))
    printLine(io, line);
  note(io, `${cases.length} case(s) in s3://${lz.evidenceBucket}/cases/; details: flz case status <id>`);
  return cases;
}
