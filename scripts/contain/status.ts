/**
 * `contain status`: the drift check. Re-reads from AWS every containment of a case that is still meant to be in
 * effect (completed, not undone, not superseded by a later record on the same target) and reports what no longer is:
 * a quarantine policy removed, detached or altered (compared whole with what the ledger recorded), an access key
 * re-activated, an interface moved out of the isolation group, the isolation group given rules, protections or
 * IMDSv2 turned off, the instance back in service, a subnet's quarantine ACL swapped out. Interrupted containments
 * (an intent without completion) are listed too. Reads only; changes nothing.
 *
 * `containmentStatus` is the function `flz case status` calls for its "still in effect" part.
 */
import { DescribeAutoScalingInstancesCommand, AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { IAMClient, ListAccessKeysCommand } from "@aws-sdk/client-iam";
import type { ClientFactory } from "../aws/clients";
import type { CustodyLedger, CustodyRecord } from "../custody/types";
import { describeError } from "../errors";
import { ACCESS_KEY_ACTION, isAccessKeyUndo } from "./access-key";
import { INSTANCE_ACTION, isInstanceUndo, type InstanceUndo } from "./instance";
import { CONTAINMENT_TAG, MIN_CONNECTION_TRACKING } from "./instance-plan";
import { actionRecords, intentFor, openIntents, targetsOf, undoneBy } from "./intent";
import { describeSubnetAcls, isQuarantineAcl } from "./network-acl";
import {
  describeQuarantineDrift,
  expectedQuarantine,
  isQuarantineUndo,
  organizationsClient,
  quarantinedAccounts,
  readQuarantine,
  type QuarantineUndo,
} from "./quarantine";
import { SESSIONS_ACTION } from "./sessions";
import { connectionTrackingOf } from "./instance-read";

/** Containment actions the drift check knows. */
const CHECKED = new Set([SESSIONS_ACTION, ACCESS_KEY_ACTION, INSTANCE_ACTION]);

/** The state of one containment. */
export interface ContainmentState {
  /** The record that made it (its completion). */
  readonly sequence: number;
  /** Its action. */
  readonly action: string;
  /** What it contains (role ARN, key ID, instance ID). */
  readonly subject: string;
  /** `in-effect`, `drifted` (something is no longer as containment left it) or `unknown` (could not be read). */
  readonly state: "in-effect" | "drifted" | "unknown";
  /** One line per finding (empty when in effect). */
  readonly findings: string[];
}

/** The drift check of a case. */
export interface ContainmentStatus {
  /** The case. */
  readonly caseId: string;
  /** When AWS was read. */
  readonly checkedAt: string;
  /** Every containment meant to be in effect. */
  readonly containments: ContainmentState[];
  /** Interrupted containments: intents no record completed or undid. */
  readonly interrupted: { readonly sequence: number; readonly action: string; readonly subjects: string[] }[];
}

/** Completed containments no undo reversed and no later record superseded (on all of their targets). */
export function effectiveContainments(records: readonly CustodyRecord[]): CustodyRecord[] {
  const effective = records.filter((r) => {
    if (!CHECKED.has(r.action)) return false;
    const { intent, completion } = actionRecords(records, r.sequence);
    if (completion?.sequence !== r.sequence) return false;
    const group = [intent?.sequence, r.sequence].filter((s): s is number => s !== undefined);
    return undoneBy(records, group) === undefined;
  });
  // A later effective record on every target of an earlier one supersedes it (a moved cutoff, a re-containment).
  return effective.filter(
    (r) =>
      !effective.some(
        (later) =>
          later.sequence > r.sequence &&
          later.action === r.action &&
          targetsOf(r).every((t) => targetsOf(later).includes(t)),
      ),
  );
}

/** Statement IDs a record's undo names (its quarantine statements). */
function sidsOf(record: CustodyRecord): { account?: string; sids: string[] } {
  const undo = record.undo;
  const q: QuarantineUndo | undefined = isQuarantineUndo(undo)
    ? undo
    : isAccessKeyUndo(undo) && undo.quarantine
      ? undo.quarantine
      : undefined;
  return { account: q?.account, sids: q?.entries.map((e) => e.sid) ?? [] };
}

/** Arguments of {@link containmentStatus}. */
export interface ContainmentStatusArgs {
  /** Clients: forensic account (Organizations) and member accounts (responder role). */
  readonly factory: ClientFactory;
  /** The case's ledger (read only). */
  readonly ledger: CustodyLedger;
  /** Region for the Organizations endpoint's partition. Default `us-east-1`. */
  readonly region?: string;
  /** Clock, for tests. */
  readonly now?: Date;
}

const fail = (err: unknown) => `could not be read: ${describeError(err)}`;

/** Re-reads every containment of the case from AWS and reports what is no longer in effect. */
export async function containmentStatus(args: ContainmentStatusArgs): Promise<ContainmentStatus> {
  const records = await args.ledger.records();
  const caseId = args.ledger.caseId;
  const effective = effectiveContainments(records);
  const org = organizationsClient(args.factory, args.region ?? "us-east-1");

  // Quarantine: one read per account, compared whole with the ledger.
  const drift = new Map<string, string[] | Error>();
  await Promise.all(
    quarantinedAccounts(records).map(async (account) => {
      try {
        const state = await readQuarantine(org, caseId, account);
        drift.set(account, describeQuarantineDrift(expectedQuarantine(records, account), state.found));
      } catch (err) {
        drift.set(account, err as Error);
      }
    }),
  );

  const containments = await Promise.all(
    effective.map(async (record): Promise<ContainmentState> => {
      const findings: string[] = [];
      let unknown = false;
      const { account, sids } = sidsOf(record);
      if (account !== undefined && sids.length > 0) {
        const lines = drift.get(account);
        if (lines instanceof Error) {
          findings.push(`quarantine of account ${account} ${fail(lines)}`);
          unknown = true;
        } else {
          const expected = expectedQuarantine(records, account);
          const policies = expected
            .filter((p) => p.statements.some((s) => sids.includes(s.Sid ?? "")))
            .map((p) => p.name);
          findings.push(
            ...(lines ?? []).filter(
              (line) => sids.some((sid) => line.includes(sid)) || policies.some((p) => line.includes(`policy ${p} `)),
            ),
          );
        }
      }
      if (isAccessKeyUndo(record.undo)) {
        const undo = record.undo;
        try {
          const iam = args.factory.client(IAMClient, { account: undo.account, region: undo.region });
          const keys = (await iam.send(new ListAccessKeysCommand({ UserName: undo.user }))).AccessKeyMetadata ?? [];
          const key = keys.find((k) => k.AccessKeyId === undo.accessKeyId);
          if (!key) findings.push(`access key ${undo.accessKeyId} of user ${undo.user} no longer exists`);
          else if (key.Status !== "Inactive")
            findings.push(`access key ${undo.accessKeyId} of user ${undo.user} was re-activated`);
        } catch (err) {
          findings.push(`access key ${undo.accessKeyId} ${fail(err)}`);
          unknown = true;
        }
      }
      if (isInstanceUndo(record.undo)) {
        const checked = await instanceFindings(args.factory, record.undo).catch((err: unknown) => {
          unknown = true;
          return [`instance ${record.undo?.instanceId as string} ${fail(err)}`];
        });
        findings.push(...checked);
      }
      const subject = record.subjects[0] ?? "";
      return {
        sequence: record.sequence,
        action: record.action,
        subject,
        state: findings.length === 0 ? "in-effect" : unknown ? "unknown" : "drifted",
        findings,
      };
    }),
  );
  return {
    caseId,
    checkedAt: (args.now ?? new Date()).toISOString(),
    containments,
    interrupted: openIntents(records).map((r) => ({
      sequence: r.sequence,
      action: intentFor(r) ?? r.action,
      subjects: r.subjects,
    })),
  };
}

/** What is no longer as `contain instance` left it. */
async function instanceFindings(factory: ClientFactory, undo: InstanceUndo): Promise<string[]> {
  const ec2 = factory.client(EC2Client, { account: undo.account, region: undo.region });
  const id = undo.instanceId;
  const findings: string[] = [];
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  const instance = out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === id);
  if (!instance) return [`instance ${id} no longer exists`];
  const vpcId = instance.VpcId ?? "";
  const groups = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: "tag-key", Values: [CONTAINMENT_TAG] },
        { Name: "vpc-id", Values: [vpcId] },
      ],
    }),
  );
  const isolation = (groups.SecurityGroups ?? []).filter((g) =>
    (g.Tags ?? []).some((t) => t.Key === CONTAINMENT_TAG && t.Value === "isolation"),
  );
  const isolationIds = new Set(isolation.map((g) => g.GroupId));
  for (const group of isolation) {
    const rules = [...(group.IpPermissions ?? []), ...(group.IpPermissionsEgress ?? [])].filter(
      (p) =>
        (p.IpRanges?.length ?? 0) +
          (p.Ipv6Ranges?.length ?? 0) +
          (p.UserIdGroupPairs?.length ?? 0) +
          (p.PrefixListIds?.length ?? 0) >
        0,
    );
    if (rules.length > 0) findings.push(`isolation group ${group.GroupId} has gained ${rules.length} rule set(s)`);
  }
  const moved = new Set(undo.interfaces.map((i) => i.id));
  const min = MIN_CONNECTION_TRACKING;
  for (const eni of instance.NetworkInterfaces ?? []) {
    if (!moved.has(eni.NetworkInterfaceId ?? "") && undo.interfaces.length > 0) continue;
    const now = (eni.Groups ?? []).map((g) => g.GroupId ?? "");
    if (now.length !== 1 || !isolationIds.has(now[0])) {
      findings.push(
        `interface ${eni.NetworkInterfaceId ?? "?"} is no longer isolated: its groups are [${now.join(", ")}]`,
      );
    }
    const tracking = connectionTrackingOf(eni.ConnectionTrackingConfiguration);
    if (
      tracking &&
      ((tracking.tcpEstablishedTimeout ?? Infinity) > min.tcpEstablishedTimeout ||
        (tracking.udpStreamTimeout ?? Infinity) > min.udpStreamTimeout ||
        (tracking.udpTimeout ?? Infinity) > min.udpTimeout)
    ) {
      findings.push(`connection-tracking timeouts of interface ${eni.NetworkInterfaceId ?? "?"} were raised again`);
    }
  }
  const flag = async (attribute: "disableApiTermination" | "disableApiStop"): Promise<boolean> => {
    const answer = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: attribute }));
    return (
      (attribute === "disableApiTermination" ? answer.DisableApiTermination : answer.DisableApiStop)?.Value === true
    );
  };
  const [termination, stop] = await Promise.all([
    undo.terminationProtection ? flag("disableApiTermination") : Promise.resolve(true),
    undo.stopProtection ? flag("disableApiStop") : Promise.resolve(true),
  ]);
  if (!termination) findings.push(`termination protection of ${id} was turned off`);
  if (!stop) findings.push(`stop protection of ${id} was turned off`);
  if (undo.httpTokens !== null && instance.MetadataOptions?.HttpTokens !== "required") {
    findings.push(`IMDSv2 is no longer required on ${id} (HttpTokens ${instance.MetadataOptions?.HttpTokens ?? "?"})`);
  }
  for (const volume of undo.keptVolumes) {
    const mapping = (instance.BlockDeviceMappings ?? []).find((b) => b.Ebs?.VolumeId === volume.volumeId);
    if (mapping?.Ebs?.DeleteOnTermination === true) {
      findings.push(`volume ${volume.volumeId} is set to be deleted on termination again`);
    }
  }
  if (undo.autoScaling) {
    const autoscaling = factory.client(AutoScalingClient, { account: undo.account, region: undo.region });
    const membership = (await autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [id] })))
      .AutoScalingInstances?.[0];
    if (undo.autoScaling.mode === "standby" && membership?.LifecycleState !== "Standby") {
      findings.push(
        `instance ${id} left Standby in group ${undo.autoScaling.group} (now ${membership?.LifecycleState ?? "not in the group"})`,
      );
    }
    if (undo.autoScaling.mode === "detached" && membership) {
      findings.push(`instance ${id} is in Auto Scaling group ${membership.AutoScalingGroupName ?? "?"} again`);
    }
  }
  const subnets = (undo.networkAcls ?? []).map((n) => n.subnetId);
  const acls = await describeSubnetAcls(ec2, subnets);
  for (const subnet of subnets) {
    const current = acls.get(subnet);
    if (!current || !isQuarantineAcl(current.acl)) {
      findings.push(
        `subnet ${subnet} is no longer behind the quarantine network ACL (now ${current?.networkAclId ?? "none"})`,
      );
    }
  }
  return findings;
}

/** One line per containment, for people. */
export function formatStatus(status: ContainmentStatus): string[] {
  const lines = status.containments.map((c) => {
    const head = `record ${c.sequence} ${c.action} ${c.subject}: ${c.state === "in-effect" ? "in effect" : c.state === "drifted" ? "NO LONGER IN EFFECT" : "UNKNOWN"}`;
    return [head, ...c.findings.map((f) => `  ${f}`)].join("\n");
  });
  for (const i of status.interrupted) {
    lines.push(
      `record ${i.sequence} (intent of ${i.action} ${i.subjects[0] ?? ""}) never completed: rerun the command to finish it, or flz contain undo --case ${status.caseId} --action ${i.sequence}`,
    );
  }
  if (lines.length === 0) lines.push(`case ${status.caseId} has no containment in effect`);
  return lines;
}
