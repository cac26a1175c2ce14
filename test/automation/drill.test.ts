/**
 * `flz drill --scenario automated`, run as the command in its own process: a GuardDuty finding is the only input, and
 * the report gives time from finding to contained and to evidence secured, with the custody chain verified.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { DrillReport } from "../../scripts/drill/report";

function runFlz(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(__dirname, "../../bin/flz"), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("flz drill --scenario automated", function () {
  // A whole drill as a process (emulator start, planting, the run, the hash step) on a loaded machine.
  this.timeout(360_000);

  it("contains and captures the planted instance from a GuardDuty finding alone, and the chain verifies", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "flz-drill-auto-"));
    const run = await runFlz(["drill", "--scenario", "automated", "--json", "--report", dir]);
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as DrillReport;
    expect(report.passed).to.equal(true);
    expect(report.runbook.steps.map((s) => `${s.id}:${s.status}`)).to.deep.equal([
      "automation-intake:passed",
      "automation-contain:passed",
      "automation-capture:passed",
      "automation-hash:passed",
      "automation-verify:passed",
      "automation-notify:passed",
    ]);
    expect(report.runbook.timeToContainMs).to.be.a("number");
    expect(report.runbook.timeToEvidenceSecuredMs).to.be.a("number");
    expect(report.runbook.timeToEvidenceSecuredMs ?? 0).to.be.at.least(report.runbook.timeToContainMs ?? Infinity);
    const actions = report.runbook.timeline.map((t) => t.action);
    expect(actions[0]).to.equal("case.opened");
    expect(actions).to.include.members([
      "automation.decision",
      "contain.instance.isolated",
      "evidence.snapshot.hashed",
    ]);
    // Both planted disks hashed by the state machine, each digest recorded once.
    expect(actions.filter((a) => a === "evidence.snapshot.hashed")).to.have.length(2);
    expect(report.runbook.custody?.ok).to.equal(true);
    expect(report.authorization?.problems).to.deep.equal([]);
  });
});
