import { expect } from "chai";
import { parseScenario } from "../../../scripts/commands/drill";
import { drillPassed, renderHtml, renderMarkdown, type DrillReport } from "../../../scripts/drill/report";
import { phaseDuration, stepRunsIn, type RunbookResult, type StepResult } from "../../../scripts/drill/runbook";
import { UsageError } from "../../../scripts/errors";

const step = (
  id: string,
  status: StepResult["status"],
  phase: StepResult["phase"],
  startedAt: string,
  durationMs: number,
): StepResult => ({
  id,
  title: `step ${id} <b>`,
  phase,
  command: `flz ${id}`,
  status,
  startedAt,
  durationMs,
  summary: "ok",
});
const runbook = (steps: StepResult[]): RunbookResult => ({
  caseId: "DRILL-T",
  scenario: "all",
  startedAt: "2026-03-02T09:00:00.000Z",
  steps,
  timeline: [],
});

describe("drill report decisions", () => {
  it("times a phase from the start to the end of its last step", () => {
    const steps = [
      step("a", "passed", "contain", "2026-03-02T09:00:01.000Z", 500),
      step("b", "passed", "contain", "2026-03-02T09:00:02.000Z", 250),
    ];
    expect(phaseDuration(steps, "contain", "2026-03-02T09:00:00.000Z")).to.equal(2250);
  });

  it("does not time a phase with a failed or unavailable step", () => {
    expect(
      phaseDuration(
        [
          step("a", "passed", "evidence", "2026-03-02T09:00:01.000Z", 5),
          step("b", "unavailable", "evidence", "2026-03-02T09:00:01.000Z", 0),
        ],
        "evidence",
        "2026-03-02T09:00:00.000Z",
      ),
    ).to.equal(undefined);
    expect(
      phaseDuration(
        [step("a", "failed", "contain", "2026-03-02T09:00:01.000Z", 5)],
        "contain",
        "2026-03-02T09:00:00.000Z",
      ),
    ).to.equal(undefined);
  });

  it("fails the drill on any failed step, and never passes a drill where nothing ran", () => {
    expect(
      drillPassed(
        runbook([
          step("a", "passed", "contain", "2026-03-02T09:00:01.000Z", 5),
          step("b", "unavailable", "custody", "2026-03-02T09:00:01.000Z", 0),
        ]),
      ),
    ).to.equal(true);
    expect(
      drillPassed(
        runbook([
          step("a", "passed", "contain", "2026-03-02T09:00:01.000Z", 5),
          step("b", "failed", "custody", "2026-03-02T09:00:01.000Z", 0),
        ]),
      ),
    ).to.equal(false);
    expect(drillPassed(runbook([step("b", "unavailable", "custody", "2026-03-02T09:00:01.000Z", 0)]))).to.equal(false);
  });

  it("selects steps by scenario", () => {
    expect(stepRunsIn(["leaked-key"], "leaked-key")).to.equal(true);
    expect(stepRunsIn(["leaked-key"], "compromised-instance")).to.equal(false);
    expect(stepRunsIn(["compromised-instance"], "all")).to.equal(true);
  });

  it("escapes what it puts in the HTML and marks unavailable steps as such", () => {
    const report: DrillReport = {
      version: 1,
      passed: true,
      counts: { passed: 1, failed: 0, unavailable: 1, skipped: 0 },
      startedAt: "2026-03-02T09:00:00.000Z",
      finishedAt: "2026-03-02T09:00:09.000Z",
      endpoint: "http://127.0.0.1:1",
      incident: {
        account: "333333333333",
        region: "eu-west-1",
        userName: "u",
        accessKeyId: "AKIA",
        roleName: "r",
        sessionArn: "arn",
        sessionIssuedAt: "",
        autoScalingGroup: "g",
        instanceId: "i-1",
        volumeIds: ["vol-1", "vol-2"],
      },
      documents: [],
      runbook: runbook([
        step("a", "passed", "contain", "2026-03-02T09:00:01.000Z", 5),
        step("b", "unavailable", "custody", "2026-03-02T09:00:01.000Z", 0),
      ]),
    };
    const html = renderHtml(report);
    expect(html).to.contain("step a &lt;b&gt;");
    expect(html).not.to.contain("step a <b>");
    expect(html).to.match(/data-step="b"><td>[^<]*&lt;b&gt;<\/td><td><span class="status">NOT YET AVAILABLE<\/span>/);
    expect(renderMarkdown(report)).to.match(/\| step b <b> \| NOT YET AVAILABLE \|/);
  });

  it("refuses an unknown scenario with the valid ones", () => {
    expect(parseScenario(undefined)).to.equal("all");
    expect(() => parseScenario("ransomware")).to.throw(
      UsageError,
      /--scenario "ransomware" is not a drill scenario: use leaked-key, compromised-instance, all/,
    );
  });
});
