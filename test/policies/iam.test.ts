import type { RecordedResource } from "../../scripts/plan/mock-engine";
import {
  iamBreakGlassMfa,
  iamForensicRoleSessionDuration,
  iamNoWildcardAdmin,
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
const ADMIN = doc({ Effect: "Allow", Action: "*", Resource: "*" });

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

  describe("iam-no-wildcard-admin", () => {
    it("passes administrator access on the break-glass role only", () => expectPass(iamNoWildcardAdmin, roles()));
    it("fails AdministratorAccess on another role", () =>
      expectViolation(
        iamNoWildcardAdmin,
        roles({ responder: { managedPolicyArns: ["arn:aws:iam::aws:policy/AdministratorAccess"] } }),
        /AdministratorAccess/,
      ));
    it("fails an inline role policy allowing * on *", () =>
      expectViolation(
        iamNoWildcardAdmin,
        [
          ...roles(),
          res(
            "aws:iam/rolePolicy:RolePolicy",
            "rp",
            { role: "flz-forensic-responder", policy: ADMIN },
            { provider: forensic },
          ),
        ],
        /Action "\*"/,
      ));
    it("fails a managed policy allowing * on *", () =>
      expectViolation(
        iamNoWildcardAdmin,
        [res("aws:iam/policy:Policy", "ops-admin", { policy: ADMIN })],
        /Action "\*"/,
      ));
    it("passes * on * attached to the break-glass role", () =>
      expectPass(iamNoWildcardAdmin, [
        ...roles(),
        res("aws:iam/rolePolicy:RolePolicy", "bg", { role: "flz-break-glass", policy: ADMIN }, { provider: forensic }),
      ]));
  });

  describe("iam-forensic-role-session-duration", () => {
    it("passes one-hour forensic sessions", () => expectPass(iamForensicRoleSessionDuration, roles()));
    it("fails a 12-hour responder session", () =>
      expectViolation(iamForensicRoleSessionDuration, roles({ responder: { maxSessionDuration: 43200 } }), /43200/));
    it("skips roles that are not forensic", () =>
      expectNotApplicable(iamForensicRoleSessionDuration, [
        res(ROLE, "app", { name: "app", assumeRolePolicy: doc(FROM_RESPONDERS), maxSessionDuration: 43200 }),
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
    it("skips programs without a break-glass role", () =>
      expectNotApplicable(
        iamBreakGlassMfa,
        roles().filter((r) => r.name !== "break-glass"),
      ));
  });
});
