/**
 * What moto cannot answer for `flz assess`, answered per account and region with aws-sdk-client-mock (the assessment's
 * real calls are unchanged), and the sessions the assessment opens, recorded.
 */
import { AssumeRoleCommand, STSClient as CredentialProviderSts } from "@aws-sdk/nested-clients/sts";
import { DetectiveClient, ListGraphsCommand, ListInvitationsCommand } from "@aws-sdk/client-detective";
import { GetEbsDefaultKmsKeyIdCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetAdministratorAccountCommand, GuardDutyClient } from "@aws-sdk/client-guardduty";
import { DescribeResourcePolicyCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import {
  ListAWSDefaultServiceQuotasCommand,
  ListServiceQuotasCommand,
  ServiceQuotasClient,
} from "@aws-sdk/client-service-quotas";
import { DescribeInstanceInformationCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { json, ROLES, type AssessWorld } from "./fixtures-world";

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
