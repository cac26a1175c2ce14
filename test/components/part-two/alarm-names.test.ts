import { expect } from "chai";
import * as aws from "@pulumi/aws";
import { runProgram } from "../../../scripts/plan/mock-engine";
import { IncidentAlarms } from "../../../components/IncidentAlarms";
import { alarmResourcePatterns } from "../../../components/documents";

// The alarm-protection SCP names the alarm rules and topics by prefix (documents/scp-alarms.ts): IncidentAlarms must
// name each of them explicitly under its own name, and refuse a name EventBridge would not take.
describe("IncidentAlarms: names the SCP can find", () => {
  const provider = () => new aws.Provider("forensic", { region: "us-east-1", allowedAccountIds: ["222222222222"] });

  it("names every rule and the topic under the component's name, and tags the topic key", async () => {
    const run = await runProgram(() => {
      new IncidentAlarms("lz-alarms-us-east-1", {
        provider: provider(),
        breakGlassRoleArn: "arn:aws:iam::222222222222:role/FlzBreakGlass",
        protectedKeys: true,
      });
      return {};
    });
    const names = run.resources
      .filter((r) => r.type === "aws:cloudwatch/eventRule:EventRule" || r.type === "aws:sns/topic:Topic")
      .map((r) => String(r.inputs.name));
    expect(names).to.include.members([
      "lz-alarms-us-east-1-break-glass",
      "lz-alarms-us-east-1-key-change",
      "lz-alarms-us-east-1-incident-alarms",
    ]);
    const [rules, topics] = alarmResourcePatterns("lz-alarms-");
    for (const name of names) {
      const arn = name.endsWith("incident-alarms")
        ? `arn:aws:sns:us-east-1:222222222222:${name}`
        : `arn:aws:events:us-east-1:222222222222:rule/${name}`;
      const pattern = arn.startsWith("arn:aws:sns") ? topics : rules;
      expect(new RegExp(`^${pattern.replace(/\*/g, ".*")}$`).test(arn), arn).to.equal(true);
    }
    const key = run.resources.find((r) => r.type === "aws:kms/key:Key");
    expect(key?.inputs.tags).to.deep.equal({ "flz:purpose": "alarm-topic" });
  });

  it("refuses, in one line naming it, a rule name longer than EventBridge's 64 characters", async () => {
    const name = "a-landing-zone-name-much-too-long-alarms-ap-southeast-2"; // 55 + "-break-glass" = 67
    let failure: unknown;
    try {
      await runProgram(() => {
        new IncidentAlarms(name, { provider: provider(), breakGlassRoleArn: "arn:aws:iam::222222222222:role/B" });
        return {};
      });
    } catch (err) {
      failure = err;
    }
    const message = String((failure as Error | undefined)?.message);
    expect(message).to.contain(`the rule name ${name}-break-glass is 67 characters`);
    expect(message).to.contain("EventBridge allows 64");
    expect(message).not.to.contain("\n");
  });
});
