import type { RecordedResource } from "../../scripts/plan/mock-engine";
import { kmsCustodySigningKey, kmsForensicKeyDeletionWindow, kmsSymmetricKeyRotation } from "../../policies/kms";
import { kmsKeyPolicyNotPublic } from "../../policies/kms-access";
import { doc, expectNotApplicable, expectPass, expectViolation, provider, res } from "./helpers";

const forensic = provider("us-east-1", "222222222222");
const replicaRegion = provider("eu-west-1", "222222222222");
const KEY = "aws:kms/key:Key";
const ROOT = {
  Sid: "Root",
  Effect: "Allow",
  Principal: { AWS: "arn:aws:iam::222222222222:root" },
  Action: "kms:*",
  Resource: "*",
};

/** A compliant evidence key with a replica, plus a custody signing key. */
function keys(
  changes: {
    evidence?: Record<string, unknown>;
    signing?: Record<string, unknown>;
    replica?: Record<string, unknown>;
  } = {},
): RecordedResource[] {
  const evidence = res(
    KEY,
    "evidence-key",
    {
      enableKeyRotation: true,
      multiRegion: true,
      deletionWindowInDays: 30,
      policy: doc(ROOT),
      tags: { "flz:purpose": "evidence-key" },
      ...changes.evidence,
    },
    { provider: forensic },
  );
  return [
    forensic,
    replicaRegion,
    evidence,
    res(
      "aws:kms/replicaKey:ReplicaKey",
      "evidence-key-eu",
      { primaryKeyArn: evidence.id, deletionWindowInDays: 30, policy: doc(ROOT), ...changes.replica },
      { provider: replicaRegion },
    ),
    res(
      KEY,
      "signing-key",
      {
        customerMasterKeySpec: "ECC_NIST_P256",
        keyUsage: "SIGN_VERIFY",
        deletionWindowInDays: 30,
        policy: doc(ROOT),
        tags: { "flz:purpose": "custody-signing" },
        ...changes.signing,
      },
      { provider: forensic },
    ),
  ];
}

describe("policies/kms", () => {
  describe("kms-symmetric-key-rotation", () => {
    it("passes a rotating symmetric key and ignores the asymmetric signing key", () =>
      expectPass(kmsSymmetricKeyRotation, keys()));
    it("fails a symmetric key without rotation", () =>
      expectViolation(kmsSymmetricKeyRotation, keys({ evidence: { enableKeyRotation: false } }), /enableKeyRotation/));
    it("skips asymmetric keys and other types", () =>
      expectNotApplicable(
        kmsSymmetricKeyRotation,
        keys().filter((r) => r.name !== "evidence-key"),
      ));
  });

  describe("kms-forensic-key-deletion-window", () => {
    it("passes forensic keys with the 30-day window (explicit or default)", async () => {
      await expectPass(kmsForensicKeyDeletionWindow, keys());
      await expectPass(kmsForensicKeyDeletionWindow, keys({ evidence: { deletionWindowInDays: undefined } }));
    });
    it("fails a short window on the evidence key", () =>
      expectViolation(
        kmsForensicKeyDeletionWindow,
        keys({ evidence: { deletionWindowInDays: 7 } }),
        /evidence-key .*7-day/,
      ));
    it("fails a short window on a replica of the evidence key", () =>
      expectViolation(
        kmsForensicKeyDeletionWindow,
        keys({ replica: { deletionWindowInDays: 7 } }),
        /replica of evidence-key/,
      ));
    it("finds the trail key through the trail that uses it, untagged", async () => {
      const trailKey = res(
        KEY,
        "trail-key",
        { enableKeyRotation: true, deletionWindowInDays: 10 },
        { provider: forensic, id: "arn:aws:kms:us-east-1:222222222222:key/trail" },
      );
      await expectViolation(
        kmsForensicKeyDeletionWindow,
        [
          forensic,
          trailKey,
          res(
            "aws:cloudtrail/trail:Trail",
            "t",
            { kmsKeyId: "arn:aws:kms:us-east-1:222222222222:key/trail", s3BucketName: "b" },
            { provider: forensic },
          ),
        ],
        /encrypts a trail/,
      );
    });
    it("does not apply to a program whose keys protect nothing forensic", () =>
      expectNotApplicable(kmsForensicKeyDeletionWindow, [
        forensic,
        res(KEY, "app", { deletionWindowInDays: 7 }, { provider: forensic }),
      ]));
  });

  describe("kms-key-policy-not-public", () => {
    it("passes a policy for the account root", () => expectPass(kmsKeyPolicyNotPublic, keys()));
    it("fails kms:* to *", () =>
      expectViolation(
        kmsKeyPolicyNotPublic,
        keys({
          evidence: {
            policy: doc(ROOT, { Sid: "Everyone", Effect: "Allow", Principal: "*", Action: "kms:*", Resource: "*" }),
          },
        }),
        /kms:\*/,
      ));
    it("fails Decrypt to * without a condition", () =>
      expectViolation(
        kmsKeyPolicyNotPublic,
        keys({
          replica: {
            policy: doc({
              Sid: "Dec",
              Effect: "Allow",
              Principal: { AWS: "*" },
              Action: ["kms:Decrypt"],
              Resource: "*",
            }),
          },
        }),
        /kms:Decrypt/,
      ));
    it("passes Decrypt to * restricted to the organisation", () =>
      expectPass(
        kmsKeyPolicyNotPublic,
        keys({
          evidence: {
            policy: doc({
              Effect: "Allow",
              Principal: "*",
              Action: "kms:Decrypt",
              Resource: "*",
              Condition: { StringEquals: { "aws:PrincipalOrgID": "o-exampleorg1" } },
            }),
          },
        }),
      ));
    it("checks standalone KeyPolicy resources", () =>
      expectViolation(
        kmsKeyPolicyNotPublic,
        [
          forensic,
          res(
            "aws:kms/keyPolicy:KeyPolicy",
            "kp",
            { keyId: "k", policy: doc({ Effect: "Allow", Principal: "*", Action: "kms:*", Resource: "*" }) },
            { provider: forensic },
          ),
        ],
        /kms:\*/,
      ));
  });

  describe("kms-custody-signing-key", () => {
    it("passes an ECC P-256 SIGN_VERIFY signing key", () => expectPass(kmsCustodySigningKey, keys()));
    it("fails a symmetric signing key", () =>
      expectViolation(
        kmsCustodySigningKey,
        keys({ signing: { customerMasterKeySpec: "SYMMETRIC_DEFAULT", keyUsage: "ENCRYPT_DECRYPT" } }),
        /SIGN_VERIFY/,
      ));
    it("fails a key spec outside the configured list", async () => {
      await expectViolation(kmsCustodySigningKey, keys({ signing: { customerMasterKeySpec: "RSA_2048" } }), /RSA_2048/);
      await expectPass(kmsCustodySigningKey, keys({ signing: { customerMasterKeySpec: "RSA_2048" } }), {
        "kms-custody-signing-key": { allowedKeySpecs: ["ECC_NIST_P256", "RSA_2048"] },
      });
    });
    it("skips keys that are not tagged for custody signing", () =>
      expectNotApplicable(
        kmsCustodySigningKey,
        keys().filter((r) => r.name !== "signing-key"),
      ));
  });
});
