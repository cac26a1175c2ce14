/** `flz contain key`: a principal's use of a KMS key denied through the key policy; never disabled or deleted. */
import type { Command } from "commander";
import { containKey, parseKeyArn } from "../contain/key";
import { parsePrincipalArn } from "../contain/principal-statements";
import { UsageError } from "../errors";
import { common, run, type ContainCommonOptions } from "./contain";

/** Adds `flz contain key` under `flz contain`. */
export function registerContainKey(contain: Command): void {
  common(
    contain
      .command("key")
      .summary("Deny principals every use of a KMS key through its key policy; the key is never disabled or deleted.")
      .description(
        "Adds one statement Deny kms:* for the given principals (aws:PrincipalArn) to the key policy, beside its own " +
          "statements, with KMS's lockout safety check on. The key stays enabled: everyone else keeps using it, data " +
          "under it stays readable, evidence stays decryptable. The account and region come from the key ARN. Undo " +
          "takes out exactly this statement. Needs a key policy that lets the account's IAM policies grant access (the " +
          "default key policy does); otherwise KMS refuses and an administrator of the key must act.",
      )
      .option("--key <arn>", "KMS key ARN, arn:aws:kms:<region>:<account>:key/<id> (required; not an alias)")
      .option("--deny-principal <arns>", "comma-separated role or user ARNs to deny (required)"),
    false,
  )
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  flz contain key --case IR-2026-0042 --key arn:aws:kms:eu-west-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab --deny-principal arn:aws:iam::333333333333:role/app --dry-run\n",
    )
    .action(async (options: ContainCommonOptions & { key?: string; denyPrincipal?: string }) => {
      const key = parseKeyArn(options.key);
      const principals = (options.denyPrincipal ?? "")
        .split(",")
        .filter((p) => p.trim() !== "")
        .map((p) => parsePrincipalArn(p, "--deny-principal").arn);
      if (principals.length === 0)
        throw new UsageError("--deny-principal is required: give the role or user ARNs to deny");
      if (options.account !== undefined && options.account !== key.account) {
        throw new UsageError(`--account ${options.account} is not the key's account (${key.account}): drop --account`);
      }
      await run({ ...options, account: key.account, region: key.region }, true, (ctx, lz) => {
        const forensic = [lz.memberResponderRoleName, lz.memberInvestigatorRoleName].map(
          (n) => `arn:aws:iam::${key.account}:role/${n}`,
        );
        const named = principals.filter(
          (p) => forensic.includes(p) || p === lz.forensicResponderRoleArn || p === lz.forensicInvestigatorRoleArn,
        );
        if (named.length > 0)
          throw new UsageError(`--deny-principal ${named.join(",")} is a forensic role: it is never denied`);
        return containKey(ctx, { keyArn: key.arn, principals });
      });
    });
}
