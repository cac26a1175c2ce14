/**
 * `flz custody show|verify|export`: read, re-check and hand over a case's chain of custody (DESIGN.md §6).
 * `verify --from <dir>` works fully offline on an exported folder; everything else reads the evidence bucket.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { S3Client } from "@aws-sdk/client-s3";
import { ClientFactory } from "../aws/clients";
import { loadLandingZone, type LandingZone } from "../contract";
import { verifyChain, type ChainVerification, type StoredRecord } from "../custody/chain";
import {
  publicKeyFingerprint,
  readCaseFolder,
  readPublicKeyFile,
  writeCaseFolder,
  type ExportManifest,
} from "../custody/case-files";
import { checkEvidence } from "../custody/evidence-check";
import type { EvidenceBucketLedger } from "../custody/ledger";
import { withCaseLedger } from "./case";
import { custodyPrefix, isValidCaseId } from "../custody/record";
import {
  parsedRecords,
  renderHtml,
  renderMarkdown,
  unreadableRecords,
  verdictLine,
  verdictOk,
  type EvidenceCheck,
} from "../custody/report";
import type { CustodyRecord } from "../custody/types";
import { OperationError, UsageError } from "../errors";
import { note, prepareOutputFolder, printJson, printLine, processIo, type Io } from "../output";

/** Flags shared by the custody subcommands. */
export interface CustodyFlags {
  /** Case ID. */
  case?: string;
  /** Landing-zone contract file. */
  landingZone?: string;
  /** Print JSON. */
  json?: boolean;
  /** verify: PEM public key to verify with. */
  publicKey?: string;
  /** verify: exported folder to verify offline. */
  from?: string;
  /** export: output folder. */
  out?: string;
}

/** Result of a verification, as printed by `--json`. */
export interface CustodyVerdict {
  /** Case ID. */
  readonly case: string;
  /** Where the records were read. */
  readonly source: string;
  /** Pass or fail. */
  readonly ok: boolean;
  /** One-line verdict. */
  readonly verdict: string;
  /** Records that verified. */
  readonly verified: number;
  /** Records found. */
  readonly total: number;
  /** Hash of the last verified record. */
  readonly headHash: string | null;
  /** First broken record, when any. */
  readonly problem: { sequence: number; location: string; reason: string } | null;
  /** Fingerprint of the public key used. */
  readonly publicKeySha256: string;
  /** Evidence checks (online only). */
  readonly evidence: EvidenceCheck[];
}

const HELP_SHOW = `
Examples:
  $ flz custody show --case IR-2026-042
  $ flz custody show --case IR-2026-042 --json | jq '.[] | {sequence, action, subjects}'`;

const HELP_VERIFY = `
Checks that records 0..n are all there, each byte-exact canonical JSON, linked to the one before, hashed correctly,
and signed by the custody key (checked offline with the public key), and, online, that every S3 artefact still has
the SHA-256 its record names. Names the first broken record and why, and exits 1.

Online, the case's stored public key is compared with KMS GetPublicKey. Offline (--from), pass --public-key with the
key you obtained from KMS yourself: a folder's own public-key.pem proves only that the folder agrees with itself.
The head hash printed at the end pins the chain's length: compare it with the one in the export report.

Examples:
  $ flz custody verify --case IR-2026-042
  $ aws kms get-public-key --key-id <custodySigningKeyArn> --query PublicKey --output text | base64 -d \\
      | openssl pkey -pubin -inform DER -out custody.pem
  $ flz custody verify --case IR-2026-042 --from ./IR-2026-042-custody --public-key custody.pem --json`;

const HELP_EXPORT = `
Writes <out>/records/<seq>.json (each record byte for byte), <out>/public-key.pem, <out>/case.json, and a report for
lawyers and examiners in <out>/report.html and <out>/report.md: case summary, verification verdict, timeline, every
artefact with its hashes and locations. The export is made even when verification fails (the report says so), and
the command then exits 1.

Examples:
  $ flz custody export --case IR-2026-042 --out ./IR-2026-042-custody
  $ flz custody verify --case IR-2026-042 --from ./IR-2026-042-custody --public-key custody.pem`;

function requireCase(flags: CustodyFlags): string {
  if (!flags.case) throw new UsageError("--case <id> is required, e.g. --case IR-2026-042");
  if (!isValidCaseId(flags.case))
    throw new UsageError(
      `--case ${JSON.stringify(flags.case)} is not a case ID: letters, digits and . _ + = @ -, up to 128`,
    );
  return flags.case;
}

/** Adds `flz custody` and its subcommands to the program. */
export function register(program: Command): void {
  const custody = program
    .command("custody")
    .description("Show, verify and export a case's signed, hash-chained custody ledger.");
  custody
    .command("show")
    .description("List a case's custody records: sequence, time, actor, action, subjects, hashes.")
    .option("--case <id>", "case ID (required)")
    .option("--landing-zone <file>", "outputs contract JSON; default $FLZ_LANDING_ZONE")
    .option("--json", "print the records as JSON")
    .addHelpText("after", HELP_SHOW)
    .action(async (flags: CustodyFlags) => {
      await runShow(flags, processIo());
    });
  custody
    .command("verify")
    .description(
      "Re-check the chain, every signature (offline, with the public key) and every reachable evidence hash.",
    )
    .option("--case <id>", "case ID (required)")
    .option(
      "--public-key <pem>",
      "custody public key (PEM) to verify with; default: the case's stored copy, checked against KMS",
    )
    .option("--from <dir>", "verify an exported folder, fully offline")
    .option("--landing-zone <file>", "outputs contract JSON; default $FLZ_LANDING_ZONE (not needed with --from)")
    .option("--json", "print one JSON verdict")
    .addHelpText("after", HELP_VERIFY)
    .action(async (flags: CustodyFlags) => {
      await runVerify(flags, processIo());
    });
  custody
    .command("export")
    .description("Export every record, the public key and an HTML + Markdown report to a folder.")
    .option("--case <id>", "case ID (required)")
    .option("--out <dir>", "folder to write; created if missing, its parent must exist (required)")
    .option("--landing-zone <file>", "outputs contract JSON; default $FLZ_LANDING_ZONE")
    .option("--json", "print what was written as JSON")
    .addHelpText("after", HELP_EXPORT)
    .action(async (flags: CustodyFlags) => {
      await runExport(flags, processIo());
    });
}

async function withLedger<T>(
  flags: CustodyFlags,
  caseId: string,
  fn: (ledger: EvidenceBucketLedger, lz: LandingZone, factory: ClientFactory) => Promise<T>,
): Promise<T> {
  const lz = loadLandingZone(flags.landingZone);
  // Reading a case is allowed whatever its record 0 says: an examiner must be told a damaged chain is BROKEN.
  return withCaseLedger(lz, caseId, (ledger, factory) => fn(ledger, lz, factory), { access: "read" });
}

/** Parses what can be parsed, for display (verification is separate and strict). */
export function readableRecords(entries: StoredRecord[]): CustodyRecord[] {
  const out: CustodyRecord[] = [];
  for (const entry of entries) {
    try {
      const record = JSON.parse(Buffer.from(entry.bytes).toString("utf8")) as CustodyRecord;
      if (typeof record === "object" && record !== null && Array.isArray(record.subjects))
        out.push({ ...record, sequence: entry.sequence });
    } catch {
      // unreadable records are reported by verification
    }
  }
  return out;
}

/** A short form of an actor ARN for tables: the role and session. */
export function shortActor(arn: string): string {
  const match = /:assumed-role\/(.+)$/.exec(arn);
  return match ? match[1] : arn;
}

/** `flz custody show`. */
export async function runShow(flags: CustodyFlags, io: Io): Promise<CustodyRecord[]> {
  const caseId = requireCase(flags);
  return withLedger(flags, caseId, async (ledger) => {
    const records = readableRecords(await ledger.storedRecords());
    if (flags.json) {
      printJson(io, records);
      return records;
    }
    if (records.length === 0) {
      printLine(io, `case ${caseId} has no custody records in s3://${ledger.bucket}/${custodyPrefix(caseId)}`);
      return records;
    }
    const rows = records.map((r) => [
      String(r.sequence),
      r.time,
      shortActor(r.actor),
      `${r.action}${r.outcome === "failed" ? " (FAILED)" : ""}`,
      r.subjects.join(", "),
      `${r.hash.slice(0, 16)}…`,
      `${r.previousHash.slice(0, 16)}…`,
    ]);
    const header = ["SEQ", "TIME (UTC)", "ACTOR", "ACTION", "SUBJECTS", "HASH", "PREVIOUS"];
    const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i].length))));
    const fmt = (cells: string[]) =>
      cells
        .map((c, i) => (c.length > widths[i] ? `${c.slice(0, widths[i] - 1)}…` : c.padEnd(widths[i])))
        .join("  ")
        .trimEnd();
    printLine(io, fmt(header));
    for (const row of rows) printLine(io, fmt(row));
    note(io, `${records.length} records; run flz custody verify --case ${caseId} to check them`);
    return records;
  });
}

interface Gathered {
  readonly source: string;
  readonly keyArn: string;
  readonly publicKeyPem: string;
  readonly entries: StoredRecord[];
  readonly verification: ChainVerification;
  readonly evidence: EvidenceCheck[];
}

async function gatherOnline(
  ledger: EvidenceBucketLedger,
  lz: LandingZone,
  factory: ClientFactory,
  caseId: string,
  publicKeyFile: string | undefined,
  io: Io,
): Promise<Gathered> {
  const entries = await ledger.storedRecords();
  const stored = await ledger.storedPublicKey();
  let publicKeyPem: string;
  if (publicKeyFile) publicKeyPem = readPublicKeyFile(publicKeyFile);
  else {
    let fromKms: string | undefined;
    try {
      fromKms = await ledger.kmsPublicKey();
    } catch (err) {
      note(
        io,
        `note: could not read the custody key's public key from KMS (${(err as { name?: string }).name ?? String(err)}); using the case's stored copy`,
      );
    }
    if (stored && fromKms && publicKeyFingerprint(stored) !== publicKeyFingerprint(fromKms)) {
      throw new OperationError(
        `the case's stored public key ${custodyPrefix(caseId)}public-key.pem is not the public key of custody key ${lz.custodySigningKeyArn}`,
      );
    }
    const pem = stored ?? fromKms;
    if (!pem)
      throw new OperationError(
        `case ${caseId} has no stored public key and KMS did not give one: pass --public-key <pem>`,
      );
    publicKeyPem = pem;
  }
  const verification = verifyChain(entries, { caseId, publicKeyPem });
  const s3 = factory.client(S3Client, { region: lz.homeRegion });
  const evidence = await checkEvidence(s3, verification.records);
  return {
    source: `s3://${ledger.bucket}/${custodyPrefix(caseId)}`,
    keyArn: lz.custodySigningKeyArn,
    publicKeyPem,
    entries,
    verification,
    evidence,
  };
}

function verdictOf(caseId: string, g: Gathered): CustodyVerdict {
  const v = g.verification;
  return {
    case: caseId,
    source: g.source,
    ok: verdictOk(v, g.evidence),
    verdict: verdictLine(v, g.evidence),
    verified: v.verified,
    total: v.total,
    headHash: v.headHash ?? null,
    problem: v.problem ?? null,
    publicKeySha256: publicKeyFingerprint(g.publicKeyPem),
    evidence: g.evidence,
  };
}

/** `flz custody verify`. Throws {@link OperationError} with the verdict when the chain is broken. */
export async function runVerify(flags: CustodyFlags, io: Io): Promise<CustodyVerdict> {
  const caseId = requireCase(flags);
  let gathered: Gathered;
  if (flags.from) {
    const folder = readCaseFolder(flags.from);
    const publicKeyPem = flags.publicKey ? readPublicKeyFile(flags.publicKey) : folder.publicKeyPem;
    if (!publicKeyPem)
      throw new UsageError(
        `${flags.from} has no public-key.pem: pass --public-key <pem> (from aws kms get-public-key)`,
      );
    if (!flags.publicKey)
      note(
        io,
        "note: verifying with the folder's own public-key.pem; compare its fingerprint with the custody key in KMS (or pass --public-key)",
      );
    gathered = {
      source: path.resolve(flags.from),
      keyArn: folder.manifest?.keyArn ?? "unknown",
      publicKeyPem,
      entries: folder.entries,
      verification: verifyChain(folder.entries, { caseId, publicKeyPem }),
      evidence: [],
    };
  } else {
    gathered = await withLedger(flags, caseId, (ledger, lz, factory) =>
      gatherOnline(ledger, lz, factory, caseId, flags.publicKey, io),
    );
  }
  const verdict = verdictOf(caseId, gathered);
  if (flags.json) printJson(io, verdict);
  else {
    printLine(io, verdict.verdict);
    printLine(
      io,
      `public key SHA-256 ${verdict.publicKeySha256}; ${verdict.verified}/${verdict.total} records verified; source ${verdict.source}`,
    );
    for (const check of verdict.evidence)
      printLine(io, `evidence of record ${check.sequence}: ${check.status}: ${check.location} (${check.detail})`);
  }
  if (!verdict.ok) throw new OperationError(`custody of case ${caseId} does not verify: ${verdict.verdict}`);
  return verdict;
}

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

/** `flz custody export`. Writes everything, then throws {@link OperationError} if verification failed. */
export async function runExport(flags: CustodyFlags, io: Io): Promise<ExportResult> {
  const caseId = requireCase(flags);
  if (!flags.out)
    throw new UsageError("--out <dir> is required: the folder to write the records, public key and report to");
  // Checked (and created) before anything is read: a typo in --out must not cost a whole export.
  prepareOutputFolder(flags.out, "--out");
  const out = flags.out;
  const result = await withLedger(flags, caseId, async (ledger, lz, factory) => {
    const g = await gatherOnline(ledger, lz, factory, caseId, undefined, io);
    if (g.entries.length === 0)
      throw new OperationError(
        `case ${caseId} has no custody records in s3://${ledger.bucket}/${custodyPrefix(caseId)}: nothing to export`,
      );
    const verdict = verdictOf(caseId, g);
    const exportedAt = new Date().toISOString();
    const manifest: ExportManifest = {
      case: caseId,
      source: g.source,
      keyArn: g.keyArn,
      publicKeySha256: verdict.publicKeySha256,
      records: g.entries.length,
      headHash: verdict.headHash,
      exportedAt,
    };
    writeCaseFolder(out, g.entries, g.publicKeyPem, manifest);
    const reportInput = {
      caseId,
      source: g.source,
      keyArn: g.keyArn,
      publicKeySha256: verdict.publicKeySha256,
      generatedAt: exportedAt,
      verification: g.verification,
      records: parsedRecords(g.entries),
      evidenceChecks: g.evidence,
      unreadable: unreadableRecords(g.entries),
    };
    writeFileSync(path.join(out, "report.html"), renderHtml(reportInput));
    writeFileSync(path.join(out, "report.md"), renderMarkdown(reportInput));
    const files = ["records/", "public-key.pem", "case.json", "report.html", "report.md"].map((f) => path.join(out, f));
    return { out, records: g.entries.length, verdict, files };
  });
  if (flags.json) printJson(io, result);
  else {
    printLine(io, `exported ${result.records} records of case ${caseId} to ${out}`);
    printLine(io, result.verdict.verdict);
    note(
      io,
      `report: ${path.join(out, "report.html")} and report.md; verify offline with flz custody verify --case ${caseId} --from ${out} --public-key <pem>`,
    );
  }
  if (!result.verdict.ok)
    throw new OperationError(`exported, but custody of case ${caseId} does not verify: ${result.verdict.verdict}`);
  return result;
}
