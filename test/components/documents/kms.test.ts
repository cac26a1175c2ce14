import { expect } from "chai";
import {
  DocumentInputError,
  SIGNING_KEY_ADMIN_ACTIONS,
  custodySigningKeyPolicy,
  evidenceKeyPolicy,
  memberResponderPermissions,
  trailKeyPolicy,
} from "../../../components/documents";
import {
  ADMIN,
  EVIDENCE_KEY_ARNS,
  FORENSIC,
  FORENSIC_INVESTIGATOR_ARN,
  FORENSIC_RESPONDER_ARN,
  MANAGEMENT,
  MEMBER,
  MEMBER_RESPONDER_NAME,
  ORG,
  OUTSIDER_ACCOUNT,
  SIGNING_KEY_ARN,
  TRAIL_ARN,
  TRAIL_KEY_ARN,
  decide,
  outsider,
  role,
  service,
  withContext,
  type Caller,
  type Target,
  forensicResponder,
  forensicInvestigator as sharedInvestigator,
  DEPLOYMENT_ARN,
} from "./simulate";

const KMS_ALL = {
  Version: "2012-10-17" as const,
  Statement: [{ Effect: "Allow" as const, Action: "kms:*", Resource: "*" }],
};

const signingKey = (): Target => ({
  resource: SIGNING_KEY_ARN,
  account: FORENSIC,
  policy: custodySigningKeyPolicy({
    deploymentPrincipalArn: DEPLOYMENT_ARN,
    keyAccountId: FORENSIC,
    organizationId: ORG,
    signerRoleArn: FORENSIC_RESPONDER_ARN,
  }),
});
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
const trailKey = (): Target => ({
  resource: TRAIL_KEY_ARN,
  account: FORENSIC,
  policy: trailKeyPolicy({
    deploymentPrincipalArn: DEPLOYMENT_ARN,
    keyAccountId: FORENSIC,
    managementAccountId: MANAGEMENT,
    organizationId: ORG,
    trailArn: TRAIL_ARN,
    investigatorRoleArns: [FORENSIC_INVESTIGATOR_ARN],
  }),
});

const forensicInvestigator = (): Caller => sharedInvestigator({ evidenceKeyArns: EVIDENCE_KEY_ARNS });
/** The member responder role of an organisation member account, with its StackSet permissions. */
const memberResponder = (account = MEMBER, org: string | null = ORG): Caller =>
  role(account, MEMBER_RESPONDER_NAME, org, memberResponderPermissions({ evidenceKeyArns: EVIDENCE_KEY_ARNS }));
/** An administrator of the forensic account: `kms:*` in its own policy, but not the signer. */
const forensicAdmin = (): Caller => role(FORENSIC, "Administrator", ORG, KMS_ALL);

const cloudTrailContext = {
  "kms:EncryptionContext:aws:cloudtrail:arn": TRAIL_ARN,
  "kms:EncryptionContextKeys": ["aws:cloudtrail:arn"],
};

describe("documents/kms: custody signing key policy", () => {
  it("lets the forensic responder role sign custody records", async () => {
    expect(await decide(forensicResponder(), "kms:Sign", signingKey())).to.equal("Allowed");
  });
  it("does not let an administrator with kms:* in its own policy sign, so nobody else can forge a record", async () => {
    expect(await decide(forensicAdmin(), "kms:Sign", signingKey())).to.not.equal("Allowed");
  });
  it("lets that administrator verify signatures, read the public key and administer the key", async () => {
    expect(await decide(forensicAdmin(), "kms:Verify", signingKey())).to.equal("Allowed");
    expect(await decide(forensicAdmin(), "kms:GetPublicKey", signingKey())).to.equal("Allowed");
    expect(await decide(forensicAdmin(), "kms:TagResource", signingKey())).to.equal("Allowed");
  });
  it("does not let the administrator hand itself signing through a grant or a replica", async () => {
    expect(await decide(forensicAdmin(), "kms:CreateGrant", signingKey())).to.not.equal("Allowed");
    expect(await decide(forensicAdmin(), "kms:ReplicateKey", signingKey())).to.not.equal("Allowed");
    expect(
      SIGNING_KEY_ADMIN_ACTIONS.some(
        (a) => a === "kms:*" || a.startsWith("kms:Sign") || a.startsWith("kms:CreateGrant"),
      ),
    ).to.equal(false);
  });
  it("lets a principal of another organisation account verify, but not sign", async () => {
    const auditor = role(MEMBER, "Auditor", ORG, KMS_ALL);
    expect(await decide(auditor, "kms:Verify", signingKey())).to.equal("Allowed");
    expect(await decide(auditor, "kms:Sign", signingKey())).to.not.equal("Allowed");
  });
  it("refuses an outsider both signing and verifying", async () => {
    expect(await decide(outsider(), "kms:Sign", signingKey())).to.not.equal("Allowed");
    expect(await decide(outsider(), "kms:Verify", signingKey())).to.not.equal("Allowed");
  });
  it("does not let a role named like the signer in another account sign", async () => {
    const lookalike = role(MEMBER, "FlzForensicResponder", ORG, KMS_ALL);
    expect(await decide(lookalike, "kms:Sign", signingKey())).to.not.equal("Allowed");
  });
});

describe("documents/kms: evidence key policy", () => {
  const sharingActions = [
    "kms:DescribeKey",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKeyWithoutPlaintext",
  ];
  it("lets the member responder role of an organisation account do what snapshot sharing needs", async () => {
    for (const action of sharingActions) {
      expect(await decide(memberResponder(), action, evidenceKey()), action).to.equal("Allowed");
    }
  });
  it("lets the member responder create grants for EBS only, not for itself", async () => {
    expect(
      await decide(memberResponder(), "kms:CreateGrant", evidenceKey(), {
        context: { "kms:GrantIsForAWSResource": "true" },
      }),
    ).to.equal("Allowed");
    expect(
      await decide(memberResponder(), "kms:CreateGrant", evidenceKey(), {
        context: { "kms:GrantIsForAWSResource": "false" },
      }),
    ).to.not.equal("Allowed");
  });
  it("refuses a role with the responder's name in an account outside the organisation", async () => {
    expect(await decide(memberResponder(OUTSIDER_ACCOUNT, null), "kms:Decrypt", evidenceKey())).to.not.equal("Allowed");
    expect(await decide(memberResponder(OUTSIDER_ACCOUNT, "o-otherorg999"), "kms:Decrypt", evidenceKey())).to.not.equal(
      "Allowed",
    );
  });
  it("refuses other roles of a member account, even administrators", async () => {
    expect(await decide(role(MEMBER, "Administrator", ORG, ADMIN), "kms:Decrypt", evidenceKey())).to.not.equal(
      "Allowed",
    );
  });
  it("refuses an outsider administrator", async () => {
    expect(await decide(outsider(), "kms:Decrypt", evidenceKey())).to.not.equal("Allowed");
    expect(
      await decide(outsider(), "kms:CreateGrant", evidenceKey(), { context: { "kms:GrantIsForAWSResource": "true" } }),
    ).to.not.equal("Allowed");
  });
  it("lets the forensic roles copy and analyse (decrypt, re-encrypt)", async () => {
    expect(await decide(forensicResponder(), "kms:ReEncryptFrom", evidenceKey())).to.equal("Allowed");
    expect(
      await decide(forensicResponder(), "kms:CreateGrant", evidenceKey(), {
        context: { "kms:GrantIsForAWSResource": "true" },
      }),
    ).to.equal("Allowed");
    expect(await decide(forensicInvestigator(), "kms:Decrypt", evidenceKey())).to.equal("Allowed");
  });
  it("refuses a member responder that lacks the identity permission (both sides must agree across accounts)", async () => {
    const bare = role(MEMBER, MEMBER_RESPONDER_NAME, ORG);
    expect(await decide(bare, "kms:Decrypt", evidenceKey())).to.not.equal("Allowed");
  });
});

describe("documents/kms: trail key policy", () => {
  const cloudTrail = (trailArn = TRAIL_ARN): Caller =>
    service("cloudtrail.amazonaws.com", { "aws:SourceArn": trailArn, "aws:SourceAccount": MANAGEMENT });
  it("lets CloudTrail generate data keys for this trail with its encryption context", async () => {
    expect(await decide(cloudTrail(), "kms:GenerateDataKey", trailKey(), { context: cloudTrailContext })).to.equal(
      "Allowed",
    );
    expect(await decide(cloudTrail(), "kms:DescribeKey", trailKey())).to.equal("Allowed");
  });
  it("refuses CloudTrail acting for another trail", async () => {
    const foreign = "arn:aws:cloudtrail:us-east-1:999999999999:trail/foreign";
    expect(
      await decide(cloudTrail(foreign), "kms:GenerateDataKey", trailKey(), {
        context: { "kms:EncryptionContext:aws:cloudtrail:arn": foreign },
      }),
    ).to.not.equal("Allowed");
  });
  it("refuses CloudTrail with an encryption context of another account's trail", async () => {
    const context = { "kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:us-east-1:999999999999:trail/x" };
    expect(await decide(cloudTrail(), "kms:GenerateDataKey", trailKey(), { context })).to.not.equal("Allowed");
  });
  it("lets investigators decrypt CloudTrail logs only", async () => {
    expect(await decide(forensicInvestigator(), "kms:Decrypt", trailKey(), { context: cloudTrailContext })).to.equal(
      "Allowed",
    );
    expect(await decide(forensicInvestigator(), "kms:Decrypt", trailKey())).to.not.equal("Allowed");
    expect(
      await decide(forensicInvestigator(), "kms:Decrypt", trailKey(), {
        context: { "kms:EncryptionContext:purpose": "other", "kms:EncryptionContextKeys": ["purpose"] },
      }),
    ).to.not.equal("Allowed");
  });
  it("refuses an outsider decrypting logs", async () => {
    expect(await decide(withContext(outsider(), cloudTrailContext), "kms:Decrypt", trailKey())).to.not.equal("Allowed");
  });
  it("omits the investigator statement when there are none (an empty Principal is invalid)", () => {
    const policy = trailKeyPolicy({
      deploymentPrincipalArn: DEPLOYMENT_ARN,
      keyAccountId: FORENSIC,
      managementAccountId: MANAGEMENT,
      organizationId: ORG,
      trailArn: TRAIL_ARN,
      investigatorRoleArns: [],
    });
    expect(policy.Statement.map((s) => s.Sid)).to.not.include("AllowInvestigatorsDecryptTrailLogs");
  });
});

describe("documents/kms: input checks", () => {
  it("names a malformed key account", () => {
    expect(() =>
      custodySigningKeyPolicy({
        deploymentPrincipalArn: DEPLOYMENT_ARN,
        keyAccountId: "2222",
        organizationId: ORG,
        signerRoleArn: FORENSIC_RESPONDER_ARN,
      }),
    ).to.throw(DocumentInputError, /keyAccountId: "2222" is not a 12-digit/);
  });
  it("refuses an evidence key without forensic roles", () => {
    expect(() =>
      evidenceKeyPolicy({
        deploymentPrincipalArn: DEPLOYMENT_ARN,
        keyAccountId: FORENSIC,
        organizationId: ORG,
        memberResponderRoleName: MEMBER_RESPONDER_NAME,
        forensicRoleArns: [],
      }),
    ).to.throw(DocumentInputError, /forensicRoleArns: the list is empty/);
  });
  it("refuses a role name that would widen the ARN pattern", () => {
    expect(() =>
      evidenceKeyPolicy({
        deploymentPrincipalArn: DEPLOYMENT_ARN,
        keyAccountId: FORENSIC,
        organizationId: ORG,
        memberResponderRoleName: "*",
        forensicRoleArns: [FORENSIC_RESPONDER_ARN],
      }),
    ).to.throw(DocumentInputError, /memberResponderRoleName: "\*"/);
  });
});
