import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  DocumentInputError,
  MEMBER_INVESTIGATOR_LOGICAL_ID,
  MEMBER_RESPONDER_LOGICAL_ID,
  memberRoleTrust,
  memberRolesTemplate,
  type MemberRolesTemplateArgs,
} from "../../../components/documents";
import {
  EVIDENCE_KEY_ARNS,
  FORENSIC_INVESTIGATOR_ARN,
  FORENSIC_RESPONDER_ARN,
  MEMBER_INVESTIGATOR_NAME,
  MEMBER_RESPONDER_NAME,
} from "./simulate";

/** The template as the StackSet component builds it, with `overrides`. */
const template = (overrides: Partial<MemberRolesTemplateArgs> = {}) =>
  memberRolesTemplate({
    forensicResponderRoleArn: FORENSIC_RESPONDER_ARN,
    forensicInvestigatorRoleArn: FORENSIC_INVESTIGATOR_ARN,
    responderRoleName: MEMBER_RESPONDER_NAME,
    investigatorRoleName: MEMBER_INVESTIGATOR_NAME,
    evidenceKeyArns: EVIDENCE_KEY_ARNS,
    ...overrides,
  });

/** One cfn-lint finding. */
interface Finding {
  Filename: string;
  Level: "Error" | "Warning" | "Informational";
  Message: string;
  Rule: { Id: string };
}

/**
 * Lints templates with the `cfn-lint` binary, all in one run (it takes seconds to start). cfn-lint exits non-zero
 * when it finds anything, so its JSON report on stdout is read whatever the exit code; a run that prints no JSON
 * (cfn-lint missing, crashed) fails the test.
 */
async function cfnLint(files: string[]): Promise<Finding[]> {
  const output = await promisify(execFile)("cfn-lint", ["--format", "json", ...files], {
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    (result) => result.stdout,
    (error: { stdout?: string; message: string }) => {
      if (error.stdout === undefined || error.stdout.trim() === "")
        throw new Error(`cfn-lint did not run: ${error.message}`);
      return error.stdout;
    },
  );
  return JSON.parse(output) as Finding[];
}

const describeFinding = (f: Finding): string => `${f.Level} ${f.Rule.Id}: ${f.Message}`;

describe("documents/stackset: member-roles template", () => {
  let dir: string;
  let findings: Finding[];
  let generated: string;
  let broken: string;

  before(async function () {
    this.timeout(120_000);
    dir = mkdtempSync(join(tmpdir(), "flz-stackset-"));
    generated = join(dir, "member-roles.json");
    broken = join(dir, "member-roles-broken.json");
    writeFileSync(generated, JSON.stringify(template(), null, 2));
    // The negative control: the same template with one property CloudFormation does not know.
    const bad = JSON.parse(JSON.stringify(template())) as {
      Resources: Record<string, { Properties: Record<string, unknown> }>;
    };
    bad.Resources[MEMBER_RESPONDER_LOGICAL_ID].Properties.PermissionsBoundry = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    writeFileSync(broken, JSON.stringify(bad, null, 2));
    findings = await cfnLint([generated, broken]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("passes cfn-lint without error-level findings (warnings are printed)", () => {
    const mine = findings.filter((f) => f.Filename === generated);
    for (const warning of mine.filter((f) => f.Level !== "Error"))
      console.log(`      cfn-lint ${describeFinding(warning)}`);
    expect(mine.filter((f) => f.Level === "Error").map(describeFinding)).to.deep.equal([]);
  });
  it("would fail the check if the template had an invalid property (the lint really runs)", () => {
    const errors = findings.filter((f) => f.Filename === broken && f.Level === "Error");
    expect(errors.map(describeFinding).join("\n")).to.match(/E3002: .*PermissionsBoundry/);
  });
  it("declares the two roles with fixed names, the builders' trust policies, and their ARNs as outputs", () => {
    const t = template();
    const responder = t.Resources[MEMBER_RESPONDER_LOGICAL_ID].Properties;
    const investigator = t.Resources[MEMBER_INVESTIGATOR_LOGICAL_ID].Properties;
    expect(responder.RoleName).to.equal(MEMBER_RESPONDER_NAME);
    expect(investigator.RoleName).to.equal(MEMBER_INVESTIGATOR_NAME);
    expect(responder.AssumeRolePolicyDocument).to.deep.equal(
      memberRoleTrust({ forensicRoleArn: FORENSIC_RESPONDER_ARN }),
    );
    expect(investigator.AssumeRolePolicyDocument).to.deep.equal(
      memberRoleTrust({ forensicRoleArn: FORENSIC_INVESTIGATOR_ARN }),
    );
    expect(t.Outputs.ResponderRoleArn.Value).to.deep.equal({ "Fn::GetAtt": [MEMBER_RESPONDER_LOGICAL_ID, "Arn"] });
    expect(t.Outputs.InvestigatorRoleArn.Value).to.deep.equal({
      "Fn::GetAtt": [MEMBER_INVESTIGATOR_LOGICAL_ID, "Arn"],
    });
  });
  it("limits sessions to one hour by default, and accepts IAM's range only", () => {
    expect(template().Resources[MEMBER_RESPONDER_LOGICAL_ID].Properties.MaxSessionDuration).to.equal(3600);
    expect(
      template({ maxSessionSeconds: 7200 }).Resources[MEMBER_INVESTIGATOR_LOGICAL_ID].Properties.MaxSessionDuration,
    ).to.equal(7200);
    expect(() => template({ maxSessionSeconds: 60 })).to.throw(
      DocumentInputError,
      /maxSessionSeconds: 60 is not a whole number of seconds from 3600 to 43200/,
    );
  });
  it("uses the partition of the forensic account for managed policies", () => {
    const gov = template({
      forensicResponderRoleArn: "arn:aws-us-gov:iam::222222222222:role/FlzForensicResponder",
      forensicInvestigatorRoleArn: "arn:aws-us-gov:iam::222222222222:role/FlzForensicInvestigator",
      evidenceKeyArns: ["arn:aws-us-gov:kms:us-gov-west-1:222222222222:key/mrk-0123456789abcdef0123456789abcdef"],
    });
    expect(gov.Resources[MEMBER_INVESTIGATOR_LOGICAL_ID].Properties.ManagedPolicyArns).to.deep.equal([
      "arn:aws-us-gov:iam::aws:policy/SecurityAudit",
      "arn:aws-us-gov:iam::aws:policy/job-function/ViewOnlyAccess",
    ]);
  });
  it("refuses the same name for both roles", () => {
    expect(() => template({ investigatorRoleName: MEMBER_RESPONDER_NAME })).to.throw(
      DocumentInputError,
      /give the two roles different names/,
    );
  });
});
