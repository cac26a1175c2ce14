import { expect } from "chai";
import * as path from "node:path";
import { parseLandingZone, landingZoneSchema } from "../../scripts/contract";
import { SEED_ROLE_NAMES } from "../../scripts/emulator/seed";
import { readStackConfig } from "../../scripts/plan/plan";
import { DEFAULT_ROLE_NAMES } from "../../components/memberRoles";
import { placementOf, runProgram } from "../../scripts/plan/mock-engine";
import { allOf, one } from "../components/helpers";

const STACK = path.resolve(__dirname, "../../stacks/index.ts");
const EXAMPLE = path.resolve(__dirname, "../../stacks/Pulumi.example.yaml");

function runStack(overrides: Record<string, string | undefined> = {}) {
  const config: Record<string, string> = { ...readStackConfig(EXAMPLE) };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete config[`forensic-landing-zone:${key}`];
    else config[`forensic-landing-zone:${key}`] = value;
  }
  return runProgram(() => {
    delete require.cache[require.resolve(STACK)];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { ...(require(STACK) as Record<string, unknown>) };
  }, config);
}

describe("the landing-zone stack", () => {
  it("exports exactly the outputs contract, and the CLI's contract parser accepts it", async () => {
    const run = await runStack();
    expect(Object.keys(run.outputs)).to.have.members(Object.keys(landingZoneSchema.shape));
    const lz = parseLandingZone(run.outputs);
    expect(lz).to.deep.include({
      forensicAccountId: "222222222222",
      homeRegion: "us-east-1",
      regions: ["us-east-1", "eu-west-1"],
      evidenceBucket: "flz-evidence-222222222222-us-east-1",
      trailBucket: "flz-trail-222222222222-us-east-1",
      trailArn: "arn:aws:cloudtrail:us-east-1:111111111111:trail/flz-organization-trail",
      memberResponderRoleName: "FlzMemberResponder",
      memberInvestigatorRoleName: "FlzMemberInvestigator",
    });
    expect(Object.keys(lz.evidenceKeyArns)).to.have.members(["us-east-1", "eu-west-1"]);
  });

  it("uses the same default role names as the CLI and the emulator seed", () => {
    expect({
      forensicResponder: DEFAULT_ROLE_NAMES.forensicResponder,
      forensicInvestigator: DEFAULT_ROLE_NAMES.forensicInvestigator,
      memberResponder: DEFAULT_ROLE_NAMES.memberResponder,
      memberInvestigator: DEFAULT_ROLE_NAMES.memberInvestigator,
      breakGlass: DEFAULT_ROLE_NAMES.breakGlass,
    }).to.deep.equal(SEED_ROLE_NAMES);
  });

  it("places every resource of the forensic account in the forensic account; in the management account only the trail, StackSet, SCPs, the quarantine delegation, detection registrations and alarm forwarding", async () => {
    const run = await runStack();
    const custom = run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
    const inManagement = custom.filter((r) => placementOf(run, r).account === "111111111111");
    expect([...new Set(inManagement.map((r) => r.type))]).to.have.members([
      "aws:cloudtrail/trail:Trail",
      "aws:cloudformation/stackSet:StackSet",
      "aws:cloudformation/stackSetInstance:StackSetInstance",
      "aws:organizations/policy:Policy",
      "aws:organizations/policyAttachment:PolicyAttachment",
      "aws:guardduty/organizationAdminAccount:OrganizationAdminAccount",
      "aws:securityhub/organizationAdminAccount:OrganizationAdminAccount",
      "aws:detective/organizationAdminAccount:OrganizationAdminAccount",
      // Trail changes happen in the management account: a rule there forwards them to the forensic account.
      "aws:cloudwatch/eventRule:EventRule",
      "aws:cloudwatch/eventTarget:EventTarget",
      "aws:iam/role:Role",
      "aws:iam/rolePolicy:RolePolicy",
      // The delegation that lets the forensic responder manage quarantine SCPs: only the management account publishes it.
      "aws:organizations/resourcePolicy:ResourcePolicy",
    ]);
    const managementIam = inManagement.filter((r) => r.type.startsWith("aws:iam/")).map((r) => r.name);
    expect(managementIam).to.have.members(["flz-alarms-us-east-1-forward", "flz-alarms-us-east-1-forward"]);
    // Delegated administrators are registered region by region, from the management account (Security Hub in the
    // home region only: central configuration designates it in the linked regions).
    const registrations = inManagement.filter((r) => r.type.endsWith(":OrganizationAdminAccount"));
    expect(registrations.map((r) => `${r.type.split(":")[1]}@${placementOf(run, r).region}`).sort()).to.deep.equal([
      "detective/organizationAdminAccount@eu-west-1",
      "detective/organizationAdminAccount@us-east-1",
      "guardduty/organizationAdminAccount@eu-west-1",
      "guardduty/organizationAdminAccount@us-east-1",
      "securityhub/organizationAdminAccount@us-east-1",
    ]);
    const elsewhere = custom.filter(
      (r) => !["111111111111", "222222222222"].includes(placementOf(run, r).account ?? ""),
    );
    expect(elsewhere.map((r) => r.name)).to.deep.equal([]);
    // Every resource is deployed through an explicit provider with a region: nothing depends on ambient defaults.
    for (const r of custom) expect(placementOf(run, r).region, r.name).to.be.a("string");
  });

  it("pins the management provider to the configured management account", async () => {
    const run = await runStack();
    const trail = one(run, "aws:cloudtrail/trail:Trail");
    const provider = run.resources.find((r) => trail.provider?.startsWith(r.urn));
    expect(provider?.inputs.allowedAccountIds).to.satisfy((v: unknown) => JSON.stringify(v).includes("111111111111"));
  });

  it("encrypts the trail with the trail key and the evidence bucket with the evidence key", async () => {
    const run = await runStack();
    const trail = one(run, "aws:cloudtrail/trail:Trail");
    expect(trail.inputs.kmsKeyId).to.equal("arn:aws:kms:us-east-1:111111111111:key/mrk-flz-keys-trail");
    expect(trail.inputs.s3BucketName).to.equal("flz-trail-222222222222-us-east-1");
    const sse = allOf(run, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
    const keyOf = (bucket: string) =>
      (
        sse.find((s) => s.inputs.bucket === bucket)?.inputs.rules as Array<{
          applyServerSideEncryptionByDefault: { kmsMasterKeyId: string };
        }>
      )[0].applyServerSideEncryptionByDefault.kmsMasterKeyId;
    expect(keyOf("flz-evidence-222222222222-us-east-1")).to.equal(
      "arn:aws:kms:us-east-1:111111111111:key/mrk-flz-keys-evidence",
    );
    expect(keyOf("flz-trail-222222222222-us-east-1")).to.equal(
      "arn:aws:kms:us-east-1:111111111111:key/mrk-flz-keys-trail",
    );
  });

  it("creates the forensic account in a Forensics OU when configured with an e-mail address", async () => {
    const run = await runStack({ forensicAccountId: undefined, forensicAccountEmail: "forensics@example.com" });
    const account = one(run, "aws:organizations/account:Account");
    expect(account.inputs).to.include({ email: "forensics@example.com", closeOnDeletion: false });
    expect(placementOf(run, account).account).to.equal("111111111111");
    // The new account's ID (the mock's 222222222222) flows into every forensic provider.
    expect(parseLandingZone(run.outputs).forensicAccountId).to.equal("222222222222");
  });

  it("applies the retention days of the configuration to each bucket", async () => {
    const run = await runStack({ trailRetentionDays: "400", evidenceRetentionDays: "2555" });
    const locks = allOf(run, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration");
    const days = Object.fromEntries(
      locks.map((l) => [
        l.inputs.bucket,
        (l.inputs.rule as { defaultRetention: { days: number; mode: string } }).defaultRetention,
      ]),
    );
    expect(days).to.deep.equal({
      "flz-trail-222222222222-us-east-1": { mode: "COMPLIANCE", days: 400 },
      "flz-evidence-222222222222-us-east-1": { mode: "COMPLIANCE", days: 2555 },
    });
  });

  it("fails with the configuration's one-line error", async () => {
    let error: unknown;
    try {
      await runStack({ homeRegion: "ap-south-1" });
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).to.match(
      /^forensic-landing-zone:homeRegion: "ap-south-1" is not a governed region/,
    );
  });
});
