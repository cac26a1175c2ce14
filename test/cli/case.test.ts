// Cases as a first-class object, through the real CLI entry (main(), as the shell runs it): open, list, status, and
// the gate every other case command passes.
import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { LandingZone } from "../../scripts/contract";
import { quarantineDelegationPolicy } from "../../components/documents/quarantine-delegation";
import { seedLandingZone, seedOrganization } from "../../scripts/emulator/seed";
import { runFlz } from "../support/cli";
import { useEmulator } from "../support/emulator";

describe("flz case (emulator)", function () {
  this.timeout(60000);
  useEmulator();
  let lz: LandingZone;
  let file: string;
  let dir: string;
  beforeEach(async () => {
    lz = await seedLandingZone();
    dir = mkdtempSync(path.join(tmpdir(), "flz-case-"));
    file = path.join(dir, "lz.json");
    writeFileSync(file, JSON.stringify(lz));
  });
  const flz = (...args: string[]) => runFlz([...args, "--landing-zone", file]);

  it("opens a case with record 0 case.opened (title, awareness, who), lists it, and refuses to open it twice", async () => {
    const opened = await flz(
      "case",
      "open",
      "IR-2026-0042",
      "--title",
      "Leaked key of ci-deployer",
      "--aware-at",
      "2026-03-02T10:15:00+01:00",
      "--by",
      "Alice",
      "--json",
    );
    expect(opened.code, opened.err).to.equal(0);
    const doc = JSON.parse(opened.out);
    expect(doc).to.include({
      case: "IR-2026-0042",
      title: "Leaked key of ci-deployer",
      awarenessTime: "2026-03-02T09:15:00.000Z",
      openedBy: "Alice",
    });
    expect(doc.record.sequence).to.equal(0);

    const shown = await flz("custody", "show", "--case", "IR-2026-0042", "--json");
    const records = JSON.parse(shown.out);
    expect(records.map((r: { action: string }) => r.action)).to.deep.equal(["case.opened"]);
    expect(records[0].details).to.deep.equal({
      title: "Leaked key of ci-deployer",
      awarenessTime: "2026-03-02T09:15:00.000Z",
      openedBy: "Alice",
    });

    const again = await flz("case", "open", "IR-2026-0042", "--title", "again", "--aware-at", "now");
    expect(again.code).to.equal(2);
    expect(again.err.trim()).to.match(
      /^flz: case IR-2026-0042 is already open \(opened .* by Alice: "Leaked key of ci-deployer"\)/,
    );

    const listed = await flz("case", "list", "--json");
    expect(JSON.parse(listed.out)).to.deep.equal([
      {
        caseId: "IR-2026-0042",
        state: "open",
        title: "Leaked key of ci-deployer",
        awarenessTime: "2026-03-02T09:15:00.000Z",
        openedBy: "Alice",
        openedAt: records[0].time,
      },
    ]);
  });

  it("refuses a missing title or awareness time, an awareness in the future, and a dry run records nothing", async () => {
    expect((await flz("case", "open", "IR-1", "--aware-at", "now")).err).to.match(/^flz: --title is required/);
    expect((await flz("case", "open", "IR-1", "--title", "t")).err).to.match(/^flz: --aware-at is required/);
    const future = await flz("case", "open", "IR-1", "--title", "t", "--aware-at", "2999-01-01T00:00:00Z");
    expect([future.code, future.err]).to.satisfy(([c, e]: [number, string]) => c === 2 && /is in the future/.test(e));
    const dry = await flz("case", "open", "IR-1", "--title", "t", "--aware-at", "now", "--dry-run");
    expect(dry.code, dry.err).to.equal(0);
    expect(JSON.parse((await flz("case", "list", "--json")).out)).to.deep.equal([]);
  });

  it("refuses an unknown case in every command with exit 2, one line naming the closest cases, and creates nothing", async () => {
    for (const id of ["IR-2026-042", "IR-2026-041", "IR-2025-100"]) {
      const r = await flz("case", "open", id, "--title", `case ${id}`, "--aware-at", "now");
      expect(r.code, r.err).to.equal(0);
    }
    const typo = "IR-2026-42";
    const member = ["--account", "333333333333", "--region", "us-east-1"];
    const artefact = path.join(dir, "memory.lime");
    writeFileSync(artefact, "memory");
    const commands: string[][] = [
      ["custody", "show", "--case", typo],
      ["custody", "verify", "--case", typo],
      ["custody", "export", "--case", typo, "--out", path.join(dir, "out")],
      ["contain", "sessions", "--case", typo, ...member, "--role", "app", "--dry-run"],
      ["contain", "access-key", "--case", typo, ...member, "--user", "u", "--key", "AKIAIOSFODNN7EXAMPLE"],
      ["contain", "instance", "--case", typo, ...member, "--instance", "i-0123456789abcdef0"],
      ["contain", "undo", "--case", typo, "--action", "1"],
      // a capture of a mistyped instance into a mistyped case: refused before anything is written
      ["capture", "--case", typo, "--instance", "i-0123456789abcdef0", ...member],
      ["capture", "--case", typo, "--instance", "i-0123456789abcdef0", ...member, "--dry-run"],
      ["evidence", "put", "--case", typo, artefact],
      ["clock", "--case", typo],
      ["case", "status", typo],
    ];
    for (const args of commands) {
      const r = await flz(...args);
      expect(r.code, `${args.join(" ")}: ${r.err}`).to.equal(2);
      const lines = r.err.trim().split("\n");
      expect(lines, args.join(" ")).to.have.length(1);
      expect(lines[0]).to.match(
        /^flz: case IR-2026-42 does not exist \(.*\); closest existing cases: IR-2026-042, IR-2026-041, IR-2025-100; a new case is opened with: flz case open IR-2026-42/,
      );
    }
    const cases = JSON.parse((await flz("case", "list", "--json")).out) as { caseId: string }[];
    expect(cases.map((c) => c.caseId)).to.deep.equal(["IR-2025-100", "IR-2026-041", "IR-2026-042"]);
  });

  it("an unknown instance is exit 2 in capture and in contain instance alike", async () => {
    await flz("case", "open", "IR-9", "--title", "t", "--aware-at", "now");
    const member = ["--account", "333333333333", "--region", "us-east-1"];
    const capture = await flz("capture", "--case", "IR-9", "--instance", "i-0123456789abcdef0", ...member);
    const contain = await flz("contain", "instance", "--case", "IR-9", "--instance", "i-0123456789abcdef0", ...member);
    expect([capture.code, contain.code]).to.deep.equal([2, 2]);
  });

  it("shows where a case stands: actions, containments in effect and undone, evidence, deadlines, verification", async () => {
    await flz("case", "open", "IR-S", "--title", "status", "--aware-at", "2026-03-02T09:15:00Z");
    // Session revocation is an organisation-level quarantine: the organisation and its delegation must exist.
    await seedOrganization({
      delegation: ({ organizationId, managementAccountId }) =>
        quarantineDelegationPolicy({
          organizationId,
          managementAccountId,
          responderRoleArn: lz.forensicResponderRoleArn,
        }),
    });
    const { IAMClient, CreateRoleCommand } = await import("@aws-sdk/client-iam");
    const { ClientFactory } = await import("../../scripts/aws/clients");
    const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
    try {
      const iam = admin.client(IAMClient, { account: "333333333333", region: "us-east-1" });
      for (const RoleName of ["app-a", "app-b"])
        await iam.send(
          new CreateRoleCommand({
            RoleName,
            AssumeRolePolicyDocument: JSON.stringify({
              Version: "2012-10-17",
              Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
          }),
        );
    } finally {
      admin.destroy();
    }
    const member = ["--case", "IR-S", "--account", "333333333333", "--region", "us-east-1"];
    expect(
      (await flz("contain", "sessions", ...member, "--role", "app-a", "--before", "2026-03-02T09:00:00Z")).code,
    ).to.equal(0);
    expect(
      (await flz("contain", "sessions", ...member, "--role", "app-b", "--before", "2026-03-02T09:00:00Z")).code,
    ).to.equal(0);
    // Each containment is an intent and its completion: app-a is records 1-2, app-b 3-4.
    expect((await flz("contain", "undo", "--case", "IR-S", "--action", "4")).code).to.equal(0);
    const artefact = path.join(dir, "auth.log");
    writeFileSync(artefact, "log line\n");
    expect((await flz("evidence", "put", "--case", "IR-S", "--kind", "log", artefact)).code).to.equal(0);
    expect((await flz("clock", "--case", "IR-S", "--regime", "gdpr", "--now", "2026-03-02T10:00:00Z")).code).to.equal(
      0,
    );

    const run = await flz("case", "status", "IR-S", "--now", "2026-03-06T00:00:00Z", "--json");
    expect(run.code, run.err).to.equal(0);
    const status = JSON.parse(run.out);
    expect(status.opened).to.include({ title: "status", awarenessTime: "2026-03-02T09:15:00.000Z" });
    expect(status.actions.map((a: { action: string }) => a.action)).to.deep.equal([
      "case.opened",
      "contain.intent",
      "contain.sessions.revoked",
      "contain.intent",
      "contain.sessions.revoked",
      "contain.intent",
      "contain.undone",
      // flz evidence put writes its intent before the upload (PLAN.md decision 5), then the outcome.
      "evidence.intent",
      "evidence.put",
      "clock.deadlines.computed",
    ]);
    expect(status.inEffect.map((c: { sequence: number }) => c.sequence)).to.deep.equal([2]);
    expect(status.inEffect[0].undoCommand).to.equal("flz contain undo --case IR-S --action 2");
    // The live drift check re-read the quarantine in AWS.
    expect(status.inEffect[0].live).to.deep.equal({ state: "in-effect", detail: "re-read in AWS: in effect" });
    expect(status.undone).to.deep.equal([{ sequence: 4, action: "contain.sessions.revoked", undoneBy: 6 }]);
    expect(status.evidence).to.have.length(1);
    expect(status.evidence[0].sha256).to.match(/^[0-9a-f]{64}$/);
    expect(status.deadlines.computedAt).to.equal("2026-03-02T10:00:00Z");
    expect(status.deadlines.deadlines[0]).to.include({
      regime: "gdpr",
      dueUtc: "2026-03-05T09:15:00Z",
      status: "overdue",
    });
    expect(status.verification).to.include({ ok: true, verified: 10, total: 10 });
    expect(status.unrecorded, "every object of the case is named by a record").to.deep.equal([]);

    const text = await flz("case", "status", "IR-S");
    expect(text.out)
      .to.contain("still in effect (per the ledger):")
      .and.contain("undo: flz contain undo --case IR-S --action 2");
  });
});
