/**
 * `flz capture memory`: acquire a Linux instance's memory over Systems Manager into the evidence bucket, with no AWS
 * credentials on the host, hashed off the host (issue 16; scripts/capture/memory.ts does the work).
 */
import type { Command } from "commander";
import { checkMemoryCapture } from "../capture/memory-checks";
import { abortMemoryCapture, captureMemory, type MemoryCaptureResult } from "../capture/memory";
import { memoryImageKey, parseMemoryRequest, type MemoryCaptureInput } from "../capture/memory-plan";
import { MEMORY_CAPTURE_DOCUMENT_NAME } from "../../components/documents/ssm-memory";
import { loadLandingZone } from "../contract";
import { openLedger } from "../custody/ledger";
import { OperationError } from "../errors";
import { printJson, printLine, processIo, type Io } from "../output";
import { withResponderFactory } from "./case";

/** Options as commander hands them over. */
export interface CaptureMemoryFlags extends MemoryCaptureInput {
  /** Landing-zone contract file. */
  readonly landingZone?: string;
  /** Check and print the plan; change nothing. */
  readonly dryRun?: boolean;
  /** Print one JSON document. */
  readonly json?: boolean;
}

const EXAMPLES = `
Run it first, before anything that changes the guest: protect (flz contain instance, without isolating), memory,
isolate, disk (flz capture). Memory is the most volatile evidence; isolating first can end the processes and
connections it would show.

What happens: checks (instance running, SSM agent online, Linux, the ${MEMORY_CAPTURE_DOCUMENT_NAME} document unchanged,
the staged tool hashing to the pinned SHA-256); a multipart upload under COMPLIANCE retention with one pre-signed URL
per part; SendCommand; the host checks the tool's hash, reports kernel lockdown, streams the image through a named pipe
and sends it part by part (Content-MD5 checked by S3), with no AWS credentials. Then the image is read back and hashed
HERE, off the host (SHA-256 and 512 KiB block manifest, stored beside it); the ledger records that digest, and the
host's own digest only as "reported by the host" (BROKEN when they differ: exit 1).

Interrupted? Run the same command again: a finished command's image is completed and recorded; a command still
running is waited for; anything else is aborted (memory cannot be resumed mid-stream) and recorded, then a fresh
capture starts. --abort only aborts. No multipart upload is ever left without a record.

Examples:
  $ flz capture memory --case IR-2026-042 --account 333333333333 --region eu-west-1 --instance i-0abc123def4567890 --dry-run
  $ flz capture memory --case IR-2026-042 --account 333333333333 --region eu-west-1 --instance i-0abc123def4567890
  $ flz capture memory --case IR-2026-042 --account 333333333333 --region eu-west-1 --instance i-0abc123def4567890 --abort`;

/** Adds `flz capture memory` under `flz capture`. */
export function registerMemory(capture: Command): void {
  // `flz capture`'s own options (--case, --instance, ...) have the same names: without positional options (on the
  // program and on capture; commander applies them from the top), capture would take them from
  // `flz capture memory --case ...` before the subcommand sees them. The program itself has only --help/--version.
  capture.parent?.enablePositionalOptions();
  capture.enablePositionalOptions();
  capture
    .command("memory")
    .description(
      "Acquire a Linux instance's memory over SSM into the evidence bucket (no credentials on the host), hashed off the host and recorded.",
    )
    .option("--case <id>", "case ID, opened with flz case open (required)")
    .option("--account <id>", "12-digit ID of the member account that owns the instance (required)")
    .option("--region <region>", "region of the instance, e.g. eu-west-1 (required)")
    .option("--instance <id>", "EC2 instance ID, e.g. i-0abc123def4567890 (required)")
    .option(
      "--part-size-mib <n>",
      "part size, 5-1024 MiB (one part at a time is held in the host's memory); default 64",
    )
    .option(
      "--timeout <minutes>",
      "cancel the command after this long (5-720); default 55, within the responder's session",
    )
    .option("--retain-days <n>", "COMPLIANCE retention of the image, days (1-36500); default 365")
    .option("--abort", "abort an interrupted capture of the instance (recorded) instead of capturing")
    .option("--landing-zone <file>", "outputs contract JSON (`pulumi stack output --json`); default $FLZ_LANDING_ZONE")
    .option("--dry-run", "run the checks and print what would be done; change nothing, record nothing")
    .option("--json", "print one JSON result document on stdout (progress goes to stderr)")
    .addHelpText("after", EXAMPLES)
    .action(async (flags: CaptureMemoryFlags) => {
      await runCaptureMemory(flags, processIo());
    });
}

/** Runs the command; exported for tests that pass their own streams. */
export async function runCaptureMemory(
  flags: CaptureMemoryFlags,
  io: Io,
  pollSeconds = 5,
): Promise<MemoryCaptureResult | undefined> {
  const request = parseMemoryRequest(flags, pollSeconds);
  const lz = loadLandingZone(flags.landingZone);
  return withResponderFactory(lz, request.caseId, async (factory) => {
    const ledger = await openLedger({ factory, landingZone: lz, caseId: request.caseId });
    const options = { factory, lz, request, ledger, io };
    if (request.abort) {
      const aborted = await abortMemoryCapture(options);
      if (flags.json) printJson(io, { aborted });
      else printLine(io, `${aborted.length} interrupted upload(s) aborted and recorded`);
      return undefined;
    }
    if (flags.dryRun) {
      const facts = await checkMemoryCapture(factory, lz, request);
      const location = `s3://${lz.evidenceBucket}/${memoryImageKey(request.caseId, request.instanceId, new Date())}`;
      if (flags.json) printJson(io, { dryRun: true, ...request, location, ...facts });
      else {
        printLine(
          io,
          `would capture the memory of ${request.instanceId} (${facts.instanceType}, ${facts.memoryMiB} MiB; SSM ${facts.ssm.pingStatus}, ${facts.ssm.platform}) with ${MEMORY_CAPTURE_DOCUMENT_NAME} version ${facts.documentVersion}`,
        );
        printLine(
          io,
          `  tool sha256 ${facts.toolSha256} (hashed here, matches the pinned hash); ${facts.plan.parts} pre-signed parts of ${facts.plan.partSizeMiB} MiB`,
        );
        printLine(
          io,
          `  image -> ${location} (COMPLIANCE, ${request.retainDays} days), hashed off the host, recorded in case ${request.caseId}`,
        );
      }
      return undefined;
    }
    const result = await captureMemory(options);
    if (flags.json) printJson(io, result);
    else {
      printLine(io, `${result.evidence.sha256}  ${result.evidence.location}`);
      printLine(
        io,
        `hashed off the host; host reported ${String(result.evidence.details?.sha256ReportedByHost ?? "nothing")}: ${result.verdict}; recorded as custody record ${result.record.sequence} of case ${request.caseId}`,
      );
    }
    if (result.verdict === "BROKEN") {
      throw new OperationError(
        `BROKEN: the host reported SHA-256 ${String(result.evidence.details?.sha256ReportedByHost)} for ${result.evidence.location}, but the stored image hashes to ${result.evidence.sha256}; the host (or what it sent) cannot be trusted (recorded)`,
      );
    }
    return result;
  });
}
