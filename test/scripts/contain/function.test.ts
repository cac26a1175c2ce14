// contain function in emulator state, under the authorization oracle: reserved concurrency 0, the public URL switched
// to AWS_IAM, the enabled trigger disabled; dry run, rerun, undo (with and without a reservation before), drift made by
// the member account's administrator, an interrupted run completed by a rerun, and the CLI's one-line refusals.
import { expect } from "chai";
import {
  LambdaClient,
  PutFunctionConcurrencyCommand,
  UpdateEventSourceMappingCommand,
  UpdateFunctionUrlConfigCommand,
} from "@aws-sdk/client-lambda";
import { FUNCTION_ACTION, containFunction } from "../../../scripts/contain/function";
import { INTENT_ACTION } from "../../../scripts/contain/intent";
import { containmentStatus } from "../../../scripts/contain/status";
import { undoAction } from "../../../scripts/contain/undo";
import { openLedger } from "../../../scripts/custody/ledger";
import { ClientFactory } from "../../../scripts/aws/clients";
import { useEmulator } from "../../support/emulator";
import { KillSwitch, Killed, killable } from "./crash";
import { containWorld, MEMBER, REGION, runCli, type ContainWorld } from "./fixtures";
import { buildFunction, CORS, FUNCTION, viewFunction, type BuiltFunction } from "./function-fixtures";

describe("flz contain function (emulator)", function () {
  this.timeout(60000);
  useEmulator();
  let world: ContainWorld;
  beforeEach(async () => {
    world = await containWorld();
  });
  afterEach(() => world.close());

  const contain = (dryRun = false) => containFunction(world.context(dryRun), { name: FUNCTION });
  const status = async () =>
    (await containmentStatus({ factory: world.context().factory, ledger: world.ledger })).containments.find(
      (c) => c.action === FUNCTION_ACTION,
    );

  it("throttles to zero, closes the public URL, disables the enabled trigger; dry run, rerun and undo as said (no reservation before)", async () => {
    const fn = await buildFunction(world);
    const before = await viewFunction(world);
    expect(before).to.deep.equal({
      reserved: null,
      url: { authType: "NONE", cors: CORS },
      mappings: { [fn.enabledMapping]: "Enabled", [fn.disabledMapping]: "Disabled" },
    });

    const dry = await contain(true);
    expect(dry.changes.map((c) => c.description)).to.have.length(3);
    expect(dry.changes[0].description).to.match(/to 0 \(was none/);
    expect(await viewFunction(world)).to.deep.equal(before);
    expect((await world.ledger.records()).map((r) => r.action)).to.deep.equal(["case.opened"]);

    const done = await contain();
    expect(await viewFunction(world)).to.deep.equal({
      reserved: 0,
      url: { authType: "AWS_IAM", cors: CORS },
      mappings: { [fn.enabledMapping]: "Disabled", [fn.disabledMapping]: "Disabled" },
    });
    const actions = (await world.ledger.records()).map((r) => r.action);
    expect(actions.slice(-2)).to.deep.equal([INTENT_ACTION, FUNCTION_ACTION]);
    expect(done.record?.undo).to.deep.include({ concurrency: { previous: null } });
    expect(done.record?.undo?.mappings).to.deep.equal([
      { uuid: fn.enabledMapping, functionArn: fn.arn, eventSourceArn: `arn:aws:sqs:${REGION}:${MEMBER}:jobs` },
    ]);

    const again = await contain();
    expect(again.record).to.equal(undefined);
    expect(again.changes).to.deep.equal([]);
    expect(again.notes.join("\n")).to.match(/already in effect/);
    expect((await world.ledger.records()).length).to.equal(actions.length);
    expect((await status())?.state).to.equal("in-effect");

    const dryUndo = await undoAction(world.context(true), { sequence: done.record?.sequence ?? -1 });
    expect(dryUndo.changes).to.have.length(3);
    expect((await viewFunction(world)).reserved).to.equal(0);

    await undoAction(world.context(), { sequence: done.record?.sequence ?? -1 });
    // Exactly as before: no reservation at all (not some number), the URL public with its CORS, and only the mapping
    // this action disabled enabled again (the one its owner had disabled stays so).
    expect(await viewFunction(world)).to.deep.equal(before);
    expect(
      (await containmentStatus({ factory: world.context().factory, ledger: world.ledger })).containments,
    ).to.deep.equal([]);
  });

  it("restores a reservation of 5; a member-account administrator raising it, reopening the URL or re-enabling the trigger is drift", async () => {
    const fn = await buildFunction(world, { reserved: 5 });
    const done = await contain();
    expect((await viewFunction(world)).reserved).to.equal(0);
    expect((await status())?.state).to.equal("in-effect");

    // The adversary: the member account's own administrator, undoing containment with plain SDK calls.
    const admin = world.owner(LambdaClient);
    await admin.send(new PutFunctionConcurrencyCommand({ FunctionName: FUNCTION, ReservedConcurrentExecutions: 100 }));
    await admin.send(new UpdateFunctionUrlConfigCommand({ FunctionName: FUNCTION, AuthType: "NONE" }));
    await admin.send(new UpdateEventSourceMappingCommand({ UUID: fn.enabledMapping, Enabled: true }));
    const drifted = await status();
    expect(drifted?.state).to.equal("drifted");
    expect(drifted?.findings).to.have.length(3);
    expect(drifted?.findings.join("\n"))
      .to.match(/reserved concurrency is 100 again/)
      .and.match(/is public again \(AuthType NONE\)/)
      .and.match(new RegExp(`trigger ${fn.enabledMapping} .* was re-enabled`));
    const run = await runCli(["contain", "status", "--case", world.caseId, "--landing-zone", world.lzFile]);
    expect(run.code).to.equal(1);
    expect(run.out).to.match(/NO LONGER IN EFFECT/);

    // Undo restores what containment replaced (5), not what the administrator set since.
    await undoAction(world.context(), { sequence: done.record?.sequence ?? -1 });
    expect(await viewFunction(world)).to.deep.include({ reserved: 5, url: { authType: "NONE", cors: CORS } });
  });

  it("a run killed after closing the URL is completed by the rerun, and undo restores the state from before the first run", async () => {
    const fn: BuiltFunction = await buildFunction(world);
    const before = await viewFunction(world);
    const killSwitch = new KillSwitch({ operation: "UpdateFunctionUrlConfig", occurrence: 1, phase: "after" });
    const dead = killable(
      new ClientFactory({
        caseId: world.caseId,
        forensicRoleArn: world.lz.forensicResponderRoleArn,
        memberRoleName: world.lz.memberResponderRoleName,
      }),
      killSwitch,
    );
    try {
      const ledger = await openLedger({ factory: dead, landingZone: world.lz, caseId: world.caseId });
      const crashed = await containFunction(
        { factory: dead, ledger, account: MEMBER, region: REGION, dryRun: false },
        {
          name: FUNCTION,
        },
      ).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(crashed).to.be.instanceOf(Killed);
    } finally {
      dead.destroy();
    }
    // Half done: throttled and closed, the trigger still on; the ledger holds only the intent.
    expect(await viewFunction(world)).to.deep.include({ reserved: 0, url: { authType: "AWS_IAM", cors: CORS } });
    const open = await containmentStatus({ factory: world.context().factory, ledger: world.ledger });
    expect(open.interrupted.map((i) => i.action)).to.deep.equal([FUNCTION_ACTION]);

    const rerun = await contain();
    expect(rerun.notes.join("\n")).to.match(/completing record 1, an interrupted containment/);
    expect(rerun.record?.details?.intent).to.equal(1);
    expect((await viewFunction(world)).mappings[fn.enabledMapping]).to.equal("Disabled");
    // The undo is the intent's: no reservation before (the rerun saw 0, set by the dead run).
    expect(rerun.record?.undo).to.deep.include({ concurrency: { previous: null } });
    await undoAction(world.context(), { sequence: rerun.record?.sequence ?? -1 });
    expect(await viewFunction(world)).to.deep.equal(before);
  });

  it("through the CLI entry: one JSON document; an unknown function, a bad or qualified ARN, another account or region is exit 2 naming the value", async () => {
    const fn = await buildFunction(world, { url: false });
    const common = ["--case", world.caseId, "--account", MEMBER, "--landing-zone", world.lzFile];
    const done = await runCli(["contain", "function", ...common, "--function", fn.arn, "--json"]);
    expect(done.code, done.err).to.equal(0);
    const doc = JSON.parse(done.out) as { action: string; recordedAs: number; changes: unknown[] };
    expect(doc).to.include({ action: FUNCTION_ACTION, recordedAs: 2 });
    expect(doc.changes).to.have.length(2); // no URL: concurrency and the enabled trigger

    // The ARN alone says where: no --account, no --region; already contained, so nothing to change.
    const again = await runCli([
      "contain",
      "function",
      "--case",
      world.caseId,
      "--landing-zone",
      world.lzFile,
      "--function",
      fn.arn,
      "--dry-run",
    ]);
    expect(again.code, again.err).to.equal(0);
    expect(again.out).to.match(/^nothing to change/);

    const refusals: [string[], RegExp][] = [
      [["--function", "nope"], /^function nope does not exist in account 333333333333, region us-east-1/],
      [["--function", "payroll export"], /^--function payroll export is not a Lambda function name or ARN/],
      [["--function", `${fn.arn}:live`], /names a version or alias: containment acts on the whole function/],
      [["--function", `${FUNCTION}:3`], /names a version or alias/],
      [
        ["--function", fn.arn.replace(MEMBER, "444444444444")],
        /is in account 444444444444, not --account 333333333333/,
      ],
      [["--function", fn.arn, "--region", "eu-west-1"], /is in region us-east-1, not --region eu-west-1/],
    ];
    for (const [args, message] of refusals) {
      const run = await runCli(["contain", "function", ...common, ...args]);
      expect(run.code, args.join(" ")).to.equal(2);
      expect(run.err.trim().split("\n"), args.join(" ")).to.have.length(1);
      expect(run.err.replace(/^flz: (error: )?/, ""), args.join(" ")).to.match(message);
    }
    const help = await runCli(["contain", "function", "--help"]);
    const text = help.out.replace(/\s+/g, " ");
    expect(text)
      .to.match(/push triggers \(S3, SNS, EventBridge\)/)
      .and.match(/resource-based policy are never changed/);
  });
});
