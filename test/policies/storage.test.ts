import type { RecordedResource } from "../../scripts/plan/mock-engine";
import {
  forensicBucketKmsEncryption,
  forensicBucketObjectLock,
  forensicBucketPublicAccessBlock,
  forensicBucketTlsOnly,
  forensicBucketVersioning,
  s3NoPublicAcl,
  s3NoPublicPolicy,
} from "../../policies/storage";
import { doc, expectNotApplicable, expectPass, expectViolation, provider, res } from "./helpers";

const forensic = provider("us-east-1", "222222222222");
const S3 = "aws:s3";

const TLS_DENY = {
  Sid: "DenyInsecureTransport",
  Effect: "Deny",
  Principal: "*",
  Action: "s3:*",
  Resource: ["arn:aws:s3:::evidence", "arn:aws:s3:::evidence/*"],
  Condition: { Bool: { "aws:SecureTransport": "false" } },
};
const ORG_READ = {
  Sid: "OrgRead",
  Effect: "Allow",
  Principal: "*",
  Action: "s3:GetObject",
  Resource: "arn:aws:s3:::evidence/*",
  Condition: { StringEquals: { "aws:PrincipalOrgID": "o-exampleorg1" } },
};

interface BucketChanges {
  bucket?: Record<string, unknown>;
  lock?: Record<string, unknown> | null;
  versioning?: Record<string, unknown> | null;
  encryption?: Record<string, unknown> | null;
  publicAccessBlock?: Record<string, unknown> | null;
  policy?: unknown;
  lockToken?: string;
}

/** A compliant evidence bucket with its sub-resources (explicit provider); each change replaces or drops one part. */
function evidenceBucket(changes: BucketChanges = {}): RecordedResource[] {
  const bucket = res(
    `${S3}/bucket:Bucket`,
    "evidence",
    { bucket: "evidence", objectLockEnabled: true, tags: { "flz:purpose": "evidence" }, ...changes.bucket },
    { provider: forensic },
  );
  const parts: RecordedResource[] = [forensic, bucket];
  const add = (
    token: string,
    name: string,
    inputs: Record<string, unknown> | null | undefined,
    defaults: Record<string, unknown>,
  ): void => {
    if (inputs === null) return;
    parts.push(res(token, name, { bucket: bucket.id, ...defaults, ...inputs }, { provider: forensic }));
  };
  add(
    changes.lockToken ?? `${S3}/bucketObjectLockConfiguration:BucketObjectLockConfiguration`,
    "evidence-lock",
    changes.lock,
    { rule: { defaultRetention: { mode: "COMPLIANCE", days: 365 } } },
  );
  add(`${S3}/bucketVersioning:BucketVersioning`, "evidence-versioning", changes.versioning, {
    versioningConfiguration: { status: "Enabled" },
  });
  add(
    `${S3}/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration`,
    "evidence-sse",
    changes.encryption,
    {
      rules: [
        {
          applyServerSideEncryptionByDefault: {
            sseAlgorithm: "aws:kms",
            kmsMasterKeyId: "arn:aws:kms:us-east-1:222222222222:key/evidence",
          },
          bucketKeyEnabled: true,
        },
      ],
    },
  );
  add(`${S3}/bucketPublicAccessBlock:BucketPublicAccessBlock`, "evidence-pab", changes.publicAccessBlock, {
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  });
  if (changes.policy !== null)
    parts.push(
      res(
        `${S3}/bucketPolicy:BucketPolicy`,
        "evidence-policy",
        { bucket: bucket.id, policy: changes.policy ?? doc(TLS_DENY, ORG_READ) },
        { provider: forensic },
      ),
    );
  return parts;
}

/** The same bucket untagged but receiving a trail (the other way a bucket becomes protected). */
function trailBucket(changes: BucketChanges = {}): RecordedResource[] {
  const parts = evidenceBucket({ ...changes, bucket: { tags: {}, ...changes.bucket } });
  parts.push(
    res(
      "aws:cloudtrail/trail:Trail",
      "org-trail",
      { s3BucketName: "evidence", isMultiRegionTrail: true },
      { provider: forensic },
    ),
  );
  return parts;
}

describe("policies/storage", () => {
  it("forensic bucket rules do not apply to a program without trail-log or evidence buckets", async () => {
    const plain = [forensic, res(`${S3}/bucket:Bucket`, "website", { bucket: "website" }, { provider: forensic })];
    for (const rule of [
      forensicBucketObjectLock,
      forensicBucketVersioning,
      forensicBucketKmsEncryption,
      forensicBucketPublicAccessBlock,
      forensicBucketTlsOnly,
    ]) {
      await expectNotApplicable(rule, plain);
    }
  });

  describe("forensic-bucket-object-lock", () => {
    it("passes an evidence bucket locked in COMPLIANCE mode for a year", () =>
      expectPass(forensicBucketObjectLock, evidenceBucket()));
    it("passes a trail target locked through the deprecated V2 lock token", () =>
      expectPass(
        forensicBucketObjectLock,
        trailBucket({ lockToken: `${S3}/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2` }),
      ));
    it("counts years of retention", () =>
      expectPass(
        forensicBucketObjectLock,
        evidenceBucket({ lock: { rule: { defaultRetention: { mode: "COMPLIANCE", years: 1 } } } }),
      ));
    it("fails GOVERNANCE mode", () =>
      expectViolation(
        forensicBucketObjectLock,
        evidenceBucket({ lock: { rule: { defaultRetention: { mode: "GOVERNANCE", days: 365 } } } }),
        /GOVERNANCE/,
      ));
    it("fails a retention shorter than configured", () =>
      expectViolation(
        forensicBucketObjectLock,
        evidenceBucket({ lock: { rule: { defaultRetention: { mode: "COMPLIANCE", days: 1 } } } }),
        /1 days/,
      ));
    it("applies the configured minimum retention", () =>
      expectViolation(forensicBucketObjectLock, evidenceBucket(), /at least 730/, {
        "forensic-bucket-object-lock": { minRetentionDays: 730 },
      }));
    it("fails a bucket without Object Lock enabled", () =>
      expectViolation(
        forensicBucketObjectLock,
        evidenceBucket({ bucket: { objectLockEnabled: false } }),
        /not enabled/,
      ));
    it("fails a locked bucket without a default retention", () =>
      expectViolation(forensicBucketObjectLock, trailBucket({ lock: null }), /no Object Lock configuration/));
    it("joins the lock configuration by bucket, not by order: another bucket's lock does not count", async () => {
      const parts = evidenceBucket({ lock: null });
      parts.push(
        res(
          `${S3}/bucketObjectLockConfiguration:BucketObjectLockConfiguration`,
          "other-lock",
          { bucket: "other", rule: { defaultRetention: { mode: "COMPLIANCE", days: 365 } } },
          { provider: forensic },
        ),
      );
      await expectViolation(forensicBucketObjectLock, parts, /no Object Lock configuration/);
    });
  });

  describe("forensic-bucket-versioning", () => {
    it("passes a versioned bucket", () => expectPass(forensicBucketVersioning, evidenceBucket()));
    it("fails suspended versioning", () =>
      expectViolation(
        forensicBucketVersioning,
        evidenceBucket({ versioning: { versioningConfiguration: { status: "Suspended" } } }),
        /Suspended/,
      ));
    it("fails an unversioned bucket without Object Lock", () =>
      expectViolation(
        forensicBucketVersioning,
        trailBucket({ versioning: null, bucket: { objectLockEnabled: false } }),
        /not enabled/,
      ));
  });

  describe("forensic-bucket-kms-encryption", () => {
    it("passes SSE-KMS with a customer key", () => expectPass(forensicBucketKmsEncryption, evidenceBucket()));
    it("fails SSE-S3", () =>
      expectViolation(
        forensicBucketKmsEncryption,
        evidenceBucket({ encryption: { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] } }),
        /AES256/,
      ));
    it("fails SSE-KMS with the AWS-managed key", () =>
      expectViolation(
        forensicBucketKmsEncryption,
        evidenceBucket({
          encryption: { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }] },
        }),
        /aws\/s3/,
      ));
    it("fails a bucket without default encryption", () =>
      expectViolation(forensicBucketKmsEncryption, evidenceBucket({ encryption: null }), /no default encryption/));
  });

  describe("forensic-bucket-public-access-block", () => {
    it("passes all four flags", () => expectPass(forensicBucketPublicAccessBlock, evidenceBucket()));
    it("fails one flag off", () =>
      expectViolation(
        forensicBucketPublicAccessBlock,
        evidenceBucket({ publicAccessBlock: { restrictPublicBuckets: false } }),
        /restrictPublicBuckets/,
      ));
    it("fails a missing block", () =>
      expectViolation(
        forensicBucketPublicAccessBlock,
        evidenceBucket({ publicAccessBlock: null }),
        /no public-access block/,
      ));
  });

  describe("forensic-bucket-tls-only", () => {
    it("passes a policy denying insecure transport", () => expectPass(forensicBucketTlsOnly, evidenceBucket()));
    it("accepts the policy as an object too", () =>
      expectPass(forensicBucketTlsOnly, evidenceBucket({ policy: { Version: "2012-10-17", Statement: [TLS_DENY] } })));
    it("fails a policy without the TLS deny", () =>
      expectViolation(
        forensicBucketTlsOnly,
        evidenceBucket({ policy: doc(ORG_READ) }),
        /does not deny requests without TLS/,
      ));
    it("fails a bucket without a policy", () =>
      expectViolation(forensicBucketTlsOnly, evidenceBucket({ policy: null }), /no bucket policy/));
  });

  describe("s3-no-public-acl", () => {
    it("passes private buckets and ACLs", () =>
      expectPass(s3NoPublicAcl, [
        forensic,
        res(`${S3}/bucketAcl:BucketAcl`, "acl", { bucket: "x", acl: "private" }, { provider: forensic }),
      ]));
    it("fails a public-read ACL resource (and its deprecated V2 token)", async () => {
      await expectViolation(
        s3NoPublicAcl,
        [
          forensic,
          res(`${S3}/bucketAcl:BucketAcl`, "acl", { bucket: "x", acl: "public-read" }, { provider: forensic }),
        ],
        /public-read/,
      );
      await expectViolation(
        s3NoPublicAcl,
        [
          forensic,
          res(
            `${S3}/bucketAclV2:BucketAclV2`,
            "acl",
            { bucket: "x", acl: "public-read-write" },
            { provider: forensic },
          ),
        ],
        /public-read-write/,
      );
    });
    it("fails a grant to AllUsers", () =>
      expectViolation(
        s3NoPublicAcl,
        [
          forensic,
          res(
            `${S3}/bucketAcl:BucketAcl`,
            "acl",
            {
              bucket: "x",
              accessControlPolicy: {
                owner: { id: "o" },
                grants: [
                  {
                    permission: "READ",
                    grantee: { type: "Group", uri: "http://acs.amazonaws.com/groups/global/AllUsers" },
                  },
                ],
              },
            },
            { provider: forensic },
          ),
        ],
        /AllUsers/,
      ));
    it("skips other resource types", () =>
      expectNotApplicable(s3NoPublicAcl, [forensic, res("aws:kms/key:Key", "k", {}, { provider: forensic })]));
  });

  describe("s3-no-public-policy", () => {
    it("passes Principal * restricted to the organisation", () => expectPass(s3NoPublicPolicy, evidenceBucket()));
    it("fails Principal * without a restricting condition", () =>
      expectViolation(
        s3NoPublicPolicy,
        evidenceBucket({
          policy: doc(TLS_DENY, {
            Sid: "Public",
            Effect: "Allow",
            Principal: { AWS: "*" },
            Action: "s3:GetObject",
            Resource: "*",
          }),
        }),
        /Public/,
      ));
    it("does not count a TLS-only condition as a restriction", () =>
      expectViolation(
        s3NoPublicPolicy,
        evidenceBucket({
          policy: doc({
            Sid: "TlsOnly",
            Effect: "Allow",
            Principal: "*",
            Action: "s3:GetObject",
            Resource: "*",
            Condition: { Bool: { "aws:SecureTransport": "true" } },
          }),
        }),
        /TlsOnly/,
      ));
    it("does not count an IfExists condition as a restriction", () =>
      expectViolation(
        s3NoPublicPolicy,
        evidenceBucket({
          policy: doc({
            Sid: "IfExists",
            Effect: "Allow",
            Principal: "*",
            Action: "s3:GetObject",
            Resource: "*",
            Condition: { StringEqualsIfExists: { "aws:PrincipalOrgID": "o-1" } },
          }),
        }),
        /IfExists/,
      ));
    it("fails closed on an unreadable policy", () =>
      expectViolation(s3NoPublicPolicy, evidenceBucket({ policy: "{not json" }), /not a readable/));
  });
});
