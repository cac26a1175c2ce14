/**
 * The decisions of `contain network` (pure): which deny entries an attacker's address ranges need in a network ACL, at
 * which rule numbers. Network ACL rules are evaluated "starting with the lowest numbered rule" and the first match
 * decides (VPC user guide, "Network ACL rules"), so a deny only works when its number is below every allow rule of
 * its direction that could match; the numbers chosen are the free ones just below the lowest allow entry.
 */
import { isIP } from "node:net";
import type { NetworkAclEntry } from "@aws-sdk/client-ec2";
import { OperationError, UsageError } from "../errors";

/** The default rule AWS adds to every ACL (deny everything); it cannot be changed. */
export const DEFAULT_RULE = 32767;
/** The highest number a rule of ours may take. */
export const MAX_RULE = 32766;

/** One deny entry of ours. */
export interface DenyEntry {
  /** Rule number. */
  readonly ruleNumber: number;
  /** Outbound (true) or inbound (false). */
  readonly egress: boolean;
  /** The range, IPv4 or IPv6 CIDR. */
  readonly cidr: string;
}

/** Parses `--cidr`: comma-separated IPv4 or IPv6 CIDR blocks. A range covering everything is refused. */
export function parseCidrs(text: string | undefined): string[] {
  const cidrs = [
    ...new Set(
      (text ?? "")
        .split(",")
        .map((c) => c.trim())
        .filter((c) => c !== ""),
    ),
  ];
  if (cidrs.length === 0) {
    throw new UsageError(
      "--cidr is required: give the attacker's address ranges, such as 203.0.113.0/24,2001:db8::/32",
    );
  }
  for (const cidr of cidrs) {
    const [address, bits, extra] = cidr.split("/");
    const family = isIP(address ?? "");
    const max = family === 4 ? 32 : 128;
    const n = Number(bits);
    if (extra !== undefined || family === 0 || !/^\d{1,3}$/.test(bits ?? "") || n > max) {
      throw new UsageError(
        `--cidr ${cidr} is not a CIDR block: give an address and a prefix length, such as 203.0.113.0/24`,
      );
    }
    if (n === 0) {
      throw new UsageError(
        `--cidr ${cidr} is every address: to cut a subnet off entirely use flz contain instance --network-acl`,
      );
    }
  }
  return cidrs;
}

const cidrOf = (e: NetworkAclEntry): string | undefined => e.CidrBlock ?? e.Ipv6CidrBlock;

/** Whether an entry is a deny of ours for this range and direction (all protocols). */
export function isOurDeny(e: NetworkAclEntry, cidr: string, egress: boolean): boolean {
  return e.RuleAction === "deny" && e.Egress === egress && e.Protocol === "-1" && cidrOf(e) === cidr;
}

/** The lowest rule number of an allow entry in a direction (the default rule when there is none). */
export function lowestAllow(entries: readonly NetworkAclEntry[], egress: boolean): number {
  const allows = entries
    .filter((e) => e.Egress === egress && e.RuleAction === "allow")
    .map((e) => e.RuleNumber ?? DEFAULT_RULE);
  return Math.min(DEFAULT_RULE, ...allows);
}

/** What an ACL needs for a set of ranges. */
export interface DenyPlan {
  /** Entries to create. */
  readonly add: DenyEntry[];
  /** Entries already there and effective (below every allow of their direction). */
  readonly present: DenyEntry[];
}

/**
 * Decides the deny entries: for each range and direction, an existing all-protocol deny of the range below the lowest
 * allow is kept; otherwise a new one takes the highest free number below the lowest allow.
 *
 * @throws OperationError when a direction has no free number below its lowest allow rule.
 */
export function planDenyEntries(
  aclId: string,
  entries: readonly NetworkAclEntry[],
  cidrs: readonly string[],
): DenyPlan {
  const add: DenyEntry[] = [];
  const present: DenyEntry[] = [];
  for (const egress of [false, true]) {
    const limit = lowestAllow(entries, egress);
    const used = new Set(entries.filter((e) => e.Egress === egress).map((e) => e.RuleNumber));
    let next = Math.min(limit - 1, MAX_RULE);
    for (const cidr of cidrs) {
      const found = entries.find((e) => isOurDeny(e, cidr, egress) && (e.RuleNumber ?? DEFAULT_RULE) < limit);
      if (found) {
        present.push({ ruleNumber: found.RuleNumber ?? 0, egress, cidr });
        continue;
      }
      while (next >= 1 && used.has(next)) next -= 1;
      if (next < 1) {
        throw new OperationError(
          `network ACL ${aclId} has no free ${egress ? "outbound" : "inbound"} rule number below its first allow rule (${limit}): renumber its rules so there is room, then rerun`,
        );
      }
      add.push({ ruleNumber: next, egress, cidr });
      used.add(next);
      next -= 1;
    }
  }
  return { add, present };
}

/** What is no longer as `contain network` left it, from the ACL now. */
export function denyDrift(aclId: string, entries: readonly NetworkAclEntry[], ours: readonly DenyEntry[]): string[] {
  const findings: string[] = [];
  for (const d of ours) {
    const at = entries.find((e) => e.Egress === d.egress && e.RuleNumber === d.ruleNumber);
    const way = d.egress ? "outbound" : "inbound";
    if (!at || !isOurDeny(at, d.cidr, d.egress)) {
      findings.push(`network ACL ${aclId}: the ${way} deny of ${d.cidr} (rule ${d.ruleNumber}) was removed or changed`);
    } else if (lowestAllow(entries, d.egress) < d.ruleNumber) {
      findings.push(
        `network ACL ${aclId}: an ${way} allow rule ${lowestAllow(entries, d.egress)} now comes before the deny of ${d.cidr} (rule ${d.ruleNumber})`,
      );
    }
  }
  return findings;
}
