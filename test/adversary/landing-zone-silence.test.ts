/**
 * The incident alarms against A2 of docs/threat-model.md (an administrator, or the root user, of the forensic account,
 * where the alarms live), decided by the IAM evaluator over the documents the stack deploys: the alarm rules, topic,
 * subscriptions and topic key, named as the stack names them, with the topic's and key's own policies, the protection
 * SCP at the root and the alarm-protection SCP on the forensic account. A2 would silence the alarms before acting;
 * the deployment role must still be able to change them, or the next `pulumi up` would fail.
 */
import { expect } from "chai";
import type { PolicyDocument } from "../../components/documents";
import {
  ALARM_SILENCING_ACTIONS,
  GUARDDUTY_SILENCING_ACTIONS,
  KEY_DESTRUCTION_ACTIONS,
  guardDutyResourceOf,
} from "../../components/documents";
import {
  ADMIN,
  DEPLOYMENT,
  FORENSIC,
  administrator,
  decide,
  deployedDocuments,
  rootUser,
  type Attempt,
  type DeployedDocuments,
  type Principal,
} from "./landing-zone-documents";

const REGION = "us-east-1";
const KEY = `arn:aws:kms:${REGION}:${FORENSIC}:key/5678abcd-12ab-34cd-56ef-1234567890ab`;
const deployment: Principal = { arn: DEPLOYMENT, account: FORENSIC, policies: [ADMIN] };
const none = { scps: [] as PolicyDocument[], rcps: [] as PolicyDocument[] };

let docs: DeployedDocuments;
/** One alarm rule and the topic of the home region, by the names the stack gives them. */
let rule: string;
let topic: string;
let topicPolicy: PolicyDocument;
let keyPolicy: PolicyDocument;

before(async function () {
  this.timeout(120_000);
  docs = await deployedDocuments();
  const of = (type: string, name: string) => {
    const found = docs.resources.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`the stack declared no ${type} named ${name}`);
    return found;
  };
  const component = `flz-alarms-${REGION}`;
  rule = `arn:aws:events:${REGION}:${FORENSIC}:rule/${String(of("aws:cloudwatch/eventRule:EventRule", `${component}-break-glass`).inputs.name)}`;
  topic = `arn:aws:sns:${REGION}:${FORENSIC}:${String(of("aws:sns/topic:Topic", `${component}-topic`).inputs.name)}`;
  topicPolicy = JSON.parse(String(of("aws:sns/topicPolicy:TopicPolicy", `${component}-topic`).inputs.policy));
  const key = of("aws:kms/key:Key", `${component}-topic`);
  keyPolicy = JSON.parse(String(key.inputs.policy));
  expect((key.inputs.tags as Record<string, string>)["flz:purpose"]).to.equal("alarm-topic");
});

/** The attempts that would silence the alarms: every silencing call on the rule, the topic and the topic key. */
function silencing(principal: Principal): Attempt[] {
  const onRule = ALARM_SILENCING_ACTIONS.filter((a) => a.startsWith("events:")).map((action) => ({
    principal,
    action,
    resource: rule,
    resourceAccount: FORENSIC,
  }));
  // The service authorization reference names the topic as the resource of every one of them, subscriptions'
  // included (`sns:Unsubscribe`, `sns:SetSubscriptionAttributes`); the SCP's pattern also covers subscription ARNs.
  const onTopic = ALARM_SILENCING_ACTIONS.filter((a) => a.startsWith("sns:")).map((action) => ({
    principal,
    action,
    resource: topic,
    resourceAccount: FORENSIC,
    resourcePolicy: topicPolicy,
  }));
  const onKey = KEY_DESTRUCTION_ACTIONS.map((action) => ({
    principal,
    action,
    resource: KEY,
    resourceAccount: FORENSIC,
    resourcePolicy: keyPolicy,
    context: { "aws:ResourceTag/flz:purpose": "alarm-topic" },
  }));
  return [...onRule, ...onTopic, ...onKey];
}

const DETECTOR_ID = "12abc34d567e8fa901bc2d34e56789f0";

/** The attempts that would keep GuardDuty's findings from being generated or from reaching the alarm. */
function silencingGuardDuty(principal: Principal): Attempt[] {
  return GUARDDUTY_SILENCING_ACTIONS.map((action) => ({
    principal,
    action,
    resource: guardDutyResourceOf(action, FORENSIC, REGION, DETECTOR_ID),
    resourceAccount: FORENSIC,
  }));
}

describe("adversary: forensic-account administrator and root user silencing GuardDuty, the source of an alarm", () => {
  for (const [who, principal] of [
    ["an administrator (*:*)", administrator(FORENSIC)],
    ["the root user", rootUser(FORENSIC)],
  ] as const) {
    it(`${who} cannot suppress findings, trust an address, or disable the detector, its members or auto-enable`, async () => {
      const attempts = silencingGuardDuty(principal);
      expect(attempts.map((a) => a.action)).to.include.members([
        "guardduty:CreateFilter",
        "guardduty:CreateIPSet",
        "guardduty:UpdateDetector",
        "guardduty:UpdateOrganizationConfiguration",
      ]);
      for (const attempt of attempts) {
        const decision = await decide(attempt);
        expect(decision.result, `${attempt.action} on ${attempt.resource}`).to.equal("ExplicitlyDenied");
      }
    });
  }

  it("could before: without the organisation policies every one of those calls is allowed (control)", async () => {
    for (const attempt of silencingGuardDuty(administrator(FORENSIC))) {
      const decision = await decide({ ...attempt, organizationPolicies: none });
      expect(decision.result, `${attempt.action} on ${attempt.resource}`).to.equal("Allowed");
    }
  });

  it("still lets the account read and archive findings, which responders need", async () => {
    // None of the three has a resource type: they are authorized on `*`, which the deny also names.
    for (const action of ["guardduty:GetFindings", "guardduty:ListFindings", "guardduty:ArchiveFindings"]) {
      const decision = await decide({
        principal: administrator(FORENSIC),
        action,
        resource: "*",
        resourceAccount: FORENSIC,
      });
      expect(decision.result, action).to.equal("Allowed");
    }
  });

  it("lets the deployment role manage GuardDuty (DetectionDelegation's next pulumi up)", async () => {
    for (const attempt of silencingGuardDuty(deployment)) {
      const decision = await decide(attempt);
      expect(decision.result, `${attempt.action} on ${attempt.resource}`).to.equal("Allowed");
    }
  });
});

describe("adversary: forensic-account administrator and root user silencing the alarms", () => {
  for (const [who, principal] of [
    ["an administrator (*:*)", administrator(FORENSIC)],
    ["the root user", rootUser(FORENSIC)],
  ] as const) {
    it(`${who} cannot disable, delete, re-target or narrow a rule, delete or re-policy the topic, unsubscribe, or disable the topic key`, async () => {
      const attempts = silencing(principal);
      expect(attempts.length).to.equal(5 + 7 + KEY_DESTRUCTION_ACTIONS.length);
      for (const attempt of attempts) {
        const decision = await decide(attempt);
        expect(decision.result, `${attempt.action} on ${attempt.resource}`).to.equal("ExplicitlyDenied");
      }
    });
  }

  it("could before: without the organisation policies every one of those calls is allowed (control)", async () => {
    for (const attempt of silencing(administrator(FORENSIC))) {
      const decision = await decide({ ...attempt, organizationPolicies: none });
      expect(decision.result, `${attempt.action} on ${attempt.resource}`).to.equal("Allowed");
    }
  });

  it("cannot strip the purpose tag off the topic key (the tag the freeze goes by)", async () => {
    const decision = await decide({
      principal: administrator(FORENSIC),
      action: "kms:UntagResource",
      resource: KEY,
      resourceAccount: FORENSIC,
      resourcePolicy: keyPolicy,
      context: { "aws:ResourceTag/flz:purpose": "alarm-topic", "aws:TagKeys": ["flz:purpose"] },
    });
    expect(decision.result).to.equal("ExplicitlyDenied");
  });

  it("keeps the account's own rules and topics its own (control)", async () => {
    for (const [action, resource] of [
      ["events:DisableRule", `arn:aws:events:${REGION}:${FORENSIC}:rule/team-nightly-report`],
      ["sns:DeleteTopic", `arn:aws:sns:${REGION}:${FORENSIC}:team-builds`],
    ] as const) {
      const decision = await decide({
        principal: administrator(FORENSIC),
        action,
        resource,
        resourceAccount: FORENSIC,
      });
      expect(decision.result, action).to.equal("Allowed");
    }
  });

  it("lets the deployment role change every alarm (or the next pulumi up would fail)", async () => {
    for (const attempt of silencing(deployment)) {
      const decision = await decide(attempt);
      expect(decision.result, `${attempt.action} on ${attempt.resource}`).to.equal("Allowed");
    }
  });
});
