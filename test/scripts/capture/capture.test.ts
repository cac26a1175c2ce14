import { expect } from "chai";
import { createHash } from "node:crypto";
import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  DescribeLockedSnapshotsCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  type Snapshot,
} from "@aws-sdk/client-ec2";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { ClientFactory } from "../../../scripts/aws/clients";
import { captureInstance } from "../../../scripts/capture/capture";
import { captureTags, parseCaptureRequest } from "../../../scripts/capture/plan";
import { main } from "../../../scripts/cli";
import type { LandingZone } from "../../../scripts/contract";
import { openLedger } from "../../../scripts/custody/ledger";
import type { CustodyRecord } from "../../../scripts/custody/types";
import { seedLandingZone, SEED_ACCOUNTS } from "../../../scripts/emulator/seed";
import { intentEvent } from "../../../scripts/custody/intent";
import { openTestCase } from "../../support/cases";
import { useEmulator } from "../../support/emulator";
import {
  captureFactory,
  launchInstance,
  withCapturedProcessOutput,
  writeContract,
  type TestInstance,
} from "./fixtures";

const MEMBER = SEED_ACCOUNTS.members[0];
const FORENSIC = SEED_ACCOUNTS.forensic;
const REGION = "eu-west-1";

/** Everything the emulator holds that a capture could change: snapshots of both accounts, evidence objects. */
async function emulatorState(lz: LandingZone): Promise<string> {
  const factory = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  try {
    const parts: string[] = [];
    for (const account of [MEMBER, FORENSIC]) {
      for (const region of lz.regions) {
        const out = await factory
          .client(EC2Client, { account, region })
          .send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
        parts.push(
          `${account}/${region}: ${(out.Snapshots ?? [])
            .map((s) => s.SnapshotId)
            .sort()
            .join(",")}`,
        );
      }
    }
    const objects = await factory
      .client(S3Client, { account: FORENSIC, region: lz.homeRegion })
      .send(new ListObjectsV2Command({ Bucket: lz.evidenceBucket }));
    parts.push(`objects: ${(objects.Contents ?? []).map((o) => o.Key).join(",")}`);
    return parts.join("\n");
  } finally {
    factory.destroy();
  }
}

async function ownSnapshots(account: string, region: string): Promise<Snapshot[]> {
  const factory = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  try {
    const out = await factory
      .client(EC2Client, { account, region })
      .send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
    return out.Snapshots ?? [];
  } finally {
    factory.destroy();
  }
}

/** The records a capture wrote: every record after record 0, which is the case.opened record every case starts with. */
async function ledgerRecords(lz: LandingZone, caseId: string): Promise<CustodyRecord[]> {
  const factory = captureFactory(lz, caseId);
  try {
    const [opened, ...rest] = await (await openLedger({ factory, landingZone: lz, caseId })).records();
    expect(opened?.action).to.equal("case.opened");
    return rest;
  } finally {
    factory.destroy();
  }
}

async function flz(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = await withCapturedProcessOutput(() => main(["node", "flz", ...args]));
  process.exitCode = 0; // main() sets it; mocha's own exit code must not inherit a test's expected failure
  return { code: run.value, stdout: run.stdout, stderr: run.stderr };
}

describe("flz capture on the emulator", function () {
  this.timeout(60000);
  useEmulator();
  let lz: LandingZone;
  let contract: string;
  let instance: TestInstance;

  beforeEach(async () => {
    lz = await seedLandingZone();
    contract = writeContract(lz);
    instance = await launchInstance(MEMBER, REGION, 1);
  });

  /** Opens a case as an operator does, with flz case open: the only way a case comes to exist. */
  const openCase = async (caseId: string): Promise<void> => {
    const run = await flz([
      "case",
      "open",
      caseId,
      "--title",
      "capture test",
      "--aware-at",
      "now",
      "--landing-zone",
      contract,
    ]);
    expect(run.code, run.stderr).to.equal(0);
  };

  const baseArgs = (caseId: string) => [
    "capture",
    "--case",
    caseId,
    "--instance",
    instance.instanceId,
    "--account",
    MEMBER,
    "--region",
    REGION,
    "--landing-zone",
    contract,
  ];

  it("captures every volume into locked, forensic-owned snapshots under the evidence key, and prints one JSON document", async () => {
    await openCase("IR-100");
    const run = await flz([...baseArgs("IR-100"), "--json"]);
    expect(run.code, run.stderr).to.equal(0);
    const result = JSON.parse(run.stdout) as {
      case: string;
      instance: string;
      snapshots: {
        volumeId: string;
        sourceSnapshotId: string;
        forensicSnapshotId: string;
        evidenceCopySnapshotId: string;
        kmsKeyArn: string;
        state: string;
        locked: boolean;
      }[];
    };
    expect(result.case).to.equal("IR-100");
    expect(result.instance).to.equal(instance.instanceId);
    expect(result.snapshots.map((s) => s.volumeId).sort()).to.deep.equal([...instance.volumeIds].sort());

    const forensic = await ownSnapshots(FORENSIC, REGION);
    const locks = await new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" })
      .client(EC2Client, { account: FORENSIC, region: REGION })
      .send(new DescribeLockedSnapshotsCommand({}));
    for (const s of result.snapshots) {
      expect(s).to.include({ state: "completed", locked: true, kmsKeyArn: lz.evidenceKeyArns[REGION] });
      const evidence = forensic.find((f) => f.SnapshotId === s.forensicSnapshotId);
      expect(evidence?.OwnerId, "forensic account owns the evidence").to.equal(FORENSIC);
      expect(evidence?.KmsKeyId).to.equal(lz.evidenceKeyArns[REGION]);
      expect(evidence?.Tags).to.deep.include.members([
        { Key: "flz:case", Value: "IR-100" },
        { Key: "flz:volume", Value: s.volumeId },
        { Key: "flz:stage", Value: "forensic" },
      ]);
      expect(locks.Snapshots?.find((l) => l.SnapshotId === s.forensicSnapshotId)?.LockState).to.equal("compliance");
    }
    // The shared copy is shared with the forensic account and nobody else.
    const member = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" }).client(EC2Client, {
      account: MEMBER,
      region: REGION,
    });
    const attr = await member.send(
      new DescribeSnapshotAttributeCommand({
        SnapshotId: result.snapshots[0].evidenceCopySnapshotId,
        Attribute: "createVolumePermission",
      }),
    );
    expect(attr.CreateVolumePermissions).to.deep.equal([{ UserId: FORENSIC }]);
  });

  it("records every step, the caller identities and hashed instance artefacts in the case's ledger", async () => {
    await openCase("IR-101");
    const run = await flz(baseArgs("IR-101"));
    expect(run.code, run.stderr).to.equal(0);
    const records = await ledgerRecords(lz, "IR-101");
    const actions = records.map((r) => r.action);
    expect(actions[0]).to.equal("capture.started");
    expect(actions.at(-1)).to.equal("capture.completed");
    expect(records[0].details?.memberCaller).to.match(
      new RegExp(`^arn:aws:sts::${MEMBER}:assumed-role/${lz.memberResponderRoleName}/flz-IR-101`),
    );
    expect(records[0].details?.forensicCaller).to.contain(FORENSIC);
    for (const action of ["capture.snapshot.created", "capture.snapshot.shared", "capture.snapshot.locked"]) {
      expect(
        actions.filter((a) => a === action),
        action,
      ).to.have.length(instance.volumeIds.length);
    }
    expect(actions.filter((a) => a === "capture.snapshot.copied")).to.have.length(2 * instance.volumeIds.length);
    const copied = records.find((r) => r.action === "capture.snapshot.copied" && r.details?.stage === "forensic");
    expect(copied?.details?.kmsKeyArn).to.equal(lz.evidenceKeyArns[REGION]);

    const s3 = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" }).client(S3Client, {
      account: FORENSIC,
      region: lz.homeRegion,
    });
    const artefacts = records.filter((r) => r.action === "capture.artefact.stored").flatMap((r) => r.evidence ?? []);
    expect(artefacts.map((a) => a.kind).sort()).to.deep.equal(["console-output", "instance-record"]);
    for (const a of artefacts) {
      const key = a.location.replace(`s3://${lz.evidenceBucket}/`, "");
      expect(key).to.match(new RegExp(`^cases/IR-101/artefacts/${MEMBER}/${REGION}/${instance.instanceId}/`));
      const body = await (
        await s3.send(new GetObjectCommand({ Bucket: lz.evidenceBucket, Key: key }))
      ).Body?.transformToByteArray();
      expect(
        createHash("sha256")
          .update(body ?? new Uint8Array())
          .digest("hex"),
        a.kind,
      ).to.equal(a.sha256);
    }
    const record = artefacts.find((a) => a.kind === "instance-record");
    const json = await (
      await s3.send(
        new GetObjectCommand({
          Bucket: lz.evidenceBucket,
          Key: record?.location.replace(`s3://${lz.evidenceBucket}/`, ""),
        }),
      )
    ).Body?.transformToString();
    expect(JSON.parse(json ?? "{}").InstanceId).to.equal(instance.instanceId);
  });

  it("captures only the named volume with --volume", async () => {
    await openCase("IR-102");
    const run = await flz([...baseArgs("IR-102"), "--volume", instance.volumeIds[1], "--json"]);
    expect(run.code, run.stderr).to.equal(0);
    expect(
      (JSON.parse(run.stdout) as { snapshots: { volumeId: string }[] }).snapshots.map((s) => s.volumeId),
    ).to.deep.equal([instance.volumeIds[1]]);
  });

  it("resumes: a second run finds everything in the ledger and captures or records nothing twice", async () => {
    await openCase("IR-103");
    const first = await flz([...baseArgs("IR-103"), "--json"]);
    expect(first.code, first.stderr).to.equal(0);
    const before = await emulatorState(lz);
    const second = await flz([...baseArgs("IR-103"), "--json"]);
    expect(second.code, second.stderr).to.equal(0);
    const [a, b] = [first, second].map((r) => (JSON.parse(r.stdout) as { snapshots: unknown[] }).snapshots);
    expect(b).to.deep.equal(a);
    const after = await emulatorState(lz);
    expect(after.split("\n").slice(0, -1)).to.deep.equal(before.split("\n").slice(0, -1)); // same snapshots
    const records = await ledgerRecords(lz, "IR-103");
    expect(records.filter((r) => r.action === "capture.snapshot.created")).to.have.length(instance.volumeIds.length);
    expect(records.filter((r) => r.action === "capture.artefact.stored")).to.have.length(2);
  });

  it("continues an interrupted capture from what exists: a forensic copy refused on the key, then a rerun", async () => {
    const caseId = "IR-104";
    await openCase(caseId);
    const request = parseCaptureRequest({
      case: caseId,
      instance: instance.instanceId,
      account: MEMBER,
      region: REGION,
    });
    const factory = captureFactory(lz, caseId);
    const ledger = await openLedger({ factory, landingZone: lz, caseId });
    // moto does not enforce KMS key policies: make the forensic account's copy fail as AWS does when the key policy
    // does not let it use the evidence key; every other call goes to the emulator.
    const forensicEc2 = factory.client(EC2Client, { region: REGION });
    const mock = mockClient(forensicEc2);
    mock.send.callThrough();
    mock
      .on(CopySnapshotCommand)
      .rejects(
        Object.assign(
          new Error(
            "User: arn:aws:sts::222222222222:assumed-role/FlzForensicResponder/flz-IR-104 is not authorized to perform: kms:CreateGrant",
          ),
          { name: "AccessDenied" },
        ),
      );
    const failed = await captureInstance({ factory, landingZone: lz, request, ledger });
    mock.restore();
    factory.destroy();
    expect(failed.snapshots.every((s) => s.state === "error")).to.equal(true);
    expect(failed.snapshots[0].error).to.match(/^AccessDenied: .*kms:CreateGrant/);
    const afterFailure = await ledgerRecords(lz, caseId);
    const failures = afterFailure.filter((r) => r.action === "capture.snapshot.failed");
    expect(failures).to.have.length(instance.volumeIds.length);
    expect(failures[0].outcome).to.equal("failed");
    expect(failures[0].error).to.contain("kms:CreateGrant");
    const memberBefore = (await ownSnapshots(MEMBER, REGION)).map((s) => s.SnapshotId).sort();
    expect(memberBefore).to.have.length(2 * instance.volumeIds.length); // source + evidence copy per volume

    const rerun = await flz([...baseArgs(caseId), "--json"]);
    expect(rerun.code, rerun.stderr).to.equal(0);
    const result = JSON.parse(rerun.stdout) as {
      snapshots: { sourceSnapshotId: string; evidenceCopySnapshotId: string; locked: boolean }[];
    };
    expect(
      (await ownSnapshots(MEMBER, REGION)).map((s) => s.SnapshotId).sort(),
      "no new member snapshots",
    ).to.deep.equal(memberBefore);
    expect(result.snapshots.map((s) => s.sourceSnapshotId)).to.deep.equal(
      failed.snapshots.map((s) => s.sourceSnapshotId),
    );
    expect(result.snapshots.every((s) => s.locked)).to.equal(true);
    const records = await ledgerRecords(lz, caseId);
    expect(records.filter((r) => r.action === "capture.snapshot.created")).to.have.length(instance.volumeIds.length);
    expect(records.filter((r) => r.action === "capture.snapshot.shared")).to.have.length(instance.volumeIds.length);
  });

  it("adopts the snapshot a killed run made under its intent but never recorded: found by the intent tag, recorded once, not re-taken", async () => {
    // What a run killed between CreateSnapshot and its outcome record leaves behind: the intent in the ledger, and a
    // snapshot carrying the intent's tag. The dead run is on another host, past its deadline.
    const caseId = "IR-110";
    const volumeId = instance.volumeIds[1];
    const factory = captureFactory(lz, caseId);
    const ledger = await openLedger({ factory, landingZone: lz, caseId });
    await openTestCase(ledger);
    const intentId = "0f6d5b0e-1111-4222-8333-444455556666";
    const intentRecord = await ledger.append(
      intentEvent("capture.intent", [volumeId, instance.instanceId], {
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
        facts: { instance: instance.instanceId, memberAccount: MEMBER, volumeId, device: "/dev/sdf" },
      }),
    );
    factory.destroy();
    const member = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" }).client(EC2Client, {
      account: MEMBER,
      region: REGION,
    });
    const tags = {
      ...captureTags({
        caseId,
        instanceId: instance.instanceId,
        account: MEMBER,
        volume: { volumeId, device: "/dev/sdf" },
        stage: "source",
        capturedAt: intentRecord.time,
      }),
      "flz:intent": intentId,
    };
    const orphan = await member.send(
      new CreateSnapshotCommand({
        VolumeId: volumeId,
        TagSpecifications: [
          { ResourceType: "snapshot", Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
        ],
      }),
    );
    const run = await flz([...baseArgs(caseId), "--volume", volumeId, "--json"]);
    expect(run.code, run.stderr).to.equal(0);
    expect(
      (JSON.parse(run.stdout) as { snapshots: { sourceSnapshotId: string }[] }).snapshots[0].sourceSnapshotId,
    ).to.equal(orphan.SnapshotId);
    const created = (await ledgerRecords(lz, caseId)).filter((r) => r.action === "capture.snapshot.created");
    expect(created).to.have.length(1);
    expect(created[0].subjects[0]).to.equal(orphan.SnapshotId);
    expect(created[0].details).to.include({ intentId, recoveredFromIntent: true });
    expect(
      (await ownSnapshots(MEMBER, REGION)).filter((s) =>
        s.Tags?.some((t) => t.Key === "flz:stage" && t.Value === "source"),
      ),
    ).to.have.length(1);
  });

  it("--dry-run prints the plan and changes nothing in AWS or the ledger", async () => {
    await openCase("IR-105");
    const before = await emulatorState(lz);
    const run = await flz([...baseArgs("IR-105"), "--dry-run"]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.contain(
      `${instance.volumeIds[0]} (/dev/sda1): would snapshot -> copy -> share -> forensic-copy -> lock`,
    );
    expect(run.stdout).to.contain("dry run: nothing was changed");
    expect(await emulatorState(lz)).to.equal(before);
    expect(await ledgerRecords(lz, "IR-105")).to.deep.equal([]);
  });

  it("fails with one line, exit 2 (an unknown name, as in every command) and a ledger record for an unknown instance", async () => {
    await openCase("IR-106");
    const run = await flz([
      "capture",
      "--case",
      "IR-106",
      "--instance",
      "i-0123456789abcdef0",
      "--account",
      MEMBER,
      "--region",
      REGION,
      "--landing-zone",
      contract,
    ]);
    expect(run.code).to.equal(2);
    expect(run.stderr.trim().split("\n")).to.have.length(1);
    expect(run.stderr).to.match(
      /^flz: instance i-0123456789abcdef0 not found in account 333333333333 \(looked in eu-west-1, us-east-1\)/,
    );
    const records = await ledgerRecords(lz, "IR-106");
    expect(records.map((r) => [r.action, r.outcome])).to.deep.equal([["capture.failed", "failed"]]);
  });

  it("names the instance's real region when it is asked for in another one", async () => {
    await openCase("IR-107");
    const run = await flz([
      "capture",
      "--case",
      "IR-107",
      "--instance",
      instance.instanceId,
      "--account",
      MEMBER,
      "--region",
      "us-east-1",
      "--landing-zone",
      contract,
    ]);
    expect(run.code).to.equal(2); // an instance not where it was named: bad usage, as in every command
    expect(run.stderr.trim()).to.equal(
      `flz: instance ${instance.instanceId} is not in us-east-1 but in eu-west-1 (account ${MEMBER}): run again with --region eu-west-1`,
    );
    expect((await ledgerRecords(lz, "IR-107")).map((r) => r.action)).to.deep.equal(["capture.failed"]);
  });

  it("copies evidence from an ungoverned region into the home region (cross-region copy)", async () => {
    await openCase("IR-108");
    const far = await launchInstance(MEMBER, "us-west-2", 0);
    const run = await flz([
      "capture",
      "--case",
      "IR-108",
      "--instance",
      far.instanceId,
      "--account",
      MEMBER,
      "--region",
      "us-west-2",
      "--landing-zone",
      contract,
      "--json",
    ]);
    expect(run.code, run.stderr).to.equal(0);
    const result = JSON.parse(run.stdout) as {
      destinationRegion: string;
      snapshots: { forensicSnapshotId: string; kmsKeyArn: string }[];
    };
    expect(result.destinationRegion).to.equal(lz.homeRegion);
    expect(result.snapshots[0].kmsKeyArn).to.equal(lz.evidenceKeyArns[lz.homeRegion]);
    expect((await ownSnapshots(FORENSIC, lz.homeRegion)).map((s) => s.SnapshotId)).to.include(
      result.snapshots[0].forensicSnapshotId,
    );
  });

  it("refuses bad usage with exit 2 and a line naming the value", async () => {
    const run = await flz([
      "capture",
      "--case",
      "IR-109",
      "--instance",
      "i-nope",
      "--account",
      MEMBER,
      "--region",
      REGION,
      "--landing-zone",
      contract,
    ]);
    expect(run.code).to.equal(2);
    expect(run.stderr.trim()).to.equal(
      'flz: --instance "i-nope" is not valid: an EC2 instance ID such as i-0123456789abcdef0',
    );
  });
});
