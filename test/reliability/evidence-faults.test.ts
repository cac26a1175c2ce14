/**
 * Fault injection over `flz evidence put` (issue 19 item 4): a multipart upload killed or faulted at each of its
 * calls, then rerun once, converges to exactly one recorded object whose recorded SHA-256 is the file's, no
 * unrecorded object, no multipart upload left open, and a chain that verifies.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ListMultipartUploadsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ClientFactory } from "../../scripts/aws/clients";
import type { LandingZone } from "../../scripts/contract";
import { openLedger } from "../../scripts/custody/ledger";
import { seedLandingZone } from "../../scripts/emulator/seed";
import { captureFactory, writeContract } from "../scripts/capture/fixtures";
import { openTestCase } from "../support/cases";
import { useEmulator } from "../support/emulator";
import { startFaultProxy, type FaultProxy, type FaultRule } from "../support/fault-proxy";
import { ensureCompiledCli, runFlzProcess, type FlzRun } from "../support/fault-proxy-cli";
import { caseRecords, convergenceProblems } from "./convergence";

const BUDGET_MS = 90_000;
const figures: { kind: string; name: string; converged: boolean; runs: number; maxMs: number }[] = [];

/** Deterministic, incompressible bytes. */
function bytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let block = createHash("sha256").update(String(seed)).digest();
  for (let o = 0; o < length; o += 32) {
    block.copy(out, o);
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

describe("evidence put under faults and crashes (fault proxy, flz as a process)", function () {
  this.timeout(300_000);
  const emulator = useEmulator();
  let proxy: FaultProxy;
  let lz: LandingZone;
  let file: string;
  let dir: string;

  before(async function () {
    this.timeout(400_000);
    await ensureCompiledCli();
  });
  beforeEach(async () => {
    proxy = await startFaultProxy(emulator.endpoint());
    lz = await seedLandingZone();
    file = writeContract(lz);
    dir = mkdtempSync(path.join(tmpdir(), "flz-evidence-faults-"));
  });
  afterEach(async () => {
    await proxy?.close();
  });
  after(() => {
    const kills = figures.filter((f) => f.kind === "kill");
    const faults = figures.filter((f) => f.kind !== "kill");
    console.log(
      `\n  evidence put fault suite: ${kills.filter((f) => f.converged).length}/${kills.length} kill points and ${faults.filter((f) => f.converged).length}/${faults.length} fault scenarios converged\n${figures
        .map(
          (f) =>
            `  ${f.converged ? "converged" : "NOT CONVERGED"}  ${f.kind.padEnd(6)} ${f.name} (${f.runs} run(s), longest ${(f.maxMs / 1000).toFixed(1)} s)`,
        )
        .join("\n")}`,
    );
  });

  async function openCase(caseId: string): Promise<void> {
    const factory = captureFactory(lz, caseId);
    try {
      await openTestCase(await openLedger({ factory, landingZone: lz, caseId }));
    } finally {
      factory.destroy();
    }
  }

  async function openUploads(caseId: string): Promise<number> {
    const factory = new ClientFactory({ forensicRoleArn: lz.forensicResponderRoleArn });
    try {
      const out = await factory
        .client(S3Client, { region: lz.homeRegion })
        .send(new ListMultipartUploadsCommand({ Bucket: lz.evidenceBucket, Prefix: `cases/${caseId}/` }));
      return (out.Uploads ?? []).length;
    } finally {
      factory.destroy();
    }
  }

  const args = (caseId: string, artefact: string) => [
    "evidence",
    "put",
    "--case",
    caseId,
    "--kind",
    "memory",
    "--part-size-mib",
    "5",
    artefact,
    "--json",
  ];

  async function scenario(
    kind: string,
    name: string,
    rules: FaultRule[],
    caseId: string,
    options: {
      size?: number;
      between?: (artefact: string) => void;
      before?: (artefact: string, data: Buffer) => Promise<void>;
    } = {},
  ): Promise<FlzRun[]> {
    await openCase(caseId);
    const artefact = path.join(dir, `${caseId}.lime`);
    let data = bytes(caseId.length * 7 + 1, options.size ?? 12 * 1024 * 1024 + 5);
    writeFileSync(artefact, data);
    await options.before?.(artefact, data);
    const active = rules.map((r) => proxy.add(r));
    const runs: FlzRun[] = [
      await runFlzProcess(args(caseId, artefact), { proxy, landingZone: file, budgetMs: BUDGET_MS }),
    ];
    proxy.clear();
    if (runs[0].code !== 0) {
      if (options.between) {
        options.between(artefact);
        data = bytes(caseId.length * 7 + 2, data.length);
        writeFileSync(artefact, data);
      }
      runs.push(await runFlzProcess(args(caseId, artefact), { proxy, landingZone: file, budgetMs: BUDGET_MS }));
    }
    const last = runs[runs.length - 1];
    const problems = last.code === 0 ? await convergenceProblems(lz, file, caseId) : [`exit ${last.code}`];
    const records = await caseRecords(lz, caseId);
    const puts = records.filter((r) => r.action === "evidence.put" && r.outcome !== "failed");
    const sha = createHash("sha256").update(data).digest("hex");
    if (puts.length !== 1) problems.push(`${puts.length} evidence.put records (expected 1)`);
    if (puts[0]?.evidence?.[0]?.sha256 !== sha)
      problems.push(`recorded SHA-256 ${puts[0]?.evidence?.[0]?.sha256} is not the file's ${sha}`);
    const uploads = await openUploads(caseId);
    if (uploads !== 0) problems.push(`${uploads} multipart upload(s) left open`);
    figures.push({
      kind,
      name,
      converged: problems.length === 0 && runs.every((r) => !r.overBudget),
      runs: runs.length,
      maxMs: Math.max(...runs.map((r) => r.ms)),
    });
    expect(
      active.map((r) => r.hits),
      "every fault was applied",
    ).to.not.include(0);
    for (const r of runs) expect(r.overBudget).to.equal(false);
    expect(last.code, last.stderr).to.equal(0);
    expect(problems).to.deep.equal([]);
    if (kind === "kill") expect(runs[0].killed).to.equal(true);
    else expect(runs, runs[0].stderr).to.have.length(1);
    return runs;
  }

  const kills: [string, FaultRule, number?][] = [
    ["after CreateMultipartUpload", { operation: "s3:CreateMultipartUpload", when: "after", fault: "kill" }],
    ["after the second UploadPart", { operation: "s3:UploadPart", when: "after", fault: "kill", skip: 1 }],
    ["before CompleteMultipartUpload", { operation: "s3:CompleteMultipartUpload", when: "before", fault: "kill" }],
    ["after CompleteMultipartUpload", { operation: "s3:CompleteMultipartUpload", when: "after", fault: "kill" }],
    [
      "after a single-part PutObject",
      { operation: "s3:PutObject", resource: /\/evidence\//, when: "after", fault: "kill" },
      1024 * 1024,
    ],
    [
      "after the evidence.put record's claim",
      { operation: "s3:PutObject", resource: /custody-journal\//, when: "after", fault: "kill", skip: 1 },
    ],
  ];
  kills.forEach(([name, rule, size], i) => {
    it(`converges after a kill ${name}`, () => scenario("kill", name, [rule], `IR-EVK-${i}`, { size }));
  });

  it("aborts the interrupted upload of a file that changed before the rerun, says so, and records the new content once", async () => {
    const runs = await scenario(
      "kill",
      "after a part, file changed before the rerun",
      [{ operation: "s3:UploadPart", when: "after", fault: "kill" }],
      "IR-EVK-CHANGED",
      { between: () => undefined },
    );
    expect(runs[1].stderr).to.match(/aborted the interrupted upload \S+ of s3:\/\/\S+: \S+ changed since it started/);
  });

  it("reports an object stored without a record in flz case status with its hash, then records it (found by its content hash) instead of uploading it again", async () => {
    const caseId = "IR-EV-ORPHAN";
    let orphanKey = "";
    const runs = await scenario("fault", "an unrecorded object of the same content", [], caseId, {
      size: 2 * 1024 * 1024,
      before: async (_artefact, data) => {
        orphanKey = `cases/${caseId}/evidence/memory/20260101T000000Z-${caseId}.lime`;
        const factory = new ClientFactory({ forensicRoleArn: lz.forensicResponderRoleArn });
        try {
          await factory.client(S3Client, { region: lz.homeRegion }).send(
            new PutObjectCommand({
              Bucket: lz.evidenceBucket,
              Key: orphanKey,
              Body: data,
              ChecksumAlgorithm: "SHA256",
            }),
          );
        } finally {
          factory.destroy();
        }
        const before = await unrecorded(caseId);
        expect(before.map((u) => [u.location, u.sha256])).to.deep.equal([
          [`s3://${lz.evidenceBucket}/${orphanKey}`, createHash("sha256").update(data).digest("hex")],
        ]);
      },
    });
    expect((JSON.parse(runs[0].stdout) as { evidence: { location: string } }).evidence.location).to.equal(
      `s3://${lz.evidenceBucket}/${orphanKey}`,
    );
    expect(runs[0].stderr).to.match(/found by its content hash/);
    expect(await unrecorded(caseId)).to.deep.equal([]);
  });

  /** What `flz case status --json` reports as stored but unrecorded. */
  async function unrecorded(caseId: string): Promise<{ location: string; sha256?: string }[]> {
    const run = await runFlzProcess(["case", "status", caseId, "--json"], {
      proxy,
      landingZone: file,
      budgetMs: BUDGET_MS,
    });
    expect(run.code, run.stderr).to.equal(0);
    return (JSON.parse(run.stdout) as { unrecorded: { location: string; sha256?: string }[] }).unrecorded;
  }

  const faults: [string, FaultRule[], number?][] = [
    ["UploadPart applied, connection reset", [{ operation: "s3:UploadPart", when: "after", fault: "reset" }]],
    ["UploadPart stalled", [{ operation: "s3:UploadPart", fault: "stall", skip: 1 }]],
    ["UploadPart throttled 3 times", [{ operation: "s3:UploadPart", fault: "throttle", times: 3 }]],
    [
      "CreateMultipartUpload applied, connection reset",
      [{ operation: "s3:CreateMultipartUpload", when: "after", fault: "reset" }],
    ],
    [
      "CompleteMultipartUpload applied, connection reset",
      [{ operation: "s3:CompleteMultipartUpload", when: "after", fault: "reset" }],
    ],
    [
      "single-part PutObject applied, answer lost",
      [{ operation: "s3:PutObject", resource: /\/evidence\//, when: "after", fault: "reset" }],
      1024 * 1024,
    ],
    ["HeadObject answers truncated twice", [{ operation: "s3:HeadObject", fault: "truncate", times: 2 }]],
  ];
  faults.forEach(([name, rules, size], i) => {
    it(`completes in one run: ${name}`, () => scenario("fault", name, rules, `IR-EVF-${i}`, { size }));
  });
});
