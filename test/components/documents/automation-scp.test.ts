/**
 * The response automation's functions act as the forensic responder, so the SCP `flz-protect-automation` must stop a
 * forensic-account administrator from becoming the responder through them: changing a function's code, passing an
 * acting role to a function of their own, or invoking a function with an event of their choosing. Evaluated with the
 * IAM evaluator: the administrator holds `*:*` and the SCP's denies are evaluated with it.
 */
import { expect } from "chai";
import { protectAutomationScp } from "../../../components/documents/scp-automation";
import { ADMIN, FORENSIC, ORG, decide, role } from "./simulate";

const DEPLOYMENT = `arn:aws:iam::${FORENSIC}:role/OrganizationAccountAccessRole`;
const scp = protectAutomationScp({
  forensicAccountId: FORENSIC,
  namePrefix: "flz-automation",
  deploymentRoleArn: DEPLOYMENT,
});
const fn = (name: string) => ({ resource: `arn:aws:lambda:us-east-1:${FORENSIC}:function:${name}`, account: FORENSIC });
const acting = { resource: `arn:aws:iam::${FORENSIC}:role/flz-automation-contain`, account: FORENSIC };
const admin = role(FORENSIC, "Admin", ORG, ADMIN, scp);
const deployer = role(FORENSIC, "OrganizationAccountAccessRole", ORG, ADMIN, scp);
const machine = role(FORENSIC, "flz-automation-state-machine", ORG, ADMIN, scp);

describe("flz-protect-automation: the automation cannot be turned into the responder", () => {
  for (const action of ["lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:AddPermission"]) {
    it(`denies ${action} on an acting function to a forensic administrator, not to the deployment`, async () => {
      expect(await decide(admin, action, fn("flz-automation-contain"))).to.equal("ExplicitlyDenied");
      expect(await decide(deployer, action, fn("flz-automation-contain"))).to.equal("Allowed");
    });
  }

  it("denies passing an acting role to a function of the administrator's own", async () => {
    expect(await decide(admin, "iam:PassRole", acting)).to.equal("ExplicitlyDenied");
    expect(await decide(deployer, "iam:PassRole", acting)).to.equal("Allowed");
  });

  it("lets only the state machine invoke the functions (a version or alias included)", async () => {
    expect(await decide(admin, "lambda:InvokeFunction", fn("flz-automation-contain"))).to.equal("ExplicitlyDenied");
    expect(await decide(admin, "lambda:InvokeFunction", fn("flz-automation-contain:1"))).to.equal("ExplicitlyDenied");
    expect(await decide(machine, "lambda:InvokeFunction", fn("flz-automation-capture"))).to.equal("Allowed");
  });

  it("leaves the account's other functions alone", async () => {
    expect(await decide(admin, "lambda:UpdateFunctionCode", fn("billing-report"))).to.equal("Allowed");
    expect(await decide(admin, "lambda:InvokeFunction", fn("billing-report"))).to.equal("Allowed");
  });

  it("refuses a prefix that is not a function name prefix, naming it", () => {
    expect(() =>
      protectAutomationScp({
        forensicAccountId: FORENSIC,
        namePrefix: "flz automation",
        deploymentRoleArn: DEPLOYMENT,
      }),
    ).to.throw('namePrefix "flz automation"');
  });
});
