/**
 * Benchmark: does `flz capture` fan out? Captures 16 volumes (two instances of 8 volumes, in two regions, at the
 * same time, sharing one copy queue) and 1 volume, against the emulator with 100 ms injected before every AWS
 * request (the emulator answers in microseconds, AWS in tens of milliseconds), and prints the wall-time ratio.
 * Target: 16 volumes within 1.5x of 1 volume.
 *
 * Two ledgers: an in-memory one isolates the capture's own fan-out; the real S3 ledger (same latency, KMS Sign and
 * conditional S3 writes against the emulator) is what an operator runs. Its group commit chains the records that
 * arrive while a write is in flight locally and signs and writes them in parallel, so the ~90 records of a 16-volume
 * capture are not ~90 strictly sequential Sign + PutObject round trips. Both ratios are printed; the target applies
 * to the real ledger.
 *
 * Run: npx ts-node --transpile-only bench/capture-fanout.ts
 */
import { createHash } from "node:crypto";
import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { ClientFactory } from "../scripts/aws/clients";
import { captureInstance, CopyQueue } from "../scripts/capture/capture";
import { parseCaptureRequest } from "../scripts/capture/plan";
import type { LandingZone } from "../scripts/contract";
import { openLedger } from "../scripts/custody/ledger";
import type { CustodyEvent, CustodyLedger, CustodyRecord } from "../scripts/custody/types";
import { benchEmulator } from "./support/emulator";
import { seedLandingZone, SEED_ACCOUNTS } from "../scripts/emulator/seed";

const LATENCY_MS = Number(process.env.FLZ_BENCH_LATENCY_MS ?? 100);
const REPEATS = Number(process.env.FLZ_BENCH_REPEATS ?? 3);
const MEMBER = SEED_ACCOUNTS.members[0];

class MemoryLedger implements CustodyLedger {
  private readonly stored: CustodyRecord[] = [];
  constructor(readonly caseId: string) {}
  async append(event: CustodyEvent): Promise<CustodyRecord> {
    const previousHash = this.stored.at(-1)?.hash ?? "0".repeat(64);
    const body = {
      ...event,
      version: 1 as const,
      sequence: this.stored.length,
      case: this.caseId,
      time: new Date().toISOString(),
      actor: "bench",
      previousHash,
    };
    const record = {
      ...body,
      hash: createHash("sha256").update(JSON.stringify(body)).digest("hex"),
      signature: { keyArn: "none", algorithm: "ECDSA_SHA_256" as const, value: "" },
    };
    this.stored.push(record);
    return record;
  }
  async records(): Promise<CustodyRecord[]> {
    return [...this.stored];
  }
}

async function launch(region: string, volumes: number): Promise<string> {
  const factory = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  try {
    const ec2 = factory.client(EC2Client, { account: MEMBER, region });
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: 1,
        MaxCount: 1,
        Placement: { AvailabilityZone: `${region}a` },
      }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId ?? "";
    for (let i = 1; i < volumes; i++) {
      const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 8 }));
      await ec2.send(
        new AttachVolumeCommand({
          InstanceId: instanceId,
          VolumeId: vol.VolumeId,
          Device: `/dev/sd${String.fromCharCode(102 + i)}`,
        }),
      );
    }
    return instanceId;
  } finally {
    factory.destroy();
  }
}

/**
 * moto builds an account's EC2 backend for a region on first use (tens to hundreds of milliseconds, loading its
 * seeded images): a cost AWS does not have, and one the 2-region scenario would pay more of. Pay it before timing.
 */
async function warmEmulator(regions: string[]): Promise<void> {
  const factory = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  try {
    await Promise.all(
      [MEMBER, SEED_ACCOUNTS.forensic].flatMap((account) =>
        regions.map((region) =>
          factory
            .client(EC2Client, { account, region })
            .send(new DescribeSnapshotsCommand({ OwnerIds: ["self"], MaxResults: 5 })),
        ),
      ),
    );
  } finally {
    factory.destroy();
  }
}

/** Captures `perRegion` volumes in each region at once; returns wall milliseconds. */
async function scenario(
  reset: () => Promise<void>,
  regions: string[],
  perRegion: number,
  ledgerKind: "memory" | "s3",
  run: number,
): Promise<number> {
  await reset();
  const lz: LandingZone = await seedLandingZone();
  const targets = await Promise.all(
    regions.map(async (region) => ({ region, instanceId: await launch(region, perRegion) })),
  );
  await warmEmulator(regions);
  const caseId = `BENCH-${regions.length}x${perRegion}-${ledgerKind}-${run}`;
  const factory = new ClientFactory({
    caseId,
    memberRoleName: lz.memberResponderRoleName,
    forensicRoleArn: lz.forensicResponderRoleArn,
    injectedLatencyMs: LATENCY_MS,
  });
  try {
    const ledger =
      ledgerKind === "memory" ? new MemoryLedger(caseId) : await openLedger({ factory, landingZone: lz, caseId });
    const queue = new CopyQueue();
    const started = performance.now();
    const results = await Promise.all(
      targets.map((t) =>
        captureInstance({
          factory,
          landingZone: lz,
          ledger,
          queue,
          request: parseCaptureRequest({ case: caseId, instance: t.instanceId, account: MEMBER, region: t.region }),
        }),
      ),
    );
    const elapsed = performance.now() - started;
    const captured = results.flatMap((r) => r.snapshots).filter((s) => s.state === "completed" && s.locked).length;
    if (captured !== regions.length * perRegion)
      throw new Error(`expected ${regions.length * perRegion} locked snapshots, got ${captured}`);
    return elapsed;
  } finally {
    factory.destroy();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const emulator = await benchEmulator();
  try {
    console.log(`capture fan-out, ${LATENCY_MS} ms injected per request, median of ${REPEATS} runs`);
    for (const ledgerKind of ["memory", "s3"] as const) {
      const one: number[] = [];
      const many: number[] = [];
      for (let run = 0; run < REPEATS; run++) {
        one.push(await scenario(() => emulator.reset(), ["eu-west-1"], 1, ledgerKind, run));
        many.push(await scenario(() => emulator.reset(), ["us-east-1", "eu-west-1"], 8, ledgerKind, run));
      }
      const [a, b] = [median(one), median(many)];
      console.log(
        `ledger ${ledgerKind.padEnd(6)}  1 volume: ${(a / 1000).toFixed(2)} s   16 volumes / 2 regions: ${(b / 1000).toFixed(2)} s   ratio ${(b / a).toFixed(2)}x (target <= 1.5x)`,
      );
    }
  } finally {
    await emulator.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
