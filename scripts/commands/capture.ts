/**
 * `flz capture`: snapshot-first evidence capture of one EC2 instance into the forensic account (DESIGN.md §5).
 * Parses and validates at the edge, decides in scripts/capture/plan.ts, acts through scripts/capture/steps.ts, and
 * records every step in the case's custody ledger.
 */
import type { Command } from "commander";
import type { ClientFactory } from "../aws/clients";
import { captureInstance, failureLines, inspectCapture, type CaptureResult } from "../capture/capture";
import { parseCaptureRequest, planLines, type CaptureRequest } from "../capture/plan";
import { barProgress, lineProgress, type CaptureProgress } from "../capture/progress";
import { loadLandingZone, type LandingZone } from "../contract";
import { openLedger } from "../custody/ledger";
import type { CustodyRecord } from "../custody/types";
import { withResponderFactory } from "./case";
import { OperationError } from "../errors";
import { note, printJson, printLine, processIo, type Io } from "../output";

/** Options as commander hands them over. */
interface CaptureFlags {
  case?: string;
  instance?: string;
  account?: string;
  region?: string;
  volume?: string[];
  landingZone?: string;
  lockDays?: string;
  maxWait?: string;
  dryRun?: boolean;
  json?: boolean;
}

const EXAMPLES = `
What it does, per volume: snapshot in the member account (tagged with the case) -> copy re-encrypted under the
region's evidence key -> share that copy with the forensic account only -> copy it again in the forensic account ->
lock the forensic copy with EBS Snapshot Lock in compliance mode. The instance's DescribeInstances record and console
output are stored in the evidence bucket with their SHA-256. Every step is recorded in the case's custody ledger.

Running the same command again resumes from the case's ledger: every change is written there as an intent before it
is made, and found again by the tag it was made with; nothing is captured or recorded twice. Only snapshots whose
creation the ledger recorded are used: any other snapshot tagged for the case is reported as an untrusted candidate
and never locked. A second run on the same instance waits for one that is still running.
Nothing here is undone by flz: compliance-locked snapshots cannot be deleted by anyone until the lock ends.

Examples:
  $ flz capture --case IR-2026-042 --instance i-0abc123def4567890 --account 333333333333 --region eu-west-1 --dry-run
  $ flz capture --case IR-2026-042 --instance i-0abc123def4567890 --account 333333333333 --region eu-west-1
  $ flz capture --case IR-2026-042 --instance i-0abc123def4567890 --account 333333333333 --region eu-west-1 \\
      --volume vol-0aaa1111bbbb22223 --lock-days 730 --max-wait 480 --json > capture.json`;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Adds `flz capture` to the program. */
export function register(program: Command): void {
  program
    .command("capture")
    .description(
      "Capture an EC2 instance's EBS volumes as locked snapshots owned by the forensic account, recorded in the case's custody ledger.",
    )
    .option("--case <id>", "case ID, opened with flz case open (tags, session name, custody ledger) (required)")
    .option("--instance <id>", "EC2 instance ID, e.g. i-0abc123def4567890 (required)")
    .option("--account <id>", "12-digit ID of the member account that owns the instance (required)")
    .option("--region <region>", "region of the instance, e.g. eu-west-1 (required)")
    .option("--volume <vol-id>", "capture only this volume (repeatable); default: every attached volume", collect, [])
    .option("--landing-zone <file>", "outputs contract JSON (`pulumi stack output --json`); default $FLZ_LANDING_ZONE")
    .option("--lock-days <n>", "days the forensic copies stay under a compliance snapshot lock (1-36500)", "365")
    .option("--max-wait <minutes>", "stop waiting for snapshots and copies after this long; rerun to resume", "240")
    .option("--dry-run", "print what would be captured and change nothing (no snapshots, no ledger records)")
    .option("--json", "print one JSON result document on stdout (progress goes to stderr)")
    .addHelpText("after", EXAMPLES)
    .action(async (flags: CaptureFlags) => {
      await runCapture(flags, processIo());
    });
}

function progressFor(io: Io): CaptureProgress {
  return io.isTty ? barProgress(io.err) : lineProgress((line) => note(io, line));
}

/** Runs the command; exported for tests that pass their own streams. */
export async function runCapture(flags: CaptureFlags, io: Io): Promise<CaptureResult | undefined> {
  const request = parseCaptureRequest({
    case: flags.case,
    instance: flags.instance,
    account: flags.account,
    region: flags.region,
    volume: flags.volume,
    lockDays: flags.lockDays,
    maxWait: flags.maxWait,
  });
  const lz = loadLandingZone(flags.landingZone);
  return withResponderFactory(lz, request.caseId, async (factory) => {
    const ledger = await openLedger({ factory, landingZone: lz, caseId: request.caseId });
    if (flags.dryRun) {
      await dryRun(factory, lz, request, await ledger.records(), io, flags.json === true);
      return undefined;
    }
    const result = await captureInstance({ factory, landingZone: lz, request, ledger, progress: progressFor(io) });
    if (flags.json) printJson(io, result);
    else printHuman(io, result);
    const failures = failureLines(result);
    if (failures.length > 0) {
      throw new OperationError(
        `capture of ${request.instanceId} is incomplete (rerun the same command to resume): ${failures.join("; ")}`,
      );
    }
    return result;
  });
}

async function dryRun(
  factory: ClientFactory,
  lz: LandingZone,
  request: CaptureRequest,
  records: readonly CustodyRecord[],
  io: Io,
  json: boolean,
): Promise<void> {
  const { destination, volumes, untrusted } = await inspectCapture({ factory, landingZone: lz, request, records });
  if (json) {
    printJson(io, {
      dryRun: true,
      case: request.caseId,
      instance: request.instanceId,
      account: request.account,
      region: request.region,
      destinationRegion: destination.region,
      kmsKeyArn: destination.kmsKeyArn,
      lockDays: request.lockDays,
      volumes: volumes.map((v) => ({
        volumeId: v.volume.volumeId,
        device: v.volume.device,
        sourceSnapshotId: v.source?.snapshotId,
        evidenceCopySnapshotId: v.evidenceCopy?.snapshotId,
        forensicSnapshotId: v.forensic?.snapshotId,
        locked: v.locked,
      })),
      untrusted,
    });
    return;
  }
  const lines = planLines(request, destination, volumes);
  lines.splice(
    lines.length - 1,
    0,
    `  instance record and console output -> s3://${lz.evidenceBucket}/cases/${request.caseId}/artefacts/ (unless already stored)`,
  );
  if (untrusted.length > 0) {
    lines.splice(
      lines.length - 1,
      0,
      `  untrusted candidates (tagged for the case, not recorded in its ledger; would not be used): ${untrusted.join(", ")}`,
    );
  }
  for (const line of lines) printLine(io, line);
}

function printHuman(io: Io, result: CaptureResult): void {
  printLine(io, `case ${result.case}: instance ${result.instance} (account ${result.account}, ${result.region})`);
  for (const s of result.snapshots) {
    if (s.state === "completed") {
      printLine(
        io,
        `  ${s.volumeId} (${s.device}): ${s.forensicSnapshotId} in the forensic account, ${s.locked ? "locked (compliance)" : "NOT locked"}; source ${s.sourceSnapshotId}, evidence copy ${s.evidenceCopySnapshotId ?? "-"}`,
      );
    } else {
      printLine(io, `  ${s.volumeId} (${s.device}): FAILED: ${s.error}`);
    }
  }
  for (const a of result.artefacts)
    printLine(io, a.error ? `  ${a.kind}: FAILED: ${a.error}` : `  ${a.kind}: ${a.location} sha256 ${a.sha256}`);
  for (const u of result.untrusted)
    printLine(
      io,
      `  untrusted candidate ${u.snapshotId} (account ${u.account}, ${u.region}): ${u.reason}; not used, not locked`,
    );
  printLine(
    io,
    `every step is recorded in the custody ledger of case ${result.case}; compliance-locked snapshots cannot be deleted until the lock ends`,
  );
}
