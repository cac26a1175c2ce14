/**
 * `contain instance`: the AWS calls around the decisions of `instance-plan.ts`, with write-ahead intent.
 *
 * Shape of the run (the benchmark measures it): one round of independent reads; the intent recorded (the state before,
 * and the undo that restores it); then independent branches that do not wait for each other: protection
 * (termination, stop, volumes kept, IMDSv2, tags), Auto Scaling (Standby or detach), the capture, network isolation
 * (containment groups ready, then every interface: connection-tracking timeouts to the minimum, the allow-all group,
 * the isolation group) and, with `--network-acl`, the subnets' quarantine ACL; last, the completion record.
 *
 * A rerun after a crash finds the open intent and keeps its "before": an interface left in the allow-all group
 * between the two moves is isolated, and its original groups stay those the intent saved.
 */
import { AutoScalingClient, DetachInstancesCommand, EnterStandbyCommand } from "@aws-sdk/client-auto-scaling";
import {
  CreateTagsCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  ModifyInstanceMetadataOptionsCommand,
  ModifyNetworkInterfaceAttributeCommand,
} from "@aws-sdk/client-ec2";
import type { CustodyRecord, JsonValue } from "../custody/types";
import { describeError, OperationError, UsageError } from "../errors";
import { awsErrorName, instanceTarget, subnetTarget, type ContainContext, type ContainResult } from "./common";
import {
  INTENT_ACTION,
  completes,
  intentFor,
  recordCompletion,
  recordIntent,
  targetsOf,
  toJsonObject,
  undoneBy,
} from "./intent";
import {
  decideAutoScaling,
  describePlan,
  MIN_CONNECTION_TRACKING,
  planInstance,
  TRACKED_PATHS_NOTE,
  type AutoScalingDecision,
  type InstancePlan,
} from "./instance-plan";
import {
  describeAutoScaling,
  describeContainmentGroups,
  describeFlag,
  describeInstance,
  readyGroup,
} from "./instance-read";
import { isInstanceUndo, type InstanceUndo } from "./instance-undo";
import { associateAcl, describeSubnetAcls, isQuarantineAcl, quarantineAcl } from "./network-acl";

export { isInstanceUndo, undoInstance, type InstanceUndo } from "./instance-undo";

/** Ledger action of an instance containment. */
export const INSTANCE_ACTION = "contain.instance.isolated";

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
  /** Also put the instance's subnets behind a deny-everything network ACL (`--network-acl`). */
  readonly networkAcl?: boolean;
  /** Clock, for tests. */
  readonly now?: Date;
}

/** Runs a step, turning its failure into one recorded line instead of stopping the other steps. */
async function step(failures: string[], name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    failures.push(`${name}: ${describeError(err)}`);
  }
}

/**
 * The open intent of a containment of this instance: an instance intent naming the instance that nothing completed
 * or undid. Matched on the instance alone, so a rerun that adds `--network-acl` still finishes the interrupted run.
 */
export function openInstanceIntent(records: readonly CustodyRecord[], target: string): CustodyRecord | undefined {
  return records
    .filter(
      (r) =>
        r.action === INTENT_ACTION &&
        intentFor(r) === INSTANCE_ACTION &&
        targetsOf(r).includes(target) &&
        !records.some((c) => completes(c, r.sequence)) &&
        undoneBy(records, [r.sequence]) === undefined,
    )
    .pop();
}

/** The undo that restores the state before a plan (what the intent records before anything changes). */
export function instanceUndoFor(
  ctx: ContainContext,
  plan: InstancePlan,
  decision: AutoScalingDecision,
  acls: { subnetId: string; networkAclId: string }[],
): InstanceUndo {
  return {
    kind: "instance",
    account: ctx.account,
    region: ctx.region,
    instanceId: plan.instanceId,
    interfaces: plan.interfaces.map((i) => ({ id: i.id, groups: i.groups, connectionTracking: i.connectionTracking })),
    terminationProtection: plan.enableTerminationProtection,
    stopProtection: plan.enableStopProtection,
    keptVolumes: [...plan.keepVolumes],
    httpTokens: plan.requireImdsV2From ?? null,
    tags: plan.tags.map((t) => ({ key: t.key, previous: t.previous })),
    autoScaling:
      decision.kind === "standby" || decision.kind === "detach"
        ? { group: decision.group, mode: decision.kind === "standby" ? "standby" : "detached" }
        : null,
    networkAcls: acls,
  };
}

/** An interrupted run's undo, completed with what a rerun adds (interfaces or subnets the first run did not plan). */
function mergeUndo(first: InstanceUndo, rerun: InstanceUndo): InstanceUndo {
  return {
    ...first,
    interfaces: [...first.interfaces, ...rerun.interfaces.filter((i) => !first.interfaces.some((f) => f.id === i.id))],
    networkAcls: [
      ...(first.networkAcls ?? []),
      ...(rerun.networkAcls ?? []).filter((n) => !(first.networkAcls ?? []).some((f) => f.subnetId === n.subnetId)),
    ],
    autoScaling: first.autoScaling ?? rerun.autoScaling,
  };
}

/** Contains an instance; see the module comment for the order and what runs in parallel. */
export async function containInstance(ctx: ContainContext, args: ContainInstanceArgs): Promise<ContainResult> {
  const id = requireInstanceId(args.instanceId);
  const now = args.now ?? new Date();
  const ec2 = ctx.factory.client(EC2Client, { account: ctx.account, region: ctx.region });
  const autoscaling = ctx.factory.client(AutoScalingClient, { account: ctx.account, region: ctx.region });

  // One round of independent reads (the Auto Scaling read, two calls long, runs on beside the rest).
  const asgRead = describeAutoScaling(autoscaling, id);
  asgRead.catch(() => undefined); // observed below; keeps an early failure elsewhere from leaving it unhandled
  const [instance, disableApiTermination, disableApiStop, groups, records] = await Promise.all([
    describeInstance(ctx, ec2, id),
    describeFlag(ctx, ec2, id, "disableApiTermination"),
    describeFlag(ctx, ec2, id, "disableApiStop"),
    describeContainmentGroups(ec2),
    ctx.ledger.records(),
  ]);
  const subnetIds = args.networkAcl
    ? [...new Set(instance.interfaces.map((i) => i.subnetId).filter((s): s is string => s !== undefined))]
    : [];
  const acls = await describeSubnetAcls(ec2, subnetIds);
  const toQuarantine = subnetIds.filter((s) => {
    const current = acls.get(s);
    return current !== undefined && !isQuarantineAcl(current.acl);
  });
  const plan = planInstance({ ...instance, disableApiTermination, disableApiStop }, groups, ctx.ledger.caseId, now, {
    subnets: toQuarantine,
  });
  const decision = decideAutoScaling(await asgRead);
  const notes = [TRACKED_PATHS_NOTE];
  if (decision.kind !== "none" && decision.kind !== "standby") notes.unshift(decision.reason);
  const target = instanceTarget(ctx.account, ctx.region, id);
  const open = openInstanceIntent(records, target);
  if (open) notes.unshift(`completing record ${open.sequence}, an interrupted containment of ${id}`);
  const changes = describePlan(plan, decision, args.startCapture !== undefined);

  if (ctx.dryRun)
    return { action: INSTANCE_ACTION, dryRun: true, changes, notes, details: planDetails(plan, decision) };
  if (changes.length === 0 && !open) {
    // As with the other actions: nothing changed, so there is nothing to record or undo.
    notes.unshift(`instance ${id} is already contained: nothing changed, nothing recorded`);
    return {
      action: INSTANCE_ACTION,
      dryRun: false,
      changes,
      notes,
      details: planDetails(plan, decision),
      failures: [],
    };
  }

  const fresh = instanceUndoFor(
    ctx,
    plan,
    decision,
    plan.subnets.map((subnetId) => ({ subnetId, networkAclId: acls.get(subnetId)?.networkAclId ?? "" })),
  );
  const undo = open && isInstanceUndo(open.undo) ? mergeUndo(open.undo, fresh) : fresh;
  const targets = [target, ...(undo.networkAcls ?? []).map((n) => subnetTarget(ctx.account, ctx.region, n.subnetId))];
  const intent =
    open ??
    (await recordIntent(ctx.ledger, {
      action: INSTANCE_ACTION,
      subjects: [id, ...plan.interfaces.map((i) => i.id), ...plan.keepVolumes.map((v) => v.volumeId)],
      targets,
      account: ctx.account,
      region: ctx.region,
      before: toJsonObject({ instance: { ...instance, disableApiTermination, disableApiStop } }),
      plan: { changes: changes.map((c) => c.description) },
      identifiers: { containmentGroupTag: "flz:containment", networkAclTag: "flz:containment=subnet-quarantine" },
      undo: toJsonObject(undo),
    }));

  const failures: string[] = [];
  const capture = args.startCapture?.();
  capture?.catch(() => undefined); // the command awaits it (and reports its failure) after containment
  let isolation: { allowAllId?: string; isolationId?: string } = {};
  let autoScalingMode: string | null = null;

  await Promise.all([
    plan.enableTerminationProtection &&
      step(failures, "termination protection", async () => {
        await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiTermination: { Value: true } }));
      }),
    plan.enableStopProtection &&
      step(failures, "stop protection", async () => {
        await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiStop: { Value: true } }));
      }),
    plan.keepVolumes.length > 0 &&
      step(failures, "keep volumes on termination", async () => {
        const mappings = plan.keepVolumes.map((v) => ({
          DeviceName: v.device,
          Ebs: { VolumeId: v.volumeId, DeleteOnTermination: false },
        }));
        await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, BlockDeviceMappings: mappings }));
      }),
    step(failures, "Auto Scaling", async () => {
      const result = await leaveAutoScaling(autoscaling, id, decision);
      autoScalingMode = result.mode;
      if (result.note) notes.unshift(result.note);
    }),
    isolate(ec2, plan, failures).then((r) => {
      isolation = r;
    }),
    plan.subnets.length > 0 &&
      step(failures, "subnet network ACL", async () => {
        const aclId = await quarantineAcl(ec2, plan.vpcId, ctx.ledger.caseId);
        await Promise.all(plan.subnets.map((subnet) => associateAcl(ec2, subnet, aclId)));
      }),
    plan.requireImdsV2From !== undefined &&
      step(failures, "require IMDSv2", async () => {
        await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: "required" }));
      }),
    plan.tags.length > 0 &&
      step(failures, "case tags", async () => {
        await ec2.send(
          new CreateTagsCommand({ Resources: [id], Tags: plan.tags.map((t) => ({ Key: t.key, Value: t.value })) }),
        );
      }),
  ]);

  // Standby can turn into a detach (the group changed in between): the undo must reattach then.
  const finalUndo: InstanceUndo =
    autoScalingMode === "detached" && undo.autoScaling
      ? { ...undo, autoScaling: { group: undo.autoScaling.group, mode: "detached" } }
      : undo;
  const details: { [key: string]: JsonValue } = {
    ...planDetails(plan, decision),
    containmentGroups: { allowAll: isolation.allowAllId ?? null, isolation: isolation.isolationId ?? null },
    capture: capture ? "started" : null,
    failures,
  };
  const record = await recordCompletion(ctx.ledger, intent, {
    action: INSTANCE_ACTION,
    subjects: [id, ...plan.interfaces.map((i) => i.id), ...plan.keepVolumes.map((v) => v.volumeId)],
    details: { ...details, account: ctx.account, region: ctx.region, targets },
    undo: toJsonObject(finalUndo),
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
    connectionTracking: MIN_CONNECTION_TRACKING,
    subnets: plan.subnets,
    autoScaling: decision.kind === "none" ? null : { decision: decision.kind, group: decision.group },
  };
}

/**
 * Groups ready (both, so no interface is ever left in the allow-all group alone), then every interface: minimum
 * connection-tracking timeouts, allow-all (tracked flows become untracked), isolation (untracked flows end).
 */
async function isolate(
  ec2: EC2Client,
  plan: InstancePlan,
  failures: string[],
): Promise<{ allowAllId?: string; isolationId?: string }> {
  let ids: [string, string] | undefined;
  await step(failures, "containment groups", async () => {
    ids = await Promise.all([
      readyGroup(ec2, plan.vpcId, plan.allowAllGroup),
      readyGroup(ec2, plan.vpcId, plan.isolationGroup),
    ]);
  });
  if (!ids) return {};
  const [allowAllId, isolationId] = ids;
  const min = MIN_CONNECTION_TRACKING;
  await Promise.all(
    plan.interfaces.map((eni) =>
      step(failures, `isolate interface ${eni.id}`, async () => {
        try {
          await ec2.send(
            new ModifyNetworkInterfaceAttributeCommand({
              NetworkInterfaceId: eni.id,
              ConnectionTrackingSpecification: {
                TcpEstablishedTimeout: min.tcpEstablishedTimeout,
                UdpStreamTimeout: min.udpStreamTimeout,
                UdpTimeout: min.udpTimeout,
              },
            }),
          );
        } catch (err) {
          // Not every interface type takes timeouts; the swap must still happen, the failure is reported.
          failures.push(`connection-tracking timeouts of ${eni.id}: ${describeError(err)}`);
        }
        await ec2.send(
          new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.id, Groups: [allowAllId] }),
        );
        try {
          await ec2.send(
            new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.id, Groups: [isolationId] }),
          );
        } catch (err) {
          // Never leave an interface open to everything: fall back to its own groups (or, when those are unknown,
          // try isolation once more) and report the failure.
          const fallback = eni.groups ?? [isolationId];
          await ec2
            .send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.id, Groups: fallback }))
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
): Promise<{ mode: "standby" | "detached" | null; note?: string }> {
  if (decision.kind === "none") return { mode: null };
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
      return { mode: "standby" };
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
  return {
    mode: "detached",
    note: `detached from Auto Scaling group ${decision.group}; the group launches a replacement`,
  };
}
