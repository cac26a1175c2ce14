import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { runDrill, type DrillOutcome } from "../../../scripts/drill/drill";
import type { DrillReport } from "../../../scripts/drill/report";

const CHROMIUM = process.env.FLZ_CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

describe("flz drill (whole rehearsal against its own emulator)", function () {
  this.timeout(120_000);
  let outcome: DrillOutcome;
  let endpointBefore: string | undefined;

  before(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "flz-drill-"));
    endpointBefore = process.env.AWS_ENDPOINT_URL;
    outcome = await runDrill({ scenario: "all", reportDir: dir, caseId: "DRILL-CI-1" });
  });

  it("passes: every step that exists ran and passed, none failed", () => {
    const { report } = outcome;
    const failed = report.runbook.steps.filter((s) => s.status === "failed");
    expect(failed.map((s) => `${s.id}: ${s.error}`)).to.deep.equal([]);
    expect(report.passed).to.equal(true);
    for (const id of [
      "contain-sessions",
      "contain-access-key",
      "contain-instance",
      "capture",
      "verify-custody",
      "clock",
    ]) {
      expect(report.runbook.steps.find((s) => s.id === id)?.status, id).to.equal("passed");
    }
  });

  it("never reports a step that could not run as passed", () => {
    for (const step of outcome.report.runbook.steps.filter((s) => s.status === "unavailable")) {
      expect(step.error).to.match(/not yet available/);
      expect(step.durationMs).to.equal(0);
    }
  });

  it("contained, captured both volumes into locked forensic snapshots, and measured both times", () => {
    const r = outcome.report.runbook;
    expect(r.timeToContainMs).to.be.a("number").and.greaterThan(0);
    expect(r.timeToEvidenceSecuredMs)
      .to.be.a("number")
      .and.greaterThan(r.timeToContainMs as number);
    expect(r.capture?.snapshots).to.have.length(2);
    expect(
      r.capture?.snapshots.every(
        (s) => s.state === "completed" && s.locked && /^snap-/.test(s.forensicSnapshotId ?? ""),
      ),
    ).to.equal(true);
    expect(new Set(r.capture?.snapshots.map((s) => s.volumeId))).to.deep.equal(
      new Set(outcome.report.incident.volumeIds),
    );
  });

  it("verified the whole custody chain and recorded the deadlines in it", () => {
    const r = outcome.report.runbook;
    expect(r.custody?.ok).to.equal(true);
    expect(r.custody?.verified).to.equal(r.custody?.total);
    const actions = r.timeline.map((t) => t.action);
    expect(actions.slice(0, 3)).to.deep.equal([
      "contain.sessions.revoked",
      "contain.access-key.deactivated",
      "contain.instance.isolated",
    ]);
    expect(actions[actions.length - 1]).to.equal("clock.deadlines.computed");
    expect(r.clock?.events.aware).to.equal(r.timeline[0].time.replace(/\.\d{3}Z$/, "Z"));
    expect(r.clock?.deadlines.map((d) => d.regime)).to.include.members(["gdpr", "nis2", "dora", "hipaa"]);
  });

  it("writes the contract it used and the JSON and Markdown reports", () => {
    const json = JSON.parse(readFileSync(outcome.files.json, "utf8")) as DrillReport;
    expect(json.runbook.caseId).to.equal("DRILL-CI-1");
    expect(JSON.parse(readFileSync(outcome.files.landingZone, "utf8")).evidenceBucket).to.equal(
      "flz-evidence-222222222222",
    );
    const md = readFileSync(outcome.files.markdown, "utf8");
    expect(md).to.match(/^# Incident drill DRILL-CI-1: PASSED/);
    expect(md).to.match(/\| Revoke sessions of role app-deploy .* \| PASSED \|/);
  });

  it("restores the environment and stops its emulator", async () => {
    expect(process.env.AWS_ENDPOINT_URL).to.equal(endpointBefore);
    const res = await fetch(outcome.report.endpoint).catch((err: Error) => err);
    expect(res).to.be.instanceOf(Error);
  });

  describe("HTML report in headless Chromium", () => {
    let browser: Browser | undefined;
    before(async function () {
      if (!existsSync(CHROMIUM)) this.skip();
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });
    after(async () => browser?.close());

    it("shows the verdict, the steps with their statuses, the custody result, the deadlines and the timeline", async () => {
      const page = await browser!.newPage();
      await page.goto(pathToFileURL(outcome.files.html).href);
      expect(await page.title()).to.equal("Incident drill DRILL-CI-1: PASSED");
      expect(await page.textContent("#verdict")).to.equal("PASSED");
      const steps = outcome.report.runbook.steps;
      expect(await page.locator("#steps tbody tr").count()).to.equal(steps.length);
      for (const step of steps) {
        const status = await page.locator(`tr[data-step="${step.id}"] .status`).textContent();
        expect(status, step.id).to.equal(
          step.status === "unavailable" ? "NOT YET AVAILABLE" : step.status.toUpperCase(),
        );
      }
      expect(await page.textContent("#custody-result")).to.match(/^Verified: (\d+) of \1 records/);
      expect(await page.locator("#deadlines tbody tr").count()).to.equal(
        outcome.report.runbook.clock?.deadlines.length,
      );
      expect(await page.locator("#timeline tbody tr").count()).to.equal(outcome.report.runbook.timeline.length);
      expect(await page.textContent("#time-to-contain strong")).to.match(/^\d+\.\d{3} s$/);
      // The report is self-contained: nothing is loaded from anywhere.
      expect(await page.locator("script, link, img, iframe").count()).to.equal(0);
      await page.close();
    });
  });
});
