import { expect } from "chai";
import * as aws from "@pulumi/aws";
import { ForensicKeys, ForensicKeysArgs } from "../../components/forensicKeys";
import { placementOf, providerOf, runProgram } from "../../scripts/plan/mock-engine";
import { allOf, covers, one, statements } from "./helpers";

const FORENSIC = "222222222222";
const ORG = "o-exampleorg1";
const TRAIL = "arn:aws:cloudtrail:us-east-1:111111111111:trail/flz-organization-trail";
const RESPONDER = `arn:aws:iam::${FORENSIC}:role/FlzForensicResponder`;
const INVESTIGATOR = `arn:aws:iam::${FORENSIC}:role/FlzForensicInvestigator`;
const DEPLOYMENT = `arn:aws:iam::${FORENSIC}:role/OrganizationAccountAccessRole`;

function keys(regions: string[], overrides: Partial<ForensicKeysArgs> = {}) {
  return runProgram(() => {
    const providers = Object.fromEntries(
      regions.map((region) => [
        region,
        new aws.Provider(`forensic-${region}`, { region, allowedAccountIds: [FORENSIC] }),
      ]),
    );
    const k = new ForensicKeys("keys", {
      homeRegion: regions[0],
      providers,
      keyAccountId: FORENSIC,
      organizationId: ORG,
      managementAccountId: "111111111111",
      trailArn: TRAIL,
      investigatorRoleArns: [INVESTIGATOR],
      memberResponderRoleName: "FlzMemberResponder",
      forensicRoleArns: [RESPONDER, INVESTIGATOR],
      signerRoleArn: RESPONDER,
      deploymentPrincipalArn: DEPLOYMENT,
      ...overrides,
    });
    return { evidenceKeyArns: k.evidenceKeyArns };
  });
}

const KEY = "aws:kms/key:Key";
const REPLICA = "aws:kms/replicaKey:ReplicaKey";

describe("ForensicKeys", () => {
  it("makes a symmetric, rotating trail key with a 30-day deletion window in the home region", async () => {
    const run = await keys(["us-east-1", "eu-west-1"]);
    const trail = one(run, KEY, "-trail");
    expect(trail.inputs).to.include({
      customerMasterKeySpec: "SYMMETRIC_DEFAULT",
      keyUsage: "ENCRYPT_DECRYPT",
      enableKeyRotation: true,
      deletionWindowInDays: 30,
    });
    expect(placementOf(run, trail)).to.deep.equal({ account: FORENSIC, region: "us-east-1" });
  });

  it("lets CloudTrail use the trail key only for this trail, with its encryption context, and investigators decrypt", async () => {
    const run = await keys(["us-east-1"]);
    const policy = statements(one(run, KEY, "-trail"));
    const cloudTrail = policy.filter(
      (s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: "cloudtrail.amazonaws.com" }),
    );
    expect(cloudTrail.length).to.be.greaterThan(0);
    for (const s of cloudTrail)
      expect((s.Condition?.StringEquals as Record<string, string>)["aws:SourceArn"]).to.equal(TRAIL);
    const encrypt = cloudTrail.find((s) => covers(s, "kms:GenerateDataKey"))!;
    expect(
      (encrypt.Condition?.StringLike as Record<string, string>)["kms:EncryptionContext:aws:cloudtrail:arn"],
    ).to.include("111111111111");
    const decrypt = policy.find((s) => covers(s, "kms:Decrypt") && JSON.stringify(s.Principal).includes(INVESTIGATOR));
    expect(decrypt?.Effect).to.equal("Allow");
  });

  it("makes the evidence key a rotating multi-region primary in the home region", async () => {
    const run = await keys(["us-east-1", "eu-west-1", "ap-southeast-2"]);
    const primary = one(run, KEY, "-evidence");
    expect(primary.inputs).to.include({
      multiRegion: true,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      keyUsage: "ENCRYPT_DECRYPT",
    });
    expect(placementOf(run, primary).region).to.equal("us-east-1");
  });

  it("replicates the evidence key into every other governed region through a provider in that region", async () => {
    const run = await keys(["us-east-1", "eu-west-1", "ap-southeast-2"]);
    const replicas = allOf(run, REPLICA);
    expect(replicas.map((r) => placementOf(run, r))).to.have.deep.members([
      { account: FORENSIC, region: "eu-west-1" },
      { account: FORENSIC, region: "ap-southeast-2" },
    ]);
    for (const r of replicas) {
      expect(r.inputs.primaryKeyArn).to.equal("arn:aws:kms:us-east-1:111111111111:key/mrk-keys-evidence");
      expect(r.inputs.deletionWindowInDays).to.equal(30);
      expect(providerOf(run, r)?.name).to.equal(`forensic-${placementOf(run, r).region}`);
      // Each replica carries the same policy as the primary (replicas do not inherit it).
      expect(r.inputs.policy).to.equal(one(run, KEY, "-evidence").inputs.policy);
    }
    expect(Object.keys(run.outputs.evidenceKeyArns)).to.have.members(["us-east-1", "eu-west-1", "ap-southeast-2"]);
  });

  it("lets member responders of the organisation use the evidence key, with grants only for AWS resources", async () => {
    const run = await keys(["us-east-1"]);
    const policy = statements(one(run, KEY, "-evidence"));
    const member = policy.filter((s) => JSON.stringify(s.Condition ?? {}).includes("role/FlzMemberResponder"));
    expect(
      member.every((s) => (s.Condition?.StringEquals as Record<string, string>)["aws:PrincipalOrgID"] === ORG),
    ).to.equal(true);
    expect(member.some((s) => covers(s, "kms:ReEncryptFrom") || covers(s, "kms:ReEncrypt*"))).to.equal(true);
    const grant = member.find((s) => covers(s, "kms:CreateGrant"))!;
    expect((grant.Condition?.Bool as Record<string, string>)["kms:GrantIsForAWSResource"]).to.equal("true");
    const forensicDecrypt = policy.find(
      (s) => covers(s, "kms:Decrypt") && JSON.stringify(s.Principal).includes(RESPONDER),
    );
    expect(JSON.stringify(forensicDecrypt?.Principal)).to.include(INVESTIGATOR);
  });

  it("makes an ECC P-256 signing key that only the forensic responder can sign with and the organisation can verify", async () => {
    const run = await keys(["us-east-1"]);
    const signing = one(run, KEY, "-custody-signing");
    expect(signing.inputs).to.include({
      customerMasterKeySpec: "ECC_NIST_P256",
      keyUsage: "SIGN_VERIFY",
      deletionWindowInDays: 30,
    });
    expect(signing.inputs.enableKeyRotation).to.not.equal(true);
    const policy = statements(signing);
    const signers = policy.filter((s) => s.Effect === "Allow" && covers(s, "kms:Sign"));
    expect(signers.map((s) => s.Principal)).to.deep.equal([{ AWS: RESPONDER }]);
    const verify = policy.find((s) => covers(s, "kms:Verify"))!;
    expect((verify.Condition?.StringEquals as Record<string, string>)["aws:PrincipalOrgID"]).to.equal(ORG);
  });

  it("takes a shorter deletion window but refuses one outside 7 to 30 days", async () => {
    const run = await keys(["us-east-1"], { deletionWindowInDays: 7 });
    expect(allOf(run, KEY).map((k) => k.inputs.deletionWindowInDays)).to.deep.equal([7, 7, 7]);
    let error: unknown;
    await runProgram(() => {
      try {
        new ForensicKeys("bad", {
          homeRegion: "us-east-1",
          providers: { "us-east-1": new aws.Provider("p", { region: "us-east-1" }) },
          keyAccountId: FORENSIC,
          organizationId: ORG,
          managementAccountId: "111111111111",
          trailArn: TRAIL,
          deploymentPrincipalArn: DEPLOYMENT,
          investigatorRoleArns: [],
          memberResponderRoleName: "x",
          forensicRoleArns: [RESPONDER],
          signerRoleArn: RESPONDER,
          deletionWindowInDays: 3,
        });
      } catch (err) {
        error = err;
      }
      return {};
    });
    expect(String(error)).to.match(/deletionWindowInDays must be a whole number from 7 to 30, got 3/);
  });
});
