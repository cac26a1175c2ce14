/**
 * The forensic keys named by owner account and purpose tag instead of by ARN (documents/keys.ts), so the role policies
 * and the StackSet template are known at a first `pulumi preview`. Proven with the IAM evaluator: the pattern reaches
 * exactly the forensic account's keys of the right purpose, never a key of another account or another purpose.
 */
import { expect } from "chai";
import {
  DocumentInputError,
  evidenceKeyPolicy,
  forensicInvestigatorPermissions,
  forensicResponderPermissions,
  keyScope,
  memberResponderPermissions,
  memberRolesTemplate,
  type PolicyDocument,
} from "../../../components/documents";
import {
  EVIDENCE_BUCKET_ARN,
  EVIDENCE_KEY_ARNS,
  FORENSIC,
  FORENSIC_INVESTIGATOR_ARN,
  FORENSIC_RESPONDER_ARN,
  MEMBER,
  MEMBER_INVESTIGATOR_NAME,
  MEMBER_RESPONDER_NAME,
  ORG,
  OUTSIDER_ACCOUNT,
  TRAIL_ARN,
  TRAIL_BUCKET_ARN,
  decide,
  role,
  type Target,
  DEPLOYMENT_ARN,
} from "./simulate";

const BY_TAG = { accountId: FORENSIC };
const tag = (purpose: string) => ({ "aws:ResourceTag/flz:purpose": purpose });

/** The default key policy: IAM policies of the key's account decide (what makes a tag-scoped grant matter). */
function defaultKeyPolicy(account: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
    ],
  };
}

/** A key of `account` under its default policy, or `policy`. */
function key(account: string, id: string, policy: PolicyDocument = defaultKeyPolicy(account)): Target {
  return { resource: `arn:aws:kms:us-east-1:${account}:key/${id}`, account, policy };
}

/** A key of another account whose policy lets everyone use it: a lure an intruder controls. */
function lure(account: string): Target {
  return key(account, "lure", {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:*", Resource: "*" }],
  });
}

const responder = () =>
  role(
    FORENSIC,
    "FlzForensicResponder",
    ORG,
    forensicResponderPermissions({
      memberResponderRoleName: MEMBER_RESPONDER_NAME,
      evidenceBucketArn: EVIDENCE_BUCKET_ARN,
      keysByTag: BY_TAG,
      organizationId: ORG,
    }),
  );
const investigator = () =>
  role(
    FORENSIC,
    "FlzForensicInvestigator",
    ORG,
    forensicInvestigatorPermissions({
      memberInvestigatorRoleName: MEMBER_INVESTIGATOR_NAME,
      trailBucketArn: TRAIL_BUCKET_ARN,
      evidenceBucketArn: EVIDENCE_BUCKET_ARN,
      keysByTag: BY_TAG,
    }),
  );
/** The member responder exactly as the StackSet template (built by tag) gives it to every member account. */
const memberResponder = (account = MEMBER) => {
  const template = memberRolesTemplate({
    forensicResponderRoleArn: FORENSIC_RESPONDER_ARN,
    forensicInvestigatorRoleArn: FORENSIC_INVESTIGATOR_ARN,
    responderRoleName: MEMBER_RESPONDER_NAME,
    investigatorRoleName: MEMBER_INVESTIGATOR_NAME,
    keysByTag: BY_TAG,
  });
  const props = Object.values(template.Resources).find((r) => r.Properties.RoleName === MEMBER_RESPONDER_NAME)!;
  return role(account, MEMBER_RESPONDER_NAME, ORG, props.Properties.Policies[0].PolicyDocument);
};
const evidenceKey = (): Target => ({
  resource: EVIDENCE_KEY_ARNS[0],
  account: FORENSIC,
  policy: evidenceKeyPolicy({
    deploymentPrincipalArn: DEPLOYMENT_ARN,
    keyAccountId: FORENSIC,
    organizationId: ORG,
    memberResponderRoleName: MEMBER_RESPONDER_NAME,
    forensicRoleArns: [FORENSIC_RESPONDER_ARN, FORENSIC_INVESTIGATOR_ARN],
  }),
});

describe("documents/keys: forensic keys named by purpose tag (IAM evaluator)", () => {
  describe("forensic responder", () => {
    it("uses a key of the forensic account tagged as an evidence key, under a policy that defers to IAM", async () => {
      for (const action of ["kms:Decrypt", "kms:ReEncryptFrom", "kms:GenerateDataKeyWithoutPlaintext"]) {
        expect(
          await decide(responder(), action, key(FORENSIC, "k"), { context: tag("evidence-key") }),
          action,
        ).to.equal("Allowed");
      }
    });
    it("does not use a forensic-account key without the tag, or with another purpose", async () => {
      expect(await decide(responder(), "kms:Decrypt", key(FORENSIC, "k"))).to.equal("ImplicitlyDenied");
      expect(await decide(responder(), "kms:Decrypt", key(FORENSIC, "k"), { context: tag("trail-key") })).to.equal(
        "ImplicitlyDenied",
      );
    });
    it("signs only with the key tagged for custody signing, never with an evidence key", async () => {
      expect(await decide(responder(), "kms:Sign", key(FORENSIC, "s"), { context: tag("custody-signing") })).to.equal(
        "Allowed",
      );
      expect(await decide(responder(), "kms:Sign", key(FORENSIC, "s"), { context: tag("evidence-key") })).to.equal(
        "ImplicitlyDenied",
      );
    });
    it("is not lured to a key of a member or outside account that carries the evidence tag", async () => {
      for (const account of [MEMBER, OUTSIDER_ACCOUNT]) {
        expect(await decide(responder(), "kms:Encrypt", lure(account), { context: tag("evidence-key") })).to.equal(
          "ImplicitlyDenied",
        );
      }
    });
    it("creates grants on evidence keys for AWS services only", async () => {
      const target = key(FORENSIC, "k");
      expect(
        await decide(responder(), "kms:CreateGrant", target, {
          context: { ...tag("evidence-key"), "kms:GrantIsForAWSResource": "true" },
        }),
      ).to.equal("Allowed");
      expect(
        await decide(responder(), "kms:CreateGrant", target, {
          context: { ...tag("evidence-key"), "kms:GrantIsForAWSResource": "false" },
        }),
      ).to.equal("ImplicitlyDenied");
    });
  });

  describe("member responder (StackSet template)", () => {
    const sharing = ["kms:DescribeKey", "kms:Decrypt", "kms:ReEncryptTo", "kms:GenerateDataKeyWithoutPlaintext"];
    it("uses the forensic evidence key across accounts while it carries its tag", async () => {
      for (const action of sharing) {
        expect(
          await decide(memberResponder(), action, evidenceKey(), { context: tag("evidence-key") }),
          action,
        ).to.equal("Allowed");
      }
    });
    it("fails closed if the evidence key lost its tag (the guardrail SCP forbids removing it)", async () => {
      expect(await decide(memberResponder(), "kms:Decrypt", evidenceKey())).to.not.equal("Allowed");
    });
    it("is not lured to a key tagged as evidence in another member account or outside", async () => {
      // (In its own account a key's own policy decides alone, as for every principal there: no identity grant needed.)
      for (const account of ["444444444444", OUTSIDER_ACCOUNT]) {
        expect(
          await decide(memberResponder(), "kms:ReEncryptTo", lure(account), { context: tag("evidence-key") }),
        ).to.not.equal("Allowed");
      }
    });
  });

  describe("forensic investigator", () => {
    const cloudTrail = {
      "kms:EncryptionContext:aws:cloudtrail:arn": TRAIL_ARN,
      "kms:EncryptionContextKeys": ["aws:cloudtrail:arn"],
    };
    it("decrypts trail logs with the key tagged as the trail key, CloudTrail ciphertext only", async () => {
      const target = key(FORENSIC, "t");
      expect(
        await decide(investigator(), "kms:Decrypt", target, { context: { ...tag("trail-key"), ...cloudTrail } }),
      ).to.equal("Allowed");
      expect(await decide(investigator(), "kms:Decrypt", target, { context: tag("trail-key") })).to.not.equal(
        "Allowed",
      );
    });
    it("decrypts evidence under the evidence keys, and signs nothing", async () => {
      expect(
        await decide(investigator(), "kms:Decrypt", key(FORENSIC, "e"), { context: tag("evidence-key") }),
      ).to.equal("Allowed");
      expect(
        await decide(investigator(), "kms:Sign", key(FORENSIC, "s"), { context: tag("custody-signing") }),
      ).to.equal("ImplicitlyDenied");
    });
  });

  describe("documents", () => {
    it("name the forensic account's keys and the purpose, and no key ID", () => {
      expect(keyScope("k", undefined, BY_TAG, "evidence-key")).to.deep.equal({
        Resource: `arn:aws:kms:*:${FORENSIC}:key/*`,
        Condition: { StringEquals: { "aws:ResourceTag/flz:purpose": "evidence-key" } },
      });
      expect(keyScope("k", EVIDENCE_KEY_ARNS, BY_TAG, "evidence-key")).to.deep.equal({ Resource: EVIDENCE_KEY_ARNS });
    });
    it("refuse a role policy given neither key ARNs nor keysByTag, naming the argument", () => {
      expect(() => memberResponderPermissions({})).to.throw(
        DocumentInputError,
        /evidenceKeyArns: missing; .*keysByTag/,
      );
    });
    it("refuse a malformed forensic account", () => {
      expect(() => memberResponderPermissions({ keysByTag: { accountId: "2222" } })).to.throw(
        DocumentInputError,
        /keysByTag.accountId: "2222" is not a 12-digit/,
      );
    });
  });
});
