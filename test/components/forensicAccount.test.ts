import { expect } from "chai";
import { ForensicAccount } from "../../components/forensicAccount";
import { MOCK_ROOT_ID, providerInput, runProgram } from "../../scripts/plan/mock-engine";
import { allOf, one } from "./helpers";

const PROVIDER = "pulumi:providers:aws";

describe("ForensicAccount", () => {
  it("adopts an existing account: one provider per governed region, assuming the admin role, pinned to that account", async () => {
    const run = await runProgram(() => {
      const account = new ForensicAccount("forensic", {
        source: { kind: "adopt", accountId: "555555555555" },
        regions: ["us-east-1", "eu-west-1"],
      });
      return { id: account.accountId };
    });
    expect(allOf(run, "aws:organizations/account:Account")).to.have.length(0);
    const providers = allOf(run, PROVIDER);
    expect(providers.map((p) => providerInput<string>(p, "region"))).to.have.members(["us-east-1", "eu-west-1"]);
    for (const p of providers) {
      expect(providerInput<string[]>(p, "allowedAccountIds")).to.deep.equal(["555555555555"]);
      expect(providerInput<Array<{ roleArn: string }>>(p, "assumeRoles")?.[0].roleArn).to.equal(
        "arn:aws:iam::555555555555:role/OrganizationAccountAccessRole",
      );
    }
    expect(run.outputs.id).to.equal("555555555555");
  });

  it("creates the account in a Forensics OU under the root, never closing it on deletion", async () => {
    const run = await runProgram(() => {
      const account = new ForensicAccount("forensic", {
        source: {
          kind: "create",
          email: "forensics@example.com",
          accountName: "Forensics",
          organizationalUnitName: "Forensics",
        },
        adminRoleName: "FlzDeployer",
        regions: ["us-east-1"],
      });
      return { id: account.accountId };
    });
    const ou = one(run, "aws:organizations/organizationalUnit:OrganizationalUnit");
    expect(ou.inputs).to.include({ name: "Forensics", parentId: MOCK_ROOT_ID });
    const account = one(run, "aws:organizations/account:Account");
    expect(account.inputs).to.include({
      email: "forensics@example.com",
      name: "Forensics",
      roleName: "FlzDeployer",
      closeOnDeletion: false,
      parentId: ou.id,
    });
    // The provider is built from the new account's outputs, so it waits for the account and its admin role.
    const provider = one(run, PROVIDER);
    expect(providerInput<string[]>(provider, "allowedAccountIds")).to.deep.equal([account.id]);
    expect(providerInput<Array<{ roleArn: string }>>(provider, "assumeRoles")?.[0].roleArn).to.equal(
      `arn:aws:iam::${account.id}:role/FlzDeployer`,
    );
  });

  it("names the governed regions when asked for a provider outside them", async () => {
    let error: unknown;
    await runProgram(() => {
      const account = new ForensicAccount("forensic", {
        source: { kind: "adopt", accountId: "555555555555" },
        regions: ["us-east-1"],
      });
      try {
        account.providerFor("eu-west-3");
      } catch (err) {
        error = err;
      }
      return {};
    });
    expect(String(error)).to.include("eu-west-3 is not a governed region; governed: us-east-1");
  });
});
