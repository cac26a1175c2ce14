/**
 * Paths the emulator cannot produce (an interface in no security group, Auto Scaling refusing Standby, EC2 failing
 * between the two moves), covered with aws-sdk-client-mock around the real calls.
 */
import { expect } from "chai";
import { mockClient, type AwsStub } from "aws-sdk-client-mock";
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  EnterStandbyCommand,
  type AutoScalingClientResolvedConfig,
  type ServiceInputTypes as AutoScalingInputs,
  type ServiceOutputTypes as AutoScalingOutputs,
} from "@aws-sdk/client-auto-scaling";
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  ModifyNetworkInterfaceAttributeCommand,
  type EC2ClientResolvedConfig,
  type Instance,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from "@aws-sdk/client-ec2";
import { ClientFactory } from "../../../scripts/aws/clients";
import type { ContainContext } from "../../../scripts/contain/common";
import { containInstance, undoInstance, type InstanceUndo } from "../../../scripts/contain/instance";
import { CONTAINMENT_TAG } from "../../../scripts/contain/instance-plan";
import { OperationError, UsageError } from "../../../scripts/errors";
import { MemoryLedger } from "./memory-ledger";

const ID = "i-0123456789abcdef0";

function instance(overrides: Partial<Instance> = {}): Instance {
  return {
    InstanceId: ID,
    State: { Name: "running" },
    VpcId: "vpc-1",
    NetworkInterfaces: [
      { NetworkInterfaceId: "eni-1", Groups: [{ GroupId: "sg-app" }], Attachment: { DeviceIndex: 0 } },
    ],
    BlockDeviceMappings: [],
    MetadataOptions: { HttpTokens: "required" },
    Tags: [],
    ...overrides,
  };
}

const existingGroups = {
  SecurityGroups: [
    {
      GroupId: "sg-allow",
      VpcId: "vpc-1",
      Tags: [{ Key: CONTAINMENT_TAG, Value: "allow-all" }],
      IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }], Ipv6Ranges: [{ CidrIpv6: "::/0" }] }],
      IpPermissionsEgress: [
        { IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }], Ipv6Ranges: [{ CidrIpv6: "::/0" }] },
      ],
    },
    {
      GroupId: "sg-iso",
      VpcId: "vpc-1",
      Tags: [{ Key: CONTAINMENT_TAG, Value: "isolation" }],
      IpPermissions: [],
      IpPermissionsEgress: [],
    },
  ],
};

describe("flz contain instance where the emulator cannot go (aws-sdk-client-mock)", () => {
  // Created in before(), not at load time: mocha loads every spec file before running any, and a class-wide mock
  // made while loading would also stub the emulator suites' clients.
  let ec2: AwsStub<ServiceInputTypes, ServiceOutputTypes, EC2ClientResolvedConfig>;
  let autoscaling: AwsStub<AutoScalingInputs, AutoScalingOutputs, AutoScalingClientResolvedConfig>;
  let ledger: MemoryLedger;
  let factory: ClientFactory;
  let ctx: ContainContext;

  before(() => {
    ec2 = mockClient(EC2Client);
    autoscaling = mockClient(AutoScalingClient);
  });
  beforeEach(() => {
    ec2.reset();
    autoscaling.reset();
    ledger = new MemoryLedger("IR-1");
    factory = new ClientFactory({
      caseId: "IR-1",
      memberRoleName: "FlzMemberResponder",
      credentials: async () => ({ accessKeyId: "x", secretAccessKey: "y" }),
    });
    ctx = { factory, ledger, account: "333333333333", region: "eu-west-1", dryRun: false };
    ec2
      .on(DescribeInstanceAttributeCommand)
      .resolves({ DisableApiTermination: { Value: true }, DisableApiStop: { Value: true } });
    ec2.on(DescribeSecurityGroupsCommand).resolves(existingGroups);
    autoscaling.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [] });
  });
  afterEach(() => factory.destroy());
  after(() => {
    ec2.restore();
    autoscaling.restore();
  });

  it("refuses an instance with an interface in no security group, before changing anything", async () => {
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [instance({ NetworkInterfaces: [{ NetworkInterfaceId: "eni-1", Groups: [] }] })] }],
    });
    const err = await containInstance(ctx, { instanceId: ID }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UsageError);
    expect((err as Error).message).to.match(/has a network interface in no security group .* network ACL/);
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand)).to.have.length(0);
    expect(ledger.stored).to.have.length(0);
  });

  it("detaches the instance when Auto Scaling refuses Standby after the sizes were read", async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance()] }] });
    autoscaling.on(DescribeAutoScalingInstancesCommand).resolves({
      AutoScalingInstances: [{ InstanceId: ID, AutoScalingGroupName: "web", LifecycleState: "InService" } as never],
    });
    autoscaling
      .on(DescribeAutoScalingGroupsCommand)
      .resolves({ AutoScalingGroups: [{ AutoScalingGroupName: "web", MinSize: 1, DesiredCapacity: 3 } as never] });
    autoscaling
      .on(EnterStandbyCommand)
      .rejects(Object.assign(new Error("desired capacity below min size"), { name: "ValidationError" }));
    autoscaling.on(DetachInstancesCommand).resolves({});
    const result = await containInstance(ctx, { instanceId: ID });
    const detach = autoscaling.commandCalls(DetachInstancesCommand);
    expect(detach).to.have.length(1);
    expect(detach[0].args[0].input).to.deep.equal({
      AutoScalingGroupName: "web",
      InstanceIds: [ID],
      ShouldDecrementDesiredCapacity: false,
    });
    expect(result.record?.undo?.autoScaling).to.deep.equal({ group: "web", mode: "detached" });
    expect(result.failures).to.deep.equal([]);
  });

  it("never leaves an interface in the allow-all group: a failed move to isolation puts its own groups back, and is recorded as failed", async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance()] }] });
    ec2.on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: "eni-1", Groups: ["sg-allow"] }).resolves({});
    ec2
      .on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: "eni-1", Groups: ["sg-iso"] })
      .rejects(Object.assign(new Error("boom"), { name: "InternalError" }));
    ec2.on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: "eni-1", Groups: ["sg-app"] }).resolves({});
    const result = await containInstance(ctx, { instanceId: ID });
    const calls = ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input);
    // First the timeouts, then the two moves, then back to its own groups.
    expect(calls[0].ConnectionTrackingSpecification).to.deep.equal({
      TcpEstablishedTimeout: 60,
      UdpStreamTimeout: 60,
      UdpTimeout: 30,
    });
    expect(calls.slice(1).map((c) => c.Groups)).to.deep.equal([["sg-allow"], ["sg-iso"], ["sg-app"]]);
    expect(result.failures?.[0]).to.match(/^isolate interface eni-1: InternalError: boom/);
    expect(ledger.stored.map((r) => [r.action, r.outcome])).to.deep.equal([
      ["contain.intent", undefined],
      ["contain.instance.isolated", "failed"],
    ]);
  });

  it("sets each interface's connection-tracking timeouts to the minimum before the swap, and undo restores them", async () => {
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            instance({
              NetworkInterfaces: [
                {
                  NetworkInterfaceId: "eni-1",
                  Groups: [{ GroupId: "sg-app" }],
                  Attachment: { DeviceIndex: 0 },
                  ConnectionTrackingConfiguration: {
                    TcpEstablishedTimeout: 3600,
                    UdpStreamTimeout: 120,
                    UdpTimeout: 45,
                  },
                },
              ],
            }),
          ],
        },
      ],
    });
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    const result = await containInstance(ctx, { instanceId: ID });
    expect(result.record?.undo?.interfaces).to.deep.equal([
      {
        id: "eni-1",
        groups: ["sg-app"],
        connectionTracking: { tcpEstablishedTimeout: 3600, udpStreamTimeout: 120, udpTimeout: 45 },
      },
    ]);
    ec2.resetHistory();
    await undoInstance(ctx, result.record?.undo as unknown as InstanceUndo);
    const restored = ec2
      .commandCalls(ModifyNetworkInterfaceAttributeCommand)
      .map((c) => c.args[0].input.ConnectionTrackingSpecification)
      .filter((c) => c !== undefined);
    expect(restored).to.deep.equal([{ TcpEstablishedTimeout: 3600, UdpStreamTimeout: 120, UdpTimeout: 45 }]);
  });

  it("restores EC2's documented default timeouts on undo when the interface reported none", async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance()] }] });
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    const result = await containInstance(ctx, { instanceId: ID });
    ec2.resetHistory();
    await undoInstance(ctx, result.record?.undo as unknown as InstanceUndo);
    const restored = ec2
      .commandCalls(ModifyNetworkInterfaceAttributeCommand)
      .map((c) => c.args[0].input.ConnectionTrackingSpecification)
      .filter((c) => c !== undefined);
    expect(restored).to.deep.equal([{ TcpEstablishedTimeout: 432000, UdpStreamTimeout: 180, UdpTimeout: 30 }]);
  });

  it("changes nothing when the ledger refuses the intent", async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance()] }] });
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    ledger.append = () => Promise.reject(Object.assign(new Error("Access Denied"), { name: "AccessDenied" }));
    const err = await containInstance(ctx, { instanceId: ID }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(OperationError);
    expect((err as Error).message).to.equal(
      "the intent of contain.instance.isolated could not be recorded in the ledger of case IR-1 (AccessDenied: Access Denied); nothing was changed",
    );
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand)).to.have.length(0);
    expect(ec2.commandCalls(ModifyInstanceAttributeCommand)).to.have.length(0);
  });

  it("names the intent to undo from when the ledger refuses the completion of changes already made", async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance()] }] });
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    const append = ledger.append.bind(ledger);
    ledger.append = (event) =>
      event.action === "contain.intent"
        ? append(event)
        : Promise.reject(Object.assign(new Error("Access Denied"), { name: "AccessDenied" }));
    const err = await containInstance(ctx, { instanceId: ID }).catch((e: unknown) => e);
    expect((err as Error).message).to.equal(
      "contain.instance.isolated was applied but its completion could not be recorded in the ledger of case IR-1 (AccessDenied: Access Denied); its intent is record 0: rerun the command to record it, or undo it with flz contain undo --case IR-1 --action 0",
    );
    // The intent holds what undo needs: the interface's previous groups.
    expect(ledger.stored[0].undo?.interfaces).to.deep.equal([
      { id: "eni-1", groups: ["sg-app"], connectionTracking: null },
    ]);
  });

  it("repairs the containment groups one rule set at a time, taking a rule already added or removed as done", async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance()] }] });
    ec2.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [
        {
          GroupId: "sg-allow",
          VpcId: "vpc-1",
          Tags: [{ Key: CONTAINMENT_TAG, Value: "allow-all" }],
          IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
          IpPermissionsEgress: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
        },
        {
          GroupId: "sg-iso",
          VpcId: "vpc-1",
          Tags: [{ Key: CONTAINMENT_TAG, Value: "isolation" }],
          IpPermissions: [],
          IpPermissionsEgress: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
        },
      ],
    });
    // What an interrupted run left: its changes landed after this run read the groups.
    const duplicate = Object.assign(new Error("The specified rule already exists"), {
      name: "InvalidPermission.Duplicate",
    });
    const gone = Object.assign(new Error("The specified rule does not exist"), { name: "InvalidPermission.NotFound" });
    ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(duplicate);
    ec2.on(AuthorizeSecurityGroupEgressCommand).rejects(duplicate);
    ec2.on(RevokeSecurityGroupEgressCommand).rejects(gone);
    ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    const result = await containInstance(ctx, { instanceId: ID });
    expect(result.failures).to.deep.equal([]);
    expect(
      ec2.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input.IpPermissions),
    ).to.deep.equal([[{ IpProtocol: "-1", Ipv6Ranges: [{ CidrIpv6: "::/0" }] }]]);
    const groups = ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input.Groups);
    expect(groups.filter((g) => g !== undefined)).to.deep.equal([["sg-allow"], ["sg-iso"]]);
  });

  it("leaves an interface already in the isolation group alone", async () => {
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            instance({ NetworkInterfaces: [{ NetworkInterfaceId: "eni-1", Groups: [{ GroupId: "sg-iso" }] }] }),
          ],
        },
      ],
    });
    const result = await containInstance(ctx, { instanceId: ID });
    expect(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand)).to.have.length(0);
    expect(result.changes.map((c) => c.description).join("\n")).to.not.contain("interface");
    expect(result.record?.undo?.interfaces).to.deep.equal([]);
  });
});
