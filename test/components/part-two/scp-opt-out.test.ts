/**
 * The response automation's opt-out tag (`flz:automation=off`) under the IAM evaluator: with the automation on, the
 * SCP `flz-automation-opt-out` denies setting or removing it to a member account's administrator (an intruder
 * holding that account included), and leaves it to the deployment role and the named managers.
 */
import { expect } from "chai";
import { OPT_OUT_TAG_KEY } from "../../../components/documents/automation";
import { combineScps } from "../../../components/documents/scp";
import { freezeOptOutTagScp, OPT_OUT_TAGGING_ACTIONS } from "../../../components/documents/scp-automation";
import type { PolicyDocument } from "../../../components/documents/types";
import { DEPLOY, DEPLOY_IN_MEMBER, MEMBER, MEMBER_ADMIN, evaluate, protection, workload } from "./scp-evaluator";

const OWNER = "arn:aws:iam::*:role/PlatformOwner";
const OWNER_IN_MEMBER = `arn:aws:iam::${MEMBER}:role/PlatformOwner`;
const INSTANCE = `arn:aws:ec2:us-east-1:${MEMBER}:instance/i-0123456789abcdef0`;
const ROLE = `arn:aws:iam::${MEMBER}:role/payments-app`;
const USER = `arn:aws:iam::${MEMBER}:user/ci`;

/** The guardrails as GuardrailPolicies attaches them with the automation on: the opt-out SCP is one of its own. */
function withAutomation(managers?: string[]): PolicyDocument[] {
  return [
    protection(),
    combineScps("flz-automation-opt-out", [
      freezeOptOutTagScp({ deploymentRoleArn: DEPLOY, managerRoleArns: managers }),
    ]),
    workload(),
  ];
}

const resourceOf = (action: string) => (action.startsWith("ec2:") ? INSTANCE : action.endsWith("User") ? USER : ROLE);

const tagKeys = (...keys: string[]) => ({ "aws:TagKeys": keys });

describe("guardrail SCPs: the automation's opt-out tag (IAM evaluator)", () => {
  for (const action of OPT_OUT_TAGGING_ACTIONS) {
    it(`denies ${action} naming ${OPT_OUT_TAG_KEY} to a member account administrator, and only because of the guardrail`, async () => {
      const request = {
        principal: MEMBER_ADMIN,
        action,
        resource: resourceOf(action),
        context: tagKeys(OPT_OUT_TAG_KEY),
      };
      expect(await evaluate({ ...request, guardrails: withAutomation() })).to.equal("ExplicitlyDenied");
      // The same call without the automation's statement is allowed: the denial is the freeze's, not the evaluator's.
      expect(await evaluate(request)).to.equal("Allowed");
    });
  }

  it("denies the tag among others, so it cannot be slipped in with a harmless one", async () => {
    expect(
      await evaluate({
        principal: MEMBER_ADMIN,
        action: "ec2:CreateTags",
        resource: INSTANCE,
        context: tagKeys("Name", OPT_OUT_TAG_KEY),
        guardrails: withAutomation(),
      }),
    ).to.equal("ExplicitlyDenied");
  });

  it("denies a DeleteTags that names no key (it removes every tag, the opt-out one included)", async () => {
    expect(
      await evaluate({
        principal: MEMBER_ADMIN,
        action: "ec2:DeleteTags",
        resource: INSTANCE,
        guardrails: withAutomation(),
      }),
    ).to.equal("ExplicitlyDenied");
    expect(await evaluate({ principal: MEMBER_ADMIN, action: "ec2:DeleteTags", resource: INSTANCE })).to.equal(
      "Allowed",
    );
  });

  it("leaves every other tag to the administrator", async () => {
    for (const action of OPT_OUT_TAGGING_ACTIONS) {
      expect(
        await evaluate({
          principal: MEMBER_ADMIN,
          action,
          resource: resourceOf(action),
          context: tagKeys("Name", "cost-centre"),
          guardrails: withAutomation(),
        }),
        action,
      ).to.equal("Allowed");
    }
  });

  it("lets the deployment role and a named manager set and remove the opt-out tag", async () => {
    for (const principal of [DEPLOY_IN_MEMBER, OWNER_IN_MEMBER]) {
      for (const action of ["ec2:CreateTags", "ec2:DeleteTags", "iam:TagRole"]) {
        expect(
          await evaluate({
            principal,
            action,
            resource: resourceOf(action),
            context: tagKeys(OPT_OUT_TAG_KEY),
            guardrails: withAutomation([OWNER]),
          }),
          `${principal} ${action}`,
        ).to.equal("Allowed");
      }
    }
    // Without being named, the same owner role is an administrator like any other.
    expect(
      await evaluate({
        principal: OWNER_IN_MEMBER,
        action: "ec2:CreateTags",
        resource: INSTANCE,
        context: tagKeys(OPT_OUT_TAG_KEY),
        guardrails: withAutomation(),
      }),
    ).to.equal("ExplicitlyDenied");
  });

  it("refuses a manager that is not a role ARN, in one line naming it", () => {
    expect(() => freezeOptOutTagScp({ deploymentRoleArn: DEPLOY, managerRoleArns: ["PlatformOwner"] })).to.throw(
      'optOutTagManagerRoleArns[0] "PlatformOwner" is not an IAM role ARN',
    );
  });

  it("fits the SCP size limit with many managers", () => {
    const managers = Array.from({ length: 40 }, (_, i) => `arn:aws:iam::*:role/platform-owner-of-workload-${i}`);
    expect(() => withAutomation(managers)).not.to.throw();
  });
});
