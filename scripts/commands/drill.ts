/**
 * `flz drill`: a full incident rehearsal on a laptop. Starts a private AWS emulator, seeds an organisation with the
 * landing zone, plants an incident, runs the runbook with the real command code, and writes a report.
 */
import { Command } from "commander";
import * as path from "node:path";
import { runDrill } from "../drill/drill";
import { summaryLines } from "../drill/report";
import { SCENARIOS, type Scenario } from "../drill/runbook";
import { OperationError, UsageError } from "../errors";
import { note, printJson, printLine, processIo } from "../output";

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
    .summary("rehearse an incident end to end against a local AWS emulator and write a report")
    .description(
      "Rehearses an incident on this machine, touching no AWS account: starts a private emulator (moto) on a free loopback\n" +
        "port, seeds an organisation (management, forensic, two members) with the landing zone and the stack's policy\n" +
        "documents, plants an incident (a leaked access key that assumed a role and launched an instance with two volumes in\n" +
        "an Auto Scaling group), then runs the runbook with the real command code: contain sessions and the key, contain the\n" +
        "instance, capture, hash, put an artefact, verify the custody chain, compute the reporting clocks. Prints time to\n" +
        "contain and time to evidence secured, writes drill-report.{html,md,json} and the landing-zone.json it used.\n" +
        "Exits 1 if any step fails. Steps whose code has not been built yet are reported as NOT YET AVAILABLE, never as passed.",
    )
    .option("--scenario <name>", `what to rehearse: ${SCENARIOS.join(", ")}`, "all")
    .option("--report <dir>", "folder for the reports (default ./flz-drill/<case>)")
    .option("--case <id>", "case ID of the drill (default DRILL-<UTC time>)")
    .option("--keep", "leave the emulator running after the drill (Ctrl-C stops it) to inspect it with the AWS CLI")
    .option("--json", "print the report as one JSON document")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  flz drill                                  # everything, report in ./flz-drill/DRILL-<time>/\n" +
        "  flz drill --scenario leaked-key --report /tmp/drill\n" +
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
      const reportDir = path.resolve(options.report ?? path.join("flz-drill", id));
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
        const failed = outcome.report.runbook.steps.filter((s) => s.status === "failed").map((s) => s.id);
        throw new OperationError(
          `drill ${id} failed: ${failed.length ? `steps ${failed.join(", ")} failed` : "no step ran"}; see ${outcome.files.html}`,
        );
      }
    });
}
