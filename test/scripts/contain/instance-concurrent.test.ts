/**
 * Several isolations in one VPC at the same moment (the response automation runs one execution per finding, and two
 * operators may contain two instances of one VPC at once): they share the VPC's two containment groups, so they race
 * on creating them and on setting their rules. Every run must end with its instance isolated, nothing reported as
 * failed, and one pair of groups in the VPC with exactly the rules each role needs.
 */
import { expect } from "chai";
import { mockClient } from "aws-sdk-client-mock";
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import { ClientFactory } from "../../../scripts/aws/clients";
import type { ContainContext } from "../../../scripts/contain/common";
import { containInstance } from "../../../scripts/contain/instance";
import { CONTAINMENT_TAG } from "../../../scripts/contain/instance-plan";
import { findContainmentGroup } from "../../../scripts/contain/instance-read";
import { openLedger } from "../../../scripts/custody/ledger";
import { openTestCase } from "../../support/cases";
import { useEmulator } from "../../support/emulator";
import { containWorld, instanceState, launch, MEMBER, network, REGION, type ContainWorld } from "./fixtures";

/** How many isolations run at once: enough that several lose the race to create each group. */
const RUNS = 8;
/**
 * Latency added before every request, and the gap between the runs' starts: the runs then reach the groups at every
 * point of each other's set-up (before the creation, between the creation and the rules, after), as executions
 * started by findings a few milliseconds apart do. Not a timing assertion: it only spreads the interleavings.
 */
const LATENCY_MS = 30;
const STAGGER_MS = 15;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function groupsOf(ec2: EC2Client, vpcId: string): Promise<Record<string, SecurityGroup[]>> {
  const out = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: "tag-key", Values: [CONTAINMENT_TAG] },
        { Name: "vpc-id", Values: [vpcId] },
      ],
    }),
  );
  const byRole = (role: string) =>
    (out.SecurityGroups ?? []).filter((g) => g.Tags?.some((t) => t.Key === CONTAINMENT_TAG && t.Value === role));
  return { allowAll: byRole("allow-all"), isolation: byRole("isolation") };
}

/** The IPv4 and IPv6 ranges a group's rules of one direction open, sorted. */
const ranges = (permissions: SecurityGroup["IpPermissions"]): string[] =>
  (permissions ?? [])
    .flatMap((p) => [
      ...(p.IpRanges ?? []).map((r) => `${p.IpProtocol} ${r.CidrIp}`),
      ...(p.Ipv6Ranges ?? []).map((r) => `${p.IpProtocol} ${r.CidrIpv6}`),
    ])
    .sort();

describe("flz contain instance: concurrent isolations in one VPC (emulator)", function () {
  this.timeout(120000);
  useEmulator();
  let world: ContainWorld;
  const factories: ClientFactory[] = [];
  beforeEach(async () => {
    world = await containWorld();
  });
  afterEach(() => {
    world.close();
    for (const f of factories.splice(0)) f.destroy();
  });

  /** One case per run, with its own factory: as separate executions (or operators) would have. */
  async function contexts(count: number): Promise<ContainContext[]> {
    return Promise.all(
      Array.from({ length: count }, async (_, n) => {
        const caseId = `IR-2026-10${n}`;
        const factory = new ClientFactory({
          caseId,
          forensicRoleArn: world.lz.forensicResponderRoleArn,
          memberRoleName: world.lz.memberResponderRoleName,
          injectedLatencyMs: LATENCY_MS,
        });
        factories.push(factory);
        const ledger = await openLedger({ factory, landingZone: world.lz, caseId });
        await openTestCase(ledger);
        return { factory, ledger, account: MEMBER, region: REGION, dryRun: false };
      }),
    );
  }

  it("isolates every instance, reports no failure, and leaves one pair of correctly ruled groups", async () => {
    const ec2 = world.owner(EC2Client);
    const net = await network(ec2);
    const ids = await Promise.all(Array.from({ length: RUNS }, () => launch(ec2, net)));
    const ctxs = await contexts(RUNS);

    const results = await Promise.all(
      ids.map(async (id, n) => {
        await sleep(n * STAGGER_MS);
        return containInstance(ctxs[n], { instanceId: id });
      }),
    );

    expect(results.map((r) => r.failures)).to.deep.equal(ids.map(() => []));
    const groups = await groupsOf(ec2, net.vpcId);
    expect(groups.allowAll, "one allow-all group in the VPC").to.have.length(1);
    expect(groups.isolation, "one isolation group in the VPC").to.have.length(1);
    const [allowAll] = groups.allowAll;
    const [isolation] = groups.isolation;
    expect(ranges(isolation.IpPermissions), "isolation ingress").to.deep.equal([]);
    expect(ranges(isolation.IpPermissionsEgress), "isolation egress").to.deep.equal([]);
    expect(ranges(allowAll.IpPermissions), "allow-all ingress").to.deep.equal(["-1 0.0.0.0/0", "-1 ::/0"]);
    expect(ranges(allowAll.IpPermissionsEgress), "allow-all egress").to.deep.equal(["-1 0.0.0.0/0", "-1 ::/0"]);
    for (const id of ids) {
      const state = await instanceState(ec2, id);
      expect(Object.values(state.interfaces), id).to.deep.equal([[isolation.GroupId]]);
      expect(state.disableApiTermination, id).to.equal(true);
    }
    // Each run recorded its completion in its own case, naming the same shared groups.
    for (const r of results) {
      expect(r.record?.action).to.equal("contain.instance.isolated");
      expect(r.details.containmentGroups).to.deep.equal({ allowAll: allowAll.GroupId, isolation: isolation.GroupId });
    }
  });

  it("a run that finds a group another run has just created, and sets its rules first, makes neither run fail", async () => {
    const ec2 = world.owner(EC2Client);
    const net = await network(ec2);
    const [first, second] = await Promise.all([launch(ec2, net), launch(ec2, net)]);
    const [a, b] = await contexts(2);
    // Run A creates the groups, then is held before it sets the allow-all group's rules until run B, started once
    // A's groups exist, has found them (without rules), set the rules itself and isolated its instance.
    let bDone: Promise<unknown> = Promise.resolve();
    let releaseB: () => void = () => undefined;
    const created = new Promise<void>((resolve) => (releaseB = resolve));
    a.factory.client(EC2Client, { account: MEMBER, region: REGION }).middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "AuthorizeSecurityGroupIngressCommand") await created.then(() => bDone);
        const out = await next(args);
        if (context.commandName === "CreateSecurityGroupCommand") {
          const made = await groupsOf(ec2, net.vpcId);
          if (made.allowAll.length > 0 && made.isolation.length > 0) releaseB();
        }
        return out;
      },
      { step: "initialize", name: "holdRunA" },
    );
    const runA = containInstance(a, { instanceId: first });
    await created;
    bDone = containInstance(b, { instanceId: second });
    const [ra, rb] = await Promise.all([runA, bDone as ReturnType<typeof containInstance>]);
    expect(rb.failures, "run B").to.deep.equal([]);
    expect(ra.failures, "run A").to.deep.equal([]);
    const groups = await groupsOf(ec2, net.vpcId);
    expect(ranges(groups.allowAll[0].IpPermissions)).to.deep.equal(["-1 0.0.0.0/0", "-1 ::/0"]);
    expect(ranges(groups.isolation[0].IpPermissionsEgress)).to.deep.equal([]);
    for (const id of [first, second])
      expect(Object.values((await instanceState(ec2, id)).interfaces)).to.deep.equal([[groups.isolation[0].GroupId]]);
  });

  it("settles the same race again once the groups exist but another run is still repairing their rules", async () => {
    const ec2 = world.owner(EC2Client);
    const net = await network(ec2);
    const first = await launch(ec2, net);
    await containInstance((await contexts(1))[0], { instanceId: first });
    // Someone opened the isolation group and emptied the allow-all group: every run now repairs both at once.
    const before = await groupsOf(ec2, net.vpcId);
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: before.isolation[0].GroupId,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    );
    await ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: before.allowAll[0].GroupId,
        IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    );
    const ids = await Promise.all(Array.from({ length: RUNS }, () => launch(ec2, net)));
    const ctxs = await contexts(RUNS);
    const results = await Promise.all(
      ids.map(async (id, n) => {
        await sleep(n * STAGGER_MS);
        return containInstance(ctxs[n], { instanceId: id });
      }),
    );
    expect(results.map((r) => r.failures)).to.deep.equal(ids.map(() => []));
    const after = await groupsOf(ec2, net.vpcId);
    expect(ranges(after.isolation[0].IpPermissions)).to.deep.equal([]);
    expect(ranges(after.allowAll[0].IpPermissions)).to.deep.equal(["-1 0.0.0.0/0", "-1 ::/0"]);
  });
});

describe("flz contain instance: the group another run created, found again (aws-sdk-client-mock)", () => {
  afterEach(() => mockClient(EC2Client).restore());

  it("looks the group up by its name and waits for EC2's eventually consistent reads to show it", async () => {
    const ec2 = mockClient(EC2Client);
    ec2
      .on(DescribeSecurityGroupsCommand)
      .resolvesOnce({ SecurityGroups: [] })
      .resolvesOnce({ SecurityGroups: [] })
      .resolves({
        SecurityGroups: [{ GroupId: "sg-0aaa", VpcId: "vpc-1", IpPermissions: [], IpPermissionsEgress: [] }],
      });
    const waits: number[] = [];
    const found = await findContainmentGroup(new EC2Client({}), "vpc-1", "isolation", async (ms) => {
      waits.push(ms);
    });
    expect(found).to.deep.equal({ id: "sg-0aaa", vpcId: "vpc-1", role: "isolation", ingress: [], egress: [] });
    expect(waits).to.have.length(2);
    const filters = ec2.commandCalls(DescribeSecurityGroupsCommand)[0].args[0].input.Filters;
    expect(filters).to.deep.include({ Name: "group-name", Values: ["flz-containment-isolation"] });
    expect(filters).to.deep.include({ Name: "vpc-id", Values: ["vpc-1"] });
  });

  it("gives up (and the creation's Duplicate error stands) when the group never shows", async () => {
    mockClient(EC2Client).on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    const found = await findContainmentGroup(new EC2Client({}), "vpc-1", "allow-all", async () => undefined);
    expect(found).to.equal(undefined);
  });
});
