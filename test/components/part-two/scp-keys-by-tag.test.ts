/**
 * The guardrail SCPs with the forensic keys named by purpose tag (known at a first preview), as the landing zone builds
 * them, under the IAM evaluator: every key of the forensic account whose `flz:purpose` names a forensic key, and the
 * tag itself frozen.
 */
import { expect } from "chai";
import { SCP_MAX_CHARACTERS, protectForensicKeysScp, scpText } from "../../../components/documents/scp";
import type { PolicyDocument } from "../../../components/documents/types";
import {
  DEPLOY,
  EVIDENCE_KEY,
  FORENSIC,
  MEMBER,
  MEMBER_ADMIN,
  SIGNING_KEY,
  TRAIL_KEY,
  evaluate,
  keyPolicyOf,
  protection,
  type Request,
} from "./scp-evaluator";

/**
 * The key protection as the landing zone builds it since keys are named by purpose tag (known at a first preview):
 * every key of the forensic account whose `flz:purpose` names a forensic key, and the tag itself frozen.
 */
const protectionByTag = (): PolicyDocument => protection({ keysByTag: { accountId: FORENSIC } });

describe("guardrail SCPs with the forensic keys named by purpose tag (IAM evaluator)", () => {
  const FORENSIC_ADMIN = `arn:aws:iam::${FORENSIC}:role/Administrator`;
  const BREAK_GLASS = `arn:aws:iam::${FORENSIC}:role/FlzBreakGlass`;
  const REPLICA = EVIDENCE_KEY.replace("us-east-1", "eu-west-1");
  const tagged = (purpose: string) => ({ "aws:ResourceTag/flz:purpose": purpose });
  const byTag = (req: Omit<Request, "guardrails">) =>
    evaluate({ resourcePolicy: keyPolicyOf(req.resource.split(":")[4]), ...req, guardrails: [protectionByTag()] });

  for (const action of [
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:ReplicateKey",
  ]) {
    it(`denies ${action} on every forensic key, replicas included, to administrators and break-glass`, async () => {
      for (const [principal, resource, purpose] of [
        [FORENSIC_ADMIN, EVIDENCE_KEY, "evidence-key"],
        [FORENSIC_ADMIN, REPLICA, "evidence-key"],
        [BREAK_GLASS, SIGNING_KEY, "custody-signing"],
        [FORENSIC_ADMIN, TRAIL_KEY, "trail-key"],
      ]) {
        expect(
          await byTag({ principal, action, resource, context: tagged(purpose) }),
          `${principal} ${resource}`,
        ).to.equal("ExplicitlyDenied");
      }
    });
  }

  it("denies stripping or rewriting the purpose tag, which would take a key out of the protection", async () => {
    for (const action of ["kms:UntagResource", "kms:TagResource"]) {
      expect(
        await byTag({
          principal: FORENSIC_ADMIN,
          action,
          resource: EVIDENCE_KEY,
          context: { ...tagged("evidence-key"), "aws:TagKeys": "flz:purpose" },
        }),
        action,
      ).to.equal("ExplicitlyDenied");
    }
  });

  it("denies dressing up a key as a forensic key: tagging one, or creating one with the tag, in any account", async () => {
    const ownKey = `arn:aws:kms:us-east-1:${FORENSIC}:key/5555eeee-12ab-34cd-56ef-1234567890ab`;
    expect(
      await byTag({
        principal: FORENSIC_ADMIN,
        action: "kms:TagResource",
        resource: ownKey,
        context: { "aws:TagKeys": "flz:purpose", "aws:RequestTag/flz:purpose": "evidence-key" },
      }),
    ).to.equal("ExplicitlyDenied");
    expect(
      await byTag({
        principal: MEMBER_ADMIN,
        action: "kms:CreateKey",
        resource: "*",
        resourceAccount: MEMBER,
        context: { "aws:TagKeys": "flz:purpose", "aws:RequestTag/flz:purpose": "evidence-key" },
      }),
    ).to.equal("ExplicitlyDenied");
  });

  it("lets the deployment role manage, tag and untag the forensic keys", async () => {
    const deploy = `arn:aws:iam::${FORENSIC}:role/FlzDeployment`;
    for (const action of ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:ReplicateKey"]) {
      expect(
        await byTag({ principal: deploy, action, resource: EVIDENCE_KEY, context: tagged("evidence-key") }),
      ).to.equal("Allowed");
    }
    expect(
      await byTag({
        principal: deploy,
        action: "kms:TagResource",
        resource: EVIDENCE_KEY,
        context: { ...tagged("evidence-key"), "aws:TagKeys": "flz:purpose" },
      }),
    ).to.equal("Allowed");
  });

  it("leaves other keys and other tags alone: a member's key of the same tag, an untagged key, another tag key", async () => {
    const memberKey = `arn:aws:kms:us-east-1:${MEMBER}:key/1111aaaa-12ab-34cd-56ef-1234567890ab`;
    // A key of a member account is never a forensic key, whatever its tag says.
    expect(
      await byTag({
        principal: MEMBER_ADMIN,
        action: "kms:ScheduleKeyDeletion",
        resource: memberKey,
        context: tagged("evidence-key"),
      }),
    ).to.equal("Allowed");
    const scratch = `arn:aws:kms:us-east-1:${FORENSIC}:key/6666ffff-12ab-34cd-56ef-1234567890ab`;
    expect(await byTag({ principal: FORENSIC_ADMIN, action: "kms:ScheduleKeyDeletion", resource: scratch })).to.equal(
      "Allowed",
    );
    expect(
      await byTag({
        principal: FORENSIC_ADMIN,
        action: "kms:TagResource",
        resource: EVIDENCE_KEY,
        context: { ...tagged("evidence-key"), "aws:TagKeys": "cost-centre" },
      }),
    ).to.equal("Allowed");
    expect(
      await byTag({
        principal: FORENSIC_ADMIN,
        action: "kms:Decrypt",
        resource: EVIDENCE_KEY,
        context: tagged("evidence-key"),
      }),
    ).to.equal("Allowed");
  });

  it("fits the 5,120-character limit whatever the number of keys and regions (the text no longer lists keys)", () => {
    expect(scpText(protectionByTag()).length).to.be.at.most(SCP_MAX_CHARACTERS);
  });

  it("refuses a key protection given neither key ARNs nor the forensic account", () => {
    expect(() => protectForensicKeysScp({ deploymentRoleArn: DEPLOY })).to.throw(/keyArns is empty: .* or keysByTag/);
  });
});
