/**
 * `flz drill`: a full incident rehearsal on a laptop. Starts a private AWS emulator, seeds an organisation with the
 * landing zone, plants an incident, runs the runbook with the real command code, and writes a report.
 */
import { Command } from "commander";
import { mkdirSync } from "node:fs";
import * as path from "node:path";
import { runDrill } from "../drill/drill";
import { summaryLines } from "../drill/report";
import { SCENARIOS, type Scenario } from "../drill/runbook-model";
import { OperationError, UsageError } from "../errors";
import { note, prepareOutputFolder, printJson, printLine, processIo } from "../output";

/** Options of `flz drill`, as commander parses them. */
export interface DrillCommandOptions {
  /** `--scenario`. */
  readonly scenario?: string;
  /** `--report`: folder for the reports. */
  readonly report?: string;
  /** `--case`: case ID of the drill. */
  readonly case?: string;
  /** `--keep`: leave the emulator running. */
  readonly keep?: boolean;
  /** `--json`. */
  readonly json?: boolean;
}

/** Creates a folder in the current one unless it exists (the default report location's parent). */
function ensureFolder(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

/** Validates `--scenario`. */
export function parseScenario(text: string | undefined): Scenario {
  const value = (text ?? "all").trim();
  if (!(SCENARIOS as readonly string[]).includes(value)) {
    throw new UsageError(`--scenario ${JSON.stringify(value)} is not a drill scenario: use ${SCENARIOS.join(", ")}`);
  }
  return value as Scenario;
}

/** Adds `flz drill` to the program. */
export function register(program: Command): void {
  program
    .command("drill")
    .summary("Rehearse an incident end to end against a local AWS emulator and write a report.")
    .description(
      "Rehearses an incident on this machine, touching no AWS account: starts a private emulator (moto) on a free loopback\n" +
        "port, seeds an organisation (management, forensic, two members) with the landing zone and the stack's policy\n" +
        "documents, plants an incident (a leaked access key that assumed a role and launched, from its own image, an instance\n" +
        "with two disks of known content in an Auto Scaling group), then runs the runbook with the real command code: contain\n" +
        "sessions and the key, contain the instance, capture, hash the forensic snapshots (each image digest must equal the\n" +
        "SHA-256 of the disk planted), put an artefact with flz evidence put, verify the custody chain, compute the reporting\n" +
        "clocks. Prints time to contain and time to evidence secured, writes drill-report.{html,md,json} (timeline of every\n" +
        "ledger record, evidence checks, custody verification, deadlines) and the landing-zone.json it used.\n" +
        "Exits 1 if any step fails or is skipped.",
    )
    .option("--scenario <name>", `what to rehearse: ${SCENARIOS.join(", ")}`, "all")
    .option("--report <dir>", "folder for the reports (default ./flz-drill/<case>)")
    .option("--case <id>", "case ID of the drill (default DRILL-<UTC time>)")
    .option("--keep", "leave the emulator running after the drill (Ctrl-C stops it) to inspect it with the AWS CLI")
    .option("--json", "print the report as one JSON document on stdout (progress stays on stderr)")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  flz drill                                  # everything, report in ./flz-drill/DRILL-<time>/\n" +
        "  flz drill --scenario leaked-key --report /tmp/drill\n" +
        "  flz drill --json > drill.json                # one JSON document; progress on stderr\n" +
        "  flz drill --keep                           # then: AWS_ENDPOINT_URL=<printed> aws ec2 describe-snapshots ...\n",
    )
    .action(async (options: DrillCommandOptions) => {
      const io = processIo();
      const scenario = parseScenario(options.scenario);
      const caseId = options.case;
      if (caseId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._+=@-]{0,127}$/.test(caseId)) {
        throw new UsageError(
          `--case ${JSON.stringify(caseId)} is not a usable case ID: 1-128 letters, digits and . _ + = @ -, starting with a letter or digit`,
        );
      }
      const started = new Date();
      const id =
        caseId ??
        `DRILL-${started
          .toISOString()
          .replace(/[-:]/g, "")
          .replace(/\.\d{3}/, "")}`;
      // Checked before the emulator starts: a report that cannot be written would waste the whole drill.
      if (options.report === undefined) ensureFolder("flz-drill");
      const reportDir = prepareOutputFolder(options.report ?? path.join("flz-drill", id), "--report");
      const outcome = await runDrill({
        scenario,
        reportDir,
        caseId: id,
        keep: Boolean(options.keep),
        onLine: (line) => note(io, line),
      });
      if (options.json) printJson(io, outcome.report);
      else {
        for (const line of summaryLines(outcome.report)) printLine(io, line);
        printLine(io, `report: ${outcome.files.html}`);
      }
      note(io, `reports: ${outcome.files.html}, ${outcome.files.markdown}, ${outcome.files.json}`);
      if (outcome.emulator) {
        const emulator = outcome.emulator;
        note(
          io,
          `emulator kept at ${emulator.endpoint}: export AWS_ENDPOINT_URL=${emulator.endpoint} AWS_ACCESS_KEY_ID=drill AWS_SECRET_ACCESS_KEY=drill; Ctrl-C stops it`,
        );
        await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
        await emulator.stop();
      }
      if (!outcome.report.passed) {
        const notPassed = outcome.report.runbook.steps
          .filter((s) => s.status !== "passed")
          .map((s) => `${s.id} ${s.status}`);
        const refused = outcome.report.authorization?.problems.length ?? 0;
        const why = [
          ...(notPassed.length ? [`steps ${notPassed.join(", ")}`] : []),
          ...(refused ? [`${refused} AWS call(s) the stack's policies do not authorize`] : []),
        ];
        throw new OperationError(`drill ${id} failed: ${why.join("; ") || "no step ran"}; see ${outcome.files.html}`);
      }
    });
}
