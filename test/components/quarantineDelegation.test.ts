import { expect } from "chai";
import * as aws from "@pulumi/aws";
import { ForensicLandingZone, type ForensicLandingZoneArgs } from "../../components/forensicLandingZone";
import { QuarantineDelegation } from "../../components/QuarantineDelegation";
import { quarantineDelegationPolicy } from "../../components/documents";
import { MOCK_ORGANIZATION_ID, placementOf, runProgram } from "../../scripts/plan/mock-engine";
import { allOf, json, one, statements } from "./helpers";

const MANAGEMENT = "111111111111";
const FORENSIC = "222222222222";
const RESPONDER = `arn:aws:iam::${FORENSIC}:role/FlzForensicResponder`;
const RESOURCE_POLICY = "aws:organizations/resourcePolicy:ResourcePolicy";

describe("QuarantineDelegation", () => {
  it("publishes the delegation document in the management account, naming the responder role only", async () => {
    const run = await runProgram(() => {
      const delegation = new QuarantineDelegation("quarantine", {
        managementProvider: new aws.Provider("management", { region: "us-east-1", allowedAccountIds: [MANAGEMENT] }),
        organizationId: "o-exampleorg1",
        managementAccountId: MANAGEMENT,
        responderRoleArn: RESPONDER,
      });
      return { id: delegation.resourcePolicyId };
    });
    const policy = one(run, RESOURCE_POLICY);
    expect(placementOf(run, policy).account).to.equal(MANAGEMENT);
    expect(json(policy, "content")).to.deep.equal(
      quarantineDelegationPolicy({
        organizationId: "o-exampleorg1",
        managementAccountId: MANAGEMENT,
        responderRoleArn: RESPONDER,
      }),
    );
    const principals = new Set(statements(policy, "content").map((s) => JSON.stringify(s.Principal)));
    expect([...principals]).to.deep.equal([JSON.stringify({ AWS: RESPONDER })]);
  });
});

describe("ForensicLandingZone: quarantine delegation", () => {
  const ARGS: ForensicLandingZoneArgs = {
    forensicAccount: { kind: "adopt", accountId: FORENSIC },
    managementAccountId: MANAGEMENT,
    homeRegion: "us-east-1",
    regions: ["us-east-1"],
    targetOrganizationalUnitIds: ["r-exam"],
    responderPrincipalArns: ["arn:aws:iam::222222222222:role/IncidentResponder"],
    deploymentRoleArn: "arn:aws:iam::*:role/OrganizationAccountAccessRole",
    detection: false,
    investigation: { enabled: false },
    forensicVpc: { enabled: false },
    alarms: { enabled: false },
  };
  const landingZone = (args: ForensicLandingZoneArgs) =>
    runProgram(() => new ForensicLandingZone("lz", args).contract());

  it("is on by default: delegation for the stack's responder role, its permissions, and tagged guardrails", async () => {
    const run = await landingZone(ARGS);
    const policy = one(run, RESOURCE_POLICY);
    expect(placementOf(run, policy).account).to.equal(MANAGEMENT);
    expect(json(policy, "content")).to.deep.equal(
      quarantineDelegationPolicy({
        organizationId: MOCK_ORGANIZATION_ID,
        managementAccountId: MANAGEMENT,
        responderRoleArn: RESPONDER,
      }),
    );
    // Organizations checks the caller's own permissions too: the responder's policy carries the same grants.
    const responder = one(run, "aws:iam/rolePolicy:RolePolicy", "-forensic-responder");
    expect(statements(responder).map((s) => s.Sid)).to.include.members([
      "FlzQuarantineCreate",
      "FlzQuarantineManage",
      "FlzQuarantineOnlyQuarantinePolicies",
      "FlzQuarantineNeverUntag",
    ]);
    // What stops the responder from re-tagging and then detaching a guardrail: its purpose tag.
    // (Resource control policies are out of the delegation's reach whatever their tags: it names SCPs only.)
    const scps = allOf(run, "aws:organizations/policy:Policy").filter(
      (p) => p.inputs.type === "SERVICE_CONTROL_POLICY",
    );
    expect(scps).to.not.have.length(0);
    for (const scp of scps) {
      expect(scp.inputs.tags, String(scp.inputs.name)).to.deep.include({ "flz:purpose": "guardrail" });
    }
  });

  it("is left out when switched off", async () => {
    const run = await landingZone({ ...ARGS, quarantineDelegation: false });
    expect(allOf(run, RESOURCE_POLICY)).to.deep.equal([]);
  });
});
