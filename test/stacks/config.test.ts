import { expect } from "chai";
import { parseStackConfig, StackConfigError } from "../../stacks/config";

const NS = "forensic-landing-zone";

/** A complete, valid configuration (adopting the forensic account); each test changes one thing. */
function valid(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const base: Record<string, string | undefined> = {
    "aws:region": "us-east-1",
    [`${NS}:forensicAccountId`]: "222222222222",
    [`${NS}:homeRegion`]: "us-east-1",
    [`${NS}:regions`]: '["us-east-1","eu-west-1"]',
    [`${NS}:targetOuIds`]: '["ou-ab12-workload1"]',
    [`${NS}:responderPrincipals`]: '["arn:aws:iam::222222222222:role/IncidentResponder"]',
    [`${NS}:deploymentRoleArn`]: "arn:aws:iam::*:role/OrganizationAccountAccessRole",
  };
  for (const [key, value] of Object.entries(overrides)) base[key.includes(":") ? key : `${NS}:${key}`] = value;
  return Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined));
}

function errorOf(raw: Record<string, string>): StackConfigError {
  try {
    parseStackConfig(raw);
  } catch (err) {
    expect(err).to.be.instanceOf(StackConfigError);
    return err as StackConfigError;
  }
  throw new Error("expected a StackConfigError");
}

describe("stack configuration", () => {
  it("accepts a minimal adopting configuration and leaves every default to the components", () => {
    const args = parseStackConfig(valid());
    expect(args.forensicAccount).to.deep.equal({ kind: "adopt", accountId: "222222222222" });
    expect(args.regions).to.deep.equal(["us-east-1", "eu-west-1"]);
    expect(args.homeRegion).to.equal("us-east-1");
    expect(args.targetOrganizationalUnitIds).to.deep.equal(["ou-ab12-workload1"]);
    expect(args.trailRetentionDays).to.equal(undefined);
    expect(args.s3ObjectWrites).to.equal(undefined);
  });

  it("creates the forensic account from an e-mail address, with default names", () => {
    const args = parseStackConfig(
      valid({ forensicAccountId: undefined, forensicAccountEmail: "forensics@example.com" }),
    );
    expect(args.forensicAccount).to.deep.equal({
      kind: "create",
      email: "forensics@example.com",
      accountName: "Forensics",
      organizationalUnitName: "Forensics",
    });
  });

  it("reads every optional key", () => {
    const args = parseStackConfig(
      valid({
        managementAccountId: "111111111111",
        trailRetentionDays: "2555",
        evidenceRetentionDays: "3650",
        trailName: "org-trail",
        s3DataEvents: "false",
        lambdaDataEvents: "true",
        cloudWatchLogsRetentionDays: "90",
        additionalEventSelectors: '[{"name":"ddb","fieldSelectors":[{"field":"eventCategory","equals":["Data"]}]}]',
        responderPrincipals: '["arn:aws:iam::222222222222:role/IR"]',
        memberResponderRoleName: "IrResponder",
        bucketPrefix: "acme-ir",
        keyDeletionWindowDays: "14",
        targetOuIds: "ou-ab12-workload1, r-ab12",
      }),
    );
    expect(args).to.deep.include({
      managementAccountId: "111111111111",
      trailRetentionDays: 2555,
      evidenceRetentionDays: 3650,
      trailName: "org-trail",
      s3ObjectWrites: false,
      lambdaInvokes: true,
      cloudWatchLogsRetentionDays: 90,
      responderPrincipalArns: ["arn:aws:iam::222222222222:role/IR"],
      bucketPrefix: "acme-ir",
      keyDeletionWindowDays: 14,
      targetOrganizationalUnitIds: ["ou-ab12-workload1", "r-ab12"],
    });
    expect(args.roleNames).to.deep.equal({ memberResponder: "IrResponder" });
    expect(args.additionalEventSelectors).to.have.length(1);
  });

  const invalid: Array<[string, Record<string, string | undefined>, string, RegExp]> = [
    [
      "missing forensic account",
      { forensicAccountId: undefined },
      "forensicAccountId",
      /missing: no forensic account; set forensicAccountId .* or forensicAccountEmail/,
    ],
    ["both adopt and create", { forensicAccountEmail: "a@example.com" }, "forensicAccountId", /not both/],
    [
      "malformed account ID",
      { forensicAccountId: "22222222222" },
      "forensicAccountId",
      /"22222222222" is not valid; valid: a 12-digit AWS account ID/,
    ],
    ["account ID with letters", { forensicAccountId: "22222222222a" }, "forensicAccountId", /12-digit/],
    [
      "malformed management account",
      { managementAccountId: "mgmt" },
      "managementAccountId",
      /"mgmt" is not valid; valid: a 12-digit/,
    ],
    [
      "forensic account is the management account",
      { managementAccountId: "222222222222" },
      "forensicAccountId",
      /is the management account/,
    ],
    [
      "malformed e-mail",
      { forensicAccountId: undefined, forensicAccountEmail: "forensics" },
      "forensicAccountEmail",
      /"forensics" is not valid; valid: an e-mail address/,
    ],
    ["account name when adopting", { forensicAccountName: "X" }, "forensicAccountName", /applies only when creating/],
    ["retention 0", { trailRetentionDays: "0" }, "trailRetentionDays", /"0" is not a whole number from 1 to 36500/],
    [
      "negative evidence retention",
      { evidenceRetentionDays: "-5" },
      "evidenceRetentionDays",
      /"-5" is not a whole number from 1 to 36500/,
    ],
    ["fractional retention", { evidenceRetentionDays: "1.5" }, "evidenceRetentionDays", /not a whole number/],
    ["retention beyond 100 years", { evidenceRetentionDays: "36501" }, "evidenceRetentionDays", /from 1 to 36500/],
    [
      "unknown region",
      { regions: '["us-east-1","eu-west-9"]' },
      "regions",
      /"eu-west-9" is not a known AWS region; valid: .*us-east-1/,
    ],
    ["unknown home region", { homeRegion: "mars-1" }, "homeRegion", /"mars-1" is not a known AWS region/],
    [
      "home region not governed",
      { homeRegion: "us-west-2" },
      "homeRegion",
      /"us-west-2" is not a governed region; valid: one of regions \[us-east-1, eu-west-1\]/,
    ],
    ["duplicate regions", { regions: '["us-east-1","eu-west-1","us-east-1"]' }, "regions", /"us-east-1" appears twice/],
    ["no regions", { regions: "[]" }, "regions", /is empty; name at least one/],
    ["missing regions", { regions: undefined }, "regions", /missing; valid: a list of governed regions/],
    ["regions not a list", { regions: '{"a":1}' }, "regions", /not a list of strings|is not a known AWS region/],
    [
      "missing home region",
      { homeRegion: undefined },
      "homeRegion",
      /missing; valid: one of the governed regions \[us-east-1, eu-west-1\]/,
    ],
    ["missing target OUs", { targetOuIds: undefined }, "targetOuIds", /missing/],
    [
      "malformed OU",
      { targetOuIds: '["workloads"]' },
      "targetOuIds",
      /"workloads" is not valid; valid: an OU ID such as ou-/,
    ],
    ["duplicate OU", { targetOuIds: '["r-ab12","r-ab12"]' }, "targetOuIds", /appears twice/],
    ["bad boolean", { s3DataEvents: "yes" }, "s3DataEvents", /"yes" is not a boolean; valid: true, false/],
    [
      "bad CloudWatch retention",
      { cloudWatchLogsRetentionDays: "10" },
      "cloudWatchLogsRetentionDays",
      /"10" is not a CloudWatch Logs retention; valid: 1, 3, 5/,
    ],
    ["deletion window too short", { keyDeletionWindowDays: "6" }, "keyDeletionWindowDays", /from 7 to 30/],
    [
      "bad principal",
      { responderPrincipals: '["alice"]' },
      "responderPrincipals",
      /"alice" is not valid; valid: IAM principal ARNs/,
    ],
    [
      "bad role name",
      { memberResponderRoleName: "has space" },
      "memberResponderRoleName",
      /is not valid; valid: an IAM role name/,
    ],
    [
      "two roles with one name",
      { memberInvestigatorRoleName: "FlzMemberResponder" },
      "memberInvestigatorRoleName",
      /also the memberResponder role's name/,
    ],
    ["bad trail name", { trailName: "-trail" }, "trailName", /"-trail" is not valid/],
    ["bad bucket prefix", { bucketPrefix: "Flz_" }, "bucketPrefix", /lowercase/],
    [
      "bad event selectors",
      { additionalEventSelectors: '[{"name":"x"}]' },
      "additionalEventSelectors",
      /item 0 .* is not valid/,
    ],
    ["misspelt key", { homeRegoin: "us-east-1" }, "homeRegoin", /unknown key; valid keys: .*homeRegion/],
    [
      "guardrail target that is a name",
      { guardrailTargetIds: '["Root"]' },
      "guardrailTargetIds",
      /"Root" is not valid/,
    ],
    [
      "deployment role that is not a role ARN",
      { deploymentRoleArn: "arn:aws:iam::*:user/deployer" },
      "deploymentRoleArn",
      /is not valid; valid: a role ARN such as arn:aws:iam::\*:role\/OrganizationAccountAccessRole/,
    ],
    [
      "no deployment role",
      { deploymentRoleArn: undefined },
      "deploymentRoleArn",
      /missing; valid: the role the deployment acts as/,
    ],
    [
      "deployment role that is not the forensic account's admin role",
      {
        deploymentRoleArn: "arn:aws:iam::*:role/FlzDeployment",
        forensicAccountAdminRoleName: "OrganizationAccountAccessRole",
      },
      "deploymentRoleArn",
      /names role FlzDeployment, but forensicAccountAdminRoleName is OrganizationAccountAccessRole/,
    ],
    [
      "deployment role of another account",
      { deploymentRoleArn: "arn:aws:iam::333333333333:role/OrganizationAccountAccessRole" },
      "deploymentRoleArn",
      /names account 333333333333, not the forensic account 222222222222/,
    ],
    [
      "no responder principals",
      { responderPrincipals: undefined },
      "responderPrincipals",
      /missing; valid: the roles or users/,
    ],
    [
      "the forensic account's root as responder principal",
      { responderPrincipals: '["arn:aws:iam::222222222222:root"]' },
      "responderPrincipals",
      /is an account root .*valid: named roles or users/,
    ],
    [
      "a Detective graph ARN of another region",
      { detectiveGraphArns: '{"us-east-1":"arn:aws:detective:eu-west-1:222222222222:graph:0123abcd"}' },
      "detectiveGraphArns",
      /\(for us-east-1\) is not valid/,
    ],
    [
      "guardrail settings with guardrails off",
      { guardrails: "false", workloadBaseline: "true" },
      "workloadBaseline",
      /guardrails is false/,
    ],
    ["bad switch", { forensicVpc: "on" }, "forensicVpc", /"on" is not a boolean/],
    [
      "detection admin = management",
      { managementAccountId: "111111111111", detectionAdminAccountId: "111111111111" },
      "detectionAdminAccountId",
      /is the management account/,
    ],
    [
      "detection settings with detection off",
      { detection: "false", guardDuty: "true" },
      "guardDuty",
      /detection is false/,
    ],
    [
      "cutoff under Athena's minimum",
      { investigationBytesScannedCutoff: "1000" },
      "investigationBytesScannedCutoff",
      /from 10000000/,
    ],
    ["VPC CIDR too small", { forensicVpcCidr: "10.77.0.0/24" }, "forensicVpcCidr", /\/16 to \/22/],
    [
      "VPC zone of another region",
      { forensicVpcZones: '["eu-west-1a","us-east-1b"]' },
      "forensicVpcZones",
      /zones of the home region us-east-1/,
    ],
    ["one VPC zone", { forensicVpcZones: '["us-east-1a"]' }, "forensicVpcZones", /two or more zones/],
    [
      "subscription without endpoint",
      { alarmSubscriptions: '[{"protocol":"email"}]' },
      "alarmSubscriptions",
      /item 0 .* is not valid/,
    ],
    [
      "subscription protocol unknown",
      { alarmSubscriptions: '[{"protocol":"pager","endpoint":"x"}]' },
      "alarmSubscriptions",
      /protocol one of email/,
    ],
  ];
  for (const [what, overrides, key, message] of invalid) {
    it(`rejects ${what}, naming ${key}`, () => {
      const error = errorOf(valid(overrides));
      expect(error.key).to.equal(key);
      expect(error.message).to.match(new RegExp(`^forensic-landing-zone:${key}: `));
      expect(error.message).to.match(message);
      expect(error.message).to.not.include("\n");
    });
  }

  it("turns every part-two part on by default except the workload baseline, and leaves their settings to the components", () => {
    const args = parseStackConfig(valid());
    expect(args.guardrails).to.deep.include({ enabled: undefined, workloadBaseline: undefined, targetIds: undefined });
    expect(args.detection).to.deep.equal({
      guardDuty: undefined,
      securityHub: undefined,
      detective: undefined,
      adminAccountId: undefined,
      adoptGuardDutyDetector: undefined,
      adoptSecurityHub: undefined,
      detectiveGraphArns: undefined,
    });
    expect(args.investigation?.enabled).to.equal(undefined);
    expect(args.forensicVpc?.enabled).to.equal(undefined);
    expect(args.alarms).to.deep.equal({ enabled: undefined, subscriptions: undefined });
  });

  it("reads every part-two key", () => {
    const args = parseStackConfig(
      valid({
        guardrailTargetIds: '["r-ab12"]',
        workloadBaseline: "true",
        workloadGuardrailTargetIds: '["ou-ab12-workload1"]',
        deploymentRoleArn: "arn:aws:iam::*:role/FlzDeployment",
        resourceControlTargetIds: '["r-ab12"]',
        guardDutyAdoptExisting: "true",
        detectiveGraphArns: '{"us-east-1":"arn:aws:detective:us-east-1:222222222222:graph:0123abcd"}',
        securityHub: "false",
        detectionAdminAccountId: "333333333333",
        investigationBytesScannedCutoff: "10000000",
        forensicVpcCidr: "10.88.0.0/16",
        forensicVpcZones: '["us-east-1a","us-east-1c"]',
        alarmSubscriptions: '[{"protocol":"email","endpoint":"soc@example.com"}]',
      }),
    );
    expect(args.guardrails).to.deep.equal({
      enabled: undefined,
      targetIds: ["r-ab12"],
      workloadBaseline: true,
      workloadTargetIds: ["ou-ab12-workload1"],
      resourceControlTargetIds: ["r-ab12"],
    });
    // The deployment role names the admin role the program assumes in the forensic account.
    expect(args.deploymentRoleArn).to.equal("arn:aws:iam::*:role/FlzDeployment");
    expect(args.forensicAccountAdminRoleName).to.equal("FlzDeployment");
    expect(args.detection).to.deep.include({
      securityHub: false,
      adminAccountId: "333333333333",
      adoptGuardDutyDetector: true,
      detectiveGraphArns: { "us-east-1": "arn:aws:detective:us-east-1:222222222222:graph:0123abcd" },
    });
    expect(args.investigation?.bytesScannedCutoffPerQuery).to.equal(10_000_000);
    expect(args.forensicVpc).to.deep.include({
      cidrBlock: "10.88.0.0/16",
      availabilityZones: ["us-east-1a", "us-east-1c"],
    });
    expect(args.alarms?.subscriptions).to.deep.equal([{ protocol: "email", endpoint: "soc@example.com" }]);
  });

  it("switches parts off", () => {
    const args = parseStackConfig(
      valid({ guardrails: "false", detection: "false", investigation: "false", forensicVpc: "false", alarms: "false" }),
    );
    expect(args.guardrails?.enabled).to.equal(false);
    expect(args.detection).to.equal(false);
    expect([args.investigation?.enabled, args.forensicVpc?.enabled, args.alarms?.enabled]).to.deep.equal([
      false,
      false,
      false,
    ]);
  });

  it("ignores keys of other namespaces", () => {
    expect(() => parseStackConfig(valid({ "aws:profile": "x", "other:key": "y" }))).to.not.throw();
  });
});
