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

/** Creates a containment group with its rules, or repairs an existing one; resolves with its ID once it is usable. */
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
      const found = (await describeContainmentGroups(ec2, vpcId)).find((g) => g.role === role);
      if (!found) throw err;
      return readyGroup(ec2, vpcId, decideGroup(role, found));
    }
    if (role === "allow-all") {
      // A new group has the IPv4 allow-all egress rule already (and the IPv6 one in a dual-stack VPC).
      await Promise.all([
        ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: id,
            IpPermissions: [{ ...ALLOW_ALL_V4, ...ALLOW_ALL_V6 }],
          }),
        ),
        ec2
          .send(new AuthorizeSecurityGroupEgressCommand({ GroupId: id, IpPermissions: [ALLOW_ALL_V6] }))
          .catch(tolerate(["InvalidPermission.Duplicate"])),
      ]);
    } else {
      await Promise.all(
        [ALLOW_ALL_V4, ALLOW_ALL_V6].map((p) =>
          ec2
            .send(new RevokeSecurityGroupEgressCommand({ GroupId: id, IpPermissions: [p] }))
            .catch(tolerate(["InvalidPermission.NotFound"])),
        ),
      );
    }
    return id;
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
