// flz assess against the emulator: an organisation with a deliberate gap of every kind, an account with none, an
// account whose role cannot be assumed, an interrupted run that resumes, and the register's outputs.
import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  DetachPolicyCommand,
  ListPoliciesCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import { STSClient as CredentialProviderSts } from "@aws-sdk/nested-clients/sts";
import { ClientFactory } from "../../../scripts/aws/clients";
import { GUARDDUTY_SILENCING_ACTIONS, protectAlarmsScp } from "../../../components/documents/scp-alarms";
import { CHECKS } from "../../../scripts/assess/catalog";
import { lineAssessProgress } from "../../../scripts/assess/progress";
import type { AssessmentReport } from "../../../scripts/assess/register";
import { AssessmentInterrupted, runAssessment } from "../../../scripts/assess/run";
import { SCENARIOS } from "../../../scripts/assess/scenarios";
import { StateFile } from "../../../scripts/assess/state";
import { runFlz } from "../../support/cli";
import { useEmulator } from "../../support/emulator";
import {
  DEPLOYMENT_ROLE,
  MANAGEMENT,
  MANAGEMENT_ROLE,
  mockGaps,
  recordSessions,
  seedAssessWorld,
  type AssessWorld,
} from "./fixtures";

const US = "us-east-1";
const EU = "eu-west-1";

/** The gaps the members of the seeded organisation must show, as `check|account|region|resource status`. */
function memberGaps(w: AssessWorld): string[] {
  const g = w.gappy;
  const l = w.locked;
  const [usDefault, usExtra] = w.vpcs[`${g}|${US}`];
  const [euDefault] = w.vpcs[`${g}|${EU}`];
  const instance = w.instances[g];
  const perRegion = ["FLZ-DET-01", "FLZ-DET-02", "FLZ-DET-03", "FLZ-DET-04", "FLZ-DET-05", "FLZ-EC2-04"].flatMap(
    (c) => [`${c}|${g}|${EU}| fail`, `${c}|${g}|${US}| fail`],
  );
  const regionChecks = CHECKS.filter((c) => c.scope === "account-region").map((c) => `${c.id}|${l}|| unknown`);
  return [
    ...perRegion,
    `FLZ-ROLE-02|${g}|| fail`,
    `FLZ-ROLE-01|${l}|| fail`,
    `FLZ-ROLE-02|${l}|| unknown`,
    ...regionChecks,
    `FLZ-NET-01|${g}|${EU}|${euDefault} fail`,
    `FLZ-NET-01|${g}|${US}|${usDefault} fail`,
    `FLZ-NET-02|${g}|${EU}|${euDefault} fail`,
    `FLZ-NET-02|${g}|${US}|${usDefault} fail`,
    `FLZ-NET-02|${g}|${US}|${usExtra} fail`,
    `FLZ-RET-01|${g}|${US}|${w.shortLogGroup} fail`,
    `FLZ-EC2-01|${g}|${US}|${instance.instanceId} fail`,
    `FLZ-EC2-02|${g}|${US}|${instance.templateId} fail`,
    `FLZ-EC2-03|${g}|${US}|${instance.instanceId} fail`,
    ...instance.volumeIds.map((v) => `FLZ-EC2-05|${g}|${US}|${v} fail`),
    `FLZ-EC2-06|${g}|${US}| fail`,
  ].sort();
}

const gapsOf = (r: AssessmentReport) => r.gaps.map((x) => `${x.key} ${x.status}`).sort();

describe("flz assess on the emulator", function () {
  this.timeout(300000);
  useEmulator();
  let dir: string;
  let restore: (() => void)[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "flz-assess-"));
  });
  afterEach(() => {
    for (const r of restore.reverse()) r();
    restore = [];
    rmSync(dir, { recursive: true, force: true });
  });

  async function world(ready: boolean): Promise<AssessWorld & { lzFile: string }> {
    const w = await seedAssessWorld(dir, ready);
    restore.push(recordSessions());
    restore.push(mockGaps(w));
    return w;
  }

  const baseArgs = (w: AssessWorld & { lzFile: string }) => [
    "assess",
    "--landing-zone",
    w.lzFile,
    "--management-role",
    MANAGEMENT_ROLE,
    "--accounts",
    [w.gappy, w.clean, w.locked].join(","),
    "--state",
    path.join(dir, "state.json"),
  ];

  it("gives exactly the expected register: every member gap, none in the clean account, the locked account reported", async () => {
    const w = await world(true);
    const html = path.join(dir, "register.html");
    const md = path.join(dir, "register.md");
    const sarif = path.join(dir, "register.sarif");
    const run = await runFlz([...baseArgs(w), "--json", "--html", html, "--markdown", md, "--sarif", sarif]);
    const report = JSON.parse(run.out) as AssessmentReport;
    expect(gapsOf(report)).to.deep.equal(memberGaps(w));
    // the ready organisation passes every organisation and forensic check, and the clean account has no gap
    expect(report.findings.filter((f) => f.account === w.clean && f.status !== "pass")).to.deep.equal([]);
    const orgWide = report.findings.filter((f) =>
      ["organization", "forensic"].includes(CHECKS.find((c) => c.id === f.check)?.scope ?? ""),
    );
    expect(orgWide.length).to.be.greaterThan(20);
    expect(orgWide.filter((f) => f.status !== "pass")).to.deep.equal([]);
    const alarmGuard = orgWide.find((f) => f.check === "FLZ-ROLE-05");
    expect(alarmGuard?.message).to.match(/^an SCP in force denies changing/);
    // who stays free to change the alarm is in the evidence: the deploying role, nobody else
    expect(alarmGuard?.evidence).to.include(`exempted from the rule's protection: ${DEPLOYMENT_ROLE}`);
    // the same for the trail, the member responder role and the forensic keys
    const exempted = (check: string, account?: string) =>
      report.findings
        .filter((f) => f.check === check && (account === undefined || f.account === account))
        .map((f) => f.evidence.find((e) => e.startsWith("exempted from the deny: ")));
    const deployment = DEPLOYMENT_ROLE;
    expect(exempted("FLZ-ORG-01", w.clean)).to.deep.equal([`exempted from the deny: ${deployment}`]);
    expect(exempted("FLZ-ORG-02", w.clean)).to.deep.equal([
      `exempted from the deny: ${deployment}, arn:aws:iam::*:role/stacksets-exec-*`,
    ]);
    const keys = exempted("FLZ-KEY-03");
    expect(keys).to.have.length.greaterThan(0);
    expect(new Set(keys)).to.deep.equal(new Set([`exempted from the deny: ${deployment}`]));
    // the account whose role cannot be assumed is named, with AWS's reason, never skipped
    expect(report.complete).to.equal(false);
    expect(report.unreadable).to.deep.equal([
      { scope: "account", account: w.locked, reason: report.unreadable[0].reason },
    ]);
    expect(report.unreadable[0].reason).to.match(
      /^AccessDenied: .*sts:AssumeRole on resource: arn:aws:iam::\d{12}:role\/FlzMemberInvestigator/,
    );
    // scenarios: every step works in the clean account; the gappy account's break where its gaps say
    for (const v of report.scenarios.filter((s) => s.account === w.clean))
      expect(v.steps.every((s) => s.works)).to.equal(true);
    const instance = report.scenarios.find((s) => s.account === w.gappy && s.scenario === "compromised-instance");
    expect(instance?.steps.map((s) => [s.step, s.works])).to.deep.equal([
      ["contain", false],
      ["capture", false],
      ["hash", true],
      ["hunt", false],
    ]);
    expect([...new Set(instance?.steps[1].brokenBy.map((b) => b.check))].sort()).to.deep.equal([
      "FLZ-EC2-03",
      "FLZ-EC2-05",
      "FLZ-EC2-06",
      "FLZ-ROLE-02",
    ]);
    // ranked by runbook steps broken, then severity: the first gap breaks at least as many steps as any other
    expect(report.gaps[0].severity).to.equal("critical");
    expect(Math.max(...report.gaps.map((g) => g.breaks.length))).to.equal(report.gaps[0].breaks.length);
    expect(report.gaps.at(-1)?.breaks).to.deep.equal([]); // readiness-only gaps (e.g. IMDSv2 on a template) come last
    expect(report.scores.accounts[w.clean]).to.equal(100);
    expect(report.scores.accounts[w.gappy]).to.be.lessThan(report.scores.accounts[w.clean]);
    // a high gap remains: exit 1, one line on stderr after the progress lines
    expect(run.code).to.equal(1);
    expect(run.err.trim().split("\n").pop()).to.match(
      /^flz: \d+ gap\(s\) at or above high, and 1 scope\(s\) not read; the first: FLZ-ROLE-01 /,
    );
    // the files
    expect(readFileSync(md, "utf8")).to.contain(`| ${w.locked} | FAILS: FLZ-ROLE-02 |`);
    expect(readFileSync(html, "utf8")).to.contain('id="partial"');
    const log = JSON.parse(readFileSync(sarif, "utf8"));
    expect(log.version).to.equal("2.1.0");
    expect(log.runs[0].results).to.have.length(report.gaps.length);
    // completed: the state file is gone
    expect(existsSync(path.join(dir, "state.json"))).to.equal(false);
  });

  it("reports a gap of every kind in an organisation that is not ready, and the runbook fails in every account", async () => {
    const w = await world(false);
    const run = await runFlz([...baseArgs(w), "--json", "--fail-on", "critical"]);
    const report = JSON.parse(run.out) as AssessmentReport;
    expect(run.code).to.equal(1);
    const failed = new Set(report.gaps.map((g) => g.check));
    expect(CHECKS.map((c) => c.id).filter((id) => !failed.has(id))).to.deep.equal([]);
    const orgWide = report.gaps
      .filter((g) => ["organization", "forensic"].includes(CHECKS.find((c) => c.id === g.check)?.scope ?? ""))
      .map((g) => `${g.check} ${g.status}`);
    expect(orgWide).to.include.members([
      "FLZ-TRAIL-02 fail",
      "FLZ-TRAIL-07 fail",
      "FLZ-STORE-01 fail",
      "FLZ-STORE-02 fail",
      "FLZ-KEY-04 fail",
      "FLZ-ORG-04 fail",
    ]);
    // the trail, the evidence bucket and the quarantine delegation are organisation-wide: capture, hash and the
    // containment of keys and sessions fail everywhere; only what the clean account holds itself still works there
    for (const v of report.scenarios) {
      expect(v.steps.filter((s) => s.step === "hash" || s.step === "hunt").every((s) => !s.works)).to.equal(true);
      if (v.scenario !== "compromised-instance")
        expect(
          v.steps.every((s) => !s.works),
          `${v.scenario} ${v.account}`,
        ).to.equal(true);
    }
    const cleanInstance = report.scenarios.find((v) => v.account === w.clean && v.scenario === "compromised-instance");
    expect(cleanInstance?.steps.map((s) => s.works)).to.deep.equal([true, false, false, false]);
    // the trail stopped breaks every capture of the trail's record in every account: it ranks above member gaps
    expect(report.gaps[0].breaks.length).to.be.greaterThan(3);
    expect(report.scores.organization).to.be.lessThan(50);
  });

  /**
   * What a management-account principal can do to the alarm guardrail: detach flz-protect-alarms from the forensic
   * account and attach `replacement` in its place.
   */
  async function replaceAlarmGuardrail(w: AssessWorld, replacement: object): Promise<void> {
    const org = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" }).client(OrganizationsClient, {
      account: MANAGEMENT,
      region: US,
    });
    const policies = (await org.send(new ListPoliciesCommand({ Filter: "SERVICE_CONTROL_POLICY" }))).Policies ?? [];
    const alarms = policies.find((p) => p.Name === "flz-protect-alarms")?.Id;
    await org.send(new DetachPolicyCommand({ PolicyId: alarms, TargetId: w.forensic }));
    const created = await org.send(
      new CreatePolicyCommand({
        Name: "replacement-alarms",
        Type: "SERVICE_CONTROL_POLICY",
        Description: "test",
        Content: JSON.stringify(replacement),
      }),
    );
    await org.send(new AttachPolicyCommand({ PolicyId: created.Policy?.PolicySummary?.Id, TargetId: w.forensic }));
    org.destroy();
  }

  it("reports the break-glass alarm open to silencing once flz-protect-alarms is detached or weakened", async () => {
    // A management-account principal detaches the alarm guardrail from the forensic account and attaches one that only
    // denies disabling and deleting the rule: re-pointing its target, deleting the topic or unsubscribing stay open.
    const w = await world(true);
    await replaceAlarmGuardrail(w, {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Deny", Action: ["events:DisableRule", "events:DeleteRule"], Resource: "arn:aws:events:*:*:rule/*" },
      ],
    });
    const run = await runFlz([...baseArgs(w), "--json", "--fail-on", "none"]);
    const report = JSON.parse(run.out) as AssessmentReport;
    const silencing = report.findings.filter((f) => f.check === "FLZ-ROLE-05");
    expect(silencing.map((f) => [f.status, f.account])).to.deep.equal([["fail", w.forensic]]);
    expect(silencing[0].message).to.equal(
      `no SCP in force over the forensic account keeps its administrators from silencing rule flz-break-glass and topic arn:aws:sns:${US}:${w.forensic}:flz-alarms`,
    );
    expect(silencing[0].evidence).to.include("exempted from the rule's protection: nobody");
    expect(report.gaps.map((g) => g.check)).to.include("FLZ-ROLE-05");
    // the alarm itself still works: the gap is that it can be switched off, not that it is off
    expect(report.findings.find((f) => f.check === "FLZ-ROLE-04")?.status).to.equal("pass");
  });

  it("reports GuardDuty open to silencing, naming each call left open, when a guardrail covers only part of it", async () => {
    // A management-account principal replaces flz-protect-alarms with a copy whose GuardDuty statement denies only the
    // suppression filters: trusted lists and turning the detector or its members off stay open.
    const w = await world(true);
    const full = protectAlarmsScp({ namePrefix: "flz-", deploymentRoleArn: DEPLOYMENT_ROLE });
    const partial = {
      ...full,
      Statement: full.Statement.map((s) =>
        s.Sid === "FlzProtectGuardDutyFindings"
          ? { ...s, Action: ["guardduty:CreateFilter", "guardduty:UpdateFilter"] }
          : s,
      ),
    };
    await replaceAlarmGuardrail(w, partial);
    const report = JSON.parse((await runFlz([...baseArgs(w), "--json", "--fail-on", "none"])).out) as AssessmentReport;
    const silencing = report.findings.filter((f) => f.check === "FLZ-ORG-06");
    expect(silencing.map((f) => [f.status, f.account])).to.deep.equal([["fail", w.forensic]]);
    const open = GUARDDUTY_SILENCING_ACTIONS.filter((a) => !/Filter$/.test(a));
    expect(silencing[0].message).to.equal(`no SCP in force denies ${open.join(", ")} to the account's administrators`);
    expect(silencing[0].evidence).to.include(`exempted from the deny: ${DEPLOYMENT_ROLE}`);
    // the rest of the copy still protects the break-glass alarm
    expect(report.findings.find((f) => f.check === "FLZ-ROLE-05")?.status).to.equal("pass");
  });

  it("resumes an interrupted run from its state file, reading only what was not read, to the same register", async () => {
    const w = await world(true);
    const stateFile = path.join(dir, "resume.json");
    const lzJson = JSON.parse(readFileSync(w.lzFile, "utf8"));
    const accounts = [w.gappy, w.clean, w.locked];
    const common = {
      landingZone: lzJson,
      accounts,
      regions: [US, EU],
      scenarios: SCENARIOS,
      requiredRetention: { days: 365, reason: "test" },
      breakGlassRoleName: "FlzBreakGlass",
      concurrency: 2,
    };
    const factories = () => ({
      investigator: new ClientFactory({
        forensicRoleArn: lzJson.forensicInvestigatorRoleArn,
        memberRoleName: lzJson.memberInvestigatorRoleName,
      }),
      management: new ClientFactory({ forensicRoleArn: MANAGEMENT_ROLE }),
    });
    const identity = {
      organizationId: lzJson.organizationId,
      forensicAccountId: w.forensic,
      accounts,
      regions: [US, EU],
    };
    const controller = new AbortController();
    const lines: string[] = [];
    const first = factories();
    let done = 0;
    const progress = lineAssessProgress((l) => lines.push(l));
    const interrupted = await runAssessment({
      ...common,
      ...first,
      state: StateFile.open(stateFile, identity, new Date(), false, () => {}),
      progress: {
        ...progress,
        unitDone: (label, error) => {
          progress.unitDone(label, error);
          if (++done === 4) controller.abort();
        },
      },
      signal: controller.signal,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    first.investigator.destroy();
    first.management.destroy();
    expect(interrupted).to.be.instanceOf(AssessmentInterrupted);
    expect((interrupted as Error).message).to.contain(`run the same command again to resume`);
    const kept = Object.keys(JSON.parse(readFileSync(stateFile, "utf8")).units);
    expect(kept.length).to.be.within(3, 5); // the unit that aborted and those already in flight finish

    const second = factories();
    const resumed = await runAssessment({
      ...common,
      ...second,
      state: StateFile.open(stateFile, identity, new Date(), false, () => {}),
    });
    second.investigator.destroy();
    second.management.destroy();
    const total = 2 + accounts.length * 3;
    expect(resumed.unitsResumed).to.equal(kept.length);
    // every unit not kept is read again (the locked account once, its regions never: it cannot be entered)
    expect(resumed.unitsRead).to.equal(total - 2 - kept.length);
    expect(gapsOf(resumed.report)).to.deep.equal(memberGaps(w));
    expect(existsSync(stateFile)).to.equal(false);
  });

  it("compares with a baseline: what improved and what regressed", async () => {
    const w = await world(true);
    const first = await runFlz([...baseArgs(w), "--json", "--fail-on", "none"]);
    expect(first.code).to.equal(0);
    const previous = JSON.parse(first.out) as AssessmentReport;
    // pretend last week's register had one gap that is gone now and lacked one that is there now
    const gone = { ...previous.gaps[0], key: "FLZ-TRAIL-02|||arn:aws:cloudtrail:us-east-1:111111111111:trail/old" };
    const edited = {
      ...previous,
      gaps: [gone, ...previous.gaps.slice(2)],
      scores: { ...previous.scores, organization: previous.scores.organization - 7 },
    };
    const baseline = path.join(dir, "last-week.json");
    writeFileSync(baseline, JSON.stringify(edited));
    const second = await runFlz([...baseArgs(w), "--json", "--fail-on", "none", "--baseline", baseline]);
    const report = JSON.parse(second.out) as AssessmentReport;
    expect(report.baseline?.improved).to.deep.equal([gone.key]);
    expect(report.baseline?.regressed).to.deep.equal([previous.gaps[0].key, previous.gaps[1].key].sort());
    expect(report.baseline?.scoreDelta.organization).to.equal(7);
  });

  it("assumes each account's role once, whatever the services and regions read there", async () => {
    // Every AssumeRole counts against the forensic account's STS rate: a session per client (one per service and
    // region) would make about twenty per account.
    const w = await world(true);
    const lzJson = JSON.parse(readFileSync(w.lzFile, "utf8"));
    const sts = CredentialProviderSts.prototype as unknown as {
      send: (c: unknown, ...r: unknown[]) => Promise<unknown>;
    };
    const original = sts.send;
    const assumed: string[] = [];
    sts.send = function (this: unknown, command: unknown, ...rest: unknown[]) {
      const input = (command as { input?: { RoleArn?: string } }).input;
      if (command?.constructor.name === "AssumeRoleCommand") assumed.push(input?.RoleArn ?? "");
      return original.call(this, command, ...rest);
    };
    restore.push(() => {
      sts.send = original;
    });
    const investigator = new ClientFactory({
      forensicRoleArn: lzJson.forensicInvestigatorRoleArn,
      memberRoleName: lzJson.memberInvestigatorRoleName,
    });
    const management = new ClientFactory({ forensicRoleArn: MANAGEMENT_ROLE });
    const outcome = await runAssessment({
      landingZone: lzJson,
      investigator,
      management,
      accounts: [w.gappy, w.clean],
      regions: [US, EU],
      scenarios: SCENARIOS,
      requiredRetention: { days: 365, reason: "test" },
      breakGlassRoleName: "FlzBreakGlass",
    });
    investigator.destroy();
    management.destroy();
    expect(outcome.report.unreadable).to.deep.equal([]);
    const role = (account: string) => `arn:aws:iam::${account}:role/${lzJson.memberInvestigatorRoleName}`;
    expect(assumed.filter((a) => a === role(w.gappy))).to.have.length(1);
    expect(assumed.filter((a) => a === role(w.clean))).to.have.length(1);
    expect(assumed.filter((a) => a === lzJson.forensicInvestigatorRoleArn)).to.have.length(1);
    expect(assumed.filter((a) => a === MANAGEMENT_ROLE)).to.have.length(1);
  });

  it("refuses bad usage with one line and exit 2", async () => {
    const w = await world(true);
    const cases: [string[], RegExp][] = [
      [["--accounts", "12345"], /^flz: --accounts "12345" is not a list of 12-digit account IDs/],
      [["--fail-on", "severe"], /^flz: --fail-on "severe" is not a severity: use critical, high, medium, low or none/],
      [["--scenario", "ransomware"], /^flz: --scenario "ransomware" is not a scenario/],
      [["--baseline", path.join(dir, "missing.json")], /^flz: --baseline .* cannot read it \(ENOENT\)/],
      [["--all"], /^flz: --accounts and --all are exclusive/],
    ];
    for (const [extra, message] of cases) {
      const run = await runFlz([...baseArgs(w), ...extra]);
      expect(run.code, extra.join(" ")).to.equal(2);
      expect(run.err.trim().split("\n"), extra.join(" ")).to.have.length(1);
      expect(run.err.trim(), extra.join(" ")).to.match(message);
    }
  });
});
