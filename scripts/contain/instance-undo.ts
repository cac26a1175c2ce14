/**
 * Undo of `contain instance`: puts back what the instance had before containment began (the intent's "before"), step
 * by step, each step tolerant of a state that is already the one wanted (a step an interrupted run never reached).
 */
import { AttachInstancesCommand, AutoScalingClient, ExitStandbyCommand } from "@aws-sdk/client-auto-scaling";
import {
  CreateTagsCommand,
  DeleteTagsCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  ModifyInstanceMetadataOptionsCommand,
  ModifyNetworkInterfaceAttributeCommand,
} from "@aws-sdk/client-ec2";
import { describeError } from "../errors";
import { awsErrorName, type ContainContext } from "./common";
import { DEFAULT_CONNECTION_TRACKING, type ConnectionTracking } from "./instance-plan";
import { associateAcl } from "./network-acl";

/** Undo information of an instance containment: the state before it, for everything it changes. */
export interface InstanceUndo {
  readonly kind: "instance";
  readonly account: string;
  readonly region: string;
  readonly instanceId: string;
  /**
   * Interfaces moved, with the groups they had (null: they were in a containment group of ours, the original is
   * unknown, and undo leaves them) and their connection-tracking timeouts (null: EC2 reported none, the defaults).
   */
  interfaces: { id: string; groups: string[] | null; connectionTracking?: ConnectionTracking | null }[];
  /** Termination protection is switched on (it was off). */
  terminationProtection: boolean;
  /** Stop protection is switched on (it was off). */
  stopProtection: boolean;
  /** Volumes whose delete-on-termination flag is cleared (it was set). */
  keptVolumes: { device: string; volumeId: string }[];
  /** Previous IMDS `HttpTokens`, when containment requires IMDSv2. */
  httpTokens: string | null;
  /** Tags set, with their previous values (null: absent). */
  tags: { key: string; previous: string | null }[];
  /** What is done in Auto Scaling. */
  autoScaling: { group: string; mode: "standby" | "detached" } | null;
  /** Subnets put behind the quarantine network ACL, with the ACL each had before. */
  networkAcls?: { subnetId: string; networkAclId: string }[];
}

/** Type guard for recorded undo information. */
export function isInstanceUndo(value: unknown): value is InstanceUndo {
  const v = value as Partial<InstanceUndo> | undefined;
  return v?.kind === "instance" && typeof v.instanceId === "string" && Array.isArray(v.interfaces);
}

async function step(failures: string[], name: string, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (err) {
    failures.push(`${name}: ${describeError(err)}`);
  }
}

/** Auto Scaling's answer when the instance is not in the state the call expects (already out of Standby, attached). */
const alreadyThere = (err: unknown): void => {
  if (awsErrorName(err) !== "ValidationError") throw err;
};

/** Reverses an instance containment: network, attributes, metadata and tags at once, then Auto Scaling. */
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
    return ctx.dryRun ? Promise.resolve() : step(failures, line, run);
  };

  const restoreNetwork = Promise.all([
    ...undo.interfaces.map(async (eni) => {
      if (eni.groups === null) {
        lines.push(
          `leave interface ${eni.id} in the isolation group: it was in a containment group before this case, its original groups are unknown`,
        );
      } else {
        const groups = eni.groups;
        await act(`move interface ${eni.id} back to [${groups.join(", ")}]`, () =>
          ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.id, Groups: groups })),
        );
      }
      if (eni.connectionTracking !== undefined) {
        const timeouts = { ...DEFAULT_CONNECTION_TRACKING, ...(eni.connectionTracking ?? {}) };
        await act(
          `set connection-tracking timeouts of interface ${eni.id} back to TCP ${timeouts.tcpEstablishedTimeout} s, UDP stream ${timeouts.udpStreamTimeout} s, UDP ${timeouts.udpTimeout} s`,
          () =>
            ec2.send(
              new ModifyNetworkInterfaceAttributeCommand({
                NetworkInterfaceId: eni.id,
                ConnectionTrackingSpecification: {
                  TcpEstablishedTimeout: timeouts.tcpEstablishedTimeout,
                  UdpStreamTimeout: timeouts.udpStreamTimeout,
                  UdpTimeout: timeouts.udpTimeout,
                },
              }),
            ),
        );
      }
    }),
    ...(undo.networkAcls ?? []).map((entry) =>
      act(`associate subnet ${entry.subnetId} with its network ACL ${entry.networkAclId} again`, () =>
        associateAcl(ec2, entry.subnetId, entry.networkAclId),
      ),
    ),
  ]);
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
        autoscaling
          .send(new ExitStandbyCommand({ AutoScalingGroupName: asg.group, InstanceIds: [id] }))
          // An interrupted run may have detached it instead (Standby refused): attach it then.
          .catch(() =>
            autoscaling.send(new AttachInstancesCommand({ AutoScalingGroupName: asg.group, InstanceIds: [id] })),
          )
          .catch(alreadyThere),
      );
    } else {
      await act(`attach the instance to group ${asg.group} again`, () =>
        autoscaling
          .send(new AttachInstancesCommand({ AutoScalingGroupName: asg.group, InstanceIds: [id] }))
          .catch(alreadyThere),
      );
    }
  }
  return { lines, failures };
}
