import { expect } from "chai";
import {
  DocumentInputError,
  accessLogBucketPolicy,
  evidenceBucketPolicy,
  trailBucketPolicy,
} from "../../../components/documents";
import {
  ACCESS_LOG_BUCKET_ARN,
  EVIDENCE_BUCKET_ARN,
  FORENSIC,
  MANAGEMENT,
  MEMBER,
  ORG,
  OTHER_ORG,
  TRAIL_ARN,
  TRAIL_BUCKET_ARN,
  anonymous,
  decide,
  outsider,
  role,
  service,
  type Target,
  forensicResponder,
  forensicInvestigator,
  PROTECTION,
} from "./simulate";

const trailBucket = (key = ""): Target => ({
  resource: key === "" ? TRAIL_BUCKET_ARN : `${TRAIL_BUCKET_ARN}/${key}`,
  account: FORENSIC,
  policy: trailBucketPolicy({
    bucketArn: TRAIL_BUCKET_ARN,
    organizationId: ORG,
    managementAccountId: MANAGEMENT,
    trailArn: TRAIL_ARN,
    protection: PROTECTION,
  }),
});
const evidence = (key = "cases/IR-1/ledger/000001.json"): Target => ({
  resource: `${EVIDENCE_BUCKET_ARN}/${key}`,
  account: FORENSIC,
  policy: evidenceBucketPolicy({ bucketArn: EVIDENCE_BUCKET_ARN, organizationId: ORG, protection: PROTECTION }),
});
const accessLogs = (): Target => ({
  resource: `${ACCESS_LOG_BUCKET_ARN}/logs/2024-05-01-10-00-00-ABC`,
  account: FORENSIC,
  policy: accessLogBucketPolicy({
    bucketArn: ACCESS_LOG_BUCKET_ARN,
    sourceBucketArns: [EVIDENCE_BUCKET_ARN, TRAIL_BUCKET_ARN],
    sourceAccountId: FORENSIC,
  }),
});

/** CloudTrail delivering for `trailArn`, with the ACL header unless told otherwise. */
const cloudTrail = (trailArn = TRAIL_ARN) =>
  service("cloudtrail.amazonaws.com", { "aws:SourceArn": trailArn, "aws:SourceAccount": MANAGEMENT });
const withAcl = { context: { "s3:x-amz-acl": "bucket-owner-full-control" } };
const orgLogKey = `AWSLogs/${ORG}/${MEMBER}/CloudTrail/us-east-1/2024/05/01/log.json.gz`;
const managementLogKey = `AWSLogs/${MANAGEMENT}/CloudTrail/us-east-1/2024/05/01/log.json.gz`;

describe("documents/bucket: trail bucket policy", () => {
  it("lets CloudTrail write this trail's organisation logs with bucket-owner-full-control", async () => {
    expect(await decide(cloudTrail(), "s3:PutObject", trailBucket(orgLogKey), withAcl)).to.equal("Allowed");
  });
  it("lets CloudTrail write this trail's management-account logs", async () => {
    expect(await decide(cloudTrail(), "s3:PutObject", trailBucket(managementLogKey), withAcl)).to.equal("Allowed");
  });
  it("refuses CloudTrail writing for another trail (confused deputy)", async () => {
    const foreignTrail = "arn:aws:cloudtrail:us-east-1:999999999999:trail/foreign";
    expect(await decide(cloudTrail(foreignTrail), "s3:PutObject", trailBucket(orgLogKey), withAcl)).to.not.equal(
      "Allowed",
    );
  });
  it("refuses CloudTrail writing outside the two AWSLogs prefixes", async () => {
    expect(
      await decide(cloudTrail(), "s3:PutObject", trailBucket(`AWSLogs/${MEMBER}/CloudTrail/x.json.gz`), withAcl),
    ).to.not.equal("Allowed");
    expect(await decide(cloudTrail(), "s3:PutObject", trailBucket("evil/overwrite.json.gz"), withAcl)).to.not.equal(
      "Allowed",
    );
  });
  it("refuses CloudTrail writing without the bucket-owner-full-control ACL", async () => {
    expect(await decide(cloudTrail(), "s3:PutObject", trailBucket(orgLogKey))).to.not.equal("Allowed");
    expect(
      await decide(cloudTrail(), "s3:PutObject", trailBucket(orgLogKey), { context: { "s3:x-amz-acl": "private" } }),
    ).to.not.equal("Allowed");
  });
  it("lets CloudTrail check the bucket ACL only for this trail", async () => {
    expect(await decide(cloudTrail(), "s3:GetBucketAcl", trailBucket())).to.equal("Allowed");
    expect(
      await decide(cloudTrail("arn:aws:cloudtrail:us-east-1:999999999999:trail/x"), "s3:GetBucketAcl", trailBucket()),
    ).to.not.equal("Allowed");
  });
  it("refuses CloudTrail reading or deleting logs", async () => {
    expect(await decide(cloudTrail(), "s3:GetObject", trailBucket(orgLogKey))).to.not.equal("Allowed");
    expect(await decide(cloudTrail(), "s3:DeleteObject", trailBucket(orgLogKey))).to.not.equal("Allowed");
  });
  it("lets the forensic investigator read trail logs, over TLS only", async () => {
    expect(await decide(forensicInvestigator(), "s3:GetObject", trailBucket(orgLogKey))).to.equal("Allowed");
    expect(await decide(forensicInvestigator(), "s3:GetObject", trailBucket(orgLogKey), { tls: false })).to.equal(
      "ExplicitlyDenied",
    );
  });
  it("refuses an outsider administrator reading trail logs", async () => {
    expect(await decide(outsider(), "s3:GetObject", trailBucket(orgLogKey))).to.equal("ExplicitlyDenied");
  });
});

describe("documents/bucket: evidence bucket policy", () => {
  it("lets the forensic responder write and read evidence over TLS", async () => {
    expect(await decide(forensicResponder(), "s3:PutObject", evidence())).to.equal("Allowed");
    expect(await decide(forensicResponder(), "s3:GetObject", evidence())).to.equal("Allowed");
  });
  it("denies plain-HTTP requests, even from the forensic responder", async () => {
    expect(await decide(forensicResponder(), "s3:GetObject", evidence(), { tls: false })).to.equal("ExplicitlyDenied");
    expect(await decide(forensicResponder(), "s3:PutObject", evidence(), { tls: false })).to.equal("ExplicitlyDenied");
  });
  it("denies principals outside the organisation, whatever their own policy says", async () => {
    expect(await decide(outsider(), "s3:GetObject", evidence())).to.equal("ExplicitlyDenied");
    expect(await decide(outsider(), "s3:ListBucket", { ...evidence(), resource: EVIDENCE_BUCKET_ARN })).to.equal(
      "ExplicitlyDenied",
    );
    expect(await decide(outsider(), "s3:PutObject", evidence())).to.equal("ExplicitlyDenied");
  });
  it("denies a principal of an account that belongs to no organisation", async () => {
    expect(await decide(role("999999999999", "Admin", null), "s3:GetObject", evidence())).to.equal("ExplicitlyDenied");
  });
  it("denies a principal of another organisation that names our bucket", async () => {
    expect(await decide(role("999999999999", "Admin", OTHER_ORG), "s3:GetObject", evidence())).to.equal(
      "ExplicitlyDenied",
    );
  });
  it("denies anonymous reads", async () => {
    expect(await decide(anonymous(), "s3:GetObject", evidence())).to.not.equal("Allowed");
  });
  it("does not let the forensic responder delete evidence or change the bucket policy", async () => {
    expect(await decide(forensicResponder(), "s3:DeleteObject", evidence())).to.equal("ExplicitlyDenied");
    expect(await decide(forensicResponder(), "s3:DeleteObjectVersion", evidence())).to.equal("ExplicitlyDenied");
    expect(
      await decide(forensicResponder(), "s3:PutBucketPolicy", { ...evidence(), resource: EVIDENCE_BUCKET_ARN }),
    ).to.equal("ExplicitlyDenied");
    expect(await decide(forensicResponder(), "s3:BypassGovernanceRetention", evidence())).to.equal("ExplicitlyDenied");
  });
  it("lets the forensic investigator read evidence but not write it", async () => {
    expect(await decide(forensicInvestigator(), "s3:GetObject", evidence())).to.equal("Allowed");
    expect(await decide(forensicInvestigator(), "s3:PutObject", evidence())).to.not.equal("Allowed");
  });
});

describe("documents/bucket: access-log bucket policy", () => {
  const delivery = (sourceBucket: string, sourceAccount: string) =>
    service("logging.s3.amazonaws.com", { "aws:SourceArn": sourceBucket, "aws:SourceAccount": sourceAccount });
  it("lets S3 log delivery write logs of the named source buckets", async () => {
    expect(await decide(delivery(EVIDENCE_BUCKET_ARN, FORENSIC), "s3:PutObject", accessLogs())).to.equal("Allowed");
    expect(await decide(delivery(TRAIL_BUCKET_ARN, FORENSIC), "s3:PutObject", accessLogs())).to.equal("Allowed");
  });
  it("refuses log delivery for another bucket or another account", async () => {
    expect(
      await decide(delivery("arn:aws:s3:::someone-elses-bucket", FORENSIC), "s3:PutObject", accessLogs()),
    ).to.not.equal("Allowed");
    expect(await decide(delivery(EVIDENCE_BUCKET_ARN, "999999999999"), "s3:PutObject", accessLogs())).to.not.equal(
      "Allowed",
    );
  });
  it("denies plain-HTTP requests", async () => {
    expect(
      await decide(delivery(EVIDENCE_BUCKET_ARN, FORENSIC), "s3:PutObject", accessLogs(), { tls: false }),
    ).to.equal("ExplicitlyDenied");
  });
  it("denies outsiders when an organisation is given", async () => {
    const target = {
      ...accessLogs(),
      policy: accessLogBucketPolicy({
        bucketArn: ACCESS_LOG_BUCKET_ARN,
        sourceBucketArns: [EVIDENCE_BUCKET_ARN],
        sourceAccountId: FORENSIC,
        organizationId: ORG,
      }),
    };
    expect(await decide(outsider(), "s3:GetObject", target)).to.equal("ExplicitlyDenied");
    expect(await decide(delivery(EVIDENCE_BUCKET_ARN, FORENSIC), "s3:PutObject", target)).to.equal("Allowed");
  });
});

describe("documents/bucket: input checks", () => {
  it("names a malformed organisation ID and what would be valid", () => {
    expect(() =>
      evidenceBucketPolicy({ bucketArn: EVIDENCE_BUCKET_ARN, organizationId: "org-1", protection: PROTECTION }),
    ).to.throw(DocumentInputError, /organizationId: "org-1" is not an organisation ID \(o- followed by/);
  });
  it("refuses a bucket name where a bucket ARN is expected", () => {
    expect(() =>
      evidenceBucketPolicy({ bucketArn: "flz-evidence", organizationId: ORG, protection: PROTECTION }),
    ).to.throw(DocumentInputError, /bucketArn: "flz-evidence" is not an ARN of s3/);
  });
  it("refuses an access-log policy without source buckets (it would grant nothing or fail at deploy)", () => {
    expect(() =>
      accessLogBucketPolicy({ bucketArn: ACCESS_LOG_BUCKET_ARN, sourceBucketArns: [], sourceAccountId: FORENSIC }),
    ).to.throw(DocumentInputError, /sourceBucketArns: the list is empty/);
  });
  it("refuses a trail ARN of another service", () => {
    expect(() =>
      trailBucketPolicy({
        bucketArn: TRAIL_BUCKET_ARN,
        organizationId: ORG,
        managementAccountId: MANAGEMENT,
        trailArn: TRAIL_BUCKET_ARN,
        protection: PROTECTION,
      }),
    ).to.throw(DocumentInputError, /trailArn/);
  });
});
