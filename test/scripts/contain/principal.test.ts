// contain principal --quarantine, contain account --quarantine, contain technique: statements in the case's quarantine
// SCPs (emulator state), dry run, idempotence, undo, drift, the size limit, and what the statements deny (IAM evaluator).
import { expect } from "chai";
import { CreateRoleCommand, CreateUserCommand, IAMClient } from "@aws-sdk/client-iam";
import { DetachPolicyCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { quarantineText, type PolicyDocument, type PolicyStatement } from "../../../components/documents";
import { SCP_MAX_CHARACTERS } from "../../../components/documents/scp";
import { ACCOUNT_ACTION, quarantineAccount } from "../../../scripts/contain/account";
import { INTENT_ACTION } from "../../../scripts/contain/intent";
import { PRINCIPAL_ACTION, quarantinePrincipal } from "../../../scripts/contain/principal";
import { containmentStatus } from "../../../scripts/contain/status";
import { containTechnique, TECHNIQUE_ACTION } from "../../../scripts/contain/technique";
import { undoAction } from "../../../scripts/contain/undo";
import { SEED_ACCOUNTS } from "../../../scripts/emulator/seed";
import { UsageError } from "../../../scripts/errors";
import { useEmulator } from "../../support/emulator";
import { evaluate, FULL_AWS_ACCESS, roleSession, userCaller } from "./evaluator";
import { containWorld, MEMBER, quarantinePolicies, runCli, type ContainWorld } from "./fixtures";

const TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});
const ROLE_ARN = `arn:aws:iam::${MEMBER}:role/app`;
const USER_ARN = `arn:aws:iam::${MEMBER}:user/ci-bot`;
const ADMIN: PolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

describe("flz contain principal, account and technique: organisation-level quarantine (emulator)", function () {
  this.timeout(60000);
  useEmulator();
  let world: ContainWorld;
  const roles = () => [world.lz.memberResponderRoleName, world.lz.memberInvestigatorRoleName];
  beforeEach(async () => {
    world = await containWorld();
    const iam = world.owner(IAMClient);
    await iam.send(new CreateRoleCommand({ RoleName: "app", AssumeRolePolicyDocument: TRUST }));
    await iam.send(new CreateUserCommand({ UserName: "ci-bot" }));
  });
  afterEach(() => world.close());

  const statements = async () => (await quarantinePolicies(world)).flatMap((p) => p.statements);
  const scp = async (): Promise<PolicyDocument[]> =>
    (await quarantinePolicies(world)).map((p) => ({ Version: "2012-10-17", Statement: p.statements }));
  const actions = async () => (await world.ledger.records()).map((r) => r.action);
  const quarantine = (principal: string, dryRun = false) =>
    quarantinePrincipal({ ...world.context(dryRun), account: "" }, { principal, forensicRoles: roles() });

  describe("principal", () => {
    it("dry run changes and records nothing; then one statement denies the role whatever its credentials; rerun is a no-op", async () => {
      const dry = await quarantine(ROLE_ARN, true);
      expect(dry.changes.map((c) => c.description)).to.include(
        `create quarantine SCP flz-quarantine-${MEMBER}-${world.caseId}-1 (1 statement(s)) and attach it to account ${MEMBER}`,
      );
      expect(await quarantinePolicies(world)).to.deep.equal([]);
      expect(await actions()).to.deep.equal(["case.opened"]);

      const done = await quarantine(ROLE_ARN);
      const [policy] = await quarantinePolicies(world);
      expect(policy).to.include({ attached: true });
      expect(policy.tags).to.deep.equal({ "flz:purpose": "quarantine", "flz:case": world.caseId });
      expect(policy.statements).to.have.length(1);
      expect(policy.statements[0]).to.deep.include({
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: { ArnEquals: { "aws:PrincipalArn": ROLE_ARN } },
      });
      expect(await actions()).to.deep.equal(["case.opened", INTENT_ACTION, PRINCIPAL_ACTION]);
      expect(done.record?.undo).to.include({ kind: "quarantine", account: MEMBER });

      // What AWS would decide with that SCP above the account: the role is denied, with a session issued after
      // containment too; another role of the account is not.
      const levels = [[FULL_AWS_ACCESS], [FULL_AWS_ACCESS, ...(await scp())]];
      const later = roleSession(MEMBER, "app", "2030-01-01T00:00:00Z", ADMIN);
      const other = roleSession(MEMBER, "batch", "2020-01-01T00:00:00Z", ADMIN);
      const read = { action: "s3:GetObject", resource: "arn:aws:s3:::data/x", resourceAccount: MEMBER, scps: levels };
      expect(await evaluate({ ...read, caller: later })).to.equal("ExplicitlyDenied");
      expect(await evaluate({ ...read, caller: other })).to.equal("Allowed");

      const again = await quarantine(ROLE_ARN);
      expect(again.changes).to.deep.equal([]);
      expect(again.record).to.equal(undefined);
      expect(again.notes.join("\n")).to.match(/already in effect/);
    });

    it("denies a user's long-term key; undo removes the statement and the emptied policy", async () => {
      const done = await quarantine(USER_ARN);
      const key = userCaller(MEMBER, "ci-bot", undefined, ADMIN);
      const levels = [[FULL_AWS_ACCESS], [FULL_AWS_ACCESS, ...(await scp())]];
      expect(
        await evaluate({
          caller: key,
          action: "iam:CreateAccessKey",
          resource: USER_ARN,
          resourceAccount: MEMBER,
          scps: levels,
        }),
      ).to.equal("ExplicitlyDenied");
      const undone = await undoAction(world.context(), { sequence: done.record?.sequence ?? -1 });
      expect(undone.record?.action).to.equal("contain.undone");
      expect(await quarantinePolicies(world)).to.deep.equal([]);
    });

    it("drift: a management-account principal detaching the policy is reported, and a rerun re-attaches it", async () => {
      await quarantine(ROLE_ARN);
      const [policy] = await quarantinePolicies(world);
      await world
        .adminOf(OrganizationsClient, SEED_ACCOUNTS.management)
        .send(new DetachPolicyCommand({ PolicyId: policy.id, TargetId: MEMBER }));
      const status = await containmentStatus({ factory: world.context().factory, ledger: world.ledger });
      const mine = status.containments.find((c) => c.action === PRINCIPAL_ACTION);
      expect(mine?.state).to.equal("drifted");
      expect(mine?.findings.join("\n")).to.match(/was detached from the account/);
      const rerun = await quarantine(ROLE_ARN);
      expect(rerun.notes.join("\n")).to.match(/drift: quarantine policy .* was detached/);
      expect((await quarantinePolicies(world))[0].attached).to.equal(true);
    });

    it("refuses a forensic role, a session ARN, an unknown role and another account's --account, naming them", async () => {
      const refuse = async (p: Promise<unknown>, pattern: RegExp) => {
        const err = await p.catch((e: unknown) => e);
        expect(err).to.be.instanceOf(UsageError);
        expect((err as Error).message).to.match(pattern);
      };
      await refuse(quarantine(`arn:aws:iam::${MEMBER}:role/${world.lz.memberResponderRoleName}`), /is a forensic role/);
      await refuse(
        quarantine(`arn:aws:sts::${MEMBER}:assumed-role/app/session-1`),
        new RegExp(`is a role session: give the role, arn:aws:iam::${MEMBER}:role/app`),
      );
      await refuse(quarantine(`arn:aws:iam::${MEMBER}:role/nope`), /role nope does not exist in account/);
      await refuse(
        quarantinePrincipal(world.context(), {
          principal: `arn:aws:iam::${SEED_ACCOUNTS.members[1]}:role/app`,
          forensicRoles: roles(),
        }),
        /--account \d{12} is not the account of/,
      );
      expect(await actions()).to.deep.equal(["case.opened"]);
    });
  });

  describe("account", () => {
    const args = () => ({ forensicRoles: roles(), forensicAccountId: world.lz.forensicAccountId });

    it("denies every principal of the account but the forensic roles; undo lifts it", async () => {
      const dry = await quarantineAccount(world.context(true), args());
      expect(dry.changes[0].description).to.match(new RegExp(`^quarantine account ${MEMBER}: deny every action`));
      expect(await quarantinePolicies(world)).to.deep.equal([]);

      const done = await quarantineAccount(world.context(), args());
      expect(await actions()).to.deep.equal(["case.opened", INTENT_ACTION, ACCOUNT_ACTION]);
      const [statement] = await statements();
      expect(statement.Condition?.ArnNotLike?.["aws:PrincipalArn"]).to.have.members(
        roles().map((n) => `arn:aws:iam::${MEMBER}:role/${n}`),
      );
      const levels = [[FULL_AWS_ACCESS], [FULL_AWS_ACCESS, ...(await scp())]];
      const req = {
        action: "ec2:TerminateInstances",
        resource: `arn:aws:ec2:us-east-1:${MEMBER}:instance/i-1`,
        resourceAccount: MEMBER,
        scps: levels,
      };
      expect(await evaluate({ ...req, caller: roleSession(MEMBER, "Admin", "2030-01-01T00:00:00Z", ADMIN) })).to.equal(
        "ExplicitlyDenied",
      );
      expect(await evaluate({ ...req, caller: userCaller(MEMBER, "ci-bot", undefined, ADMIN) })).to.equal(
        "ExplicitlyDenied",
      );
      expect(
        await evaluate({
          ...req,
          caller: roleSession(MEMBER, world.lz.memberResponderRoleName, "2030-01-01T00:00:00Z", ADMIN),
        }),
      ).to.equal("Allowed");

      expect((await quarantineAccount(world.context(), args())).record).to.equal(undefined);
      await undoAction(world.context(), { sequence: done.record?.sequence ?? -1 });
      expect(await quarantinePolicies(world)).to.deep.equal([]);
    });

    it("refuses the forensic account and the management account", async () => {
      const inForensic = { ...world.context(), account: world.lz.forensicAccountId };
      expect(await quarantineAccount(inForensic, args()).catch((e: Error) => e.message)).to.match(
        /is the forensic account/,
      );
      const inManagement = { ...world.context(), account: SEED_ACCOUNTS.management };
      expect(await quarantineAccount(inManagement, args()).catch((e: Error) => e.message)).to.match(
        /is the organisation's management account/,
      );
    });
  });

  describe("technique", () => {
    const technique = (deny: string, resource?: string, dryRun = false) =>
      containTechnique(
        { ...world.context(dryRun), account: "" },
        { principal: ROLE_ARN, deny, resource, forensicRoles: roles() },
      );

    it("denies the listed actions on the listed resources to the principal only; other actions stay allowed", async () => {
      const dry = await technique("s3:GetObject,s3:ListBucket", "arn:aws:s3:::payroll,arn:aws:s3:::payroll/*", true);
      expect(dry.changes[0].description).to.equal(
        `deny s3:GetObject, s3:ListBucket to ${ROLE_ARN} on arn:aws:s3:::payroll, arn:aws:s3:::payroll/*, whatever its credentials`,
      );
      expect(await quarantinePolicies(world)).to.deep.equal([]);

      await technique("s3:GetObject,s3:ListBucket", "arn:aws:s3:::payroll,arn:aws:s3:::payroll/*");
      expect(await actions()).to.deep.equal(["case.opened", INTENT_ACTION, TECHNIQUE_ACTION]);
      const levels = [[FULL_AWS_ACCESS], [FULL_AWS_ACCESS, ...(await scp())]];
      const app = roleSession(MEMBER, "app", "2030-01-01T00:00:00Z", ADMIN);
      const ask = (caller: typeof app, action: string, resource: string) =>
        evaluate({ caller, action, resource, resourceAccount: MEMBER, scps: levels });
      expect(await ask(app, "s3:GetObject", "arn:aws:s3:::payroll/salaries.csv")).to.equal("ExplicitlyDenied");
      expect(await ask(app, "s3:GetObject", "arn:aws:s3:::public-assets/logo.png")).to.equal("Allowed");
      expect(await ask(app, "s3:PutObject", "arn:aws:s3:::payroll/x")).to.equal("Allowed");
      expect(
        await ask(roleSession(MEMBER, "batch", undefined, ADMIN), "s3:GetObject", "arn:aws:s3:::payroll/x"),
      ).to.equal("Allowed");
      // The same technique again (actions in another order): nothing to do.
      expect(
        (await technique("s3:ListBucket,s3:GetObject", "arn:aws:s3:::payroll/*,arn:aws:s3:::payroll")).record,
      ).to.equal(undefined);
    });

    it("keeps two techniques apart: undo of one leaves the other", async () => {
      const first = await technique("iam:CreateAccessKey");
      await technique("ec2:RunInstances");
      expect((await statements()).map((s) => s.Action).sort()).to.deep.equal([
        "ec2:RunInstances",
        "iam:CreateAccessKey",
      ]);
      await undoAction(world.context(), { sequence: first.record?.sequence ?? -1 });
      expect((await statements()).map((s) => s.Action)).to.deep.equal(["ec2:RunInstances"]);
    });

    it("refuses what is not an action or an ARN, and a bare *", async () => {
      expect(await technique("GetObject").catch((e: Error) => e.message)).to.match(
        /--deny GetObject is not an IAM action/,
      );
      expect(await technique("*").catch((e: Error) => e.message)).to.match(/use flz contain principal --quarantine/);
      expect(await technique("s3:GetObject", "payroll").catch((e: Error) => e.message)).to.match(
        /--resource payroll is not an ARN/,
      );
    });

    it("respects the 5,120-character SCP limit: a full policy spills into a second one, each attached", async () => {
      // Each technique statement names 6 long resource ARNs (about 600 characters): 9 of them need two policies.
      for (let i = 0; i < 9; i += 1) {
        const resources = Array.from(
          { length: 6 },
          (_, j) => `arn:aws:s3:::incident-bucket-${i}-${j}-${"x".repeat(40)}/*`,
        ).join(",");
        const result = await technique(`s3:GetObject`, resources);
        expect(result.record, `technique ${i}`).to.not.equal(undefined);
      }
      const policies = await quarantinePolicies(world);
      expect(policies.length).to.equal(2);
      for (const p of policies) {
        expect(p.attached).to.equal(true);
        expect(quarantineText(p.statements).length).to.be.at.most(SCP_MAX_CHARACTERS);
      }
      expect(policies.flatMap((p) => p.statements as PolicyStatement[])).to.have.length(9);
    });
  });

  it("through the CLI entry: principal --quarantine and technique, JSON naming the record, exit 2 on bad usage", async () => {
    const common = ["--case", world.caseId, "--landing-zone", world.lzFile];
    const principal = await runCli([
      "contain",
      "principal",
      ...common,
      "--principal",
      USER_ARN,
      "--quarantine",
      "--json",
    ]);
    expect(principal.code, principal.err).to.equal(0);
    expect(JSON.parse(principal.out)).to.include({ action: PRINCIPAL_ACTION, recordedAs: 2 });
    const missing = await runCli(["contain", "principal", ...common, "--principal", USER_ARN]);
    expect(missing.code).to.equal(2);
    expect(missing.err).to.match(/--quarantine is required/);
    const tech = await runCli([
      "contain",
      "technique",
      ...common,
      "--principal",
      ROLE_ARN,
      "--deny",
      "ec2:RunInstances",
      "--dry-run",
    ]);
    expect(tech.code, tech.err).to.equal(0);
    expect(tech.out).to.include(`would deny ec2:RunInstances to ${ROLE_ARN} on *`);
    const account = await runCli([
      "contain",
      "account",
      ...common,
      "--account",
      MEMBER,
      "--quarantine",
      "--dry-run",
      "--json",
    ]);
    expect(account.code, account.err).to.equal(0);
    expect(JSON.parse(account.out)).to.include({ action: ACCOUNT_ACTION, dryRun: true });
  });
});
