import { expect } from "chai";
import {
  deploymentPrincipalIn,
  missingPolicyTypes,
  trustedRoleNames,
  trustedRolesIn,
} from "../../components/landingZoneSettings";
import { waitUntilReady } from "../../components/AccountReadiness";

describe("landing zone settings", () => {
  it("places the deployment role in the forensic account, from an any-account or a forensic-account ARN", () => {
    const expected = "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole";
    for (const given of ["arn:aws:iam::*:role/OrganizationAccountAccessRole", expected])
      expect(deploymentPrincipalIn(given, "OrganizationAccountAccessRole", "222222222222")).to.equal(expected);
  });

  it("refuses a deployment role the providers do not assume, or of another account, in one line", () => {
    expect(() =>
      deploymentPrincipalIn("arn:aws:iam::*:role/FlzDeployment", "OrganizationAccountAccessRole", "222222222222"),
    ).to.throw(
      /names role FlzDeployment, but the deployment acts in the forensic account as OrganizationAccountAccessRole/,
    );
    expect(() =>
      deploymentPrincipalIn("arn:aws:iam::333333333333:role/FlzDeployment", "FlzDeployment", "222222222222"),
    ).to.throw(/names account 333333333333, not the forensic account 222222222222/);
  });

  it("finds the trusted principals that are roles of the forensic account (to be frozen like the forensic roles)", () => {
    const principals = {
      responderPrincipalArns: [
        "arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_IR_0123",
        "arn:aws:iam::111111111111:role/IncidentResponseTeam",
      ],
      breakGlassPrincipalArns: ["arn:aws:iam::222222222222:user/break-glass"],
    };
    expect(trustedRolesIn("222222222222", principals)).to.deep.equal([
      "arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_IR_0123",
    ]);
    expect(trustedRoleNames(principals)).to.deep.equal(["AWSReservedSSO_IR_0123", "IncidentResponseTeam"]);
  });
});

describe("organisation policy types", () => {
  it("names the policy types the guardrails need that the root has not enabled", () => {
    const root = {
      id: "r-exam",
      policyTypes: [
        { type: "SERVICE_CONTROL_POLICY", status: "ENABLED" },
        { type: "RESOURCE_CONTROL_POLICY", status: "PENDING_DISABLE" },
      ],
    };
    expect(missingPolicyTypes(root, ["SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"])).to.deep.equal([
      "RESOURCE_CONTROL_POLICY",
    ]);
    expect(missingPolicyTypes(undefined, ["SERVICE_CONTROL_POLICY"])).to.deep.equal(["SERVICE_CONTROL_POLICY"]);
  });
});

describe("AccountReadiness: waiting for a created account's admin role", () => {
  /** A fake clock: sleeping advances it. */
  function clock() {
    let now = 0;
    return { now: () => now, sleep: async (ms: number) => void (now += ms) };
  }

  it("is ready only after the role was assumable several times in a row (IAM converging can flap)", async () => {
    const outcomes = [false, true, false, true, true, true];
    let calls = 0;
    const c = clock();
    const result = await waitUntilReady(
      async () => {
        if (!outcomes[calls++]) throw new Error("AccessDenied: not authorized to perform sts:AssumeRole");
      },
      { intervalSeconds: 10, consecutiveSuccesses: 3 },
      c.sleep,
      c.now,
    );
    expect(result.attempts).to.equal(6);
    expect(result.lastError).to.match(/AccessDenied/);
  });

  it("gives up after the timeout, naming the last error", async () => {
    const c = clock();
    const error = await waitUntilReady(
      async () => {
        throw new Error("AccessDenied: not authorized to perform sts:AssumeRole");
      },
      { timeoutSeconds: 60, intervalSeconds: 10 },
      c.sleep,
      c.now,
    ).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).to.match(/not ready after \d+ s and \d+ attempts: Error: AccessDenied/);
    expect(c.now()).to.be.at.most(60_000);
  });
});
