/**
 * The stack's freeze of the automation's opt-out tag: with the automation on, an SCP of its own carries it, naming
 * the deployment role and the managers the configuration lists; a manager that is not a role ARN stops the program
 * with one line.
 */
import { expect } from "chai";
import * as path from "node:path";
import { readStackConfig } from "../../scripts/plan/plan";
import { runProgram } from "../../scripts/plan/mock-engine";
import { parseStackConfig, StackConfigError } from "../../stacks/config";
import type { PolicyDocument } from "../../components/documents/types";

const STACK = path.resolve(__dirname, "../../stacks/index.ts");
const EXAMPLE = path.resolve(__dirname, "../../stacks/Pulumi.example.yaml");
const NS = "forensic-landing-zone";
const OWNER = "arn:aws:iam::*:role/PlatformOwner";

/** The opt-out SCP's statements (none when absent) after running the stack with these keys over the example's. */
async function optOutStatements(keys: Record<string, string>): Promise<PolicyDocument["Statement"]> {
  const config: Record<string, string> = { ...readStackConfig(EXAMPLE) };
  for (const [key, value] of Object.entries(keys)) config[`${NS}:${key}`] = value;
  const run = await runProgram(() => {
    delete require.cache[require.resolve(STACK)];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { ...(require(STACK) as Record<string, unknown>) };
  }, config);
  const scp = run.resources.find(
    (r) => r.type === "aws:organizations/policy:Policy" && r.inputs.name === "flz-automation-opt-out",
  );
  const attached = run.resources.filter(
    (r) => r.type === "aws:organizations/policyAttachment:PolicyAttachment" && r.name.includes("automation-opt-out"),
  );
  // Attached where the workloads are: the example's guardrail targets (its root).
  expect(attached.map((a) => a.inputs.targetId)).to.deep.equal(scp ? ["r-exam"] : []);
  return scp ? (JSON.parse(String(scp.inputs.content)) as PolicyDocument).Statement : [];
}

describe("the stack's freeze of the automation's opt-out tag", function () {
  this.timeout(240000);

  it("is an SCP of its own on the workload targets only with the automation on, naming the configured managers", async () => {
    expect(await optOutStatements({})).to.deep.equal([]);
    const on = await optOutStatements({
      automation: "true",
      automationSettings: JSON.stringify({ optOutTagManagerRoleArns: [OWNER] }),
    });
    const freeze = on.find((s) => s.Sid === "FlzFreezeAutomationOptOutTag");
    expect(freeze?.Condition?.ArnNotLike?.["aws:PrincipalARN"]).to.include(OWNER);
    expect(on.map((s) => s.Sid)).to.deep.equal(["FlzFreezeAutomationOptOutTag", "FlzFreezeAutomationOptOutTagAll"]);
  });

  it("refuses a manager that is not a role ARN in one line naming it", () => {
    const config = {
      ...readStackConfig(EXAMPLE),
      [`${NS}:automation`]: "true",
      [`${NS}:automationSettings`]: JSON.stringify({ optOutTagManagerRoleArns: ["PlatformOwner"] }),
    };
    expect(() => parseStackConfig(config))
      .to.throw(StackConfigError)
      .with.property("message")
      .that.matches(
        /automationSettings: optOutTagManagerRoleArns: .*PlatformOwner.* is not valid; valid: a list of role ARNs/,
      );
  });
});
