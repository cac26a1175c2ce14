/** `flz contain technique`: specific actions denied to one principal at the organisation level. */
import type { Command } from "commander";
import { containTechnique } from "../contain/technique";
import { UsageError } from "../errors";
import { common, run, type ContainCommonOptions } from "./contain";

/** Adds `flz contain technique` under `flz contain`. */
export function registerContainTechnique(contain: Command): void {
  common(
    contain
      .command("technique")
      .summary("Deny specific actions to one role or user (technique containment), recorded and reversible.")
      .description(
        "Puts a statement Deny <actions> on <resources> for aws:PrincipalArn = the principal into the case's quarantine " +
          "service control policy attached to the principal's account. The principal keeps every other permission, so a " +
          "workload stays up while the technique is cut (for example s3:GetObject on the data bucket, iam:CreateAccessKey, " +
          "ec2:RunInstances). Whatever its credentials: sessions old and new, access keys. Repeating it is a no-op; a " +
          "different set of actions or resources is a separate statement, undone separately with flz contain undo.",
      )
      .option("--principal <arn>", "IAM role or user ARN (required)")
      .option("--deny <actions>", "comma-separated IAM actions, wildcards allowed: s3:GetObject,s3:List* (required)")
      .option("--resource <arns>", "comma-separated resource ARNs, wildcards allowed (default: every resource)"),
    false,
  )
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  flz contain technique --case IR-2026-0042 --principal arn:aws:iam::333333333333:role/app --deny s3:GetObject --resource 'arn:aws:s3:::payroll/*' --dry-run\n" +
        "  flz contain technique --case IR-2026-0042 --principal arn:aws:iam::333333333333:user/ci-bot --deny iam:CreateAccessKey,iam:CreateUser\n",
    )
    .action(async (options: ContainCommonOptions & { principal?: string; deny?: string; resource?: string }) => {
      if (!options.principal) throw new UsageError("--principal is required: give the ARN of the role or user");
      const principal = options.principal;
      await run(options, false, (ctx, lz) =>
        containTechnique(ctx, {
          principal,
          deny: options.deny,
          resource: options.resource,
          forensicRoles: [lz.memberResponderRoleName, lz.memberInvestigatorRoleName],
        }),
      );
    });
}
