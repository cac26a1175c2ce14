/**
 * Benchmark of `flz contain instance`: how many API round trips sit on its critical path (the longest chain of calls
 * each of which started only after the one before it ended), first use in a VPC and with the containment groups
 * already there, and its wall time against the emulator with 100 ms injected per request.
 *
 * Every SDK client the run uses is instrumented with a middleware that records each request's start and end. The
 * reference, measured in the same run through the same clients, is one round trip (a single DescribeInstances): the
 * wall time is printed as a multiple of it, and against the sum of all calls' durations (what running them one
 * after another would cost).
 *
 * Run: npx ts-node --transpile-only bench/contain.ts
 */
import { performance } from "node:perf_hooks";
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { ClientFactory, type ClientClass, type ConfigurableClient, type Placement } from "../scripts/aws/clients";
import { containInstance } from "../scripts/contain/instance";
import type { LandingZone } from "../scripts/contract";
import { openLedger } from "../scripts/custody/ledger";
import { benchEmulator } from "./support/emulator";
import { seedLandingZone, SEED_ACCOUNTS } from "../scripts/emulator/seed";
import { autoScalingGroup, launch, network } from "../test/scripts/contain/fixtures";

/** One request as the instrumentation saw it. */
export interface Call {
  /** SDK client, e.g. `EC2Client`. */
  readonly client: string;
  /** Operation, e.g. `ModifyNetworkInterfaceAttributeCommand`. */
  readonly command: string;
  /** performance.now() when the request entered the client. */
  readonly start: number;
  /** performance.now() when its response (or final error) came back. */
  readonly end: number;
}

/**
 * The longest chain of calls in which each call started after the previous one ended: the number of round trips a
 * run cannot go below, whatever the latency. Calls that overlap are not chained (they ran in parallel).
 */
export function criticalPath(calls: Call[]): Call[] {
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  const best: { length: number; previous?: number }[] = [];
  sorted.forEach((call, i) => {
    let length = 1;
    let previous: number | undefined;
    for (let j = 0; j < i; j++) {
      // Among equally long chains, the predecessor that ended last is the one the call most likely waited for.
      const longer = best[j].length + 1 > length;
      const tieLater = best[j].length + 1 === length && previous !== undefined && sorted[j].end > sorted[previous].end;
      if (sorted[j].end <= call.start && (longer || tieLater)) {
        length = best[j].length + 1;
        previous = j;
      }
    }
    best.push({ length, previous });
  });
  if (sorted.length === 0) return [];
  const last = best.reduce((top, b, i) => (b.length > best[top].length ? i : top), 0);
  const chain: Call[] = [];
  for (let i: number | undefined = last; i !== undefined; i = best[i].previous) chain.unshift(sorted[i]);
  return chain;
}

type Middleware = (
  next: (args: unknown) => Promise<unknown>,
  context: { clientName?: string; commandName?: string },
) => (args: unknown) => Promise<unknown>;

/** A client factory that records every request of every client it hands out. */
class RecordingFactory extends ClientFactory {
  readonly calls: Call[] = [];
  private readonly instrumented = new WeakSet<object>();

  override client<C extends ConfigurableClient>(Client: ClientClass<C>, placement: Placement): C {
    const client = super.client(Client, placement);
    if (!this.instrumented.has(client)) {
      this.instrumented.add(client);
      const stack = client.middlewareStack as unknown as {
        add(mw: Middleware, options: { step: "initialize"; name: string }): void;
      };
      stack.add(
        (next, context) => async (args) => {
          const start = performance.now();
          try {
            return await next(args);
          } finally {
            this.calls.push({
              client: context.clientName ?? Client.name,
              command: context.commandName ?? "?",
              start,
              end: performance.now(),
            });
          }
        },
        { step: "initialize", name: "flzBenchRecorder" },
      );
    }
    return client;
  }
}

/** What one measured containment gave. */
interface Measurement {
  readonly label: string;
  readonly containmentCalls: number;
  readonly containmentDepth: number;
  readonly chain: string[];
  readonly depthWithLedger: number;
  readonly wallMs: number;
  readonly containedMs: number;
  readonly serialMs: number;
  readonly referenceMs: number;
}

async function measure(
  label: string,
  lz: LandingZone,
  caseId: string,
  instanceId: string,
  latencyMs: number,
): Promise<Measurement> {
  const factory = new RecordingFactory({
    caseId,
    forensicRoleArn: lz.forensicResponderRoleArn,
    memberRoleName: lz.memberResponderRoleName,
    injectedLatencyMs: latencyMs,
  });
  try {
    const account = SEED_ACCOUNTS.members[0];
    const region = "us-east-1";
    const ledger = await openLedger({ factory, landingZone: lz, caseId });
    // Warm up what every command pays once per process (role assumption in both accounts, the ledger's head), so the
    // figures are containment's own.
    await Promise.all([
      factory.client(STSClient, { region }).send(new GetCallerIdentityCommand({})),
      factory.client(STSClient, { account, region }).send(new GetCallerIdentityCommand({})),
      ledger.records(),
    ]);
    const ec2 = factory.client(EC2Client, { account, region });
    factory.calls.length = 0;
    const r0 = performance.now();
    await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const referenceMs = performance.now() - r0;

    factory.calls.length = 0;
    const t0 = performance.now();
    const result = await containInstance({ factory, ledger, account, region, dryRun: false }, { instanceId });
    const wallMs = performance.now() - t0;
    if ((result.failures ?? []).length > 0)
      throw new Error(`containment failed: ${(result.failures ?? []).join("; ")}`);
    const containment = factory.calls.filter((c) => c.client === "EC2Client" || c.client === "AutoScalingClient");
    const chain = criticalPath(containment);
    return {
      label,
      containmentCalls: containment.length,
      containmentDepth: chain.length,
      chain: chain.map((c) => c.command.replace(/Command$/, "")),
      depthWithLedger: criticalPath(factory.calls).length,
      wallMs,
      containedMs: Math.max(...containment.map((c) => c.end)) - t0,
      serialMs: factory.calls.reduce((sum, c) => sum + (c.end - c.start), 0),
      referenceMs,
    };
  } finally {
    factory.destroy();
  }
}

/** Runs the benchmark and prints its figures. */
export async function main(): Promise<void> {
  const latencyMs = Number(process.env.FLZ_BENCH_LATENCY_MS ?? 100);
  const emulator = await benchEmulator();
  const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  try {
    const lz = await seedLandingZone();
    const placement = { account: SEED_ACCOUNTS.members[0], region: "us-east-1" };
    const ec2 = admin.client(EC2Client, placement);
    const net = await network(ec2);
    const first = await launch(ec2, net);
    const second = await launch(ec2, net);
    const asg = await autoScalingGroup(ec2, admin.client(AutoScalingClient, placement), net.subnetId, {
      min: 0,
      desired: 1,
      max: 2,
    });

    const results = [
      await measure("first use in the VPC (creates both containment groups)", lz, "BENCH-1", first, latencyMs),
      await measure("containment groups already there", lz, "BENCH-2", second, latencyMs),
      await measure(
        "groups there, instance in an Auto Scaling group (Standby)",
        lz,
        "BENCH-3",
        asg.instanceId,
        latencyMs,
      ),
    ];
    process.stdout.write(`flz contain instance, emulator, ${latencyMs} ms injected per request\n\n`);
    for (const r of results) {
      process.stdout.write(
        `${r.label}\n` +
          `  containment calls: ${r.containmentCalls}, dependent round trips on the critical path: ${r.containmentDepth}` +
          ` (${r.depthWithLedger} with the ledger append)\n` +
          `  critical path: ${r.chain.join(" -> ")}\n` +
          `  contained after ${r.containedMs.toFixed(0)} ms = ${(r.containedMs / r.referenceMs).toFixed(2)} x one round trip (reference ${r.referenceMs.toFixed(0)} ms, same run)\n` +
          `  wall with the ledger record ${r.wallMs.toFixed(0)} ms = ${(r.wallMs / r.referenceMs).toFixed(2)} x one round trip` +
          `; all calls one after another would take ${r.serialMs.toFixed(0)} ms (${(r.serialMs / r.wallMs).toFixed(2)} x the wall time)\n\n`,
      );
    }
  } finally {
    admin.destroy();
    await emulator.stop();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench/contain: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
