/**
 * `flz custody export`: the case's records, journals, public key, verdict and reports written to a folder an examiner
 * verifies offline (`flz custody verify --from`).
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { writeCaseFolder, type ExportManifest } from "../custody/case-files";
import { custodyPrefix } from "../custody/record";
import { parsedRecords, renderHtml, renderMarkdown, unreadableRecords } from "../custody/report";
import { gatherOnline, verdictOf, type CustodyVerdict } from "../custody/verify-case";
import { OperationError, UsageError } from "../errors";
import { note, prepareOutputFolder, printJson, printLine, type Io } from "../output";
import { requireCase, withLedger, type CustodyFlags } from "./custody-common";

/** What `export` wrote. */
export interface ExportResult {
  /** The folder. */
  readonly out: string;
  /** Records written. */
  readonly records: number;
  /** The verdict included in the report. */
  readonly verdict: CustodyVerdict;
  /** The files written. */
  readonly files: string[];
}

/** `flz custody export`. Writes everything, then throws {@link OperationError} unless the verdict is VERIFIED. */
export async function runExport(flags: CustodyFlags, io: Io): Promise<ExportResult> {
  const caseId = requireCase(flags);
  if (!flags.out)
    throw new UsageError("--out <dir> is required: the folder to write the records, public key and report to");
  // Checked (and created) before anything is read: a typo in --out must not cost a whole export.
  prepareOutputFolder(flags.out, "--out");
  const out = flags.out;
  const result = await withLedger(flags, caseId, async (ledger, lz, factory) => {
    const g = await gatherOnline(ledger, factory.client(S3Client, { region: lz.homeRegion }), lz.custodySigningKeyArn, {
      caseId,
    });
    if (g.entries.length === 0)
      throw new OperationError(
        `case ${caseId} has no custody records in s3://${ledger.bucket}/${custodyPrefix(caseId)}: nothing to export`,
      );
    const verdict = verdictOf(caseId, g);
    const exportedAt = new Date().toISOString();
    const stored = g.entries.filter((e) => !e.heldInJournal);
    const manifest: ExportManifest = {
      case: caseId,
      source: g.source,
      keyArn: g.keyArn,
      publicKeySha256: verdict.publicKeySha256,
      records: stored.length,
      headHash: verdict.headHash,
      exportedAt,
      status: verdict.status,
      findings: verdict.findings,
    };
    writeCaseFolder(out, g.entries, g.keySource === "kms" ? g.publicKeyPem : undefined, manifest, g.pendingJournals);
    const reportInput = {
      caseId,
      source: g.source,
      keyArn: g.keyArn,
      publicKeySha256: verdict.publicKeySha256 ?? "none: no trusted public key was available",
      generatedAt: exportedAt,
      verification: g.verification,
      records: parsedRecords(g.entries),
      evidenceChecks: g.evidence,
      unreadable: unreadableRecords(g.entries),
    };
    writeFileSync(path.join(out, "report.html"), renderHtml(reportInput));
    writeFileSync(path.join(out, "report.md"), renderMarkdown(reportInput));
    const files = [
      "records/",
      ...(g.pendingJournals.length ? ["journals/"] : []),
      ...(g.keySource === "kms" ? ["public-key.pem"] : []),
      "case.json",
      "report.html",
      "report.md",
    ].map((f) => path.join(out, f));
    return { out, records: stored.length, verdict, files };
  });
  if (flags.json) printJson(io, result);
  else {
    printLine(io, `exported ${result.records} records of case ${caseId} to ${out}`);
    printLine(io, result.verdict.verdict);
    note(
      io,
      `report: ${path.join(out, "report.html")} and report.md; verify offline with flz custody verify --case ${caseId} --from ${out} --public-key <pem from KMS>`,
    );
  }
  if (!result.verdict.ok)
    throw new OperationError(`exported, but custody of case ${caseId} does not verify: ${result.verdict.verdict}`);
  return result;
}
