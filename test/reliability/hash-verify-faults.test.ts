/**
 * Fault injection over `flz hash --snapshot` and `flz custody verify`, run as processes behind the fault proxy (issue
 * 19 items 1 and 5): truncated bodies, resets, throttling and stalls are retried within each command's time budget;
 * a hash killed midway resumes from its manifest's checkpoint to the same digest, recorded once in the case.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { EBSClient } from "@aws-sdk/client-ebs";
import { ClientFactory } from "../../scripts/aws/clients";
import type { LandingZone } from "../../scripts/contract";
import { openLedger } from "../../scripts/custody/ledger";
import { seedLandingZone } from "../../scripts/emulator/seed";
import { writeContract } from "../scripts/capture/fixtures";
import { blockBytes, uploadSnapshot, type UploadBlock } from "../scripts/hash/ebs-fixtures";
import { openTestCase } from "../support/cases";
import { useEmulator } from "../support/emulator";
import { startFaultProxy, type FaultProxy, type FaultRule } from "../support/fault-proxy";
import { ensureCompiledCli, runFlzProcess, type FlzRun } from "../support/fault-proxy-cli";
import { caseRecords, convergenceProblems } from "./convergence";

const BUDGET_MS = 120_000;
const figures: { kind: string; name: string; converged: boolean; runs: number; maxMs: number }[] = [];

describe("hash and verify under faults and crashes (fault proxy, flz as a process)", function () {
  this.timeout(400_000);
  const emulator = useEmulator();
  let proxy: FaultProxy;
  let lz: LandingZone;
  let file: string;
  let dir: string;
  let snapshotId: string;
  let blocks: UploadBlock[];
  let imageSha256: string;
  const caseId = "IR-HV";

  before(async function () {
    this.timeout(400_000);
    await ensureCompiledCli();
  });
  beforeEach(async () => {
    proxy = await startFaultProxy(emulator.endpoint());
    lz = await seedLandingZone();
    file = writeContract(lz);
    dir = mkdtempSync(path.join(tmpdir(), "flz-hv-"));
    blocks = Array.from({ length: 30 }, (_, i) => i * 60_000 + 3).map((index) => ({
      index,
      data: blockBytes(index, 512),
    }));
    const factory = new ClientFactory({ caseId, forensicRoleArn: lz.forensicResponderRoleArn });
    const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
    try {
      // The forensic account's administrator puts the snapshot there; the responder only reads it.
      snapshotId = await uploadSnapshot(
        admin.client(EBSClient, { account: lz.forensicAccountId, region: "us-east-1" }),
        1,
        blocks,
      );
      const ledger = await openLedger({ factory, landingZone: lz, caseId });
      await openTestCase(ledger);
      // A few records for verify to read.
      for (let i = 0; i < 6; i++) await ledger.append({ action: "note.test", subjects: [`s-${i}`] });
    } finally {
      factory.destroy();
      admin.destroy();
    }
    const raw = path.join(dir, "image.raw");
    const fd = openSync(raw, "w");
    ftruncateSync(fd, 2 ** 30);
    for (const b of blocks) writeSync(fd, b.data, 0, b.data.length, b.index * 512);
    closeSync(fd);
    imageSha256 = execFileSync("sha256sum", [raw]).toString().split(" ")[0];
    rmSync(raw);
  });
  afterEach(async () => {
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  after(() => {
    console.log(
      `\n  hash and verify fault suite: ${figures.filter((f) => f.converged).length}/${figures.length} scenarios converged\n${figures
        .map(
          (f) =>
            `  ${f.converged ? "converged" : "NOT CONVERGED"}  ${f.kind.padEnd(6)} ${f.name} (${f.runs} run(s), longest ${(f.maxMs / 1000).toFixed(1)} s)`,
        )
        .join("\n")}`,
    );
  });

  const hashArgs = (extra: string[] = []) => [
    "hash",
    "--snapshot",
    snapshotId,
    "--region",
    "us-east-1",
    "--case",
    caseId,
    "--json",
    ...extra,
  ];

  async function hashScenario(name: string, rules: FaultRule[], check?: (out: { throttled: number }) => void) {
    const active = rules.map((r) => proxy.add(r));
    const run = await runFlzProcess(hashArgs(), { proxy, landingZone: file, budgetMs: BUDGET_MS });
    const out = run.code === 0 ? (JSON.parse(run.stdout) as { imageSha256: string; throttled: number }) : undefined;
    const problems = run.code === 0 ? await convergenceProblems(lz, file, caseId) : [`exit ${run.code}: ${run.stderr}`];
    if (out && out.imageSha256 !== imageSha256)
      problems.push(`digest ${out.imageSha256} is not the image's ${imageSha256}`);
    figures.push({ kind: "hash", name, converged: problems.length === 0 && !run.overBudget, runs: 1, maxMs: run.ms });
    expect(active.map((r) => r.hits)).to.not.include(0);
    expect(run.overBudget).to.equal(false);
    expect(problems).to.deep.equal([]);
    if (out) check?.(out);
  }

  it("hash: truncated block answers are retried per block", () =>
    hashScenario("GetSnapshotBlock answers truncated 4 times", [
      { operation: "ebs:GetSnapshotBlock", when: "after", fault: "truncate", times: 4 },
    ]));
  it("hash: sustained resets are retried per block, as often as configured", () =>
    hashScenario("GetSnapshotBlock reset 12 times (3 blocks beyond the SDK's attempts)", [
      { operation: "ebs:GetSnapshotBlock", fault: "reset", times: 12 },
    ]));
  it("hash: throttling absorbed by the SDK is counted", () =>
    hashScenario(
      "GetSnapshotBlock throttled 5 times",
      [{ operation: "ebs:GetSnapshotBlock", fault: "throttle", times: 5 }],
      (out) => expect(out.throttled).to.equal(5),
    ));
  it("hash: a stalled block read and a stalled listing time out and are retried", () =>
    hashScenario("GetSnapshotBlock and ListSnapshotBlocks stalled", [
      { operation: "ebs:ListSnapshotBlocks", fault: "stall" },
      { operation: "ebs:GetSnapshotBlock", when: "after", fault: "stall", skip: 5 },
    ]));

  it("hash: killed midway, resumes from the manifest's checkpoint to the same digest, recorded once", async () => {
    const manifest = path.join(dir, "snap.jsonl");
    proxy.add({ operation: "ebs:GetSnapshotBlock", when: "after", fault: "kill", skip: 17 });
    const runs: FlzRun[] = [
      await runFlzProcess(hashArgs(["--manifest", manifest, "--checkpoint-every", "1", "--concurrency", "1"]), {
        proxy,
        landingZone: file,
        budgetMs: BUDGET_MS,
      }),
    ];
    proxy.clear();
    const fetchedBefore = proxy.hits("ebs:GetSnapshotBlock");
    runs.push(
      await runFlzProcess(hashArgs(["--manifest", manifest, "--resume"]), {
        proxy,
        landingZone: file,
        budgetMs: BUDGET_MS,
      }),
    );
    const out = JSON.parse(runs[1].stdout || "{}") as { imageSha256?: string; resumedAfterIndex?: number };
    const problems = await convergenceProblems(lz, file, caseId);
    if (out.imageSha256 !== imageSha256) problems.push(`digest ${out.imageSha256} is not the image's ${imageSha256}`);
    const refetched = proxy.hits("ebs:GetSnapshotBlock") - fetchedBefore;
    figures.push({
      kind: "kill",
      name: `hash killed after block 18 of ${blocks.length}, resumed after block index ${out.resumedAfterIndex} (${refetched} blocks fetched again)`,
      converged: problems.length === 0 && runs[0].killed && runs[1].code === 0,
      runs: 2,
      maxMs: Math.max(...runs.map((r) => r.ms)),
    });
    expect(runs[0].killed).to.equal(true);
    expect(runs[1].code, runs[1].stderr).to.equal(0);
    expect(problems).to.deep.equal([]);
    expect(refetched).to.be.below(blocks.length);
    expect((await caseRecords(lz, caseId)).filter((r) => r.action === "evidence.snapshot.hashed")).to.have.length(1);
  });

  const verifyFaults: [string, FaultRule[]][] = [
    [
      "record reads truncated 4 times",
      [{ operation: "s3:GetObject", resource: /\/custody\//, when: "after", fault: "truncate", times: 4 }],
    ],
    [
      "a record read stalled after its headers",
      [{ operation: "s3:GetObject", resource: /\/custody\//, when: "after", fault: "stall", skip: 2 }],
    ],
    ["the listing reset twice", [{ operation: "s3:ListObjectsV2", fault: "reset", times: 2 }]],
    ["KMS GetPublicKey stalled", [{ operation: "kms:GetPublicKey", fault: "stall" }]],
    ["every second S3 call throttled, 8 in all", [{ operation: "s3:*", fault: "throttle", every: 2, times: 8 }]],
  ];
  verifyFaults.forEach(([name, rules]) => {
    it(`verify: ${name}`, async () => {
      const active = rules.map((r) => proxy.add(r));
      const run = await runFlzProcess(["custody", "verify", "--case", caseId, "--json"], {
        proxy,
        landingZone: file,
        budgetMs: BUDGET_MS,
      });
      figures.push({ kind: "verify", name, converged: run.code === 0 && !run.overBudget, runs: 1, maxMs: run.ms });
      expect(active.map((r) => r.hits)).to.not.include(0);
      expect(run.overBudget).to.equal(false);
      expect(run.code, run.stderr).to.equal(0);
    });
  });
});
