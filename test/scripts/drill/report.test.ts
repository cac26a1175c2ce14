import { expect } from "chai";
import { parseScenario } from "../../../scripts/commands/drill";
import {
  countSteps,
  drillPassed,
  evidenceLines,
  renderHtml,
  renderMarkdown,
  type DrillReport,
} from "../../../scripts/drill/report";
import { phaseDuration, stepRunsIn, type RunbookResult, type StepResult } from "../../../scripts/drill/runbook-model";
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

  it("does not time a phase with a failed or skipped step", () => {
    expect(
      phaseDuration(
        [
          step("a", "passed", "evidence", "2026-03-02T09:00:01.000Z", 5),
          step("b", "skipped", "evidence", "2026-03-02T09:00:01.000Z", 0),
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

  it("passes a drill only when steps ran and every one passed: a failed or skipped step fails it", () => {
    const a = step("a", "passed", "contain", "2026-03-02T09:00:01.000Z", 5);
    expect(drillPassed(runbook([a]))).to.equal(true);
    expect(drillPassed(runbook([a, step("b", "failed", "custody", "2026-03-02T09:00:01.000Z", 0)]))).to.equal(false);
    expect(drillPassed(runbook([a, step("b", "skipped", "custody", "2026-03-02T09:00:01.000Z", 0)]))).to.equal(false);
    expect(drillPassed(runbook([]))).to.equal(false);
  });

  it("selects steps by scenario", () => {
    expect(stepRunsIn(["leaked-key"], "leaked-key")).to.equal(true);
    expect(stepRunsIn(["leaked-key"], "compromised-instance")).to.equal(false);
    expect(stepRunsIn(["compromised-instance"], "all")).to.equal(true);
  });

  const report = (overrides: Partial<RunbookResult> = {}): DrillReport => ({
    version: 1,
    passed: false,
    counts: { passed: 1, failed: 0, skipped: 1, "not-in-scenario": 0 },
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
      imageId: "ami-1",
      disks: [],
    },
    documents: [],
    runbook: {
      ...runbook([
        step("a", "passed", "contain", "2026-03-02T09:00:01.000Z", 5),
        step("hash-snapshots", "skipped", "custody", "2026-03-02T09:00:01.000Z", 0),
      ]),
      ...overrides,
    },
  });

  it("escapes what it puts in the HTML and marks skipped steps as such", () => {
    const html = renderHtml(report());
    expect(html).to.contain("step a &lt;b&gt;");
    expect(html).not.to.contain("step a <b>");
    expect(html).to.match(
      /data-step="hash-snapshots"><td>[^<]*&lt;b&gt;<\/td><td><span class="status">SKIPPED<\/span>/,
    );
    expect(renderMarkdown(report())).to.match(/\| step hash-snapshots \\<b\\> \| SKIPPED \|/);
  });

  it("states each evidence check, a digest that differs from the planted disk and a check that did not run included", () => {
    const hash = (device: string, matches: boolean) => ({
      device,
      volumeId: `vol-${device}`,
      forensicSnapshotId: `snap-${device}`,
      imageSha256: "a".repeat(64),
      plantedSha256: matches ? "a".repeat(64) : "b".repeat(64),
      matches,
      writtenBlocks: 3,
      recordSequence: 7,
    });
    expect(evidenceLines(report({ snapshotHashes: [hash("xvda", true), hash("sdb", false)] }).runbook)).to.deep.equal([
      {
        ok: true,
        text: `xvda (vol-xvda) -> forensic snapshot snap-xvda: image SHA-256 ${"a".repeat(64)} equals the planted raw disk ${"a".repeat(64)} (3 written blocks; record 7)`,
      },
      {
        ok: false,
        text: `sdb (vol-sdb) -> forensic snapshot snap-sdb: image SHA-256 ${"a".repeat(64)} DIFFERS FROM the planted raw disk ${"b".repeat(64)} (3 written blocks; record 7)`,
      },
    ]);
    expect(evidenceLines(report().runbook)).to.deep.equal([
      { ok: false, text: "forensic snapshots not hashed (see the runbook)" },
    ]);
  });

  it("lists every ledger record in the timeline with its actor and evidence hashes, escaped", () => {
    const timeline = [
      {
        sequence: 0,
        time: "2026-03-02T09:00:01.000Z",
        actor: "arn:aws:sts::222222222222:assumed-role/R/<x>",
        action: "evidence.put",
        subjects: ["s3://b/k"],
        outcome: "succeeded",
        evidence: [{ kind: "memory", location: "s3://b/k", sha256: "c".repeat(64) }],
      },
    ];
    const html = renderHtml(report({ timeline }));
    expect(html).to.contain(`<code class="hash">${"c".repeat(64)}</code>`);
    expect(html).to.contain("assumed-role/R/&lt;x&gt;");
    const markdown = renderMarkdown(report({ timeline }));
    expect(markdown).to.contain("| 0 | 2026-03-02T09:00:01.000Z | evidence.put | succeeded | NOT VERIFIED |");
    expect(markdown).to.contain("- Actor: arn:aws:sts::222222222222:assumed-role/R/\\<x\\>");
    expect(markdown).to.contain(`| 0 | memory | s3://b/k | \`${"c".repeat(64)}\` | — |`);
  });

  it("lists a step the scenario does not run as not in this scenario: neither a pass nor a failure", () => {
    const steps = [
      step("contain-sessions", "passed", "contain", "2026-03-02T09:00:01.000Z", 5),
      step("capture", "not-in-scenario", "evidence", "2026-03-02T09:00:01.000Z", 0),
    ];
    const r = { ...runbook(steps), timeToContainMs: 1005 };
    expect(drillPassed(r)).to.equal(true);
    const full = report(r);
    const rendered = { ...full, passed: true, counts: countSteps(r), runbook: r };
    const md = renderMarkdown(rendered);
    expect(md).to.contain("- Time to evidence secured: **not in this scenario**");
    expect(md).to.contain("- Steps: 1 passed, 0 failed, 0 skipped, 1 not in this scenario");
    expect(md).to.match(/\| step capture \\<b\\> \| NOT IN THIS SCENARIO \|/);
    const failed = { ...r, steps: [step("capture", "failed", "evidence", "2026-03-02T09:00:01.000Z", 5)] };
    expect(renderMarkdown({ ...full, runbook: failed })).to.contain(
      "- Time to evidence secured: **not measured (a step of the phase did not pass)**",
    );
  });

  it("shows the time the deadlines were computed at in the HTML", () => {
    const clock = {
      now: "2026-03-02T09:00:05Z",
      timeZone: "UTC",
      regimes: [],
      events: { aware: "2026-03-02T09:00:00Z" },
      deadlines: [],
      waiting: [],
      warnings: [],
    };
    expect(renderHtml(report({ clock }))).to.contain(
      '<p id="deadlines-computed">Computed at <time>2026-03-02T09:00:05Z</time>; awareness 2026-03-02T09:00:00Z.</p>',
    );
  });

  it("refuses an unknown scenario with the valid ones", () => {
    expect(parseScenario(undefined)).to.equal("all");
    expect(() => parseScenario("ransomware")).to.throw(
      UsageError,
      /--scenario "ransomware" is not a drill scenario: use leaked-key, compromised-instance, all/,
    );
  });
});
