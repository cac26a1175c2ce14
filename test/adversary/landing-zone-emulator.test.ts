/**
 * The rollback attack played with plain S3 calls against the emulator, as a forensic-account administrator: a
 * `DeleteObject` without a version ID leaves the COMPLIANCE-locked record in place but puts a delete marker over it,
 * so every reader that lists current objects sees a shorter chain. Then the same call against the bucket carrying the
 * deletion statement the stack generates (`FlzDenyEvidenceDeletion`), which the emulator enforces.
 *
 * The emulator evaluates bucket-policy statements without any request context (no principal, no condition keys:
 * README, emulator notes), so only the landing zone's unconditional statement can be attached here; the conditional
 * ones (TLS, organisation, conditional writes, writers) are decided by the IAM evaluator in landing-zone.test.ts.
 */
import { expect } from "chai";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { useEmulator } from "../support/emulator";
import { deployedDocuments, EVIDENCE_BUCKET } from "./landing-zone-documents";

const RECORD = "cases/IR-2026-001/custody/000000000000.json";

describe("adversary (emulator): delete markers over custody records", function () {
  this.timeout(120_000);
  useEmulator();
  let s3: S3Client;

  beforeEach(async () => {
    s3 = new S3Client({ region: "us-east-1", forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: EVIDENCE_BUCKET, ObjectLockEnabledForBucket: true }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: EVIDENCE_BUCKET, VersioningConfiguration: { Status: "Enabled" } }),
    );
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: EVIDENCE_BUCKET,
        ObjectLockConfiguration: {
          ObjectLockEnabled: "Enabled",
          Rule: { DefaultRetention: { Mode: "COMPLIANCE", Days: 1 } },
        },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: RECORD, Body: '{"seq":0}', IfNoneMatch: "*" }));
  });
  afterEach(() => s3.destroy());

  const listed = async (): Promise<string[]> =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET }))).Contents ?? []).map((o) => o.Key ?? "");

  it("without the landing zone's statement, a DeleteObject hides a locked record behind a delete marker (the attack is real)", async () => {
    await s3.send(new DeleteObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: RECORD }));
    expect(await listed()).to.deep.equal([]);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: EVIDENCE_BUCKET }));
    // The locked version is still there, hidden: only a reader of every version sees it.
    expect(versions.Versions?.map((v) => v.Key)).to.deep.equal([RECORD]);
    expect(versions.DeleteMarkers?.map((m) => m.Key)).to.deep.equal([RECORD]);
  });

  it("with the generated deletion statement on the bucket, the same call is refused and the record stays listed", async () => {
    const docs = await deployedDocuments();
    const deletion = docs.evidenceBucketPolicy.Statement.find((s) => s.Sid === "FlzDenyEvidenceDeletion");
    expect(deletion, "the evidence bucket policy carries FlzDenyEvidenceDeletion").to.not.equal(undefined);
    expect(deletion?.Condition, "unconditional, so the emulator can enforce it").to.equal(undefined);
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: EVIDENCE_BUCKET,
        Policy: JSON.stringify({ Version: "2012-10-17", Statement: [deletion] }),
      }),
    );
    const refused = await s3.send(new DeleteObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: RECORD })).then(
      () => undefined,
      (error: { $metadata?: { httpStatusCode?: number } }) => error,
    );
    expect(refused?.$metadata?.httpStatusCode).to.equal(403);
    expect(await listed()).to.deep.equal([RECORD]);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: EVIDENCE_BUCKET }));
    expect(versions.DeleteMarkers ?? []).to.deep.equal([]);
  });
});
