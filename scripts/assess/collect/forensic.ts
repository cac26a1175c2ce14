/**
 * Reads in the forensic account, as the forensic investigator (read-only): the trail and evidence buckets' lock,
 * versioning, public-access block and policy; the forensic keys; the break-glass role; the break-glass alarm.
 */
import { EventBridgeClient, ListRulesCommand, ListTargetsByRuleCommand, type Rule } from "@aws-sdk/client-eventbridge";
import { GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { DescribeKeyCommand, GetKeyPolicyCommand, GetKeyRotationStatusCommand, KMSClient } from "@aws-sdk/client-kms";
import {
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  GetPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { paginateListSubscriptionsByTopic, SNSClient } from "@aws-sdk/client-sns";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { ClientFactory } from "../../aws/clients";
import type { LandingZone } from "../../contract";
import type { AlarmFacts, BucketFacts, ForensicFacts, KeyFacts, RoleFacts } from "../facts";
import type { Read } from "../types";
import { allPages, attempt } from "./read";

/** Days in a year of Object Lock retention (S3 counts a year as 365 days). */
const DAYS_PER_YEAR = 365;

async function bucket(s3: S3Client, name: string, purpose: BucketFacts["purpose"]): Promise<BucketFacts> {
  const [objectLock, versioning, publicAccessBlock, policy] = await Promise.all([
    attempt(
      async () => {
        const c = (await s3.send(new GetObjectLockConfigurationCommand({ Bucket: name }))).ObjectLockConfiguration;
        const retention = c?.Rule?.DefaultRetention;
        return {
          enabled: c?.ObjectLockEnabled === "Enabled",
          mode: retention?.Mode,
          days: retention?.Days ?? (retention?.Years !== undefined ? retention.Years * DAYS_PER_YEAR : undefined),
        };
      },
      { ObjectLockConfigurationNotFoundError: null },
    ),
    attempt(async () => (await s3.send(new GetBucketVersioningCommand({ Bucket: name }))).Status ?? null),
    attempt(
      async () => {
        const c = (await s3.send(new GetPublicAccessBlockCommand({ Bucket: name }))).PublicAccessBlockConfiguration;
        return {
          blockPublicAcls: c?.BlockPublicAcls === true,
          ignorePublicAcls: c?.IgnorePublicAcls === true,
          blockPublicPolicy: c?.BlockPublicPolicy === true,
          restrictPublicBuckets: c?.RestrictPublicBuckets === true,
        };
      },
      { NoSuchPublicAccessBlockConfiguration: null },
    ),
    attempt(async () => (await s3.send(new GetBucketPolicyCommand({ Bucket: name }))).Policy ?? null, {
      NoSuchBucketPolicy: null,
    }),
  ]);
  return { name, purpose, objectLock, versioning, publicAccessBlock, policy };
}

/** The region of a key ARN. */
function regionOf(arn: string, fallback: string): string {
  return arn.split(":")[3] || fallback;
}

/** Reads one key: its metadata, rotation (symmetric keys only) and policy. */
export async function key(
  factory: ClientFactory,
  arn: string,
  purpose: KeyFacts["purpose"],
  home: string,
): Promise<KeyFacts> {
  const region = regionOf(arn, home);
  const kms = factory.client(KMSClient, { region });
  const metadata = await attempt(
    async () => {
      const m = (await kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata;
      return { state: m?.KeyState ?? "Unknown", manager: m?.KeyManager ?? "Unknown", spec: m?.KeySpec ?? "Unknown" };
    },
    { NotFoundException: { state: "NotFound", manager: "Unknown", spec: "Unknown" } },
  );
  if (metadata.ok && metadata.value.state === "NotFound")
    return { arn, purpose, region, metadata, rotation: { ok: true, value: null }, policy: { ok: true, value: "{}" } };
  const symmetric = !metadata.ok || metadata.value.spec === "SYMMETRIC_DEFAULT";
  const [rotation, policy] = await Promise.all([
    symmetric
      ? attempt<boolean | null>(
          async () => (await kms.send(new GetKeyRotationStatusCommand({ KeyId: arn }))).KeyRotationEnabled === true,
        )
      : Promise.resolve<Read<boolean | null>>({ ok: true, value: null }),
    attempt(
      async () => (await kms.send(new GetKeyPolicyCommand({ KeyId: arn, PolicyName: "default" }))).Policy ?? "{}",
    ),
  ]);
  return { arn, purpose, region, metadata, rotation, policy };
}

/** Reads a role's trust policy; null when it does not exist. */
export async function role(iam: IAMClient, name: string): Promise<Read<RoleFacts | null>> {
  return attempt<RoleFacts | null>(
    async () => {
      const r = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role;
      // IAM returns the trust policy URL-encoded.
      return { arn: r?.Arn ?? "", trust: decodeURIComponent(r?.AssumeRolePolicyDocument ?? "{}") };
    },
    { NoSuchEntityException: null, NoSuchEntity: null },
  );
}

async function alarms(factory: ClientFactory, region: string): Promise<AlarmFacts> {
  const events = factory.client(EventBridgeClient, { region });
  const rules = await attempt(async () => {
    // EventBridge has no paginator for ListRules: follow NextToken.
    const list: Rule[] = [];
    let NextToken: string | undefined;
    do {
      const page = await events.send(new ListRulesCommand({ NextToken }));
      list.push(...(page.Rules ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return Promise.all(
      list.map(async (r) => ({
        name: r.Name ?? "",
        state: r.State ?? "",
        pattern: r.EventPattern,
        targets: ((await events.send(new ListTargetsByRuleCommand({ Rule: r.Name }))).Targets ?? []).map(
          (t) => t.Arn ?? "",
        ),
      })),
    );
  });
  if (!rules.ok) return { rules, subscriptions: rules };
  const sns = factory.client(SNSClient, { region });
  const topics = [...new Set(rules.value.flatMap((r) => r.targets).filter((t) => t.startsWith("arn:aws:sns:")))];
  const subscriptions = await attempt(async () =>
    Object.fromEntries(
      await Promise.all(
        topics.map(async (TopicArn) => {
          const subs = await allPages(
            paginateListSubscriptionsByTopic({ client: sns }, { TopicArn }),
            (p) => p.Subscriptions,
          );
          return [
            TopicArn,
            subs.filter((s) => s.SubscriptionArn && s.SubscriptionArn !== "PendingConfirmation").length,
          ];
        }),
      ),
    ),
  );
  return { rules, subscriptions };
}

/**
 * Reads the forensic account.
 *
 * @param factory clients acting in the forensic account as the forensic investigator (its own placement).
 * @param lz the landing zone contract (buckets, keys, home region).
 * @param trailKeyArn the trail's KMS key, as the management account's DescribeTrails reports it (when known); a
 *   promise while the management account is still being read, so everything else here is read meanwhile.
 * @param breakGlassRoleName the break-glass role's name.
 */
export async function collectForensic(
  factory: ClientFactory,
  lz: LandingZone,
  trailKeyArn: string | undefined | Promise<string | undefined>,
  breakGlassRoleName: string,
): Promise<ForensicFacts> {
  // The probe: without a session in the forensic account nothing below can be read; say so once. The reads start
  // with it (they share its session) rather than after it: a failed probe fails the unit whatever they return.
  const probe = factory.client(STSClient, { region: lz.homeRegion }).send(new GetCallerIdentityCommand({}));
  const s3 = factory.client(S3Client, { region: lz.homeRegion });
  const keyList: [string, KeyFacts["purpose"]][] = [
    ...lz.regions.map((r): [string, KeyFacts["purpose"]] => [lz.evidenceKeyArns[r], "evidence"]),
    [lz.custodySigningKeyArn, "signing"],
  ];
  const trailKey = async (): Promise<KeyFacts[]> => {
    const arn = await trailKeyArn;
    return arn ? [await key(factory, arn, "trail", lz.homeRegion)] : [];
  };
  const [, buckets, keys, trailKeys, breakGlass, alarmFacts] = await Promise.all([
    probe,
    Promise.all([bucket(s3, lz.trailBucket, "trail"), bucket(s3, lz.evidenceBucket, "evidence")]),
    Promise.all(keyList.map(([arn, purpose]) => key(factory, arn, purpose, lz.homeRegion))),
    trailKey(),
    role(factory.client(IAMClient, { region: lz.homeRegion }), breakGlassRoleName),
    alarms(factory, lz.homeRegion),
  ]);
  return { buckets, keys: [...keys, ...trailKeys], breakGlass, alarms: alarmFacts };
}
