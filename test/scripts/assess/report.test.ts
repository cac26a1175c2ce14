// The register's decisions and renderings without AWS: ranking, scores, baseline, selectors, retention, the
// resume file, SARIF 2.1.0 structure, and the HTML page in headless Chromium (rendered, printable on A4, inert).
import { expect } from "chai";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { CHECKS } from "../../../scripts/assess/catalog";
import { summariseSelectors } from "../../../scripts/assess/collect/organization";
import { accountMayUseKey } from "../../../scripts/assess/collect/region";
import { deniesAll, requiresMfa, trusts } from "../../../scripts/assess/policy";
import { buildReport, compareWithBaseline, failsThreshold } from "../../../scripts/assess/register";
import { renderHtml } from "../../../scripts/assess/render-html";
import { renderMarkdown } from "../../../scripts/assess/render-markdown";
import { regimeWindowDays, requiredRetention } from "../../../scripts/assess/retention";
import { renderSarif } from "../../../scripts/assess/sarif";
import { SCENARIOS } from "../../../scripts/assess/scenarios";
import { StateFile } from "../../../scripts/assess/state";
import type { Finding } from "../../../scripts/assess/types";

const CHROMIUM = process.env.FLZ_CHROMIUM ?? "/usr/bin/chromium";
const SCREENSHOTS = path.join(__dirname, "..", "..", "..", "test-results");
const A = "333333333333";
const B = "444444444444";

function finding(check: string, status: Finding["status"], where: Partial<Finding> = {}): Finding {
  return { check, status, message: `${check} ${status}`, evidence: [`Api: ${check}`], ...where };
}

/** A small organisation: the trail stopped (organisation-wide), one account without flow logs, one clean. */
function sample(extra: Finding[] = []) {
  const findings: Finding[] = [
    finding("FLZ-TRAIL-02", "fail", { resource: "arn:aws:cloudtrail:us-east-1:111111111111:trail/t" }),
    finding("FLZ-NET-01", "fail", { account: A, region: "us-east-1", resource: "vpc-<script>alert(1)</script>" }),
    finding("FLZ-NET-01", "pass", { account: B, region: "us-east-1", resource: "vpc-b" }),
    finding("FLZ-EC2-02", "fail", { account: A, region: "us-east-1", resource: "lt-1" }),
    finding("FLZ-ROLE-01", "pass", { account: A }),
    finding("FLZ-ROLE-01", "pass", { account: B }),
    ...extra,
  ];
  return buildReport({
    startedAt: "2026-11-27T00:00:00.000Z",
    generatedAt: "2026-11-27T00:01:00.000Z",
    organizationId: "o-sample00000",
    forensicAccountId: "222222222222",
    accounts: [A, B],
    regions: ["us-east-1"],
    scenarios: SCENARIOS,
    requiredRetention: { days: 365, reason: "configured" },
    findings,
    unreadable: [{ scope: "region", account: B, region: "eu-west-1", reason: "AccessDenied: <b>no</b>" }],
  });
}

describe("flz assess register", () => {
  it("ranks gaps by the runbook steps they break, then severity", () => {
    const report = sample();
    expect(report.gaps.map((g) => g.check)).to.deep.equal(["FLZ-TRAIL-02", "FLZ-NET-01", "FLZ-EC2-02"]);
    // the stopped trail breaks capture in every scenario for both accounts; flow logs one hunt in one account
    expect(report.gaps[0].breaks).to.have.length(2 * 2);
    expect(report.gaps[1].breaks).to.deep.equal([{ scenario: "compromised-instance", step: "hunt", account: A }]);
    expect(report.gaps[2].breaks).to.deep.equal([]);
    expect(report.scores.accounts[B]).to.be.greaterThan(report.scores.accounts[A]);
    expect(failsThreshold(report, "critical")).to.equal(true);
    expect(failsThreshold({ gaps: report.gaps.slice(1) }, "critical")).to.equal(false);
    expect(failsThreshold(report, "none")).to.equal(false);
  });

  it("counts an unread check as a gap, never a pass", () => {
    const report = sample([finding("FLZ-DET-01", "unknown", { account: B, region: "eu-west-1" })]);
    expect(report.gaps.map((g) => `${g.check} ${g.status}`)).to.include("FLZ-DET-01 unknown");
    expect(
      report.scenarios.find((v) => v.account === B && v.scenario === "leaked-access-key")?.steps[3].works,
    ).to.equal(false);
  });

  it("tells what improved and what regressed since a baseline", () => {
    const before = sample();
    const after = sample([finding("FLZ-EC2-01", "fail", { account: B, region: "us-east-1", resource: "i-1" })]);
    const fixed = { ...after, gaps: after.gaps.filter((g) => g.check !== "FLZ-EC2-02") };
    const diff = compareWithBaseline(fixed, before, "before.json");
    expect(diff.improved).to.deep.equal([`FLZ-EC2-02|${A}|us-east-1|lt-1`]);
    expect(diff.regressed).to.deep.equal([`FLZ-EC2-01|${B}|us-east-1|i-1`]);
    expect(diff.unchanged).to.equal(2);
  });

  it("reads basic and advanced event selectors", () => {
    expect(
      summariseSelectors({
        EventSelectors: [
          {
            ReadWriteType: "All",
            IncludeManagementEvents: true,
            DataResources: [{ Type: "AWS::S3::Object", Values: ["arn:aws:s3"] }],
          },
        ],
      }),
    ).to.deep.equal({ management: "All", excludedSources: [], s3Data: "all", s3Buckets: [] });
    expect(
      summariseSelectors({
        AdvancedEventSelectors: [
          {
            FieldSelectors: [
              { Field: "eventCategory", Equals: ["Management"] },
              { Field: "eventSource", NotEquals: ["kms.amazonaws.com"] },
            ],
          },
          {
            FieldSelectors: [
              { Field: "eventCategory", Equals: ["Data"] },
              { Field: "resources.type", Equals: ["AWS::S3::Object"] },
              { Field: "resources.ARN", StartsWith: ["arn:aws:s3:::payroll/"] },
            ],
          },
        ],
      }),
    ).to.deep.equal({
      management: "All",
      excludedSources: ["kms.amazonaws.com"],
      s3Data: "some",
      s3Buckets: ["arn:aws:s3:::payroll/"],
    });
    expect(summariseSelectors({ EventSelectors: [{ ReadWriteType: "WriteOnly" }] }).management).to.equal("WriteOnly");
    expect(summariseSelectors({}).management).to.equal("None");
  });

  it("reads the documents that decide trust, MFA, guardrails and key use", () => {
    const trust = JSON.stringify({
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::222222222222:role/R" },
          Action: "sts:AssumeRole",
          Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } },
        },
      ],
    });
    expect(trusts(trust, "arn:aws:iam::222222222222:role/R")).to.equal(true);
    expect(trusts(trust, "arn:aws:iam::222222222222:role/Other")).to.equal(false);
    expect(requiresMfa(trust)).to.equal(true);
    expect(requiresMfa(trust.replace('"true"', '"false"'))).to.equal(false);
    const scp = JSON.stringify({
      Statement: [
        {
          Effect: "Deny",
          Action: ["cloudtrail:Stop*", "cloudtrail:DeleteTrail"],
          Resource: "arn:aws:cloudtrail:*:*:trail/*",
        },
      ],
    });
    const trail = "arn:aws:cloudtrail:us-east-1:111111111111:trail/t";
    expect(deniesAll([scp], ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"], trail, A)).to.equal(true);
    expect(deniesAll([scp], ["cloudtrail:UpdateTrail"], trail, A)).to.equal(false);
    // A deny may exempt the role that deploys it, not the account's administrators: a rewritten exemption that also
    // covers the root user, every role, or the Identity Center administrators leaves the trail unprotected.
    const exempting = (operator: string, principals: string[]) =>
      JSON.stringify({
        Statement: [
          {
            Effect: "Deny",
            Action: "cloudtrail:StopLogging",
            Resource: "*",
            Condition: { [operator]: { "aws:PrincipalArn": principals } },
          },
        ],
      });
    const stop = ["cloudtrail:StopLogging"];
    expect(deniesAll([exempting("ArnNotLike", ["arn:aws:iam::*:role/FlzDeployment"])], stop, trail, A)).to.equal(true);
    expect(deniesAll([exempting("StringNotEquals", [`arn:aws:iam::${A}:role/Deployer`])], stop, trail, A)).to.equal(
      true,
    );
    for (const wide of [
      "*",
      "arn:aws:iam::*:root",
      `arn:aws:iam::${A}:role/*`,
      "arn:aws:iam::*:role/aws-reserved/*",
      "arn:aws:iam::*:role/Admin*",
    ])
      expect(
        deniesAll([exempting("ArnNotLike", ["arn:aws:iam::*:role/FlzDeployment", wide])], stop, trail, A),
        wide,
      ).to.equal(false);
    expect(
      deniesAll([exempting("ArnNotLikeIfExists", ["arn:aws:iam::*:role/FlzDeployment"])], stop, trail, A),
    ).to.equal(false);
    // a condition on anything else limits when the deny applies; a resource tag narrows what it protects
    const conditioned = (condition: Record<string, Record<string, string>>) =>
      JSON.stringify({
        Statement: [{ Effect: "Deny", Action: "cloudtrail:StopLogging", Resource: "*", Condition: condition }],
      });
    expect(
      deniesAll([conditioned({ StringEquals: { "aws:RequestedRegion": "ap-south-2" } })], stop, trail, A),
    ).to.equal(false);
    expect(
      deniesAll([conditioned({ StringEquals: { "aws:ResourceTag/flz:purpose": "trail" } })], stop, trail, A),
    ).to.equal(true);
    // a deny that binds only one named principal binds no administrator
    expect(deniesAll([exempting("ArnLike", ["arn:aws:iam::*:role/Intern"])], stop, trail, A)).to.equal(false);
    expect(deniesAll([exempting("ArnLike", ["arn:aws:iam::*:*"])], stop, trail, A)).to.equal(true);
    const keyPolicy = (principal: unknown) =>
      JSON.stringify({ Statement: [{ Effect: "Allow", Principal: principal, Action: "kms:*", Resource: "*" }] });
    expect(accountMayUseKey(keyPolicy({ AWS: `arn:aws:iam::${A}:root` }), A)).to.equal(true);
    expect(accountMayUseKey(keyPolicy({ AWS: `arn:aws:iam::${A}:role/app` }), A)).to.equal(false);
  });

  it("requires the longer of the configured retention and the longest reporting window", () => {
    expect(regimeWindowDays("hipaa")).to.equal(60);
    expect(regimeWindowDays("gdpr")).to.equal(3);
    expect(requiredRetention(365, ["gdpr", "hipaa"]).days).to.equal(365);
    const short = requiredRetention(30, ["gdpr", "hipaa"]);
    expect(short.days).to.equal(60);
    expect(short.reason).to.match(/^HIPAA reporting window \(60 days\)/);
  });

  it("resumes only the same assessment, and starts over when the state is stale", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "flz-assess-state-"));
    try {
      const file = path.join(dir, "s.json");
      const id = { organizationId: "o-x", forensicAccountId: "222222222222", accounts: [A, B], regions: ["us-east-1"] };
      const now = new Date("2026-11-27T00:00:00Z");
      writeFileSync(
        file,
        JSON.stringify({ version: 1, fingerprint: "other", startedAt: now.toISOString(), units: {} }),
      );
      expect(() => StateFile.open(file, id, now, false, () => {})).to.throw(/belongs to another assessment.*--fresh/);
      expect(StateFile.open(file, id, now, true, () => {}).resumedUnits).to.equal(0);
      const notes: string[] = [];
      const state = StateFile.open(file, { ...id, accounts: [B, A] }, now, true, () => {});
      return state.record("organization", { x: 1 }).then(() => {
        const later = new Date(now.getTime() + 25 * 3_600_000);
        expect(StateFile.open(file, id, now, false, () => {}).resumedUnits).to.equal(1); // account order does not matter
        expect(StateFile.open(file, id, later, false, (l) => notes.push(l)).resumedUnits).to.equal(0);
        expect(notes[0]).to.match(/more than 24 h ago: starting over/);
      });
    } finally {
      setTimeout(() => rmSync(dir, { recursive: true, force: true }), 100);
    }
  });

  it("writes SARIF 2.1.0: one rule per check, one result per gap pointing at its rule, levels by severity", () => {
    const report = sample();
    const log = renderSarif(report);
    expect(log.version).to.equal("2.1.0");
    expect(log.$schema).to.match(/sarif-2\.1\.0/);
    const run = log.runs[0];
    expect(run.tool.driver.name).to.equal("flz assess");
    expect(run.tool.driver.rules?.map((r) => r.id)).to.deep.equal(CHECKS.map((c) => c.id));
    expect(run.results).to.have.length(report.gaps.length);
    for (const r of run.results ?? []) {
      expect(run.tool.driver.rules?.[r.ruleIndex ?? -1]?.id).to.equal(r.ruleId);
      expect(["none", "note", "warning", "error"]).to.include(r.level);
      expect(r.message.text).to.be.a("string").and.not.equal("");
      expect(r.rank).to.be.within(-1, 100);
      expect(Object.values(r.partialFingerprints ?? {}).every((v) => typeof v === "string")).to.equal(true);
    }
    expect(run.results?.[0].level).to.equal("error"); // the stopped trail is critical
    expect(run.invocations?.[0].executionSuccessful).to.equal(false); // a region was not read
    expect(run.invocations?.[0].toolExecutionNotifications?.[0].message.text).to.contain("eu-west-1");
  });

  it("documents every check in docs/assess.md", () => {
    const doc = readFileSync(path.join(__dirname, "..", "..", "..", "docs", "assess.md"), "utf8");
    expect(CHECKS.filter((c) => !doc.includes(`### ${c.id}: ${c.title}`)).map((c) => c.id)).to.deep.equal([]);
  });

  it("writes Markdown with the scenarios, the ranked register and the checks", () => {
    const md = renderMarkdown(sample());
    expect(md).to.contain("| 1 | critical | FLZ-TRAIL-02");
    expect(md).to.contain(`| ${A} | works | FAILS: FLZ-TRAIL-02 |`);
    expect(md).to.contain("## Not read");
  });

  describe("in headless Chromium", function () {
    this.timeout(120000);
    let browser: Browser;
    let dir: string;
    before(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
      dir = mkdtempSync(path.join(tmpdir(), "flz-assess-html-"));
      mkdirSync(SCREENSHOTS, { recursive: true });
    });
    after(async () => {
      await browser?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("shows the score, the ranked gaps and what was not read, runs nothing from the data, and prints on A4", async () => {
      const report = sample();
      const file = path.join(dir, "register.html");
      writeFileSync(file, renderHtml(report));
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const dialogs: string[] = [];
      page.on("dialog", (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(pathToFileURL(file).href);
      expect(await page.title()).to.equal("Readiness: o-sample00000");
      expect(await page.textContent("#score")).to.equal(String(report.scores.organization));
      const rows = await page
        .locator("#gaps tbody tr")
        .evaluateAll((trs) => trs.map((tr) => [tr.getAttribute("data-rank"), tr.getAttribute("data-check")]));
      expect(rows).to.deep.equal([
        ["1", "FLZ-TRAIL-02"],
        ["2", "FLZ-NET-01"],
        ["3", "FLZ-EC2-02"],
      ]);
      expect(await page.textContent("#unreadable tbody")).to.contain("AccessDenied: <b>no</b>");
      expect(await page.textContent("#gaps")).to.contain("vpc-<script>alert(1)</script>");
      expect(await page.locator("#gaps script, #unreadable b").count()).to.equal(0);
      expect(
        await page.locator(`#scenario-compromised-instance tr[data-account="${A}"] td[data-step="hunt"]`).textContent(),
      ).to.equal("FAILS: FLZ-NET-01");
      expect(dialogs).to.deep.equal([]);
      await page.screenshot({ path: path.join(SCREENSHOTS, "assess-register.png"), fullPage: true });
      await page.emulateMedia({ media: "print" });
      const tableWidth = () =>
        page
          .locator("table")
          .evaluateAll((ts) => Math.max(...ts.map((t) => (t as unknown as { scrollWidth: number }).scrollWidth)));
      const widest = await tableWidth();
      const pdf = await page.pdf({ format: "A4", printBackground: true });
      expect(pdf.subarray(0, 5).toString()).to.equal("%PDF-");
      const pages = (pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g) ?? []).length;
      expect(pages).to.be.at.least(1);
      // A4 is 210 mm wide: minus 2 x 12 mm margins, 186 mm = 703 CSS px; no table may be wider
      await page.setViewportSize({ width: 703, height: 1000 });
      const widestOnA4 = await tableWidth();
      expect(widestOnA4, `tables ${widest}px wide on screen`).to.be.at.most(703);
      writeFileSync(path.join(SCREENSHOTS, "assess-register.pdf"), pdf);
      await page.close();
    });
  });
});
