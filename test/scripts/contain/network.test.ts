// contain network: deny entries for an attacker's ranges before every allow (pure numbering, and emulator state with
// dry run, idempotence, drift and undo).
import { expect } from "chai";
import {
  CreateNetworkAclEntryCommand,
  DeleteNetworkAclEntryCommand,
  DescribeNetworkAclsCommand,
  EC2Client,
  type NetworkAclEntry,
} from "@aws-sdk/client-ec2";
import { INTENT_ACTION } from "../../../scripts/contain/intent";
import { containNetwork, NETWORK_ACTION } from "../../../scripts/contain/network";
import { parseCidrs, planDenyEntries } from "../../../scripts/contain/network-plan";
import { containmentStatus } from "../../../scripts/contain/status";
import { undoAction } from "../../../scripts/contain/undo";
import { useEmulator } from "../../support/emulator";
import { containWorld, MEMBER, network, runCli, type ContainWorld } from "./fixtures";

const allow = (n: number, egress: boolean): NetworkAclEntry => ({
  RuleNumber: n,
  Egress: egress,
  RuleAction: "allow",
  Protocol: "-1",
  CidrBlock: "0.0.0.0/0",
});

describe("contain network: deny ordering (pure)", () => {
  it("takes the free numbers just below the lowest allow, per direction", () => {
    const entries = [
      allow(100, false),
      allow(100, true),
      { ...allow(99, false), RuleAction: "deny" as const, CidrBlock: "10.9.9.9/32" },
    ];
    const plan = planDenyEntries("acl-1", entries, ["203.0.113.0/24", "2001:db8::/32"]);
    expect(plan.add).to.deep.equal([
      { ruleNumber: 98, egress: false, cidr: "203.0.113.0/24" },
      { ruleNumber: 97, egress: false, cidr: "2001:db8::/32" },
      { ruleNumber: 99, egress: true, cidr: "203.0.113.0/24" },
      { ruleNumber: 98, egress: true, cidr: "2001:db8::/32" },
    ]);
  });

  it("keeps a deny that already comes first; a deny after an allow does not count", () => {
    const ours: NetworkAclEntry = {
      RuleNumber: 50,
      Egress: false,
      RuleAction: "deny",
      Protocol: "-1",
      CidrBlock: "203.0.113.0/24",
    };
    const late = { ...ours, RuleNumber: 200, Egress: true };
    const plan = planDenyEntries("acl-1", [allow(100, false), allow(100, true), ours, late], ["203.0.113.0/24"]);
    expect(plan.present).to.deep.equal([{ ruleNumber: 50, egress: false, cidr: "203.0.113.0/24" }]);
    expect(plan.add).to.deep.equal([{ ruleNumber: 99, egress: true, cidr: "203.0.113.0/24" }]);
  });

  it("fails, naming the ACL, when no number is free below the first allow", () => {
    expect(() => planDenyEntries("acl-1", [allow(1, false)], ["203.0.113.0/24"])).to.throw(
      /network ACL acl-1 has no free inbound rule number below its first allow rule \(1\)/,
    );
  });

  it("parses ranges and refuses what is not one, or everything", () => {
    expect(parseCidrs("203.0.113.0/24, 2001:db8::/32")).to.deep.equal(["203.0.113.0/24", "2001:db8::/32"]);
    expect(() => parseCidrs("203.0.113.0")).to.throw(/--cidr 203.0.113.0 is not a CIDR block/);
    expect(() => parseCidrs("10.0.0.0/33")).to.throw(/is not a CIDR block/);
    expect(() => parseCidrs("0.0.0.0/0")).to.throw(/is every address/);
    expect(() => parseCidrs(undefined)).to.throw(/--cidr is required/);
  });
});

describe("flz contain network (emulator)", function () {
  this.timeout(60000);
  useEmulator();
  let world: ContainWorld;
  let ec2: EC2Client;
  let subnetId: string;
  beforeEach(async () => {
    world = await containWorld();
    ec2 = world.owner(EC2Client);
    subnetId = (await network(ec2)).subnetId;
  });
  afterEach(() => world.close());

  const acl = async () =>
    (
      await ec2.send(
        new DescribeNetworkAclsCommand({ Filters: [{ Name: "association.subnet-id", Values: [subnetId] }] }),
      )
    ).NetworkAcls?.[0];
  const denies = async () =>
    ((await acl())?.Entries ?? [])
      .filter((e) => e.RuleAction === "deny" && e.RuleNumber !== 32767)
      .map((e) => [e.Egress, e.RuleNumber, e.CidrBlock])
      .sort();
  const contain = (dryRun = false) => containNetwork(world.context(dryRun), { subnetId, cidrs: ["203.0.113.0/24"] });

  it("adds inbound and outbound denies before the allows; dry run, rerun and undo change exactly what they say", async () => {
    const firstAllow = Math.min(
      ...((await acl())?.Entries ?? [])
        .filter((e) => e.RuleAction === "allow" && !e.Egress)
        .map((e) => e.RuleNumber ?? 0),
    );
    const dry = await contain(true);
    expect(dry.changes.map((c) => c.description)).to.have.length(2);
    expect(await denies()).to.deep.equal([]);
    expect((await world.ledger.records()).map((r) => r.action)).to.deep.equal(["case.opened"]);

    const done = await contain();
    expect(await denies()).to.deep.equal([
      [false, firstAllow - 1, "203.0.113.0/24"],
      [true, firstAllow - 1, "203.0.113.0/24"],
    ]);
    expect((await world.ledger.records()).map((r) => r.action)).to.deep.equal([
      "case.opened",
      INTENT_ACTION,
      NETWORK_ACTION,
    ]);

    const again = await contain();
    expect(again.changes).to.deep.equal([]);
    expect(again.record).to.equal(undefined);

    const status = await containmentStatus({ factory: world.context().factory, ledger: world.ledger });
    expect(status.containments.find((c) => c.action === NETWORK_ACTION)?.state).to.equal("in-effect");

    await undoAction(world.context(), { sequence: done.record?.sequence ?? -1 });
    expect(await denies()).to.deep.equal([]);
  });

  it("drift: an entry removed by the account's administrator is reported, and a rerun puts it back", async () => {
    await contain();
    const aclId = (await acl())?.NetworkAclId ?? "";
    const inbound = ((await acl())?.Entries ?? []).find(
      (e) => e.RuleAction === "deny" && !e.Egress && e.RuleNumber !== 32767,
    );
    await ec2.send(
      new DeleteNetworkAclEntryCommand({ NetworkAclId: aclId, RuleNumber: inbound?.RuleNumber, Egress: false }),
    );
    const status = await containmentStatus({ factory: world.context().factory, ledger: world.ledger });
    const mine = status.containments.find((c) => c.action === NETWORK_ACTION);
    expect(mine?.state).to.equal("drifted");
    expect(mine?.findings.join("\n")).to.match(/the inbound deny of 203.0.113.0\/24 .* was removed or changed/);
    const rerun = await contain();
    expect(rerun.changes.map((c) => c.description)).to.deep.equal([
      `add inbound rule ${inbound?.RuleNumber} deny 203.0.113.0/24 to network ACL ${aclId}`,
    ]);
  });

  it("undo leaves an entry that is no longer the deny it made", async () => {
    const done = await contain();
    const aclId = (await acl())?.NetworkAclId ?? "";
    const inbound = ((await acl())?.Entries ?? []).find(
      (e) => e.RuleAction === "deny" && !e.Egress && e.RuleNumber !== 32767,
    );
    const n = inbound?.RuleNumber ?? 0;
    // Someone replaced our inbound entry with a deny of another range at the same number.
    await ec2.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: aclId, RuleNumber: n, Egress: false }));
    await ec2.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: aclId,
        RuleNumber: n,
        Egress: false,
        Protocol: "-1",
        RuleAction: "deny",
        CidrBlock: "198.51.100.0/24",
      }),
    );
    const undone = await undoAction(world.context(), { sequence: done.record?.sequence ?? -1 });
    expect(undone.changes.map((c) => c.description).join("\n")).to.match(/leave inbound rule \d+ deny 203.0.113.0\/24/);
    expect(await denies()).to.deep.equal([[false, n, "198.51.100.0/24"]]);
  });

  it("through the CLI entry: JSON naming the record; a bad range or subnet is exit 2", async () => {
    const common = [
      "--case",
      world.caseId,
      "--account",
      MEMBER,
      "--region",
      "us-east-1",
      "--landing-zone",
      world.lzFile,
    ];
    const run = await runCli([
      "contain",
      "network",
      ...common,
      "--subnet",
      subnetId,
      "--cidr",
      "198.51.100.7/32",
      "--json",
    ]);
    expect(run.code, run.err).to.equal(0);
    expect(JSON.parse(run.out)).to.include({ action: NETWORK_ACTION, recordedAs: 2 });
    const bad = await runCli(["contain", "network", ...common, "--subnet", subnetId, "--cidr", "nope"]);
    expect(bad.code).to.equal(2);
    const badSubnet = await runCli(["contain", "network", ...common, "--subnet", "sn-1", "--cidr", "198.51.100.7/32"]);
    expect(badSubnet.code).to.equal(2);
  });
});
