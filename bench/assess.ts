/**
 * Benchmark of `flz assess` (issue 18): accounts × regions assessed per minute against the emulator with 100 ms
 * injected per request (AWS answers in tens of milliseconds; the emulator in microseconds), for 1 account and for 20,
 * in the same run. The reference is the 1-account run: the figure is the ratio of the 20-account wall time to it
 * (target ≤ 3: reading 20 accounts costs at most three times reading one, because accounts and regions are read in
 * parallel and AWS's side scales with them).
 *
 * What is timed: the whole `runAssessment` (organisation, forensic account, every account and region, the register),
 * as the user waits for it, after a warm-up over every account (the emulator builds each account's and region's
 * backends, default VPC and stock images, on first touch, which costs it far more than any request; AWS has them).
 * Rounds alternate 1 and 20 accounts so a burst of load on the shared machine hits both; the median is reported.
 *
 * How the latency is injected: by the client factory, on every attempt of every request it sends, the STS AssumeRole
 * calls of its credential providers included (`injectedLatencyMs`); the few calls the emulator lacks are answered by
 * stubs after the same latency. The latency is a timer: it models the round trip, not work. What it cannot model is
 * the emulator's own cost: moto is one Python process on the same (shared, 2-core) machine, so its CPU per request is
 * measured (from /proc) and printed beside this process's, to say how much of the wall time is the emulator's.
 *
 * Run: npm run bench -- assess   (or npx ts-node --transpile-only bench/assess.ts [--concurrency N] [--rounds N]
 *      [--profile <file.cpuprofile>]: a CPU profile of one more 20-account run, for Chrome DevTools)
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { loadavg } from "node:os";
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
import type { AttemptEvent } from "../scripts/aws/attempts";
import { ClientFactory } from "../scripts/aws/clients";
import { setCallObserver, type ObservedCall } from "../scripts/aws/observer";
import { runAssessment } from "../scripts/assess/run";
import { SCENARIOS } from "../scripts/assess/scenarios";
import { SEED_ACCOUNTS, seedLandingZone } from "../scripts/emulator/seed";
import { benchEmulator } from "./support/emulator";

/** Milliseconds added to every request. */
const LATENCY_MS = 100;

/** Resolves after the injected latency: what a stubbed call costs, like every call that reaches the emulator. */
const answer =
  <T>(value: T) =>
  async (): Promise<T> => {
    await new Promise((r) => setTimeout(r, LATENCY_MS));
    return value;
  };

/** An SDK command class, as the stubs below key their answers. */
type CommandClass = abstract new (...args: never[]) => object;

/** What the stubs below patch: a client class's `send`. */
interface SendingPrototype {
  send(command: object, ...rest: unknown[]): Promise<unknown>;
}

/**
 * Answers the given commands of one client class after the injected latency and passes every other command on. A
 * thin patch of the class's `send` (which the factory's call hook looks up at call time, so stubbed calls are still
 * counted): `aws-sdk-client-mock` matched every call of a stubbed class, the ones it passes through included, through
 * sinon's argument matching, which cost this process more CPU per EC2 call than the SDK's own middleware; that was
 * the harness, not the assessment.
 */
function answerCommands(Client: { readonly prototype: object }, answers: [CommandClass, unknown][]): () => void {
  const prototype = Client.prototype as SendingPrototype;
  const own = Object.prototype.hasOwnProperty.call(prototype, "send");
  const original = prototype.send;
  const table = new Map<unknown, unknown>(answers);
  prototype.send = function (this: unknown, command: object, ...rest: unknown[]): Promise<unknown> {
    if (table.has(command.constructor)) return answer(table.get(command.constructor))();
    return original.call(this, command, ...rest);
  };
  return () => {
    if (own) prototype.send = original;
    else delete (prototype as Partial<SendingPrototype>).send;
  };
}

/**
 * The calls moto does not implement answer with an error page, which the SDK retries with backoff for seconds: that
 * would measure the emulator's gaps, not the assessment. They are answered here after the same injected latency
 * (the tests cover what they return; see test/scripts/assess/fixtures.ts).
 */
function stubEmulatorGaps(): () => void {
  const quota = { Quotas: [{ QuotaName: "Concurrent snapshot copies per destination Region", Value: 20 }] };
  const restores = [
    answerCommands(DetectiveClient, [
      [ListGraphsCommand, { GraphList: [] }],
      [ListInvitationsCommand, { Invitations: [] }],
    ]),
    answerCommands(SSMClient, [[DescribeInstanceInformationCommand, { InstanceInformationList: [] }]]),
    answerCommands(ServiceQuotasClient, [
      [ListServiceQuotasCommand, quota],
      [ListAWSDefaultServiceQuotasCommand, quota],
    ]),
    answerCommands(EC2Client, [[GetEbsDefaultKmsKeyIdCommand, { KmsKeyId: "alias/aws/ebs" }]]),
    answerCommands(OrganizationsClient, [[DescribeResourcePolicyCommand, { ResourcePolicy: { Content: "{}" } }]]),
  ];
  return () => restores.forEach((restore) => restore());
}

/** The operations {@link stubEmulatorGaps} answers: they never reach the emulator. */
const STUBBED = new Set([
  "Detective:ListGraphs",
  "Detective:ListInvitations",
  "SSM:DescribeInstanceInformation",
  "Service Quotas:ListServiceQuotas",
  "Service Quotas:ListAWSDefaultServiceQuotas",
  "EC2:GetEbsDefaultKmsKeyId",
  "Organizations:DescribeResourcePolicy",
]);

/** The emulator's process: the child of this one that runs moto (Linux /proc; undefined elsewhere). */
function emulatorPid(): number | undefined {
  try {
    for (const task of readdirSync(`/proc/${process.pid}/task`)) {
      const children = readFileSync(`/proc/${process.pid}/task/${task}/children`, "utf8").split(/\s+/);
      for (const child of children.filter((c) => c))
        if (readFileSync(`/proc/${child}/cmdline`, "utf8").includes("moto_flz")) return Number(child);
    }
  } catch {
    // not Linux, or the process is gone: the emulator's CPU is then not reported
  }
  return undefined;
}

/** CPU seconds (user + system, every thread) a process has used: fields 14 and 15 of /proc/<pid>/stat, in ticks. */
function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Linux's USER_HZ is 100 on every architecture Node supports (sysconf(_SC_CLK_TCK)).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** What one timed run cost. */
interface Sample {
  readonly wallMs: number;
  /** CPU seconds of this process (the assessment's client side). */
  readonly clientCpu: number;
  /** CPU seconds of the emulator. */
  readonly emulatorCpu: number;
}

/** Calls per operation (`Service:Operation`) made for member accounts, and the rest (organisation, forensic). */
interface CallCount {
  readonly member: Map<string, number>;
  readonly other: Map<string, number>;
}

/** Counts every call the assessment makes (the factory's call hook sees stubbed calls and credential calls too). */
function countCalls(members: ReadonlySet<string>): { count: CallCount; stop: () => void } {
  const count: CallCount = { member: new Map(), other: new Map() };
  const previous = setCallObserver((call: ObservedCall) => {
    // A member session's AssumeRole is made as the forensic identity: its account is the role's.
    const roleArn = typeof call.input.RoleArn === "string" ? call.input.RoleArn : "";
    const account = call.operation === "AssumeRole" ? roleArn.split(":")[4] : call.account;
    const bucket = account !== undefined && members.has(account) ? count.member : count.other;
    const name = `${call.serviceId || call.signingName}:${call.operation}`;
    bucket.set(name, (bucket.get(name) ?? 0) + 1);
  });
  return { count, stop: () => void setCallObserver(previous) };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
const numberArg = (name: string): number | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : undefined;
};

async function main(): Promise<void> {
  const concurrency = numberArg("--concurrency");
  const rounds = numberArg("--rounds") ?? 3;
  const emulator = await benchEmulator();
  const motoPid = emulatorPid();
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

    const measure = async (
      members: string[],
      latencyMs = LATENCY_MS,
      onAttempt?: (event: AttemptEvent) => void,
    ): Promise<Sample> => {
      // New factories per run, as a new `flz assess` process has: no client or session carried over.
      const investigator = new ClientFactory({
        forensicRoleArn: lz.forensicInvestigatorRoleArn,
        memberRoleName: lz.memberInvestigatorRoleName,
        injectedLatencyMs: latencyMs,
      });
      const management = new ClientFactory({
        forensicRoleArn: `arn:aws:iam::${SEED_ACCOUNTS.management}:role/FlzAssessReadOnly`,
        injectedLatencyMs: latencyMs,
      });
      const stops = onAttempt ? [investigator.onAttempt(onAttempt), management.onAttempt(onAttempt)] : [];
      const cpu0 = process.cpuUsage();
      const moto0 = processCpuSeconds(motoPid);
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
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const emulatorCpu = processCpuSeconds(motoPid) - moto0;
      stops.forEach((stop) => stop());
      investigator.destroy();
      management.destroy();
      if (outcome.report.unreadable.length > 0)
        throw new Error(`bench run left scopes unread: ${JSON.stringify(outcome.report.unreadable)}`);
      return { wallMs, clientCpu: (cpu.user + cpu.system) / 1e6, emulatorCpu };
    };

    // Warm-up over every account, counting the calls (the counter is off for the timed runs: it costs CPU).
    // Attempts are counted too: a retried call costs the emulator once per attempt (credential STS calls and stubbed
    // calls never reach the attempt hook).
    const counter = countCalls(new Set(accounts));
    const outcomes = new Map<string, number>();
    await measure(accounts, LATENCY_MS, (e) => outcomes.set(e.outcome, (outcomes.get(e.outcome) ?? 0) + 1));
    counter.stop();
    const ones: Sample[] = [];
    const twenties: Sample[] = [];
    for (let i = 0; i < rounds; i++) {
      ones.push(await measure(accounts.slice(0, 1)));
      twenties.push(await measure(accounts));
    }
    // The same runs without injected latency: what the emulator and this process cost in CPU alone.
    const oneCpu = await measure(accounts.slice(0, 1), 0);
    const twentyCpu = await measure(accounts, 0);
    const profile = process.argv.indexOf("--profile");
    if (profile > 0) {
      // A CPU profile of one more 20-account run (not timed), for finding where this process spends its CPU.
      const session = new Session();
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.start");
      await measure(accounts);
      const { profile: taken } = await session.post("Profiler.stop");
      writeFileSync(process.argv[profile + 1], JSON.stringify(taken));
      session.disconnect();
    }
    restore();

    const regions = lz.regions.length;
    const one = median(ones.map((s) => s.wallMs));
    const twenty = median(twenties.map((s) => s.wallMs));
    const perMinute = (n: number, ms: number) => ((n * regions) / ms) * 60000;
    const scopes = accounts.length * regions;
    const memberCalls = sum(counter.count.member);
    const allCalls = memberCalls + sum(counter.count.other);
    const emulatorCalls = [...counter.count.member.entries(), ...counter.count.other.entries()]
      .filter(([name]) => !STUBBED.has(name))
      .reduce((a, [, n]) => a + n, 0);
    const cpuLine = (label: string, samples: Sample[]) => {
      const c = median(samples.map((s) => s.clientCpu));
      const e = median(samples.map((s) => s.emulatorCpu));
      return `  ${label}: client ${c.toFixed(2)} s CPU, emulator ${e.toFixed(2)} s CPU\n`;
    };
    const perApi = [...counter.count.member.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([name, n]) => `${name} ${(n / scopes).toFixed(2)}`)
      .join(", ");
    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(" ");
    process.stdout.write(
      `flz assess, ${LATENCY_MS} ms injected per request, ${regions} regions, concurrency ${concurrency ?? "default"}, ` +
        `median of ${rounds} rounds, load average ${load}\n` +
        `   1 account : ${(one / 1000).toFixed(2)} s  (${perMinute(1, one).toFixed(0)} account-regions/min)\n` +
        `  20 accounts: ${(twenty / 1000).toFixed(2)} s  (${perMinute(20, twenty).toFixed(0)} account-regions/min)\n` +
        `  ratio 20/1 : ${(twenty / one).toFixed(2)}x (target <= 3x)\n` +
        `  requests per account-region: ${(memberCalls / scopes).toFixed(1)} (${perApi})\n` +
        `  requests for the organisation and the forensic account, once per run: ${sum(counter.count.other)}\n` +
        `  attempts of the factory's clients by outcome (20 accounts): ${[...outcomes.entries()].map(([o, n]) => `${o} ${n}`).join(", ")}\n` +
        cpuLine(" 1 account CPU", ones) +
        cpuLine("20 accounts CPU", twenties) +
        `  CPU per request (20 accounts): client ${((median(twenties.map((s) => s.clientCpu)) / allCalls) * 1000).toFixed(1)} ms, ` +
        `emulator ${((median(twenties.map((s) => s.emulatorCpu)) / emulatorCalls) * 1000).toFixed(1)} ms (${emulatorCalls} of the ${allCalls} requests reach it; the rest are stubbed)\n` +
        `  without injected latency (emulator and client CPU only): 1 account ${(oneCpu.wallMs / 1000).toFixed(2)} s, ` +
        `20 accounts ${(twentyCpu.wallMs / 1000).toFixed(2)} s\n` +
        `  load average after: ${loadavg()
          .map((l) => l.toFixed(2))
          .join(" ")}\n`,
    );
  } finally {
    await emulator.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/assess: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
