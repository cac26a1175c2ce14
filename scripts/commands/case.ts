/**
 * `flz case open|list|status`: cases as a first-class object (issue 14). A case exists once `flz case open` has
 * written its record 0 (`case.opened`); every other command passes the gate in {@link withResponderFactory} /
 * {@link withCaseLedger} (re-exported here from scripts/cases/with-case.ts), which refuses an unknown case naming the
 * closest existing ones. The subcommands load on use: every case command imports the gate from here, and `flz hash`
 * should not pay for loading `case status`.
 */
import type { Command } from "commander";
import { processIo } from "../output";
import type { CaseOpenFlags } from "./case-open";
import type { CaseStatusFlags } from "./case-status";
import { registerCaseMetrics } from "./case-metrics";

export { withCaseLedger, withResponderFactory, type CaseUse } from "../cases/with-case";

const LZ = "landing-zone contract, the JSON of `pulumi stack output --json` (default: $FLZ_LANDING_ZONE)";

/** Adds `flz case` and its subcommands to the program. */
export function register(program: Command): void {
  const cases = program
    .command("case")
    .summary("Open a case (the only way one is created), list the cases, and show where one stands.")
    .description(
      "A case is the unit every other command works for: its custody ledger, its session names and tags, its deadlines. " +
        "It exists once `flz case open` has written its first record (case.opened: title, awareness time, who). Every " +
        "other command refuses a case that was not opened, naming the closest existing case IDs, so a mistyped ID can " +
        "never start a new, permanent case in the Object-Locked evidence bucket.",
    );
  cases
    .command("open")
    .summary("Open a case: write its first custody record (title, awareness time, who).")
    .description(
      "Writes record 0 of the case's custody ledger, case.opened, with the title, the time the organisation became aware " +
        "of the incident (the start of the GDPR, NIS2, DORA and HIPAA clocks: flz clock --case reads it) and who opened " +
        "it. Refuses a case that already exists. The record is signed and Object-Locked like every other: choose the ID " +
        "with care.",
    )
    .argument("<id>", "case ID: 1-128 letters, digits and . _ + = @ -, e.g. IR-2026-0042")
    .option("--title <text>", "one-line title of the incident (required)")
    .option(
      "--aware-at <time>",
      "when the organisation became aware: ISO 8601 with a zone (2026-03-02T09:15:00Z), or now (required)",
    )
    .option("--by <name>", "who opens the case, as they wish to be named (default: the login name)")
    .option("--landing-zone <file>", LZ)
    .option("--dry-run", "check the case does not exist yet and print what would be recorded; record nothing")
    .option("--json", "print one JSON document")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        '  flz case open IR-2026-0042 --title "Leaked access key of ci-deployer" --aware-at 2026-03-02T09:15:00Z\n' +
        '  flz case open IR-2026-0043 --title "Crypto-miner on app-web" --aware-at now --by "Alice Martin" --json\n',
    )
    .action(async (id: string, flags: CaseOpenFlags) => {
      await (await import("./case-open")).runCaseOpen(id, flags, processIo());
    });
  cases
    .command("list")
    .summary("List every case in the evidence bucket with its title, awareness time and opener.")
    .description(
      "Lists every case folder of the evidence bucket and what its first record says: OPEN (opened with flz case open), " +
        "LEGACY (started before case open existed, or record 0 unreadable) or UNOPENED (objects but no record 0).",
    )
    .option("--landing-zone <file>", LZ)
    .option("--json", "print one JSON document")
    .addHelpText("after", "\nExamples:\n  flz case list\n  flz case list --json | jq -r '.[].caseId'\n")
    .action(async (flags: { landingZone?: string; json?: boolean }) => {
      await (await import("./case-list")).runCaseList(flags, processIo());
    });
  cases
    .command("status")
    .summary("Where a case stands: actions, containments in effect, evidence, deadlines, verification.")
    .description(
      "Reads the case's ledger and shows who opened it and when the organisation became aware, every action taken, the " +
        "containments still in effect according to the ledger (each with the command that undoes it), the evidence " +
        "held with its SHA-256 and location, the last computed deadlines marked against now, and a verification of the " +
        "chain made for this status (the same checks as flz custody verify, evidence objects excepted).",
    )
    .argument("<id>", "case ID")
    .option("--now <time>", "mark deadlines against this time instead of the current time (ISO 8601 with a zone)")
    .option("--landing-zone <file>", LZ)
    .option("--json", "print one JSON document")
    .addHelpText(
      "after",
      "\nExamples:\n  flz case status IR-2026-0042\n  flz case status IR-2026-0042 --json | jq '.inEffect'\n",
    )
    .action(async (id: string, flags: CaseStatusFlags) => {
      await (await import("./case-status")).runCaseStatus(id, flags, processIo());
    });
  registerCaseMetrics(cases);
}
