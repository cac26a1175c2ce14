/**
 * Plants the drill's incident in a member account of the emulator, the way an attacker would have made it: an IAM
 * user's access key leaks; with it the attacker assumes a deployment role (a role session), and with that session
 * creates an Auto Scaling group whose instance has two volumes. Every call after the key's creation is made with the
 * leaked credentials or the session they obtained, so the trail of the drill matches a real one.
 *
 * The instance's disks have known content: the attacker's image maps two snapshots written block by block with the
 * EBS direct APIs (disk.ts), so the runbook can check the captured evidence against the SHA-256 of the raw images.
 */
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateLaunchTemplateCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  EC2Client,
  RegisterImageCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { EBSClient } from "@aws-sdk/client-ebs";
import type { AwsCredentialIdentity } from "@smithy/types";
import { ClientFactory } from "../aws/clients";
import { OperationError } from "../errors";
import { drillDisks, writeDiskSnapshot, type PlantedDisk } from "./disk";

/** What was planted: the identifiers the runbook acts on. */
export interface PlantedIncident {
  /** Member account of the incident. */
  readonly account: string;
  /** Region of the instance. */
  readonly region: string;
  /** IAM user whose key leaked. */
  readonly userName: string;
  /** The leaked access key ID. */
  readonly accessKeyId: string;
  /** Role the attacker assumed with the key. */
  readonly roleName: string;
  /** ARN of the attacker's role session. */
  readonly sessionArn: string;
  /** When the session was issued (its credentials' start); revocation must cut off sessions issued before now. */
  readonly sessionIssuedAt: string;
  /** Auto Scaling group the attacker created. */
  readonly autoScalingGroup: string;
  /** Its instance. */
  readonly instanceId: string;
  /** The instance's volumes (two). */
  readonly volumeIds: string[];
  /** The image the instance was launched from (its block-device mappings name the planted disks' snapshots). */
  readonly imageId: string;
  /** The planted disks, by device, with the SHA-256 of each raw image. */
  readonly disks: PlantedDisk[];
}

/** Names used by the planted incident. */
export const PLANT_NAMES = {
  user: "ci-deployer",
  role: "app-deploy",
  launchTemplate: "app-web",
  asg: "app-web-asg",
  image: "app-web-2026.03",
} as const;

const allowAll = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
});

/** Plants the incident in `account`/`region`. */
export async function plantIncident(account: string, region: string): Promise<PlantedIncident> {
  const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  const attacker: { destroy(): void }[] = [];
  try {
    const iam = admin.client(IAMClient, { account, region });
    await iam.send(new CreateUserCommand({ UserName: PLANT_NAMES.user }));

    const key = await iam.send(new CreateAccessKeyCommand({ UserName: PLANT_NAMES.user }));
    const leaked: AwsCredentialIdentity = {
      accessKeyId: key.AccessKey?.AccessKeyId ?? "",
      secretAccessKey: key.AccessKey?.SecretAccessKey ?? "",
    };
    await iam.send(
      new CreateRoleCommand({
        RoleName: PLANT_NAMES.role,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${account}:user/${PLANT_NAMES.user}` },
              Action: "sts:AssumeRole",
            },
          ],
        }),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({ RoleName: PLANT_NAMES.role, PolicyName: "deploy", PolicyDocument: allowAll }),
    );

    // From here on, the attacker: the leaked key, then the role session it obtains.
    const sts = new STSClient({ region, credentials: leaked });
    attacker.push(sts);
    const session = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${account}:role/${PLANT_NAMES.role}`,
        RoleSessionName: "deploy-7731",
      }),
    );
    const c = session.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey)
      throw new OperationError("planting the incident failed: the leaked key obtained no role session");
    const sessionCredentials: AwsCredentialIdentity = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
    };
    const ec2 = new EC2Client({ region, credentials: sessionCredentials });
    const asg = new AutoScalingClient({ region, credentials: sessionCredentials });
    const ebs = new EBSClient({ region, credentials: sessionCredentials });
    attacker.push(ec2, asg, ebs);

    // The attacker's image: two disks with known content (an implant on the root disk, a staged archive on the data disk).
    const disks: PlantedDisk[] = [];
    for (const layout of drillDisks())
      disks.push(await writeDiskSnapshot(ebs, layout, `${PLANT_NAMES.image} ${layout.device}`));
    const image = await ec2.send(
      new RegisterImageCommand({
        Name: PLANT_NAMES.image,
        RootDeviceName: disks[0].device,
        VirtualizationType: "hvm",
        BlockDeviceMappings: disks.map((d) => ({
          DeviceName: d.device,
          Ebs: { SnapshotId: d.snapshotId, VolumeSize: d.sizeGiB, VolumeType: "gp3", DeleteOnTermination: true },
        })),
      }),
    );
    if (!image.ImageId) throw new OperationError("planting the incident failed: RegisterImage returned no image ID");

    const subnets = await ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }),
    );
    const subnet = subnets.Subnets?.[0];
    if (!subnet?.SubnetId)
      throw new OperationError(`planting the incident failed: account ${account} has no default subnet in ${region}`);
    await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: PLANT_NAMES.launchTemplate,
        LaunchTemplateData: {
          // The image maps both disks: two volumes, what the capture must take both of.
          ImageId: image.ImageId,
          InstanceType: "t3.micro",
          MetadataOptions: { HttpTokens: "optional" },
        },
      }),
    );
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: PLANT_NAMES.asg,
        LaunchTemplate: { LaunchTemplateName: PLANT_NAMES.launchTemplate, Version: "$Latest" },
        MinSize: 1,
        MaxSize: 1,
        DesiredCapacity: 1,
        VPCZoneIdentifier: subnet.SubnetId,
      }),
    );
    const group = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [PLANT_NAMES.asg] }));
    const instanceId = group.AutoScalingGroups?.[0]?.Instances?.[0]?.InstanceId;
    if (!instanceId)
      throw new OperationError(
        `planting the incident failed: Auto Scaling group ${PLANT_NAMES.asg} launched no instance`,
      );
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const instance = described.Reservations?.[0]?.Instances?.[0];
    const volumeIds = (instance?.BlockDeviceMappings ?? [])
      .map((m) => m.Ebs?.VolumeId ?? "")
      .filter((v) => v.length > 0);
    if (volumeIds.length < 2)
      throw new OperationError(
        `planting the incident failed: instance ${instanceId} has ${volumeIds.length} volumes, expected 2`,
      );
    return {
      account,
      region,
      userName: PLANT_NAMES.user,
      accessKeyId: leaked.accessKeyId,
      roleName: PLANT_NAMES.role,
      sessionArn: session.AssumedRoleUser?.Arn ?? "",
      sessionIssuedAt: new Date().toISOString(),
      autoScalingGroup: PLANT_NAMES.asg,
      instanceId,
      volumeIds,
      imageId: image.ImageId,
      disks,
    };
  } finally {
    for (const client of attacker) client.destroy();
    admin.destroy();
  }
}
