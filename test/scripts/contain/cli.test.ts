import { expect } from "chai";
import {
  CreateRoleCommand,
  CreateServiceLinkedRoleCommand,
  CreateUserCommand,
  CreateAccessKeyCommand,
  IAMClient,
} from "@aws-sdk/client-iam";
import { EC2Client } from "@aws-sdk/client-ec2";
import { DetachPolicyCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { quarantineCutoff } from "../../../components/documents";
import { SEED_ACCOUNTS } from "../../../scripts/emulator/seed";
import { useEmulator } from "../../support/emulator";
import {
  containWorld,
  instanceState,
  launch,
  MEMBER,
  network,
  quarantinePolicies,
  runCli,
  type ContainWorld,
} from "./fixtures";

const TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

describe("flz contain through the CLI entry (emulator)", function () {
  this.timeout(30000);
  useEmulator();
  let world: ContainWorld;
  let iam: IAMClient;
  let common: string[];
  beforeEach(async () => {
    world = await containWorld();
    iam = world.owner(IAMClient);
    common = ["--case", world.caseId, "--account", MEMBER, "--region", "us-east-1", "--landing-zone", world.lzFile];
  });
  afterEach(() => world.close());

  it("revokes sessions, prints one JSON document naming the record, and undoes it by sequence", async () => {
    await iam.send(new CreateRoleCommand({ RoleName: "app-deployer", AssumeRolePolicyDocument: TRUST }));
    const run = await runCli([
      "contain",
      "sessions",
      ...common,
      "--role",
      "app-deployer",
      "--before",
      "2020-01-01T00:00:00Z",
      "--json",
    ]);
    expect(run.code, run.err).to.equal(0);
    const doc = JSON.parse(run.out) as { recordedAs: number; details: { cutoff: string; policies: string[] } };
    expect(doc.details.cutoff).to.equal("2020-01-01T00:00:00Z");
    expect(doc.details.policies).to.deep.equal([`flz-quarantine-${MEMBER}-${world.caseId}-1`]);
    const [policy] = await quarantinePolicies(world);
    expect(quarantineCutoff(policy.statements[0])).to.equal("2020-01-01T00:00:00Z");

    const undo = await runCli([
      "contain",
      "undo",
      "--case",
      world.caseId,
      "--landing-zone",
      world.lzFile,
      "--action",
      String(doc.recordedAs),
    ]);
    expect(undo.code, undo.err).to.equal(0);
    expect(undo.out).to.contain(`delete quarantine SCP flz-quarantine-${MEMBER}-${world.caseId}-1`);
    expect(await quarantinePolicies(world)).to.deep.equal([]);
  });

  it("reports a containment that is no longer in effect with contain status, exit 1", async () => {
    await iam.send(new CreateRoleCommand({ RoleName: "app-deployer", AssumeRolePolicyDocument: TRUST }));
    const revoked = await runCli(["contain", "sessions", ...common, "--role", "app-deployer"]);
    expect(revoked.code, revoked.err).to.equal(0);
    const status = ["contain", "status", "--case", world.caseId, "--landing-zone", world.lzFile];
    const fine = await runCli(status);
    expect(fine.code, fine.err).to.equal(0);
    expect(fine.out).to.match(
      /record 2 contain.sessions.revoked arn:aws:iam::333333333333:role\/app-deployer: in effect/,
    );
    const [policy] = await quarantinePolicies(world);
    await world
      .adminOf(OrganizationsClient, SEED_ACCOUNTS.management)
      .send(new DetachPolicyCommand({ PolicyId: policy.id, TargetId: MEMBER }));
    const drifted = await runCli([...status, "--json"]);
    expect(drifted.code).to.equal(1);
    const doc = JSON.parse(drifted.out) as { containments: { state: string; findings: string[] }[] };
    expect(doc.containments[0].state).to.equal("drifted");
    expect(doc.containments[0].findings).to.deep.equal([
      `quarantine policy ${policy.name} was detached from the account`,
    ]);
    expect(drifted.err.trim().split("\n")).to.deep.equal([
      `flz: 1 containment(s) of case ${world.caseId} are not in effect as recorded (see above)`,
    ]);
  });

  it("prints what containing an instance would change on a dry run and changes nothing", async () => {
    const ec2 = world.owner(EC2Client);
    const net = await network(ec2);
    const id = await launch(ec2, net);
    const before = await instanceState(ec2, id);
    const run = await runCli(["contain", "instance", ...common, "--instance", id, "--dry-run"]);
    expect(run.code, run.err).to.equal(0);
    expect(run.out)
      .to.contain("would turn on termination protection")
      .and.contain(`would move interface`)
      .and.contain("would set connection-tracking timeouts")
      .and.contain("--network-acl");
    expect(run.err).to.contain("dry run: nothing changed");
    expect(await instanceState(ec2, id)).to.deep.equal(before);
    expect((await world.ledger.records()).map((r) => r.action)).to.deep.equal(["case.opened"]);
  });

  it("contains an instance and says how to undo it", async () => {
    const ec2 = world.owner(EC2Client);
    const net = await network(ec2);
    const id = await launch(ec2, net);
    const run = await runCli(["contain", "instance", ...common, "--instance", id]);
    expect(run.code, run.err).to.equal(0);
    expect(run.err).to.match(
      /recorded in case IR-2026-0042 as record 2 \(contain.instance.isolated\); undo with: flz contain undo --case IR-2026-0042 --action 2/,
    );
    expect((await instanceState(ec2, id)).disableApiTermination).to.equal(true);
  });

  it("starts a capture beside the containment with --capture, and reports both in one JSON document", async () => {
    const ec2 = world.owner(EC2Client);
    const net = await network(ec2);
    const id = await launch(ec2, net);
    const run = await runCli(["contain", "instance", ...common, "--instance", id, "--capture", "--json"]);
    expect(run.code, run.err).to.equal(0);
    const doc = JSON.parse(run.out) as {
      capture: { snapshots: { forensicSnapshotId: string | null; state: string }[] };
      details: { capture: string };
    };
    expect(doc.details.capture).to.equal("started");
    expect(doc.capture.snapshots).to.have.length(1);
    expect(doc.capture.snapshots[0].state).to.equal("completed");
    expect(doc.capture.snapshots[0].forensicSnapshotId).to.match(/^snap-/);
    const actions = (await world.ledger.records()).map((r) => r.action);
    expect(actions).to.include("contain.instance.isolated").and.include("capture.completed");
    // Containment is recorded without waiting for the snapshots.
    expect(actions.indexOf("contain.instance.isolated")).to.be.lessThan(actions.indexOf("capture.completed"));
  });

  describe("bad input: one line on stderr, no stack trace, exit 2, nothing changed", () => {
    const expectUsage = (run: { code: number; err: string }, pattern: RegExp) => {
      expect(run.code).to.equal(2);
      expect(run.err.trim().split("\n")).to.have.length(1);
      expect(run.err).to.match(pattern);
      expect(run.err).to.not.match(/\bat .*\.ts:\d+/);
    };

    it("unknown role and service-linked role", async () => {
      expectUsage(
        await runCli(["contain", "sessions", ...common, "--role", "nope"]),
        /^flz: role nope does not exist in account 333333333333/,
      );
      const slr =
        (await iam.send(new CreateServiceLinkedRoleCommand({ AWSServiceName: "autoscaling.amazonaws.com" }))).Role
          ?.RoleName ?? "";
      expectUsage(await runCli(["contain", "sessions", ...common, "--role", slr]), /is a service-linked role/);
    });

    it("malformed and future cutoffs", async () => {
      expectUsage(
        await runCli(["contain", "sessions", ...common, "--role", "r", "--before", "yesterday"]),
        /--before yesterday is not a time: give "now" or an ISO 8601 time/,
      );
      expectUsage(
        await runCli(["contain", "sessions", ...common, "--role", "r", "--before", "2026-03-01 14:30"]),
        /is not a time/,
      );
      expectUsage(
        await runCli(["contain", "sessions", ...common, "--role", "r", "--before", "2999-01-01T00:00:00Z"]),
        /is in the future/,
      );
    });

    it("unknown user and unknown key", async () => {
      await iam.send(new CreateUserCommand({ UserName: "ci-bot" }));
      const key = (await iam.send(new CreateAccessKeyCommand({ UserName: "ci-bot" }))).AccessKey?.AccessKeyId ?? "";
      expectUsage(
        await runCli(["contain", "access-key", ...common, "--user", "ghost", "--key", key]),
        /user ghost does not exist/,
      );
      expectUsage(
        await runCli(["contain", "access-key", ...common, "--user", "ci-bot", "--key", "AKIAIOSFODNN7EXAMPLE"]),
        /is not a key of user ci-bot/,
      );
      expectUsage(
        await runCli(["contain", "access-key", ...common, "--user", "ci-bot", "--key", "hunter2"]),
        /--key hunter2 is not an access key ID/,
      );
    });

    it("unknown or malformed instance, bad account, missing case, unknown record", async () => {
      expectUsage(
        await runCli(["contain", "instance", ...common, "--instance", "i-0123456789abcdef0"]),
        /instance i-0123456789abcdef0 does not exist in account 333333333333 region us-east-1/,
      );
      expectUsage(
        await runCli(["contain", "instance", ...common, "--instance", "web-1"]),
        /--instance web-1 is not an instance ID/,
      );
      const badAccount = ["--case", world.caseId, "--account", "3333", "--landing-zone", world.lzFile];
      expectUsage(
        await runCli(["contain", "instance", ...badAccount, "--instance", "i-0123456789abcdef0"]),
        /--account 3333 is not an AWS account ID/,
      );
      expectUsage(
        await runCli([
          "contain",
          "instance",
          "--account",
          MEMBER,
          "--landing-zone",
          world.lzFile,
          "--instance",
          "i-0123456789abcdef0",
        ]),
        /--case \(missing\)/,
      );
      expectUsage(
        await runCli(["contain", "undo", "--case", world.caseId, "--landing-zone", world.lzFile, "--action", "7"]),
        /case IR-2026-0042 has no record 7: its records are 0 to 0/,
      );
      expect((await world.ledger.records()).map((r) => r.action)).to.deep.equal(["case.opened"]);
    });
  });
});
