/**
 * `contain network --subnet --cidr`: destination containment by address (AWS: "filtering and routing to prevent access
 * from a certain source"): deny entries for an attacker's ranges, inbound and outbound, in the network ACL of a subnet,
 * numbered before every allow entry (`network-plan.ts`). ACLs are stateless, so established flows from those ranges
 * stop at once. The ACL is shared by every subnet associated with it: the deny applies to all of them, and the command
 * says which. Undo deletes exactly the entries it created (each checked to still be ours first).
 */
import {
  CreateNetworkAclEntryCommand,
  DeleteNetworkAclEntryCommand,
  DescribeInstancesCommand,
  DescribeNetworkAclsCommand,
  EC2Client,
  type NetworkAcl,
} from "@aws-sdk/client-ec2";
import type { ClientFactory } from "../aws/clients";
import type { JsonValue } from "../custody/types";
import { UsageError } from "../errors";
import type { ContainContext, ContainResult } from "./common";
import { findOpenIntent, recordCompletion, recordIntent, toJsonObject } from "./intent";
import { denyDrift, isOurDeny, planDenyEntries, type DenyEntry } from "./network-plan";

/** Ledger action of a network deny. */
export const NETWORK_ACTION = "contain.network.denied";

/** Undo information of `contain network`. */
export interface NetworkUndo {
  readonly kind: "network-deny";
  readonly account: string;
  readonly region: string;
  readonly subnetId: string;
  readonly networkAclId: string;
  /** The entries this action created (entries already present before it are not listed: undo leaves them). */
  readonly entries: DenyEntry[];
}

/** Type guard for recorded network undo information. */
export function isNetworkUndo(value: unknown): value is NetworkUndo {
  const v = value as Partial<NetworkUndo> | undefined;
  return v?.kind === "network-deny" && typeof v.networkAclId === "string" && Array.isArray(v.entries);
}

/** The network ACL associated with a subnet. */
async function subnetAcl(ec2: EC2Client, subnetId: string): Promise<NetworkAcl | undefined> {
  const out = await ec2.send(
    new DescribeNetworkAclsCommand({ Filters: [{ Name: "association.subnet-id", Values: [subnetId] }] }),
  );
  return out.NetworkAcls?.[0];
}

const entryInput = (aclId: string, e: DenyEntry) => ({
  NetworkAclId: aclId,
  RuleNumber: e.ruleNumber,
  Egress: e.egress,
  Protocol: "-1",
  RuleAction: "deny" as const,
  ...(e.cidr.includes(":") ? { Ipv6CidrBlock: e.cidr } : { CidrBlock: e.cidr }),
});

const describe = (e: DenyEntry): string => `${e.egress ? "outbound" : "inbound"} rule ${e.ruleNumber} deny ${e.cidr}`;

/** Arguments of {@link containNetwork}. */
export interface ContainNetworkArgs {
  /** `--subnet`. */
  readonly subnetId: string;
  /** `--cidr`, parsed. */
  readonly cidrs: readonly string[];
}

/** Validates `--subnet`. */
export function requireSubnetId(value: string | undefined): string {
  if (!value || !/^subnet-[0-9a-f]{8,17}$/.test(value)) {
    throw new UsageError(`--subnet ${value ?? "(missing)"} is not a subnet ID: give subnet- and its hex digits`);
  }
  return value;
}

/** Adds the deny entries (see the module comment). */
export async function containNetwork(ctx: ContainContext, args: ContainNetworkArgs): Promise<ContainResult> {
  const ec2 = ctx.factory.client(EC2Client, { account: ctx.account, region: ctx.region });
  const acl = await subnetAcl(ec2, args.subnetId);
  if (!acl?.NetworkAclId) {
    throw new UsageError(
      `subnet ${args.subnetId} has no network ACL in account ${ctx.account} region ${ctx.region}: give a subnet ID of that account and region`,
    );
  }
  const aclId = acl.NetworkAclId;
  const plan = planDenyEntries(aclId, acl.Entries ?? [], args.cidrs);
  const shared = (acl.Associations ?? []).map((a) => a.SubnetId ?? "").filter((s) => s !== args.subnetId);
  const targets = args.cidrs.map((cidr) => `nacl-deny:${ctx.account}:${ctx.region}:${aclId}:${cidr}`);
  const records = await ctx.ledger.records();
  const open = findOpenIntent(records, NETWORK_ACTION, targets);
  const notes = [
    ...(shared.length > 0
      ? [`network ACL ${aclId} is also associated with ${shared.join(", ")}: the deny applies there too`]
      : []),
    ...plan.present.map((e) => `already denied: ${describe(e)} in ${aclId}`),
    ...(open ? [`completing record ${open.sequence}, an interrupted deny of the same ranges`] : []),
  ];
  const details: { [key: string]: JsonValue } = {
    subnetId: args.subnetId,
    networkAclId: aclId,
    cidrs: [...args.cidrs],
    entries: toJsonObject({ e: [...plan.present, ...plan.add] }).e,
  };
  const changes = plan.add.map((e) => ({ target: aclId, description: `add ${describe(e)} to network ACL ${aclId}` }));
  if (plan.add.length === 0 && !open) return { action: NETWORK_ACTION, dryRun: ctx.dryRun, changes, notes, details };
  if (ctx.dryRun) return { action: NETWORK_ACTION, dryRun: true, changes, notes, details };

  const earlier = isNetworkUndo(open?.undo) ? open.undo.entries : [];
  const undo: NetworkUndo = {
    kind: "network-deny",
    account: ctx.account,
    region: ctx.region,
    subnetId: args.subnetId,
    networkAclId: aclId,
    entries: [
      ...earlier,
      ...plan.add.filter((a) => !earlier.some((e) => e.ruleNumber === a.ruleNumber && e.egress === a.egress)),
    ],
  };
  const intent =
    open ??
    (await recordIntent(ctx.ledger, {
      action: NETWORK_ACTION,
      subjects: [aclId, args.subnetId],
      targets,
      account: ctx.account,
      region: ctx.region,
      before: toJsonObject({ networkAclId: aclId, entries: acl.Entries ?? [] }),
      plan: toJsonObject({ add: plan.add }),
      identifiers: toJsonObject({ networkAclId: aclId, entries: plan.add }),
      undo: toJsonObject(undo),
    }));
  for (const e of plan.add) await ec2.send(new CreateNetworkAclEntryCommand(entryInput(aclId, e)));
  const record = await recordCompletion(ctx.ledger, intent, {
    action: NETWORK_ACTION,
    subjects: [aclId, args.subnetId],
    details,
    undo: toJsonObject(undo),
  });
  return { action: NETWORK_ACTION, dryRun: false, changes, notes, details, record };
}

/** The subnet of an instance's primary interface (the drill names the subnet this way). */
export async function subnetOfInstance(ctx: ContainContext, instanceId: string): Promise<string> {
  const ec2 = ctx.factory.client(EC2Client, { account: ctx.account, region: ctx.region });
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const subnetId = out.Reservations?.[0]?.Instances?.[0]?.SubnetId;
  if (!subnetId)
    throw new UsageError(`instance ${instanceId} has no subnet in account ${ctx.account} region ${ctx.region}`);
  return subnetId;
}

/** Deletes the entries the action created, each only if it is still the deny it made. */
export async function undoNetwork(ctx: ContainContext, undo: NetworkUndo): Promise<string[]> {
  const ec2 = ctx.factory.client(EC2Client, { account: undo.account, region: undo.region });
  const out = await ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [undo.networkAclId] }));
  const entries = out.NetworkAcls?.[0]?.Entries ?? [];
  const lines: string[] = [];
  for (const e of undo.entries) {
    const at = entries.find((x) => x.Egress === e.egress && x.RuleNumber === e.ruleNumber);
    if (!at || !isOurDeny(at, e.cidr, e.egress)) {
      lines.push(`leave ${describe(e)}: no longer in network ACL ${undo.networkAclId} as flz made it`);
      continue;
    }
    if (!ctx.dryRun) {
      await ec2.send(
        new DeleteNetworkAclEntryCommand({
          NetworkAclId: undo.networkAclId,
          RuleNumber: e.ruleNumber,
          Egress: e.egress,
        }),
      );
    }
    lines.push(`remove ${describe(e)} from network ACL ${undo.networkAclId}`);
  }
  return lines;
}

/** The drift check of a network deny. */
export async function networkFindings(factory: ClientFactory, undo: NetworkUndo): Promise<string[]> {
  const ec2 = factory.client(EC2Client, { account: undo.account, region: undo.region });
  const acl = await subnetAcl(ec2, undo.subnetId);
  const findings: string[] = [];
  if (acl?.NetworkAclId !== undo.networkAclId) {
    findings.push(
      `subnet ${undo.subnetId} is no longer associated with network ACL ${undo.networkAclId} (now ${acl?.NetworkAclId ?? "none"})`,
    );
  }
  const out = await ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [undo.networkAclId] }));
  return [...findings, ...denyDrift(undo.networkAclId, out.NetworkAcls?.[0]?.Entries ?? [], undo.entries)];
}
