/**
 * `contain instance`: the AWS calls around the decisions of `instance-plan.ts`.
 *
 * Shape of the run (the benchmark measures it): one round of independent reads, then independent branches that do
 * not wait for each other: protection (termination, stop, volumes kept, IMDSv2, tags), Auto Scaling (Standby or
 * detach), the capture, and network isolation (containment groups ready, then every interface moved to the allow-all
 * group and on to the isolation group). Isolation does not wait for Standby: Auto Scaling acts on a failed health
 * check only after several check intervals (seconds), while Standby completes within a few round trips.
 */
import {
  AttachInstancesCommand,
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  ModifyInstanceMetadataOptionsCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import type { JsonValue } from "../custody/types";
import { describeError, OperationError, UsageError } from "../errors";
import { awsErrorName, type ContainContext, type ContainResult, recordChanges } from "./common";
import {
  ALLOW_ALL_V4,
  ALLOW_ALL_V6,
  CONTAINMENT_TAG,
  containmentGroupDescription,
  containmentGroupName,
  decideAutoScaling,
  decideGroup,
  describePlan,
  planInstance,
  TRACKED_PATHS_NOTE,
  type AutoScalingDecision,
  type AutoScalingSnapshot,
  type ContainmentRole,
  type GroupAction,
  type GroupSnapshot,
  type InstancePlan,
  type InstanceSnapshot,
  type Permission,
} from "./instance-plan";

/** Ledger action of an instance containment. */
export const INSTANCE_ACTION = "contain.instance.isolated";

/** Undo information of an instance containment: only what this run changed, with the values it replaced. */
export interface InstanceUndo {
  readonly kind: "instance";
  readonly account: string;
  readonly region: string;
  readonly instanceId: string;
  /** Interfaces moved, with the groups they had. */
  interfaces: { id: string; groups: string[] }[];
  /** Termination protection was switched on (it was off). */
  terminationProtection: boolean;
  /** Stop protection was switched on (it was off). */
  stopProtection: boolean;
  /** Volumes whose delete-on-termination flag was cleared (it was set). */
  keptVolumes: { device: string; volumeId: string }[];
  /** Previous IMDS `HttpTokens`, when this run required IMDSv2. */
  httpTokens: string | null;
  /** Tags set, with their previous values (null: absent). */
  tags: { key: string; previous: string | null }[];
  /** What was done in Auto Scaling. */
  autoScaling: { group: string; mode: "standby" | "detached" } | null;
}

/** Type guard for recorded undo information. */
export function isInstanceUndo(value: unknown): value is InstanceUndo {
  const v = value as Partial<InstanceUndo> | undefined;
  return v?.kind === "instance" && typeof v.instanceId === "string" && Array.isArray(v.interfaces);
}

/** Validates `--instance`. */
export function requireInstanceId(value: string | undefined): string {
  if (!value || !/^i-[0-9a-f]{8,17}$/.test(value)) {
    throw new UsageError(
      `--instance ${value ?? "(missing)"} is not an instance ID: give one such as i-0123456789abcdef0`,
    );
  }
  return value;
}

/** Arguments of {@link containInstance}. */
export interface ContainInstanceArgs {
  /** Instance ID. */
  readonly instanceId: string;
  /**
   * Starts a capture of the instance's volumes (`--capture`). It starts once the instance is known to exist and runs
   * beside containment: neither waits for the other, and the containment record does not wait for the snapshots.
   * Resolves with a summary; the capture records its own steps in the ledger.
   */
  readonly startCapture?: () => Promise<{ [key: string]: JsonValue }>;
  /** Clock, for tests. */
  readonly now?: Date;
}

const notFound = (err: unknown): boolean => /^InvalidInstanceID\.(NotFound|Malformed)$/.test(awsErrorName(err) ?? "");

function instanceMissing(ctx: ContainContext, id: string): UsageError {
  return new UsageError(
    `instance ${id} does not exist in account ${ctx.account} region ${ctx.region}: check --instance, --account and --region`,
  );
}

/** Reads the instance (interfaces, volumes, metadata options, tags). */
async function describeInstance(
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

async function describeFlag(
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
async function describeContainmentGroups(ec2: EC2Client, vpcId?: string): Promise<GroupSnapshot[]> {
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
async function describeAutoScaling(
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

const tolerate = (names: string[]) => (err: unknown) => {
  if (!names.includes(awsErrorName(err) ?? "")) throw err;
};

/** Creates a containment group with its rules, or repairs an existing one; resolves with its ID once it is usable. */
async function readyGroup(ec2: EC2Client, vpcId: string, action: GroupAction): Promise<string> {
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
  const calls: Promise<unknown>[] = [];
  if (action.authorizeIngress.length > 0)
    calls.push(
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: action.id, IpPermissions: action.authorizeIngress }),
      ),
    );
  if (action.authorizeEgress.length > 0)
    calls.push(
      ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: action.id, IpPermissions: action.authorizeEgress })),
    );
  if (action.revokeIngress.length > 0)
    calls.push(
      ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: action.id, IpPermissions: action.revokeIngress })),
    );
  if (action.revokeEgress.length > 0)
    calls.push(
      ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: action.id, IpPermissions: action.revokeEgress })),
    );
  await Promise.all(calls);
  return action.id;
}

/** Runs a step, turning its failure into one recorded line instead of stopping the other steps. */
async function step(failures: string[], name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    failures.push(`${name}: ${describeError(err)}`);
  }
}

/** Arguments of the isolation branch. */
interface IsolateArgs {
  readonly ec2: EC2Client;
  readonly plan: InstancePlan;
  readonly undo: InstanceUndo;
  readonly failures: string[];
}

/** Groups ready (both, so no interface is ever left in the allow-all group alone), then every interface moved twice. */
async function isolate({
  ec2,
  plan,
  undo,
  failures,
}: IsolateArgs): Promise<{ allowAllId?: string; isolationId?: string }> {
  let ids: [string, string] | undefined;
  await step(failures, "containment groups", async () => {
    ids = await Promise.all([
      readyGroup(ec2, plan.vpcId, plan.allowAllGroup),
      readyGroup(ec2, plan.vpcId, plan.isolationGroup),
    ]);
  });
  if (!ids) return {};
  const [allowAllId, isolationId] = ids;
  await Promise.all(
    plan.interfaces.map((eni) =>
      step(failures, `isolate interface ${eni.id}`, async () => {
        await ec2.send(
          new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.id, Groups: [allowAllId] }),
        );
        undo.interfaces.push({ id: eni.id, groups: eni.groups });
        try {
          await ec2.send(
            new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.id, Groups: [isolationId] }),
          );
        } catch (err) {
          // Never leave an interface open to everything: fall back to its own groups and report the failure.
          await ec2
            .send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.id, Groups: eni.groups }))
            .catch(() => undefined);
          throw err;
        }
      }),
    ),
  );
  return { allowAllId, isolationId };
}

/** Takes the instance out of its Auto Scaling group's reach: Standby, or detach when Standby is impossible. */
async function leaveAutoScaling(
  autoscaling: AutoScalingClient,
  id: string,
  decision: AutoScalingDecision,
  undo: InstanceUndo,
): Promise<string | undefined> {
  if (decision.kind === "none") return undefined;
  if (decision.kind === "impossible") throw new OperationError(decision.reason);
  if (decision.kind === "standby") {
    try {
      await autoscaling.send(
        new EnterStandbyCommand({
          AutoScalingGroupName: decision.group,
          InstanceIds: [id],
          ShouldDecrementDesiredCapacity: true,
        }),
      );
      undo.autoScaling = { group: decision.group, mode: "standby" };
      return undefined;
    } catch (err) {
      // The group changed between the read and the call (e.g. its minimum was raised): detach instead.
      if (awsErrorName(err) !== "ValidationError") throw err;
    }
  }
  await autoscaling.send(
    new DetachInstancesCommand({
      AutoScalingGroupName: decision.group,
      InstanceIds: [id],
      ShouldDecrementDesiredCapacity: false,
    }),
  );
  undo.autoScaling = { group: decision.group, mode: "detached" };
  return `detached from Auto Scaling group ${decision.group}; the group launches a replacement`;
}

/** Contains an instance; see the module comment for the order and what runs in parallel. */
export async function containInstance(ctx: ContainContext, args: ContainInstanceArgs): Promise<ContainResult> {
  const id = requireInstanceId(args.instanceId);
  const now = args.now ?? new Date();
  const ec2 = ctx.factory.client(EC2Client, { account: ctx.account, region: ctx.region });
  const autoscaling = ctx.factory.client(AutoScalingClient, { account: ctx.account, region: ctx.region });

  // One round of independent reads; the Auto Scaling read runs on (its second call needs the first).
  const asgRead = describeAutoScaling(autoscaling, id);
  asgRead.catch(() => undefined); // observed below; keeps an early failure elsewhere from leaving it unhandled
  const [instance, disableApiTermination, disableApiStop, groups] = await Promise.all([
    describeInstance(ctx, ec2, id),
    describeFlag(ctx, ec2, id, "disableApiTermination"),
    describeFlag(ctx, ec2, id, "disableApiStop"),
    describeContainmentGroups(ec2),
  ]);
  const plan = planInstance({ ...instance, disableApiTermination, disableApiStop }, groups, ctx.ledger.caseId, now);
  const notes = [TRACKED_PATHS_NOTE];

  if (ctx.dryRun) {
    const decision = decideAutoScaling(await asgRead);
    if (decision.kind !== "none" && decision.kind !== "standby") notes.unshift(decision.reason);
    const changes = describePlan(plan, decision, args.startCapture !== undefined);
    return { action: INSTANCE_ACTION, dryRun: true, changes, notes, details: planDetails(plan, decision) };
  }

  const undo: InstanceUndo = {
    kind: "instance",
    account: ctx.account,
    region: ctx.region,
    instanceId: id,
    interfaces: [],
    terminationProtection: false,
    stopProtection: false,
    keptVolumes: [],
    httpTokens: null,
    tags: [],
    autoScaling: null,
  };
  const failures: string[] = [];
  let decision = { kind: "none", reason: "not read" } as AutoScalingDecision;
  const capture = args.startCapture?.();
  capture?.catch(() => undefined); // the command awaits it (and reports its failure) after containment
  let isolation: { allowAllId?: string; isolationId?: string } = {};

  await Promise.all([
    plan.enableTerminationProtection &&
      step(failures, "termination protection", async () => {
        await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiTermination: { Value: true } }));
        undo.terminationProtection = true;
      }),
    plan.enableStopProtection &&
      step(failures, "stop protection", async () => {
        await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiStop: { Value: true } }));
        undo.stopProtection = true;
      }),
    plan.keepVolumes.length > 0 &&
      step(failures, "keep volumes on termination", async () => {
        const mappings = plan.keepVolumes.map((v) => ({
          DeviceName: v.device,
          Ebs: { VolumeId: v.volumeId, DeleteOnTermination: false },
        }));
        await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, BlockDeviceMappings: mappings }));
        undo.keptVolumes = [...plan.keepVolumes];
      }),
    step(failures, "Auto Scaling", async () => {
      decision = decideAutoScaling(await asgRead);
      const noteLine = await leaveAutoScaling(autoscaling, id, decision, undo);
      if (noteLine) notes.unshift(noteLine);
    }),
    isolate({ ec2, plan, undo, failures }).then((r) => {
      isolation = r;
    }),
    plan.requireImdsV2From !== undefined &&
      step(failures, "require IMDSv2", async () => {
        await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: "required" }));
        undo.httpTokens = plan.requireImdsV2From ?? null;
      }),
    plan.tags.length > 0 &&
      step(failures, "case tags", async () => {
        await ec2.send(
          new CreateTagsCommand({ Resources: [id], Tags: plan.tags.map((t) => ({ Key: t.key, Value: t.value })) }),
        );
        undo.tags = plan.tags.map((t) => ({ key: t.key, previous: t.previous }));
      }),
  ]);

  const changes = describePlan(plan, decision, args.startCapture !== undefined);
  const details: { [key: string]: JsonValue } = {
    ...planDetails(plan, decision),
    containmentGroups: { allowAll: isolation.allowAllId ?? null, isolation: isolation.isolationId ?? null },
    capture: capture ? "started" : null,
    failures,
  };
  if (changes.length === 0 && failures.length === 0) {
    // As with the other actions: nothing changed, so there is nothing to record or undo.
    notes.unshift(`instance ${id} is already contained: nothing changed, nothing recorded`);
    return { action: INSTANCE_ACTION, dryRun: false, changes, notes, details, failures };
  }
  const record = await recordChanges(ctx.ledger, {
    action: INSTANCE_ACTION,
    subjects: [id, ...plan.interfaces.map((i) => i.id), ...plan.keepVolumes.map((v) => v.volumeId)],
    details: { ...details, account: ctx.account, region: ctx.region },
    undo: JSON.parse(JSON.stringify(undo)) as { [key: string]: JsonValue },
    outcome: failures.length > 0 ? "failed" : "succeeded",
    error: failures.length > 0 ? failures.join("; ") : undefined,
  });
  return { action: INSTANCE_ACTION, dryRun: false, changes, notes, details, record, failures, pending: capture };
}

function planDetails(plan: InstancePlan, decision: AutoScalingDecision): { [key: string]: JsonValue } {
  return {
    instanceId: plan.instanceId,
    vpcId: plan.vpcId,
    savedGroups: plan.interfaces.map((i) => ({ interface: i.id, groups: i.groups })),
    autoScaling: decision.kind === "none" ? null : { decision: decision.kind, group: decision.group },
  };
}

/** Reverses an instance containment: interfaces, attributes, metadata and tags at once, then Auto Scaling. */
export async function undoInstance(
  ctx: ContainContext,
  undo: InstanceUndo,
): Promise<{ lines: string[]; failures: string[] }> {
  const ec2 = ctx.factory.client(EC2Client, { account: undo.account, region: undo.region });
  const autoscaling = ctx.factory.client(AutoScalingClient, { account: undo.account, region: undo.region });
  const id = undo.instanceId;
  const lines: string[] = [];
  const failures: string[] = [];
  const act = (line: string, run: () => Promise<unknown>) => {
    lines.push(line);
    return ctx.dryRun ? Promise.resolve() : step(failures, line, async () => void (await run()));
  };

  const restoreNetwork = Promise.all(
    undo.interfaces.map((eni) =>
      act(`move interface ${eni.id} back to [${eni.groups.join(", ")}]`, () =>
        ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.id, Groups: eni.groups })),
      ),
    ),
  );
  const restoreTags = undo.tags.filter((t) => t.previous !== null);
  const removeTags = undo.tags.filter((t) => t.previous === null);
  await Promise.all([
    restoreNetwork,
    undo.terminationProtection &&
      act("turn off termination protection", () =>
        ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiTermination: { Value: false } })),
      ),
    undo.stopProtection &&
      act("turn off stop protection", () =>
        ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiStop: { Value: false } })),
      ),
    undo.keptVolumes.length > 0 &&
      act(`delete volumes ${undo.keptVolumes.map((v) => v.volumeId).join(", ")} on termination again`, () =>
        ec2.send(
          new ModifyInstanceAttributeCommand({
            InstanceId: id,
            BlockDeviceMappings: undo.keptVolumes.map((v) => ({
              DeviceName: v.device,
              Ebs: { VolumeId: v.volumeId, DeleteOnTermination: true },
            })),
          }),
        ),
      ),
    undo.httpTokens !== null &&
      act(`set IMDS HttpTokens back to ${undo.httpTokens}`, () =>
        ec2.send(
          new ModifyInstanceMetadataOptionsCommand({
            InstanceId: id,
            HttpTokens: undo.httpTokens === "required" ? "required" : "optional",
          }),
        ),
      ),
    restoreTags.length > 0 &&
      act(`restore tags ${restoreTags.map((t) => t.key).join(", ")}`, () =>
        ec2.send(
          new CreateTagsCommand({
            Resources: [id],
            Tags: restoreTags.map((t) => ({ Key: t.key, Value: t.previous ?? "" })),
          }),
        ),
      ),
    removeTags.length > 0 &&
      act(`remove tags ${removeTags.map((t) => t.key).join(", ")}`, () =>
        ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: removeTags.map((t) => ({ Key: t.key })) })),
      ),
  ]);
  // Back in service only once its network is back, or the load balancer would send traffic into the isolation group.
  const asg = undo.autoScaling;
  if (asg) {
    if (asg.mode === "standby") {
      await act(`move the instance out of Standby in group ${asg.group}`, () =>
        autoscaling.send(new ExitStandbyCommand({ AutoScalingGroupName: asg.group, InstanceIds: [id] })),
      );
    } else {
      await act(`attach the instance to group ${asg.group} again`, () =>
        autoscaling.send(new AttachInstancesCommand({ AutoScalingGroupName: asg.group, InstanceIds: [id] })),
      );
    }
  }
  return { lines, failures };
}
