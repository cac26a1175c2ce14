/**
 * Adversary: an administrator of the compromised member account tries to choose the disk image the case keeps as
 * evidence (issue 11, "The intruder chooses the disk image"; docs/threat-model.md, "Capture provenance"). He acts
 * with plain EC2 calls as the account's administrator role; the defence is that a capture trusts only snapshots the
 * case's ledger recorded (or an open intent of the case names, with the right volume, owner and start time).
 */
import { expect } from "chai";
import {
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DescribeLockedSnapshotsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { ClientFactory } from "../../scripts/aws/clients";
import { captureInstance } from "../../scripts/capture/capture";
import { captureTags, parseCaptureRequest } from "../../scripts/capture/plan";
import type { LandingZone } from "../../scripts/contract";
import { intentEvent } from "../../scripts/custody/intent";
import { openLedger } from "../../scripts/custody/ledger";
import type { CustodyRecord } from "../../scripts/custody/types";
import { seedLandingZone, SEED_ACCOUNTS } from "../../scripts/emulator/seed";
import { openTestCase } from "../support/cases";
import { useEmulator } from "../support/emulator";
import { captureFactory, launchInstance, type TestInstance } from "../scripts/capture/fixtures";

const MEMBER = SEED_ACCOUNTS.members[0];
const FORENSIC = SEED_ACCOUNTS.forensic;
const REGION = "eu-west-1";

/** The member account's administrator, acting with plain SDK calls. */
function memberAdmin(): { ec2: EC2Client; destroy(): void } {
  const factory = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  return { ec2: factory.client(EC2Client, { account: MEMBER, region: REGION }), destroy: () => factory.destroy() };
}

const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** Every snapshot ID any record of the case names as evidence. */
function evidenceIds(records: CustodyRecord[]): Set<string> {
  return new Set(
    records.flatMap((r) => (r.evidence ?? []).map((e) => String(e.details?.snapshotId ?? e.location.split("/").pop()))),
  );
}

describe("adversary: a member-account administrator plants the evidence of a capture", function () {
  this.timeout(90000);
  useEmulator();
  let lz: LandingZone;
  let instance: TestInstance;

  beforeEach(async () => {
    lz = await seedLandingZone();
    instance = await launchInstance(MEMBER, REGION, 0);
  });

  async function capture(caseId: string, open = true) {
    const factory = captureFactory(lz, caseId);
    try {
      const ledger = await openLedger({ factory, landingZone: lz, caseId });
      if (open) await openTestCase(ledger);
      const request = parseCaptureRequest({
        case: caseId,
        instance: instance.instanceId,
        account: MEMBER,
        region: REGION,
      });
      const result = await captureInstance({ factory, landingZone: lz, request, ledger, settleMs: [0] });
      return { result, records: await ledger.records() };
    } finally {
      factory.destroy();
    }
  }

  it("a snapshot of a clean volume, tagged with the case's tags, is reported as an untrusted candidate and never used, locked or recorded as evidence", async () => {
    const caseId = "IR-ADV-1";
    const compromised = instance.volumeIds[0];
    const admin = memberAdmin();
    let planted: string;
    try {
      const clean = await admin.ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, Size: 8 }));
      const snap = await admin.ec2.send(new CreateSnapshotCommand({ VolumeId: clean.VolumeId }));
      planted = snap.SnapshotId ?? "";
      // The case's tags, claiming to be the compromised volume's source snapshot (as an earlier flz would have tagged it).
      await admin.ec2.send(
        new CreateTagsCommand({
          Resources: [planted],
          Tags: tagList(
            captureTags({
              caseId,
              instanceId: instance.instanceId,
              account: MEMBER,
              volume: { volumeId: compromised, device: "/dev/sda1" },
              stage: "source",
              capturedAt: new Date().toISOString(),
            }),
          ),
        }),
      );
    } finally {
      admin.destroy();
    }

    const { result, records } = await capture(caseId);
    expect(result.snapshots[0].state, result.snapshots[0].error).to.equal("completed");
    expect(result.snapshots[0].sourceSnapshotId).to.not.equal(planted);
    expect(result.untrusted.map((u) => u.snapshotId)).to.deep.equal([planted]);
    expect(result.untrusted[0].reason).to.match(/no custody record or open intent/);

    // The evidence comes from the compromised volume; the planted snapshot is in no evidence and carries no lock.
    const member = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
    try {
      const source = await member
        .client(EC2Client, { account: MEMBER, region: REGION })
        .send(new DescribeSnapshotsCommand({ SnapshotIds: [result.snapshots[0].sourceSnapshotId ?? ""] }));
      expect(source.Snapshots?.[0].VolumeId).to.equal(compromised);
      const locks = await member
        .client(EC2Client, { account: FORENSIC, region: REGION })
        .send(new DescribeLockedSnapshotsCommand({}));
      expect((locks.Snapshots ?? []).map((l) => l.SnapshotId)).to.deep.equal([result.snapshots[0].forensicSnapshotId]);
    } finally {
      member.destroy();
    }
    expect(evidenceIds(records).has(planted)).to.equal(false);
    const reported = records.filter((r) => r.action === "capture.candidate.untrusted");
    expect(reported.map((r) => r.details?.snapshotId)).to.deep.equal([planted]);
    expect(reported[0].evidence ?? []).to.deep.equal([]);

    // A rerun reports it again but records it once.
    const again = await capture(caseId, false);
    expect(again.result.untrusted.map((u) => u.snapshotId)).to.deep.equal([planted]);
    expect(again.records.filter((r) => r.action === "capture.candidate.untrusted")).to.have.length(1);
  });

  it("after a crash, a clean snapshot carrying the open intent's own tag is rejected by its volume; the real creation is adopted", async () => {
    const caseId = "IR-ADV-2";
    const compromised = instance.volumeIds[0];
    const factory = captureFactory(lz, caseId);
    const ledger = await openLedger({ factory, landingZone: lz, caseId });
    await openTestCase(ledger);
    // A run that died right after CreateSnapshot: its intent is open, its snapshot carries the intent tag.
    const intentId = "6a1c0c9e-2f0b-4c33-9d3c-0a1b2c3d4e5f";
    const intent = await ledger.append(
      intentEvent("capture.intent", [compromised, instance.instanceId], {
        id: intentId,
        run: { id: "dead-run", host: "another-host", pid: 1 },
        operation: "CreateSnapshot",
        step: "source",
        account: MEMBER,
        region: REGION,
        identifier: { kind: "tag", key: "flz:intent", value: intentId },
        before: { snapshotOfVolume: null },
        undo: "nothing to undo",
        notAfter: new Date(Date.now() + 3600_000).toISOString(),
        facts: { instance: instance.instanceId, memberAccount: MEMBER, volumeId: compromised, device: "/dev/sda1" },
      }),
    );
    factory.destroy();
    const tags = {
      ...captureTags({
        caseId,
        instanceId: instance.instanceId,
        account: MEMBER,
        volume: { volumeId: compromised, device: "/dev/sda1" },
        stage: "source",
        capturedAt: intent.time,
      }),
      "flz:intent": intentId,
    };
    const admin = memberAdmin();
    let real: string;
    let forged: string;
    try {
      real =
        (
          await admin.ec2.send(
            new CreateSnapshotCommand({
              VolumeId: compromised,
              TagSpecifications: [{ ResourceType: "snapshot", Tags: tagList(tags) }],
            }),
          )
        ).SnapshotId ?? "";
      // The administrator reads the tag off the real snapshot and puts it on a snapshot of a clean volume.
      const clean = await admin.ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, Size: 8 }));
      forged =
        (
          await admin.ec2.send(
            new CreateSnapshotCommand({
              VolumeId: clean.VolumeId,
              TagSpecifications: [{ ResourceType: "snapshot", Tags: tagList(tags) }],
            }),
          )
        ).SnapshotId ?? "";
    } finally {
      admin.destroy();
    }

    const { result, records } = await capture(caseId, false);
    expect(result.snapshots[0].sourceSnapshotId).to.equal(real);
    const untrusted = result.untrusted.find((u) => u.snapshotId === forged);
    expect(untrusted?.reason).to.match(new RegExp(`taken of volume vol-\\w+, not ${compromised}`));
    expect(evidenceIds(records).has(forged)).to.equal(false);
    const created = records.filter((r) => r.action === "capture.snapshot.created");
    expect(created.map((r) => r.subjects[0])).to.deep.equal([real]);
    expect(created[0].details).to.include({ intentId, recoveredFromIntent: true });
  });
});
