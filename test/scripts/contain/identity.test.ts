import { expect } from "chai";
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateServiceLinkedRoleCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
} from "@aws-sdk/client-iam";
import { OrganizationsClient, UpdatePolicyCommand } from "@aws-sdk/client-organizations";
import { quarantineCutoff, quarantineSid, type PolicyStatement } from "../../../components/documents";
import { deactivateAccessKey } from "../../../scripts/contain/access-key";
import { INTENT_ACTION } from "../../../scripts/contain/intent";
import { revokeSessions, SESSIONS_ACTION } from "../../../scripts/contain/sessions";
import { undoAction } from "../../../scripts/contain/undo";
import { SEED_ACCOUNTS } from "../../../scripts/emulator/seed";
import { UsageError } from "../../../scripts/errors";
import { useEmulator } from "../../support/emulator";
import { containWorld, MEMBER, quarantinePolicies, type ContainWorld } from "./fixtures";

const TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});
const NOW = new Date("2026-03-02T00:00:00Z");
const ROLE_ARN = `arn:aws:iam::${MEMBER}:role/app-deployer`;

describe("flz contain sessions and access-key: organisation-level quarantine (emulator)", function () {
  this.timeout(30000);
  useEmulator();
  let world: ContainWorld;
  let iam: IAMClient;
  beforeEach(async () => {
    world = await containWorld();
    iam = world.owner(IAMClient);
  });
  afterEach(() => world.close());

  const statements = async () => (await quarantinePolicies(world)).flatMap((p) => p.statements);
  const statementOf = async (principalArn: string): Promise<PolicyStatement | undefined> =>
    (await statements()).find((s) => s.Sid === quarantineSid(world.caseId, { kind: "principal", principalArn }));
  const revoke = (before: string) => revokeSessions(world.context(), { role: "app-deployer", before, now: NOW });

  describe("sessions", () => {
    beforeEach(async () => {
      await iam.send(new CreateRoleCommand({ RoleName: "app-deployer", AssumeRolePolicyDocument: TRUST }));
    });

    it("puts a Deny-everything statement on the role's ARN and the cutoff into the case's quarantine SCP, attached to the account", async () => {
      const result = await revoke("2026-03-01T14:30:00+01:00");
      const policies = await quarantinePolicies(world);
      expect(policies.map((p) => [p.name, p.attached, p.tags])).to.deep.equal([
        [`flz-quarantine-${MEMBER}-${world.caseId}-1`, true, { "flz:purpose": "quarantine", "flz:case": world.caseId }],
      ]);
      const statement = await statementOf(ROLE_ARN);
      expect(statement).to.include({ Effect: "Deny", Action: "*", Resource: "*" });
      expect(statement?.Condition?.ArnEquals).to.deep.equal({ "aws:PrincipalArn": ROLE_ARN });
      expect(quarantineCutoff(statement)).to.equal("2026-03-01T13:30:00Z");
      // Write-ahead: the intent (with the state before and the undo) precedes the completion.
      const records = await world.ledger.records();
      expect(records.map((r) => r.action)).to.deep.equal(["case.opened", INTENT_ACTION, SESSIONS_ACTION]);
      expect(records[1].details).to.include({ for: SESSIONS_ACTION });
      expect(records[1].undo).to.deep.equal(records[2].undo);
      expect(result.record?.details?.intent).to.equal(1);
      expect(result.record?.undo).to.include({ kind: "quarantine", account: MEMBER });
    });

    it("moves the cutoff later, keeps a later one, refuses to undo the earlier record first, and undoes in order", async () => {
      const first = await revoke("2026-03-01T10:00:00Z");
      const second = await revoke("2026-03-01T12:00:00Z");
      expect(quarantineCutoff(await statementOf(ROLE_ARN))).to.equal("2026-03-01T12:00:00Z");
      const earlier = await revoke("2026-03-01T11:00:00Z");
      expect(earlier.changes).to.deep.equal([]);
      expect(earlier.record).to.equal(undefined);

      const refused = await undoAction(world.context(), { sequence: first.record?.sequence ?? -1 }).catch(
        (e: unknown) => e,
      );
      expect(refused).to.be.instanceOf(UsageError);
      expect((refused as Error).message).to.equal(
        `record ${second.record?.sequence} (contain.sessions.revoked) changed quarantine:principal:${ROLE_ARN} after record ${first.record?.sequence}: undo record ${second.record?.sequence} first, or give --force to restore the state from before record ${first.record?.sequence} anyway (discarding what record ${second.record?.sequence} did)`,
      );
      await undoAction(world.context(), { sequence: second.record?.sequence ?? -1 });
      expect(quarantineCutoff(await statementOf(ROLE_ARN))).to.equal("2026-03-01T10:00:00Z");
      await undoAction(world.context(), { sequence: first.record?.sequence ?? -1 });
      expect(await quarantinePolicies(world)).to.deep.equal([]);
    });

    it("undoes an earlier record over a later one with --force, to the state before the earlier one", async () => {
      const first = await revoke("2026-03-01T10:00:00Z");
      await revoke("2026-03-01T12:00:00Z");
      const result = await undoAction(world.context(), { sequence: first.record?.sequence ?? -1, force: true });
      expect(result.notes.join("\n")).to.match(
        /--force: record \d+ \(contain.sessions.revoked\) changed the same target later/,
      );
      expect(await quarantinePolicies(world)).to.deep.equal([]);
    });

    it("puts a second role of the case into the same policy, and undo of one leaves the other", async () => {
      await iam.send(new CreateRoleCommand({ RoleName: "batch", AssumeRolePolicyDocument: TRUST }));
      const first = await revoke("2026-03-01T10:00:00Z");
      await revokeSessions(world.context(), { role: "batch", before: "2026-03-01T10:00:00Z", now: NOW });
      expect((await quarantinePolicies(world)).map((p) => p.statements.length)).to.deep.equal([2]);
      await undoAction(world.context(), { sequence: first.record?.sequence ?? -1 });
      expect(await statementOf(ROLE_ARN)).to.equal(undefined);
      expect(await statementOf(`arn:aws:iam::${MEMBER}:role/batch`)).to.not.equal(undefined);
    });

    it("notices a statement rewritten to deny a non-existent action (cutoff kept), says so, and restores it", async () => {
      await revoke("2026-03-01T10:00:00Z");
      const [policy] = await quarantinePolicies(world);
      const neutered = policy.statements.map((s) => ({ ...s, Action: "iam:NoSuchAction" }));
      // The management account, which SCPs never bind, rewrites it.
      await world.adminOf(OrganizationsClient, SEED_ACCOUNTS.management).send(
        new UpdatePolicyCommand({
          PolicyId: policy.id,
          Content: JSON.stringify({ Version: "2012-10-17", Statement: neutered }),
        }),
      );

      const rerun = await revoke("2026-03-01T10:00:00Z");
      expect(rerun.notes.join("\n")).to.contain(
        `drift: quarantine policy ${policy.name}: statement ${policy.statements[0].Sid} was altered`,
      );
      expect(rerun.record?.details?.restored).to.have.length(1);
      expect((await statementOf(ROLE_ARN))?.Action).to.equal("*");
      // Restored, not moved: the next run has nothing to do.
      expect((await revoke("2026-03-01T10:00:00Z")).record).to.equal(undefined);
    });

    it("changes nothing and records nothing on a dry run", async () => {
      const result = await revokeSessions(world.context(true), { role: "app-deployer" });
      expect(result.changes.map((c) => c.description)).to.include(
        `create quarantine SCP flz-quarantine-${MEMBER}-${world.caseId}-1 (1 statement(s)) and attach it to account ${MEMBER}`,
      );
      expect(await quarantinePolicies(world)).to.deep.equal([]);
      expect((await world.ledger.records()).map((r) => r.action)).to.deep.equal(["case.opened"]);
    });

    it("refuses an unknown role, a service-linked role and the management account, naming them", async () => {
      const unknown = await revokeSessions(world.context(), { role: "nope" }).catch((e: unknown) => e);
      expect(unknown).to.be.instanceOf(UsageError);
      expect((unknown as Error).message).to.equal(
        "role nope does not exist in account 333333333333: give the name of an existing IAM role",
      );
      const created = await iam.send(
        new CreateServiceLinkedRoleCommand({ AWSServiceName: "autoscaling.amazonaws.com" }),
      );
      const refused = await revokeSessions(world.context(), { role: created.Role?.RoleName ?? "" }).catch(
        (e: unknown) => e,
      );
      expect((refused as Error).message).to.match(
        /is a service-linked role .*: service control policies do not restrict it/,
      );
      const inManagement = { ...world.context(), account: SEED_ACCOUNTS.management };
      await world
        .adminOf(IAMClient, SEED_ACCOUNTS.management)
        .send(new CreateRoleCommand({ RoleName: "ops", AssumeRolePolicyDocument: TRUST }));
      const management = await revokeSessions(inManagement, { role: "ops" }).catch((e: unknown) => e);
      expect((management as Error).message).to.match(
        /is the organisation's management account: service control policies never apply there/,
      );
      expect(await quarantinePolicies(world)).to.deep.equal([]);
    });
  });

  describe("access-key", () => {
    let stolen: string;
    let spare: string;
    beforeEach(async () => {
      await iam.send(new CreateUserCommand({ UserName: "ci-bot" }));
      stolen = (await iam.send(new CreateAccessKeyCommand({ UserName: "ci-bot" }))).AccessKey?.AccessKeyId ?? "";
      spare = (await iam.send(new CreateAccessKeyCommand({ UserName: "ci-bot" }))).AccessKey?.AccessKeyId ?? "";
    });
    const statuses = async () =>
      Object.fromEntries(
        ((await iam.send(new ListAccessKeysCommand({ UserName: "ci-bot" }))).AccessKeyMetadata ?? []).map((k) => [
          k.AccessKeyId,
          k.Status,
        ]),
      );
    const userArn = `arn:aws:iam::${MEMBER}:user/ci-bot`;
    const federatedSid = () => quarantineSid(world.caseId, { kind: "federated-sessions", accountId: MEMBER });

    it("deactivates the key, denies the user's and the account's federated sessions before the cutoff, and undo reverses all", async () => {
      const result = await deactivateAccessKey(world.context(), {
        user: "ci-bot",
        key: stolen,
        sessionsBefore: "2026-03-01T10:00:00Z",
        now: NOW,
      });
      expect(await statuses()).to.deep.equal({ [stolen]: "Inactive", [spare]: "Active" });
      expect(result.notes.join("\n")).to.contain(`${spare} Active, never used`);
      expect(result.notes.join("\n")).to.contain("GetFederationToken sessions are named by their creator");
      const user = await statementOf(userArn);
      expect(user?.Condition).to.deep.equal({
        ArnEquals: { "aws:PrincipalArn": userArn },
        DateLessThan: { "aws:TokenIssueTime": "2026-03-01T10:00:00Z" },
      });
      const federated = (await statements()).find((s) => s.Sid === federatedSid());
      expect(federated?.Condition?.ArnLike).to.deep.equal({
        "aws:PrincipalArn": `arn:aws:sts::${MEMBER}:federated-user/*`,
      });
      expect(result.record?.undo).to.include({ kind: "access-key", accessKeyId: stolen, previousStatus: "Active" });

      const preview = await undoAction(world.context(true), { sequence: result.record?.sequence ?? -1 });
      expect(preview.changes.map((c) => c.description)).to.include(
        `set access key ${stolen} of user ci-bot back to Active`,
      );
      expect(await statuses()).to.deep.equal({ [stolen]: "Inactive", [spare]: "Active" });

      await undoAction(world.context(), { sequence: result.record?.sequence ?? -1 });
      expect(await statuses()).to.deep.equal({ [stolen]: "Active", [spare]: "Active" });
      expect(await quarantinePolicies(world)).to.deep.equal([]);
    });

    it("changes nothing on a dry run", async () => {
      const result = await deactivateAccessKey(world.context(true), { user: "ci-bot", key: stolen });
      expect(result.changes.map((c) => c.description)).to.include(
        `deactivate access key ${stolen} of user ci-bot (Active -> Inactive; the key is kept)`,
      );
      expect(await statuses()).to.deep.equal({ [stolen]: "Active", [spare]: "Active" });
      expect(await quarantinePolicies(world)).to.deep.equal([]);
      expect((await world.ledger.records()).map((r) => r.action)).to.deep.equal(["case.opened"]);
    });

    it("refuses an unknown user, a key of another user and a temporary key, naming them", async () => {
      const user = await deactivateAccessKey(world.context(), { user: "ghost", key: stolen }).catch((e: unknown) => e);
      expect((user as Error).message).to.equal(
        "user ghost does not exist in account 333333333333: give the name of an existing IAM user",
      );
      const key = await deactivateAccessKey(world.context(), { user: "ci-bot", key: "AKIAIOSFODNN7EXAMPLE" }).catch(
        (e: unknown) => e,
      );
      expect(key).to.be.instanceOf(UsageError);
      expect((key as Error).message).to.contain("access key AKIAIOSFODNN7EXAMPLE is not a key of user ci-bot");
      const temporary = await deactivateAccessKey(world.context(), {
        user: "ci-bot",
        key: "ASIAIOSFODNN7EXAMPLE",
      }).catch((e: unknown) => e);
      expect((temporary as Error).message).to.match(/temporary session key .* flz contain sessions/);
      expect(await statuses()).to.deep.equal({ [stolen]: "Active", [spare]: "Active" });
    });

    it("leaves federated sessions alone with --keep-federated-sessions, and says so", async () => {
      const result = await deactivateAccessKey(world.context(), {
        user: "ci-bot",
        key: stolen,
        federatedSessions: false,
        now: NOW,
      });
      expect((await statements()).map((s) => s.Sid)).to.deep.equal([
        quarantineSid(world.caseId, { kind: "principal", principalArn: userArn }),
      ]);
      expect(result.notes.join("\n")).to.contain("they were left alone (--keep-federated-sessions)");
    });

    it("changes and records nothing when the key is inactive and the sessions already denied", async () => {
      await deactivateAccessKey(world.context(), { user: "ci-bot", key: stolen, now: NOW });
      const again = await deactivateAccessKey(world.context(), { user: "ci-bot", key: stolen, now: NOW });
      expect(again.changes).to.deep.equal([]);
      expect(again.record).to.equal(undefined);
      expect(again.notes.join("\n")).to.contain(`access key ${stolen} is already inactive`);
    });
  });
});
