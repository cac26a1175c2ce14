import { expect } from "chai";
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { containInstance } from "../../../scripts/contain/instance";
import {
  allowsAnything,
  associateAcl,
  describeSubnetAcls,
  isQuarantineAcl,
} from "../../../scripts/contain/network-acl";
import { containmentStatus } from "../../../scripts/contain/status";
import { CASE_TAG, CONTAINMENT_TAG, TRACKED_PATHS_NOTE } from "../../../scripts/contain/instance-plan";
import { undoAction } from "../../../scripts/contain/undo";
import { UsageError } from "../../../scripts/errors";
import { useEmulator } from "../../support/emulator";
import { autoScalingGroup, containWorld, instanceState, launch, MEMBER, network, type ContainWorld } from "./fixtures";

async function containmentGroups(ec2: EC2Client, vpcId: string) {
  const out = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: "tag-key", Values: [CONTAINMENT_TAG] },
        { Name: "vpc-id", Values: [vpcId] },
      ],
    }),
  );
  const byRole = (role: string) =>
    (out.SecurityGroups ?? []).filter((g) => g.Tags?.some((t) => t.Key === CONTAINMENT_TAG && t.Value === role));
  return { allowAll: byRole("allow-all"), isolation: byRole("isolation") };
}

describe("flz contain instance (emulator)", function () {
  this.timeout(30000);
  useEmulator();
  let world: ContainWorld;
  let ec2: EC2Client;
  let autoscaling: AutoScalingClient;
  beforeEach(async () => {
    world = await containWorld();
    ec2 = world.owner(EC2Client);
    autoscaling = world.owner(AutoScalingClient);
  });
  afterEach(() => world.close());

  it("protects the instance, keeps its volumes, requires IMDSv2, tags it and moves every interface into a no-rule group", async () => {
    const net = await network(ec2);
    const id = await launch(ec2, net);
    // A second interface with its own group: every interface must be isolated, not only the primary.
    const eni =
      (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: net.subnetId, Groups: [net.appGroup] })))
        .NetworkInterface?.NetworkInterfaceId ?? "";
    await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni, InstanceId: id, DeviceIndex: 1 }));
    const before = await instanceState(ec2, id);
    expect(before.httpTokens).to.equal("optional");
    expect(Object.values(before.deleteOnTermination)).to.deep.equal([true]);

    const result = await containInstance(world.context(), { instanceId: id });

    const after = await instanceState(ec2, id);
    const groups = await containmentGroups(ec2, net.vpcId);
    expect(groups.isolation).to.have.length(1);
    expect(groups.allowAll).to.have.length(1);
    const isolation = groups.isolation[0];
    expect(isolation.IpPermissions ?? []).to.deep.equal([]);
    expect(isolation.IpPermissionsEgress ?? []).to.deep.equal([]);
    expect(Object.keys(after.interfaces)).to.have.length(2);
    for (const groupsOfInterface of Object.values(after.interfaces))
      expect(groupsOfInterface).to.deep.equal([isolation.GroupId]);
    expect(after.disableApiTermination).to.equal(true);
    expect(after.disableApiStop).to.equal(true);
    expect(Object.values(after.deleteOnTermination)).to.deep.equal([false]);
    expect(after.httpTokens).to.equal("required");
    expect(after.tags[CASE_TAG]).to.equal(world.caseId);
    expect(result.notes).to.include(TRACKED_PATHS_NOTE);
    expect(result.failures).to.deep.equal([]);

    // The record carries what undo needs: both interfaces' previous groups.
    const record = (await world.ledger.records()).at(-1);
    expect(record?.action).to.equal("contain.instance.isolated");
    const saved = (record?.undo?.interfaces as { id: string; groups: string[] | null }[]).map((i) => [i.id, i.groups]);
    expect(Object.fromEntries(saved)).to.deep.equal(before.interfaces);
  });

  it("reuses the VPC's containment groups for the next instance, found by tag", async () => {
    const net = await network(ec2);
    const first = await launch(ec2, net);
    const second = await launch(ec2, net);
    await containInstance(world.context(), { instanceId: first });
    await containInstance(world.context(), { instanceId: second });
    const groups = await containmentGroups(ec2, net.vpcId);
    expect(groups.isolation).to.have.length(1);
    expect(groups.allowAll).to.have.length(1);
    expect(Object.values((await instanceState(ec2, second)).interfaces)[0]).to.deep.equal([
      groups.isolation[0].GroupId,
    ]);
  });

  it("changes nothing and records nothing on a dry run, and says what it would change", async () => {
    const net = await network(ec2);
    const id = await launch(ec2, net);
    const before = await instanceState(ec2, id);
    const recordsBefore = (await world.ledger.records()).length;
    const result = await containInstance(world.context(true), { instanceId: id });
    expect(await instanceState(ec2, id)).to.deep.equal(before);
    expect((await containmentGroups(ec2, net.vpcId)).isolation).to.have.length(0);
    expect((await world.ledger.records()).length).to.equal(recordsBefore);
    const lines = result.changes.map((c) => c.description).join("\n");
    expect(lines)
      .to.match(/termination protection/)
      .and.match(/stop protection/)
      .and.match(/create the isolation containment group/);
    expect(lines).to.contain(`from [${net.appGroup}]`);
  });

  it("is idempotent: a second run changes nothing, and undoing the first run restores the original state", async () => {
    const net = await network(ec2);
    const id = await launch(ec2, net);
    const original = await instanceState(ec2, id);
    const first = await containInstance(world.context(), { instanceId: id });
    const contained = await instanceState(ec2, id);
    const second = await containInstance(world.context(), { instanceId: id });
    expect(second.changes).to.deep.equal([]);
    expect(second.record).to.equal(undefined);
    expect(second.notes[0]).to.match(/is already contained: nothing changed, nothing recorded/);
    expect(await instanceState(ec2, id)).to.deep.equal(contained);
    expect((await world.ledger.records()).map((r) => r.action)).to.deep.equal([
      "case.opened",
      "contain.intent",
      "contain.instance.isolated",
    ]);
    const undone = await undoAction(world.context(), { sequence: first.record?.sequence ?? -1 });
    expect(undone.record?.action).to.equal("contain.undone");
    expect(undone.record?.details?.undoes).to.equal(first.record?.sequence);
    expect(await instanceState(ec2, id)).to.deep.equal(original);

    // Undoing the same record again is reported, not repeated.
    const again = await undoAction(world.context(), { sequence: first.record?.sequence ?? -1 });
    expect(again.changes).to.deep.equal([]);
    expect(again.notes[0]).to.match(/already undone by record/);
  });

  it("puts an Auto Scaling instance in Standby so the group does not replace it, and undo brings it back", async () => {
    const net = await network(ec2);
    const { group, instanceId } = await autoScalingGroup(ec2, autoscaling, net.subnetId, {
      min: 0,
      desired: 1,
      max: 2,
    });
    const result = await containInstance(world.context(), { instanceId });
    const state = await autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
    expect(state.AutoScalingInstances?.[0]?.LifecycleState).to.equal("Standby");
    expect(result.record?.undo?.autoScaling).to.deep.equal({ group, mode: "standby" });

    await undoAction(world.context(), { sequence: result.record?.sequence ?? -1 });
    const back = await autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
    expect(back.AutoScalingInstances?.[0]?.LifecycleState).to.equal("InService");
  });

  it("detaches the instance when Standby would take the group below its minimum size", async () => {
    const net = await network(ec2);
    const { group, instanceId } = await autoScalingGroup(ec2, autoscaling, net.subnetId, {
      min: 1,
      desired: 1,
      max: 2,
    });
    const result = await containInstance(world.context(), { instanceId });
    const groupState = (
      await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }))
    ).AutoScalingGroups?.[0];
    expect((groupState?.Instances ?? []).map((i) => i.InstanceId)).to.not.include(instanceId);
    expect(result.record?.undo?.autoScaling).to.deep.equal({ group, mode: "detached" });
    expect(result.notes.join("\n")).to.match(/detached from Auto Scaling group web/);
  });

  it("with --network-acl, puts the subnet behind a deny-everything ACL, and undo gives it its ACL back", async () => {
    const net = await network(ec2);
    const id = await launch(ec2, net);
    const aclOf = async () => (await describeSubnetAcls(ec2, [net.subnetId])).get(net.subnetId);
    const original = await aclOf();
    const result = await containInstance(world.context(), { instanceId: id, networkAcl: true });
    const quarantined = await aclOf();
    expect(quarantined?.networkAclId).to.not.equal(original?.networkAclId);
    expect(quarantined && isQuarantineAcl(quarantined.acl)).to.equal(true);
    expect(allowsAnything(quarantined?.acl ?? {})).to.equal(false);
    expect(result.record?.undo?.networkAcls).to.deep.equal([
      { subnetId: net.subnetId, networkAclId: original?.networkAclId },
    ]);
    expect(result.record?.details?.targets).to.include(`subnet:${MEMBER}:us-east-1:${net.subnetId}`);
    // Already behind it: a rerun has nothing to do.
    expect((await containInstance(world.context(), { instanceId: id, networkAcl: true })).record).to.equal(undefined);
    await undoAction(world.context(), { sequence: result.record?.sequence ?? -1 });
    expect((await aclOf())?.networkAclId).to.equal(original?.networkAclId);
  });

  it("reports a subnet whose quarantine ACL was swapped out, and protections turned off, in the drift check", async () => {
    const net = await network(ec2);
    const id = await launch(ec2, net);
    const original = (await describeSubnetAcls(ec2, [net.subnetId])).get(net.subnetId)?.networkAclId ?? "";
    await containInstance(world.context(), { instanceId: id, networkAcl: true });
    await associateAcl(ec2, net.subnetId, original);
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiTermination: { Value: false } }));
    const status = await containmentStatus({ factory: world.context().factory, ledger: world.ledger });
    expect(status.containments[0].state).to.equal("drifted");
    expect(status.containments[0].findings).to.have.members([
      `termination protection of ${id} was turned off`,
      `subnet ${net.subnetId} is no longer behind the quarantine network ACL (now ${original})`,
    ]);
  });

  it("refuses an unknown or terminated instance with one clear line, changing nothing", async () => {
    const missing = await containInstance(world.context(), { instanceId: "i-0123456789abcdef0" }).catch(
      (e: unknown) => e,
    );
    expect(missing).to.be.instanceOf(UsageError);
    expect((missing as Error).message).to.equal(
      "instance i-0123456789abcdef0 does not exist in account 333333333333 region us-east-1: check --instance, --account and --region",
    );

    const net = await network(ec2);
    const id = await launch(ec2, net);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    const gone = await containInstance(world.context(), { instanceId: id }).catch((e: unknown) => e);
    expect(gone).to.be.instanceOf(UsageError);
    expect((gone as Error).message).to.match(/is terminated: there is nothing left to contain/);
    expect((await world.ledger.records()).map((r) => r.action)).to.deep.equal(["case.opened"]);
  });
});
