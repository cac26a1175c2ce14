/**
 * The offline proof of issue 15: the deployed state machine definition, run by a local ASL interpreter whose Lambda
 * tasks are the real handlers, against the emulator. No operator command runs: a GuardDuty finding is the only input.
 */
import { expect } from "chai";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { DescribePolicyCommand, ListPoliciesCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { quarantineDelegationPolicy } from "../../components/documents/quarantine-delegation";
import { CreateTagsCommand, DescribeInstancesCommand, DescribeSnapshotsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { ClientFactory, responderFactory } from "../../scripts/aws/clients";
import { containmentGroupName } from "../../scripts/contain/instance-plan";
import { caseIdOf, executionNameOf, incidentOf } from "../../scripts/automation/incident";
import { DECISION_ACTION } from "../../scripts/automation/handlers";
import type { LandingZone } from "../../scripts/contract";
import { openLedger } from "../../scripts/custody/ledger";
import type { CustodyRecord } from "../../scripts/custody/types";
import { seedLandingZone, seedOrganization, SEED_ACCOUNTS } from "../../scripts/emulator/seed";
import { useEmulator } from "../support/emulator";
import { takeRecords } from "../support/oracle/hooks";
import { problemsOf } from "../../scripts/oracle";
import type { CallIdentity } from "../../scripts/aws/observer";
import { launchInstance, type TestInstance } from "../scripts/capture/fixtures";
import {
  guardDutyInstanceFinding,
  guardDutyRoleFinding,
  localAutomation,
  type LocalAutomation,
} from "../../scripts/automation/local-engine";

const MEMBER = SEED_ACCOUNTS.members[0];
const ISOLATION = containmentGroupName("isolation");
const FORENSIC = SEED_ACCOUNTS.forensic;
const REGION = "eu-west-1";
const admin = () => new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });

/** The case's records, read as `flz custody show` reads them (as the forensic responder). */
async function caseRecords(lz: LandingZone, caseId: string): Promise<CustodyRecord[]> {
  const factory = responderFactory(lz, caseId);
  try {
    return await (await openLedger({ factory, landingZone: lz, caseId })).records();
  } finally {
    factory.destroy();
  }
}

async function forensicSnapshots(caseId: string): Promise<string[]> {
  const factory = admin();
  try {
    const out = await factory
      .client(EC2Client, { account: FORENSIC, region: REGION })
      .send(
        new DescribeSnapshotsCommand({ OwnerIds: ["self"], Filters: [{ Name: "tag:flz:case", Values: [caseId] }] }),
      );
    return (out.Snapshots ?? []).map((s) => s.SnapshotId ?? "");
  } finally {
    factory.destroy();
  }
}

async function instanceGroups(instanceId: string): Promise<string[]> {
  const factory = admin();
  try {
    const out = await factory
      .client(EC2Client, { account: MEMBER, region: REGION })
      .send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const instance = out.Reservations?.[0]?.Instances?.[0];
    return (instance?.NetworkInterfaces ?? []).flatMap((n) => (n.Groups ?? []).map((g) => g.GroupName ?? ""));
  } finally {
    factory.destroy();
  }
}

const decisions = (records: CustodyRecord[]) =>
  records
    .filter((r) => r.action === DECISION_ACTION)
    .map((r) => r.details as { stage: string; decision: string; reason: string });

describe("response automation, executed offline (local ASL interpreter, real handlers, emulator)", function () {
  this.timeout(180000);
  useEmulator();
  let lz: LandingZone;
  let instance: TestInstance;
  let auto: LocalAutomation;
  let finding: Record<string, unknown>;
  let name: string;
  let caseId: string;

  // These instances' volumes are blank 8 GiB disks: hashing them is the hash test's subject (hash.test.ts, with
  // small planted disks), not these scenarios', so every volume counts as too large and is recorded "hash pending".
  const setUp = async (settings: Parameters<typeof localAutomation>[1]) => {
    auto = await localAutomation(lz, settings, { hashMaxGiB: 0 });
  };

  beforeEach(async () => {
    lz = await seedLandingZone();
    instance = await launchInstance(MEMBER, REGION, 1);
    finding = guardDutyInstanceFinding({
      account: MEMBER,
      region: REGION,
      instanceId: instance.instanceId,
      adminAccount: FORENSIC,
    });
    name = executionNameOf(incidentOf(finding, FORENSIC));
    caseId = caseIdOf(name);
  });

  it("contains the instance of a GuardDuty finding, captures and locks both volumes, records every step, and the chain verifies", async () => {
    await setUp({ modes: { "UnauthorizedAccess:EC2/*": "contain" } });
    const run = await auto.run(finding, name);
    expect(run.states).to.include.members([
      "ReadKillSwitch",
      "Intake",
      "ClaimContainmentSlot",
      "Contain",
      "CaptureInstance",
      "Verify",
      "Notify",
    ]);
    const verification = run.output.verification as { ok: boolean; verified: number; total: number };
    expect(verification.ok, JSON.stringify(verification)).to.equal(true);
    expect(verification.verified).to.equal(verification.total);

    // One region, one instance: the capture Map's results are grouped by region.
    const captures = (
      run.output.captures as Array<
        Array<{ snapshots: Array<{ volumeId: string; locked: boolean; forensicSnapshotId: string }> }>
      >
    ).flat();
    expect(captures).to.have.length(1);
    expect(captures[0].snapshots.map((s) => s.volumeId).sort()).to.deep.equal([...instance.volumeIds].sort());
    expect(captures[0].snapshots.every((s) => s.locked && s.forensicSnapshotId)).to.equal(true);
    expect(await forensicSnapshots(caseId)).to.have.length(2);
    expect(await instanceGroups(instance.instanceId)).to.deep.equal([ISOLATION]);

    const records = await caseRecords(lz, caseId);
    expect(records[0].action).to.equal("case.opened");
    expect(records.map((r) => r.action)).to.include.members([DECISION_ACTION, "contain.instance.isolated"]);
    expect(decisions(records)[0]).to.include({ stage: "intake", decision: "contain" });
    expect(auto.published.some((p) => p.subject === "FLZ: automated response finished")).to.equal(true);

    // Least privilege per function: every call a function made was evaluated as its own role's session chain, each
    // session carrying that function's session policy (the oracle intersects it with the role), and none refused.
    const calls = await takeRecords();
    expect(problemsOf(calls)).to.deep.equal([]);
    const seen = new Map<string, Set<string>>();
    for (const r of calls) {
      const chain: Extract<CallIdentity, { kind: "role" }>[] = [];
      for (let id: CallIdentity = r.call.identity; id.kind === "role"; id = id.assumedBy) chain.push(id);
      const fn = /role\/flz-automation-(\w+)$/.exec(chain.at(-1)?.roleArn ?? "")?.[1];
      if (!fn) continue;
      expect(r.principal, `${r.call.operation} of ${fn} not evaluated: ${r.outside ?? ""}`).to.not.equal(undefined);
      // Every session the function opened (all but its own execution role) carries its session policy.
      for (const session of chain.slice(0, -1))
        expect(session.sessionPolicy, `${fn}: ${r.call.operation}`).to.be.a("string");
      const where = r.call.account === undefined ? "forensic" : "member";
      seen.set(fn, new Set([...(seen.get(fn) ?? []), where]));
    }
    expect(Object.fromEntries([...seen].map(([fn, w]) => [fn, [...w].sort()]))).to.deep.include({
      intake: ["forensic", "member"],
      contain: ["forensic", "member"],
      capture: ["forensic", "member"],
      hash: ["forensic"],
      verify: ["forensic"],
    });
  });

  it("a duplicate finding opens one case and takes no second snapshot", async () => {
    await setUp({ defaultMode: "observe" });
    await auto.run(finding, name);
    const after1 = await forensicSnapshots(caseId);
    const records1 = await caseRecords(lz, caseId);
    const second = await auto.run(finding, name);
    expect(second.states).to.include("Skipped");
    expect(await forensicSnapshots(caseId)).to.deep.equal(after1);
    const records2 = await caseRecords(lz, caseId);
    expect(records2.filter((r) => r.action === "case.opened")).to.have.length(1);
    expect(records2.length).to.equal(records1.length + 1);
    expect(decisions(records2).at(-1)?.reason).to.match(/duplicate delivery/);
  });

  it("an approval that nobody gives in time falls back to capture only, and says so in the ledger", async () => {
    await setUp({ defaultMode: "approval", approvalTimeoutSeconds: 1 });
    const run = await auto.run(finding, name);
    expect(run.states).to.include.members(["AwaitApproval", "ApprovalTimedOut", "CaptureInstance"]);
    expect(run.states).not.to.include("Contain");
    expect(await instanceGroups(instance.instanceId)).not.to.include(ISOLATION);
    expect(await forensicSnapshots(caseId)).to.have.length(2);
    const approval = JSON.parse(auto.published[0].message) as { taskToken: string; caseId: string };
    expect(approval.caseId).to.equal(caseId);
    expect(approval.taskToken).to.match(/^token-/);
    expect(decisions(await caseRecords(lz, caseId)).map((d) => `${d.stage}:${d.decision}`)).to.deep.equal([
      "intake:approval",
      "approval-timeout:observe",
    ]);
  });

  it("an approved containment contains", async () => {
    await setUp({ defaultMode: "approval" });
    const run = await auto.run(finding, name, { approved: true, by: "Alice (IR lead)" });
    expect(run.states).to.include.members(["AwaitApproval", "RecordApproval", "Contain"]);
    expect(await instanceGroups(instance.instanceId)).to.deep.equal([ISOLATION]);
    expect(decisions(await caseRecords(lz, caseId))[1].reason).to.match(/approved by Alice/);
  });

  it("the kill switch, read first, stops everything but the record of why", async () => {
    await setUp({ modes: { "UnauthorizedAccess:EC2/*": "contain" } });
    await auto.setKillSwitch("engaged");
    const run = await auto.run(finding, name);
    expect(run.states[0]).to.equal("ReadKillSwitch");
    expect(run.states).to.include("Skipped").and.not.include("Contain");
    expect(await forensicSnapshots(caseId)).to.have.length(0);
    expect(await instanceGroups(instance.instanceId)).not.to.include(ISOLATION);
    const [d] = decisions(await caseRecords(lz, caseId));
    expect(d).to.include({ decision: "skip" });
    expect(d.reason).to.match(/kill switch engaged/);
  });

  it("an excluded account and an opted-out instance are never touched", async () => {
    await setUp({ modes: { "UnauthorizedAccess:EC2/*": "contain" }, excludedAccountIds: [MEMBER] });
    await auto.run(finding, name);
    expect(decisions(await caseRecords(lz, caseId))[0].reason).to.match(/account 333333333333 is excluded/);

    const factory = admin();
    await factory
      .client(EC2Client, { account: MEMBER, region: REGION })
      .send(
        new CreateTagsCommand({ Resources: [instance.instanceId], Tags: [{ Key: "flz:automation", Value: "off" }] }),
      );
    factory.destroy();
    await setUpAgain(lz, { modes: { "UnauthorizedAccess:EC2/*": "contain" } });
    const other = guardDutyInstanceFinding({
      account: MEMBER,
      region: REGION,
      instanceId: instance.instanceId,
      adminAccount: FORENSIC,
      findingId: "0cc7a3c0e1ed7b5e4c5e5bc7e1d7a3f0",
    });
    const otherName = executionNameOf(incidentOf(other, FORENSIC));
    await auto.run(other, otherName);
    expect(decisions(await caseRecords(lz, caseIdOf(otherName)))[0].reason).to.match(/tagged flz:automation=off/);
    // The tag is writable by the member account's administrator (an intruder too): the skip reaches the on-call topic.
    expect(auto.published.at(-1)).to.deep.include({ subject: "FLZ: automated response skipped" });
    expect(auto.published.at(-1)?.message).to.match(/tagged flz:automation=off/);
    expect(await forensicSnapshots(caseIdOf(otherName))).to.have.length(0);
    expect(await instanceGroups(instance.instanceId)).not.to.include(ISOLATION);
  });

  it("the rate limit lets the first containment through and records the second as capture only", async () => {
    await setUp({ modes: { "UnauthorizedAccess:EC2/*": "contain" }, maxContainmentsPerHour: 1 });
    await auto.run(finding, name);
    const second = await launchInstance(MEMBER, REGION, 0);
    const other = guardDutyInstanceFinding({
      account: MEMBER,
      region: REGION,
      instanceId: second.instanceId,
      adminAccount: FORENSIC,
      findingId: "1cc7a3c0e1ed7b5e4c5e5bc7e1d7a3f1",
    });
    const otherName = executionNameOf(incidentOf(other, FORENSIC));
    const run = await auto.run(other, otherName);
    expect(run.states).to.include("RateLimited").and.not.include("Contain");
    expect(await instanceGroups(second.instanceId)).not.to.include(ISOLATION);
    expect(decisions(await caseRecords(lz, caseIdOf(otherName))).at(-1)?.reason).to.match(/rate limit reached/);
  });

  it("a finding about a role's credentials revokes the role's sessions (an organisation quarantine SCP)", async () => {
    // Revocation is an organisation-level quarantine, managed from the forensic account through delegated policy
    // management: the organisation and its delegation policy exist, as the landing zone deploys them.
    const organization = await seedOrganization({
      delegation: ({ organizationId, managementAccountId }) =>
        quarantineDelegationPolicy({
          organizationId,
          managementAccountId,
          responderRoleArn: lz.forensicResponderRoleArn,
        }),
    });
    lz = { ...lz, organizationId: organization.organizationId };
    const factory = admin();
    const iam = factory.client(IAMClient, { account: MEMBER, region: REGION });
    await iam.send(
      new CreateRoleCommand({
        RoleName: "ci-deployer",
        AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
      }),
    );
    await setUp({ modes: { "UnauthorizedAccess:IAMUser/*": "contain" } });
    const event = guardDutyRoleFinding({
      account: MEMBER,
      region: REGION,
      roleName: "ci-deployer",
      adminAccount: FORENSIC,
    });
    const roleName = executionNameOf(incidentOf(event, FORENSIC));
    const run = await auto.run(event, roleName);
    expect(run.states).to.include("Contain").and.not.include("ContainFailed");
    expect((run.output.verification as { ok: boolean }).ok).to.equal(true);
    const records = await caseRecords(lz, caseIdOf(roleName));
    expect(records.map((r) => r.action)).to.include("contain.sessions.revoked");
    const org = factory.client(OrganizationsClient, { account: SEED_ACCOUNTS.management, region: REGION });
    const listed = (await org.send(new ListPoliciesCommand({ Filter: "SERVICE_CONTROL_POLICY" }))).Policies ?? [];
    const ours = listed.filter((p) => (p.Name ?? "").startsWith(`flz-quarantine-${MEMBER}-${caseIdOf(roleName)}-`));
    expect(ours).to.have.length(1);
    const content = (await org.send(new DescribePolicyCommand({ PolicyId: ours[0].Id }))).Policy?.Content ?? "";
    expect(content).to.contain(`arn:aws:iam::${MEMBER}:role/ci-deployer`).and.contain("aws:TokenIssueTime");
    factory.destroy();
  });

  async function setUpAgain(zone: LandingZone, settings: Parameters<typeof localAutomation>[1]): Promise<void> {
    auto = await localAutomation(zone, settings);
  }
});
