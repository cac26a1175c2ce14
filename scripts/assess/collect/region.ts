/**
 * Reads one region of one member account, as the member investigator (read-only): detection services, VPC flow
 * and DNS query logging with their log groups' retention, instances and launch templates (IMDS), Systems Manager
 * coverage, EBS encryption and volume keys, and the snapshot copy quota. Independent reads run at once.
 */
import { CloudWatchLogsClient, paginateDescribeLogGroups } from "@aws-sdk/client-cloudwatch-logs";
import { DetectiveClient, paginateListGraphs, paginateListInvitations } from "@aws-sdk/client-detective";
import {
  EC2Client,
  GetEbsDefaultKmsKeyIdCommand,
  GetEbsEncryptionByDefaultCommand,
  paginateDescribeFlowLogs,
  paginateDescribeInstances,
  paginateDescribeLaunchTemplateVersions,
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

/** The retention of each named log group (groups that do not exist are left out). */
async function logGroupRetention(
  factory: ClientFactory,
  at: Placement,
  names: string[],
): Promise<Read<{ name: string; retentionDays?: number }[]>> {
  return attempt(async () =>
    (
      await Promise.all(
        [...new Set(names)].map(async (name) => {
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
  // DNS query logging: the configurations first, the VPC associations only when there is a configuration to be
  // associated with. The listing holds the account's own configurations and those shared with it (ShareStatus
  // SHARED_WITH_ME; sharing grants the recipient route53resolver:ListResolverQueryLogConfigs on them: API reference,
  // ResolverQueryLogConfig and PutResolverQueryLogConfigPolicy), and a VPC can only be associated with one of those,
  // so an empty listing means no association: one request saved in every region without DNS query logging. Not on
  // the critical path: the log groups wait for the configurations anyway, and the associations go alongside them.
  const queryLogConfigs = attempt(async () =>
    Object.fromEntries(
      await allPages(paginateListResolverQueryLogConfigs({ client: resolver }, {}), (p) =>
        (p.ResolverQueryLogConfigs ?? []).map((c) => [c.Id ?? "", c.DestinationArn ?? ""] as [string, string]),
      ),
    ),
  );
  const queryLogAssociations = queryLogConfigs.then((configs) =>
    configs.ok && Object.keys(configs.value).length === 0
      ? { ok: true as const, value: [] }
      : attempt(() =>
          allPages(paginateListResolverQueryLogConfigAssociations({ client: resolver }, {}), (p) =>
            (p.ResolverQueryLogConfigAssociations ?? []).map((a) => ({
              resourceId: a.ResourceId ?? "",
              status: a.Status ?? "",
              configId: a.ResolverQueryLogConfigId ?? "",
            })),
          ),
        ),
  );
  const flowLogs = attempt(() =>
    allPages(paginateDescribeFlowLogs({ client: ec2 }, {}), (p) =>
      (p.FlowLogs ?? []).map((f): FlowLogFacts => ({
        resourceId: f.ResourceId ?? "",
        status: f.FlowLogStatus ?? "",
        destinationType: f.LogDestinationType ?? "cloud-watch-logs",
        logGroup:
          f.LogGroupName || (f.LogDestination?.includes(":log-group:") ? logGroupName(f.LogDestination) : undefined),
      })),
    ),
  );
  const ebsDefault = attempt(async () => {
    const [enabled, keyId] = await Promise.all([
      ec2.send(new GetEbsEncryptionByDefaultCommand({})),
      ec2.send(new GetEbsDefaultKmsKeyIdCommand({})),
    ]);
    return { enabled: enabled.EbsEncryptionByDefault === true, kmsKeyId: keyId.KmsKeyId };
  });
  const volumes = attempt(() =>
    allPages(paginateDescribeVolumes({ client: ec2 }, {}), (p) =>
      (p.Volumes ?? []).map((v) => ({ id: v.VolumeId ?? "", encrypted: v.Encrypted === true, kmsKeyId: v.KmsKeyId })),
    ),
  );
  // The second reads start as soon as what they need is known, not when every first read has answered.
  const volumeKeys = Promise.all([volumes, ebsDefault]).then(([v, d]) =>
    keys(factory, at, [
      ...(v.ok ? v.value.filter((x) => x.kmsKeyId).map((x) => x.kmsKeyId as string) : []),
      ...(d.ok && d.value.enabled && d.value.kmsKeyId ? [d.value.kmsKeyId] : []),
    ]),
  );
  const logGroups = Promise.all([flowLogs, queryLogConfigs]).then(([f, q]) =>
    logGroupRetention(factory, at, [
      ...(f.ok ? f.value.map((x) => x.logGroup).filter((g): g is string => g !== undefined) : []),
      ...(q.ok
        ? Object.values(q.value)
            .filter((arn) => arn.includes(":log-group:"))
            .map(logGroupName)
        : []),
    ]),
  );
  // Every read at once, the VPC list included: it is the region's probe (if it fails, the region is unreadable for
  // that reason), but waiting for it before the others would put one more round trip on every region's path.
  const [
    vpcList,
    gd,
    securityHub,
    detective,
    flowLogRead,
    queryLogs,
    queryLogGroups,
    instances,
    launchTemplates,
    ssmOnline,
    ebsDefaultRead,
    volumeRead,
    quota,
    volumeKeyRead,
    logGroupRead,
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
    flowLogs,
    queryLogAssociations,
    queryLogConfigs,
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
    // One call for every template's default version: EC2 describes "all the default versions of all the launch
    // templates in your account" when the template ID and name are omitted and Versions is $Default (API reference,
    // DescribeLaunchTemplateVersions: LaunchTemplateId, Versions). One request instead of a listing plus one per
    // template, and one round trip instead of two.
    attempt(() =>
      allPages(paginateDescribeLaunchTemplateVersions({ client: ec2 }, { Versions: ["$Default"] }), (p) =>
        (p.LaunchTemplateVersions ?? []).map((v) => ({
          id: v.LaunchTemplateId ?? "",
          name: v.LaunchTemplateName ?? "",
          httpTokens: v.LaunchTemplateData?.MetadataOptions?.HttpTokens,
        })),
      ),
    ),
    attempt(() =>
      allPages(paginateDescribeInstanceInformation({ client: factory.client(SSMClient, at) }, {}), (p) =>
        (p.InstanceInformationList ?? []).filter((i) => i.PingStatus === "Online").map((i) => i.InstanceId ?? ""),
      ),
    ),
    ebsDefault,
    volumes,
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
    volumeKeys,
    logGroups,
  ]);
  return {
    guardDuty: gd,
    securityHub,
    detective,
    vpcs: { ok: true, value: vpcList },
    flowLogs: flowLogRead,
    queryLogs,
    queryLogGroups,
    logGroups: logGroupRead,
    instances,
    launchTemplates,
    ssmOnline,
    ebsDefault: ebsDefaultRead,
    volumes: volumeRead,
    volumeKeys: volumeKeyRead,
    snapshotCopyQuota: quota,
  };
}
