import { expect } from "chai";
import { captureLedgerState } from "../../../scripts/capture/ledger-state";
import { intentMatchProblem, pickIntentCreation, recordMatchProblem } from "../../../scripts/capture/provenance";
import type { DescribedSnapshot } from "../../../scripts/capture/provenance";
import { intentEvent, openIntents, runMayBeAlive } from "../../../scripts/custody/intent";
import type { CustodyEvent, CustodyRecord } from "../../../scripts/custody/types";

const KEY = "arn:aws:kms:eu-west-1:222222222222:key/evidence";
const source = { stage: "source" as const, volumeId: "vol-1", account: "333333333333", kmsKeyArn: KEY };
const snap = (over: Partial<DescribedSnapshot> = {}): DescribedSnapshot => ({
  snapshotId: "snap-1",
  state: "completed",
  startTime: "2026-01-01T10:00:30.000Z",
  ownerId: "333333333333",
  volumeId: "vol-1",
  tags: {},
  ...over,
});
const window = { id: "i-1", time: "2026-01-01T10:00:00.000Z", notAfter: "2026-01-01T10:30:00.000Z" };

function records(events: CustodyEvent[]): CustodyRecord[] {
  return events.map((e, sequence) => ({
    ...e,
    version: 1,
    sequence,
    case: "IR-1",
    time: new Date(Date.UTC(2026, 0, 1, 10, 0, sequence)).toISOString(),
    actor: "arn:aws:sts::222222222222:assumed-role/R/s",
    previousHash: "0".repeat(64),
    hash: String(sequence).padStart(64, "0"),
    signature: { keyArn: KEY, algorithm: "ECDSA_SHA_256", value: "" },
  }));
}

describe("capture provenance", () => {
  it("accepts a snapshot of the volume, owned by the account, started inside the intent's window", () => {
    expect(intentMatchProblem(snap(), window, source)).to.equal(undefined);
  });

  it("rejects another volume, another owner, a start outside the window, a copy under another key", () => {
    expect(intentMatchProblem(snap({ volumeId: "vol-clean" }), window, source)).to.equal(
      "taken of volume vol-clean, not vol-1",
    );
    expect(intentMatchProblem(snap({ ownerId: "444444444444" }), window, source)).to.match(
      /owned by account 444444444444/,
    );
    expect(intentMatchProblem(snap({ startTime: "2026-01-01T09:00:00.000Z" }), window, source)).to.match(
      /outside the intent's window/,
    );
    expect(
      intentMatchProblem(snap({ kmsKeyId: "arn:aws:kms:eu-west-1:333333333333:key/attacker" }), window, {
        ...source,
        stage: "evidence-copy",
      }),
    ).to.match(/not the evidence key/);
  });

  it("keeps the earliest valid creation of an intent and reports every other snapshot carrying its tag", () => {
    const { chosen, rejected } = pickIntentCreation(
      [
        snap({ snapshotId: "snap-later", startTime: "2026-01-01T10:05:00.000Z" }),
        snap({ snapshotId: "snap-clean", volumeId: "vol-clean" }),
        snap({ snapshotId: "snap-first", startTime: "2026-01-01T10:00:05.000Z" }),
      ],
      window,
      source,
    );
    expect(chosen?.snapshotId).to.equal("snap-first");
    expect(rejected.map((r) => [r.snapshot.snapshotId, r.reason])).to.deep.equal([
      ["snap-clean", "carries intent i-1 but is taken of volume vol-clean, not vol-1"],
      ["snap-later", "a second snapshot for intent i-1 (snap-first is used)"],
    ]);
  });

  it("refuses a recorded snapshot whose start time no longer matches its record (a different snapshot behind the ID)", () => {
    expect(recordMatchProblem(snap(), { startTime: "2026-01-01T10:00:30.000Z" }, source)).to.equal(undefined);
    expect(recordMatchProblem(snap(), { startTime: "2026-01-01T11:00:00.000Z" }, source)).to.match(/ledger recorded/);
  });
});

describe("capture ledger state and intents", () => {
  const target = { instanceId: "i-0123456789abcdef0", account: "333333333333", region: "eu-west-1" };
  const intent = (id: string, step: string, extra = {}) =>
    intentEvent("capture.intent", ["vol-1", target.instanceId], {
      id,
      run: { id: "run-1", host: "h", pid: 1 },
      operation: "CreateSnapshot",
      step,
      account: target.account,
      region: target.region,
      identifier: { kind: "tag", key: "flz:intent", value: id },
      before: {},
      undo: "none",
      notAfter: "2026-01-01T11:00:00.000Z",
      facts: { instance: target.instanceId, memberAccount: target.account, volumeId: "vol-1", ...extra },
    });

  it("closes an intent by its outcome, by a certain failure or by a superseding intent, never by an unknown outcome", () => {
    const r = records([
      intent("a", "source"),
      {
        action: "capture.snapshot.failed",
        subjects: ["vol-1"],
        outcome: "failed",
        details: { intentId: "a", intentOutcome: "unknown" },
      },
      intent("b", "source"),
      {
        action: "capture.intent",
        subjects: ["vol-1"],
        details: { ...(intent("c", "source").details ?? {}), supersedes: ["a", "b"] },
      },
      {
        action: "capture.snapshot.created",
        subjects: ["snap-9", "vol-1"],
        details: { volumeId: "vol-1", intentId: "c" },
      },
      intent("d", "lock"),
      {
        action: "capture.snapshot.failed",
        subjects: ["vol-1"],
        outcome: "failed",
        details: { intentId: "d", intentOutcome: "not-applied" },
      },
      intent("e", "share"),
    ]);
    expect(openIntents(r).map((i) => i.id)).to.deep.equal(["e"]);
    const state = captureLedgerState(r, target, ["vol-1"]);
    expect(state.volumes.get("vol-1")?.snapshots.source?.snapshotId).to.equal("snap-9");
    expect([...(state.volumes.get("vol-1")?.open.keys() ?? [])]).to.deep.equal(["share"]);
  });

  it("keeps the first recorded snapshot of a stage, and ignores other instances' and failed records", () => {
    const r = records([
      { action: "capture.snapshot.created", subjects: ["snap-1", "vol-1"], details: { volumeId: "vol-1" } },
      { action: "capture.snapshot.created", subjects: ["snap-2", "vol-1"], details: { volumeId: "vol-1" } },
      { action: "capture.snapshot.created", subjects: ["snap-3", "vol-2"], details: { volumeId: "vol-2" } },
      {
        action: "capture.snapshot.copied",
        subjects: ["snap-4", "snap-1", "vol-1"],
        outcome: "failed",
        details: { volumeId: "vol-1", stage: "forensic", destinationSnapshotId: "snap-4" },
      },
    ]);
    const state = captureLedgerState(r, target, ["vol-1"]);
    expect(state.volumes.get("vol-1")?.snapshots.source?.snapshotId).to.equal("snap-1");
    expect(state.volumes.get("vol-1")?.snapshots.forensic).to.equal(undefined);
  });

  it("treats a run as alive while its process exists on this host, or until its deadline elsewhere", () => {
    const self = { id: "me", host: "here", pid: 100 };
    expect(runMayBeAlive({ id: "x", host: "here", pid: 7 }, undefined, { self, exists: () => true })).to.equal(true);
    expect(runMayBeAlive({ id: "x", host: "here", pid: 7 }, undefined, { self, exists: () => false })).to.equal(false);
    expect(runMayBeAlive({ id: "x", host: "here", pid: 100 }, undefined, { self })).to.equal(false);
    expect(runMayBeAlive({ id: "x", host: "there", pid: 7 }, 2000, { self, now: 1000 })).to.equal(true);
    expect(runMayBeAlive({ id: "x", host: "there", pid: 7 }, 2000, { self, now: 3000 })).to.equal(false);
  });
});
