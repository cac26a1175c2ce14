import { expect } from "chai";
import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  DeletePolicyCommand,
  DeleteResourcePolicyCommand,
  DescribeOrganizationCommand,
  DescribePolicyCommand,
  DescribeResourcePolicyCommand,
  DetachPolicyCommand,
  InviteAccountToOrganizationCommand,
  ListAccountsCommand,
  ListPoliciesCommand,
  ListPoliciesForTargetCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
  PutResourcePolicyCommand,
  UpdatePolicyCommand,
} from "@aws-sdk/client-organizations";
import { ClientFactory } from "../../scripts/aws/clients";
import { SEED_ACCOUNTS, seedOrganization } from "../../scripts/emulator/seed";
import { emulator, useEmulator } from "../support/emulator";

// The emulator extension (scripts/emulator/flz_organizations.py) on its own: accounts with known IDs invited into an
// organisation, the organisation's resource-based delegation policy, and a delegated member account's policy calls
// acting on the organisation's policies. Authorization is not the emulator's business (the evaluator decides it):
// these tests only show where the calls land.
describe("emulator extension: Organizations delegated policy management", () => {
  useEmulator();
  const { management, forensic } = SEED_ACCOUNTS;
  const [member, other] = SEED_ACCOUNTS.members;
  let factory: ClientFactory;
  const org = (account: string) => factory.client(OrganizationsClient, { account, region: "us-east-1" });
  const delegateTo = (account: string) => () => ({
    Version: "2012-10-17" as const,
    Statement: [
      {
        Effect: "Allow" as const,
        Principal: { AWS: `arn:aws:iam::${account}:role/FlzForensicResponder` },
        Action: "organizations:*",
        Resource: "*",
      },
    ],
  });
  const scp = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Deny", Action: "s3:*", Resource: "*" }] });
  const errorName = (p: Promise<unknown>) =>
    p.then(
      () => "no error",
      (e: unknown) => (e as Error).name,
    );

  beforeEach(() => {
    factory = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  });
  afterEach(() => factory.destroy());

  it("brings accounts with known IDs into the organisation by invitation", async () => {
    const seeded = await seedOrganization();
    const accounts = (await org(management).send(new ListAccountsCommand({}))).Accounts ?? [];
    expect(accounts.map((a) => a.Id).sort()).to.deep.equal([management, forensic, member, other].sort());
    expect(accounts.find((a) => a.Id === member)?.JoinedMethod).to.equal("INVITED");
    const seen = await org(member).send(new DescribeOrganizationCommand({}));
    expect(seen.Organization?.Id).to.equal(seeded.organizationId);
    expect(seen.Organization?.MasterAccountId).to.equal(management);
    const attached = await org(management).send(
      new ListPoliciesForTargetCommand({ TargetId: member, Filter: "SERVICE_CONTROL_POLICY" }),
    );
    expect(attached.Policies?.map((p) => p.Name)).to.deep.equal(["FullAWSAccess"]);
    expect(
      await errorName(
        org(management).send(new InviteAccountToOrganizationCommand({ Target: { Type: "ACCOUNT", Id: member } })),
      ),
    ).to.equal("AlreadyInOrganizationException");
  });

  it("refuses policy calls from a member the delegation policy does not name", async () => {
    await seedOrganization({ delegation: delegateTo(other) });
    expect(
      await errorName(
        org(forensic).send(
          new CreatePolicyCommand({ Name: "x", Description: "x", Type: "SERVICE_CONTROL_POLICY", Content: scp }),
        ),
      ),
    ).to.equal("AccessDeniedException");
    expect(await errorName(org(forensic).send(new ListPoliciesCommand({ Filter: "SERVICE_CONTROL_POLICY" })))).to.equal(
      "AccessDeniedException",
    );
  });

  it("lets the delegated member create, tag, attach, update, detach and delete the organisation's SCPs", async () => {
    await seedOrganization({ delegation: delegateTo(forensic) });
    const created = await org(forensic).send(
      new CreatePolicyCommand({
        Name: "flz-quarantine-test",
        Description: "test",
        Type: "SERVICE_CONTROL_POLICY",
        Content: scp,
        Tags: [{ Key: "flz:purpose", Value: "quarantine" }],
      }),
    );
    const id = created.Policy?.PolicySummary?.Id ?? "";
    // The policy is the organisation's: the management account sees it, with its tags.
    const listed = await org(management).send(new ListPoliciesCommand({ Filter: "SERVICE_CONTROL_POLICY" }));
    expect(listed.Policies?.map((p) => p.Name)).to.include("flz-quarantine-test");
    const tags = await org(management).send(new ListTagsForResourceCommand({ ResourceId: id }));
    expect(tags.Tags).to.deep.equal([{ Key: "flz:purpose", Value: "quarantine" }]);

    await org(forensic).send(new AttachPolicyCommand({ PolicyId: id, TargetId: member }));
    const attached = await org(management).send(
      new ListPoliciesForTargetCommand({ TargetId: member, Filter: "SERVICE_CONTROL_POLICY" }),
    );
    expect(attached.Policies?.map((p) => p.Id)).to.include(id);

    const changed = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Action: "ec2:*", Resource: "*" }],
    });
    await org(forensic).send(new UpdatePolicyCommand({ PolicyId: id, Content: changed }));
    expect((await org(management).send(new DescribePolicyCommand({ PolicyId: id }))).Policy?.Content).to.equal(changed);

    expect(await errorName(org(forensic).send(new DeletePolicyCommand({ PolicyId: id })))).to.equal(
      "PolicyInUseException",
    );
    await org(forensic).send(new DetachPolicyCommand({ PolicyId: id, TargetId: member }));
    await org(forensic).send(new DeletePolicyCommand({ PolicyId: id }));
    const after = await org(management).send(new ListPoliciesCommand({ Filter: "SERVICE_CONTROL_POLICY" }));
    expect(after.Policies?.map((p) => p.Name)).to.not.include("flz-quarantine-test");
  });

  it("keeps the delegation policy a management-account matter", async () => {
    await seedOrganization({ delegation: delegateTo(forensic) });
    const put = new PutResourcePolicyCommand({ Content: JSON.stringify(delegateTo(member)()) });
    expect(await errorName(org(forensic).send(put))).to.equal("AccessDeniedException");
    expect(await errorName(org(member).send(put))).to.equal("AccessDeniedException");
    const seen = await org(forensic).send(new DescribeResourcePolicyCommand({}));
    expect(JSON.parse(seen.ResourcePolicy?.Content ?? "{}")).to.deep.equal(delegateTo(forensic)());
    await org(management).send(new DeleteResourcePolicyCommand({}));
    expect(await errorName(org(forensic).send(new ListPoliciesCommand({ Filter: "SERVICE_CONTROL_POLICY" })))).to.equal(
      "AccessDeniedException",
    );
  });

  it("forgets memberships on reset instead of failing", async () => {
    await seedOrganization();
    await (await emulator()).reset();
    expect(await errorName(org(member).send(new DescribeOrganizationCommand({})))).to.equal(
      "AWSOrganizationsNotInUseException",
    );
  });
});
