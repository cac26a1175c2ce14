/**
 * The response automation in the landing-zone stack: off by default, switched on by stack configuration, its acting
 * roles trusted by the forensic responder and frozen by the protection SCP like the forensic roles.
 */
import { expect } from "chai";
import * as path from "node:path";
import { readStackConfig } from "../../scripts/plan/plan";
import { parseStackConfig, StackConfigError } from "../../stacks/config";
import type { PolicyDocument } from "../../components/documents/types";
import { runProgram } from "../../scripts/plan/mock-engine";

const STACK = path.resolve(__dirname, "../../stacks/index.ts");
const EXAMPLE = path.resolve(__dirname, "../../stacks/Pulumi.example.yaml");
const NS = "forensic-landing-zone";

function runStack(overrides: Record<string, string> = {}) {
  const config: Record<string, string> = { ...readStackConfig(EXAMPLE) };
  for (const [key, value] of Object.entries(overrides)) config[`${NS}:${key}`] = value;
  return runProgram(() => {
    delete require.cache[require.resolve(STACK)];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { ...(require(STACK) as Record<string, unknown>) };
  }, config);
}

const ACTING = ["intake", "record", "contain", "capture", "hash", "verify"].map(
  (fn) => `arn:aws:iam::222222222222:role/flz-automation-${fn}`,
);

describe("the landing-zone stack with response automation", function () {
  this.timeout(120000);

  it("deploys no automation unless configured", async () => {
    const run = await runStack();
    expect(run.resources.filter((r) => r.type.startsWith("flz:automation"))).to.deep.equal([]);
    expect(run.resources.filter((r) => r.type === "aws:sfn/stateMachine:StateMachine")).to.deep.equal([]);
  });

  it("when switched on, the responder trusts the acting functions' roles, the SCP freezes them, and the functions get the outputs contract", async () => {
    const run = await runStack({
      automation: "true",
      automationSettings: JSON.stringify({
        modes: { "UnauthorizedAccess:EC2/*": "contain" },
        maxContainmentsPerHour: 5,
      }),
    });
    const responder = run.resources.find(
      (r) => r.type === "aws:iam/role:Role" && r.inputs.name === "FlzForensicResponder",
    );
    const trust = JSON.parse(String(responder?.inputs.assumeRolePolicy)) as PolicyDocument;
    const trusted = (trust.Statement[0].Principal as { AWS: string[] }).AWS;
    expect(trusted).to.include.members(ACTING);
    expect(trusted).to.not.include("arn:aws:iam::222222222222:role/flz-automation-dispatch");

    const scp = run.resources.find(
      (r) => r.type === "aws:organizations/policy:Policy" && r.inputs.name === "flz-protect-forensics",
    );
    expect(String(scp?.inputs.content)).to.contain("flz-automation-contain");

    const intake = run.resources.find(
      (r) => r.type === "aws:lambda/function:Function" && r.inputs.name === "flz-automation-intake",
    );
    const env = (intake?.inputs.environment as { variables: Record<string, string> }).variables;
    const contract = JSON.parse(env.FLZ_LANDING_ZONE_JSON) as Record<string, unknown>;
    expect(contract).to.include({
      forensicAccountId: "222222222222",
      evidenceBucket: "flz-evidence-222222222222-us-east-1",
    });
  });
});

describe("automation stack configuration", function () {
  // Runs the whole stack program twice under the mock engine: tens of seconds each on a loaded machine.
  this.timeout(240000);
  const base = {
    "aws:region": "us-east-1",
    [`${NS}:forensicAccountId`]: "222222222222",
    [`${NS}:homeRegion`]: "us-east-1",
    [`${NS}:regions`]: '["us-east-1"]',
    [`${NS}:targetOuIds`]: '["ou-ab12-workload1"]',
    [`${NS}:responderPrincipals`]: '["arn:aws:iam::222222222222:role/IncidentResponder"]',
    [`${NS}:deploymentRoleArn`]: "arn:aws:iam::*:role/OrganizationAccountAccessRole",
  };
  const errorOf = (extra: Record<string, string>): string => {
    try {
      parseStackConfig({ ...base, ...extra });
    } catch (err) {
      expect(err).to.be.instanceOf(StackConfigError);
      return (err as Error).message;
    }
    throw new Error("expected a StackConfigError");
  };

  it("when switched on, attaches flz-protect-automation to the forensic account, and only then", async () => {
    const name = (r: { inputs: Record<string, unknown> }) => r.inputs.name;
    const off = await runStack();
    expect(off.resources.filter((r) => name(r) === "flz-protect-automation")).to.deep.equal([]);
    const run = await runStack({ automation: "true" });
    const policy = run.resources.find(
      (r) => r.type === "aws:organizations/policy:Policy" && name(r) === "flz-protect-automation",
    );
    expect(policy?.inputs.type).to.equal("SERVICE_CONTROL_POLICY");
    const content = JSON.parse(String(policy?.inputs.content)) as PolicyDocument;
    expect(content.Statement.map((s) => s.Sid)).to.deep.equal([
      "FlzProtectAutomationFunctions",
      "FlzProtectAutomationRolePassing",
      "FlzInvokeAutomationOnlyFromItsMachine",
    ]);
    expect(JSON.stringify(content)).to.contain("arn:aws:lambda:*:222222222222:function:flz-automation-*");
    const attachments = run.resources.filter(
      (r) => r.type === "aws:organizations/policyAttachment:PolicyAttachment" && r.name.includes("protect-automation"),
    );
    expect(attachments.map((a) => a.inputs.targetId)).to.deep.equal(["222222222222"]);
  });

  it("alarms when the automation's SCPs are detached, changed or deleted (the guardrail-change rule names their IDs)", async () => {
    const run = await runStack({ automation: "true" });
    const idOf = (policyName: string) =>
      run.resources.find((r) => r.type === "aws:organizations/policy:Policy" && r.inputs.name === policyName)?.id;
    const rule = run.resources.find(
      (r) => r.type === "aws:cloudwatch/eventRule:EventRule" && r.name.endsWith("-organization-guardrail-change"),
    );
    const pattern = JSON.parse(String(rule?.inputs.eventPattern)) as {
      detail: { $or: Array<{ requestParameters?: { policyId?: string[] } }> };
    };
    const watched = pattern.detail.$or.flatMap((branch) => branch.requestParameters?.policyId ?? []);
    for (const policyName of ["flz-protect-automation", "flz-automation-opt-out", "flz-protect-alarms"]) {
      const id = idOf(policyName);
      expect(id, policyName).to.be.a("string").and.not.equal("");
      expect(watched, policyName).to.include(id);
    }
  });

  it("is off unless switched on", () => {
    expect(parseStackConfig(base).automation).to.equal(undefined);
  });

  it("names a bad guardrail setting in one line", () => {
    expect(errorOf({ [`${NS}:automation`]: "true", [`${NS}:automationSettings`]: '{"defaultMode":"nuke"}' })).to.match(
      /automationSettings: defaultMode: nuke is not valid; valid: observe, approval, contain/,
    );
    expect(errorOf({ [`${NS}:automation`]: "true", [`${NS}:automationSettings`]: '{"mode":"contain"}' })).to.match(
      /unknown setting mode/,
    );
    expect(errorOf({ [`${NS}:automationSettings`]: '{"defaultMode":"observe"}' })).to.match(/automation is not true/);
  });
});
