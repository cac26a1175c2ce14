import { expect } from "chai";
import { ForensicLandingZone, ForensicLandingZoneArgs } from "../../components/forensicLandingZone";
import { PURPOSE as PACK_PURPOSE, PURPOSE_TAG_KEY as PACK_TAG_KEY } from "../../policies/lib/purpose";
import { PURPOSE, PURPOSE_TAG_KEY } from "../../components/tags";
import { placementOf, runProgram } from "../support/mock-engine";
import { allOf, covers, one, statements } from "./helpers";

const ARGS: ForensicLandingZoneArgs = {
  forensicAccount: { kind: "adopt", accountId: "222222222222" },
  managementAccountId: "111111111111",
  homeRegion: "eu-west-1",
  regions: ["eu-west-1", "eu-central-1", "us-east-1"],
  targetOrganizationalUnitIds: ["r-exam"],
};

function landingZone(args: ForensicLandingZoneArgs = ARGS) {
  return runProgram(() => new ForensicLandingZone("lz", args).contract());
}

describe("ForensicLandingZone", () => {
  it("names the organisation trail's ARN, computed from its name, in the trail key and trail bucket policies", async () => {
    const run = await landingZone();
    const trailArn = "arn:aws:cloudtrail:eu-west-1:111111111111:trail/flz-organization-trail";
    // (The exported trailArn is read back from the trail; under mocks that is the engine's placeholder.)
    expect(JSON.stringify(statements(one(run, "aws:kms/key:Key", "-trail")))).to.include(trailArn);
    const trailBucketPolicy = allOf(run, "aws:s3/bucketPolicy:BucketPolicy").find(
      (p) => p.name === "lz-trail-bucket-policy",
    )!;
    expect(JSON.stringify(statements(trailBucketPolicy))).to.include(trailArn);
  });

  it("hands the forensic roles to the key policies: the responder alone signs, investigators decrypt trail logs", async () => {
    const run = await landingZone();
    const responder = run.outputs.forensicResponderRoleArn;
    const investigator = run.outputs.forensicInvestigatorRoleArn;
    expect(responder).to.match(/role\/FlzForensicResponder$/);
    const signers = statements(one(run, "aws:kms/key:Key", "-custody-signing")).filter((s) => covers(s, "kms:Sign"));
    expect(signers.map((s) => s.Principal)).to.deep.equal([{ AWS: responder }]);
    // Beyond the account's own administration (`kms:*` for the key account), only investigators may decrypt.
    const roleDecrypt = statements(one(run, "aws:kms/key:Key", "-trail")).filter(
      (s) => covers(s, "kms:Decrypt") && JSON.stringify(s.Principal).includes(":role/"),
    );
    expect(roleDecrypt.map((s) => JSON.stringify(s.Principal))).to.deep.equal([
      JSON.stringify({ AWS: [investigator] }),
    ]);
  });

  it("replicates the evidence key into every governed region and exports one ARN per region", async () => {
    const run = await landingZone();
    expect(allOf(run, "aws:kms/replicaKey:ReplicaKey")).to.have.length(2);
    expect(Object.keys(run.outputs.evidenceKeyArns)).to.have.members(ARGS.regions);
  });

  it("creates the trail in the home region of the management account, in the trail bucket, with the trail key", async () => {
    const run = await landingZone();
    const trail = one(run, "aws:cloudtrail/trail:Trail");
    expect(placementOf(run, trail)).to.deep.equal({ account: "111111111111", region: "eu-west-1" });
    expect(trail.inputs.s3BucketName).to.equal("flz-trail-222222222222-eu-west-1");
    // The mock engine's ARN of the trail key (it places every ARN in us-east-1 of 111111111111).
    expect(trail.inputs.kmsKeyId).to.equal("arn:aws:kms:us-east-1:111111111111:key/mrk-lz-keys-trail");
  });

  it("refuses a home region outside the governed regions", async () => {
    let error: unknown;
    await runProgram(() => {
      try {
        new ForensicLandingZone("bad", { ...ARGS, homeRegion: "ap-south-1" });
      } catch (err) {
        error = err;
      }
      return {};
    });
    expect(String(error)).to.include(
      "home region ap-south-1 is not one of the governed regions [eu-west-1, eu-central-1, us-east-1]",
    );
  });

  it("tags what the policy pack must recognise with the pack's own purpose tag", async () => {
    expect(PURPOSE_TAG_KEY).to.equal(PACK_TAG_KEY);
    expect(PURPOSE).to.deep.equal(PACK_PURPOSE);
    const run = await landingZone();
    const purposes = run.resources
      .filter((r) => r.custom && (r.inputs.tags as Record<string, string> | undefined)?.[PURPOSE_TAG_KEY])
      .map((r) => `${r.type} ${(r.inputs.tags as Record<string, string>)[PURPOSE_TAG_KEY]}`);
    expect(purposes).to.have.members([
      "aws:kms/key:Key trail-key",
      "aws:kms/key:Key evidence-key",
      "aws:kms/replicaKey:ReplicaKey evidence-key",
      "aws:kms/replicaKey:ReplicaKey evidence-key",
      "aws:kms/key:Key custody-signing",
      "aws:s3/bucket:Bucket trail-logs",
      "aws:s3/bucket:Bucket evidence",
      "aws:iam/role:Role forensic-role",
      "aws:iam/role:Role forensic-role",
      "aws:iam/role:Role break-glass",
    ]);
  });
});
