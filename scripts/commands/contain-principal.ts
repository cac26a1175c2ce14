/** `flz contain principal --quarantine`: an IAM role or user denied everything at the organisation level. */
import type { Command } from "commander";
import { quarantinePrincipal } from "../contain/principal";
import { UsageError } from "../errors";
import { common, run, type ContainCommonOptions } from "./contain";

/** Adds `flz contain principal` under `flz contain`. */
export function registerContainPrincipal(contain: Command): void {
  common(
    contain
      .command("principal")
      .summary("Quarantine a role or user at the organisation level: every request denied, whatever its credentials.")
      .description(
        "Puts a statement Deny * for aws:PrincipalArn = the principal into the case's quarantine service control policy " +
          "attached to the principal's account (flz-quarantine-<account>-<case>-<n>, tagged flz:purpose=quarantine, managed " +
          "from the forensic account through the landing zone's delegation; a further policy is made when one is full). " +
          "Unlike contain sessions it has no cutoff: sessions issued later and long-term access keys are denied too, until " +
          "flz contain undo. No administrator of the member account can lift it. Refused: service-linked roles (SCPs do " +
          "not restrict them), the forensic roles, principals of the management account (SCPs never apply there).",
      )
      .option("--principal <arn>", "IAM role or user ARN, arn:aws:iam::<account>:role/<name> (required)")
      .option(
        "--quarantine",
        "quarantine the principal (required: the only mode, named so the command reads as what it does)",
      ),
    false,
  )
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  flz contain principal --case IR-2026-0042 --principal arn:aws:iam::333333333333:role/app-deployer --quarantine --dry-run\n" +
        "  flz contain principal --case IR-2026-0042 --principal arn:aws:iam::333333333333:user/ci-bot --quarantine --json\n",
    )
    .action(async (options: ContainCommonOptions & { principal?: string; quarantine?: boolean }) => {
      if (!options.principal)
        throw new UsageError("--principal is required: give the ARN of the role or user to quarantine");
      if (!options.quarantine) throw new UsageError("--quarantine is required: flz contain principal only quarantines");
      const principal = options.principal;
      await run(options, false, (ctx, lz) =>
        quarantinePrincipal(ctx, {
          principal,
          forensicRoles: [lz.memberResponderRoleName, lz.memberInvestigatorRoleName],
        }),
      );
    });
}
