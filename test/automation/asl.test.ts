/**
 * The definition's shape for incidents of every size: inline Maps (contain every target, then capture by region within
 * the copy quota, hashing each instance once captured) and, above the payload threshold the builder computes,
 * Distributed Maps that read the intake's item lists from S3. Validated with asl-validator; the state machine role's
 * permissions for the distributed path evaluated with the IAM evaluator.
 */
import { expect } from "chai";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { resolveGuardrails, stateMachinePermissions } from "../../components/documents/automation";
import {
  INLINE_MAX_CONCURRENCY,
  inlineBytesPerInstance,
  MAX_INLINE_ITEMS,
  PAYLOAD_LIMIT_BYTES,
  responseDefinition,
  type AslState,
} from "../../components/documents/automation-asl";
import type { PolicyDocument } from "../../components/documents/types";

const FORENSIC = "222222222222";
const BUCKET = "flz-evidence-222222222222-us-east-1";
const MACHINE = `arn:aws:states:us-east-1:${FORENSIC}:stateMachine:flz-automation-response`;
const fn = (name: string) => `arn:aws:lambda:us-east-1:${FORENSIC}:function:flz-automation-${name}`;

const definition = () =>
  responseDefinition({
    guardrails: resolveGuardrails({ modes: { "UnauthorizedAccess:EC2/*": "contain" } }),
    functions: {
      intake: fn("intake"),
      record: fn("record"),
      contain: fn("contain"),
      capture: fn("capture"),
      hash: fn("hash"),
      verify: fn("verify"),
    },
    rateTableName: "flz-automation-rate",
    topicArn: `arn:aws:sns:us-east-1:${FORENSIC}:flz-automation-notify`,
    evidenceBucket: BUCKET,
  });

async function validateAsl(d: unknown): Promise<{ isValid: boolean; errors: unknown[] }> {
  const name = "asl-validator"; // ESM-only, without typings: a dynamic import of a name keeps tsc out of it
  const mod = (await import(name)) as { default: (x: unknown) => Promise<{ isValid: boolean; errors: unknown[] }> };
  return mod.default(d);
}

type Processor = {
  ProcessorConfig: { Mode: string; ExecutionType?: string };
  StartAt: string;
  States: Record<string, AslState>;
};

describe("response definition: inline and distributed Maps", () => {
  it("is valid ASL with both paths (asl-validator)", async () => {
    const verdict = await validateAsl(definition());
    expect(verdict.errors, JSON.stringify(verdict.errors)).to.deep.equal([]);
    expect(verdict.isValid).to.equal(true);
  });

  it("computes the inline threshold from the 256 KiB payload limit and the worst-case bytes per instance", () => {
    const per = inlineBytesPerInstance();
    expect(PAYLOAD_LIMIT_BYTES).to.equal(262144);
    expect(per).to.be.greaterThan(1000); // 8 volumes with hashes, the longest IDs
    expect(MAX_INLINE_ITEMS).to.be.greaterThan(10);
    // The largest inline incident fits with the reserve kept; one more instance would not.
    expect(64 * 1024 + MAX_INLINE_ITEMS * per).to.be.at.most(PAYLOAD_LIMIT_BYTES);
    expect(64 * 1024 + (MAX_INLINE_ITEMS + 1) * per).to.be.greaterThan(PAYLOAD_LIMIT_BYTES);
    // The intake is told the threshold, and where to write the lists.
    const intake = definition().States.Intake.Parameters as Record<string, unknown>;
    expect(intake.maxInlineItems).to.equal(MAX_INLINE_ITEMS);
    expect(intake.listBucket).to.equal(BUCKET);
  });

  it("routes on the intake's verdict: inline Maps below the threshold, Distributed Maps reading the S3 lists above it", () => {
    const states = definition().States;
    for (const [route, inline, distributed] of [
      ["ContainRoute", "Contain", "ContainDistributed"],
      ["CaptureRoute", "Capture", "CaptureDistributed"],
    ]) {
      expect(states[route]).to.deep.equal({
        Type: "Choice",
        Choices: [{ Variable: "$.intake.distributed", BooleanEquals: true, Next: distributed }],
        Default: inline,
      });
      expect((states[inline].ItemProcessor as Processor).ProcessorConfig.Mode).to.equal("INLINE");
      const d = states[distributed];
      expect((d.ItemProcessor as Processor).ProcessorConfig).to.deep.equal({
        Mode: "DISTRIBUTED",
        ExecutionType: "STANDARD",
      });
      expect(d.ItemReader).to.deep.include({ Resource: "arn:aws:states:::s3:getObject" });
      expect((d.ItemReader as { ReaderConfig: unknown }).ReaderConfig).to.deep.equal({ InputType: "JSON" });
      expect(d.ResultPath).to.equal(null);
    }
    expect((states.ContainDistributed.ItemReader as { Parameters: unknown }).Parameters).to.deep.equal({
      Bucket: BUCKET,
      "Key.$": "$.intake.lists.containKey",
    });
    expect((states.CaptureDistributed.ItemReader as { Parameters: unknown }).Parameters).to.deep.equal({
      Bucket: BUCKET,
      "Key.$": "$.intake.lists.captureKey",
    });
    // Every path that acts goes through the routes, never straight to a Map.
    expect(states.ClaimContainmentSlot.Next).to.equal("ContainRoute");
    expect(states.Route.Default).to.equal("CaptureRoute");
  });

  it("contains every target before any capture, and captures each region within its 20-copy quota, hashing once captured", () => {
    const states = definition().States;
    expect(states.Contain.MaxConcurrency).to.equal(INLINE_MAX_CONCURRENCY);
    expect(states.Contain.Next).to.equal("CaptureRoute");
    expect(states.Capture.ItemsPath).to.equal("$.intake.regions");
    expect(states.Capture.MaxConcurrency).to.equal(0);
    const region = (states.Capture.ItemProcessor as Processor).States.CaptureRegion;
    expect(region.ItemsPath).to.equal("$.instances");
    expect(region.MaxConcurrency).to.equal(10); // 20 copies / 2 volumes
    const perInstance = (region.ItemProcessor as Processor).States;
    expect(perInstance.CaptureInstance.Next).to.equal("HashInstance");
    expect(perInstance.HashInstance.Resource).to.equal(fn("hash"));
    // No retry of a failed containment (the race is settled in the code); a failure is recorded, capture goes on.
    const contain = (states.Contain.ItemProcessor as Processor).States.ContainTarget;
    expect(JSON.stringify(contain.Retry)).to.not.match(/ContainmentIncomplete/);
    expect(contain.Catch).to.deep.equal([
      { ErrorEquals: ["States.ALL"], ResultPath: "$.containError", Next: "ContainFailed" },
    ]);
  });

  it("lets the state machine run its Distributed Maps (child executions of itself, the lists in S3) and nothing more", async () => {
    const doc = stateMachinePermissions({
      functionArns: ["intake", "record", "contain", "capture", "hash", "verify"].map(fn),
      killSwitchParameterArn: `arn:aws:ssm:us-east-1:${FORENSIC}:parameter/flz/automation/kill-switch`,
      rateTableArn: `arn:aws:dynamodb:us-east-1:${FORENSIC}:table/flz-automation-rate`,
      topicArn: `arn:aws:sns:us-east-1:${FORENSIC}:flz-automation-notify`,
      stateMachineArn: MACHINE,
      evidenceBucket: BUCKET,
    });
    // The evidence key lets the forensic account's IAM policies grant its use (its EnableIamPolicies statement).
    const keyPolicy: PolicyDocument = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "EnableIamPolicies",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${FORENSIC}:root` },
          Action: "kms:*",
          Resource: "*",
        },
      ],
    };
    const allowed = (action: string, resource: string, context: Record<string, string> = {}) =>
      simulate(action, resource, context, doc, action.startsWith("kms:") ? keyPolicy : undefined);
    expect(await allowed("states:StartExecution", MACHINE)).to.equal("Allowed");
    expect(await allowed("states:StartExecution", `${MACHINE}-other`)).to.not.equal("Allowed");
    const child = `arn:aws:states:us-east-1:${FORENSIC}:execution:flz-automation-response/CaptureDistributed:1234`;
    expect(await allowed("states:DescribeExecution", child)).to.equal("Allowed");
    expect(await allowed("states:StopExecution", child)).to.equal("Allowed");
    const list = `arn:aws:s3:::${BUCKET}/cases/AUTO-rq-1/automation/capture-items.json`;
    expect(await allowed("s3:GetObject", list)).to.equal("Allowed");
    expect(await allowed("s3:GetObject", `arn:aws:s3:::${BUCKET}/cases/AUTO-rq-1/custody/00000000.json`)).to.not.equal(
      "Allowed",
    );
    expect(await allowed("s3:PutObject", list)).to.not.equal("Allowed");
    const key = `arn:aws:kms:us-east-1:${FORENSIC}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    expect(await allowed("kms:Decrypt", key, { "kms:ViaService": "s3.us-east-1.amazonaws.com" })).to.equal("Allowed");
    expect(await allowed("kms:Decrypt", key, { "kms:ViaService": "ec2.us-east-1.amazonaws.com" })).to.not.equal(
      "Allowed",
    );
  });
});

async function simulate(
  action: string,
  resource: string,
  contextVariables: Record<string, string>,
  identity: PolicyDocument,
  resourcePolicy?: PolicyDocument,
): Promise<string | undefined> {
  const result = (await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${FORENSIC}:role/flz-automation-state-machine`,
        action,
        resource: { resource, accountId: FORENSIC },
        contextVariables,
      },
      identityPolicies: [{ name: "identity", policy: identity }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
    },
    {},
  )) as { overallResult?: string };
  return result.overallResult;
}
