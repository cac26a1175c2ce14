/**
 * Shared set-up of the containment tests: a seeded landing zone and organisation, the real custody ledger of an opened
 * case, a responder context acting in member account 333333333333, and an "account owner" factory that builds the
 * things to contain.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { AutoScalingClient, CreateAutoScalingGroupCommand } from "@aws-sdk/client-auto-scaling";
import {
  CreateLaunchTemplateCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  type Instance,
} from "@aws-sdk/client-ec2";
import {
  DescribePolicyCommand,
  ListPoliciesCommand,
  ListPoliciesForTargetCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import type { PolicyStatement } from "../../../components/documents/types";
import { ClientFactory, type ClientClass, type ConfigurableClient } from "../../../scripts/aws/clients";
import type { ContainContext } from "../../../scripts/contain/common";
import type { LandingZone } from "../../../scripts/contract";
import { openLedger } from "../../../scripts/custody/ledger";
import type { CustodyLedger } from "../../../scripts/custody/types";
import { seedLandingZone, seedOrganization, SEED_ACCOUNTS } from "../../../scripts/emulator/seed";
import { quarantineDelegationPolicy } from "../../../components/documents/quarantine-delegation";
import { openTestCase } from "../../support/cases";

/** The member account the tests contain things in. */
export const MEMBER = SEED_ACCOUNTS.members[0];
/** Region of the tests. */
export const REGION = "us-east-1";
/** An AMI the emulator knows. */
const AMI = "ami-12c6146b";

/** A case ready for containment. */
export interface ContainWorld {
  readonly lz: LandingZone;
  readonly caseId: string;
  /** The landing-zone contract written to a file, for `--landing-zone`. */
  readonly lzFile: string;
  /** The case's real ledger (S3-backed, signed). */
  readonly ledger: CustodyLedger;
  /** A responder context in the member account. */
  context(dryRun?: boolean): ContainContext;
  /** A client acting in the member account as its owner (builds fixtures, reads state). */
  owner<C extends ConfigurableClient>(Client: ClientClass<C>): C;
  /** A client acting in another account as its administrator (the management account, the forensic account...). */
  adminOf<C extends ConfigurableClient>(Client: ClientClass<C>, account: string): C;
  /** The organisation the emulator holds: every seeded account is a member, the quarantine delegation published. */
  readonly organizationId: string;
  /** Releases every client. */
  close(): void;
}

/**
 * Seeds the emulator (landing zone, organisation with every seeded account, the quarantine delegation to the forensic
 * responder role) and opens the case (record 0 is `case.opened`).
 */
export async function containWorld(caseId = "IR-2026-0042"): Promise<ContainWorld> {
  const seeded = await seedLandingZone();
  const organization = await seedOrganization({
    delegation: ({ organizationId, managementAccountId }) =>
      quarantineDelegationPolicy({
        organizationId,
        managementAccountId,
        responderRoleArn: seeded.forensicResponderRoleArn,
      }),
  });
  const lz = { ...seeded, organizationId: organization.organizationId };
  const dir = mkdtempSync(path.join(tmpdir(), "flz-contain-"));
  const lzFile = path.join(dir, "lz.json");
  writeFileSync(lzFile, JSON.stringify(lz));
  const responder = new ClientFactory({
    caseId,
    forensicRoleArn: lz.forensicResponderRoleArn,
    memberRoleName: lz.memberResponderRoleName,
  });
  const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  const ledger = await openLedger({ factory: responder, landingZone: lz, caseId });
  await openTestCase(ledger);
  return {
    lz,
    caseId,
    lzFile,
    ledger,
    organizationId: organization.organizationId,
    context: (dryRun = false) => ({ factory: responder, ledger, account: MEMBER, region: REGION, dryRun }),
    owner: (Client) => admin.client(Client, { account: MEMBER, region: REGION }),
    adminOf: (Client, account) => admin.client(Client, { account, region: REGION }),
    close: () => {
      responder.destroy();
      admin.destroy();
    },
  };
}

/** A VPC with a subnet and an ordinary application security group. */
export async function network(ec2: EC2Client): Promise<{ vpcId: string; subnetId: string; appGroup: string }> {
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }))).Vpc?.VpcId ?? "";
  const subnetId =
    (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.0.1.0/24" }))).Subnet?.SubnetId ?? "";
  const appGroup =
    (await ec2.send(new CreateSecurityGroupCommand({ GroupName: "app", Description: "app", VpcId: vpcId }))).GroupId ??
    "";
  return { vpcId, subnetId, appGroup };
}

/**
 * Launches an instance with its root volume deleted on termination. Launched with an explicit interface: moto 5.2.1
 * reports an interface's groups as the union with the instance's launch groups (`SecurityGroupIds`), so a group change
 * on the interface would not be visible; with the groups on the interface, moto reports them as AWS does.
 */
export async function launch(ec2: EC2Client, net: { subnetId: string; appGroup: string }): Promise<string> {
  const out = await ec2.send(
    new RunInstancesCommand({
      ImageId: AMI,
      MinCount: 1,
      MaxCount: 1,
      InstanceType: "t3.micro",
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: net.subnetId, Groups: [net.appGroup] }],
      BlockDeviceMappings: [{ DeviceName: "/dev/sda1", Ebs: { VolumeSize: 8, DeleteOnTermination: true } }],
    }),
  );
  return out.Instances?.[0]?.InstanceId ?? "";
}

/** An Auto Scaling group of one instance; returns the group name and its instance. */
export async function autoScalingGroup(
  ec2: EC2Client,
  autoscaling: AutoScalingClient,
  subnetId: string,
  sizes: { min: number; desired: number; max: number },
): Promise<{ group: string; instanceId: string }> {
  await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: "web-lt",
      LaunchTemplateData: { ImageId: AMI, InstanceType: "t3.micro" },
    }),
  );
  const group = "web";
  await autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: group,
      LaunchTemplate: { LaunchTemplateName: "web-lt" },
      MinSize: sizes.min,
      MaxSize: sizes.max,
      DesiredCapacity: sizes.desired,
      VPCZoneIdentifier: subnetId,
    }),
  );
  const instances = await ec2.send(
    new DescribeInstancesCommand({ Filters: [{ Name: "tag:aws:autoscaling:groupName", Values: [group] }] }),
  );
  const instanceId = instances.Reservations?.flatMap((r) => r.Instances ?? [])[0]?.InstanceId ?? "";
  return { group, instanceId };
}

/** What a responder or examiner checks on an instance. */
export interface InstanceState {
  readonly interfaces: Record<string, string[]>;
  readonly disableApiTermination: boolean;
  readonly disableApiStop: boolean;
  readonly deleteOnTermination: Record<string, boolean>;
  readonly httpTokens: string;
  readonly tags: Record<string, string>;
}

/** Reads the state containment changes. */
export async function instanceState(ec2: EC2Client, instanceId: string): Promise<InstanceState> {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = out.Reservations?.[0]?.Instances?.[0] as Instance;
  const [termination, stop] = await Promise.all([
    ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: "disableApiTermination" })),
    ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: "disableApiStop" })),
  ]);
  return {
    interfaces: Object.fromEntries(
      (instance.NetworkInterfaces ?? []).map((n) => [
        n.NetworkInterfaceId ?? "",
        (n.Groups ?? []).map((g) => g.GroupId ?? "").sort(),
      ]),
    ),
    disableApiTermination: termination.DisableApiTermination?.Value === true,
    disableApiStop: stop.DisableApiStop?.Value === true,
    deleteOnTermination: Object.fromEntries(
      (instance.BlockDeviceMappings ?? []).map((b) => [b.Ebs?.VolumeId ?? "", b.Ebs?.DeleteOnTermination === true]),
    ),
    httpTokens: instance.MetadataOptions?.HttpTokens ?? "",
    tags: Object.fromEntries((instance.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])),
  };
}

export { runFlz as runCli } from "../../support/cli";

/** The case's quarantine SCPs of an account as the management account sees them: name, statements, attached. */
export async function quarantinePolicies(
  world: ContainWorld,
  account: string = MEMBER,
): Promise<
  { id: string; name: string; statements: PolicyStatement[]; tags: Record<string, string>; attached: boolean }[]
> {
  const org = world.adminOf(OrganizationsClient, SEED_ACCOUNTS.management);
  const listed = (await org.send(new ListPoliciesCommand({ Filter: "SERVICE_CONTROL_POLICY" }))).Policies ?? [];
  const attached = new Set(
    (
      (await org.send(new ListPoliciesForTargetCommand({ TargetId: account, Filter: "SERVICE_CONTROL_POLICY" })))
        .Policies ?? []
    ).map((p) => p.Id),
  );
  const ours = listed.filter((p) => (p.Name ?? "").startsWith(`flz-quarantine-${account}-${world.caseId}-`));
  return Promise.all(
    ours.map(async (p) => {
      const content = (await org.send(new DescribePolicyCommand({ PolicyId: p.Id }))).Policy?.Content ?? "{}";
      const tags = (await org.send(new ListTagsForResourceCommand({ ResourceId: p.Id }))).Tags ?? [];
      return {
        id: p.Id ?? "",
        name: p.Name ?? "",
        statements: (JSON.parse(content) as { Statement: PolicyStatement[] }).Statement,
        tags: Object.fromEntries(tags.map((t) => [t.Key ?? "", t.Value ?? ""])),
        attached: attached.has(p.Id),
      };
    }),
  );
}
