import type { RecordedResource } from "../../scripts/plan/mock-engine";
import {
  iamBreakGlassMfa,
  iamCrossAccountTrustConditioned,
  iamForensicRoleSessionDuration,
  iamTrustRestricted,
} from "../../policies/iam";
import { doc, expectNotApplicable, expectPass, expectViolation, provider, res } from "./helpers";

const forensic = provider("us-east-1", "222222222222");
const ROLE = "aws:iam/role:Role";
const FROM_RESPONDERS = {
  Sid: "Responders",
  Effect: "Allow",
  Principal: { AWS: "arn:aws:iam::222222222222:root" },
  Action: "sts:AssumeRole",
  Condition: { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::222222222222:role/responders-*" } },
};
const WITH_MFA = { ...FROM_RESPONDERS, Sid: "Mfa", Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } } };

/** A responder role and a break-glass role, as the landing zone builds them. */
function roles(
  changes: { responder?: Record<string, unknown>; breakGlass?: Record<string, unknown> } = {},
): RecordedResource[] {
  return [
    forensic,
    res(
      ROLE,
      "responder",
      {
        name: "flz-forensic-responder",
        tags: { "flz:purpose": "forensic-role" },
        assumeRolePolicy: doc(FROM_RESPONDERS),
        maxSessionDuration: 3600,
        ...changes.responder,
      },
      { provider: forensic },
    ),
    res(
      ROLE,
      "break-glass",
      {
        name: "flz-break-glass",
        tags: { "flz:purpose": "break-glass" },
        assumeRolePolicy: doc(WITH_MFA),
        maxSessionDuration: 3600,
        managedPolicyArns: ["arn:aws:iam::aws:policy/AdministratorAccess"],
        ...changes.breakGlass,
      },
      { provider: forensic },
    ),
  ];
}

/** A StackSet whose template declares a member role. */
function stackSet(trust: Record<string, unknown>): RecordedResource {
  const template = {
    Resources: {
      Responder: {
        Type: "AWS::IAM::Role",
        Properties: {
          RoleName: "flz-member-responder",
          AssumeRolePolicyDocument: JSON.parse(doc(trust)),
          MaxSessionDuration: 3600,
        },
      },
    },
  };
  return res("aws:cloudformation/stackSet:StackSet", "member-roles", {
    templateBody: JSON.stringify(template),
    permissionModel: "SERVICE_MANAGED",
  });
}

describe("policies/iam", () => {
  describe("iam-trust-restricted", () => {
    it("passes trust to named principals", () => expectPass(iamTrustRestricted, roles()));
    it("fails trust to *", () =>
      expectViolation(
        iamTrustRestricted,
        roles({
          responder: {
            assumeRolePolicy: doc({
              Sid: "Anyone",
              Effect: "Allow",
              Principal: { AWS: "*" },
              Action: "sts:AssumeRole",
            }),
          },
        }),
        /Anyone/,
      ));
    it("passes trust to * pinned to the organisation", () =>
      expectPass(
        iamTrustRestricted,
        roles({
          responder: {
            assumeRolePolicy: doc({
              Effect: "Allow",
              Principal: "*",
              Action: "sts:AssumeRole",
              Condition: { StringEquals: { "aws:PrincipalOrgID": "o-1" } },
            }),
          },
        }),
      ));
    it("does not accept other conditions unless configured", async () => {
      const sourceIp = roles({
        responder: {
          assumeRolePolicy: doc({
            Effect: "Allow",
            Principal: "*",
            Action: "sts:AssumeRole",
            Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } },
          }),
        },
      });
      await expectViolation(iamTrustRestricted, sourceIp, /sts:ExternalId/);
      await expectPass(iamTrustRestricted, sourceIp, {
        "iam-trust-restricted": { restrictingConditionKeys: ["aws:SourceIp"] },
      });
    });
    it("reads member roles from a StackSet template", async () => {
      await expectPass(iamTrustRestricted, [stackSet(FROM_RESPONDERS)]);
      await expectViolation(
        iamTrustRestricted,
        [stackSet({ Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" })],
        /template role Responder/,
      );
    });
    it("skips other types", () =>
      expectNotApplicable(iamTrustRestricted, [
        forensic,
        res("aws:s3/bucket:Bucket", "b", {}, { provider: forensic }),
      ]));
  });

  describe("iam-trust-restricted with wildcard conditions", () => {
    const trust = (condition: Record<string, unknown>) =>
      roles({
        responder: {
          assumeRolePolicy: doc({
            Sid: "Wild",
            Effect: "Allow",
            Principal: "*",
            Action: "sts:AssumeRole",
            Condition: condition,
          }),
        },
      });
    it('fails a wildcard that admits anyone (StringLike aws:PrincipalArn "arn:aws:iam::*:*")', () =>
      expectViolation(iamTrustRestricted, trust({ StringLike: { "aws:PrincipalArn": "arn:aws:iam::*:*" } }), /Wild/));
    it("fails a negated condition (StringNotEquals aws:PrincipalOrgID admits every other organisation)", () =>
      expectViolation(iamTrustRestricted, trust({ StringNotEquals: { "aws:PrincipalOrgID": "o-1" } }), /Wild/));
    it("fails a wildcard external ID", () =>
      expectViolation(iamTrustRestricted, trust({ StringLike: { "sts:ExternalId": "*" } }), /Wild/));
    it("passes a wildcard pinned to a literal account (ArnLike arn:aws:iam::123456789012:role/ci-*)", () =>
      expectPass(
        iamTrustRestricted,
        trust({ ArnLike: { "aws:PrincipalArn": "arn:aws:iam::123456789012:role/ci-*" } }),
      ));
  });

  describe("iam-cross-account-trust-conditioned", () => {
    const fromRoot = (account: string, condition?: Record<string, unknown>) =>
      doc({
        Sid: "Partner",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: "sts:AssumeRole",
        ...(condition ? { Condition: condition } : {}),
      });
    const app = (trust: string) => [
      forensic,
      res(ROLE, "partner", { name: "partner-access", assumeRolePolicy: trust }, { provider: forensic }),
    ];
    it("fails a role trusting another account's root with no condition", () =>
      expectViolation(iamCrossAccountTrustConditioned, app(fromRoot("444444444444")), /account 444444444444/));
    it("fails it when the only condition is a wildcard external ID", () =>
      expectViolation(
        iamCrossAccountTrustConditioned,
        app(fromRoot("444444444444", { StringLike: { "sts:ExternalId": "*" } })),
        /Partner/,
      ));
    it("passes the same trust with an external ID, a principal ARN, the organisation or MFA", async () => {
      await expectPass(
        iamCrossAccountTrustConditioned,
        app(fromRoot("444444444444", { StringEquals: { "sts:ExternalId": "a1b2c3" } })),
      );
      await expectPass(
        iamCrossAccountTrustConditioned,
        app(fromRoot("444444444444", { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::444444444444:role/deployer" } })),
      );
      await expectPass(
        iamCrossAccountTrustConditioned,
        app(fromRoot("444444444444", { StringEquals: { "aws:PrincipalOrgID": "o-1" } })),
      );
      await expectPass(
        iamCrossAccountTrustConditioned,
        app(fromRoot("444444444444", { Bool: { "aws:MultiFactorAuthPresent": "true" } })),
      );
    });
    it("passes trust to the role's own account (its provider's) and to named roles of another account", async () => {
      await expectPass(iamCrossAccountTrustConditioned, app(fromRoot("222222222222")));
      await expectPass(
        iamCrossAccountTrustConditioned,
        app(
          doc({ Effect: "Allow", Principal: { AWS: "arn:aws:iam::444444444444:role/ci" }, Action: "sts:AssumeRole" }),
        ),
      );
    });
    it("counts every account root as another account's when the provider does not say whose the role is", () =>
      expectViolation(
        iamCrossAccountTrustConditioned,
        [res(ROLE, "r", { assumeRolePolicy: fromRoot("222222222222") })],
        /222222222222/,
      ));
    it("reads StackSet template roles (their own account is every member account)", () =>
      expectViolation(
        iamCrossAccountTrustConditioned,
        [stackSet({ Effect: "Allow", Principal: { AWS: "123456789012" }, Action: "sts:AssumeRole" })],
        /template role Responder/,
      ));
  });

  describe("iam-forensic-role-session-duration", () => {
    it("passes one-hour forensic sessions", () => expectPass(iamForensicRoleSessionDuration, roles()));
    it("fails a 12-hour responder session", () =>
      expectViolation(iamForensicRoleSessionDuration, roles({ responder: { maxSessionDuration: 43200 } }), /43200/));
    it("skips roles that are not forensic", () =>
      expectNotApplicable(iamForensicRoleSessionDuration, [
        res(ROLE, "app", { name: "app", assumeRolePolicy: doc(FROM_RESPONDERS), maxSessionDuration: 43200 }),
      ]));
    it("does not take a name for a purpose: alert-responder-bot is no forensic role", () =>
      expectNotApplicable(iamForensicRoleSessionDuration, [
        res(ROLE, "bot", {
          name: "alert-responder-bot",
          assumeRolePolicy: doc(FROM_RESPONDERS),
          maxSessionDuration: 43200,
        }),
      ]));
    it("recognises a forensic role by its purpose tag", () =>
      expectViolation(
        iamForensicRoleSessionDuration,
        [
          res(ROLE, "ir", {
            name: "ir-team",
            tags: { "flz:purpose": "forensic-role" },
            assumeRolePolicy: doc(FROM_RESPONDERS),
            maxSessionDuration: 7200,
          }),
        ],
        /7200/,
      ));
  });

  describe("iam-break-glass-mfa", () => {
    it("passes a break-glass trust that requires MFA", () => expectPass(iamBreakGlassMfa, roles()));
    it("fails a break-glass trust without MFA", () =>
      expectViolation(
        iamBreakGlassMfa,
        roles({ breakGlass: { assumeRolePolicy: doc(FROM_RESPONDERS) } }),
        /without MFA/,
      ));
    it("fails MFA only if present (BoolIfExists)", () =>
      expectViolation(
        iamBreakGlassMfa,
        roles({
          breakGlass: {
            assumeRolePolicy: doc({
              ...FROM_RESPONDERS,
              Condition: { BoolIfExists: { "aws:MultiFactorAuthPresent": "true" } },
            }),
          },
        }),
        /without MFA/,
      ));
    it("recognises the break-glass role by its tag only, not by a name like break-glass", () =>
      expectNotApplicable(iamBreakGlassMfa, [
        res(ROLE, "bg", { name: "team-break-glass", assumeRolePolicy: doc(FROM_RESPONDERS) }),
      ]));
    it("skips programs without a break-glass role", () =>
      expectNotApplicable(
        iamBreakGlassMfa,
        roles().filter((r) => r.name !== "break-glass"),
      ));
  });
});
