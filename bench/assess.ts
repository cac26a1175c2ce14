/**
 * Benchmark of `flz assess`: accounts × regions assessed per minute against the emulator with 100 ms injected per
 * request (AWS answers in tens of milliseconds; the emulator in microseconds), for 1 account and for 20, in the same
 * run. The reference is the 1-account run: the figure is the ratio of the 20-account wall time to it (target ≤ 3,
 * i.e. reading 20 accounts costs at most three times reading one, because accounts and regions are read in parallel).
 *
 * Run: npx ts-node --transpile-only bench/assess.ts [--concurrency N]
 */
import { performance } from "node:perf_hooks";
import { DetectiveClient, ListGraphsCommand, ListInvitationsCommand } from "@aws-sdk/client-detective";
import { EC2Client, GetEbsDefaultKmsKeyIdCommand } from "@aws-sdk/client-ec2";
import {
  CreateAccountCommand,
  CreateOrganizationCommand,
  DescribeResourcePolicyCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import {
  ListAWSDefaultServiceQuotasCommand,
  ListServiceQuotasCommand,
  ServiceQuotasClient,
} from "@aws-sdk/client-service-quotas";
import { DescribeInstanceInformationCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { ClientFactory } from "../scripts/aws/clients";
import { runAssessment } from "../scripts/assess/run";
import { SCENARIOS } from "../scripts/assess/scenarios";
import { startEmulator } from "../scripts/emulator";
import { SEED_ACCOUNTS, seedLandingZone } from "../scripts/emulator/seed";

/** Milliseconds added to every request. */
const LATENCY_MS = 100;

/** Resolves after the injected latency: what a stubbed call costs, like every call that reaches the emulator. */
const answer =
  <T>(value: T) =>
  async (): Promise<T> => {
    await new Promise((r) => setTimeout(r, LATENCY_MS));
    return value;
  };

/**
 * The calls moto does not implement answer with an error page, which the SDK retries with backoff for seconds: that
 * would measure the emulator's gaps, not the assessment. They are answered here after the same injected latency
 * (the tests cover what they return; see test/scripts/assess/fixtures.ts).
 */
function stubEmulatorGaps(): () => void {
  const detective = mockClient(DetectiveClient);
  detective.on(ListGraphsCommand).callsFake(answer({ GraphList: [] }));
  detective.on(ListInvitationsCommand).callsFake(answer({ Invitations: [] }));
  const ssm = mockClient(SSMClient);
  ssm.on(DescribeInstanceInformationCommand).callsFake(answer({ InstanceInformationList: [] }));
  const quotas = mockClient(ServiceQuotasClient);
  const quota = { Quotas: [{ QuotaName: "Concurrent snapshot copies per destination Region", Value: 20 }] };
  quotas.on(ListServiceQuotasCommand).callsFake(answer(quota));
  quotas.on(ListAWSDefaultServiceQuotasCommand).callsFake(answer(quota));
  const ec2 = mockClient(EC2Client);
  ec2.send.callThrough();
  ec2.on(GetEbsDefaultKmsKeyIdCommand).callsFake(answer({ KmsKeyId: "alias/aws/ebs" }));
  const organizations = mockClient(OrganizationsClient);
  organizations.send.callThrough();
  organizations.on(DescribeResourcePolicyCommand).callsFake(answer({ ResourcePolicy: { Content: "{}" } }));
  return () => [detective, ssm, quotas, ec2, organizations].forEach((m) => m.restore());
}

async function main(): Promise<void> {
  const concurrencyArg = process.argv.indexOf("--concurrency");
  const concurrency = concurrencyArg > 0 ? Number(process.argv[concurrencyArg + 1]) : undefined;
  const emulator = await startEmulator();
  process.env.AWS_ENDPOINT_URL = emulator.endpoint;
  process.env.AWS_ACCESS_KEY_ID = "bench";
  process.env.AWS_SECRET_ACCESS_KEY = "bench";
  process.env.AWS_REGION = "us-east-1";
  try {
    const lz = await seedLandingZone();
    // An organisation of 20 members (the management account creates them; moto picks their IDs).
    const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
    const org = admin.client(OrganizationsClient, { account: SEED_ACCOUNTS.management, region: lz.homeRegion });
    await org.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }));
    const accounts: string[] = [];
    for (let i = 0; i < 20; i++) {
      const created = await org.send(
        new CreateAccountCommand({ AccountName: `member-${i}`, Email: `m${i}@example.com` }),
      );
      accounts.push(created.CreateAccountStatus?.AccountId ?? "");
    }
    admin.destroy();
    const restore = stubEmulatorGaps();

    const measure = async (members: string[], latencyMs = LATENCY_MS): Promise<number> => {
      const investigator = new ClientFactory({
        forensicRoleArn: lz.forensicInvestigatorRoleArn,
        memberRoleName: lz.memberInvestigatorRoleName,
        injectedLatencyMs: latencyMs,
      });
      const management = new ClientFactory({
        forensicRoleArn: `arn:aws:iam::${SEED_ACCOUNTS.management}:role/FlzAssessReadOnly`,
        injectedLatencyMs: latencyMs,
      });
      const t0 = performance.now();
      const outcome = await runAssessment({
        landingZone: lz,
        investigator,
        management,
        accounts: members,
        regions: lz.regions,
        scenarios: SCENARIOS,
        requiredRetention: { days: 365, reason: "bench" },
        breakGlassRoleName: "FlzBreakGlass",
        concurrency,
      });
      const ms = performance.now() - t0;
      investigator.destroy();
      management.destroy();
      if (outcome.report.unreadable.length > 0)
        throw new Error(`bench run left scopes unread: ${JSON.stringify(outcome.report.unreadable)}`);
      return ms;
    };
    // Warm-up over every account: the emulator builds each account's and region's backends (default VPC, stock
    // images) on first touch, which costs it far more than any request; AWS has them already.
    await measure(accounts);
    const one = await measure(accounts.slice(0, 1));
    const twenty = await measure(accounts);
    // The same runs without injected latency: what the emulator and this process cost in CPU alone (the machine is
    // shared; AWS's side is parallel). The difference is the time the injected round trips add.
    const oneCpu = await measure(accounts.slice(0, 1), 0);
    const twentyCpu = await measure(accounts, 0);
    const regions = lz.regions.length;
    const perMinute = (n: number, ms: number) => ((n * regions) / ms) * 60000;
    restore();
    process.stdout.write(
      `flz assess, ${LATENCY_MS} ms injected per request, ${regions} regions, concurrency ${concurrency ?? "default"}\n` +
        `   1 account : ${(one / 1000).toFixed(2)} s  (${perMinute(1, one).toFixed(0)} account-regions/min)\n` +
        `  20 accounts: ${(twenty / 1000).toFixed(2)} s  (${perMinute(20, twenty).toFixed(0)} account-regions/min)\n` +
        `  ratio 20/1 : ${(twenty / one).toFixed(2)}x (target <= 3x)\n` +
        `  without injected latency (emulator and client CPU only): 1 account ${(oneCpu / 1000).toFixed(2)} s, 20 accounts ${(twentyCpu / 1000).toFixed(2)} s\n` +
        `  time the 100 ms round trips add: 1 account ${((one - oneCpu) / 1000).toFixed(2)} s, 20 accounts ${((twenty - twentyCpu) / 1000).toFixed(2)} s, ratio ${((twenty - twentyCpu) / (one - oneCpu)).toFixed(2)}x\n`,
    );
  } finally {
    await emulator.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/assess: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
