import { expect } from "chai";
import { DescribeSnapshotsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { backoffDelay, withQuotaBackoff } from "../../../scripts/aws/backoff";
import { CopyQueue } from "../../../scripts/capture/capture";
import {
  destinationFor,
  nextStep,
  parseCaptureRequest,
  parseProgress,
  remainingSteps,
  selectVolumes,
  type SnapshotRef,
  type VolumeCapture,
} from "../../../scripts/capture/plan";
import { barProgress, lineProgress } from "../../../scripts/capture/progress";
import { PassThrough } from "node:stream";
import { waitForSnapshot } from "../../../scripts/capture/steps";
import type { LandingZone } from "../../../scripts/contract";
import { UsageError } from "../../../scripts/errors";

const valid = { case: "IR-1", instance: "i-0123456789abcdef0", account: "333333333333", region: "eu-west-1" };

describe("capture request validation", () => {
  it("accepts a complete request with safe defaults (365-day lock, 4-hour wait, every volume)", () => {
    expect(parseCaptureRequest(valid)).to.deep.equal({
      caseId: "IR-1",
      instanceId: "i-0123456789abcdef0",
      account: "333333333333",
      region: "eu-west-1",
      volumeIds: [],
      lockDays: 365,
      maxWaitMinutes: 240,
    });
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ["a missing case", { case: undefined }, /^--case is required/],
    ["a case ID with a path in it", { case: "../x" }, /^--case "\.\.\/x" is not valid/],
    ["a malformed instance ID", { instance: "i-xyz" }, /^--instance "i-xyz" is not valid: an EC2 instance ID/],
    ["an 11-digit account", { account: "33333333333" }, /^--account "33333333333" is not valid: the 12-digit ID/],
    ["a region name that is not one", { region: "europe" }, /^--region "europe" is not valid/],
    ["a malformed volume", { volume: ["vol-1"] }, /^--volume "vol-1" is not valid/],
    ["a zero-day lock", { lockDays: "0" }, /^--lock-days "0" is not valid: a whole number from 1 to 36500/],
    ["a lock beyond what EBS allows", { lockDays: "36501" }, /^--lock-days "36501" is not valid/],
    ["a fractional wait", { maxWait: "1.5" }, /^--max-wait "1.5" is not valid/],
  ];
  for (const [name, change, message] of bad) {
    it(`refuses ${name} with a usage error naming the value`, () => {
      expect(() => parseCaptureRequest({ ...valid, ...change })).to.throw(UsageError, message);
    });
  }

  it("deduplicates repeated --volume values", () => {
    expect(
      parseCaptureRequest({ ...valid, volume: ["vol-0aaaaaaaaaaaaaaaa", "vol-0aaaaaaaaaaaaaaaa"] }).volumeIds,
    ).to.deep.equal(["vol-0aaaaaaaaaaaaaaaa"]);
  });
});

describe("capture decisions", () => {
  const lz = {
    homeRegion: "us-east-1",
    regions: ["us-east-1", "eu-west-1"],
    evidenceKeyArns: { "us-east-1": "arn:aws:kms:us-east-1:2:key/a", "eu-west-1": "arn:aws:kms:eu-west-1:2:key/b" },
  } as unknown as LandingZone;

  it("keeps evidence in a governed region under that region's key, and brings it home from an ungoverned one", () => {
    expect(destinationFor(lz, "eu-west-1")).to.deep.equal({
      region: "eu-west-1",
      kmsKeyArn: "arn:aws:kms:eu-west-1:2:key/b",
      crossRegion: false,
    });
    expect(destinationFor(lz, "ap-south-1")).to.deep.equal({
      region: "us-east-1",
      kmsKeyArn: "arn:aws:kms:us-east-1:2:key/a",
      crossRegion: true,
    });
  });

  it("selects every attached volume by default, and refuses a named volume that is not attached, listing the attached ones", () => {
    const attached = [
      { volumeId: "vol-1", device: "/dev/xvda" },
      { volumeId: "vol-2", device: "/dev/sdf" },
    ];
    expect(selectVolumes(attached, [], "i-1")).to.deep.equal(attached);
    expect(selectVolumes(attached, ["vol-2"], "i-1")).to.deep.equal([attached[1]]);
    expect(() => selectVolumes(attached, ["vol-9"], "i-1")).to.throw(
      "--volume vol-9 is not attached to instance i-1: attached volumes are vol-1 (/dev/xvda), vol-2 (/dev/sdf)",
    );
    expect(() => selectVolumes([], [], "i-1")).to.throw(/no EBS volumes attached/);
  });

  const ref = (
    snapshotId: string,
    stage: string,
    volume = "vol-1",
    state = "completed",
    startTime = "2026-01-01T00:00:00.000Z",
  ): SnapshotRef => ({
    snapshotId,
    state,
    startTime,
    tags: { "flz:volume": volume, "flz:stage": stage },
  });
  const volume = { volumeId: "vol-1", device: "/dev/xvda" };

  it("walks a volume through snapshot, copy, share, forensic copy and lock, waiting where a snapshot is pending", () => {
    const v = (over: Partial<VolumeCapture>): VolumeCapture => ({ volume, shared: false, locked: false, ...over });
    expect(nextStep(v({}))).to.equal("snapshot");
    expect(nextStep(v({ source: ref("s1", "source", "vol-1", "pending") }))).to.equal("wait-source");
    expect(nextStep(v({ source: ref("s1", "source") }))).to.equal("copy");
    expect(
      nextStep(v({ source: ref("s1", "source"), evidenceCopy: ref("c1", "evidence-copy", "vol-1", "pending") })),
    ).to.equal("wait-copy");
    expect(nextStep(v({ source: ref("s1", "source"), evidenceCopy: ref("c1", "evidence-copy") }))).to.equal("share");
    expect(
      nextStep(v({ source: ref("s1", "source"), evidenceCopy: ref("c1", "evidence-copy"), shared: true })),
    ).to.equal("forensic-copy");
    expect(nextStep(v({ source: ref("s1", "source"), forensic: ref("f1", "forensic", "vol-1", "pending") }))).to.equal(
      "wait-forensic",
    );
    expect(nextStep(v({ source: ref("s1", "source"), forensic: ref("f1", "forensic") }))).to.equal("lock");
    expect(nextStep(v({ source: ref("s1", "source"), forensic: ref("f1", "forensic"), locked: true }))).to.equal(
      "done",
    );
    expect(remainingSteps(v({ source: ref("s1", "source", "vol-1", "pending") }))).to.deep.equal([
      "copy",
      "share",
      "forensic-copy",
      "lock",
    ]);
    expect(remainingSteps(v({}))).to.deep.equal(["snapshot", "copy", "share", "forensic-copy", "lock"]);
  });

  it("reads a snapshot's Progress string as a percentage", () => {
    expect(parseProgress("42%")).to.equal(42);
    expect(parseProgress("100%")).to.equal(100);
    expect(parseProgress(undefined)).to.equal(0);
    expect(parseProgress("soon")).to.equal(0);
  });

  it("draws one bar per volume with its stage on a terminal", () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
    let drawn = "";
    tty.on("data", (c: Buffer) => (drawn += c.toString()));
    const p = barProgress(tty);
    p.update("vol-1", "snapshot", 40);
    p.update("vol-2", "forensic copy", 100);
    p.stop();
    expect(drawn).to.match(/vol-1 \[[^\]]*\] 40% \| snapshot/);
    expect(drawn).to.match(/vol-2 \[[^\]]*\] 100% \| forensic copy/);
  });

  it("prints a progress line per stage change and per quarter, not per poll", () => {
    const lines: string[] = [];
    const p = lineProgress((l) => lines.push(l));
    for (const pct of [0, 5, 10, 30, 31, 60, 99, 100]) p.update("vol-1", "snapshot", pct);
    p.update("vol-1", "evidence copy", 0);
    expect(lines).to.deep.equal([
      "vol-1: snapshot 0%",
      "vol-1: snapshot 30%",
      "vol-1: snapshot 60%",
      "vol-1: snapshot 99%",
      "vol-1: snapshot 100%",
      "vol-1: evidence copy 0%",
    ]);
  });
});

describe("copy queue and quota backoff", () => {
  it("never runs more than 20 copies at once per account and region, and runs other regions alongside", async () => {
    const queue = new CopyQueue();
    const inFlight = new Map<string, number>();
    const peak = new Map<string, number>();
    const task = (region: string) => async () => {
      inFlight.set(region, (inFlight.get(region) ?? 0) + 1);
      peak.set(region, Math.max(peak.get(region) ?? 0, inFlight.get(region) ?? 0));
      await new Promise((r) => setTimeout(r, 5));
      inFlight.set(region, (inFlight.get(region) ?? 0) - 1);
      return region;
    };
    const runs = [...Array(45)].flatMap(() => [
      queue.run("1", "eu-west-1", task("eu-west-1")),
      queue.run("1", "us-east-1", task("us-east-1")),
    ]);
    expect(await Promise.all(runs)).to.have.length(90);
    expect(peak.get("eu-west-1")).to.equal(20);
    expect(peak.get("us-east-1")).to.equal(20);
  });

  it("retries ResourceLimitExceeded with growing, bounded delays, then succeeds", async () => {
    const delays: number[] = [];
    let calls = 0;
    const value = await withQuotaBackoff(
      async () => {
        calls++;
        if (calls < 4) throw Object.assign(new Error("too many copies"), { name: "ResourceLimitExceeded" });
        return "snap-1";
      },
      { sleep: async (ms) => void delays.push(ms), random: () => 0.5, baseDelayMs: 1000, maxDelayMs: 3000 },
    );
    expect(value).to.equal("snap-1");
    expect(delays).to.deep.equal([750, 1500, 2250]);
  });

  it("does not retry other errors, gives up after its attempts, and never sleeps past the deadline", async () => {
    const denied = Object.assign(new Error("no"), { name: "AccessDenied" });
    let calls = 0;
    await withQuotaBackoff(
      async () => {
        calls++;
        throw denied;
      },
      { sleep: async () => {} },
    ).catch((e: unknown) => expect(e).to.equal(denied));
    expect(calls).to.equal(1);
    const limit = Object.assign(new Error("full"), { name: "ResourceLimitExceeded" });
    calls = 0;
    await withQuotaBackoff(
      async () => {
        calls++;
        throw limit;
      },
      { sleep: async () => {}, maxAttempts: 3 },
    ).catch((e: unknown) => expect(e).to.equal(limit));
    expect(calls).to.equal(3);
    calls = 0;
    await withQuotaBackoff(
      async () => {
        calls++;
        throw limit;
      },
      { sleep: async () => {}, deadline: Date.now() + 100, baseDelayMs: 1000 },
    ).catch((e: unknown) => expect(e).to.equal(limit));
    expect(calls).to.equal(1);
    expect(backoffDelay(30, 2000, 60000, () => 1)).to.equal(60000);
  });
});

describe("waiting for a snapshot", () => {
  const ec2 = new EC2Client({ region: "eu-west-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
  const mock = mockClient(ec2);
  afterEach(() => mock.reset());
  after(() => mock.restore());

  it("reports Progress on every poll until the snapshot completes", async () => {
    mock
      .on(DescribeSnapshotsCommand)
      .resolvesOnce({ Snapshots: [{ SnapshotId: "snap-1", State: "pending", Progress: "10%" }] })
      .resolvesOnce({ Snapshots: [{ SnapshotId: "snap-1", State: "pending", Progress: "55%" }] })
      .resolves({ Snapshots: [{ SnapshotId: "snap-1", State: "completed", Progress: "100%" }] });
    const seen: number[] = [];
    const done = await waitForSnapshot(ec2, "snap-1", {
      what: "snapshot",
      intervalMs: 1000,
      deadline: Date.now() + 60_000,
      sleep: async () => {},
      onProgress: (p) => seen.push(p),
    });
    expect(done.state).to.equal("completed");
    expect(seen).to.deep.equal([10, 55, 100]);
  });

  it("stops at --max-wait with a line that says how far it got and how to resume", async () => {
    mock
      .on(DescribeSnapshotsCommand)
      .resolves({ Snapshots: [{ SnapshotId: "snap-2", State: "pending", Progress: "42%" }] });
    let clock = 0;
    const err = await waitForSnapshot(ec2, "snap-2", {
      what: "forensic copy",
      intervalMs: 1000,
      deadline: 3000,
      sleep: async (ms) => void (clock += ms),
      now: () => clock,
    }).catch((e: Error) => e);
    expect((err as Error).message).to.equal(
      "forensic copy snap-2 still pending at 42% when --max-wait ran out: run the same command again to resume",
    );
    expect(clock).to.be.within(2000, 3000);
  });
});
