import { expect } from "chai";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { useEmulatorEnvironment } from "../../../scripts/drill/drill";
import { drillDisks, rawImageSha256 } from "../../../scripts/drill/disk";
import type { DrillReport } from "../../../scripts/drill/report";
import { printToPdf } from "../../support/print";

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

/** Runs `bin/flz` as an operator would; resolves with its exit code and output. */
function runFlz(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(__dirname, "../../../bin/flz"), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

// The drill runs as the command, in its own process: as operators and CI run it, and out of reach of any SDK client
// mock another test file of this process may have installed.
describe("flz drill (the whole rehearsal, as a process against its own emulator)", function () {
  this.timeout(120_000);
  let outcome: { report: DrillReport; files: { json: string; markdown: string; html: string; landingZone: string } };
  let run: { code: number | null; stdout: string; stderr: string };

  before(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "flz-drill-"));
    run = await runFlz(["drill", "--json", "--report", dir, "--case", "DRILL-CI-1"]);
    const file = (name: string): string => path.join(dir, name);
    outcome = {
      report: JSON.parse(run.stdout) as DrillReport,
      files: {
        json: file("drill-report.json"),
        markdown: file("drill-report.md"),
        html: file("drill-report.html"),
        landingZone: file("landing-zone.json"),
      },
    };
  });

  it("exits 0 and prints exactly one JSON document, the report it wrote, with progress on stderr", () => {
    expect(run.code, run.stderr).to.equal(0);
    expect(outcome.report).to.deep.equal(JSON.parse(readFileSync(outcome.files.json, "utf8")));
    expect(run.stderr).to.match(/seeding the organisation/);
  });

  it("passes: every step of the runbook ran and passed", () => {
    const { report } = outcome;
    const failed = report.runbook.steps.filter((s) => s.status !== "passed");
    expect(failed.map((s) => `${s.id} ${s.status}: ${s.error}`)).to.deep.equal([]);
    expect(report.passed).to.equal(true);
    expect(report.runbook.steps.map((s) => s.id)).to.deep.equal([
      "open-case",
      "contain-sessions",
      "contain-access-key",
      "contain-instance",
      "capture",
      "hash-snapshots",
      "put-artefact",
      "verify-custody",
      "clock",
    ]);
  });

  it("made only AWS calls that the stack's policies authorize (every call evaluated by the authorization oracle)", () => {
    const auth = outcome.report.authorization;
    expect(auth?.checked, auth?.note).to.equal(true);
    expect(auth?.problems, auth?.problems.join("\n")).to.deep.equal([]);
    // The oracle saw the runbook's calls (containment, capture, hashing, custody), not only the set-up.
    expect(auth?.evaluatedCalls).to.be.greaterThan(50);
    expect(auth?.requests).to.be.at.least(auth?.evaluatedCalls ?? 0);
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

  it("hashed each forensic copy through the EBS direct APIs: its image digest is the SHA-256 of the raw disk planted", () => {
    const r = outcome.report.runbook;
    const planted = new Map(drillDisks().map((d) => [d.device, rawImageSha256(d)]));
    expect(r.snapshotHashes).to.have.length(2);
    for (const h of r.snapshotHashes ?? []) {
      expect(h.imageSha256, h.device).to.equal(planted.get(h.device));
      expect(h.matches).to.equal(true);
      const captured = r.capture?.snapshots.find((s) => s.device === h.device);
      expect(h.forensicSnapshotId).to.equal(captured?.forensicSnapshotId);
      const record = r.timeline.find((t) => t.sequence === h.recordSequence);
      expect(record?.action).to.equal("evidence.snapshot.hashed");
      expect(record?.evidence.map((e) => [e.location, e.sha256])).to.deep.equal([
        [`arn:aws:ec2:${outcome.report.incident.region}::snapshot/${h.forensicSnapshotId}`, h.imageSha256],
      ]);
    }
  });

  it("put the analyst's artefact with flz evidence put, and the ledger holds the file's own SHA-256", () => {
    const a = outcome.report.runbook.artefact;
    expect(a).to.not.equal(undefined);
    expect(a?.sha256).to.equal(
      createHash("sha256")
        .update(readFileSync(a?.file ?? ""))
        .digest("hex"),
    );
    const record = outcome.report.runbook.timeline.find((t) => t.sequence === a?.recordSequence);
    expect(record?.action).to.equal("evidence.put");
    expect(record?.evidence).to.deep.equal([{ kind: "memory", location: a?.location, sha256: a?.sha256 }]);
  });

  it("verified the whole custody chain and recorded the deadlines in it", () => {
    const r = outcome.report.runbook;
    expect(r.custody?.ok).to.equal(true);
    expect(r.custody?.verified).to.equal(r.custody?.total);
    const actions = r.timeline.map((t) => t.action);
    // Every containment is recorded before (its intent) and after (its completion) it changes AWS.
    expect(actions.slice(0, 7)).to.deep.equal([
      "case.opened",
      "contain.intent",
      "contain.sessions.revoked",
      "contain.intent",
      "contain.access-key.deactivated",
      "contain.intent",
      "contain.instance.isolated",
    ]);
    expect(actions[actions.length - 1]).to.equal("clock.deadlines.computed");
    // The timeline is every record of the ledger (the one the separate evidence put wrote included), and the custody
    // result the report shows covers exactly those records; the verify step itself saw those written before it.
    expect(r.timeline.map((t) => t.sequence)).to.deep.equal([...Array(r.timeline.length).keys()]);
    expect(r.timeline.length).to.equal(r.custody?.total);
    expect(r.custodyAtStep?.total).to.equal(r.timeline.length - 1);
    // Awareness is what the case was opened with: the start of the runbook.
    expect(r.clock?.events.aware).to.equal(r.startedAt.replace(/\.\d{3}Z$/, "Z"));
    expect(r.clock?.deadlines.map((d) => d.regime)).to.include.members(["gdpr", "nis2", "dora", "hipaa"]);
  });

  it("writes the contract it used and the JSON and Markdown reports", () => {
    const json = JSON.parse(readFileSync(outcome.files.json, "utf8")) as DrillReport;
    expect(json.runbook.caseId).to.equal("DRILL-CI-1");
    // The stack's own bucket naming (<prefix>-evidence-<account>-<home region>), as the seed now uses it.
    expect(JSON.parse(readFileSync(outcome.files.landingZone, "utf8")).evidenceBucket).to.equal(
      "flz-evidence-222222222222-us-east-1",
    );
    const md = readFileSync(outcome.files.markdown, "utf8");
    expect(md).to.match(/^# Incident drill DRILL-CI-1: PASSED/);
    expect(md).to.match(/\| Revoke sessions of role app-deploy .* \| PASSED \|/);
  });

  it("stops its emulator at the end", async () => {
    const res = await fetch(outcome.report.endpoint).catch((err: Error) => err);
    expect(res).to.be.instanceOf(Error);
  });

  describe("HTML report in headless Chromium", () => {
    let browser: Browser | undefined;
    before(async function () {
      // A developer without Chromium may skip the browser check; CI installs it (.ci/run) and must never skip it.
      if (!existsSync(CHROMIUM)) {
        if (process.env.CI) throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run installs Debian's chromium`);
        this.skip();
      }
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
        expect(status, step.id).to.equal(step.status.toUpperCase());
      }
      expect(await page.textContent("#custody-result")).to.match(/^Verified: (\d+) of \1 records/);
      expect(await page.locator("#deadlines tbody tr").count()).to.equal(
        outcome.report.runbook.clock?.deadlines.length,
      );
      expect(await page.locator("#timeline tbody tr").count()).to.equal(outcome.report.runbook.timeline.length);
      expect(await page.locator("#records section.record").count()).to.equal(outcome.report.runbook.timeline.length);
      expect(await page.textContent("#deadlines-computed")).to.contain(
        `Computed at ${outcome.report.runbook.clock?.now}`,
      );
      expect(await page.locator("#evidence li.passed").count()).to.equal(3);
      expect(await page.locator("#evidence li.failed").count()).to.equal(0);
      const hashes = outcome.report.runbook.snapshotHashes ?? [];
      expect(await page.textContent("#evidence")).to.contain(hashes[0]?.imageSha256);
      expect(await page.textContent("#time-to-contain strong")).to.match(/^\d+\.\d{3} s$/);
      // The report is self-contained: nothing is loaded from anywhere.
      expect(await page.locator("script, link, img, iframe").count()).to.equal(0);
      await page.close();
    });

    it("prints on A4 with every column, and every record hash is in the PDF's text", async () => {
      const printed = await printToPdf(browser!, outcome.files.html);
      expect(printed.overflowing, "elements wider than an A4 page").to.deep.equal([]);
      const missing = outcome.report.runbook.timeline.filter((t) => !printed.text.includes(t.hash ?? "(no hash)"));
      expect(missing.map((t) => t.sequence)).to.deep.equal([]);
      for (const heading of [
        "Evidence inventory",
        "How an examiner re-verifies, offline",
        "Glossary",
        "Records in detail",
      ])
        expect(printed.text).to.contain(heading);
    });
  });
});

describe("drill environment", () => {
  it("points the SDK at the emulator with dummy credentials, and puts the environment back", () => {
    const before = { ...process.env };
    process.env.AWS_PROFILE = "prod-admin";
    const restore = useEmulatorEnvironment("http://127.0.0.1:1");
    expect([process.env.AWS_ENDPOINT_URL, process.env.AWS_ACCESS_KEY_ID, process.env.AWS_PROFILE]).to.deep.equal([
      "http://127.0.0.1:1",
      "drill",
      undefined,
    ]);
    restore();
    expect(process.env.AWS_PROFILE).to.equal("prod-admin");
    expect(process.env.AWS_ENDPOINT_URL).to.equal(before.AWS_ENDPOINT_URL);
    if (before.AWS_PROFILE === undefined) delete process.env.AWS_PROFILE;
    else process.env.AWS_PROFILE = before.AWS_PROFILE;
  });
});
