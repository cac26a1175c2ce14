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
import {
  CloudTrailClient,
  CreateTrailCommand,
  PutEventSelectorsCommand,
  StartLoggingCommand,
} from "@aws-sdk/client-cloudtrail";
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { DisableKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  EnableAWSServiceAccessCommand,
  EnablePolicyTypeCommand,
  OrganizationsClient,
  RegisterDelegatedAdministratorCommand,
} from "@aws-sdk/client-organizations";
import {
  CreateBucketCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  breakGlassPattern,
  breakGlassTrust,
  custodySigningKeyPolicy,
  evidenceBucketPolicy,
  type ForensicResourceProtection,
  evidenceKeyPolicy,
  protectAlarmsScp,
  protectForensicKeysScp,
  protectForensicRolesScp,
  protectTrailScp,
  trailBucketPolicy,
  trailKeyPolicy,
} from "../../../components/documents";
import { ClientFactory, type Placement } from "../../../scripts/aws/clients";
import type { LandingZone } from "../../../scripts/contract";
import { DEPLOYMENT_ROLE, json, MANAGEMENT, REGIONS, ROLES, type AssessWorld } from "./fixtures-world";
import { key, member, organisation } from "./fixtures-members";

export { DEPLOYMENT_ROLE, MANAGEMENT, MANAGEMENT_ROLE, REGIONS, ROLES, type AssessWorld } from "./fixtures-world";
export { mockGaps, recordSessions, type Restore } from "./fixtures-mocks";

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
      const deployment = DEPLOYMENT_ROLE;
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
