/**
 * Fault injection over `flz capture` (issue 19): `bin/flz` runs as its own process behind the fault proxy, which
 * kills it at named AWS operations (before or after the emulator applies them) or answers with 503s, throttling,
 * resets, truncated bodies and stalls. After at most one rerun every scenario must converge (convergence.ts), and no
 * process may run past its budget. The figures (kill points and faults tried, converged) are printed at the end.
 */
import { expect } from "chai";
import type { LandingZone } from "../../scripts/contract";
import { openLedger } from "../../scripts/custody/ledger";
import { seedLandingZone, SEED_ACCOUNTS } from "../../scripts/emulator/seed";
import { captureFactory, launchInstance, writeContract } from "../scripts/capture/fixtures";
import { openTestCase } from "../support/cases";
import { useEmulator } from "../support/emulator";
import { startFaultProxy, type FaultProxy, type FaultRule } from "../support/fault-proxy";
import { ensureCompiledCli, runFlzProcess, spawnFlz, type FlzRun } from "../support/fault-proxy-cli";
import { convergenceProblems, type CapturedInstance } from "./convergence";

const MEMBER = SEED_ACCOUNTS.members[0];
const REGION = "eu-west-1";
/** Wall-time budget of one capture process: every fault costs at most a few 5 s attempts. */
const BUDGET_MS = 90_000;

/** Figures of the whole file, printed at the end. */
const figures: { kind: string; name: string; converged: boolean; runs: number; maxMs: number }[] = [];

async function openCase(lz: LandingZone, caseId: string): Promise<void> {
  const factory = captureFactory(lz, caseId);
  try {
    await openTestCase(await openLedger({ factory, landingZone: lz, caseId }));
  } finally {
    factory.destroy();
  }
}

function captureArgs(caseId: string, instance: CapturedInstance): string[] {
  return [
    "capture",
    "--case",
    caseId,
    "--instance",
    instance.instanceId,
    "--account",
    instance.account,
    "--region",
    instance.region,
    "--json",
  ];
}

describe("capture under faults and crashes (fault proxy, flz as a process)", function () {
  this.timeout(300_000);
  const emulator = useEmulator();
  let proxy: FaultProxy;
  let lz: LandingZone;
  let file: string;

  before(async function () {
    this.timeout(400_000);
    await ensureCompiledCli();
  });
  beforeEach(async () => {
    proxy = await startFaultProxy(emulator.endpoint());
    lz = await seedLandingZone();
    file = writeContract(lz);
  });
  afterEach(async () => {
    await proxy?.close();
  });
  after(() => {
    const lines = figures.map(
      (f) =>
        `  ${f.converged ? "converged" : "NOT CONVERGED"}  ${f.kind.padEnd(6)} ${f.name} (${f.runs} run(s), longest ${(f.maxMs / 1000).toFixed(1)} s)`,
    );
    const kills = figures.filter((f) => f.kind === "kill");
    const faults = figures.filter((f) => f.kind !== "kill");
    console.log(
      `\n  capture fault suite: ${kills.filter((f) => f.converged).length}/${kills.length} kill points and ${faults.filter((f) => f.converged).length}/${faults.length} fault scenarios converged\n${lines.join("\n")}`,
    );
  });

  /** Runs the capture with the rules in place, then (if it did not finish) once more without them; checks convergence. */
  async function scenario(kind: string, name: string, rules: FaultRule[], caseId: string): Promise<void> {
    const instance: CapturedInstance = {
      ...(await launchInstance(MEMBER, REGION, 1)),
      account: MEMBER,
      region: REGION,
    };
    await openCase(lz, caseId);
    const active = rules.map((r) => proxy.add(r));
    const runs: FlzRun[] = [
      await runFlzProcess(captureArgs(caseId, instance), { proxy, landingZone: file, budgetMs: BUDGET_MS }),
    ];
    proxy.clear();
    if (runs[0].code !== 0) {
      runs.push(await runFlzProcess(captureArgs(caseId, instance), { proxy, landingZone: file, budgetMs: BUDGET_MS }));
    }
    const last = runs[runs.length - 1];
    const problems = last.code === 0 ? await convergenceProblems(lz, file, caseId, [instance]) : [];
    const converged = last.code === 0 && problems.length === 0 && runs.every((r) => !r.overBudget);
    figures.push({ kind, name, converged, runs: runs.length, maxMs: Math.max(...runs.map((r) => r.ms)) });
    expect(
      active.map((r) => r.hits),
      "every fault was applied",
    ).to.not.include(0);
    for (const r of runs) expect(r.overBudget, `a run exceeded ${BUDGET_MS} ms: ${r.stderr}`).to.equal(false);
    expect(last.code, `final run: ${last.stderr}`).to.equal(0);
    expect(problems).to.deep.equal([]);
    if (kind === "kill") expect(runs[0].killed, "the first run was killed").to.equal(true);
    else expect(runs, `a fault alone needs no rerun: ${runs[0].stderr}`).to.have.length(1);
  }

  const evidenceCopy = /Tag\.\d+\.Value=evidence-copy/;
  const forensicCopy = /Tag\.\d+\.Value=forensic(&|$)/;
  const kills: [string, FaultRule][] = [
    ["before the first CreateSnapshot", { operation: "ec2:CreateSnapshot", when: "before", fault: "kill" }],
    ["after the first CreateSnapshot", { operation: "ec2:CreateSnapshot", when: "after", fault: "kill" }],
    ["after the second CreateSnapshot", { operation: "ec2:CreateSnapshot", when: "after", fault: "kill", skip: 1 }],
    [
      "before the evidence CopySnapshot",
      { operation: "ec2:CopySnapshot", resource: evidenceCopy, when: "before", fault: "kill" },
    ],
    [
      "after the evidence CopySnapshot",
      { operation: "ec2:CopySnapshot", resource: evidenceCopy, when: "after", fault: "kill" },
    ],
    ["before the share", { operation: "ec2:ModifySnapshotAttribute", when: "before", fault: "kill" }],
    ["after the share", { operation: "ec2:ModifySnapshotAttribute", when: "after", fault: "kill" }],
    [
      "before the forensic CopySnapshot",
      { operation: "ec2:CopySnapshot", resource: forensicCopy, when: "before", fault: "kill" },
    ],
    [
      "after the forensic CopySnapshot",
      { operation: "ec2:CopySnapshot", resource: forensicCopy, when: "after", fault: "kill" },
    ],
    ["before LockSnapshot", { operation: "ec2:LockSnapshot", when: "before", fault: "kill" }],
    ["after LockSnapshot", { operation: "ec2:LockSnapshot", when: "after", fault: "kill" }],
    ["after the second LockSnapshot", { operation: "ec2:LockSnapshot", when: "after", fault: "kill", skip: 1 }],
    [
      "before an artefact PutObject",
      { operation: "s3:PutObject", resource: /\/artefacts\//, when: "before", fault: "kill" },
    ],
    [
      "after an artefact PutObject",
      { operation: "s3:PutObject", resource: /\/artefacts\//, when: "after", fault: "kill" },
    ],
    [
      "after a journal claim (4th)",
      { operation: "s3:PutObject", resource: /custody-journal\//, when: "after", fault: "kill", skip: 3 },
    ],
    [
      "before a record write (6th)",
      { operation: "s3:PutObject", resource: /\/custody\/\d+\.json$/, when: "before", fault: "kill", skip: 5 },
    ],
    [
      "after a record write (8th)",
      { operation: "s3:PutObject", resource: /\/custody\/\d+\.json$/, when: "after", fault: "kill", skip: 7 },
    ],
    ["after a KMS Sign (7th)", { operation: "kms:Sign", when: "after", fault: "kill", skip: 6 }],
  ];
  kills.forEach(([name, rule], i) => {
    it(`converges after a kill ${name}`, () => scenario("kill", name, [rule], `IR-KILL-${i}`));
  });

  const faults: [string, FaultRule[]][] = [
    ["CreateSnapshot applied, answered 503", [{ operation: "ec2:CreateSnapshot", when: "after", fault: "503" }]],
    ["CreateSnapshot applied, connection reset", [{ operation: "ec2:CreateSnapshot", when: "after", fault: "reset" }]],
    [
      "evidence CopySnapshot stalled before AWS",
      [{ operation: "ec2:CopySnapshot", resource: evidenceCopy, fault: "stall" }],
    ],
    [
      "forensic CopySnapshot applied, answer stalled",
      [{ operation: "ec2:CopySnapshot", resource: forensicCopy, when: "after", fault: "stall" }],
    ],
    ["CopySnapshot throttled 3 times", [{ operation: "ec2:CopySnapshot", fault: "throttle", times: 3 }]],
    ["journal claim stalled", [{ operation: "s3:PutObject", resource: /custody-journal\//, fault: "stall", skip: 2 }]],
    [
      "journal claim applied, answer lost",
      [{ operation: "s3:PutObject", resource: /custody-journal\//, when: "after", fault: "reset", skip: 2 }],
    ],
    ["KMS Sign stalled", [{ operation: "kms:Sign", fault: "stall", skip: 3 }]],
    [
      "DescribeSnapshots answers truncated 3 times",
      [{ operation: "ec2:DescribeSnapshots", fault: "truncate", times: 3 }],
    ],
    [
      "record reads truncated 3 times",
      [{ operation: "s3:GetObject", resource: /\/custody\//, fault: "truncate", times: 3 }],
    ],
    ["every second EC2 call throttled, 12 in all", [{ operation: "ec2:*", fault: "throttle", every: 2, times: 12 }]],
    ["every third S3 call answered 503, 8 in all", [{ operation: "s3:*", fault: "503", every: 3, times: 8 }]],
  ];
  faults.forEach(([name, rules], i) => {
    it(`completes in one run: ${name}`, () => scenario("fault", name, rules, `IR-FAULT-${i}`));
  });

  it("converges with several instances in two regions captured by concurrent processes under faults", async () => {
    const caseId = "IR-MULTI";
    const targets: CapturedInstance[] = [
      { ...(await launchInstance(MEMBER, "eu-west-1", 2)), account: MEMBER, region: "eu-west-1" },
      { ...(await launchInstance(MEMBER, "us-east-1", 1)), account: MEMBER, region: "us-east-1" },
      {
        ...(await launchInstance(SEED_ACCOUNTS.members[1], "eu-west-1", 0)),
        account: SEED_ACCOUNTS.members[1],
        region: "eu-west-1",
      },
    ];
    await openCase(lz, caseId);
    proxy.add({ operation: "ec2:CopySnapshot", fault: "throttle", times: 4 });
    proxy.add({ operation: "ec2:CreateSnapshot", when: "after", fault: "reset", times: 2 });
    proxy.add({
      operation: "s3:PutObject",
      resource: /custody-journal\//,
      when: "after",
      fault: "reset",
      skip: 5,
      times: 2,
    });
    const first = await Promise.all(
      targets.map((t) => spawnFlz(captureArgs(caseId, t), { proxy, landingZone: file, budgetMs: BUDGET_MS }).done),
    );
    proxy.clear();
    const second = await Promise.all(
      targets.map((t, i) =>
        first[i].code === 0
          ? Promise.resolve(undefined)
          : runFlzProcess(captureArgs(caseId, t), { proxy, landingZone: file, budgetMs: BUDGET_MS }),
      ),
    );
    const finals = targets.map((_, i) => second[i] ?? first[i]);
    const problems = await convergenceProblems(lz, file, caseId, targets);
    const runs = [...first, ...second.filter((r): r is FlzRun => r !== undefined)];
    figures.push({
      kind: "multi",
      name: `3 instances in 2 regions, 3 concurrent processes (${first.filter((r) => r.code !== 0).length} rerun(s))`,
      converged: finals.every((r) => r.code === 0) && problems.length === 0,
      runs: runs.length,
      maxMs: Math.max(...runs.map((r) => r.ms)),
    });
    for (const r of runs) expect(r.overBudget).to.equal(false);
    for (const r of finals) expect(r.code, r.stderr).to.equal(0);
    expect(problems).to.deep.equal([]);
  });

  it("converges with four concurrent processes on one case, two of them on the same instance (one waits for the other)", async () => {
    const caseId = "IR-CONCURRENT";
    const targets: CapturedInstance[] = [
      { ...(await launchInstance(MEMBER, REGION, 1)), account: MEMBER, region: REGION },
      { ...(await launchInstance(MEMBER, REGION, 0)), account: MEMBER, region: REGION },
      { ...(await launchInstance(MEMBER, "us-east-1", 0)), account: MEMBER, region: "us-east-1" },
    ];
    await openCase(lz, caseId);
    const planned = [targets[0], targets[1], targets[2], targets[0]];
    const first = await Promise.all(
      planned.map((t) => spawnFlz(captureArgs(caseId, t), { proxy, landingZone: file, budgetMs: BUDGET_MS }).done),
    );
    const second = await Promise.all(
      planned.map((t, i) =>
        first[i].code === 0
          ? Promise.resolve(undefined)
          : runFlzProcess(captureArgs(caseId, t), { proxy, landingZone: file, budgetMs: BUDGET_MS }),
      ),
    );
    const finals = planned.map((_, i) => second[i] ?? first[i]);
    const problems = await convergenceProblems(lz, file, caseId, targets);
    const runs = [...first, ...second.filter((r): r is FlzRun => r !== undefined)];
    const failedFirst = first.filter((r) => r.code !== 0);
    figures.push({
      kind: "conc",
      name: `4 processes, 3 instances, one case (${failedFirst.length} needed a rerun${failedFirst.length ? `: ${failedFirst.map((r) => r.stderr.trim().split("\n").pop()).join(" | ")}` : ""})`,
      converged: finals.every((r) => r.code === 0) && problems.length === 0,
      runs: runs.length,
      maxMs: Math.max(...runs.map((r) => r.ms)),
    });
    for (const r of finals) expect(r.code, r.stderr).to.equal(0);
    expect(problems).to.deep.equal([]);
    // The two runs of the same instance report the same evidence.
    const [a, d] = [finals[0], finals[3]].map((r) =>
      (JSON.parse(r.stdout) as { snapshots: { forensicSnapshotId: string }[] }).snapshots
        .map((s) => s.forensicSnapshotId)
        .sort(),
    );
    expect(d).to.deep.equal(a);
  });
});
