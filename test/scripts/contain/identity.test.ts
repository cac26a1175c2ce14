import { expect } from "chai";
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateServiceLinkedRoleCommand,
  CreateUserCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { revokeSessionsPolicyName } from "../../../components/documents/revoke";
import { deactivateAccessKey } from "../../../scripts/contain/access-key";
import { cutoffOf, decodePolicyDocument, revokeSessions } from "../../../scripts/contain/sessions";
import { undoAction } from "../../../scripts/contain/undo";
import { UsageError } from "../../../scripts/errors";
import { useEmulator } from "../../support/emulator";
import { containWorld, type ContainWorld } from "./fixtures";

const TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

describe("flz contain sessions and access-key (emulator)", function () {
  this.timeout(30000);
  useEmulator();
  let world: ContainWorld;
  let iam: IAMClient;
  beforeEach(async () => {
    world = await containWorld();
    iam = world.owner(IAMClient);
  });
  afterEach(() => world.close());

  async function inlinePolicy(role: string): Promise<ReturnType<typeof decodePolicyDocument>> {
    const out = await iam.send(
      new GetRolePolicyCommand({ RoleName: role, PolicyName: revokeSessionsPolicyName(world.caseId) }),
    );
    return decodePolicyDocument(out.PolicyDocument);
  }
  const policyNames = async (role: string) =>
    (await iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames ?? [];

  describe("sessions", () => {
    beforeEach(async () => {
      await iam.send(new CreateRoleCommand({ RoleName: "app-deployer", AssumeRolePolicyDocument: TRUST }));
    });

    it("adds a Deny-everything inline policy on aws:TokenIssueTime with the cutoff, named after the case", async () => {
      const result = await revokeSessions(world.context(), {
        role: "app-deployer",
        before: "2026-03-01T14:30:00+01:00",
        now: new Date("2026-03-02T00:00:00Z"),
      });
      const doc = await inlinePolicy("app-deployer");
      expect(doc?.Statement[0]).to.include({ Effect: "Deny", Action: "*", Resource: "*" });
      expect(cutoffOf(doc)).to.equal("2026-03-01T13:30:00Z");
      expect(result.record?.undo).to.include({ kind: "sessions", role: "app-deployer", previousDocument: null });
    });

    it("moves the cutoff on a later re-run, keeps it on an earlier one, and undo steps back one record at a time", async () => {
      const ctx = world.context();
      const first = await revokeSessions(ctx, {
        role: "app-deployer",
        before: "2026-03-01T10:00:00Z",
        now: new Date("2026-03-02T00:00:00Z"),
      });
      const second = await revokeSessions(ctx, {
        role: "app-deployer",
        before: "2026-03-01T12:00:00Z",
        now: new Date("2026-03-02T00:00:00Z"),
      });
      expect(cutoffOf(await inlinePolicy("app-deployer"))).to.equal("2026-03-01T12:00:00Z");
      const earlier = await revokeSessions(ctx, {
        role: "app-deployer",
        before: "2026-03-01T11:00:00Z",
        now: new Date("2026-03-02T00:00:00Z"),
      });
      expect(earlier.changes).to.deep.equal([]);
      expect(earlier.record).to.equal(undefined);
      expect(cutoffOf(await inlinePolicy("app-deployer"))).to.equal("2026-03-01T12:00:00Z");

      await undoAction(ctx, { sequence: second.record?.sequence ?? -1 });
      expect(cutoffOf(await inlinePolicy("app-deployer"))).to.equal("2026-03-01T10:00:00Z");
      await undoAction(ctx, { sequence: first.record?.sequence ?? -1 });
      expect(await policyNames("app-deployer")).to.deep.equal([]);
    });

    it("keeps another inline policy of the role untouched when undoing", async () => {
      const other = JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
      });
      await iam.send(new PutRolePolicyCommand({ RoleName: "app-deployer", PolicyName: "app", PolicyDocument: other }));
      const result = await revokeSessions(world.context(), { role: "app-deployer" });
      await undoAction(world.context(), { sequence: result.record?.sequence ?? -1 });
      expect(await policyNames("app-deployer")).to.deep.equal(["app"]);
    });

    it("changes nothing and records nothing on a dry run", async () => {
      const result = await revokeSessions(world.context(true), { role: "app-deployer" });
      expect(result.changes[0].description).to.match(
        /^add inline policy FlzRevokeOlderSessions-IR-2026-0042: deny every action to sessions issued before /,
      );
      expect(await policyNames("app-deployer")).to.deep.equal([]);
      expect((await world.ledger.records()).map((r) => r.action)).to.deep.equal(["case.opened"]);
    });

    it("refuses an unknown role and a service-linked role, naming them", async () => {
      const unknown = await revokeSessions(world.context(), { role: "nope" }).catch((e: unknown) => e);
      expect(unknown).to.be.instanceOf(UsageError);
      expect((unknown as Error).message).to.equal(
        "role nope does not exist in account 333333333333: give the name of an existing IAM role",
      );
      const created = await iam.send(
        new CreateServiceLinkedRoleCommand({ AWSServiceName: "autoscaling.amazonaws.com" }),
      );
      const slr = created.Role?.RoleName ?? "";
      const refused = await revokeSessions(world.context(), { role: slr }).catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(UsageError);
      expect((refused as Error).message).to.match(
        /is a service-linked role \(path \/aws-service-role\/autoscaling.amazonaws.com\/\)/,
      );
      expect(await policyNames(slr)).to.deep.equal([]);
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

    it("deactivates the key without deleting it, lists the user's other key, and undo reactivates it", async () => {
      const result = await deactivateAccessKey(world.context(), { user: "ci-bot", key: stolen });
      expect(await statuses()).to.deep.equal({ [stolen]: "Inactive", [spare]: "Active" });
      expect(result.notes.join("\n")).to.contain(`${spare} Active, never used`);
      expect(result.record?.undo).to.include({ kind: "access-key", accessKeyId: stolen, previousStatus: "Active" });

      const again = await deactivateAccessKey(world.context(), { user: "ci-bot", key: stolen });
      expect(again.changes).to.deep.equal([]);

      const preview = await undoAction(world.context(true), { sequence: result.record?.sequence ?? -1 });
      expect(preview.changes.map((c) => c.description)).to.deep.equal([
        `set access key ${stolen} of user ci-bot back to Active`,
      ]);
      expect(await statuses()).to.deep.equal({ [stolen]: "Inactive", [spare]: "Active" });

      await undoAction(world.context(), { sequence: result.record?.sequence ?? -1 });
      expect(await statuses()).to.deep.equal({ [stolen]: "Active", [spare]: "Active" });
    });

    it("changes nothing on a dry run", async () => {
      const result = await deactivateAccessKey(world.context(true), { user: "ci-bot", key: stolen });
      expect(result.changes).to.have.length(1);
      expect(await statuses()).to.deep.equal({ [stolen]: "Active", [spare]: "Active" });
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
  });
});
