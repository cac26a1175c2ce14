// flz case metrics through the real CLI entry, against the emulator's evidence bucket and ledger.
import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { seedLandingZone } from "../../../scripts/emulator/seed";
import { runFlz } from "../../support/cli";
import { useEmulator } from "../../support/emulator";

const EVENT = "3e5f0a52-1c7e-4a8b-9d1e-2f6c7b8a9d0e";

describe("flz case metrics (emulator)", function () {
  this.timeout(60000);
  useEmulator();
  let file: string;
  beforeEach(async () => {
    const lz = await seedLandingZone();
    const dir = mkdtempSync(path.join(tmpdir(), "flz-metrics-"));
    file = path.join(dir, "lz.json");
    writeFileSync(file, JSON.stringify(lz));
  });
  const flz = (...args: string[]) => runFlz([...args, "--landing-zone", file]);
  const open = async (id: string, aware: string) => {
    const run = await flz("case", "open", id, "--title", "t", "--aware-at", aware, "--by", "alice");
    expect(run.code, run.err).to.equal(0);
  };

  it("records a cited input (dry run first), and reports the metrics with what is missing", async () => {
    await open("IR-1", "2026-03-02T10:00:00Z");
    const dry = await flz(
      "case",
      "metrics",
      "IR-1",
      "--record",
      "first-indicator",
      "--at",
      "2026-03-02T09:00:00Z",
      "--source",
      `cloudtrail:${EVENT}`,
      "--dry-run",
    );
    expect(dry.code, dry.err).to.equal(0);
    expect(dry.out).to.include(`would record first-indicator at 2026-03-02T09:00:00.000Z (CloudTrail event ${EVENT})`);
    const shown = JSON.parse((await flz("custody", "show", "--case", "IR-1", "--json")).out) as unknown[];
    expect(shown).to.have.length(1);

    const rec = await flz(
      "case",
      "metrics",
      "IR-1",
      "--record",
      "first-indicator",
      "--at",
      "2026-03-02T09:00:00Z",
      "--source",
      `cloudtrail:${EVENT}`,
      "--json",
    );
    expect(rec.code, rec.err).to.equal(0);
    expect(JSON.parse(rec.out)).to.include({ recordedAs: 1, input: "first-indicator" });

    const report = await flz("case", "metrics", "IR-1", "--json");
    expect(report.code, report.err).to.equal(0);
    const doc = JSON.parse(report.out) as { metrics: { key: string; seconds: number | null; reason?: string }[] };
    const detect = doc.metrics.find((m) => m.key === "detect");
    expect(detect?.seconds).to.equal(3600);
    const respond = doc.metrics.find((m) => m.key === "respond");
    expect(respond?.seconds).to.equal(null);
    expect(respond?.reason).to.match(/no containment, capture or evidence record yet/);

    const people = await flz("case", "metrics", "IR-1");
    expect(people.out).to.include("Time to detect: 1h 00m 00s");
    expect(people.out).to.include("Time to recover (MTTR: recover): not computed");
  });

  it("refuses a bad source or input in one line (exit 2), before any record", async () => {
    await open("IR-2", "2026-03-02T10:00:00Z");
    const bad = await flz(
      "case",
      "metrics",
      "IR-2",
      "--record",
      "initial-access",
      "--at",
      "2026-03-02T09:00:00Z",
      "--source",
      "note:gut feeling",
    );
    expect(bad.code).to.equal(2);
    expect(bad.err.trim().split("\n")).to.have.length(1);
    expect(bad.err).to.match(/--source note:gut feeling is not a source initial-access can cite/);
    const unknown = await flz("case", "metrics", "IR-3");
    expect(unknown.code).to.equal(2);
  });

  it("--all: means and medians over closed cases only", async () => {
    await open("IR-A", "2026-03-02T10:00:00Z");
    await open("IR-B", "2026-03-05T10:00:00Z");
    await open("IR-C", "2026-03-06T10:00:00Z"); // never recovered: not in the summary
    const record = async (id: string, kind: string, at: string, source: string) => {
      const run = await flz("case", "metrics", id, "--record", kind, "--at", at, "--source", source);
      expect(run.code, run.err).to.equal(0);
    };
    await record("IR-A", "first-indicator", "2026-03-02T09:00:00Z", `cloudtrail:${EVENT}`);
    await record("IR-A", "recovered", "2026-03-03T10:00:00Z", "note:CHG-1");
    await record("IR-B", "first-indicator", "2026-03-05T07:00:00Z", `cloudtrail:${EVENT}`);
    await record("IR-B", "recovered", "2026-03-05T22:00:00Z", "note:CHG-2");
    await record("IR-C", "first-indicator", "2026-03-01T10:00:00Z", `cloudtrail:${EVENT}`);
    const all = await flz("case", "metrics", "--all", "--json");
    expect(all.code, all.err).to.equal(0);
    const doc = JSON.parse(all.out) as {
      closedCases: string[];
      openCases: string[];
      summary: { key: string; cases: number; meanSeconds: number; medianSeconds: number }[];
    };
    expect(doc.closedCases).to.deep.equal(["IR-A", "IR-B"]);
    expect(doc.openCases).to.deep.equal(["IR-C"]);
    expect(doc.summary.find((s) => s.key === "detect")).to.include({
      cases: 2,
      meanSeconds: 7200,
      medianSeconds: 7200,
    });
    expect(doc.summary.find((s) => s.key === "recover")).to.include({ cases: 2, meanSeconds: (86400 + 12 * 3600) / 2 });
  });
});
