/**
 * Resumable, fault-tolerant snapshot hashing and `flz hash --case` (issues 19 item 5 and 14), through the fault proxy
 * in front of the emulator's EBS direct APIs.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { EBSClient } from "@aws-sdk/client-ebs";
import { ClientFactory } from "../../../scripts/aws/clients";
import { runHash } from "../../../scripts/commands/hash";
import type { LandingZone } from "../../../scripts/contract";
import { openLedger } from "../../../scripts/custody/ledger";
import { seedLandingZone } from "../../../scripts/emulator/seed";
import type { SnapshotDigest } from "../../../scripts/hash/snapshot";
import { openTestCase } from "../../support/cases";
import { useEmulator } from "../../support/emulator";
import { startFaultProxy, type FaultProxy } from "../../support/fault-proxy";
import { blockBytes, uploadSnapshot, type UploadBlock } from "./ebs-fixtures";
import { captureIo } from "./io";

const BLOCK = 512; // the emulator's block size

function rawImageSha256(dir: string, blocks: UploadBlock[]): string {
  const file = path.join(dir, "image.raw");
  const fd = openSync(file, "w");
  ftruncateSync(fd, 2 ** 30);
  for (const b of blocks) writeSync(fd, b.data, 0, b.data.length, b.index * BLOCK);
  closeSync(fd);
  const sum = execFileSync("sha256sum", [file]).toString().split(" ")[0];
  rmSync(file);
  return sum;
}

describe("snapshot hashing under faults, resumed from a checkpoint, recorded with --case (fault proxy)", function () {
  this.timeout(240_000);
  const emulator = useEmulator();
  let proxy: FaultProxy;
  let dir: string;
  let snapshotId: string;
  let blocks: UploadBlock[];
  let endpoint: string | undefined;
  let timeouts: string | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "flz-hash-resume-"));
    // Written blocks spread over the 1 GiB image, so 1 MiB checkpoints fall between them.
    blocks = Array.from({ length: 40 }, (_, i) => i * 40_000 + (i % 7)).map((index) => ({
      index,
      data: blockBytes(index, BLOCK),
    }));
    const factory = new ClientFactory({});
    try {
      snapshotId = await uploadSnapshot(factory.client(EBSClient, { region: "us-east-1" }), 1, blocks);
    } finally {
      factory.destroy();
    }
    proxy = await startFaultProxy(emulator.endpoint());
    endpoint = process.env.AWS_ENDPOINT_URL;
    timeouts = process.env.FLZ_AWS_TIMEOUTS;
    process.env.AWS_ENDPOINT_URL = proxy.url;
    process.env.FLZ_AWS_TIMEOUTS = "all=3000,connect=500,idle=3000";
  });
  afterEach(async () => {
    process.env.AWS_ENDPOINT_URL = endpoint;
    if (timeouts === undefined) delete process.env.FLZ_AWS_TIMEOUTS;
    else process.env.FLZ_AWS_TIMEOUTS = timeouts;
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const hash = (flags: Record<string, unknown>) =>
    runHash([], { snapshot: snapshotId, region: "us-east-1", json: true, concurrency: "4", ...flags }, captureIo());

  it("retries truncated and reset block reads per block, and counts the throttling the SDK absorbed", async () => {
    proxy.add({ operation: "ebs:GetSnapshotBlock", when: "after", fault: "truncate", times: 3 });
    proxy.add({ operation: "ebs:GetSnapshotBlock", when: "after", fault: "reset", times: 2 });
    proxy.add({ operation: "ebs:GetSnapshotBlock", fault: "throttle", times: 3 });
    const digest = (await hash({})) as SnapshotDigest;
    expect(digest.imageSha256).to.equal(rawImageSha256(dir, blocks));
    expect(digest.throttled).to.equal(3);
    expect(proxy.hits("ebs:GetSnapshotBlock", true)).to.equal(8);
  });

  it("resumes from the manifest's last checkpoint after an interruption: same digest, earlier blocks not fetched again", async () => {
    const manifest = path.join(dir, "snap.jsonl");
    // Every read from the 25th on fails, beyond the SDK's and the hash's own retries: the first run stops there.
    proxy.add({ operation: "ebs:GetSnapshotBlock", fault: "reset", skip: 24, times: Infinity });
    const failed = await hash({ manifest, checkpointEvery: "1", concurrency: "1" }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(failed?.message).to.match(/GetSnapshotBlock .*connection reset/);
    const checkpoints = readFileSync(manifest, "utf8")
      .split("\n")
      .filter((l) => l.includes('"checkpoint"'));
    expect(checkpoints.length).to.be.at.least(10);
    proxy.clear();
    const before = proxy.hits("ebs:GetSnapshotBlock");
    const digest = (await hash({ manifest, resume: true, concurrency: "2" })) as SnapshotDigest;
    expect(digest.imageSha256).to.equal(rawImageSha256(dir, blocks));
    expect(digest.writtenBlocks).to.equal(blocks.length);
    expect(digest.resumedAfterIndex).to.be.a("number");
    expect(proxy.hits("ebs:GetSnapshotBlock") - before, "blocks fetched after the resume").to.be.at.most(
      blocks.length - 20,
    );
    // The manifest now reads as if the hash had never stopped: one line per written block, one summary.
    const lines = readFileSync(manifest, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; index?: number });
    expect(lines.filter((l) => l.type === "block").map((l) => l.index)).to.deep.equal(blocks.map((b) => b.index));
    expect(lines.filter((l) => l.type === "summary")).to.have.length(1);
  });

  it("--case records the digest once in the case's ledger; hashing again with the same result records nothing new", async () => {
    process.env.AWS_ENDPOINT_URL = endpoint; // the ledger's own calls need no faults here
    const lz: LandingZone = await seedLandingZone();
    const file = path.join(dir, "lz.json");
    writeFileSync(file, JSON.stringify(lz));
    const factory = new ClientFactory({ caseId: "IR-HASH", forensicRoleArn: lz.forensicResponderRoleArn });
    try {
      // With a landing zone, flz hash reads as the forensic responder: the snapshot lives in the forensic account
      // (put there by the account's administrator, not by the responder, who may only read snapshots).
      const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
      try {
        snapshotId = await uploadSnapshot(
          admin.client(EBSClient, { account: lz.forensicAccountId, region: "us-east-1" }),
          1,
          blocks,
        );
      } finally {
        admin.destroy();
      }
      const ledger = await openLedger({ factory, landingZone: lz, caseId: "IR-HASH" });
      await openTestCase(ledger);
      const first = (await hash({ case: "IR-HASH", landingZone: file })) as SnapshotDigest;
      const second = (await hash({ case: "IR-HASH", landingZone: file })) as SnapshotDigest;
      const records = await ledger.records();
      const hashed = records.filter((r) => r.action === "evidence.snapshot.hashed");
      expect(hashed).to.have.length(1);
      expect(hashed[0].evidence?.[0]).to.include({
        kind: "snapshot",
        location: `arn:aws:ec2:us-east-1::snapshot/${snapshotId}`,
        sha256: rawImageSha256(dir, blocks),
      });
      expect(first.record?.sequence).to.equal(hashed[0].sequence);
      expect(second.record?.sequence).to.equal(hashed[0].sequence);

      const artefact = path.join(dir, "notes.txt");
      writeFileSync(artefact, "observed at 10:15\n");
      await runHash([artefact], { case: "IR-HASH", landingZone: file }, captureIo());
      const fileRecord = (await ledger.records()).find((r) => r.action === "evidence.file.hashed");
      expect(fileRecord?.evidence?.[0].sha256).to.equal(execFileSync("sha256sum", [artefact]).toString().split(" ")[0]);
    } finally {
      factory.destroy();
    }
  });
});
