/** `flz contain account --quarantine`: every principal of a member account but the forensic roles denied everything. */
import type { Command } from "commander";
import { quarantineAccount } from "../contain/account";
import { UsageError } from "../errors";
import { common, run, type ContainCommonOptions } from "./contain";

/** Adds `flz contain account` under `flz contain`. */
export function registerContainAccount(contain: Command): void {
  common(
    contain
      .command("account")
      .summary("Quarantine a whole member account: every principal but the forensic roles denied everything.")
      .description(
        "Puts a statement Deny * for every principal whose aws:PrincipalArn is not one of the member forensic roles " +
          "(responder, investigator) into the case's quarantine service control policy attached to the account, managed " +
          "from the forensic account through the landing zone's delegation. The forensic roles keep working, so capture " +
          "and containment continue inside the account. Not restricted: service-linked roles, and principals of other " +
          "accounts acting on this account's resources (resource policies and RCPs decide those). Also stopped: the " +
          "StackSet execution role, so the landing zone's member roles are not updated there until flz contain undo. " +
          "Refused: the management account (SCPs never apply there) and the forensic account.",
      )
      .option("--quarantine", "quarantine the account (required: the only mode)"),
  )
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  flz contain account --case IR-2026-0042 --account 333333333333 --quarantine --dry-run\n" +
        "  flz contain account --case IR-2026-0042 --account 333333333333 --quarantine\n",
    )
    .action(async (options: ContainCommonOptions & { quarantine?: boolean }) => {
      if (!options.quarantine) throw new UsageError("--quarantine is required: flz contain account only quarantines");
      await run(options, true, (ctx, lz) =>
        quarantineAccount(ctx, {
          forensicRoles: [lz.memberResponderRoleName, lz.memberInvestigatorRoleName],
          forensicAccountId: lz.forensicAccountId,
        }),
      );
    });
}
