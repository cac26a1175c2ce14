/**
 * An incident of several instances: an explicit request naming them (across accounts and regions) is one case and one
 * execution. Every instance is contained before any capture starts, captured by region, and the guardrails apply per
 * instance (an opted-out one is left alone, and the decision record says why). Above the inline threshold the intake
 * writes the item lists to the evidence bucket for the Distributed Maps and names them, with their SHA-256, in its
 * decision record.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { CreateTagsCommand, DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { REQUEST_DETAIL_TYPE, REQUEST_SOURCE, resolveGuardrails } from "../../components/documents/automation";
import { ClientFactory, responderFactory } from "../../scripts/aws/clients";
import { DECISION_ACTION, type IntakeOutput } from "../../scripts/automation/handlers";
import { caseIdOf, executionNameOf, incidentOf, UnsupportedEventError } from "../../scripts/automation/incident";
import { localAutomation } from "../../scripts/automation/local-engine";
import { containmentGroupName } from "../../scripts/contain/instance-plan";
import type { LandingZone } from "../../scripts/contract";
import { openLedger } from "../../scripts/custody/ledger";
import type { CustodyRecord } from "../../scripts/custody/types";
import { seedLandingZone, SEED_ACCOUNTS } from "../../scripts/emulator/seed";
import { intakeGuardrails } from "../../components/documents/automation-asl";
import { useEmulator } from "../support/emulator";
import { launchInstance } from "../scripts/capture/fixtures";

const [A, B] = SEED_ACCOUNTS.members;
const FORENSIC = SEED_ACCOUNTS.forensic;
const admin = () => new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });

function request(instances: Array<{ account: string; region: string; instanceId: string }>, sender: string = FORENSIC) {
  return {
    version: "0",
    id: "req-1",
    "detail-type": REQUEST_DETAIL_TYPE,
    source: REQUEST_SOURCE,
    account: sender,
    region: "us-east-1",
    detail: { requestId: "incident-7", reason: "one attacker, several hosts", instances },
  };
}

describe("an incident of several instances: the request names them (pure)", () => {
  it("reads every instance, and refuses a member account asking about another account's instance", () => {
    const three = [
      { account: A, region: "eu-west-1", instanceId: "i-0123456789abcdef0" },
      { account: B, region: "us-east-1", instanceId: "i-0123456789abcdef1" },
    ];
    const incident = incidentOf(request(three), FORENSIC);
    expect(incident.instances).to.deep.equal(three);
    expect(incident.target).to.deep.equal({ kind: "instance", instanceId: "i-0123456789abcdef0" });
    expect(() => incidentOf(request(three, A), FORENSIC)).to.throw(
      UnsupportedEventError,
      /request from account 333333333333 about account 444444444444 refused/,
    );
    expect(() => incidentOf(request([]), FORENSIC)).to.throw(/request names 0 instances/);
  });
});

describe("an incident of several instances (local ASL interpreter, real handlers, emulator)", function () {
  this.timeout(300000);
  useEmulator();
  let lz: LandingZone;

  beforeEach(async () => {
    lz = await seedLandingZone();
  });

  const records = async (caseId: string): Promise<CustodyRecord[]> => {
    const factory = responderFactory(lz, caseId);
    try {
      return await (await openLedger({ factory, landingZone: lz, caseId })).records();
    } finally {
      factory.destroy();
    }
  };

  it("contains and captures every instance across regions in one case, leaving an opted-out one alone", async () => {
    const [one, two, three] = await Promise.all([
      launchInstance(A, "eu-west-1", 0),
      launchInstance(A, "eu-west-1", 0),
      launchInstance(B, "us-east-1", 0),
    ]);
    const factory = admin();
    try {
      await factory
        .client(EC2Client, { account: A, region: "eu-west-1" })
        .send(new CreateTagsCommand({ Resources: [two.instanceId], Tags: [{ Key: "flz:automation", Value: "off" }] }));
    } finally {
      factory.destroy();
    }
    const event = request([
      { account: A, region: "eu-west-1", instanceId: one.instanceId },
      { account: A, region: "eu-west-1", instanceId: two.instanceId },
      { account: B, region: "us-east-1", instanceId: three.instanceId },
    ]);
    const name = executionNameOf(incidentOf(event, FORENSIC));
    const auto = await localAutomation(lz, { modes: { Request: "contain" } }, { hashMaxGiB: 0 });
    try {
      const run = await auto.run(event, name);
      expect(run.states.filter((s) => s === "ContainTarget")).to.have.length(2);
      expect(run.states.filter((s) => s === "CaptureInstance")).to.have.length(2);
      expect(run.states).to.not.include("ContainFailed");
      // Every instance contained before the first capture started.
      const lastContain = Math.max(
        ...run.timings.filter((t) => t.state === "ContainTarget").map((t) => t.exitedAt ?? 0),
      );
      const firstCapture = Math.min(
        ...run.timings.filter((t) => t.state === "CaptureInstance").map((t) => t.enteredAt),
      );
      expect(firstCapture).to.be.at.least(lastContain);
      const captures = (run.output.captures as Array<Array<{ instanceId: string; destinationRegion: string }>>).map(
        (group) => group.map((c) => `${c.destinationRegion}:${c.instanceId}`),
      );
      expect(captures.flat().sort()).to.deep.equal(
        [`eu-west-1:${one.instanceId}`, `us-east-1:${three.instanceId}`].sort(),
      );
      expect((run.output.verification as { ok: boolean }).ok).to.equal(true);
    } finally {
      auto.close();
    }

    const groups = async (account: string, region: string, id: string) => {
      const f = admin();
      try {
        const out = await f
          .client(EC2Client, { account, region })
          .send(new DescribeInstancesCommand({ InstanceIds: [id] }));
        return (out.Reservations?.[0]?.Instances?.[0]?.NetworkInterfaces ?? []).flatMap((n) =>
          (n.Groups ?? []).map((g) => g.GroupName ?? ""),
        );
      } finally {
        f.destroy();
      }
    };
    expect(await groups(A, "eu-west-1", one.instanceId)).to.deep.equal([containmentGroupName("isolation")]);
    expect(await groups(B, "us-east-1", three.instanceId)).to.deep.equal([containmentGroupName("isolation")]);
    expect(await groups(A, "eu-west-1", two.instanceId)).to.not.include(containmentGroupName("isolation"));

    const recorded = await records(caseIdOf(name));
    const intake = recorded.find((r) => r.action === DECISION_ACTION)?.details as {
      instances: string[];
      leftAlone: Array<{ instanceId: string; reason: string }>;
    };
    expect(intake.instances).to.deep.equal([one.instanceId, three.instanceId]);
    expect(intake.leftAlone).to.have.length(1);
    expect(intake.leftAlone[0]).to.include({ instanceId: two.instanceId });
    expect(intake.leftAlone[0].reason).to.match(/tagged flz:automation=off/);
    expect(recorded.filter((r) => r.action === "contain.instance.isolated")).to.have.length(2);
  });

  it("above the inline threshold, writes the item lists to the evidence bucket and names them in the decision record", async () => {
    const [one, two] = await Promise.all([launchInstance(A, "eu-west-1", 0), launchInstance(B, "us-east-1", 0)]);
    const event = request([
      { account: A, region: "eu-west-1", instanceId: one.instanceId },
      { account: B, region: "us-east-1", instanceId: two.instanceId },
    ]);
    const name = executionNameOf(incidentOf(event, FORENSIC));
    const auto = await localAutomation(lz, { modes: { Request: "contain" } });
    let out: IntakeOutput;
    try {
      const g = resolveGuardrails({ modes: { Request: "contain" } });
      // What the state machine passes, with a threshold of 1 instance: this incident of 2 is "too large".
      out = await auto.handlers.intake({
        event,
        killSwitch: "released",
        executionName: name,
        guardrails: intakeGuardrails(g),
        maxInlineItems: 1,
        listBucket: lz.evidenceBucket,
      });
    } finally {
      auto.close();
    }
    expect(out.distributed).to.equal(true);
    expect(out.instanceCount).to.equal(2);
    expect(out.containItems).to.deep.equal([]);
    expect(out.regions).to.deep.equal([]);
    const caseId = caseIdOf(name);
    expect(out.lists).to.deep.equal({
      bucket: lz.evidenceBucket,
      containKey: `cases/${caseId}/automation/contain-items.json`,
      captureKey: `cases/${caseId}/automation/capture-items.json`,
    });
    // What the ItemReader reads: the capture list, one item per instance, as the capture function takes them.
    const factory = responderFactory(lz, caseId);
    let body: string;
    try {
      const object = await factory
        .client(S3Client, { region: lz.homeRegion })
        .send(new GetObjectCommand({ Bucket: lz.evidenceBucket, Key: out.lists?.captureKey ?? "" }));
      body = (await object.Body?.transformToString()) ?? "";
    } finally {
      factory.destroy();
    }
    const items = JSON.parse(body) as Array<{ instanceId: string; caseId: string }>;
    expect(items.map((i) => i.instanceId).sort()).to.deep.equal([one.instanceId, two.instanceId].sort());
    expect(items.every((i) => i.caseId === caseId)).to.equal(true);
    const decision = (await records(caseId)).find((r) => r.action === DECISION_ACTION);
    const named = (decision?.evidence ?? []).map((e) => [e.location, e.sha256]);
    expect(named).to.deep.include([
      `s3://${lz.evidenceBucket}/${out.lists?.captureKey}`,
      createHash("sha256").update(body).digest("hex"),
    ]);
    expect(named).to.have.length(2);
  });
});
