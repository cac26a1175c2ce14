/**
 * Write-ahead intent under crashes (issue 19 item 2): `contain sessions`, `contain access-key` and `contain instance`
 * killed before and after every call that changes AWS or writes the ledger, then either rerun (and undone) or undone
 * straight away. After at most one rerun: one intent and one completion, the contained state of an uninterrupted run,
 * never one of our own groups saved as an original, and undo restores the state before containment began.
 */
import { expect } from "chai";
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { DescribeSecurityGroupsCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
} from "@aws-sdk/client-iam";
import { canonicalize } from "json-canonicalize";
import { ClientFactory } from "../../../scripts/aws/clients";
import { deactivateAccessKey, ACCESS_KEY_ACTION } from "../../../scripts/contain/access-key";
import type { ContainContext } from "../../../scripts/contain/common";
import { containInstance, INSTANCE_ACTION } from "../../../scripts/contain/instance";
import { INTENT_ACTION, openIntents } from "../../../scripts/contain/intent";
import { revokeSessions, SESSIONS_ACTION } from "../../../scripts/contain/sessions";
import { undoAction } from "../../../scripts/contain/undo";
import { openLedger } from "../../../scripts/custody/ledger";
import { emulator, useEmulator } from "../../support/emulator";
import { KillSwitch, killPoints, killable, type KillPoint } from "./crash";
import {
  autoScalingGroup,
  containWorld,
  instanceState,
  MEMBER,
  network,
  quarantinePolicies,
  REGION,
  type ContainWorld,
} from "./fixtures";

const NOW = new Date("2026-03-02T00:00:00Z");
const TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});
/** Calls that change AWS or write the ledger: where a kill matters. */
const MUTATIONS = new Set([
  "PutObject(journal)",
  "PutObject(record)",
  "CreatePolicy",
  "UpdatePolicy",
  "AttachPolicy",
  "UpdateAccessKey",
  "ModifyInstanceAttribute",
  "ModifyInstanceMetadataOptions",
  "ModifyNetworkInterfaceAttribute",
  "CreateSecurityGroup",
  "AuthorizeSecurityGroupIngress",
  "AuthorizeSecurityGroupEgress",
  "RevokeSecurityGroupEgress",
  "CreateTags",
  "EnterStandby",
  "DetachInstances",
  "CreateNetworkAcl",
  "ReplaceNetworkAclAssociation",
]);

/** One containment command under test. */
interface Subject {
  readonly action: string;
  /** Builds what is contained; returns a state reader (normalised so two worlds compare equal). */
  setup(world: ContainWorld): Promise<() => Promise<unknown>>;
  /** Runs the command. */
  run(ctx: ContainContext): Promise<unknown>;
}

/** A responder context on a fresh factory and ledger: a new process. */
async function newProcess(
  world: ContainWorld,
  killSwitch?: KillSwitch,
): Promise<{ ctx: ContainContext; close(): void }> {
  const base = new ClientFactory({
    caseId: world.caseId,
    forensicRoleArn: world.lz.forensicResponderRoleArn,
    memberRoleName: world.lz.memberResponderRoleName,
  });
  const factory = killSwitch ? killable(base, killSwitch) : base;
  const ledger = await openLedger({ factory, landingZone: world.lz, caseId: world.caseId });
  return {
    ctx: { factory, ledger, account: MEMBER, region: REGION, dryRun: false },
    close: () => base.destroy(),
  };
}

const sessions: Subject = {
  action: SESSIONS_ACTION,
  async setup(world) {
    await world.owner(IAMClient).send(new CreateRoleCommand({ RoleName: "app", AssumeRolePolicyDocument: TRUST }));
    return async () =>
      (await quarantinePolicies(world)).map((p) => ({
        name: p.name,
        attached: p.attached,
        statements: canonicalize(p.statements),
      }));
  },
  run: (ctx) => revokeSessions(ctx, { role: "app", before: "2026-03-01T10:00:00Z", now: NOW }),
};

const accessKey: Subject = {
  action: ACCESS_KEY_ACTION,
  async setup(world) {
    const iam = world.owner(IAMClient);
    await iam.send(new CreateUserCommand({ UserName: "ci-bot" }));
    await iam.send(new CreateAccessKeyCommand({ UserName: "ci-bot" }));
    return async () => ({
      keys: ((await iam.send(new ListAccessKeysCommand({ UserName: "ci-bot" }))).AccessKeyMetadata ?? []).map(
        (k) => k.Status,
      ),
      policies: (await quarantinePolicies(world)).map((p) => ({
        attached: p.attached,
        statements: canonicalize(p.statements),
      })),
    });
  },
  async run(ctx) {
    const keys = await ctx.factory
      .client(IAMClient, { account: MEMBER, region: REGION })
      .send(new ListAccessKeysCommand({ UserName: "ci-bot" }));
    return deactivateAccessKey(ctx, { user: "ci-bot", key: keys.AccessKeyMetadata?.[0]?.AccessKeyId ?? "", now: NOW });
  },
};

let instanceId = "";
const instance: Subject = {
  action: INSTANCE_ACTION,
  async setup(world) {
    const ec2 = world.owner(EC2Client);
    const net = await network(ec2);
    const group = await autoScalingGroup(ec2, world.owner(AutoScalingClient), net.subnetId, {
      min: 0,
      desired: 1,
      max: 2,
    });
    instanceId = group.instanceId;
    // Interfaces named by group names, not IDs: two worlds make different IDs.
    const names = async () =>
      Object.fromEntries(
        ((await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? []).map((g) => [
          g.GroupId,
          g.GroupName,
        ]),
      );
    return async () => {
      const state = await instanceState(ec2, instanceId);
      const byName = await names();
      return {
        ...state,
        interfaces: Object.values(state.interfaces).map((groups) => groups.map((g) => byName[g])),
        deleteOnTermination: Object.values(state.deleteOnTermination),
        tags: Object.keys(state.tags).sort(),
      };
    };
  },
  run: (ctx) => containInstance(ctx, { instanceId, now: NOW }),
};

/** The uninterrupted run: its contained state, and the calls it makes. */
async function reference(subject: Subject): Promise<{ contained: unknown; seen: string[] }> {
  await (await emulator()).reset();
  const world = await containWorld();
  const state = await subject.setup(world);
  const killSwitch = new KillSwitch();
  const p = await newProcess(world, killSwitch);
  await subject.run(p.ctx);
  const contained = await state();
  p.close();
  world.close();
  return { contained, seen: killSwitch.seen };
}

type Path = "rerun" | "undo";

/** Kills the command at `point`, then reruns and undoes it, or undoes it straight away; checks every invariant. */
async function survive(subject: Subject, point: KillPoint, path: Path, contained: unknown): Promise<void> {
  await (await emulator()).reset();
  const world = await containWorld();
  const state = await subject.setup(world);
  const original = await state();
  const dead = await newProcess(world, new KillSwitch(point));
  await subject.run(dead.ctx).catch(() => undefined);
  dead.close();

  const next = await newProcess(world);
  const where = `${point.operation} #${point.occurrence} ${point.phase}, then ${path}`;
  try {
    if (path === "rerun") {
      const rerun = (await subject.run(next.ctx)) as { failures?: string[] };
      expect(rerun.failures ?? [], `${where}: rerun failures`).to.deep.equal([]);
      expect(await state(), `${where}: contained state`).to.deep.equal(contained);
      const records = await next.ctx.ledger.records();
      const completions = records.filter((r) => r.action === subject.action);
      const intents = records.filter((r) => r.action === INTENT_ACTION);
      expect(completions, `${where}: completions`).to.have.length(1);
      // Every intent is closed: the one completed, and one whose append the kill interrupted inside the ledger (written
      // by the ledger on the next append, before anything had changed), which the completion supersedes.
      expect(openIntents(records), `${where}: open intents`).to.deep.equal([]);
      expect(intents.length, `${where}: intents`).to.be.at.most(2);
      // A second rerun changes and records nothing.
      await subject.run(next.ctx);
      expect((await next.ctx.ledger.records()).length, `${where}: idempotent`).to.equal(records.length);
      await undoAction(next.ctx, { sequence: completions[0].sequence });
    } else {
      const intent = (await next.ctx.ledger.records()).find((r) => r.action === INTENT_ACTION);
      if (intent) await undoAction(next.ctx, { sequence: intent.sequence });
    }
    expect(await state(), `${where}: state after undo`).to.deep.equal(original);
  } finally {
    next.close();
    world.close();
  }
}

/**
 * A kill after a batch's journal claim landed but before its records were stored leaves records that
 * `ledger.records()` does not show until the next append completes them (issue 19 item 3, the custody engineer's:
 * "show, verify and undo see claimed journals"). For the intent's own batch this is handled here (the completion
 * supersedes the invisible intent); for the completion's batch a rerun cannot see that the completion exists and
 * records it a second time. Those kill points wait for the ledger to show claimed journals.
 */
function pendingOnLedger(point: KillPoint, seen: readonly string[]): boolean {
  const journals = seen.filter((op) => op === "PutObject(journal)").length;
  const records = seen.filter((op) => op === "PutObject(record)").length;
  return (
    journals > 1 &&
    ((point.operation === "PutObject(journal)" && point.phase === "after" && point.occurrence === journals) ||
      (point.operation === "PutObject(record)" && point.phase === "before" && point.occurrence === records))
  );
}

/** FLZ_CRASH_ALL=1: every call of every changing operation; otherwise the first of each, and every interface move. */
const exhaustive = process.env.FLZ_CRASH_ALL === "1";

/**
 * The kill points run by default (the whole set takes about a quarter of an hour on a loaded machine): the first call
 * of each changing operation, the ledger's writes, and every interface move (timeouts, allow-all, isolation: the
 * crash between the two moves is the one that used to save the allow-all group as the "original").
 */
function representative(point: KillPoint): boolean {
  return (
    point.occurrence === 1 ||
    point.operation.startsWith("PutObject") ||
    point.operation === "ModifyNetworkInterfaceAttribute"
  );
}

describe("write-ahead intent: containment killed at every change, then rerun or undone (emulator)", function () {
  this.timeout(900000);
  useEmulator();

  for (const [name, subject] of [
    ["contain sessions", sessions],
    ["contain access-key", accessKey],
    ["contain instance", instance],
  ] as const) {
    it(`${name}: converges after one rerun, and undo restores the state before, at every kill point`, async () => {
      const { contained, seen } = await reference(subject);
      const only = process.env.FLZ_CRASH_ONLY;
      const points = killPoints(seen, MUTATIONS)
        .filter((p) => !pendingOnLedger(p, seen))
        .filter((p) =>
          only === undefined ? exhaustive || representative(p) : `${p.operation}#${p.occurrence}:${p.phase}` === only,
        );
      if (only === undefined) expect(points.length, "kill points").to.be.greaterThan(3);
      if (process.env.FLZ_CRASH_VERBOSE)
        console.log(name, points.map((p) => `${p.operation}#${p.occurrence}:${p.phase}`).join(" "));
      for (const [i, point] of points.entries()) {
        // Every kill point is rerun; every third one is also tried with an undo straight after the crash.
        await survive(subject, point, "rerun", contained);
        if (i % 3 === 1) await survive(subject, point, "undo", contained);
      }
    });
  }
  it(
    "contain: a kill after the completion's journal claim, before its record is stored (waits for the ledger to show claimed journals, issue 19 item 3)",
  );
});
