/**
 * An organisation in the emulator for `flz assess`: a management account with Organizations and the trail, a
 * forensic account, and three members: `gappy` (a deliberate gap of every account and region kind), `clean` (none)
 * and `locked` (its investigator role cannot be assumed). The organisation-wide part is seeded either `ready` (every
 * organisation and forensic check passes) or not (every one of them fails).
 *
 * moto lacks Detective, the EBS quotas of Service Quotas, SSM DescribeInstanceInformation, Organizations
 * DescribeResourcePolicy, EC2 GetEbsDefaultKmsKeyId, and a member's view of its GuardDuty administrator; {@link mockGaps} answers those with
 * aws-sdk-client-mock (the assessment's real calls are unchanged), per account and region.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { AssumeRoleCommand, STSClient as CredentialProviderSts } from "@aws-sdk/nested-clients/sts";
import {
  CloudTrailClient,
  CreateTrailCommand,
  PutEventSelectorsCommand,
  StartLoggingCommand,
} from "@aws-sdk/client-cloudtrail";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  PutRetentionPolicyCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { DetectiveClient, ListGraphsCommand, ListInvitationsCommand } from "@aws-sdk/client-detective";
import {
  CreateFlowLogsCommand,
  GetEbsDefaultKmsKeyIdCommand,
  CreateLaunchTemplateCommand,
  CreateVpcCommand,
  DescribeVpcsCommand,
  EC2Client,
  EnableEbsEncryptionByDefaultCommand,
  ModifyEbsDefaultKmsKeyIdCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { CreateDetectorCommand, GetAdministratorAccountCommand, GuardDutyClient } from "@aws-sdk/client-guardduty";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import {
  CreateKeyCommand,
  DisableKeyCommand,
  EnableKeyRotationCommand,
  KMSClient,
  PutKeyPolicyCommand,
} from "@aws-sdk/client-kms";
import {
  AttachPolicyCommand,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  CreatePolicyCommand,
  DescribeResourcePolicyCommand,
  EnableAWSServiceAccessCommand,
  EnablePolicyTypeCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
  RegisterDelegatedAdministratorCommand,
} from "@aws-sdk/client-organizations";
import {
  AssociateResolverQueryLogConfigCommand,
  CreateResolverQueryLogConfigCommand,
  Route53ResolverClient,
} from "@aws-sdk/client-route53resolver";
import {
  CreateBucketCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { EnableSecurityHubCommand, SecurityHubClient } from "@aws-sdk/client-securityhub";
import {
  ListAWSDefaultServiceQuotasCommand,
  ListServiceQuotasCommand,
  ServiceQuotasClient,
} from "@aws-sdk/client-service-quotas";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { DescribeInstanceInformationCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import {
  breakGlassPattern,
  breakGlassTrust,
  custodySigningKeyPolicy,
  evidenceBucketPolicy,
  type ForensicResourceProtection,
  evidenceKeyPolicy,
  memberRoleTrust,
  protectAlarmsScp,
  protectForensicKeysScp,
  protectForensicRolesScp,
  protectTrailScp,
  trailBucketPolicy,
  trailKeyPolicy,
} from "../../../components/documents";
import { ClientFactory, type Placement } from "../../../scripts/aws/clients";
import type { LandingZone } from "../../../scripts/contract";

/** The management account (creates the organisation). */
export const MANAGEMENT = "111111111111";
/** Regions of the seeded landing zone, all assessed. */
export const REGIONS = ["us-east-1", "eu-west-1"];
/** The read-only role the assessment uses in the management account. */
export const MANAGEMENT_ROLE = `arn:aws:iam::${MANAGEMENT}:role/FlzAssessReadOnly`;
/** Role names, as the stack's defaults. */
export const ROLES = {
  forensicResponder: "FlzForensicResponder",
  forensicInvestigator: "FlzForensicInvestigator",
  memberResponder: "FlzMemberResponder",
  memberInvestigator: "FlzMemberInvestigator",
  breakGlass: "FlzBreakGlass",
} as const;
const AMI = "ami-12c6146b";

/** What was seeded, with the IDs the register names. */
export interface AssessWorld {
  readonly lz: LandingZone;
  readonly forensic: string;
  readonly gappy: string;
  readonly clean: string;
  readonly locked: string;
  readonly ready: boolean;
  /** Per `account|region`: the VPC IDs seeded there (default VPC first). */
  readonly vpcs: Record<string, string[]>;
  /** Per account: the instance launched in us-east-1 and its launch template. */
  readonly instances: Record<string, { instanceId: string; volumeIds: string[]; templateId: string }>;
  /** Per `account|region`: the customer key of its volumes (and, in the clean account, the EBS default key). */
  readonly volumeKeys: Record<string, string>;
  /** The gappy account's log group kept too briefly. */
  readonly shortLogGroup: string;
}

const json = (doc: unknown) => JSON.stringify(doc);

async function organisation(
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

async function key(
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

async function member(
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

/** Seeds the organisation; `ready` decides the organisation-wide and forensic part (members are the same). */
export async function seedAssessWorld(dir: string, ready: boolean): Promise<AssessWorld & { lzFile: string }> {
  const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  try {
    const { forensic, gappy, clean, locked, root } = await organisation(admin);
    const home = REGIONS[0];
    const f = (region = home): Placement => ({ account: forensic, region });
    const forensicRole = (name: string) => `arn:aws:iam::${forensic}:role/${name}`;
    const trailArn = `arn:aws:cloudtrail:${home}:${MANAGEMENT}:trail/flz-organization-trail`;
    const orgId = "o-flzassess00";
    const trailBucket = `flz-trail-${forensic}`;
    const evidenceBucket = `flz-evidence-${forensic}`;

    // The deployment acts in the forensic account as its admin role, as the stack's providers do (seed-org.ts).
    const deploymentPrincipalArn = forensicRole("OrganizationAccountAccessRole");
    const protection: ForensicResourceProtection = {
      evidenceBucketArn: `arn:aws:s3:::${evidenceBucket}`,
      trailBucketArn: `arn:aws:s3:::${trailBucket}`,
      deploymentPrincipalArn,
      caseWriterArns: [forensicRole(ROLES.forensicResponder)],
      keys: { accountId: forensic },
    };

    // Forensic keys.
    const evidenceKeyArns: Record<string, string> = {};
    for (const region of REGIONS) {
      const policy = evidenceKeyPolicy({
        keyAccountId: forensic,
        organizationId: orgId,
        memberResponderRoleName: ROLES.memberResponder,
        forensicRoleArns: [forensicRole(ROLES.forensicResponder), forensicRole(ROLES.forensicInvestigator)],
        deploymentPrincipalArn,
      });
      evidenceKeyArns[region] = await key(admin.client(KMSClient, f(region)), "SYMMETRIC_DEFAULT", policy, ready);
    }
    if (!ready)
      await admin
        .client(KMSClient, f("eu-west-1"))
        .send(new DisableKeyCommand({ KeyId: evidenceKeyArns["eu-west-1"].split("/").pop() }));
    const signingPolicy = ready
      ? custodySigningKeyPolicy({
          keyAccountId: forensic,
          organizationId: orgId,
          signerRoleArn: forensicRole(ROLES.forensicResponder),
          deploymentPrincipalArn,
        })
      : {
          Version: "2012-10-17",
          Statement: [
            { Sid: "Anyone", Effect: "Allow", Principal: "*", Action: ["kms:Sign", "kms:Verify"], Resource: "*" },
          ],
        };
    const signingKey = await key(admin.client(KMSClient, f()), "ECC_NIST_P256", signingPolicy, false);
    const trailKey = ready
      ? await key(
          admin.client(KMSClient, f()),
          "SYMMETRIC_DEFAULT",
          trailKeyPolicy({
            keyAccountId: forensic,
            managementAccountId: MANAGEMENT,
            organizationId: orgId,
            trailArn,
            investigatorRoleArns: [forensicRole(ROLES.forensicInvestigator)],
            deploymentPrincipalArn,
          }),
          true,
        )
      : undefined;

    // Forensic buckets.
    const s3 = admin.client(S3Client, f());
    for (const [bucket, purpose] of [
      [trailBucket, "trail"],
      [evidenceBucket, "evidence"],
    ] as const) {
      const locked_ = ready || purpose === "evidence";
      await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: locked_ }));
      if (ready || purpose === "evidence")
        await s3.send(
          new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }),
        );
      if (locked_)
        await s3.send(
          new PutObjectLockConfigurationCommand({
            Bucket: bucket,
            ObjectLockConfiguration: {
              ObjectLockEnabled: "Enabled",
              Rule: { DefaultRetention: ready ? { Mode: "COMPLIANCE", Days: 400 } : { Mode: "GOVERNANCE", Days: 30 } },
            },
          }),
        );
      if (!ready) continue;
      await s3.send(
        new PutPublicAccessBlockCommand({
          Bucket: bucket,
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            IgnorePublicAcls: true,
            BlockPublicPolicy: true,
            RestrictPublicBuckets: true,
          },
        }),
      );
      const arn = `arn:aws:s3:::${bucket}`;
      const policy =
        purpose === "trail"
          ? trailBucketPolicy({
              bucketArn: arn,
              organizationId: orgId,
              managementAccountId: MANAGEMENT,
              trailArn,
              protection,
            })
          : evidenceBucketPolicy({ bucketArn: arn, organizationId: orgId, protection });
      await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: json(policy) }));
    }

    // Break-glass role and its alarm.
    const iam = admin.client(IAMClient, f());
    const breakGlassArn = forensicRole(ROLES.breakGlass);
    await iam.send(
      new CreateRoleCommand({
        RoleName: ROLES.breakGlass,
        AssumeRolePolicyDocument: json(
          ready
            ? breakGlassTrust({ trustedPrincipalArns: [`arn:aws:iam::${forensic}:root`], maxMfaAgeSeconds: 3600 })
            : {
                Version: "2012-10-17",
                Statement: [
                  { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${forensic}:root` }, Action: "sts:AssumeRole" },
                ],
              },
        ),
      }),
    );
    {
      // The break-glass alarm in both worlds; only the ready one has someone subscribed (FLZ-ROLE-04) and the SCP that
      // keeps the forensic account's administrators from silencing it (FLZ-ROLE-05).
      const sns = admin.client(SNSClient, f());
      const topic = (await sns.send(new CreateTopicCommand({ Name: "flz-alarms" }))).TopicArn ?? "";
      // The on-call pager as a Lambda subscriber (moto confirms Lambda subscriptions at once).
      if (ready)
        await sns.send(
          new SubscribeCommand({
            TopicArn: topic,
            Protocol: "lambda",
            Endpoint: `arn:aws:lambda:${home}:${forensic}:function:oncall-pager`,
          }),
        );
      const events = admin.client(EventBridgeClient, f());
      await events.send(
        new PutRuleCommand({
          Name: "flz-break-glass",
          EventPattern: json(breakGlassPattern(breakGlassArn)),
          State: "ENABLED",
        }),
      );
      await events.send(new PutTargetsCommand({ Rule: "flz-break-glass", Targets: [{ Id: "topic", Arn: topic }] }));
    }

    // The organisation trail (management account).
    const ct = admin.client(CloudTrailClient, { account: MANAGEMENT, region: home });
    await ct.send(
      new CreateTrailCommand({
        Name: "flz-organization-trail",
        S3BucketName: trailBucket,
        IsOrganizationTrail: ready,
        IsMultiRegionTrail: ready,
        EnableLogFileValidation: ready,
        IncludeGlobalServiceEvents: ready,
        KmsKeyId: trailKey,
      }),
    );
    await ct.send(
      new PutEventSelectorsCommand({
        TrailName: "flz-organization-trail",
        EventSelectors: ready
          ? [
              {
                ReadWriteType: "All",
                IncludeManagementEvents: true,
                DataResources: [{ Type: "AWS::S3::Object", Values: ["arn:aws:s3"] }],
              },
            ]
          : [{ ReadWriteType: "WriteOnly", IncludeManagementEvents: true }],
      }),
    );
    if (ready) await ct.send(new StartLoggingCommand({ Name: "flz-organization-trail" }));

    // Organisation guardrails, trusted access, delegated administrators.
    const org = admin.client(OrganizationsClient, { account: MANAGEMENT, region: "us-east-1" });
    const attachNew = async (
      name: string,
      type: "SERVICE_CONTROL_POLICY" | "RESOURCE_CONTROL_POLICY",
      doc: unknown,
      target: string,
    ) => {
      const created = await org.send(
        new CreatePolicyCommand({ Name: name, Type: type, Description: "flz", Content: json(doc) }),
      );
      await org.send(new AttachPolicyCommand({ PolicyId: created.Policy?.PolicySummary?.Id, TargetId: target }));
    };
    if (ready) {
      const deployment = "arn:aws:iam::*:role/OrganizationAccountAccessRole";
      const scp = {
        Version: "2012-10-17",
        Statement: [
          ...protectTrailScp({ trailArn, deploymentRoleArn: deployment }).Statement,
          ...protectForensicRolesScp({
            roleNames: [ROLES.memberResponder, ROLES.memberInvestigator],
            stackSetExecutionRoleName: "stacksets-exec-*",
            deploymentRoleArn: deployment,
          }).Statement,
          ...protectForensicKeysScp({
            keyArns: [...Object.values(evidenceKeyArns), signingKey, trailKey ?? ""],
            deploymentRoleArn: deployment,
          }).Statement,
        ],
      };
      await attachNew("flz-protect-forensics", "SERVICE_CONTROL_POLICY", scp, root);
      await attachNew(
        "flz-protect-alarms",
        "SERVICE_CONTROL_POLICY",
        protectAlarmsScp({ namePrefix: "flz-", deploymentRoleArn: deployment }),
        forensic,
      );
      await org.send(new EnablePolicyTypeCommand({ RootId: root, PolicyType: "RESOURCE_CONTROL_POLICY" }));
      const rcp = {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "EvidenceStaysInTheOrganisation",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [`arn:aws:s3:::${evidenceBucket}/*`],
            Condition: {
              StringNotEqualsIfExists: { "aws:PrincipalOrgID": orgId },
              BoolIfExists: { "aws:PrincipalIsAWSService": "false" },
            },
          },
        ],
      };
      await attachNew("flz-protect-evidence", "RESOURCE_CONTROL_POLICY", rcp, forensic);
      for (const principal of [
        "cloudtrail.amazonaws.com",
        "member.org.stacksets.cloudformation.amazonaws.com",
        "guardduty.amazonaws.com",
        "securityhub.amazonaws.com",
        "detective.amazonaws.com",
      ])
        await org.send(new EnableAWSServiceAccessCommand({ ServicePrincipal: principal }));
      // moto accepts GuardDuty among the detection services as a delegated administrator; GuardDuty is what FLZ-DET-02 reads.
      await org.send(
        new RegisterDelegatedAdministratorCommand({ AccountId: forensic, ServicePrincipal: "guardduty.amazonaws.com" }),
      );
    }

    const lz: LandingZone = {
      organizationId: orgId,
      forensicAccountId: forensic,
      homeRegion: home,
      regions: REGIONS,
      evidenceKeyArns,
      custodySigningKeyArn: signingKey,
      evidenceBucket,
      trailBucket,
      trailArn,
      forensicResponderRoleArn: forensicRole(ROLES.forensicResponder),
      forensicInvestigatorRoleArn: forensicRole(ROLES.forensicInvestigator),
      memberResponderRoleName: ROLES.memberResponder,
      memberInvestigatorRoleName: ROLES.memberInvestigator,
    };
    const world = { vpcs: {}, instances: {}, volumeKeys: {} } as Pick<AssessWorld, "vpcs" | "instances" | "volumeKeys">;
    const shortLogGroup = await member(admin, gappy, lz, false, world);
    await member(admin, clean, lz, true, world);
    const lzFile = path.join(dir, "landing-zone.json");
    writeFileSync(lzFile, JSON.stringify(lz));
    return { lz, forensic, gappy, clean, locked, ready, shortLogGroup, lzFile, ...world };
  } finally {
    admin.destroy();
  }
}

/** Restores the mocks installed by {@link mockGaps}. */
export type Restore = () => void;

/**
 * Answers, per account and region, the calls moto cannot: Detective, SSM DescribeInstanceInformation, the EBS quotas,
 * Organizations DescribeResourcePolicy, a member's GuardDuty administrator, and the refusal of AssumeRole into the
 * locked account's investigator role (what AWS answers when the role is missing or does not trust the caller).
 * Every other call goes to the emulator.
 */
export function mockGaps(world: AssessWorld): Restore {
  const restores: Restore[] = [];

  const sts = mockClient(CredentialProviderSts);
  sts.send.callThrough();
  sts
    .on(AssumeRoleCommand, { RoleArn: `arn:aws:iam::${world.locked}:role/${world.lz.memberInvestigatorRoleName}` })
    .rejects(
      Object.assign(
        new Error(
          `User: arn:aws:sts::${world.forensic}:assumed-role/${ROLES.forensicInvestigator}/flz-no-case is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${world.locked}:role/${world.lz.memberInvestigatorRoleName}`,
        ),
        { name: "AccessDenied", $metadata: {} },
      ),
    );
  restores.push(() => sts.restore());

  const accountOf = accountResolver();
  const detective = mockClient(DetectiveClient);
  detective.on(ListGraphsCommand).callsFake(async (_input, getClient) => {
    const { account } = await accountOf(getClient());
    return {
      GraphList: account === world.forensic ? [{ Arn: `arn:aws:detective:us-east-1:${world.forensic}:graph:flz` }] : [],
    };
  });
  detective.on(ListInvitationsCommand).callsFake(async (_input, getClient) => {
    const { account, region } = await accountOf(getClient());
    return {
      Invitations:
        account === world.clean
          ? [{ GraphArn: `arn:aws:detective:${region}:${world.forensic}:graph:flz`, Status: "ENABLED" }]
          : [],
    };
  });
  restores.push(() => detective.restore());

  const ssm = mockClient(SSMClient);
  ssm.on(DescribeInstanceInformationCommand).callsFake(async (_input, getClient) => {
    const { account } = await accountOf(getClient());
    const instance = world.instances[account];
    return {
      InstanceInformationList:
        account === world.clean && instance ? [{ InstanceId: instance.instanceId, PingStatus: "Online" }] : [],
    };
  });
  restores.push(() => ssm.restore());

  const quotas = mockClient(ServiceQuotasClient);
  const quota = (value: number) => ({
    Quotas: [
      {
        ServiceCode: "ebs",
        QuotaName: "Concurrent snapshot copies per destination Region",
        QuotaCode: "L-FLZTEST",
        Value: value,
      },
    ],
  });
  quotas.on(ListServiceQuotasCommand).callsFake(async (_input, getClient) => {
    const { account } = await accountOf(getClient());
    return account === world.gappy ? quota(1) : { Quotas: [] };
  });
  quotas.on(ListAWSDefaultServiceQuotasCommand).resolves(quota(20));
  restores.push(() => quotas.restore());

  const guardduty = mockClient(GuardDutyClient);
  guardduty.send.callThrough();
  guardduty.on(GetAdministratorAccountCommand).callsFake(async (_input, getClient) => {
    const { account } = await accountOf(getClient());
    return world.ready && account === world.clean
      ? { Administrator: { AccountId: world.forensic, RelationshipStatus: "Enabled" } }
      : {};
  });
  restores.push(() => guardduty.restore());

  const ec2 = mockClient(EC2Client);
  ec2.send.callThrough();
  ec2.on(GetEbsDefaultKmsKeyIdCommand).callsFake(async (_input, getClient) => {
    const { account, region } = await accountOf(getClient());
    return { KmsKeyId: account === world.clean ? world.volumeKeys[`${account}|${region}`] : "alias/aws/ebs" };
  });
  restores.push(() => ec2.restore());

  const organizations = mockClient(OrganizationsClient);
  organizations.send.callThrough();
  organizations.on(DescribeResourcePolicyCommand).callsFake(() => {
    if (!world.ready)
      throw Object.assign(new Error("You have no resource policy"), {
        name: "ResourcePolicyNotFoundException",
        $metadata: {},
      });
    return {
      ResourcePolicy: {
        Content: json({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "QuarantineDelegation",
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${world.forensic}:root` },
              Action: [
                "organizations:CreatePolicy",
                "organizations:AttachPolicy",
                "organizations:DetachPolicy",
                "organizations:UpdatePolicy",
                "organizations:DeletePolicy",
              ],
              Resource: "*",
              Condition: { StringEquals: { "aws:RequestTag/flz:purpose": "quarantine" } },
            },
          ],
        }),
      },
    };
  });
  restores.push(() => organizations.restore());
  return () => {
    for (const r of restores.reverse()) r();
  };
}

/**
 * Which account and region a mocked client acts in: the region from its config, the account from its credentials'
 * session (GetCallerIdentity would be a real call, so the account is read from the access key the emulator issued,
 * recorded when the session was created).
 */
function accountResolver(): (client: unknown) => Promise<{ account: string; region: string }> {
  return async (client: unknown) => {
    const c = client as {
      config: { region: () => Promise<string>; credentials: () => Promise<{ accessKeyId: string }> };
    };
    const region = await c.config.region();
    const creds = await c.config.credentials();
    const account = accountOfKey.get(creds.accessKeyId) ?? "";
    return { account, region };
  };
}

/** Access key ID → account, filled by {@link recordSessions}. */
const accountOfKey = new Map<string, string>();

/**
 * Records the account of each session the assessment opens (AssumeRole's response names the role ARN, hence the
 * account), so mocked services can answer per account.
 */
export function recordSessions(): Restore {
  const sts = CredentialProviderSts.prototype as unknown as {
    send: (command: unknown, ...rest: unknown[]) => Promise<unknown>;
  };
  const original = sts.send;
  sts.send = async function (this: unknown, command: unknown, ...rest: unknown[]) {
    const out = (await original.call(this, command, ...rest)) as {
      Credentials?: { AccessKeyId?: string };
      AssumedRoleUser?: { Arn?: string };
    };
    const key = out?.Credentials?.AccessKeyId;
    const arn = out?.AssumedRoleUser?.Arn;
    if (key && arn) accountOfKey.set(key, arn.split(":")[4]);
    return out;
  };
  return () => {
    sts.send = original;
  };
}
