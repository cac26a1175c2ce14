/** `flz contain network --subnet --cidr`: network ACL deny entries for an attacker's ranges, before every allow. */
import type { Command } from "commander";
import { containNetwork, requireSubnetId } from "../contain/network";
import { parseCidrs } from "../contain/network-plan";
import { common, run, type ContainCommonOptions } from "./contain";

/** Adds `flz contain network` under `flz contain`. */
export function registerContainNetwork(contain: Command): void {
  common(
    contain
      .command("network")
      .summary("Deny an attacker's address ranges in a subnet's network ACL, before every allow rule; restorable.")
      .description(
        "Adds inbound and outbound deny entries (all protocols) for each range to the network ACL associated with the " +
          "subnet, at the free rule numbers just below its lowest allow rule, so they match first. Network ACLs are " +
          "stateless: established flows from those ranges stop at once. The ACL applies to every subnet associated with " +
          "it (they are named). Ranges already denied before every allow are left as they are. Undo deletes exactly the " +
          "entries this command created, each only if it is still the deny it made.",
      )
      .option("--subnet <id>", "subnet ID whose network ACL gets the entries (required)")
      .option("--cidr <ranges>", "comma-separated IPv4 or IPv6 CIDR blocks of the attacker (required)"),
  )
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  flz contain network --case IR-2026-0042 --account 333333333333 --region eu-west-1 --subnet subnet-0abc1234 --cidr 203.0.113.0/24 --dry-run\n" +
        "  flz contain network --case IR-2026-0042 --account 333333333333 --subnet subnet-0abc1234 --cidr 198.51.100.7/32,2001:db8::/32\n",
    )
    .action(async (options: ContainCommonOptions & { subnet?: string; cidr?: string }) => {
      const subnetId = requireSubnetId(options.subnet);
      const cidrs = parseCidrs(options.cidr);
      await run(options, true, (ctx) => containNetwork(ctx, { subnetId, cidrs }));
    });
}
