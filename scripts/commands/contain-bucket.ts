/** `flz contain bucket`: deny statements in a bucket's policy and its public access block on; restorable. */
import type { Command } from "commander";
import { containBucket } from "../contain/bucket";
import { parseCidrs } from "../contain/network-plan";
import { parsePrincipalArn } from "../contain/principal-statements";
import { UsageError } from "../errors";
import { common, run, type ContainCommonOptions } from "./contain";

/** Options of `flz contain bucket`. */
interface BucketOptions extends ContainCommonOptions {
  readonly bucket?: string;
  readonly denyPrincipal?: string;
  readonly denyCidr?: string;
  readonly denyAll?: boolean;
  readonly keepPublicAccess?: boolean;
}

/** Adds `flz contain bucket` under `flz contain`. */
export function registerContainBucket(contain: Command): void {
  common(
    contain
      .command("bucket")
      .summary(
        "Deny principals, address ranges or everyone but the forensic roles on one bucket; public access blocked.",
      )
      .description(
        "Adds deny statements (s3:* on the bucket and its objects) to the bucket's policy, beside its own statements: for " +
          "the given principals (--deny-principal), for requests from the given ranges (--deny-cidr, aws:SourceIp), or " +
          "for everyone but the forensic roles (--deny-all); and turns the bucket's public access block fully on (unless " +
          "--keep-public-access). The forensic roles are never denied. Undo takes out exactly these statements (what " +
          "else changed in the policy since stays) and puts the public access block back as it was.",
      )
      .option("--bucket <name>", "bucket name in the member account (required)")
      .option("--deny-principal <arns>", "comma-separated role or user ARNs to deny")
      .option("--deny-cidr <ranges>", "comma-separated address ranges to deny (aws:SourceIp)")
      .option("--deny-all", "deny everyone but the forensic roles")
      .option("--keep-public-access", "leave the bucket's public access block as it is"),
  )
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  flz contain bucket --case IR-2026-0042 --account 333333333333 --bucket payroll-exports --deny-principal arn:aws:iam::333333333333:role/app --dry-run\n" +
        "  flz contain bucket --case IR-2026-0042 --account 333333333333 --bucket payroll-exports --deny-all\n",
    )
    .action(async (options: BucketOptions) => {
      const bucket = options.bucket ?? "";
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
        throw new UsageError(
          `--bucket ${options.bucket ?? "(missing)"} is not a bucket name: 3-63 lowercase letters, digits, dots and hyphens`,
        );
      }
      const principals = (options.denyPrincipal ?? "")
        .split(",")
        .filter((p) => p.trim() !== "")
        .map((p) => parsePrincipalArn(p, "--deny-principal").arn);
      const cidrs = options.denyCidr === undefined ? [] : parseCidrs(options.denyCidr);
      if (principals.length === 0 && cidrs.length === 0 && !options.denyAll) {
        throw new UsageError("say what to deny: --deny-principal <arns>, --deny-cidr <ranges> or --deny-all");
      }
      await run(options, true, (ctx, lz) => {
        const member = (name: string) => `arn:aws:iam::${ctx.account}:role/${name}`;
        const forensic = [lz.memberResponderRoleName, lz.memberInvestigatorRoleName].map(member);
        const exempt = [lz.forensicResponderRoleArn, lz.forensicInvestigatorRoleArn, ...forensic];
        const named = principals.filter((p) => exempt.includes(p));
        if (named.length > 0)
          throw new UsageError(`--deny-principal ${named.join(",")} is a forensic role: it is never denied`);
        return containBucket(ctx, {
          bucket,
          denial: { principals, cidrs, everyone: options.denyAll === true },
          blockPublicAccess: options.keepPublicAccess !== true,
          exempt,
        });
      });
    });
}
