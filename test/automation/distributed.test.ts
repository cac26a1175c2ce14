/**
 * The Distributed Map path executed end to end: an incident over the inline threshold (lowered by the definition's
 * own setting, `maxInlineItems`, not by editing the constant) goes through ContainDistributed and CaptureDistributed,
 * whose items the driver (scripts/automation/local-distributed.ts) reads from the list the intake wrote to the
 * emulator's S3 and runs, one child execution of the ItemProcessor per item, with the real handlers. And the driver's
 * own semantics (ItemReader, ItemSelector, MaxConcurrency, tolerated failures), on a pure stand-in.
 */
import { expect } from "chai";
import { DescribeInstancesCommand, DescribeSnapshotsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { REQUEST_DETAIL_TYPE, REQUEST_SOURCE, resolveGuardrails } from "../../components/documents/automation";
import { MAX_INLINE_ITEMS, responseDefinition } from "../../components/documents/automation-asl";
import { ClientFactory, responderFactory } from "../../scripts/aws/clients";
import { caseIdOf, executionNameOf, incidentOf } from "../../scripts/automation/incident";
import { runDistributedMap, withDistributedMapsAsTasks } from "../../scripts/automation/local-distributed";
import { localAutomation } from "../../scripts/automation/local-engine";
import { containmentGroupName } from "../../scripts/contain/instance-plan";
import type { LandingZone } from "../../scripts/contract";
import { openLedger } from "../../scripts/custody/ledger";
import { seedLandingZone, SEED_ACCOUNTS } from "../../scripts/emulator/seed";
import { useEmulator } from "../support/emulator";
import { launchInstance } from "../scripts/capture/fixtures";

const [A, B] = SEED_ACCOUNTS.members;
const FORENSIC = SEED_ACCOUNTS.forensic;
const admin = () => new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });

describe("Distributed Map driver (pure)", () => {
  const processor = { StartAt: "P", States: { P: { Type: "Pass", End: true } } };
  const map = (extra: Record<string, unknown> = {}) => ({
    Type: "Map",
    ItemReader: {
      Resource: "arn:aws:states:::s3:getObject",
      ReaderConfig: { InputType: "JSON" },
      Parameters: { Bucket: "b", "Key.$": "$.lists.key" },
    },
    ItemProcessor: { ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" }, ...processor },
    MaxConcurrency: 2,
    ResultPath: null,
    Next: "After",
    ...extra,
  });
  const input = { lists: { key: "cases/C/automation/items.json" }, caseId: "C" };

  it("reads the list named by the state's input, runs each item as a child at most MaxConcurrency at once, and returns the results in item order", async () => {
    const read: string[] = [];
    let running = 0;
    let most = 0;
    const results = await runDistributedMap(map(), input, {
      getObject: async (bucket, key) => {
        read.push(`${bucket}/${key}`);
        return JSON.stringify([1, 2, 3, 4, 5]);
      },
      runChild: async (p, item) => {
        expect(p).to.deep.equal(processor);
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setImmediate(r));
        running--;
        return { doubled: (item as number) * 2 };
      },
    });
    expect(read).to.deep.equal(["b/cases/C/automation/items.json"]);
    expect(results).to.deep.equal([2, 4, 6, 8, 10].map((doubled) => ({ doubled })));
    expect(most).to.equal(2);
  });

  it("builds each child's input with ItemSelector from the item, its index and the state's input", async () => {
    const inputs: unknown[] = [];
    await runDistributedMap(
      map({ ItemSelector: { "value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "caseId.$": "$.caseId" } }),
      input,
      {
        getObject: async () => JSON.stringify(["x", "y"]),
        runChild: async (_p, item) => inputs.push(item),
      },
    );
    expect(inputs).to.deep.equal([
      { value: "x", index: 0, caseId: "C" },
      { value: "y", index: 1, caseId: "C" },
    ]);
  });

  it("fails with States.ExceedToleratedFailureThreshold past the tolerated failures (none by default)", async () => {
    const failing = {
      getObject: async () => JSON.stringify([0, 1, 2, 3]),
      runChild: async (_p: unknown, item: unknown) => {
        if (item === 1) throw Object.assign(new Error("boom"), { name: "ContainmentIncomplete" });
        return item;
      },
    };
    const err = await runDistributedMap(map(), input, failing).catch((e: Error) => e);
    expect((err as Error).name).to.equal("States.ExceedToleratedFailureThreshold");
    expect((err as Error).message).to.match(/1 of 4 child executions failed: item 1: ContainmentIncomplete: boom/);
    expect(await runDistributedMap(map({ ToleratedFailureCount: 1 }), input, failing)).to.have.length(4);
    expect(await runDistributedMap(map({ ToleratedFailurePercentage: 25 }), input, failing)).to.have.length(4);
  });

  it("refuses what it does not model: another reader, a list that is not a JSON array", async () => {
    const deps = { getObject: async () => JSON.stringify({ not: "a list" }), runChild: async () => null };
    const csv = map({
      ItemReader: { Resource: "arn:aws:states:::s3:getObject", ReaderConfig: { InputType: "CSV" }, Parameters: {} },
    });
    expect(((await runDistributedMap(csv, input, deps).catch((e: Error) => e)) as Error).message).to.match(
      /InputType JSON/,
    );
    const err = (await runDistributedMap(map(), input, deps).catch((e: Error) => e)) as Error;
    expect(err.name).to.equal("States.ItemReaderFailed");
    expect(err.message).to.match(/not a JSON array/);
  });

  it("replaces only the response definition's Distributed Maps, keeping their paths and transitions", () => {
    const fn = (n: string) => `arn:aws:lambda:us-east-1:${FORENSIC}:function:flz-automation-${n}`;
    const definition = responseDefinition({ guardrails: resolveGuardrails({}), ...fnArgs(fn) });
    const { definition: runnable, maps } = withDistributedMapsAsTasks(definition, (s) => `arn:local:${s}`);
    expect(Object.keys(maps).sort()).to.deep.equal(["CaptureDistributed", "ContainDistributed"]);
    expect(runnable.States.ContainDistributed).to.deep.include({
      Type: "Task",
      Resource: "arn:local:ContainDistributed",
      ResultPath: null,
      Next: "CaptureRoute",
    });
    expect(runnable.States.Contain).to.equal(definition.States.Contain);
    expect(() =>
      responseDefinition({ guardrails: resolveGuardrails({}), ...fnArgs(fn), maxInlineItems: MAX_INLINE_ITEMS + 1 }),
    ).to.throw(/maxInlineItems: \d+ is not valid; valid: a whole number from 1 to \d+/);
  });
});

function fnArgs(fn: (n: string) => string) {
  return {
    functions: {
      intake: fn("intake"),
      record: fn("record"),
      contain: fn("contain"),
      capture: fn("capture"),
      hash: fn("hash"),
      verify: fn("verify"),
    },
    evidenceBucket: "flz-evidence-222222222222-us-east-1",
    rateTableName: "flz-automation-rate",
    topicArn: `arn:aws:sns:us-east-1:${FORENSIC}:flz-automation-notify`,
  };
}

describe("an incident over the inline threshold, through the Distributed Maps (driver, real handlers, emulator)", function () {
  this.timeout(300000);
  useEmulator();
  let lz: LandingZone;

  beforeEach(async () => {
    lz = await seedLandingZone();
  });

  it("contains and captures every instance from the lists in S3, in one case whose chain verifies", async () => {
    const instances = await Promise.all([
      launchInstance(A, "eu-west-1", 0),
      launchInstance(A, "eu-west-1", 0),
      launchInstance(B, "us-east-1", 0),
    ]);
    const placed = [
      { account: A, region: "eu-west-1", instanceId: instances[0].instanceId },
      { account: A, region: "eu-west-1", instanceId: instances[1].instanceId },
      { account: B, region: "us-east-1", instanceId: instances[2].instanceId },
    ];
    const event = {
      version: "0",
      id: "req-9",
      "detail-type": REQUEST_DETAIL_TYPE,
      source: REQUEST_SOURCE,
      account: FORENSIC,
      region: "us-east-1",
      detail: { requestId: "incident-9", reason: "one attacker, many hosts", instances: placed },
    };
    const name = executionNameOf(incidentOf(event, FORENSIC));
    const caseId = caseIdOf(name);
    // Threshold 2 (configuration of the definition): this incident of 3 instances is "too large" for inline Maps.
    const auto = await localAutomation(lz, { modes: { Request: "contain" } }, { hashMaxGiB: 0, maxInlineItems: 2 });
    let run;
    try {
      run = await auto.run(event, name);
    } finally {
      auto.close();
    }
    expect(run.states).to.include.members(["ContainDistributed", "CaptureDistributed"]);
    expect(run.states).to.not.include.members(["Contain", "Capture"]);
    expect(run.states.filter((s) => s === "DistributedContainTarget")).to.have.length(3);
    expect(run.states.filter((s) => s === "DistributedCaptureInstance")).to.have.length(3);
    expect(run.states.filter((s) => s === "DistributedHashInstance")).to.have.length(3);
    expect(run.states).to.not.include("DistributedContainFailed");
    // Every instance contained before the first capture started (the contain Map ends before CaptureRoute).
    const lastContain = Math.max(
      ...run.timings.filter((t) => t.state === "DistributedContainTarget").map((t) => t.exitedAt ?? 0),
    );
    const firstCapture = Math.min(
      ...run.timings.filter((t) => t.state === "DistributedCaptureInstance").map((t) => t.enteredAt),
    );
    expect(firstCapture).to.be.at.least(lastContain);
    expect((run.output.verification as { ok: boolean; verified: number; total: number }).ok).to.equal(true);

    const f = admin();
    try {
      for (const p of placed) {
        const out = await f
          .client(EC2Client, { account: p.account, region: p.region })
          .send(new DescribeInstancesCommand({ InstanceIds: [p.instanceId] }));
        const groups = (out.Reservations?.[0]?.Instances?.[0]?.NetworkInterfaces ?? []).flatMap((n) =>
          (n.Groups ?? []).map((g) => g.GroupName ?? ""),
        );
        expect(groups, p.instanceId).to.deep.equal([containmentGroupName("isolation")]);
      }
      let copies = 0;
      for (const region of ["eu-west-1", "us-east-1"]) {
        const out = await f
          .client(EC2Client, { account: FORENSIC, region })
          .send(
            new DescribeSnapshotsCommand({ OwnerIds: ["self"], Filters: [{ Name: "tag:flz:case", Values: [caseId] }] }),
          );
        copies += (out.Snapshots ?? []).length;
      }
      const volumes = instances.reduce((n, i) => n + i.volumeIds.length, 0);
      expect(copies).to.equal(volumes);
    } finally {
      f.destroy();
    }
    const factory = responderFactory(lz, caseId);
    try {
      const records = await (await openLedger({ factory, landingZone: lz, caseId })).records();
      const actions = records.map((r) => r.action);
      expect(actions.filter((a) => a === "contain.instance.isolated")).to.have.length(3);
      expect(records.filter((r) => r.action === "case.opened")).to.have.length(1);
    } finally {
      factory.destroy();
    }
  });
});
