/**
 * The member accounts of the seeded organisation and their keys: `gappy` (a deliberate gap of every account and region
 * kind), `clean` (none) and `locked` (its investigator role cannot be assumed).
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  PutRetentionPolicyCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  CreateFlowLogsCommand,
  CreateLaunchTemplateCommand,
  CreateVpcCommand,
  DescribeVpcsCommand,
  EC2Client,
  EnableEbsEncryptionByDefaultCommand,
  ModifyEbsDefaultKmsKeyIdCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { CreateDetectorCommand, GuardDutyClient } from "@aws-sdk/client-guardduty";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateKeyCommand, EnableKeyRotationCommand, KMSClient, PutKeyPolicyCommand } from "@aws-sdk/client-kms";
import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import {
  AssociateResolverQueryLogConfigCommand,
  CreateResolverQueryLogConfigCommand,
  Route53ResolverClient,
} from "@aws-sdk/client-route53resolver";
import { EnableSecurityHubCommand, SecurityHubClient } from "@aws-sdk/client-securityhub";
import { memberRoleTrust } from "../../../components/documents";
import { ClientFactory, type Placement } from "../../../scripts/aws/clients";
import type { LandingZone } from "../../../scripts/contract";
import { AMI, json, MANAGEMENT, REGIONS, type AssessWorld } from "./fixtures-world";

export async function organisation(
  admin: ClientFactory,
): Promise<{ forensic: string; gappy: string; clean: string; locked: string; root: string }> {
  const org = admin.client(OrganizationsClient, { account: MANAGEMENT, region: "us-east-1" });
  await org.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }));
  const root = (await org.send(new ListRootsCommand({}))).Roots?.[0]?.Id ?? "";
  const create = async (name: string) =>
    (await org.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }))).CreateAccountStatus
      ?.AccountId ?? "";
  const forensic = await create("forensic");
  const gappy = await create("gappy");
  const clean = await create("clean");
  const locked = await create("locked");
  const ou =
    (await org.send(new CreateOrganizationalUnitCommand({ ParentId: root, Name: "Workloads" }))).OrganizationalUnit
      ?.Id ?? "";
  for (const account of [gappy, clean, locked])
    await org.send(new MoveAccountCommand({ AccountId: account, SourceParentId: root, DestinationParentId: ou }));
  return { forensic, gappy, clean, locked, root };
}

export async function key(
  kms: KMSClient,
  spec: "SYMMETRIC_DEFAULT" | "ECC_NIST_P256",
  policy: unknown,
  rotate: boolean,
): Promise<string> {
  const k = await kms.send(
    new CreateKeyCommand({ KeySpec: spec, KeyUsage: spec === "SYMMETRIC_DEFAULT" ? "ENCRYPT_DECRYPT" : "SIGN_VERIFY" }),
  );
  const arn = k.KeyMetadata?.Arn ?? "";
  await kms.send(new PutKeyPolicyCommand({ KeyId: arn, PolicyName: "default", Policy: json(policy) }));
  if (rotate) await kms.send(new EnableKeyRotationCommand({ KeyId: arn }));
  return arn;
}

/** A key policy letting the account's IAM policies use the key (the console default). */
function accountKeyPolicy(account: string): unknown {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Root",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: "kms:*",
        Resource: "*",
      },
    ],
  };
}

/** A key policy that names one unrelated role only: the account's responder cannot use it. */
function closedKeyPolicy(account: string): unknown {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "OnlyApp",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${account}:role/app` },
        Action: "kms:*",
        Resource: "*",
      },
    ],
  };
}

export async function member(
  admin: ClientFactory,
  account: string,
  lz: LandingZone,
  ready: boolean,
  world: { vpcs: Record<string, string[]>; instances: AssessWorld["instances"]; volumeKeys: Record<string, string> },
): Promise<string> {
  const iam = admin.client(IAMClient, { account, region: "us-east-1" });
  if (ready)
    await iam.send(
      new CreateRoleCommand({
        RoleName: lz.memberResponderRoleName,
        AssumeRolePolicyDocument: json(memberRoleTrust({ forensicRoleArn: lz.forensicResponderRoleArn })),
      }),
    );
  await iam.send(
    new CreateRoleCommand({
      RoleName: lz.memberInvestigatorRoleName,
      AssumeRolePolicyDocument: json(memberRoleTrust({ forensicRoleArn: lz.forensicInvestigatorRoleArn })),
    }),
  );
  let shortLogGroup = "";
  for (const region of REGIONS) {
    const at: Placement = { account, region };
    const ec2 = admin.client(EC2Client, at);
    const logs = admin.client(CloudWatchLogsClient, at);
    const vpcs = ((await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? []).map((v) => v.VpcId ?? "");
    if (ready) {
      await admin.client(GuardDutyClient, at).send(
        new CreateDetectorCommand({
          Enable: true,
          Features: [
            { Name: "S3_DATA_EVENTS", Status: "ENABLED" },
            { Name: "EBS_MALWARE_PROTECTION", Status: "ENABLED" },
          ],
        }),
      );
      await admin.client(SecurityHubClient, at).send(new EnableSecurityHubCommand({}));
      const flowGroup = `flz-flow-${region}`;
      await logs.send(new CreateLogGroupCommand({ logGroupName: flowGroup }));
      await logs.send(new PutRetentionPolicyCommand({ logGroupName: flowGroup, retentionInDays: 400 }));
      await ec2.send(
        new CreateFlowLogsCommand({
          ResourceIds: vpcs,
          ResourceType: "VPC",
          TrafficType: "ALL",
          LogGroupName: flowGroup,
          DeliverLogsPermissionArn: `arn:aws:iam::${account}:role/flow-logs`,
        }),
      );
      const dnsGroup = `flz-dns-${region}`;
      await logs.send(new CreateLogGroupCommand({ logGroupName: dnsGroup }));
      const resolver = admin.client(Route53ResolverClient, at);
      const config = await resolver.send(
        new CreateResolverQueryLogConfigCommand({
          Name: "flz-dns",
          DestinationArn: `arn:aws:logs:${region}:${account}:log-group:${dnsGroup}`,
          CreatorRequestId: `dns-${account}-${region}`,
        }),
      );
      for (const vpc of vpcs)
        await resolver.send(
          new AssociateResolverQueryLogConfigCommand({
            ResolverQueryLogConfigId: config.ResolverQueryLogConfig?.Id,
            ResourceId: vpc,
          }),
        );
    } else {
      // Detector off where one exists; in the other region none at all. No Security Hub, no VPC logging.
      if (region === "us-east-1")
        await admin.client(GuardDutyClient, at).send(new CreateDetectorCommand({ Enable: false }));
      if (region === "us-east-1") {
        // A second VPC whose flow logs go to a group kept 30 days: flow logs pass there, retention fails.
        const extra = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.9.0.0/16" }))).Vpc?.VpcId ?? "";
        vpcs.push(extra);
        shortLogGroup = "app-flow-short";
        await logs.send(new CreateLogGroupCommand({ logGroupName: shortLogGroup }));
        await logs.send(new PutRetentionPolicyCommand({ logGroupName: shortLogGroup, retentionInDays: 30 }));
        await ec2.send(
          new CreateFlowLogsCommand({
            ResourceIds: [extra],
            ResourceType: "VPC",
            TrafficType: "ALL",
            LogGroupName: shortLogGroup,
            DeliverLogsPermissionArn: `arn:aws:iam::${account}:role/flow-logs`,
          }),
        );
      }
    }
    world.vpcs[`${account}|${region}`] = vpcs;
    const kms = admin.client(KMSClient, at);
    const volumeKey = await key(
      kms,
      "SYMMETRIC_DEFAULT",
      ready ? accountKeyPolicy(account) : closedKeyPolicy(account),
      true,
    );
    world.volumeKeys[`${account}|${region}`] = volumeKey;
    if (ready) {
      await ec2.send(new EnableEbsEncryptionByDefaultCommand({}));
      await ec2.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: volumeKey }));
    }
    // Instances only in the home region (the emulator's stock images are there).
    if (region !== "us-east-1") continue;
    const httpTokens = ready ? "required" : "optional";
    const template = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: `app-${account}`,
        LaunchTemplateData: { ImageId: AMI, InstanceType: "t3.micro", MetadataOptions: { HttpTokens: httpTokens } },
      }),
    );
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: AMI,
        MinCount: 1,
        MaxCount: 1,
        InstanceType: "t3.micro",
        MetadataOptions: { HttpTokens: httpTokens },
        BlockDeviceMappings: [
          { DeviceName: "/dev/sda1", Ebs: { VolumeSize: 8, Encrypted: true, KmsKeyId: volumeKey } },
          { DeviceName: "/dev/sdf", Ebs: { VolumeSize: 8, Encrypted: true, KmsKeyId: volumeKey } },
        ],
      }),
    );
    const instance = run.Instances?.[0];
    world.instances[account] = {
      instanceId: instance?.InstanceId ?? "",
      volumeIds: (instance?.BlockDeviceMappings ?? []).map((b) => b.Ebs?.VolumeId ?? ""),
      templateId: template.LaunchTemplate?.LaunchTemplateId ?? "",
    };
  }
  return shortLogGroup;
}
