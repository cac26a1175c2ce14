import { iamNoPrivilegeEscalation, iamNoWildcardAdmin } from "../../policies/iam-permissions";
import { doc, expectNotApplicable, expectPass, expectViolation, provider, res } from "./helpers";

const account = provider("us-east-1", "222222222222");
const ROLE = "aws:iam/role:Role";
const ADMIN = doc({ Effect: "Allow", Action: "*", Resource: "*" });
const TRUST = doc({ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" });
const ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess";
const IAM_FULL = "arn:aws:iam::aws:policy/IAMFullAccess";

const breakGlass = (extra: Record<string, unknown> = {}) =>
  res(
    ROLE,
    "break-glass",
    { name: "emergency", tags: { "flz:purpose": "break-glass" }, assumeRolePolicy: TRUST, ...extra },
    { provider: account },
  );
const app = (extra: Record<string, unknown> = {}) =>
  res(ROLE, "app", { name: "app-server", assumeRolePolicy: TRUST, ...extra }, { provider: account });

describe("policies/iam-permissions", () => {
  describe("iam-no-wildcard-admin", () => {
    it("passes AdministratorAccess and * on * on the role tagged break-glass", () =>
      expectPass(iamNoWildcardAdmin, [
        account,
        breakGlass({ managedPolicyArns: [ADMIN_ARN] }),
        res("aws:iam/rolePolicy:RolePolicy", "bg", { role: "emergency", policy: ADMIN }, { provider: account }),
        res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "bg-admin", {
          role: "emergency",
          policyArn: ADMIN_ARN,
        }),
      ]));
    it("fails AdministratorAccess on another role", () =>
      expectViolation(
        iamNoWildcardAdmin,
        [account, app({ managedPolicyArns: [ADMIN_ARN] })],
        /AdministratorAccess.*role app-server/,
      ));
    it("does not exempt a role merely named break-glass (no purpose tag)", () =>
      expectViolation(
        iamNoWildcardAdmin,
        [account, res(ROLE, "bg", { name: "break-glass", assumeRolePolicy: TRUST, managedPolicyArns: [ADMIN_ARN] })],
        /AdministratorAccess/,
      ));
    it("fails an inline role policy allowing * on *", () =>
      expectViolation(
        iamNoWildcardAdmin,
        [
          account,
          app(),
          res("aws:iam/rolePolicy:RolePolicy", "rp", { role: "app-server", policy: ADMIN }, { provider: account }),
        ],
        /rp allows Action "\*" on Resource "\*" \(granted to role app-server\)/,
      ));
    it("fails a managed policy allowing * on * that no break-glass attachment owns", () =>
      expectViolation(
        iamNoWildcardAdmin,
        [res("aws:iam/policy:Policy", "ops-admin", { policy: ADMIN })],
        /whoever it is attached to/,
      ));
    it("fails AdministratorAccess or IAMFullAccess attached to users and groups", async () => {
      await expectViolation(
        iamNoWildcardAdmin,
        [
          res("aws:iam/userPolicyAttachment:UserPolicyAttachment", "alice-admin", {
            user: "alice",
            policyArn: ADMIN_ARN,
          }),
        ],
        /user alice/,
      );
      await expectViolation(
        iamNoWildcardAdmin,
        [res("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "ops-iam", { group: "ops", policyArn: IAM_FULL })],
        /IAMFullAccess.*group ops/,
      );
      await expectViolation(
        iamNoWildcardAdmin,
        [
          res("aws:iam/policyAttachment:PolicyAttachment", "many", {
            users: ["bob"],
            groups: [],
            roles: [],
            policyArn: ADMIN_ARN,
          }),
        ],
        /user bob/,
      );
      await expectViolation(
        iamNoWildcardAdmin,
        [res("aws:iam/userPolicy:UserPolicy", "inline", { user: "carol", policy: ADMIN })],
        /user carol/,
      );
    });
    it("fails IAMFullAccess on a role that is not break-glass", () =>
      expectViolation(iamNoWildcardAdmin, [account, app({ managedPolicyArns: [IAM_FULL] })], /IAMFullAccess/));
    it("passes scoped permissions, and a read-only managed policy on a user", () =>
      expectPass(iamNoWildcardAdmin, [
        account,
        app({
          inlinePolicies: [
            { name: "read", policy: doc({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }) },
          ],
        }),
        res("aws:iam/userPolicyAttachment:UserPolicyAttachment", "audit", {
          user: "auditor",
          policyArn: "arn:aws:iam::aws:policy/SecurityAudit",
        }),
      ]));
    it("skips programs that grant no IAM permissions", () =>
      expectNotApplicable(iamNoWildcardAdmin, [res("aws:s3/bucket:Bucket", "b", { bucket: "b" })]));
  });

  describe("iam-no-privilege-escalation", () => {
    const withPolicy = (statement: Record<string, unknown>) => [
      account,
      app({ inlinePolicies: [{ name: "p", policy: doc(statement) }] }),
    ];
    it("fails iam:* on every resource", () =>
      expectViolation(
        iamNoPrivilegeEscalation,
        withPolicy({ Effect: "Allow", Action: "iam:*", Resource: "*" }),
        /iam:PassRole.*iam:PutRolePolicy/,
      ));
    it("fails iam:PassRole on *", () =>
      expectViolation(
        iamNoPrivilegeEscalation,
        withPolicy({ Effect: "Allow", Action: "iam:PassRole", Resource: "*" }),
        /iam:PassRole on every IAM entity/,
      ));
    it("fails policy-version and attachment actions on every role or policy (wildcard ARNs included)", async () => {
      await expectViolation(
        iamNoPrivilegeEscalation,
        withPolicy({
          Effect: "Allow",
          Action: ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"],
          Resource: "arn:aws:iam::*:policy/*",
        }),
        /iam:CreatePolicyVersion, iam:SetDefaultPolicyVersion/,
      );
      await expectViolation(
        iamNoPrivilegeEscalation,
        withPolicy({ Effect: "Allow", Action: "iam:Attach*", Resource: "arn:aws:iam::222222222222:role/*" }),
        /iam:AttachRolePolicy/,
      );
    });
    it("fails escalation granted to a group through a customer-managed policy", () =>
      expectViolation(
        iamNoPrivilegeEscalation,
        [
          res("aws:iam/policy:Policy", "dev-iam", {
            policy: doc({ Effect: "Allow", Action: "iam:PutUserPolicy", Resource: "*" }),
          }),
          res("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "devs", {
            group: "devs",
            policyArn: "arn:aws:iam::222222222222:policy/dev-iam",
          }),
        ].map((r) =>
          r.name === "dev-iam" ? { ...r, outputs: { arn: "arn:aws:iam::222222222222:policy/dev-iam" } } : r,
        ),
        /group devs/,
      ));
    it("passes PassRole and IAM writes scoped to the program's own roles", () =>
      expectPass(
        iamNoPrivilegeEscalation,
        withPolicy({
          Effect: "Allow",
          Action: ["iam:PassRole", "iam:PutRolePolicy"],
          Resource: "arn:aws:iam::222222222222:role/app-worker",
        }),
      ));
    it("passes IAM escalation actions on the break-glass role, and leaves full admin to iam-no-wildcard-admin", async () => {
      await expectPass(iamNoPrivilegeEscalation, [
        account,
        breakGlass({
          inlinePolicies: [{ name: "p", policy: doc({ Effect: "Allow", Action: "iam:*", Resource: "*" }) }],
        }),
      ]);
      await expectPass(iamNoPrivilegeEscalation, withPolicy({ Effect: "Allow", Action: "*", Resource: "*" }));
    });
  });
});
