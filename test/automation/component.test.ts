/**
 * The ResponseAutomation component under the recording mock engine, the landing zone's switch, and the documents it
 * deploys: the definition validated with asl-validator, the bus policy and function roles evaluated with the IAM
 * evaluator, the Lambda bundle built from scripts/ with the handlers exported.
 */
import { expect } from "chai";
import { existsSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { bundleAutomationCode, ResponseAutomation } from "../../components/ResponseAutomation";
import {
  automationFunctionPermissions,
  modeFor,
  resolveGuardrails,
  responseBusPolicy,
  type AutomationGuardrailSettings,
} from "../../components/documents/automation";
import { responseDefinition } from "../../components/documents/automation-asl";
import type { PolicyDocument } from "../../components/documents/types";
import { type RecordedResource, runProgram } from "../../scripts/plan/mock-engine";

const FORENSIC = "222222222222";
const ORG = "o-exampleorg1";
const RESPONDER = `arn:aws:iam::${FORENSIC}:role/FlzForensicResponder`;
const ofType = (resources: RecordedResource[], type: string) => resources.filter((r) => r.type === type);
const parse = <T>(value: unknown): T => JSON.parse(String(value)) as T;

function program(guardrails: AutomationGuardrailSettings = {}) {
  return () => {
    const provider = (region: string) =>
      new aws.Provider(`forensic-${region}`, { region: region as aws.Region, allowedAccountIds: [FORENSIC] });
    const automation = new ResponseAutomation("automation", {
      provider: provider("us-east-1"),
      homeRegion: "us-east-1",
      regionProviders: { "eu-west-1": provider("eu-west-1") },
      forensicAccountId: FORENSIC,
      organizationId: ORG,
      forensicResponderRoleArn: RESPONDER,
      evidenceBucket: "flz-evidence-222222222222-us-east-1",
      landingZoneJson: pulumi.output('{"organizationId":"o-exampleorg1"}'),
      guardrails,
      code: new pulumi.asset.AssetArchive({ "lambda.js": new pulumi.asset.StringAsset("exports.intake = () => 1;") }),
    });
    return { machine: automation.stateMachineArn, acting: automation.actingRoleArns };
  };
}

async function validateAsl(definition: unknown): Promise<{ isValid: boolean; errors: unknown[] }> {
  // asl-validator is ESM-only in v4.
  const name = "asl-validator"; // ESM-only, without typings: a dynamic import of a name keeps tsc out of it
  const mod = (await import(name)) as {
    default: (d: unknown) => Promise<{ isValid: boolean; errors: unknown[] }>;
  };
  return mod.default(definition);
}

describe("ResponseAutomation (mock engine)", function () {
  this.timeout(60000);

  it("deploys a Standard state machine whose definition is the builder's, valid ASL, with the configured guardrails", async () => {
    const run = await runProgram(
      program({ modes: { "UnauthorizedAccess:EC2/*": "contain" }, maxContainmentsPerHour: 3 }),
    );
    const [machine] = ofType(run.resources, "aws:sfn/stateMachine:StateMachine");
    expect(machine.inputs.type).to.equal("STANDARD");
    const definition = parse<{ StartAt: string; States: Record<string, Record<string, unknown>> }>(
      machine.inputs.definition,
    );
    expect(definition.StartAt).to.equal("ReadKillSwitch");
    const claim = definition.States.ClaimContainmentSlot.Parameters as {
      ExpressionAttributeValues: Record<string, unknown>;
    };
    expect(claim.ExpressionAttributeValues[":limit"]).to.deep.equal({ N: "3" });
    const intake = definition.States.Intake.Parameters as { guardrails: { modes: Record<string, string> } };
    expect(intake.guardrails.modes).to.deep.equal({ "UnauthorizedAccess:EC2/*": "contain" });
    const verdict = await validateAsl(definition);
    expect(verdict.errors, JSON.stringify(verdict.errors)).to.deep.equal([]);
    expect(verdict.isValid).to.equal(true);
  });

  it("gives every function its own role: the dispatcher may only start executions, the others only act as the responder", async () => {
    const run = await runProgram(program());
    const functions = ofType(run.resources, "aws:lambda/function:Function");
    expect(functions.map((f) => f.inputs.name)).to.have.members(
      ["dispatch", "intake", "record", "contain", "capture", "hash", "verify"].map((f) => `flz-automation-${f}`),
    );
    expect(new Set(functions.map((f) => f.inputs.role)).size).to.equal(7);
    for (const f of functions) expect(String(f.inputs.runtime)).to.match(/^nodejs2\d\.x$/);
    const policies = ofType(run.resources, "aws:iam/rolePolicy:RolePolicy");
    const policyOf = (name: string) =>
      parse<PolicyDocument>(policies.find((p) => p.inputs.name === name)?.inputs.policy);
    expect(policyOf("flz-automation-dispatch").Statement[0]).to.include({ Action: "states:StartExecution" });
    expect(policyOf("flz-automation-capture").Statement[0]).to.deep.include({
      Action: ["sts:AssumeRole", "sts:TagSession"],
      Resource: RESPONDER,
    });
    expect((await run.outputs.acting).length).to.equal(6);
  });

  it("limits the response bus to the organisation and forwards findings from every governed region", async () => {
    const run = await runProgram(program({ minimumSeverity: 5 }));
    const [busPolicy] = ofType(run.resources, "aws:cloudwatch/eventBusPolicy:EventBusPolicy");
    const doc = parse<PolicyDocument>(busPolicy.inputs.policy);
    expect(doc.Statement[0].Condition).to.deep.equal({ StringEquals: { "aws:PrincipalOrgID": ORG } });
    const rules = ofType(run.resources, "aws:cloudwatch/eventRule:EventRule").filter(
      (r) => r.inputs.name === "flz-automation-forward",
    );
    expect(rules).to.have.length(2);
    const euRule = parse<{ detail: unknown }>(rules.find((r) => r.name.endsWith("eu-west-1"))?.inputs.eventPattern);
    expect(euRule.detail).to.deep.equal({ severity: [{ numeric: [">=", 5] }] });
    const targets = ofType(run.resources, "aws:cloudwatch/eventTarget:EventTarget").filter((t) =>
      String(t.inputs.arn).includes("event-bus"),
    );
    expect(targets).to.have.length(2);
    for (const t of targets) expect(t.inputs.roleArn).to.be.a("string");
  });

  it("keeps the operators' kill switch across deployments", async () => {
    const run = await runProgram(program());
    const [param] = ofType(run.resources, "aws:ssm/parameter:Parameter");
    expect(param.inputs.name).to.equal("/flz/automation/kill-switch");
    // Pulumi keeps a parameter's value secret: the recorded input is the secret envelope.
    const value = param.inputs.value as { value?: unknown } | string;
    expect(typeof value === "string" ? value : value.value).to.equal("released");
  });
});

const ALLOW_ALL: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};

/** The IAM evaluator's verdict (`Allowed`, `ImplicitlyDenied`, `ExplicitlyDenied`) for one request. */
async function simulate(
  principal: string,
  action: string,
  resource: string,
  contextVariables: Record<string, string>,
  identity: PolicyDocument,
  resourcePolicy?: PolicyDocument,
): Promise<string | undefined> {
  const result = (await runSimulation(
    {
      request: { principal, action, resource: { resource, accountId: FORENSIC }, contextVariables },
      identityPolicies: [{ name: "identity", policy: identity }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
    },
    {},
  )) as { overallResult?: string };
  return result.overallResult;
}

describe("response automation documents", () => {
  it("validates the guardrails, naming the bad value", () => {
    expect(() => resolveGuardrails({ defaultMode: "nuke" as never })).to.throw(/defaultMode: nuke is not valid/);
    expect(() => resolveGuardrails({ modes: { "Crypto*Currency": "contain" } })).to.throw(/prefix ending in \*/);
    expect(() => resolveGuardrails({ maxContainmentsPerHour: 0 })).to.throw(/maxContainmentsPerHour: 0/);
    expect(resolveGuardrails().defaultMode).to.equal("observe");
  });

  it("picks the most specific mode for a finding type", () => {
    const g = resolveGuardrails({
      modes: {
        "UnauthorizedAccess:*": "approval",
        "UnauthorizedAccess:EC2/*": "contain",
        "UnauthorizedAccess:EC2/TorClient": "observe",
      },
    });
    expect(modeFor(g, "UnauthorizedAccess:EC2/SSHBruteForce")).to.equal("contain");
    expect(modeFor(g, "UnauthorizedAccess:EC2/TorClient")).to.equal("observe");
    expect(modeFor(g, "UnauthorizedAccess:IAMUser/ConsoleLogin")).to.equal("approval");
    expect(modeFor(g, "Recon:EC2/PortProbeUnprotectedPort")).to.equal("observe");
  });

  it("rejects a definition whose function ARN is not a Lambda ARN", () => {
    const fns = { intake: "x", record: "x", contain: "x", capture: "x", hash: "x", verify: "x" };
    expect(() =>
      responseDefinition({
        guardrails: resolveGuardrails(),
        functions: fns,
        rateTableName: "t-1",
        topicArn: "arn:aws:sns:us-east-1:1:t",
        evidenceBucket: "flz-evidence",
      }),
    ).to.throw(/functions.intake/);
  });

  it("lets principals of the organisation put events on the response bus, and nobody else", async () => {
    const busArn = `arn:aws:events:us-east-1:${FORENSIC}:event-bus/flz-automation-response`;
    const policy = responseBusPolicy({ busArn, organizationId: ORG });
    const decide = (principal: string, org: string) =>
      simulate(principal, "events:PutEvents", busArn, { "aws:PrincipalOrgID": org }, ALLOW_ALL, policy);
    expect(await decide("arn:aws:iam::333333333333:role/app", ORG)).to.equal("Allowed");
    expect(await decide("arn:aws:iam::999999999999:role/outsider", "o-otherorg000")).to.not.equal("Allowed");
  });

  it("gives an acting function nothing but the responder role and its own logs", async () => {
    const doc = automationFunctionPermissions({
      fn: "contain",
      logGroupArn: `arn:aws:logs:us-east-1:${FORENSIC}:log-group:/aws/lambda/flz-automation-contain`,
      forensicResponderRoleArn: RESPONDER,
      stateMachineArn: `arn:aws:states:us-east-1:${FORENSIC}:stateMachine:flz-automation-response`,
    });
    const allowed = (action: string, resource: string) =>
      simulate(`arn:aws:iam::${FORENSIC}:role/flz-automation-contain`, action, resource, {}, doc);
    expect(await allowed("sts:AssumeRole", RESPONDER)).to.equal("Allowed");
    expect(await allowed("sts:AssumeRole", `arn:aws:iam::${FORENSIC}:role/FlzBreakGlass`)).to.not.equal("Allowed");
    expect(
      await allowed(
        "states:StartExecution",
        `arn:aws:states:us-east-1:${FORENSIC}:stateMachine:flz-automation-response`,
      ),
    ).to.not.equal("Allowed");
    expect(await allowed("iam:PutRolePolicy", `arn:aws:iam::${FORENSIC}:role/x`)).to.not.equal("Allowed");
  });
});

describe("the automation's Lambda bundle", function () {
  this.timeout(120000);
  it("is built from the CLI's modules under scripts/ and exports one handler per function", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "flz-bundle-test-"));
    bundleAutomationCode(dir);
    const file = path.join(dir, "lambda.js");
    expect(existsSync(file)).to.equal(true);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(file) as Record<string, unknown>;
    for (const fn of ["dispatch", "intake", "record", "contain", "capture", "hash", "verify"])
      expect(bundle[fn]).to.be.a("function");
    // The bundle reads its contract from the environment and refuses a bad one before any AWS call.
    delete process.env.FLZ_LANDING_ZONE_JSON;
    await (bundle.intake as (i: unknown) => Promise<unknown>)({}).then(
      () => expect.fail("expected a refusal"),
      (err: Error) => expect(err.message).to.match(/FLZ_LANDING_ZONE_JSON is invalid/),
    );
  });
});
