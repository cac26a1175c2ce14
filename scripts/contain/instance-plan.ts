/**
 * The decisions of `contain instance`, as pure functions of what the describe calls returned: which protections to
 * switch on, which containment groups to create or repair, which interfaces to move, and what undo needs. The AWS
 * calls live in `instance.ts`.
 */
import { UsageError } from "../errors";
import type { PlannedChange } from "./common";

/** Tag that marks the two containment groups of a VPC (value {@link ContainmentRole}); how they are found again. */
export const CONTAINMENT_TAG = "flz:containment";
/** Tag on a contained instance: the case that contained it. */
export const CASE_TAG = "flz:case";
/** Tag on a contained instance: when it was contained (ISO 8601). */
export const CONTAINED_AT_TAG = "flz:contained-at";

/** The two groups of a VPC: everything allowed (makes tracked flows untracked), and nothing allowed. */
export type ContainmentRole = "allow-all" | "isolation";

/** Name of the containment group of a role; unique per VPC, which also stops two runs from creating two groups. */
export function containmentGroupName(role: ContainmentRole): string {
  return `flz-containment-${role}`;
}

/** Description of a containment group, so whoever finds it in the console knows what it is for. */
export function containmentGroupDescription(role: ContainmentRole): string {
  return role === "allow-all"
    ? "flz containment step 1: allows all traffic so existing connections become untracked; instances stay here only for an instant"
    : "flz containment: no rules at all; instances moved here by flz contain instance are isolated";
}

/** One security group rule set as EC2 returns and accepts it (the subset containment cares about). */
export interface Permission {
  /** `-1` for all protocols. */
  readonly IpProtocol?: string;
  /** First port, for TCP/UDP. */
  readonly FromPort?: number;
  /** Last port, for TCP/UDP. */
  readonly ToPort?: number;
  /** IPv4 ranges. */
  readonly IpRanges?: { CidrIp?: string }[];
  /** IPv6 ranges. */
  readonly Ipv6Ranges?: { CidrIpv6?: string }[];
  /** Referenced groups. */
  readonly UserIdGroupPairs?: { GroupId?: string; UserId?: string }[];
  /** Referenced prefix lists. */
  readonly PrefixListIds?: { PrefixListId?: string }[];
}

/** The allow-all rule (both directions): every protocol from and to anywhere, IPv4 and IPv6. */
export const ALLOW_ALL_V4: Permission = { IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] };
/** IPv6 half of the allow-all rule. */
export const ALLOW_ALL_V6: Permission = { IpProtocol: "-1", Ipv6Ranges: [{ CidrIpv6: "::/0" }] };

/** A containment group as found in the account. */
export interface GroupSnapshot {
  /** Group ID. */
  readonly id: string;
  /** VPC of the group. */
  readonly vpcId: string;
  /** Its role, from the {@link CONTAINMENT_TAG} tag. */
  readonly role: ContainmentRole;
  /** Inbound rules. */
  readonly ingress: Permission[];
  /** Outbound rules. */
  readonly egress: Permission[];
}

/** What the describe calls said about the instance. */
export interface InstanceSnapshot {
  /** Instance ID. */
  readonly instanceId: string;
  /** Lifecycle state name (`running`, `stopped`, `terminated`, ...). */
  readonly state: string;
  /** VPC of the instance, absent when it has no network interface. */
  readonly vpcId?: string;
  /** Every network interface with its current security groups, subnet and connection-tracking timeouts. */
  readonly interfaces: {
    readonly id: string;
    readonly deviceIndex: number;
    readonly groups: string[];
    /** Subnet of the interface (for the network ACL step). */
    readonly subnetId?: string;
    /** Connection-tracking timeouts as EC2 reports them; undefined when it reports none (the defaults). */
    readonly connectionTracking?: ConnectionTracking;
  }[];
  /** Every EBS volume with its delete-on-termination flag. */
  readonly volumes: { readonly device: string; readonly volumeId: string; readonly deleteOnTermination: boolean }[];
  /** IMDS `HttpTokens` (`optional` or `required`). */
  readonly httpTokens: string;
  /** Termination protection. */
  readonly disableApiTermination: boolean;
  /** Stop protection. */
  readonly disableApiStop: boolean;
  /** Current tags. */
  readonly tags: Record<string, string>;
}

/** What to do about one containment group of the instance's VPC. */
export type GroupAction =
  | { readonly kind: "create"; readonly role: ContainmentRole }
  | {
      readonly kind: "use";
      readonly role: ContainmentRole;
      readonly id: string;
      /** Rules to add (allow-all group missing its rules). */
      readonly authorizeIngress: Permission[];
      /** Rules to add (allow-all group missing its rules). */
      readonly authorizeEgress: Permission[];
      /** Rules to remove (someone added rules to the isolation group). */
      readonly revokeIngress: Permission[];
      /** Rules to remove. */
      readonly revokeEgress: Permission[];
    };

/** Every change `contain instance` makes, decided before any of it starts. */
export interface InstancePlan {
  /** Instance ID. */
  readonly instanceId: string;
  /** VPC whose containment groups are used. */
  readonly vpcId: string;
  /** Switch termination protection on (it is off). */
  readonly enableTerminationProtection: boolean;
  /** Switch stop protection on (it is off). */
  readonly enableStopProtection: boolean;
  /** Volumes whose delete-on-termination flag must be cleared. */
  readonly keepVolumes: { readonly device: string; readonly volumeId: string }[];
  /** Require IMDSv2; the previous `HttpTokens` value, or undefined when already required. */
  readonly requireImdsV2From?: string;
  /** Case tags to set, with the value each had (null: absent). */
  readonly tags: { readonly key: string; readonly value: string; readonly previous: string | null }[];
  /** The allow-all group. */
  readonly allowAllGroup: GroupAction;
  /** The isolation group. */
  readonly isolationGroup: GroupAction;
  /**
   * Interfaces to move, with the groups they have now (saved for undo) and their connection-tracking timeouts. A
   * containment group of ours is never saved as an original group: an interface found in one (an interrupted run of
   * another case, or a hand-made move) has `groups` null, and undo leaves it where containment put it. Already isolated
   * interfaces are left out.
   */
  readonly interfaces: {
    readonly id: string;
    readonly groups: string[] | null;
    readonly connectionTracking: ConnectionTracking | null;
  }[];
  /** Subnets whose network ACL is swapped for a deny-everything one (`--network-acl`); empty otherwise. */
  readonly subnets: string[];
}

/** Connection-tracking timeouts of an interface, seconds. */
export interface ConnectionTracking {
  /** Idle established TCP connections. */
  readonly tcpEstablishedTimeout?: number;
  /** Idle UDP flows seen as streams. */
  readonly udpStreamTimeout?: number;
  /** Other idle UDP flows. */
  readonly udpTimeout?: number;
}

/**
 * The shortest timeouts EC2 accepts (ModifyNetworkInterfaceAttribute ConnectionTrackingSpecification: TCP established
 * 60-432000 s, UDP stream 60-180 s, UDP 30-60 s): a tracked flow that survives the group swap (ICMP, flows through
 * NAT gateways, load balancers, endpoints) is dropped after this long idle instead of up to five days.
 */
export const MIN_CONNECTION_TRACKING: Required<ConnectionTracking> = {
  tcpEstablishedTimeout: 60,
  udpStreamTimeout: 60,
  udpTimeout: 30,
};

/**
 * EC2's documented defaults (API reference, ConnectionTrackingSpecification), which undo restores when the interface
 * had no configuration. Nitro v6 instance types default to 350 s for TCP instead: their undo sets 432000 s, the
 * documented maximum of the others, which keeps idle connections longer than before, never shorter.
 */
export const DEFAULT_CONNECTION_TRACKING: Required<ConnectionTracking> = {
  tcpEstablishedTimeout: 432000,
  udpStreamTimeout: 180,
  udpTimeout: 30,
};

const sameRange = (a: Permission, b: Permission): boolean =>
  (a.IpProtocol ?? "") === (b.IpProtocol ?? "") &&
  (b.IpRanges ?? []).every((r) => (a.IpRanges ?? []).some((x) => x.CidrIp === r.CidrIp)) &&
  (b.Ipv6Ranges ?? []).every((r) => (a.Ipv6Ranges ?? []).some((x) => x.CidrIpv6 === r.CidrIpv6));

/** The allow-all rules a set of permissions lacks. */
export function missingAllowAll(existing: Permission[]): Permission[] {
  return [ALLOW_ALL_V4, ALLOW_ALL_V6].filter((wanted) => !existing.some((p) => sameRange(p, wanted)));
}

/** Whether a permission list is non-empty in substance (EC2 may return empty shells). */
function hasRules(p: Permission): boolean {
  return (
    (p.IpRanges?.length ?? 0) +
      (p.Ipv6Ranges?.length ?? 0) +
      (p.UserIdGroupPairs?.length ?? 0) +
      (p.PrefixListIds?.length ?? 0) >
    0
  );
}

/** Decides what to do with a containment group: create it, or use it after repairing its rules (fail closed). */
export function decideGroup(role: ContainmentRole, found: GroupSnapshot | undefined): GroupAction {
  if (!found) return { kind: "create", role };
  const none: Permission[] = [];
  if (role === "allow-all") {
    return {
      kind: "use",
      role,
      id: found.id,
      authorizeIngress: missingAllowAll(found.ingress),
      authorizeEgress: missingAllowAll(found.egress),
      revokeIngress: none,
      revokeEgress: none,
    };
  }
  return {
    kind: "use",
    role,
    id: found.id,
    authorizeIngress: none,
    authorizeEgress: none,
    revokeIngress: found.ingress.filter(hasRules),
    revokeEgress: found.egress.filter(hasRules),
  };
}

/** Picks the containment group of a role in a VPC; with duplicates (two runs racing), the lowest ID, so every run agrees. */
export function pickGroup(groups: GroupSnapshot[], vpcId: string, role: ContainmentRole): GroupSnapshot | undefined {
  return groups.filter((g) => g.vpcId === vpcId && g.role === role).sort((a, b) => a.id.localeCompare(b.id))[0];
}

/** States in which there is nothing left to contain. */
const GONE = new Set(["terminated", "shutting-down"]);

/**
 * Plans the containment of an instance. Refuses (usage error, nothing changed) an instance that is gone or that is in
 * no security group: security groups cannot isolate it, and pretending otherwise would leave it open.
 */
export function planInstance(
  snapshot: InstanceSnapshot,
  groups: GroupSnapshot[],
  caseId: string,
  now: Date,
  options: {
    /** Subnets to put behind a quarantine network ACL (`--network-acl`, those not behind one already). */
    readonly subnets?: readonly string[];
  } = {},
): InstancePlan {
  if (GONE.has(snapshot.state)) {
    throw new UsageError(
      `instance ${snapshot.instanceId} is ${snapshot.state}: there is nothing left to contain; capture its retained volumes instead`,
    );
  }
  const inNoGroup = snapshot.interfaces.length === 0 || snapshot.interfaces.some((i) => i.groups.length === 0);
  if (!snapshot.vpcId || inNoGroup) {
    throw new UsageError(
      `instance ${snapshot.instanceId} has a network interface in no security group (or none at all): security groups cannot isolate it; block its subnet with a network ACL or stop it`,
    );
  }
  const vpcId = snapshot.vpcId;
  const allowAll = pickGroup(groups, vpcId, "allow-all");
  const isolation = pickGroup(groups, vpcId, "isolation");
  const isolated = (g: string[]) => isolation !== undefined && g.length === 1 && g[0] === isolation.id;
  // Every containment group of the region, whichever VPC: never an interface's "original" group.
  const ours = new Set(groups.map((g) => g.id));

  const wantedTags: Record<string, string> = { [CASE_TAG]: caseId, [CONTAINED_AT_TAG]: now.toISOString() };
  const alreadyTagged = snapshot.tags[CASE_TAG] === caseId && snapshot.tags[CONTAINED_AT_TAG] !== undefined;
  return {
    instanceId: snapshot.instanceId,
    vpcId,
    enableTerminationProtection: !snapshot.disableApiTermination,
    enableStopProtection: !snapshot.disableApiStop,
    keepVolumes: snapshot.volumes
      .filter((v) => v.deleteOnTermination)
      .map((v) => ({ device: v.device, volumeId: v.volumeId })),
    requireImdsV2From: snapshot.httpTokens === "required" ? undefined : snapshot.httpTokens,
    // Re-running for the same case keeps the first containment time: that is when the instance was contained.
    tags: alreadyTagged
      ? []
      : Object.entries(wantedTags).map(([key, value]) => ({ key, value, previous: snapshot.tags[key] ?? null })),
    allowAllGroup: decideGroup("allow-all", allowAll),
    isolationGroup: decideGroup("isolation", isolation),
    interfaces: snapshot.interfaces
      .filter((i) => !isolated(i.groups))
      .map((i) => {
        const original = i.groups.filter((g) => !ours.has(g));
        return {
          id: i.id,
          groups: original.length > 0 ? original : null,
          connectionTracking: i.connectionTracking ?? null,
        };
      }),
    subnets: [...new Set(options.subnets ?? [])],
  };
}

/** Auto Scaling facts about the instance. */
export interface AutoScalingSnapshot {
  /** Group name. */
  readonly group: string;
  /** The instance's lifecycle state in the group (`InService`, `Standby`, `Pending`, ...). */
  readonly lifecycleState: string;
  /** Group minimum size. */
  readonly minSize: number;
  /** Group desired capacity. */
  readonly desiredCapacity: number;
}

/** What to do so the group does not replace (and terminate) the instance. */
export type AutoScalingDecision =
  | { readonly kind: "none"; readonly reason: string }
  | { readonly kind: "standby"; readonly group: string }
  | { readonly kind: "detach"; readonly group: string; readonly reason: string }
  | { readonly kind: "impossible"; readonly group: string; readonly reason: string };

/**
 * Standby with the desired capacity decremented keeps the instance in the group without a replacement. When that
 * would take the group below its minimum size, Auto Scaling refuses it: detach the instance instead (the group then
 * launches a replacement, which is what keeps the service up).
 */
export function decideAutoScaling(asg: AutoScalingSnapshot | undefined): AutoScalingDecision {
  if (!asg) return { kind: "none", reason: "not in an Auto Scaling group" };
  if (asg.lifecycleState === "Standby") return { kind: "none", reason: `already in Standby in group ${asg.group}` };
  if (asg.lifecycleState !== "InService") {
    return {
      kind: "impossible",
      group: asg.group,
      reason: `instance is ${asg.lifecycleState} in Auto Scaling group ${asg.group}: neither Standby nor detach is possible in that state`,
    };
  }
  if (asg.desiredCapacity - 1 < asg.minSize) {
    return {
      kind: "detach",
      group: asg.group,
      reason: `Standby would take group ${asg.group} below its minimum size ${asg.minSize}: detaching instead (the group launches a replacement)`,
    };
  }
  return { kind: "standby", group: asg.group };
}

/** Lines for people: every change of a plan, in the order of the runbook. */
export function describePlan(plan: InstancePlan, asg: AutoScalingDecision, capture: boolean): PlannedChange[] {
  const id = plan.instanceId;
  const changes: PlannedChange[] = [];
  if (plan.enableTerminationProtection)
    changes.push({ target: id, description: "turn on termination protection (DisableApiTermination)" });
  if (plan.enableStopProtection) changes.push({ target: id, description: "turn on stop protection (DisableApiStop)" });
  for (const v of plan.keepVolumes) {
    changes.push({
      target: v.volumeId,
      description: `keep volume ${v.volumeId} (${v.device}) when the instance terminates`,
    });
  }
  if (asg.kind === "standby")
    changes.push({ target: id, description: `put the instance in Standby in Auto Scaling group ${asg.group}` });
  if (asg.kind === "detach")
    changes.push({ target: id, description: `detach the instance from Auto Scaling group ${asg.group}` });
  if (capture) changes.push({ target: id, description: "start a capture of every volume" });
  for (const [action, label] of [
    [plan.allowAllGroup, "allow-all"],
    [plan.isolationGroup, "isolation"],
  ] as const) {
    if (action.kind === "create") {
      changes.push({
        target: plan.vpcId,
        description: `create the ${label} containment group ${containmentGroupName(label)} in ${plan.vpcId}`,
      });
    } else {
      const repairs =
        action.authorizeIngress.length +
        action.authorizeEgress.length +
        action.revokeIngress.length +
        action.revokeEgress.length;
      if (repairs > 0)
        changes.push({
          target: action.id,
          description: `repair ${repairs} rule set(s) of the ${label} containment group ${action.id}`,
        });
    }
  }
  const isolationId = plan.isolationGroup.kind === "use" ? plan.isolationGroup.id : containmentGroupName("isolation");
  const min = MIN_CONNECTION_TRACKING;
  for (const eni of plan.interfaces) {
    changes.push({
      target: eni.id,
      description: `set connection-tracking timeouts of interface ${eni.id} to TCP ${min.tcpEstablishedTimeout} s, UDP stream ${min.udpStreamTimeout} s, UDP ${min.udpTimeout} s (idle tracked flows end within a minute)`,
    });
    changes.push({
      target: eni.id,
      description: `move interface ${eni.id} from [${eni.groups?.join(", ") ?? "a containment group (original unknown)"}] to the allow-all group, then to ${isolationId} (no rules)`,
    });
  }
  for (const subnet of plan.subnets) {
    changes.push({
      target: subnet,
      description: `swap the network ACL of subnet ${subnet} for a deny-everything quarantine ACL (cuts every flow of every host in the subnet at once)`,
    });
  }
  if (plan.requireImdsV2From)
    changes.push({ target: id, description: `require IMDSv2 (HttpTokens ${plan.requireImdsV2From} -> required)` });
  for (const t of plan.tags) changes.push({ target: id, description: `tag ${t.key}=${t.value}` });
  return changes;
}

/**
 * The note every instance containment prints: what each step cuts and does not cut (EC2 user guide, "Security group
 * connection tracking": changing a group does not interrupt tracked connections; a network ACL does).
 */
export const TRACKED_PATHS_NOTE =
  "The group swap cuts untracked flows at once; tracked flows (ICMP, and flows through NAT gateways, load balancers and VPC endpoints) stay open until idle for the connection-tracking timeout, now 60 s for TCP (30-60 s for UDP), so an active tracked flow continues. To cut those at once, use --network-acl (it cuts every host in the subnet).";
