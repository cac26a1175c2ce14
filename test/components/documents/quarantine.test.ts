import { expect } from "chai";
import {
  DocumentInputError,
  QuarantineCapacityError,
  SCP_MAX_CHARACTERS,
  forensicResponderPermissions,
  normalizeCutoff,
  placeQuarantineStatement,
  quarantineCutoff,
  quarantineDelegationPolicy,
  quarantineDocument,
  quarantinePolicyIndex,
  quarantinePolicyName,
  quarantineSid,
  quarantineStatement,
  quarantineText,
  removeQuarantineStatement,
  type PolicyDocument,
  type QuarantinePolicyState,
  type QuarantineSubject,
} from "../../../components/documents";
import {
  FULL_AWS_ACCESS,
  evaluate,
  federatedSession,
  roleSession,
  userCaller,
  type Principal,
} from "../../scripts/contain/evaluator";

const MANAGEMENT = "111111111111";
const FORENSIC = "222222222222";
const MEMBER = "333333333333";
const ORG = "o-exampleorg1";
const CUTOFF = "2024-05-01T10:00:00Z";
const ADMIN: PolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
const app: QuarantineSubject = { kind: "principal", principalArn: `arn:aws:iam::${MEMBER}:role/WebAppRole` };
const bot: QuarantineSubject = { kind: "principal", principalArn: `arn:aws:iam::${MEMBER}:user/ci-bot` };
const federated: QuarantineSubject = { kind: "federated-sessions", accountId: MEMBER };

/** The member account's SCPs: FullAWSAccess at the root and on the account, plus the quarantine policy. */
const quarantined = (...subjects: QuarantineSubject[]): PolicyDocument[][] => [
  [FULL_AWS_ACCESS],
  [
    FULL_AWS_ACCESS,
    quarantineDocument(subjects.map((subject) => quarantineStatement({ caseId: "IR-1", subject, cutoff: CUTOFF }))),
  ],
];
const readPayroll = (caller: Principal, scps: PolicyDocument[][]) =>
  evaluate({
    caller,
    action: "s3:GetObject",
    resource: "arn:aws:s3:::payroll/2024/05.csv",
    resourceAccount: MEMBER,
    scps,
  });

describe("documents/quarantine: the revocation statement, evaluated as an SCP", () => {
  it("denies every action to a role session issued before the cutoff, whatever the role allows", async () => {
    const scps = quarantined(app);
    expect(await readPayroll(roleSession(MEMBER, "WebAppRole", "2024-05-01T09:59:59Z", ADMIN), scps)).to.equal(
      "ExplicitlyDenied",
    );
    expect(
      await evaluate({
        caller: roleSession(MEMBER, "WebAppRole", "2024-04-30T22:00:00Z", ADMIN),
        action: "iam:CreateUser",
        resource: `arn:aws:iam::${MEMBER}:user/backdoor`,
        resourceAccount: MEMBER,
        scps,
      }),
    ).to.equal("ExplicitlyDenied");
  });
  it("leaves sessions issued at or after the cutoff, and other roles, working", async () => {
    const scps = quarantined(app);
    expect(await readPayroll(roleSession(MEMBER, "WebAppRole", "2024-05-01T10:00:01Z", ADMIN), scps)).to.equal(
      "Allowed",
    );
    expect(await readPayroll(roleSession(MEMBER, "WebAppRole", CUTOFF, ADMIN), scps)).to.equal("Allowed");
    expect(await readPayroll(roleSession(MEMBER, "Other", "2024-05-01T09:00:00Z", ADMIN), scps)).to.equal("Allowed");
  });
  it("denies a user's GetSessionToken sessions issued before the cutoff; the long-term key itself is left to deactivation", async () => {
    const scps = quarantined(bot);
    expect(await readPayroll(userCaller(MEMBER, "ci-bot", "2024-05-01T09:00:00Z", ADMIN), scps)).to.equal(
      "ExplicitlyDenied",
    );
    expect(await readPayroll(userCaller(MEMBER, "ci-bot", "2024-05-01T11:00:00Z", ADMIN), scps)).to.equal("Allowed");
    // A request signed with the key itself carries no aws:TokenIssueTime: the SCP cannot match it.
    expect(await readPayroll(userCaller(MEMBER, "ci-bot", undefined, ADMIN), scps)).to.equal("Allowed");
  });
  it("denies every federated-user session of the account issued before the cutoff, whatever its chosen name", async () => {
    const scps = quarantined(federated);
    expect(await readPayroll(federatedSession(MEMBER, "anything", "2024-05-01T09:00:00Z", ADMIN), scps)).to.equal(
      "ExplicitlyDenied",
    );
    expect(await readPayroll(federatedSession(MEMBER, "anything", "2024-05-01T11:00:00Z", ADMIN), scps)).to.equal(
      "Allowed",
    );
    // ArnLike names the account: another account's federated sessions (under the same SCPs here) are untouched.
    expect(
      await evaluate({
        caller: federatedSession("444444444444", "x", "2024-05-01T09:00:00Z", ADMIN),
        action: "s3:GetObject",
        resource: "arn:aws:s3:::other/x",
        resourceAccount: "444444444444",
        scps,
      }),
    ).to.equal("Allowed");
  });
  it("compares instants, not strings: a cutoff with an offset is normalised to UTC", () => {
    const statement = quarantineStatement({ caseId: "IR-1", subject: app, cutoff: "2024-05-01T12:00:00+02:00" });
    expect(quarantineCutoff(statement)).to.equal(CUTOFF);
  });
  it("refuses a cutoff without a zone, a non-ARN principal and an empty case, naming them", () => {
    expect(() => quarantineStatement({ caseId: "IR-1", subject: app, cutoff: "2024-05-01T10:00:00" })).to.throw(
      DocumentInputError,
      /cutoff: "2024-05-01T10:00:00" is not an ISO 8601 timestamp with a zone/,
    );
    expect(() => normalizeCutoff("2024-02-30T10:00:00Z")).to.throw(DocumentInputError);
    expect(() =>
      quarantineStatement({
        caseId: "IR-1",
        subject: { kind: "principal", principalArn: "WebAppRole" },
        cutoff: CUTOFF,
      }),
    ).to.throw(DocumentInputError, /principalArn: "WebAppRole" is not an IAM role or user ARN/);
    expect(() => quarantineStatement({ caseId: " ", subject: app, cutoff: CUTOFF })).to.throw(
      DocumentInputError,
      /caseId/,
    );
  });
  it("gives each case and subject its own stable statement ID of letters and digits", () => {
    expect(quarantineSid("IR-1", app)).to.equal(quarantineSid("IR-1", app));
    expect(quarantineSid("IR-1", app)).to.not.equal(quarantineSid("IR-2", app));
    expect(quarantineSid("IR-1", app)).to.not.equal(quarantineSid("IR-1", bot));
    expect(quarantineSid("IR-1", federated)).to.match(/^FlzQ[0-9a-f]{24}$/);
  });
});

describe("documents/quarantine: policies within AWS's limits", () => {
  const placement = { caseId: "IR-1", accountId: MEMBER, maxPolicies: 4 };
  const statementFor = (i: number) =>
    quarantineStatement({
      caseId: "IR-1",
      subject: { kind: "principal", principalArn: `arn:aws:iam::${MEMBER}:role/app-${String(i).padStart(3, "0")}` },
      cutoff: CUTOFF,
    });
  const place = (count: number, max = 4): QuarantinePolicyState[] => {
    let policies: QuarantinePolicyState[] = [];
    for (let i = 0; i < count; i += 1)
      policies = placeQuarantineStatement(policies, statementFor(i), { ...placement, maxPolicies: max });
    return policies;
  };

  it("packs statements into as few policies as fit in 5,120 characters each, numbered from 1", () => {
    const policies = place(40);
    expect(policies.length).to.be.greaterThan(1);
    expect(policies.map((p) => p.name)).to.deep.equal(
      policies.map((_, i) => quarantinePolicyName("IR-1", MEMBER, i + 1)),
    );
    for (const p of policies) expect(quarantineText(p.statements).length).to.be.at.most(SCP_MAX_CHARACTERS);
    expect(policies.flatMap((p) => p.statements.map((s) => s.Sid))).to.have.length(40);
    // Every policy but the last is full: one more statement would not fit.
    for (const p of policies.slice(0, -1)) {
      expect(quarantineText([...p.statements, statementFor(999)]).length).to.be.greaterThan(SCP_MAX_CHARACTERS);
    }
  });
  it("refuses a policy beyond the account's free SCP slots", () => {
    expect(() => place(40, 1)).to.throw(QuarantineCapacityError, /no free service control policy slot/);
  });
  it("replaces a subject's statement in place (a moved cutoff changes one policy only)", () => {
    const policies = place(25);
    const moved = quarantineStatement({
      caseId: "IR-1",
      subject: { kind: "principal", principalArn: `arn:aws:iam::${MEMBER}:role/app-003` },
      cutoff: "2024-05-02T00:00:00Z",
    });
    const after = placeQuarantineStatement(policies, moved, placement);
    const changed = after.filter((p, i) => JSON.stringify(p) !== JSON.stringify(policies[i]));
    expect(changed.map((p) => p.name)).to.deep.equal([policies[0].name]);
    expect(quarantineCutoff(after[0].statements.find((s) => s.Sid === moved.Sid))).to.equal("2024-05-02T00:00:00Z");
  });
  it("empties a policy when its last statement is removed, and reuses its number next time", () => {
    const one = place(1);
    const emptied = removeQuarantineStatement(one, statementFor(0).Sid ?? "");
    expect(emptied).to.deep.equal([{ name: one[0].name, statements: [] }]);
    const again = placeQuarantineStatement(emptied, statementFor(7), placement);
    expect(again.map((p) => [p.name, p.statements.length])).to.deep.equal([[one[0].name, 1]]);
  });
  it("names policies after account and case, within Organizations' 128 characters, and reads the number back", () => {
    expect(quarantinePolicyName("IR-2026-0042", MEMBER, 2)).to.equal(`flz-quarantine-${MEMBER}-IR-2026-0042-2`);
    expect(quarantinePolicyIndex(`flz-quarantine-${MEMBER}-IR-2026-0042-2`, "IR-2026-0042", MEMBER)).to.equal(2);
    expect(quarantinePolicyIndex(`flz-quarantine-${MEMBER}-IR-2026-00421-2`, "IR-2026-0042", MEMBER)).to.equal(
      undefined,
    );
    const long = quarantinePolicyName(`case #42/${"x".repeat(200)}`, MEMBER, 1);
    expect(long.length).to.be.at.most(128);
    expect(long).to.match(/^flz-quarantine-333333333333-case--42-x+-[0-9a-f]{12}-1$/);
  });
});

describe("documents/quarantine: delegated policy management, evaluated", () => {
  const delegation = quarantineDelegationPolicy({
    organizationId: ORG,
    managementAccountId: MANAGEMENT,
    responderRoleArn: `arn:aws:iam::${FORENSIC}:role/FlzForensicResponder`,
  });
  const responder = roleSession(
    FORENSIC,
    "FlzForensicResponder",
    "2024-05-01T11:00:00Z",
    forensicResponderPermissions({
      memberResponderRoleName: "FlzMemberResponder",
      evidenceBucketArn: "arn:aws:s3:::flz-evidence-222222222222",
      evidenceKeyArns: [`arn:aws:kms:us-east-1:${FORENSIC}:key/mrk-0123456789abcdef0123456789abcdef`],
      signingKeyArn: `arn:aws:kms:us-east-1:${FORENSIC}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      organizationId: ORG,
    }),
  );
  const policy = `arn:aws:organizations::${MANAGEMENT}:policy/${ORG}/service_control_policy/p-abcd1234`;
  const account = (id: string) => `arn:aws:organizations::${MANAGEMENT}:account/${ORG}/${id}`;
  const scp = { "organizations:PolicyType": "SERVICE_CONTROL_POLICY" };
  const purpose = (value: string) => ({ "aws:ResourceTag/flz:purpose": value });
  const quarantineTags = { "aws:RequestTag/flz:purpose": "quarantine", "aws:TagKeys": ["flz:purpose", "flz:case"] };
  const call = (action: string, resource: string, context: Record<string, string | string[]>, caller = responder) =>
    evaluate({ caller, action, resource, resourceAccount: MANAGEMENT, resourcePolicy: delegation, context });

  it("lets the forensic responder create an SCP only with the quarantine tags", async () => {
    expect(await call("organizations:CreatePolicy", policy, { ...scp, ...quarantineTags })).to.equal("Allowed");
    expect(await call("organizations:TagResource", policy, { ...scp, ...quarantineTags })).to.equal("Allowed");
    expect(await call("organizations:CreatePolicy", policy, scp)).to.not.equal("Allowed");
    expect(
      await call("organizations:CreatePolicy", policy, {
        ...scp,
        ...quarantineTags,
        "aws:TagKeys": ["flz:purpose", "owner"],
      }),
    ).to.not.equal("Allowed");
  });
  it("never lets it create or touch another policy type", async () => {
    const rcp = `arn:aws:organizations::${MANAGEMENT}:policy/${ORG}/resource_control_policy/p-abcd1234`;
    const asRcp = { "organizations:PolicyType": "RESOURCE_CONTROL_POLICY" };
    expect(await call("organizations:CreatePolicy", rcp, { ...asRcp, ...quarantineTags })).to.not.equal("Allowed");
    expect(await call("organizations:UpdatePolicy", rcp, { ...asRcp, ...purpose("quarantine") })).to.not.equal(
      "Allowed",
    );
  });
  it("lets it change, attach to a member account, detach and delete quarantine policies only", async () => {
    for (const action of ["UpdatePolicy", "AttachPolicy", "DetachPolicy", "DeletePolicy"]) {
      expect(await call(`organizations:${action}`, policy, { ...scp, ...purpose("quarantine") }), action).to.equal(
        "Allowed",
      );
      expect(await call(`organizations:${action}`, policy, { ...scp, ...purpose("guardrail") }), action).to.equal(
        "ExplicitlyDenied",
      );
      expect(await call(`organizations:${action}`, policy, scp), action).to.not.equal("Allowed");
    }
    expect(await call("organizations:AttachPolicy", account(MEMBER), scp)).to.equal("Allowed");
  });
  it("never lets it re-tag or untag an existing policy, nor attach anything to its own account", async () => {
    expect(
      await call("organizations:TagResource", policy, { ...scp, ...quarantineTags, ...purpose("guardrail") }),
    ).to.equal("ExplicitlyDenied");
    expect(
      await call("organizations:UntagResource", policy, {
        ...scp,
        "aws:TagKeys": ["flz:purpose"],
        ...purpose("quarantine"),
      }),
    ).to.equal("ExplicitlyDenied");
    expect(await call("organizations:AttachPolicy", account(FORENSIC), scp)).to.equal("ExplicitlyDenied");
    expect(await call("organizations:DetachPolicy", account(FORENSIC), scp)).to.equal("ExplicitlyDenied");
  });
  it("gives nothing to any other principal of the forensic account, administrator included", async () => {
    const admin = roleSession(FORENSIC, "Administrator", "2024-05-01T11:00:00Z", ADMIN);
    expect(await call("organizations:UpdatePolicy", policy, { ...scp, ...purpose("quarantine") }, admin)).to.equal(
      "ImplicitlyDenied",
    );
    expect(await call("organizations:CreatePolicy", policy, { ...scp, ...quarantineTags }, admin)).to.equal(
      "ImplicitlyDenied",
    );
  });
  it("refuses a delegation to something that is not a role", () => {
    expect(() =>
      quarantineDelegationPolicy({
        organizationId: ORG,
        managementAccountId: MANAGEMENT,
        responderRoleArn: `arn:aws:iam::${FORENSIC}:root`,
      }),
    ).to.throw(DocumentInputError, /not an IAM role ARN/);
  });
});
