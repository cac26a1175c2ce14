import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import {
  assertStackSetsTrustedAccess,
  MemberRoles,
  MemberRolesArgs,
  STACKSETS_SERVICE_PRINCIPAL,
} from "../../components/memberRoles";
import type { MemberRolesTemplate, PolicyStatement } from "../../components/documents";
import { placementOf, runProgram } from "../../scripts/plan/mock-engine";
import { allOf, covers, json, one, statements } from "./helpers";

const FORENSIC = "222222222222";
const ORG = "o-exampleorg1";
const ROLE = "aws:iam/role:Role";
const STACKSET = "aws:cloudformation/stackSet:StackSet";
const INSTANCE = "aws:cloudformation/stackSetInstance:StackSetInstance";

function roles(overrides: Partial<MemberRolesArgs> = {}) {
  return runProgram(() => {
    const forensicProvider = new aws.Provider("forensic", { region: "us-east-1", allowedAccountIds: [FORENSIC] });
    const management = new aws.Provider("management", { region: "us-east-1", allowedAccountIds: ["111111111111"] });
    const r = new MemberRoles(
      "roles",
      {
        forensicProvider,
        forensicAccountId: FORENSIC,
        organizationId: ORG,
        targetOrganizationalUnitIds: ["ou-ab12-workload1", "ou-ab12-sandbox01"],
        stackSetRegion: "us-east-1",
        evidenceKeyArns: {
          "us-east-1": `arn:aws:kms:us-east-1:${FORENSIC}:key/mrk-1`,
          "eu-west-1": `arn:aws:kms:eu-west-1:${FORENSIC}:key/mrk-1`,
        },
        signingKeyArn: `arn:aws:kms:us-east-1:${FORENSIC}:key/sign`,
        evidenceBucketArn: "arn:aws:s3:::flz-evidence",
        trailBucketArn: "arn:aws:s3:::flz-trail",
        trailKeyArn: `arn:aws:kms:us-east-1:${FORENSIC}:key/trail`,
        responderPrincipalArns: [`arn:aws:iam::${FORENSIC}:role/IncidentResponder`],
        ...overrides,
      },
      { provider: management },
    );
    return { responder: r.forensicResponderRoleArn, member: r.memberResponderRoleName };
  });
}

describe("MemberRoles", () => {
  it("deploys the member roles with a service-managed StackSet that auto-deploys to the target OUs in one region", async () => {
    const run = await roles();
    const stackSet = one(run, STACKSET);
    expect(stackSet.inputs).to.include({ permissionModel: "SERVICE_MANAGED", name: "flz-member-roles" });
    expect(stackSet.inputs.autoDeployment).to.deep.equal({ enabled: true, retainStacksOnAccountRemoval: false });
    expect(stackSet.inputs.capabilities).to.deep.equal(["CAPABILITY_NAMED_IAM"]);
    const instance = one(run, INSTANCE);
    expect(instance.inputs.stackSetName).to.equal("flz-member-roles");
    expect(instance.inputs.stackSetInstanceRegion).to.equal("us-east-1");
    expect(instance.inputs.deploymentTargets).to.deep.equal({
      organizationalUnitIds: ["ou-ab12-workload1", "ou-ab12-sandbox01"],
    });
    // StackSets live in the management account.
    for (const r of [stackSet, instance]) expect(placementOf(run, r).account).to.equal("111111111111");
  });

  it("generates member roles trusted only by the matching forensic role, with 1-hour sessions and session tags", async () => {
    const run = await roles();
    const template = json<MemberRolesTemplate>(one(run, STACKSET), "templateBody");
    const byName = Object.fromEntries(
      Object.values(template.Resources).map((r) => [r.Properties.RoleName, r.Properties]),
    );
    expect(Object.keys(byName)).to.have.members(["FlzMemberResponder", "FlzMemberInvestigator"]);
    // Built from the forensic account and the role name, so the template is known at a first preview.
    const forensic = (name: string) => `arn:aws:iam::${FORENSIC}:role/${name}`;
    for (const [member, trusted] of [
      ["FlzMemberResponder", forensic("FlzForensicResponder")],
      ["FlzMemberInvestigator", forensic("FlzForensicInvestigator")],
    ]) {
      const props = byName[member];
      expect(props.MaxSessionDuration).to.equal(3600);
      const allows = props.AssumeRolePolicyDocument.Statement.filter((s) => s.Effect === "Allow");
      expect(allows.map((s) => s.Principal)).to.deep.equal(allows.map(() => ({ AWS: trusted })));
      expect(allows.some((s) => covers(s, "sts:TagSession"))).to.equal(true);
    }
  });

  it("passes cfn-lint with no errors", async function () {
    this.timeout(60000);
    const run = await roles();
    const dir = mkdtempSync(path.join(tmpdir(), "flz-stackset-"));
    const file = path.join(dir, "member-roles.json");
    writeFileSync(file, one(run, STACKSET).inputs.templateBody as string);
    // cfn-lint exits 2 on errors (4 warnings, 8 informational); only errors fail the deployment.
    let status = 0;
    let output = "";
    try {
      output = execFileSync("cfn-lint", ["--format", "parseable", file], { encoding: "utf8" });
    } catch (err) {
      const e = err as { status: number; stdout: string };
      status = e.status;
      output = e.stdout;
    }
    expect(status & 2, output).to.equal(0);
  });

  it("creates the forensic responder, investigator and break-glass roles in the forensic account", async () => {
    const run = await roles();
    const created = allOf(run, ROLE);
    expect(created.map((r) => r.inputs.name)).to.have.members([
      "FlzForensicResponder",
      "FlzForensicInvestigator",
      "FlzBreakGlass",
    ]);
    for (const role of created) {
      expect(placementOf(run, role).account, String(role.inputs.name)).to.equal(FORENSIC);
      expect(role.inputs.maxSessionDuration).to.equal(3600);
    }
    for (const policy of allOf(run, "aws:iam/rolePolicy:RolePolicy"))
      expect(placementOf(run, policy).account).to.equal(FORENSIC);
  });

  it("lets only the named principals of the organisation assume the responder role; the investigator defaults to the forensic account", async () => {
    const run = await roles();
    const [trust] = statements(created(run, "FlzForensicInvestigator"), "assumeRolePolicy").filter(
      (s) => s.Effect === "Allow",
    );
    expect(JSON.stringify(trust.Principal)).to.include(`arn:aws:iam::${FORENSIC}:root`);
    expect(JSON.stringify(trust.Condition)).to.include(ORG);
    const narrowed = await roles({ responderPrincipalArns: ["arn:aws:iam::222222222222:role/IR-Team"] });
    const [narrow] = statements(created(narrowed, "FlzForensicResponder"), "assumeRolePolicy").filter(
      (s) => s.Effect === "Allow",
    );
    expect(JSON.stringify(narrow.Principal)).to.include("role/IR-Team").and.not.include(":root");
  });

  it("requires fresh MFA for the break-glass role", async () => {
    const run = await roles({ breakGlassMaxMfaAgeSeconds: 900 });
    const trust = statements(created(run, "FlzBreakGlass"), "assumeRolePolicy");
    const text = JSON.stringify(trust);
    expect(text).to.include("aws:MultiFactorAuthPresent").and.include("aws:MultiFactorAuthAge").and.include("900");
  });

  it("grants the forensic responder the member responder role, the evidence keys and the signing key", async () => {
    const run = await roles();
    const policy = allOf(run, "aws:iam/rolePolicy:RolePolicy").find((p) => p.name.endsWith("forensic-responder"))!;
    const text = JSON.stringify(statements(policy));
    expect(text)
      .to.include("role/FlzMemberResponder")
      .and.include("key/mrk-1")
      .and.include("key/sign")
      .and.include("flz-evidence");
  });

  it("names the forensic account's keys by purpose tag when no key ARNs are given (known at a first preview)", async () => {
    const run = await roles({ evidenceKeyArns: undefined, signingKeyArn: undefined, trailKeyArn: undefined });
    const pattern = `arn:aws:kms:*:${FORENSIC}:key/*`;
    const byPurpose = (stmts: PolicyStatement[], sid: string) => {
      const s = stmts.find((x) => x.Sid === sid);
      expect(s, sid).to.not.equal(undefined);
      return { resource: s!.Resource, purpose: s!.Condition?.StringEquals?.["aws:ResourceTag/flz:purpose"] };
    };
    const policy = (suffix: string) =>
      statements(allOf(run, "aws:iam/rolePolicy:RolePolicy").find((p) => p.name.endsWith(suffix))!);
    expect(byPurpose(policy("forensic-responder"), "SignCustodyRecords")).to.deep.equal({
      resource: pattern,
      purpose: "custody-signing",
    });
    expect(byPurpose(policy("forensic-responder"), "UseEvidenceKeys")).to.deep.equal({
      resource: pattern,
      purpose: "evidence-key",
    });
    expect(byPurpose(policy("forensic-investigator"), "DecryptTrailLogs")).to.deep.equal({
      resource: pattern,
      purpose: "trail-key",
    });
    const template = json<MemberRolesTemplate>(one(run, STACKSET), "templateBody");
    const member = Object.values(template.Resources).find((r) => r.Properties.RoleName === "FlzMemberResponder")!;
    expect(byPurpose(member.Properties.Policies[0].PolicyDocument.Statement, "UseEvidenceKeys")).to.deep.equal({
      resource: pattern,
      purpose: "evidence-key",
    });
  });

  it("deploys the StackSet only after the forensic roles its template trusts exist", async () => {
    const run = await roles();
    const roleUrns = allOf(run, ROLE)
      .filter((r) => r.inputs.name !== "FlzBreakGlass")
      .map((r) => r.urn);
    expect(one(run, STACKSET).options?.dependsOn).to.include.members(roleUrns);
  });

  it("refuses a responder role without named principals (no account-root default)", async () => {
    const error = await roles({ responderPrincipalArns: [] }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).to.match(/responderPrincipalArns is empty; name the roles or users/);
  });

  it("rolls the StackSet instance out a quarter of the accounts at a time, with soft failure tolerance and a 2-hour timeout", async () => {
    const run = await roles();
    const instance = one(run, INSTANCE);
    expect(instance.inputs.operationPreferences).to.deep.equal({
      failureTolerancePercentage: 10,
      maxConcurrentPercentage: 25,
      regionConcurrencyType: "PARALLEL",
      concurrencyMode: "SOFT_FAILURE_TOLERANCE",
    });
  });

  it("refuses an empty list of target OUs", async () => {
    let error: unknown;
    await runProgram(() => {
      try {
        new MemberRoles("bad", {
          forensicProvider: new aws.Provider("p", { region: "us-east-1" }),
          forensicAccountId: FORENSIC,
          organizationId: ORG,
          targetOrganizationalUnitIds: [],
          responderPrincipalArns: [`arn:aws:iam::${FORENSIC}:role/IncidentResponder`],
          stackSetRegion: "us-east-1",
          evidenceKeyArns: {},
          signingKeyArn: "k",
          evidenceBucketArn: "b",
          trailBucketArn: "t",
          trailKeyArn: "k",
        });
      } catch (err) {
        error = err;
      }
      return {};
    });
    expect(String(error)).to.match(/targetOrganizationalUnitIds is empty/);
  });

  it("stops with a clear error when trusted access for StackSets is off", () => {
    expect(() => assertStackSetsTrustedAccess(["cloudtrail.amazonaws.com"])).to.throw(
      new RegExp(
        `trusted access for CloudFormation StackSets is not enabled .*${STACKSETS_SERVICE_PRINCIPAL.replace(/\./g, "\\.")}`,
      ),
    );
    expect(() => assertStackSetsTrustedAccess([STACKSETS_SERVICE_PRINCIPAL])).to.not.throw();
  });
});

function created(run: { resources: import("../../scripts/plan/mock-engine").RecordedResource[] }, name: string) {
  const role = allOf(run, ROLE).find((r) => r.inputs.name === name);
  expect(role, name).to.not.equal(undefined);
  return role!;
}
