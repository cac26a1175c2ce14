import {
  kmsGrantRestricted,
  kmsKeyPolicyNoCrossAccountControl,
  kmsKeyPolicyNotPublic,
} from "../../policies/kms-access";
import { doc, expectNotApplicable, expectPass, expectViolation, provider, res } from "./helpers";

const forensic = provider("us-east-1", "222222222222");
const KEY = "aws:kms/key:Key";
const ROOT = {
  Sid: "Root",
  Effect: "Allow",
  Principal: { AWS: "arn:aws:iam::222222222222:root" },
  Action: "kms:*",
  Resource: "*",
};
const key = (policy: string, withProvider = true) => [
  ...(withProvider ? [forensic] : []),
  res(KEY, "data", { enableKeyRotation: true, policy }, withProvider ? { provider: forensic } : {}),
];

describe("policies/kms-access", () => {
  describe("kms-key-policy-not-public with wildcard conditions", () => {
    const open = (condition: Record<string, unknown>) =>
      key(
        doc(ROOT, {
          Sid: "Use",
          Effect: "Allow",
          Principal: "*",
          Action: "kms:Decrypt",
          Resource: "*",
          Condition: condition,
        }),
      );
    it("fails a decrypt to * pinned only by a wildcard (StringLike aws:PrincipalArn arn:aws:iam::*:*)", () =>
      expectViolation(kmsKeyPolicyNotPublic, open({ StringLike: { "aws:PrincipalArn": "arn:aws:iam::*:*" } }), /Use/));
    it("fails kms:CallerAccount as a wildcard", () =>
      expectViolation(kmsKeyPolicyNotPublic, open({ StringLike: { "kms:CallerAccount": "*" } }), /Use/));
    it("passes a narrow kms:ViaService pattern and a literal organisation", async () => {
      await expectPass(kmsKeyPolicyNotPublic, open({ StringLike: { "kms:ViaService": "ec2.*.amazonaws.com" } }));
      await expectPass(kmsKeyPolicyNotPublic, open({ StringEquals: { "aws:PrincipalOrgID": "o-abc123" } }));
    });
  });

  describe("kms-key-policy-no-cross-account-control", () => {
    it("fails kms:* granted to another account", () =>
      expectViolation(
        kmsKeyPolicyNoCrossAccountControl,
        key(
          doc(ROOT, {
            Sid: "Partner",
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::444444444444:root" },
            Action: "kms:*",
            Resource: "*",
          }),
        ),
        /account 444444444444 kms:\* \(statement Partner\)/,
      ));
    it("fails key administration (PutKeyPolicy, ScheduleKeyDeletion) granted to another account's role", () =>
      expectViolation(
        kmsKeyPolicyNoCrossAccountControl,
        key(
          doc(ROOT, {
            Sid: "Ops",
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::444444444444:role/ops" },
            Action: ["kms:PutKeyPolicy"],
            Resource: "*",
          }),
        ),
        /kms:PutKeyPolicy/,
      ));
    it("fails control split across two accounts when the provider does not say whose key it is", () =>
      expectViolation(
        kmsKeyPolicyNoCrossAccountControl,
        key(
          doc(ROOT, {
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::444444444444:root" },
            Action: "kms:*",
            Resource: "*",
          }),
          false,
        ),
        /account/,
      ));
    it("passes use granted to another account, and CreateGrant limited to AWS services", () =>
      expectPass(
        kmsKeyPolicyNoCrossAccountControl,
        key(
          doc(
            ROOT,
            {
              Sid: "Use",
              Effect: "Allow",
              Principal: { AWS: "arn:aws:iam::444444444444:role/app" },
              Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
              Resource: "*",
            },
            {
              Sid: "Grants",
              Effect: "Allow",
              Principal: { AWS: "arn:aws:iam::444444444444:role/app" },
              Action: "kms:CreateGrant",
              Resource: "*",
              Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
            },
          ),
        ),
      ));
    it("passes another account listed in trustedAccountIds", () =>
      expectPass(
        kmsKeyPolicyNoCrossAccountControl,
        key(
          doc(ROOT, {
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::444444444444:root" },
            Action: "kms:*",
            Resource: "*",
          }),
        ),
        { "kms-key-policy-no-cross-account-control": { trustedAccountIds: ["444444444444"] } },
      ));
  });

  describe("kms-grant-restricted", () => {
    const grant = (inputs: Record<string, unknown>) => [
      res("aws:kms/grant:Grant", "g", {
        keyId: "k",
        granteePrincipal: "arn:aws:iam::222222222222:role/app",
        operations: ["Decrypt"],
        ...inputs,
      }),
    ];
    it("passes a grant of Decrypt to a named role", () => expectPass(kmsGrantRestricted, grant({})));
    it("fails a grant that allows CreateGrant", () =>
      expectViolation(kmsGrantRestricted, grant({ operations: ["Decrypt", "CreateGrant"] }), /CreateGrant/));
    it("fails a grant to a whole account", () =>
      expectViolation(
        kmsGrantRestricted,
        grant({ granteePrincipal: "arn:aws:iam::444444444444:root" }),
        /whole account/,
      ));
    it("skips other resources", () => expectNotApplicable(kmsGrantRestricted, key(doc(ROOT))));
  });
});
