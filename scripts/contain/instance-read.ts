/**
 * The reads of `contain instance` (instance, protections, containment groups, Auto Scaling) and the making of the
 * containment groups: the AWS calls around the pure decisions of `instance-plan.ts`.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type ConnectionTrackingSpecificationResponse,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import { UsageError } from "../errors";
import { awsErrorName, type ContainContext } from "./common";
import {
  ALLOW_ALL_V4,
  ALLOW_ALL_V6,
  CONTAINMENT_TAG,
  containmentGroupDescription,
  containmentGroupName,
  decideGroup,
  type AutoScalingSnapshot,
  type ConnectionTracking,
  type ContainmentRole,
  type GroupAction,
  type GroupSnapshot,
  type InstanceSnapshot,
  type Permission,
} from "./instance-plan";

/** Connection-tracking timeouts as EC2 reports them on an interface; undefined when it reports none. */
export function connectionTrackingOf(
  config: ConnectionTrackingSpecificationResponse | undefined,
): ConnectionTracking | undefined {
  if (!config) return undefined;
  const { TcpEstablishedTimeout, UdpStreamTimeout, UdpTimeout } = config;
  if (TcpEstablishedTimeout === undefined && UdpStreamTimeout === undefined && UdpTimeout === undefined)
    return undefined;
  return {
    ...(TcpEstablishedTimeout === undefined ? {} : { tcpEstablishedTimeout: TcpEstablishedTimeout }),
    ...(UdpStreamTimeout === undefined ? {} : { udpStreamTimeout: UdpStreamTimeout }),
    ...(UdpTimeout === undefined ? {} : { udpTimeout: UdpTimeout }),
  };
}

export const notFound = (err: unknown): boolean =>
  /^InvalidInstanceID\.(NotFound|Malformed)$/.test(awsErrorName(err) ?? "");

export function instanceMissing(ctx: ContainContext, id: string): UsageError {
  return new UsageError(
    `instance ${id} does not exist in account ${ctx.account} region ${ctx.region}: check --instance, --account and --region`,
  );
}

/** Reads the instance (interfaces, volumes, metadata options, tags). */
export async function describeInstance(
  ctx: ContainContext,
  ec2: EC2Client,
  id: string,
): Promise<Omit<InstanceSnapshot, "disableApiTermination" | "disableApiStop">> {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })).catch((err: unknown) => {
    throw notFound(err) ? instanceMissing(ctx, id) : err;
  });
  const instance = out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === id);
  if (!instance) throw instanceMissing(ctx, id);
  return {
    instanceId: id,
    state: instance.State?.Name ?? "unknown",
    vpcId: instance.VpcId ?? instance.NetworkInterfaces?.[0]?.VpcId,
    interfaces: (instance.NetworkInterfaces ?? []).map((n) => ({
      id: n.NetworkInterfaceId ?? "",
      deviceIndex: n.Attachment?.DeviceIndex ?? 0,
      groups: (n.Groups ?? []).map((g) => g.GroupId ?? "").filter((g) => g !== ""),
      subnetId: n.SubnetId,
      connectionTracking: connectionTrackingOf(n.ConnectionTrackingConfiguration),
    })),
    volumes: (instance.BlockDeviceMappings ?? [])
      .filter((b) => b.Ebs?.VolumeId)
      .map((b) => ({
        device: b.DeviceName ?? "",
        volumeId: b.Ebs?.VolumeId ?? "",
        deleteOnTermination: b.Ebs?.DeleteOnTermination === true,
      })),
    httpTokens: instance.MetadataOptions?.HttpTokens ?? "optional",
    tags: Object.fromEntries((instance.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])),
  };
}

/** Reads termination or stop protection. */
export async function describeFlag(
  ctx: ContainContext,
  ec2: EC2Client,
  id: string,
  attribute: "disableApiTermination" | "disableApiStop",
): Promise<boolean> {
  const out = await ec2
    .send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: attribute }))
    .catch((err: unknown) => {
      throw notFound(err) ? instanceMissing(ctx, id) : err;
    });
  return (
    (attribute === "disableApiTermination" ? out.DisableApiTermination?.Value : out.DisableApiStop?.Value) === true
  );
}

const toGroupSnapshot = (g: SecurityGroup): GroupSnapshot | undefined => {
  const role = g.Tags?.find((t) => t.Key === CONTAINMENT_TAG)?.Value;
  if (role !== "allow-all" && role !== "isolation") return undefined;
  return {
    id: g.GroupId ?? "",
    vpcId: g.VpcId ?? "",
    role,
    ingress: (g.IpPermissions ?? []) as Permission[],
    egress: (g.IpPermissionsEgress ?? []) as Permission[],
  };
};

/** Every containment group of the region (one pair per VPC at most, so this stays one page in practice). */
export async function describeContainmentGroups(ec2: EC2Client, vpcId?: string): Promise<GroupSnapshot[]> {
  const groups: GroupSnapshot[] = [];
  let token: string | undefined;
  do {
    const filters = [
      { Name: "tag-key", Values: [CONTAINMENT_TAG] },
      ...(vpcId ? [{ Name: "vpc-id", Values: [vpcId] }] : []),
    ];
    const out = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters, NextToken: token }));
    for (const g of out.SecurityGroups ?? []) {
      const snapshot = toGroupSnapshot(g);
      if (snapshot) groups.push(snapshot);
    }
    token = out.NextToken;
  } while (token);
  return groups;
}

/** The instance's Auto Scaling group, if any: its name and state (first call) and its sizes (second call). */
export async function describeAutoScaling(
  autoscaling: AutoScalingClient,
  id: string,
): Promise<AutoScalingSnapshot | undefined> {
  const membership = (await autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [id] })))
    .AutoScalingInstances?.[0];
  if (!membership?.AutoScalingGroupName) return undefined;
  const group = (
    await autoscaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [membership.AutoScalingGroupName] }),
    )
  ).AutoScalingGroups?.[0];
  return {
    group: membership.AutoScalingGroupName,
    lifecycleState: membership.LifecycleState ?? "unknown",
    minSize: group?.MinSize ?? 0,
    desiredCapacity: group?.DesiredCapacity ?? 0,
  };
}

/** A rejection handler that ignores the named AWS errors (the state wanted is already there). */
export const tolerate = (names: string[]) => (err: unknown) => {
  if (!names.includes(awsErrorName(err) ?? "")) throw err;
};

/** Attempts and first wait of the look-up of a group another run created (EC2's reads are eventually consistent). */
const LOOKUP_ATTEMPTS = 5;
const LOOKUP_FIRST_WAIT_MS = 200;

/**
 * The containment group of a role in a VPC, found by its name (unique per VPC), whether or not its tag is visible
 * yet: what a run that lost the race to create it uses. EC2 reads are eventually consistent ("Eventual consistency in
 * the Amazon EC2 API", EC2 API reference): a group whose creation was just refused as a duplicate may not be
 * described yet, so the look-up waits and tries again a few times before giving up.
 */
export async function findContainmentGroup(
  ec2: EC2Client,
  vpcId: string,
  role: ContainmentRole,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<GroupSnapshot | undefined> {
  for (let attempt = 0; attempt < LOOKUP_ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(LOOKUP_FIRST_WAIT_MS * 2 ** (attempt - 1));
    const out = await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: "vpc-id", Values: [vpcId] },
          { Name: "group-name", Values: [containmentGroupName(role)] },
        ],
      }),
    );
    const g = out.SecurityGroups?.[0];
    if (g?.GroupId) {
      return {
        id: g.GroupId,
        vpcId,
        role,
        ingress: (g.IpPermissions ?? []) as Permission[],
        egress: (g.IpPermissionsEgress ?? []) as Permission[],
      };
    }
  }
  return undefined;
}

/**
 * Creates a containment group with its rules, or repairs an existing one; resolves with its ID once it is usable.
 *
 * Several runs may do this for the same VPC at the same moment (the response automation runs one execution per
 * finding; two operators may contain two instances of one VPC): the loser of the creation reuses the winner's group,
 * and every rule change is made rule set by rule set with "already there" (`InvalidPermission.Duplicate`) and "already
 * gone" (`InvalidPermission.NotFound`) taken as done, so whichever run sets a rule first, the others succeed too.
 */
export async function readyGroup(ec2: EC2Client, vpcId: string, action: GroupAction): Promise<string> {
  if (action.kind === "create") {
    const role: ContainmentRole = action.role;
    let id: string;
    try {
      const created = await ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: containmentGroupName(role),
          Description: containmentGroupDescription(role),
          VpcId: vpcId,
          TagSpecifications: [
            {
              ResourceType: "security-group",
              Tags: [
                { Key: CONTAINMENT_TAG, Value: role },
                { Key: "Name", Value: containmentGroupName(role) },
              ],
            },
          ],
        }),
      );
      id = created.GroupId ?? "";
    } catch (err) {
      // Another run created it in the meantime (the name is unique per VPC): use that one, after checking its rules.
      if (awsErrorName(err) !== "InvalidGroup.Duplicate") throw err;
      const found = await findContainmentGroup(ec2, vpcId, role);
      if (!found) throw err;
      return readyGroup(ec2, vpcId, decideGroup(role, found));
    }
    // A new VPC group has EC2's default egress rule (IPv4 allow-all; also IPv6 in a dual-stack VPC) and no ingress:
    // repair it like any existing group, so a run that found it at the same moment repairs it alongside without
    // either failing. The allow-all group assumes IPv4 only (IPv6 egress is added, "already there" is fine); the
    // isolation group assumes both (each revoke tolerates "already gone").
    const egress = role === "allow-all" ? [ALLOW_ALL_V4] : [ALLOW_ALL_V4, ALLOW_ALL_V6];
    return readyGroup(ec2, vpcId, decideGroup(role, { id, vpcId, role, ingress: [], egress }));
  }
  // One call per rule set: a rule already there, or already gone, is the state wanted (an interrupted run may have
  // made the change), and EC2 refuses a whole call when one of its rules is a duplicate.
  const calls: Promise<unknown>[] = [
    ...action.authorizeIngress.map((p) =>
      ec2
        .send(new AuthorizeSecurityGroupIngressCommand({ GroupId: action.id, IpPermissions: [p] }))
        .catch(tolerate(["InvalidPermission.Duplicate"])),
    ),
    ...action.authorizeEgress.map((p) =>
      ec2
        .send(new AuthorizeSecurityGroupEgressCommand({ GroupId: action.id, IpPermissions: [p] }))
        .catch(tolerate(["InvalidPermission.Duplicate"])),
    ),
    ...action.revokeIngress.map((p) =>
      ec2
        .send(new RevokeSecurityGroupIngressCommand({ GroupId: action.id, IpPermissions: [p] }))
        .catch(tolerate(["InvalidPermission.NotFound"])),
    ),
    ...action.revokeEgress.map((p) =>
      ec2
        .send(new RevokeSecurityGroupEgressCommand({ GroupId: action.id, IpPermissions: [p] }))
        .catch(tolerate(["InvalidPermission.NotFound"])),
    ),
  ];
  await Promise.all(calls);
  return action.id;
}
