import { expect } from "chai";
import {
  CASE_SESSION_TAG_KEY,
  DocumentInputError,
  breakGlassTrust,
  forensicRoleTrust,
  memberRoleTrust,
  type PolicyDocument,
} from "../../../components/documents";
import {
  ADMIN,
  FORENSIC,
  FORENSIC_INVESTIGATOR_ARN,
  FORENSIC_RESPONDER_ARN,
  MANAGEMENT,
  MEMBER,
  MEMBER_INVESTIGATOR_NAME,
  MEMBER_RESPONDER_NAME,
  ORG,
  OTHER_ORG,
  decide,
  outsider,
  role,
  user,
  withContext,
  type Caller,
  type RequestOptions,
  type Target,
  forensicResponder,
  forensicInvestigator as sharedInvestigator,
} from "./simulate";

const IR_TEAM_ARN = `arn:aws:iam::${MANAGEMENT}:role/IncidentResponseTeam`;
const BREAK_GLASS_USER = "break-glass-alice";

const forensicInvestigator = (): Caller => sharedInvestigator({ organizationId: ORG });

/** The member responder role of `account`, as the StackSet deploys it. */
const memberResponderRole = (account = MEMBER, resourceOrg = ORG): { target: Target; options: RequestOptions } => ({
  target: {
    resource: `arn:aws:iam::${account}:role/${MEMBER_RESPONDER_NAME}`,
    account,
    policy: memberRoleTrust({ forensicRoleArn: FORENSIC_RESPONDER_ARN }),
  },
  options: { context: { "aws:ResourceOrgID": resourceOrg } },
});
const forensicRole = (policy: PolicyDocument): Target => ({
  resource: FORENSIC_RESPONDER_ARN,
  account: FORENSIC,
  policy,
});
const forensicTrust = () => forensicRoleTrust({ trustedPrincipalArns: [IR_TEAM_ARN], organizationId: ORG });
const breakGlass = (): Target => ({
  resource: `arn:aws:iam::${FORENSIC}:role/FlzBreakGlass`,
  account: FORENSIC,
  policy: breakGlassTrust({
    trustedPrincipalArns: [`arn:aws:iam::${FORENSIC}:user/${BREAK_GLASS_USER}`],
    maxMfaAgeSeconds: 3600,
  }),
});

describe("documents/trust: member role trust", () => {
  it("lets the forensic responder role assume the member responder role", async () => {
    const { target, options } = memberResponderRole();
    expect(await decide(forensicResponder(), "sts:AssumeRole", target, options)).to.equal("Allowed");
  });
  it("lets the forensic responder tag the session with the case", async () => {
    const { target, options } = memberResponderRole();
    const tagged = {
      context: {
        ...options.context,
        "aws:TagKeys": [CASE_SESSION_TAG_KEY],
        [`aws:RequestTag/${CASE_SESSION_TAG_KEY}`]: "IR-2024-001",
      },
    };
    expect(await decide(forensicResponder(), "sts:TagSession", target, tagged)).to.equal("Allowed");
  });
  it("refuses session tags other than the case tag", async () => {
    const { target, options } = memberResponderRole();
    const smuggled = {
      context: {
        ...options.context,
        "aws:TagKeys": [CASE_SESSION_TAG_KEY, "department"],
        "aws:RequestTag/department": "admins",
      },
    };
    expect(await decide(forensicResponder(), "sts:TagSession", target, smuggled)).to.not.equal("Allowed");
  });
  it("refuses the forensic investigator role (it has its own member role)", async () => {
    const { target, options } = memberResponderRole();
    expect(await decide(forensicInvestigator(), "sts:AssumeRole", target, options)).to.not.equal("Allowed");
  });
  it("refuses an administrator of the forensic account", async () => {
    const { target, options } = memberResponderRole();
    expect(await decide(role(FORENSIC, "Administrator", ORG, ADMIN), "sts:AssumeRole", target, options)).to.not.equal(
      "Allowed",
    );
  });
  it("refuses an administrator of the member account itself", async () => {
    const { target, options } = memberResponderRole();
    expect(await decide(role(MEMBER, "Administrator", ORG, ADMIN), "sts:AssumeRole", target, options)).to.not.equal(
      "Allowed",
    );
  });
  it("refuses a role named like the forensic responder in another account", async () => {
    const { target, options } = memberResponderRole();
    expect(
      await decide(role(MEMBER, "FlzForensicResponder", ORG, ADMIN), "sts:AssumeRole", target, options),
    ).to.not.equal("Allowed");
  });
  it("keeps the forensic responder from assuming a same-named role in an account outside the organisation", async () => {
    const { target, options } = memberResponderRole("999999999999", OTHER_ORG);
    expect(await decide(forensicResponder(), "sts:AssumeRole", target, options)).to.not.equal("Allowed");
  });
});

describe("documents/trust: forensic role trust", () => {
  it("lets the named incident-response principal of the organisation assume the forensic role", async () => {
    expect(
      await decide(
        role(MANAGEMENT, "IncidentResponseTeam", ORG, ADMIN),
        "sts:AssumeRole",
        forensicRole(forensicTrust()),
      ),
    ).to.equal("Allowed");
  });
  it("refuses the named principal once its account is outside the organisation", async () => {
    expect(
      await decide(
        role(MANAGEMENT, "IncidentResponseTeam", OTHER_ORG, ADMIN),
        "sts:AssumeRole",
        forensicRole(forensicTrust()),
      ),
    ).to.not.equal("Allowed");
  });
  it("refuses other principals of the same account, even administrators", async () => {
    expect(
      await decide(role(MANAGEMENT, "Administrator", ORG, ADMIN), "sts:AssumeRole", forensicRole(forensicTrust())),
    ).to.not.equal("Allowed");
  });
});

describe("documents/trust: principals outside the organisation", () => {
  const trusts: [string, Target][] = [
    ["forensic responder", forensicRole(forensicTrust())],
    ["member responder", memberResponderRole().target],
    [
      "member investigator",
      {
        resource: `arn:aws:iam::${MEMBER}:role/${MEMBER_INVESTIGATOR_NAME}`,
        account: MEMBER,
        policy: memberRoleTrust({ forensicRoleArn: FORENSIC_INVESTIGATOR_ARN }),
      },
    ],
    ["break-glass", breakGlass()],
  ];
  for (const [name, target] of trusts) {
    it(`cannot assume the ${name} role, even with MFA and admin rights at home`, async () => {
      const mfa = withContext(outsider(), { "aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "60" });
      expect(await decide(mfa, "sts:AssumeRole", target)).to.not.equal("Allowed");
    });
  }
});

describe("documents/trust: break-glass trust", () => {
  const alice = () => user(FORENSIC, BREAK_GLASS_USER, ADMIN);
  it("refuses the break-glass user without MFA", async () => {
    expect(await decide(alice(), "sts:AssumeRole", breakGlass())).to.not.equal("Allowed");
    expect(
      await decide(withContext(alice(), { "aws:MultiFactorAuthPresent": "false" }), "sts:AssumeRole", breakGlass()),
    ).to.not.equal("Allowed");
  });
  it("allows the break-glass user with a fresh MFA", async () => {
    const fresh = withContext(alice(), { "aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "120" });
    expect(await decide(fresh, "sts:AssumeRole", breakGlass())).to.equal("Allowed");
  });
  it("refuses an MFA older than the limit", async () => {
    const stale = withContext(alice(), { "aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "7200" });
    expect(await decide(stale, "sts:AssumeRole", breakGlass())).to.not.equal("Allowed");
  });
  it("refuses another user with MFA", async () => {
    const bob = withContext(user(FORENSIC, "bob", ADMIN), {
      "aws:MultiFactorAuthPresent": "true",
      "aws:MultiFactorAuthAge": "10",
    });
    expect(await decide(bob, "sts:AssumeRole", breakGlass())).to.not.equal("Allowed");
  });
  it("names a non-positive MFA age", () => {
    expect(() => breakGlassTrust({ trustedPrincipalArns: [IR_TEAM_ARN], maxMfaAgeSeconds: 0 })).to.throw(
      DocumentInputError,
      /maxMfaAgeSeconds: 0 is not a positive whole number/,
    );
  });
});

describe("documents/trust: input checks", () => {
  it("refuses a trust policy with no principals", () => {
    expect(() => forensicRoleTrust({ trustedPrincipalArns: [], organizationId: ORG })).to.throw(
      DocumentInputError,
      /trustedPrincipalArns: the list is empty/,
    );
  });
  it("refuses a wildcard principal", () => {
    expect(() => memberRoleTrust({ forensicRoleArn: "*" })).to.throw(
      DocumentInputError,
      /forensicRoleArn: "\*" is not an ARN of iam/,
    );
  });
});
