/**
 * The runbook's hash step, executed offline: after the capture, the state machine hashes every forensic snapshot with
 * `flz hash --snapshot --case`'s own code (EBS direct APIs, every block's checksum verified) and the digest is
 * recorded in the case; a volume too large for one Lambda invocation is recorded "hash pending" with the command that
 * finishes it, and that command, run by an operator, records the digest.
 */
import { expect } from "chai";
import { PassThrough } from "node:stream";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { responderFactory } from "../../scripts/aws/clients";
import { caseIdOf, executionNameOf, incidentOf } from "../../scripts/automation/incident";
import { HASH_PENDING_ACTION } from "../../scripts/automation/handlers";
import { guardDutyInstanceFinding, localAutomation } from "../../scripts/automation/local-engine";
import { runHash } from "../../scripts/commands/hash";
import type { LandingZone } from "../../scripts/contract";
import { openLedger } from "../../scripts/custody/ledger";
import type { CustodyRecord } from "../../scripts/custody/types";
import { plantIncident, type PlantedIncident } from "../../scripts/drill/plant";
import { seedLandingZone, SEED_ACCOUNTS } from "../../scripts/emulator/seed";
import type { SnapshotDigest } from "../../scripts/hash/snapshot";
import { useEmulator } from "../support/emulator";

const MEMBER = SEED_ACCOUNTS.members[0];
const REGION = "eu-west-1";

async function caseRecords(lz: LandingZone, caseId: string): Promise<CustodyRecord[]> {
  const factory = responderFactory(lz, caseId);
  try {
    return await (await openLedger({ factory, landingZone: lz, caseId })).records();
  } finally {
    factory.destroy();
  }
}

/** The digests the case records for snapshots, by snapshot ID. */
const digests = (records: CustodyRecord[]): Record<string, string> =>
  Object.fromEntries(
    records
      .filter((r) => r.action === "evidence.snapshot.hashed")
      .flatMap((r) => r.evidence ?? [])
      .map((e) => [String(e.details?.snapshotId), e.sha256 ?? ""]),
  );

const quiet = () => {
  const out = new PassThrough();
  const err = new PassThrough();
  out.resume();
  err.resume();
  return { out, err, isTty: false as const };
};

describe("response automation: the hash step (local ASL interpreter, real handlers, emulator)", function () {
  this.timeout(240000);
  useEmulator();
  let lz: LandingZone;
  let planted: PlantedIncident;
  let finding: Record<string, unknown>;
  let caseId: string;

  beforeEach(async () => {
    lz = await seedLandingZone();
    // Disks with known content (the drill's), so each forensic snapshot's image digest is known in advance.
    planted = await plantIncident(MEMBER, REGION);
    finding = guardDutyInstanceFinding({
      account: MEMBER,
      region: REGION,
      instanceId: planted.instanceId,
      adminAccount: SEED_ACCOUNTS.forensic,
    });
    caseId = caseIdOf(executionNameOf(incidentOf(finding, SEED_ACCOUNTS.forensic)));
  });

  it("hashes every captured snapshot and records each digest, equal to the SHA-256 of the disk planted", async () => {
    const auto = await localAutomation(lz, { defaultMode: "observe" });
    try {
      const run = await auto.run(finding, executionNameOf(incidentOf(finding, SEED_ACCOUNTS.forensic)));
      expect(run.states).to.include.members(["CaptureInstance", "HashInstance", "Verify"]);
      const verification = run.output.verification as { ok: boolean };
      expect(verification.ok, JSON.stringify(verification)).to.equal(true);
      const records = await caseRecords(lz, caseId);
      const recorded = digests(records);
      expect(Object.keys(recorded)).to.have.length(2);
      expect(Object.values(recorded).sort()).to.deep.equal(planted.disks.map((d) => d.sha256).sort());
      expect(records.some((r) => r.action === HASH_PENDING_ACTION)).to.equal(false);
      // Hashed after the capture locked the copies: the records come in that order.
      const lastLock = Math.max(...records.filter((r) => /lock/.test(r.action)).map((r) => r.sequence));
      const firstHash = Math.min(
        ...records.filter((r) => r.action === "evidence.snapshot.hashed").map((r) => r.sequence),
      );
      expect(firstHash).to.be.greaterThan(lastLock);
    } finally {
      auto.close();
    }
  });

  it("records a volume too large for one invocation as hash pending, and flz hash --case finishes it", async () => {
    // Every volume is "too large" for this automation: what a 2 TiB volume is for the real one.
    const auto = await localAutomation(lz, { defaultMode: "observe" }, { hashMaxGiB: 0 });
    try {
      await auto.run(finding, executionNameOf(incidentOf(finding, SEED_ACCOUNTS.forensic)));
    } finally {
      auto.close();
    }
    const records = await caseRecords(lz, caseId);
    expect(digests(records)).to.deep.equal({});
    const pending = records.filter((r) => r.action === HASH_PENDING_ACTION);
    expect(pending).to.have.length(1);
    const items = (pending[0].details?.pending ?? []) as Array<{
      snapshotId: string;
      reason: string;
      finishWith: string;
    }>;
    expect(items).to.have.length(2);
    for (const item of items) {
      expect(item.reason).to.match(/larger than the 0 GiB one function hashes within Lambda's 15 minutes/);
      expect(item.finishWith).to.equal(`flz hash --snapshot ${item.snapshotId} --region ${REGION} --case ${caseId}`);
    }

    // The operator runs the command the record names (the CLI's own code path, reading the contract file).
    const contract = path.join(mkdtempSync(path.join(tmpdir(), "flz-hash-pending-")), "lz.json");
    writeFileSync(contract, JSON.stringify(lz));
    for (const item of items) {
      const digest = (await runHash(
        [],
        { snapshot: item.snapshotId, region: REGION, case: caseId, landingZone: contract, json: true },
        quiet(),
      )) as SnapshotDigest;
      expect(digest.record).to.not.equal(undefined);
    }
    const after = digests(await caseRecords(lz, caseId));
    expect(Object.values(after).sort()).to.deep.equal(planted.disks.map((d) => d.sha256).sort());
  });
});
