/**
 * `flz evidence put`: upload an artefact (memory image, disk image, logs) into the case's folder of the Object-Locked
 * evidence bucket and record it, with the SHA-256 computed from the same read, in the case's custody ledger.
 */
import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { S3Client } from "@aws-sdk/client-s3";
import { loadLandingZone } from "../contract";
import { EVIDENCE_KINDS, evidenceKey, partSizeFor, type EvidenceKind } from "../custody/evidence-upload";
import { putWithIntent } from "../custody/evidence-resume";
import { withCaseLedger } from "./case";
import { isValidCaseId } from "../custody/record";
import type { CustodyRecord, EvidenceItem } from "../custody/types";
import { UsageError } from "../errors";
import { printJson, printLine, processIo, type Io } from "../output";

/** Options as commander hands them over. */
export interface EvidencePutFlags {
  /** Case ID. */
  case?: string;
  /** Kind of evidence. */
  kind?: string;
  /** Landing-zone contract file. */
  landingZone?: string;
  /** Print the plan only. */
  dryRun?: boolean;
  /** Print JSON. */
  json?: boolean;
  /** Part size in MiB (advanced). */
  partSizeMib?: string;
}

/** What `evidence put` did. */
export interface EvidencePutResult {
  /** The evidence item recorded. */
  readonly evidence: EvidenceItem;
  /** The ledger record. */
  readonly record: CustodyRecord;
}

const EXAMPLES = `
The file is read once: the same bytes are hashed (SHA-256, recorded in the ledger) and uploaded with S3 SHA-256
checksums (per part for large files, so S3 rejects any part that arrives damaged). The object lands in
cases/<case>/evidence/<kind>/<UTC time>-<name> and is locked by the bucket's default COMPLIANCE retention: it cannot
be deleted or overwritten by anyone, root included, until the retention ends. There is nothing to undo.

Interrupted? Run the same command again: the ledger holds the upload's intent (written before the upload started),
so the rerun continues the multipart upload (keeping every part whose SHA-256 matches the file), or records an object
that was stored but not recorded (found by its key, or by its content hash), once. If the file changed in between,
the old upload is aborted and the rerun says so.

Examples:
  $ flz evidence put --case IR-2026-042 --kind memory ./i-0abc.lime --dry-run
  $ flz evidence put --case IR-2026-042 --kind memory ./i-0abc.lime
  $ flz evidence put --case IR-2026-042 --kind log ./auth.log.gz --json`;

/** Adds `flz evidence put` to the program. */
export function register(program: Command): void {
  const evidence = program
    .command("evidence")
    .description("Put artefacts into the Object-Locked evidence bucket, recorded in the custody ledger.");
  evidence
    .command("put")
    .description(
      "Upload a file with S3 SHA-256 checksums and record its SHA-256 (computed in the same read) in the case's ledger.",
    )
    .argument("<file>", "the artefact to upload")
    .option("--case <id>", "case ID, opened with flz case open (required)")
    .option("--kind <kind>", `what it is: ${EVIDENCE_KINDS.join(", ")}`, "other")
    .option("--landing-zone <file>", "outputs contract JSON; default $FLZ_LANDING_ZONE")
    .option(
      "--part-size-mib <n>",
      "multipart part size in MiB (5-5120); default 16, larger when the file needs more than 10 000 parts",
    )
    .option("--dry-run", "print where it would go and change nothing")
    .option("--json", "print one JSON result on stdout")
    .addHelpText("after", EXAMPLES)
    .action(async (file: string, flags: EvidencePutFlags) => {
      await runEvidencePut(file, flags, processIo());
    });
}

/** Validates the request; throws {@link UsageError} naming the bad value. */
export function parseEvidencePut(flags: EvidencePutFlags): { caseId: string; kind: EvidenceKind; partSize?: number } {
  if (!flags.case) throw new UsageError("--case <id> is required, e.g. --case IR-2026-042");
  if (!isValidCaseId(flags.case))
    throw new UsageError(
      `--case ${JSON.stringify(flags.case)} is not a case ID: letters, digits and . _ + = @ -, up to 128`,
    );
  const kind = flags.kind ?? "other";
  if (!(EVIDENCE_KINDS as readonly string[]).includes(kind))
    throw new UsageError(`--kind ${kind} is not one of ${EVIDENCE_KINDS.join(", ")}`);
  let partSize: number | undefined;
  if (flags.partSizeMib !== undefined) {
    const mib = Number(flags.partSizeMib);
    if (!Number.isInteger(mib) || mib < 5 || mib > 5120)
      throw new UsageError(`part size ${flags.partSizeMib} MiB is not a whole number from 5 to 5120`);
    partSize = mib * 1024 * 1024;
  }
  return { caseId: flags.case, kind: kind as EvidenceKind, partSize };
}

/** Runs the command; exported for tests that pass their own streams. */
export async function runEvidencePut(
  file: string,
  flags: EvidencePutFlags,
  io: Io,
): Promise<EvidencePutResult | undefined> {
  const { caseId, kind, partSize } = parseEvidencePut(flags);
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile())
      throw new UsageError(
        `${file} is not a regular file (for a device, image it to a file first, or hash it with flz hash)`,
      );
    size = info.size;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const lz = loadLandingZone(flags.landingZone);
  const key = evidenceKey(caseId, kind, file, new Date());
  const chosenPart = partSize ?? partSizeFor(size);
  if (flags.dryRun) {
    const plan = {
      dryRun: true,
      case: caseId,
      file,
      bytes: size,
      kind,
      location: `s3://${lz.evidenceBucket}/${key}`,
      partSize: chosenPart,
      parts: Math.max(1, Math.ceil(size / chosenPart)),
    };
    if (flags.json) printJson(io, plan);
    else
      printLine(
        io,
        `would upload ${file} (${size} bytes, ${plan.parts} part(s) with SHA-256 checksums) to ${plan.location} and record it in case ${caseId}`,
      );
    return undefined;
  }
  return withCaseLedger(lz, caseId, async (ledger, factory) => {
    const s3 = factory.client(S3Client, { region: lz.homeRegion });
    return putWithIntent({
      s3,
      ledger,
      bucket: lz.evidenceBucket,
      caseId,
      file,
      kind,
      partSize: chosenPart,
      key,
      io,
      json: flags.json === true,
    });
  });
}
