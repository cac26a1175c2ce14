/**
 * Reads one region of one member account, as the member investigator (read-only): detection services, VPC flow
 * and DNS query logging with their log groups' retention, instances and launch templates (IMDS), Systems Manager
 * coverage, EBS encryption and volume keys, and the snapshot copy quota. Independent reads run at once.
 */
import { CloudWatchLogsClient, paginateDescribeLogGroups } from "@aws-sdk/client-cloudwatch-logs";
import { DetectiveClient, paginateListGraphs, paginateListInvitations } from "@aws-sdk/client-detective";
import {
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
  GetEbsDefaultKmsKeyIdCommand,
  GetEbsEncryptionByDefaultCommand,
  paginateDescribeFlowLogs,
  paginateDescribeInstances,
  paginateDescribeLaunchTemplates,
  paginateDescribeVolumes,
  paginateDescribeVpcs,
} from "@aws-sdk/client-ec2";
import {
  GetAdministratorAccountCommand as GetGuardDutyAdministratorCommand,
  GetDetectorCommand,
  GuardDutyClient,
  paginateListDetectors,
} from "@aws-sdk/client-guardduty";
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from "@aws-sdk/client-kms";
import {
  paginateListResolverQueryLogConfigAssociations,
  paginateListResolverQueryLogConfigs,
  Route53ResolverClient,
} from "@aws-sdk/client-route53resolver";
import {
  DescribeHubCommand,
  GetAdministratorAccountCommand as GetSecurityHubAdministratorCommand,
  SecurityHubClient,
} from "@aws-sdk/client-securityhub";
import {
  paginateListAWSDefaultServiceQuotas,
  paginateListServiceQuotas,
  ServiceQuotasClient,
} from "@aws-sdk/client-service-quotas";
import { paginateDescribeInstanceInformation, SSMClient } from "@aws-sdk/client-ssm";
import type { ClientFactory, Placement } from "../../aws/clients";
import type { FlowLogFacts, GuardDutyFacts, InstanceFacts, RegionFacts } from "../facts";
import { principalsAllowed } from "../policy";
import type { Read } from "../types";
import { logGroupName } from "../checks/network";
import { allPages, attempt } from "./read";

/** The EBS quota capture depends on, as Service Quotas names it. */
export const SNAPSHOT_COPY_QUOTA = /concurrent snapshot copies per destination region/i;

/** Whether a key policy lets the account's own IAM policies (or its principals through a service) use the key. */
export function accountMayUseKey(policy: string, account: string): boolean {
  const allowed = new Set([
    ...principalsAllowed(policy, "kms:Decrypt"),
    ...principalsAllowed(policy, "kms:CreateGrant"),
  ]);
  return allowed.has(`arn:aws:iam::${account}:root`) || allowed.has(account) || allowed.has("*(conditional)");
}

async function guardDuty(factory: ClientFactory, at: Placement): Promise<Read<GuardDutyFacts | null>> {
  const gd = factory.client(GuardDutyClient, at);
  return attempt(async () => {
    const ids = await allPages(paginateListDetectors({ client: gd }, {}), (p) => p.DetectorIds);
    if (ids.length === 0) return null;
    const DetectorId = ids[0];
    const [detector, administrator] = await Promise.all([
      gd.send(new GetDetectorCommand({ DetectorId })),
      attempt(
        async () => (await gd.send(new GetGuardDutyAdministratorCommand({ DetectorId }))).Administrator?.AccountId,
      ),
    ]);
    return {
      detectorId: DetectorId,
      status: detector.Status ?? "UNKNOWN",
      features: Object.fromEntries((detector.Features ?? []).map((f) => [f.Name ?? "", f.Status ?? ""])),
      administrator: administrator.ok ? administrator.value : undefined,
    };
  });
}

async function keys(
  factory: ClientFactory,
  at: Placement & { account: string },
  keyIds: string[],
): Promise<Read<Record<string, { manager: string; accountMayUse: boolean }>>> {
  // The client only when there is a key to read: an SDK client costs CPU to set up even if it sends nothing.
  const kms = () => factory.client(KMSClient, at);
  return attempt(async () =>
    Object.fromEntries(
      await Promise.all(
        [...new Set(keyIds)].map(async (id) => {
          // The AWS-managed EBS key by alias: its policy is AWS's, usable through EBS only, never shareable.
          if (id.startsWith("alias/aws/")) return [id, { manager: "AWS", accountMayUse: true }] as const;
          const m = (await kms().send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata;
          if (m?.KeyManager === "AWS") return [id, { manager: "AWS", accountMayUse: true }] as const;
          const policy =
            (await kms().send(new GetKeyPolicyCommand({ KeyId: id, PolicyName: "default" }))).Policy ?? "{}";
          return [
            id,
            { manager: m?.KeyManager ?? "CUSTOMER", accountMayUse: accountMayUseKey(policy, at.account) },
          ] as const;
        }),
      ),
    ),
  );
}

/**
 * Reads one region of one account. Throws when the region cannot be read at all (the first EC2 call fails): the
 * region is then reported unreadable for that reason.
 *
 * @param factory clients that reach member accounts through the member investigator role.
 * @param account the account.
 * @param region the region.
 */
export async function collectRegion(factory: ClientFactory, account: string, region: string): Promise<RegionFacts> {
  const at = { account, region };
  const ec2 = factory.client(EC2Client, at);
  const resolver = factory.client(Route53ResolverClient, at);
  // Every read at once, the VPC list included: it is the region's probe (if it fails, the region is unreadable for
  // that reason), but waiting for it before the others would put one more round trip on every region's path.
  const [
    vpcList,
    gd,
    securityHub,
    detective,
    flowLogs,
    queryLogs,
    queryLogGroups,
    instances,
    launchTemplates,
    ssmOnline,
    ebsDefault,
    volumes,
    quota,
  ] = await Promise.all([
    allPages(paginateDescribeVpcs({ client: ec2 }, {}), (p) =>
      (p.Vpcs ?? []).map((v) => ({ id: v.VpcId ?? "", isDefault: v.IsDefault === true })),
    ),
    guardDuty(factory, at),
    attempt<{ enabled: boolean; administrator?: string }>(
      async () => {
        const hub = factory.client(SecurityHubClient, at);
        await hub.send(new DescribeHubCommand({}));
        const admin = await attempt(
          async () => (await hub.send(new GetSecurityHubAdministratorCommand({}))).Administrator?.AccountId,
        );
        return { enabled: true, administrator: admin.ok ? admin.value : undefined };
      },
      // Security Hub answers InvalidAccessException for an account that is not subscribed.
      { InvalidAccessException: { enabled: false }, ResourceNotFoundException: { enabled: false } },
    ),
    attempt(async () => {
      const d = factory.client(DetectiveClient, at);
      const [graphs, invitations] = await Promise.all([
        allPages(paginateListGraphs({ client: d }, {}), (p) => (p.GraphList ?? []).map((g) => g.Arn ?? "")),
        allPages(paginateListInvitations({ client: d }, {}), (p) => p.Invitations),
      ]);
      return { graphs, memberships: invitations.filter((i) => i.Status === "ENABLED").map((i) => i.GraphArn ?? "") };
    }),
    attempt(() =>
      allPages(paginateDescribeFlowLogs({ client: ec2 }, {}), (p) =>
        (p.FlowLogs ?? []).map((f): FlowLogFacts => ({
          resourceId: f.ResourceId ?? "",
          status: f.FlowLogStatus ?? "",
          destinationType: f.LogDestinationType ?? "cloud-watch-logs",
          logGroup:
            f.LogGroupName || (f.LogDestination?.includes(":log-group:") ? logGroupName(f.LogDestination) : undefined),
        })),
      ),
    ),
    attempt(() =>
      allPages(paginateListResolverQueryLogConfigAssociations({ client: resolver }, {}), (p) =>
        (p.ResolverQueryLogConfigAssociations ?? []).map((a) => ({
          resourceId: a.ResourceId ?? "",
          status: a.Status ?? "",
          configId: a.ResolverQueryLogConfigId ?? "",
        })),
      ),
    ),
    attempt(async () =>
      Object.fromEntries(
        await allPages(paginateListResolverQueryLogConfigs({ client: resolver }, {}), (p) =>
          (p.ResolverQueryLogConfigs ?? []).map((c) => [c.Id ?? "", c.DestinationArn ?? ""] as [string, string]),
        ),
      ),
    ),
    attempt(() =>
      allPages(paginateDescribeInstances({ client: ec2 }, {}), (p) =>
        (p.Reservations ?? [])
          .flatMap((r) => r.Instances ?? [])
          .filter((i) => i.State?.Name !== "terminated")
          .map((i): InstanceFacts => ({
            id: i.InstanceId ?? "",
            state: i.State?.Name ?? "",
            httpTokens: i.MetadataOptions?.HttpTokens ?? "optional",
            volumeIds: (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.VolumeId ?? "").filter((v) => v),
          })),
      ),
    ),
    attempt(async () => {
      const templates = await allPages(paginateDescribeLaunchTemplates({ client: ec2 }, {}), (p) => p.LaunchTemplates);
      return Promise.all(
        templates.map(async (t) => {
          const v = await ec2.send(
            new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: t.LaunchTemplateId, Versions: ["$Default"] }),
          );
          return {
            id: t.LaunchTemplateId ?? "",
            name: t.LaunchTemplateName ?? "",
            httpTokens: v.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.MetadataOptions?.HttpTokens,
          };
        }),
      );
    }),
    attempt(() =>
      allPages(paginateDescribeInstanceInformation({ client: factory.client(SSMClient, at) }, {}), (p) =>
        (p.InstanceInformationList ?? []).filter((i) => i.PingStatus === "Online").map((i) => i.InstanceId ?? ""),
      ),
    ),
    attempt(async () => {
      const [enabled, keyId] = await Promise.all([
        ec2.send(new GetEbsEncryptionByDefaultCommand({})),
        ec2.send(new GetEbsDefaultKmsKeyIdCommand({})),
      ]);
      return { enabled: enabled.EbsEncryptionByDefault === true, kmsKeyId: keyId.KmsKeyId };
    }),
    attempt(() =>
      allPages(paginateDescribeVolumes({ client: ec2 }, {}), (p) =>
        (p.Volumes ?? []).map((v) => ({ id: v.VolumeId ?? "", encrypted: v.Encrypted === true, kmsKeyId: v.KmsKeyId })),
      ),
    ),
    attempt(async () => {
      const sq = factory.client(ServiceQuotasClient, at);
      const applied = await allPages(
        paginateListServiceQuotas({ client: sq }, { ServiceCode: "ebs" }),
        (p) => p.Quotas,
      );
      const found = applied.find((q) => SNAPSHOT_COPY_QUOTA.test(q.QuotaName ?? ""));
      if (found?.Value !== undefined) return found.Value;
      const defaults = await allPages(
        paginateListAWSDefaultServiceQuotas({ client: sq }, { ServiceCode: "ebs" }),
        (p) => p.Quotas,
      );
      return defaults.find((q) => SNAPSHOT_COPY_QUOTA.test(q.QuotaName ?? ""))?.Value ?? null;
    }),
  ]);
  const keyIds = [
    ...(volumes.ok ? volumes.value.filter((v) => v.kmsKeyId).map((v) => v.kmsKeyId as string) : []),
    ...(ebsDefault.ok && ebsDefault.value.enabled && ebsDefault.value.kmsKeyId ? [ebsDefault.value.kmsKeyId] : []),
  ];
  const groupNames = [
    ...(flowLogs.ok ? flowLogs.value.map((f) => f.logGroup).filter((g): g is string => g !== undefined) : []),
    ...(queryLogGroups.ok
      ? Object.values(queryLogGroups.value)
          .filter((arn) => arn.includes(":log-group:"))
          .map(logGroupName)
      : []),
  ];
  const [volumeKeys, logGroups] = await Promise.all([
    keys(factory, at, keyIds),
    attempt(async () =>
      (
        await Promise.all(
          [...new Set(groupNames)].map(async (name) => {
            const found = await allPages(
              paginateDescribeLogGroups(
                { client: factory.client(CloudWatchLogsClient, at) },
                { logGroupNamePrefix: name },
              ),
              (p) => p.logGroups,
            );
            const g = found.find((x) => x.logGroupName === name);
            return g ? [{ name, retentionDays: g.retentionInDays }] : [];
          }),
        )
      ).flat(),
    ),
  ]);
  return {
    guardDuty: gd,
    securityHub,
    detective,
    vpcs: { ok: true, value: vpcList },
    flowLogs,
    queryLogs,
    queryLogGroups,
    logGroups,
    instances,
    launchTemplates,
    ssmOnline,
    ebsDefault,
    volumes,
    volumeKeys,
    snapshotCopyQuota: quota,
  };
}
