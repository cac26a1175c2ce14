import { expect } from "chai";
import * as aws from "@pulumi/aws";
import { EvidenceBucket, EvidenceBucketArgs } from "../../components/evidenceBucket";
import { placementOf, runProgram } from "../../scripts/plan/mock-engine";
import { allOf, covers, one, parentOf, statements } from "./helpers";

const KEY = "arn:aws:kms:us-east-1:222222222222:key/mrk-evidence";
const ORG = "o-exampleorg1";
const TRAIL = "arn:aws:cloudtrail:us-east-1:111111111111:trail/flz-organization-trail";
const DEPLOYMENT = "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole";
const RESPONDER = "arn:aws:iam::222222222222:role/FlzForensicResponder";
/** The protection as the landing zone passes it for these buckets. */
const PROTECTION = {
  evidenceBucketArn: "arn:aws:s3:::flz-evidence-test",
  trailBucketArn: "arn:aws:s3:::flz-trail-test",
  accessLogBucketArns: ["arn:aws:s3:::flz-evidence-test-logs"],
  deploymentPrincipalArn: DEPLOYMENT,
  caseWriterArns: [RESPONDER],
  keys: { accountId: "222222222222" },
};

function bucket(overrides: Partial<EvidenceBucketArgs> = {}) {
  return runProgram(() => {
    const provider = new aws.Provider("forensic", { region: "eu-west-1", allowedAccountIds: ["222222222222"] });
    const b = new EvidenceBucket(
      "evidence",
      {
        bucketName: "flz-evidence-test",
        kmsKeyArn: KEY,
        organizationId: ORG,
        accountId: "222222222222",
        protection: PROTECTION,
        ...overrides,
      },
      { provider },
    );
    return { name: b.bucketName };
  });
}

const T = {
  bucket: "aws:s3/bucket:Bucket",
  lock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  pab: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  policy: "aws:s3/bucketPolicy:BucketPolicy",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  logging: "aws:s3/bucketLogging:BucketLogging",
};

describe("EvidenceBucket", () => {
  it("creates the bucket with Object Lock and a default COMPLIANCE retention of 365 days", async () => {
    const run = await bucket();
    const b = one(run, T.bucket, "evidence");
    expect(b.inputs.objectLockEnabled).to.equal(true);
    expect(b.inputs.forceDestroy).to.equal(false);
    const lock = one(run, T.lock);
    expect(lock.inputs.bucket).to.equal("flz-evidence-test");
    expect(lock.inputs.rule).to.deep.equal({ defaultRetention: { mode: "COMPLIANCE", days: 365 } });
  });

  it("takes the retention days from its arguments", async () => {
    const run = await bucket({ retentionDays: 2555 });
    expect((one(run, T.lock).inputs.rule as { defaultRetention: { days: number } }).defaultRetention.days).to.equal(
      2555,
    );
  });

  it("refuses an archive class that would hide objects from Athena and GetObject, unless restores are accepted", async () => {
    let error: unknown;
    await runProgram(() => {
      try {
        new EvidenceBucket("archived", {
          kmsKeyArn: KEY,
          organizationId: ORG,
          accountId: "222222222222",
          protection: PROTECTION,
          transitions: [{ days: 365, storageClass: "DEEP_ARCHIVE" }],
        });
      } catch (err) {
        error = err;
      }
    });
    expect(String(error)).to.match(/transition to DEEP_ARCHIVE after 365 days makes objects unreadable/);
    const run = await bucket({
      transitions: [{ days: 365, storageClass: "DEEP_ARCHIVE" }],
      allowArchiveTransitions: true,
    });
    expect((one(run, T.lifecycle).inputs.rules as Array<{ transitions: unknown }>)[0].transitions).to.deep.equal([
      { days: 365, storageClass: "DEEP_ARCHIVE" },
    ]);
  });

  it("refuses a retention of 0 days", async () => {
    let error: unknown;
    await runProgram(() => {
      try {
        new EvidenceBucket("bad", {
          kmsKeyArn: KEY,
          organizationId: ORG,
          accountId: "222222222222",
          retentionDays: 0,
          protection: PROTECTION,
        });
      } catch (err) {
        error = err;
      }
      return {};
    });
    expect(String(error)).to.match(/retentionDays must be a whole number of days >= 1, got 0/);
  });

  it("versions both the evidence bucket and its log bucket", async () => {
    const run = await bucket();
    const versioned = allOf(run, T.versioning).map((v) => [
      v.inputs.bucket,
      (v.inputs.versioningConfiguration as { status: string }).status,
    ]);
    expect(versioned).to.have.deep.members([
      ["flz-evidence-test", "Enabled"],
      ["flz-evidence-test-logs", "Enabled"],
    ]);
  });

  it("encrypts with SSE-KMS under the customer key with bucket keys", async () => {
    const run = await bucket();
    const sse = allOf(run, T.sse).find((r) => r.inputs.bucket === "flz-evidence-test");
    expect(sse?.inputs.rules).to.deep.equal([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY }, bucketKeyEnabled: true },
    ]);
  });

  it("sets all four public-access-block flags and BucketOwnerEnforced on both buckets", async () => {
    const run = await bucket();
    const blocks = allOf(run, T.pab);
    expect(blocks.map((b) => b.inputs.bucket)).to.have.members(["flz-evidence-test", "flz-evidence-test-logs"]);
    for (const b of blocks) {
      expect(b.inputs).to.include({
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
    }
    const ownership = allOf(run, T.ownership);
    expect(ownership).to.have.length(2);
    for (const o of ownership) expect(o.inputs.rule).to.deep.equal({ objectOwnership: "BucketOwnerEnforced" });
  });

  it("attaches a policy that denies non-TLS access and every principal outside the organisation", async () => {
    const run = await bucket();
    const policy = allOf(run, T.policy).find((p) => p.inputs.bucket === "flz-evidence-test")!;
    const denies = statements(policy).filter((s) => s.Effect === "Deny");
    const tls = denies.find(
      (s) => (s.Condition?.Bool as Record<string, unknown> | undefined)?.["aws:SecureTransport"] === "false",
    );
    expect(tls && covers(tls, "s3:GetObject") && tls.Principal).to.equal("*");
    const org = denies.find(
      (s) =>
        (s.Condition?.StringNotEqualsIfExists as Record<string, unknown> | undefined)?.["aws:PrincipalOrgID"] === ORG,
    );
    expect(org && covers(org, "s3:GetObject")).to.equal(true);
    // An evidence bucket lets no service write into it.
    expect(statements(policy).filter((s) => s.Effect === "Allow")).to.deep.equal([]);
  });

  it("lets only the named trail write its own prefixes when it receives trail logs", async () => {
    const run = await bucket({ cloudTrailWriter: { managementAccountId: "111111111111", trailArn: TRAIL } });
    const policy = allOf(run, T.policy).find((p) => p.inputs.bucket === "flz-evidence-test")!;
    const write = statements(policy).find((s) => s.Effect === "Allow" && covers(s, "s3:PutObject"))!;
    expect(write.Principal).to.deep.equal({ Service: "cloudtrail.amazonaws.com" });
    expect(write.Resource).to.have.members([
      "arn:aws:s3:::flz-evidence-test/AWSLogs/111111111111/*",
      `arn:aws:s3:::flz-evidence-test/AWSLogs/${ORG}/*`,
    ]);
    expect(write.Condition?.StringEquals).to.deep.equal({
      "s3:x-amz-acl": "bucket-owner-full-control",
      "aws:SourceArn": TRAIL,
    });
  });

  it("moves versions to a colder class that stays readable (Athena, custody verify), and never expires them", async () => {
    const run = await bucket();
    const rules = one(run, T.lifecycle).inputs.rules as Array<Record<string, unknown>>;
    expect(rules).to.have.length(1);
    expect(rules[0].status).to.equal("Enabled");
    expect(rules[0].transitions).to.deep.equal([{ days: 90, storageClass: "GLACIER_IR" }]);
    expect(rules[0].noncurrentVersionTransitions).to.deep.equal([{ noncurrentDays: 90, storageClass: "GLACIER_IR" }]);
    expect(rules[0]).to.not.have.property("expiration");
    expect(rules[0]).to.not.have.property("noncurrentVersionExpiration");
  });

  it("logs server access to a separate bucket without default retention, accepting logs only from the evidence bucket", async () => {
    const run = await bucket();
    const logging = one(run, T.logging);
    expect(logging.inputs).to.include({ bucket: "flz-evidence-test", targetBucket: "flz-evidence-test-logs" });
    const logBucket = one(run, T.bucket, "access-logs");
    expect(logBucket.inputs.objectLockEnabled).to.not.equal(true);
    expect(allOf(run, T.lock).map((l) => l.inputs.bucket)).to.deep.equal(["flz-evidence-test"]);
    // S3 log delivery cannot write into SSE-KMS buckets.
    const logSse = allOf(run, T.sse).find((r) => r.inputs.bucket === "flz-evidence-test-logs");
    expect(logSse?.inputs.rules).to.deep.equal([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
    const logPolicy = allOf(run, T.policy).find((p) => p.inputs.bucket === "flz-evidence-test-logs")!;
    const delivery = statements(logPolicy).find((s) => s.Effect === "Allow")!;
    expect(delivery.Principal).to.deep.equal({ Service: "logging.s3.amazonaws.com" });
    expect(JSON.stringify(delivery.Condition)).to.include("arn:aws:s3:::flz-evidence-test").and.include("222222222222");
  });

  it("places every child in the account and region of the provider it was given, parented to the component", async () => {
    const run = await bucket();
    const children = run.resources.filter((r) => r.type.startsWith("aws:s3/"));
    expect(children).to.have.length(15);
    for (const child of children) {
      expect(placementOf(run, child), child.name).to.deep.equal({ account: "222222222222", region: "eu-west-1" });
      expect(parentOf(run, child)?.type, child.name).to.equal("flz:storage:EvidenceBucket");
    }
  });
});
