/**
 * `flz custody show|verify|export|complete`: read, re-check, hand over and complete a case's chain of custody
 * (DESIGN.md §6, docs/custody.md). `verify --from <dir>` works fully offline on an exported folder; everything else
 * reads the evidence bucket, every object version and delete marker under the case.
 */
import * as path from "node:path";
import type { Command } from "commander";
import { S3Client } from "@aws-sdk/client-s3";
import type { ClientFactory } from "../aws/clients";
import { auditInventory, combine } from "../custody/audit";
import { readCaseFolder, readPublicKeyFile, readWitnessFiles } from "../custody/case-files";
import { formatRanges, parseRecordBytes, shapeProblem, type StoredRecord } from "../custody/chain";
import { custodyPrefix } from "../custody/record";
import type { CustodyRecord } from "../custody/types";
import type { CustodyFinding } from "../custody/verdict";
import {
  gatherOffline,
  gatherOnline,
  verdictOf,
  type CustodyVerdict,
  type GatheredCase,
  type VerifyInputs,
} from "../custody/verify-case";
import { OperationError, UsageError } from "../errors";
import { note, printJson, printLine, processIo, type Io } from "../output";
import { requireCase, withLedger, type CustodyFlags } from "./custody-common";
import { runExport } from "./custody-export";

export type { CustodyVerdict } from "../custody/verify-case";
export type { CustodyFlags } from "./custody-common";
export { runExport, type ExportResult } from "./custody-export";

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const HELP_SHOW = `
Records claimed by a writer that stopped before writing them are shown from their batch journal (signed by their
author), marked "claimed, not yet written"; the next append, or flz custody complete, writes them.

Examples:
  $ flz custody show --case IR-2026-042
  $ flz custody show --case IR-2026-042 --json | jq '.[] | {sequence, action, subjects}'`;

const HELP_VERIFY = `
Checks every object version and delete marker under the case (ListObjectVersions): records 0..n all there, each
byte-exact canonical JSON, linked to the one before, hashed correctly, signed by the custody key (checked offline with
the public key from KMS); no delete marker, no second version of a record, no object flz does not write, every version
under COMPLIANCE retention; and, online, every S3 artefact still has the SHA-256 its record names.

Verdicts: VERIFIED (exit 0); BROKEN, naming each object and version and why; INCOMPLETE, records claimed but not yet
written (flz custody complete writes them); UNVERIFIED, no trusted public key: neither KMS answered nor --public-key
was given. A public-key.pem found beside the records is never trusted on its own.

Tail truncation (records cut off the end) leaves a shorter valid chain; two witnesses reveal it:
  --witness <file|dir>  CloudTrail events of the evidence bucket (log files, .json.gz, a JSON array or JSON Lines,
                        e.g. an Athena UNLOAD of the organisation trail): every record CloudTrail saw written must be
                        in the chain, no record key written twice, no delete under the case. See docs/custody.md.
  --expect-head <hash>  a head hash printed by an earlier verify or export: the chain must still contain it.

Examples:
  $ flz custody verify --case IR-2026-042
  $ aws kms get-public-key --key-id <custodySigningKeyArn> --query PublicKey --output text | base64 -d \\
      | openssl pkey -pubin -inform DER -out custody.pem
  $ flz custody verify --case IR-2026-042 --from ./IR-2026-042-custody --public-key custody.pem --json
  $ flz custody verify --case IR-2026-042 --witness ./trail-events/ --expect-head 5d1e...

Only VERIFIED exits 0.`;

const HELP_EXPORT = `
Writes <out>/records/<seq>.json (each record byte for byte), <out>/journals/ (records claimed but not yet written, if
any), <out>/public-key.pem (as KMS gives it now), <out>/case.json (verdict, findings, head hash), and a report for
lawyers and examiners in <out>/report.html and <out>/report.md. The export is made even when verification fails (the
report says so), and the command then exits 1.

Examples:
  $ flz custody export --case IR-2026-042 --out ./IR-2026-042-custody
  $ flz custody verify --case IR-2026-042 --from ./IR-2026-042-custody --public-key custody.pem`;

const HELP_COMPLETE = `
A writer that stopped after claiming records (its batch journal is stored, with the records signed by it) but before
writing them leaves them out of the chain. complete copies them into place, byte for byte, after checking every
signature against the custody key from KMS. It signs nothing; a journal that does not verify is refused, by name.
Any later append to the case does the same.

Examples:
  $ flz custody complete --case IR-2026-042 --dry-run
  $ flz custody complete --case IR-2026-042`;

/** Adds `flz custody` and its subcommands to the program. */
export function register(program: Command): void {
  const custody = program
    .command("custody")
    .description("Show, verify, export and complete a case's signed, hash-chained custody ledger.");
  const common = (c: Command): Command =>
    c
      .option("--case <id>", "case ID (required)")
      .option("--landing-zone <file>", "outputs contract JSON; default $FLZ_LANDING_ZONE")
      .option("--json", "print JSON");
  common(custody.command("show"))
    .description("List a case's custody records: sequence, time, actor, action, subjects, hashes.")
    .addHelpText("after", HELP_SHOW)
    .action(async (flags: CustodyFlags) => {
      await runShow(flags, processIo());
    });
  common(custody.command("verify"))
    .description("Audit every version under the case, re-check the chain and every signature, name what is wrong.")
    .option("--public-key <pem>", "custody public key (PEM) you obtained from KMS; default: KMS GetPublicKey")
    .option("--from <dir>", "verify an exported folder, fully offline (needs --public-key)")
    .option("--witness <file|dir>", "CloudTrail events of the evidence bucket (repeatable)", collect)
    .option("--expect-head <hash>", "a head hash pinned earlier (repeatable)", collect)
    .addHelpText("after", HELP_VERIFY)
    .action(async (flags: CustodyFlags) => {
      await runVerify(flags, processIo());
    });
  common(custody.command("export"))
    .description("Export every record, the public key, the verdict and an HTML + Markdown report to a folder.")
    .option("--out <dir>", "folder to write; created if missing, its parent must exist (required)")
    .addHelpText("after", HELP_EXPORT)
    .action(async (flags: CustodyFlags) => {
      await runExport(flags, processIo());
    });
  common(custody.command("complete"))
    .description("Write records claimed but never written (their writer stopped) from their verified journals.")
    .option("--dry-run", "say what would be written; write nothing")
    .addHelpText("after", HELP_COMPLETE)
    .action(async (flags: CustodyFlags) => {
      await runComplete(flags, processIo());
    });
}

/**
 * Parses, for display, every record whose stored bytes are a well-formed record (verification is separate and strict,
 * and names the others): a record with a byte-order mark, bad JSON, missing fields or altered bytes is left out here
 * instead of crashing a table or a report, or being shown as if it were sound. Records held only in a journal keep
 * their `heldInJournal` mark.
 */
export function readableRecords(entries: StoredRecord[]): (CustodyRecord & { heldInJournal?: string })[] {
  const out: (CustodyRecord & { heldInJournal?: string })[] = [];
  for (const entry of entries) {
    const parsed = parseRecordBytes(entry.bytes);
    if (!("value" in parsed) || shapeProblem(parsed.value)) continue;
    const record = parsed.value as unknown as CustodyRecord;
    if (record.sequence !== entry.sequence) continue;
    out.push(entry.heldInJournal ? { ...record, heldInJournal: entry.heldInJournal } : record);
  }
  return out.sort((a, b) => a.sequence - b.sequence);
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
    const [inventory, publicKeyPem] = await Promise.all([
      ledger.inventory("custody"),
      ledger.kmsPublicKey().catch(() => undefined),
    ]);
    const expect = { caseId, publicKeyPem };
    const audit = auditInventory(inventory, expect);
    const checked = combine(audit, expect);
    const records = readableRecords(audit.entries);
    const pending = pendingFindings(audit.entries);
    if (flags.json) {
      printJson(io, records);
      return records;
    }
    if (records.length === 0) {
      printLine(io, `case ${caseId} has no custody records in s3://${ledger.bucket}/${custodyPrefix(caseId)}`);
    } else {
      const rows = records.map((r) => [
        String(r.sequence),
        r.time,
        shortActor(r.actor),
        `${r.action}${r.outcome === "failed" ? " (FAILED)" : ""}${r.heldInJournal ? " (claimed, not yet written)" : ""}`,
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
    }
    for (const f of pending) note(io, f);
    for (const f of (checked.findings ?? []).filter((x) => x.severity === "broken"))
      note(io, `warning: ${f.reason}${f.key ? ` (${f.key}${f.versionId ? `, version ${f.versionId}` : ""})` : ""}`);
    if (records.length > 0)
      note(io, `${records.length} records; run flz custody verify --case ${caseId} to check them`);
    return records;
  });
}

/** One line per journal that holds records not yet written, saying how they complete. */
function pendingFindings(entries: readonly StoredRecord[]): string[] {
  const byJournal = new Map<string, number[]>();
  for (const e of entries.filter((x) => x.heldInJournal))
    byJournal.set(e.heldInJournal as string, [...(byJournal.get(e.heldInJournal as string) ?? []), e.sequence]);
  return [...byJournal].map(
    ([journal, seqs]) =>
      `${seqs.length === 1 ? `record ${seqs[0]} is` : `records ${formatRanges(seqs)} are`} claimed (signed by the writer that claimed ${seqs.length === 1 ? "it" : "them"}) in ${journal} but not yet written: the next append to the case, or flz custody complete, writes ${seqs.length === 1 ? "it" : "them"}`,
  );
}

function verifyInputs(flags: CustodyFlags, caseId: string): VerifyInputs {
  for (const h of flags.expectHead ?? [])
    if (!/^[0-9a-fA-F]{64}$/.test(h))
      throw new UsageError(`--expect-head ${h} is not a head hash: 64 hexadecimal digits, as verify prints it`);
  return {
    caseId,
    publicKeyPem: flags.publicKey ? readPublicKeyFile(flags.publicKey) : undefined,
    witness: flags.witness?.length ? readWitnessFiles(flags.witness) : undefined,
    pinnedHeads: flags.expectHead,
  };
}

/**
 * `flz custody verify`. Throws {@link OperationError} with the verdict unless it is VERIFIED. `factory`: the caller's
 * own (the response automation's verify function, through its read-only session); default the responder's.
 */
export async function runVerify(flags: CustodyFlags, io: Io, factory?: ClientFactory): Promise<CustodyVerdict> {
  const caseId = requireCase(flags);
  const inputs = verifyInputs(flags, caseId);
  let gathered: GatheredCase;
  if (flags.from) {
    gathered = gatherOffline(readCaseFolder(flags.from), path.resolve(flags.from), inputs);
  } else {
    gathered = await withLedger(
      flags,
      caseId,
      (ledger, lz, factory) =>
        gatherOnline(ledger, factory.client(S3Client, { region: lz.homeRegion }), lz.custodySigningKeyArn, inputs),
      factory,
    );
  }
  const verdict = verdictOf(caseId, gathered);
  if (flags.json) printJson(io, verdict);
  else {
    printLine(io, verdict.verdict);
    printLine(
      io,
      `public key ${verdict.publicKeySha256 ? `SHA-256 ${verdict.publicKeySha256} (from ${verdict.publicKeySource === "kms" ? "KMS" : "--public-key"})` : "none trusted"}; ${verdict.verified}/${verdict.total} records verified; head ${verdict.headHash ?? "none"}; source ${verdict.source}`,
    );
    for (const f of verdict.findings.filter((x) => x.severity !== "note" || flags.witness))
      printLine(io, `${f.severity.toUpperCase()}: ${f.reason}${findingPlace(f)}`);
    for (const check of verdict.evidence)
      printLine(io, `evidence of record ${check.sequence}: ${check.status}: ${check.location} (${check.detail})`);
  }
  if (!verdict.ok) throw new OperationError(`custody of case ${caseId} does not verify: ${verdict.verdict}`);
  return verdict;
}

function findingPlace(f: CustodyFinding): string {
  if (!f.key) return "";
  return f.versionId ? ` [${f.key}, version ${f.versionId}]` : ` [${f.key}]`;
}

/** What `complete` found and did. */
export interface CompleteResult {
  /** Case ID. */
  readonly case: string;
  /** Whether anything was written. */
  readonly dryRun: boolean;
  /** Journals holding records not yet written. */
  readonly journals: string[];
  /** Sequences copied (or that would be). */
  readonly sequences: number[];
  /** Hash of the last claimed record afterwards. */
  readonly headHash: string | null;
}

/** `flz custody complete`. */
export async function runComplete(flags: CustodyFlags, io: Io): Promise<CompleteResult> {
  const caseId = requireCase(flags);
  const result = await withLedger(flags, caseId, async (ledger) => {
    const done = await ledger.complete({ dryRun: flags.dryRun });
    return {
      case: caseId,
      dryRun: flags.dryRun === true,
      journals: done.journals,
      sequences: done.sequences,
      headHash: done.head?.hash ?? null,
    };
  });
  if (flags.json) printJson(io, result);
  else if (result.sequences.length === 0)
    printLine(io, `case ${caseId}: every claimed record is written; nothing to do`);
  else
    printLine(
      io,
      `case ${caseId}: ${result.dryRun ? "would copy" : "copied"} records ${result.sequences.join(", ")} from ${result.journals.join(", ")} (signed by their author, checked with the key from KMS; nothing signed)`,
    );
  return result;
}
