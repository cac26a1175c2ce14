import { expect } from "chai";
import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeLockedSnapshotsCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  LockSnapshotCommand,
  ModifySnapshotAttributeCommand,
} from "@aws-sdk/client-ec2";
import { ClientFactory } from "../../scripts/aws/clients";
import { useEmulator } from "../support/emulator";

// The emulator extension (scripts/emulator/flz_ebs.py) on its own: what a real account sees of a snapshot shared
// with it, and EBS Snapshot Lock. Two accounts reached by AssumeRole, as in every other integration test.
describe("emulator extension: cross-account snapshot sharing and snapshot lock", () => {
  useEmulator();
  const OWNER = "333333333333";
  const RECIPIENT = "222222222222";
  const OTHER = "444444444444";
  const region = "eu-west-1";
  let factory: ClientFactory;
  const ec2 = (account: string, r = region) => factory.client(EC2Client, { account, region: r });

  beforeEach(() => {
    factory = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  });
  afterEach(() => factory.destroy());

  async function ownerSnapshot(): Promise<string> {
    const vol = await ec2(OWNER).send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 8 }));
    const snap = await ec2(OWNER).send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId }));
    return snap.SnapshotId ?? "";
  }

  async function share(snapshotId: string, account: string): Promise<void> {
    await ec2(OWNER).send(
      new ModifySnapshotAttributeCommand({
        SnapshotId: snapshotId,
        Attribute: "createVolumePermission",
        OperationType: "add",
        UserIds: [account],
      }),
    );
  }

  it("shows a shared snapshot to the recipient, by ID, by owner and by restorable-by, with its real owner", async () => {
    const id = await ownerSnapshot();
    await share(id, RECIPIENT);
    const byId = await ec2(RECIPIENT).send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
    expect(byId.Snapshots?.map((s) => [s.SnapshotId, s.OwnerId])).to.deep.equal([[id, OWNER]]);
    const byOwner = await ec2(RECIPIENT).send(new DescribeSnapshotsCommand({ OwnerIds: [OWNER] }));
    expect(byOwner.Snapshots?.map((s) => s.SnapshotId)).to.deep.equal([id]);
    const restorable = await ec2(RECIPIENT).send(
      new DescribeSnapshotsCommand({ RestorableByUserIds: ["self"], OwnerIds: [OWNER] }),
    );
    expect(restorable.Snapshots?.map((s) => s.SnapshotId)).to.deep.equal([id]);
  });

  it("lets the recipient copy a shared snapshot into its own account, under its key and with its tags", async () => {
    const id = await ownerSnapshot();
    await share(id, RECIPIENT);
    const key = `arn:aws:kms:${region}:${RECIPIENT}:key/00000000-0000-0000-0000-000000000001`;
    const copy = await ec2(RECIPIENT).send(
      new CopySnapshotCommand({
        SourceSnapshotId: id,
        SourceRegion: region,
        KmsKeyId: key,
        Encrypted: true,
        TagSpecifications: [{ ResourceType: "snapshot", Tags: [{ Key: "flz:case", Value: "IR-1" }] }],
      }),
    );
    const mine = await ec2(RECIPIENT).send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
    const copied = mine.Snapshots?.find((s) => s.SnapshotId === copy.SnapshotId);
    expect(copied?.OwnerId).to.equal(RECIPIENT);
    expect(copied?.KmsKeyId).to.equal(key);
    expect(copied?.Tags).to.deep.include({ Key: "flz:case", Value: "IR-1" });
  });

  it("keeps an unshared snapshot invisible and uncopyable to other accounts, and a shared one to third accounts", async () => {
    const id = await ownerSnapshot();
    const notFound = (p: Promise<unknown>) =>
      p.then(
        () => expect.fail("expected InvalidSnapshot.NotFound"),
        (err: { name?: string }) => expect(err.name).to.equal("InvalidSnapshot.NotFound"),
      );
    await notFound(ec2(RECIPIENT).send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })));
    await notFound(ec2(RECIPIENT).send(new CopySnapshotCommand({ SourceSnapshotId: id, SourceRegion: region })));
    const listed = await ec2(RECIPIENT).send(new DescribeSnapshotsCommand({ OwnerIds: [OWNER] }));
    expect(listed.Snapshots).to.deep.equal([]);
    await share(id, RECIPIENT);
    await notFound(ec2(OTHER).send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })));
  });

  it("does not leak a shared snapshot into another region, and stops showing it once unshared", async () => {
    const id = await ownerSnapshot();
    await share(id, RECIPIENT);
    const elsewhere = await ec2(RECIPIENT, "us-east-1").send(new DescribeSnapshotsCommand({ OwnerIds: [OWNER] }));
    expect(elsewhere.Snapshots).to.deep.equal([]);
    await ec2(OWNER).send(
      new ModifySnapshotAttributeCommand({
        SnapshotId: id,
        Attribute: "createVolumePermission",
        OperationType: "remove",
        UserIds: [RECIPIENT],
      }),
    );
    const after = await ec2(RECIPIENT).send(new DescribeSnapshotsCommand({ OwnerIds: [OWNER] }));
    expect(after.Snapshots).to.deep.equal([]);
  });

  it("leaves the attribute to the owner: the recipient cannot read or change it", async () => {
    const id = await ownerSnapshot();
    await share(id, RECIPIENT);
    const attr = await ec2(OWNER).send(
      new DescribeSnapshotAttributeCommand({ SnapshotId: id, Attribute: "createVolumePermission" }),
    );
    expect(attr.CreateVolumePermissions).to.deep.equal([{ UserId: RECIPIENT }]);
    await ec2(RECIPIENT)
      .send(new DescribeSnapshotAttributeCommand({ SnapshotId: id, Attribute: "createVolumePermission" }))
      .then(
        () => expect.fail("recipient read the attribute"),
        (err: { name?: string }) => expect(err.name).to.equal("InvalidSnapshot.NotFound"),
      );
  });

  it("records a compliance lock and returns it from DescribeLockedSnapshots", async () => {
    const id = await ownerSnapshot();
    const lock = await ec2(OWNER).send(
      new LockSnapshotCommand({ SnapshotId: id, LockMode: "compliance", LockDuration: 30 }),
    );
    expect(lock.LockState).to.equal("compliance");
    expect(lock.LockDuration).to.equal(30);
    const days = ((lock.LockExpiresOn?.getTime() ?? 0) - (lock.LockCreatedOn?.getTime() ?? 0)) / 86_400_000;
    expect(days).to.be.closeTo(30, 0.01);
    const listed = await ec2(OWNER).send(new DescribeLockedSnapshotsCommand({ SnapshotIds: [id] }));
    expect(listed.Snapshots?.map((s) => [s.SnapshotId, s.LockState])).to.deep.equal([[id, "compliance"]]);
    const cooling = await ec2(OWNER).send(
      new LockSnapshotCommand({
        SnapshotId: await ownerSnapshot(),
        LockMode: "compliance",
        LockDuration: 1,
        CoolOffPeriod: 2,
      }),
    );
    expect(cooling.LockState).to.equal("compliance-cooloff");
  });

  it("refuses to shorten a compliance lock, to lock another account's snapshot, or a lock without a duration", async () => {
    const id = await ownerSnapshot();
    await ec2(OWNER).send(new LockSnapshotCommand({ SnapshotId: id, LockMode: "compliance", LockDuration: 30 }));
    const refused = (p: Promise<unknown>, code: string) =>
      p.then(
        () => expect.fail(`expected ${code}`),
        (err: { name?: string }) => expect(err.name).to.equal(code),
      );
    await refused(
      ec2(OWNER).send(new LockSnapshotCommand({ SnapshotId: id, LockMode: "compliance", LockDuration: 1 })),
      "InvalidParameterValue",
    );
    await refused(
      ec2(OWNER).send(new LockSnapshotCommand({ SnapshotId: id, LockMode: "compliance" })),
      "InvalidParameterValue",
    );
    await share(id, RECIPIENT);
    await refused(
      ec2(RECIPIENT).send(new LockSnapshotCommand({ SnapshotId: id, LockMode: "compliance", LockDuration: 90 })),
      "InvalidSnapshot.NotFound",
    );
    const extended = await ec2(OWNER).send(
      new LockSnapshotCommand({ SnapshotId: id, LockMode: "compliance", LockDuration: 60 }),
    );
    expect(extended.LockDuration).to.equal(60);
  });
});
