// The organisation checks' decisions without AWS, on facts built here: FLZ-ORG-06 evaluates each GuardDuty call on the
// resource AWS authorizes it on, and refuses a detection administrator that no SCP can bind.
import { expect } from "chai";
import { GUARDDUTY_SILENCING_ACTIONS, protectAlarmsScp } from "../../../components/documents/scp-alarms";
import type { LandingZone } from "../../../scripts/contract";
import type { AssessmentSettings } from "../../../scripts/assess/checks/common";
import { organizationChecks } from "../../../scripts/assess/checks/organization";
import type { OrganizationFacts } from "../../../scripts/assess/facts";
import type { Finding } from "../../../scripts/assess/types";

const MANAGEMENT = "111111111111";
const FORENSIC = "222222222222";
const ROOT = "r-exam";
const DEPLOYMENT = "arn:aws:iam::*:role/OrganizationAccountAccessRole";

const settings = (detectionAdminAccountId = FORENSIC): AssessmentSettings => ({
  landingZone: { forensicAccountId: FORENSIC, homeRegion: "us-east-1" } as LandingZone,
  accounts: [],
  regions: ["us-east-1"],
  requiredRetentionDays: 365,
  breakGlassRoleName: "FlzBreakGlass",
  detectionAdminAccountId,
  deliveryMaxAgeHours: 24,
  now: "2026-11-28T00:00:00Z",
});

/** An organisation whose forensic account has exactly `scps` over it (attached to the account itself). */
function organization(...scps: object[]): OrganizationFacts {
  return {
    managementAccountId: { ok: true, value: MANAGEMENT },
    accounts: { ok: true, value: [] },
    ancestry: { ok: true, value: { [FORENSIC]: [ROOT], [MANAGEMENT]: [ROOT] } },
    policies: {
      ok: true,
      value: scps.map((doc, i) => ({
        id: `p-${i}`,
        name: `scp-${i}`,
        type: "SERVICE_CONTROL_POLICY",
        awsManaged: false,
        content: JSON.stringify(doc),
        targets: [FORENSIC],
      })),
    },
    serviceAccess: { ok: true, value: [] },
    delegatedAdministrators: { ok: true, value: {} },
    resourcePolicy: { ok: true, value: null },
    trails: { ok: true, value: [] },
  };
}

function guardDutyFinding(org: OrganizationFacts, admin?: string): Finding {
  const found = organizationChecks({ ok: true, value: org }, settings(admin)).filter((f) => f.check === "FLZ-ORG-06");
  expect(found).to.have.length(1);
  return found[0];
}

/** A deny of every GuardDuty silencing call, on `resource`, for everyone but `exempt`. */
const guardDutyDeny = (resource: string | string[], exempt: string[] = [DEPLOYMENT]) => ({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Deny",
      Action: [...GUARDDUTY_SILENCING_ACTIONS],
      Resource: resource,
      Condition: { ArnNotLike: { "aws:PrincipalArn": exempt } },
    },
  ],
});

describe("flz assess FLZ-ORG-06 (GuardDuty cannot be silenced by the detection administrator's administrators)", () => {
  it("passes on the landing zone's own flz-protect-alarms, naming the deployment role as the one exempted", () => {
    const f = guardDutyFinding(organization(protectAlarmsScp({ namePrefix: "flz-", deploymentRoleArn: DEPLOYMENT })));
    expect(f.status).to.equal("pass");
    expect(f.account).to.equal(FORENSIC);
    expect(f.evidence).to.deep.equal([`SCPs in force over ${FORENSIC}: 1`, `exempted from the deny: ${DEPLOYMENT}`]);
  });

  it("fails with no SCP, naming every call", () => {
    const f = guardDutyFinding(organization());
    expect(f.status).to.equal("fail");
    expect(f.message).to.equal(
      `no SCP in force denies ${GUARDDUTY_SILENCING_ACTIONS.join(", ")} to the account's administrators`,
    );
  });

  it("does not count a deny that names detector ARNs for the calls AWS authorizes on * (trusted lists, members)", () => {
    const f = guardDutyFinding(organization(guardDutyDeny("arn:aws:guardduty:*:*:detector/*")));
    expect(f.status).to.equal("fail");
    // what stays open is exactly the calls without a resource type; filters, IP set updates and the detector are covered
    expect(f.message).to.equal(
      "no SCP in force denies guardduty:CreateIPSet, guardduty:CreateTrustedEntitySet, guardduty:UpdateMemberDetectors, " +
        "guardduty:DisassociateMembers, guardduty:DeleteMembers, guardduty:StopMonitoringMembers, " +
        "guardduty:UpdateOrganizationConfiguration to the account's administrators",
    );
  });

  it("does not count a deny whose exemption covers the account's administrators", () => {
    const f = guardDutyFinding(organization(guardDutyDeny("*", ["arn:aws:iam::*:role/Admin*"])));
    expect(f.status).to.equal("fail");
    expect(f.evidence).to.include("exempted from the deny: arn:aws:iam::*:role/Admin*");
  });

  it("fails a detection administrator that is the management account, which no SCP binds", () => {
    const f = guardDutyFinding(organization(guardDutyDeny("*")), MANAGEMENT);
    expect(f.status).to.equal("fail");
    expect(f.message).to.match(/^the detection administrator is the management account, which no SCP binds/);
  });
});
