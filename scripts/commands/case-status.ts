/**
 * `flz case status <id>`: where a case stands: who opened it and when the organisation became aware, every action
 * taken, the containments still in effect (per the ledger, and per the live check once it exists: scripts/cases/live.ts),
 * the evidence held with its hashes, the objects of the case's folder that no record names (scripts/custody/orphans.ts),
 * the last computed deadlines marked against now, and a verification of the chain made for this status.
 */
import { liveStates } from "../cases/live";
import { caseStatus, type CaseStatus, type StatusVerification } from "../cases/status";
import { caseStore, withCaseLedger } from "../cases/with-case";
import { parseInstant } from "../clock/time";
import { loadLandingZone } from "../contract";
import { verifyChain } from "../custody/chain";
import { listUnrecordedObjects } from "../custody/orphans";
import { readableRecords } from "./custody";
import { verdictLine } from "../custody/report";
import { describeError } from "../errors";
import { printJson, printLine, type Io } from "../output";
import { formatTable, terminalSafe } from "./table";

/** Options of `flz case status`. */
export interface CaseStatusFlags {
  /** `--landing-zone`. */
  readonly landingZone?: string;
  /** `--now`: the moment deadlines are marked against. */
  readonly now?: string;
  /** `--json`. */
  readonly json?: boolean;
}

/**
 * `flz case status <id>`.
 *
 * @param caseId the case.
 * @param flags the command's flags.
 * @param io where to print.
 */
export async function runCaseStatus(caseId: string, flags: CaseStatusFlags, io: Io): Promise<CaseStatus> {
  const now = flags.now ? parseInstant(flags.now, "--now") : new Date();
  const lz = loadLandingZone(flags.landingZone);
  const status = await withCaseLedger(
    lz,
    caseId,
    async (ledger, factory) => {
      const entries = await ledger.storedRecords();
      const records = readableRecords(entries);
      let verification: StatusVerification;
      try {
        const v = verifyChain(entries, { caseId, publicKeyPem: await ledger.kmsPublicKey() });
        verification = {
          ok: v.ok,
          verdict: verdictLine(v),
          verified: v.verified,
          total: v.total,
          at: now.toISOString(),
        };
      } catch (err) {
        verification = {
          ok: false,
          verdict: `UNVERIFIED: the custody public key could not be read from KMS (${describeError(err)})`,
          verified: 0,
          total: entries.length,
          at: now.toISOString(),
        };
      }
      const base = caseStatus(caseId, records, verification, now);
      const live = await liveStates({ factory, ledger, region: lz.homeRegion }, base.inEffect);
      const store = caseStore(factory, lz);
      let orphans: Pick<CaseStatus, "unrecorded" | "unrecordedProblem">;
      try {
        orphans = { unrecorded: await listUnrecordedObjects(store.s3, store.bucket, caseId, records) };
      } catch (err) {
        orphans = { unrecordedProblem: describeError(err) };
      }
      return { ...base, inEffect: base.inEffect.map((c) => ({ ...c, live: live.get(c.sequence) })), ...orphans };
    },
    { access: "read" },
  );
  if (flags.json) printJson(io, status);
  else for (const line of statusLines(status)) printLine(io, line);
  return status;
}

const q = (text: string): string => terminalSafe(text);

/** The status as lines for people. */
export function statusLines(s: CaseStatus): string[] {
  const lines: string[] = [];
  if (s.opened)
    lines.push(
      `case ${s.caseId}: ${JSON.stringify(q(s.opened.title))}`,
      `  opened ${s.opened.at} by ${q(s.opened.openedBy)} (${q(s.opened.actor)}); aware ${s.opened.awarenessTime}`,
    );
  else lines.push(`case ${s.caseId}: not opened with flz case open (${q(s.openingProblem ?? "")})`);
  lines.push(`  ${s.records} record(s)${s.lastRecordAt ? `, last ${s.lastRecordAt}` : ""}`);
  lines.push(`verification at ${s.verification.at}: ${q(s.verification.verdict)}`);
  lines.push("", "actions taken:");
  lines.push(
    ...formatTable(
      ["SEQ", "TIME (UTC)", "ACTION", "SUBJECTS", "OUTCOME"],
      s.actions.map((a) => [
        String(a.sequence),
        a.time,
        a.action,
        a.subjects.join(", "),
        a.outcome === "failed" ? `FAILED: ${a.error ?? ""}` : "succeeded",
      ]),
    ).map((l) => `  ${l}`),
  );
  lines.push("", "still in effect (per the ledger):");
  if (s.inEffect.length === 0) lines.push("  no containment in effect");
  for (const c of s.inEffect) {
    const where = c.account ? ` in ${c.account}${c.region ? ` ${c.region}` : ""}` : "";
    const superseded = c.supersededBy !== undefined ? `; superseded by record ${c.supersededBy}` : "";
    lines.push(`  record ${c.sequence} ${c.action} ${q(c.subjects.join(", "))}${where} since ${c.time}${superseded}`);
    lines.push(`    live: ${c.live?.state ?? "not-checked"}: ${q(c.live?.detail ?? "")}; undo: ${c.undoCommand}`);
  }
  for (const u of s.undone) lines.push(`  record ${u.sequence} ${u.action}: undone by record ${u.undoneBy}`);
  lines.push("", "evidence held:");
  if (s.evidence.length === 0) lines.push("  none recorded");
  for (const e of s.evidence)
    lines.push(
      `  record ${e.sequence} ${q(e.kind)} ${q(e.location)} sha256 ${q(e.sha256 ?? "-")}${e.bytes !== undefined ? ` (${e.bytes} bytes)` : ""}`,
    );
  if (s.unrecordedProblem) lines.push("", `objects no record names: not checked (${q(s.unrecordedProblem)})`);
  else if (s.unrecorded?.length) {
    lines.push("", "objects no record names (left by an interrupted write; rerun the command that wrote them):");
    for (const u of s.unrecorded)
      lines.push(
        `  ${q(u.location)} ${u.sha256 ? `sha256 ${u.sha256}` : `S3 checksum ${q(u.s3ChecksumSha256 ?? "-")}`} (${u.bytes} bytes)`,
      );
  }
  lines.push("", "deadlines:");
  if (!s.deadlines) lines.push(`  not computed yet: flz clock --case ${s.caseId}`);
  else {
    lines.push(`  computed at ${s.deadlines.computedAt} (record ${s.deadlines.sequence}); marked against ${s.now}`);
    for (const d of s.deadlines.deadlines)
      lines.push(
        `  ${(d.status === "overdue" ? "OVERDUE" : d.status === "due-soon" ? "DUE SOON" : "").padEnd(8)} ${d.dueUtc}  ${q(d.regime).toUpperCase()} ${q(d.obligation)}`,
      );
  }
  return lines;
}
