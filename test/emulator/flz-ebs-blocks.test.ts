import { expect } from "chai";
import { createHash } from "node:crypto";
import {
  CompleteSnapshotCommand,
  EBSClient,
  GetSnapshotBlockCommand,
  ListSnapshotBlocksCommand,
  PutSnapshotBlockCommand,
  StartSnapshotCommand,
} from "@aws-sdk/client-ebs";
import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  EC2Client,
  ModifySnapshotAttributeCommand,
  RegisterImageCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { ClientFactory } from "../../scripts/aws/clients";
import { useEmulator } from "../support/emulator";

// The emulator extension (scripts/emulator/flz_ebs.py, section 3) on its own: block data written with StartSnapshot /
// PutSnapshotBlock follows EBS semantics through volumes, snapshots, copies and images, and the EBS direct APIs serve
// it for every snapshot that holds it; everything else stays plain moto.
describe("emulator extension: snapshot block data follows volumes, snapshots, copies and images", () => {
  useEmulator();
  const OWNER = "333333333333";
  const RECIPIENT = "222222222222";
  const region = "eu-west-1";
  let factory: ClientFactory;
  const ec2 = (account: string, r = region) => factory.client(EC2Client, { account, region: r });
  const ebs = (account: string, r = region) => factory.client(EBSClient, { account, region: r });

  beforeEach(() => {
    factory = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  });
  afterEach(() => factory.destroy());

  /** A sparse 1 GiB disk: a few 512-byte blocks (the emulator's block size) at scattered indices. */
  const layout = (seed: string): Map<number, Buffer> =>
    new Map([0, 7, 4096, 2_000_000].map((index) => [index, Buffer.alloc(512, `${seed}:${index}|`)]));

  async function startSnapshot(account: string, blocks: Map<number, Buffer>): Promise<string> {
    const started = await ebs(account).send(new StartSnapshotCommand({ VolumeSize: 1, Timeout: 60 }));
    const id = started.SnapshotId ?? "";
    for (const [index, data] of blocks) {
      await ebs(account).send(
        new PutSnapshotBlockCommand({
          SnapshotId: id,
          BlockIndex: index,
          BlockData: data,
          DataLength: data.length,
          Checksum: createHash("sha256").update(data).digest("base64"),
          ChecksumAlgorithm: "SHA256",
        }),
      );
    }
    await ebs(account).send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: blocks.size }));
    return id;
  }

  /** Reads every block of a snapshot back through the EBS direct APIs. */
  async function readBlocks(account: string, snapshotId: string, r = region): Promise<Map<number, Buffer>> {
    const listed = await ebs(account, r).send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId }));
    const out = new Map<number, Buffer>();
    for (const block of listed.Blocks ?? []) {
      const got = await ebs(account, r).send(
        new GetSnapshotBlockCommand({
          SnapshotId: snapshotId,
          BlockIndex: block.BlockIndex,
          BlockToken: block.BlockToken,
        }),
      );
      out.set(Number(block.BlockIndex), Buffer.from(await got.BlockData!.transformToByteArray()));
    }
    return out;
  }

  async function snapshotOf(account: string, volumeId: string | undefined, r = region): Promise<string> {
    return (await ec2(account, r).send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId ?? "";
  }

  it("carries a snapshot's blocks into a volume created from it, and into that volume's snapshot", async () => {
    const blocks = layout("disk");
    const source = await startSnapshot(OWNER, blocks);
    const volume = await ec2(OWNER).send(
      new CreateVolumeCommand({ AvailabilityZone: `${region}a`, SnapshotId: source }),
    );
    expect(volume.SnapshotId).to.equal(source);
    const again = await snapshotOf(OWNER, volume.VolumeId);
    expect(await readBlocks(OWNER, again)).to.deep.equal(blocks);
    const listed = await ebs(OWNER).send(new ListSnapshotBlocksCommand({ SnapshotId: again }));
    expect(listed.VolumeSize).to.equal(1);
  });

  it("keeps the blocks through CopySnapshot, to another region and through a share to another account", async () => {
    const blocks = layout("copy");
    const volume = await ec2(OWNER).send(
      new CreateVolumeCommand({ AvailabilityZone: `${region}a`, SnapshotId: await startSnapshot(OWNER, blocks) }),
    );
    const snap = await snapshotOf(OWNER, volume.VolumeId);
    const copy = await ec2(OWNER).send(new CopySnapshotCommand({ SourceSnapshotId: snap, SourceRegion: region }));
    expect(await readBlocks(OWNER, copy.SnapshotId ?? "")).to.deep.equal(blocks);
    const elsewhere = await ec2(OWNER, "us-east-1").send(
      new CopySnapshotCommand({ SourceSnapshotId: snap, SourceRegion: region }),
    );
    expect(await readBlocks(OWNER, elsewhere.SnapshotId ?? "", "us-east-1")).to.deep.equal(blocks);

    await ec2(OWNER).send(
      new ModifySnapshotAttributeCommand({
        SnapshotId: copy.SnapshotId,
        Attribute: "createVolumePermission",
        OperationType: "add",
        UserIds: [RECIPIENT],
      }),
    );
    const theirs = await ec2(RECIPIENT).send(
      new CopySnapshotCommand({
        SourceSnapshotId: copy.SnapshotId,
        SourceRegion: region,
        KmsKeyId: `arn:aws:kms:${region}:${RECIPIENT}:key/00000000-0000-0000-0000-000000000001`,
        Encrypted: true,
      }),
    );
    expect(await readBlocks(RECIPIENT, theirs.SnapshotId ?? "")).to.deep.equal(blocks);
  });

  it("keeps an image's block-device mappings and builds its instances' volumes from their snapshots", async () => {
    const root = layout("root");
    const data = layout("data");
    const [rootSnap, dataSnap] = [await startSnapshot(OWNER, root), await startSnapshot(OWNER, data)];
    const image = await ec2(OWNER).send(
      new RegisterImageCommand({
        Name: "compromised-web",
        RootDeviceName: "/dev/xvda",
        BlockDeviceMappings: [
          { DeviceName: "/dev/xvda", Ebs: { SnapshotId: rootSnap, DeleteOnTermination: true } },
          { DeviceName: "/dev/sdb", Ebs: { SnapshotId: dataSnap, VolumeSize: 2, DeleteOnTermination: false } },
        ],
      }),
    );
    const described = await ec2(OWNER).send(new DescribeImagesCommand({ ImageIds: [image.ImageId ?? ""] }));
    expect(described.Images?.[0]?.RootDeviceName).to.equal("/dev/xvda");
    expect(
      described.Images?.[0]?.BlockDeviceMappings?.map((m) => [m.DeviceName, m.Ebs?.SnapshotId, m.Ebs?.VolumeSize]),
    ).to.deep.equal([
      ["/dev/xvda", rootSnap, 1],
      ["/dev/sdb", dataSnap, 2],
    ]);

    const run = await ec2(OWNER).send(
      new RunInstancesCommand({
        ImageId: image.ImageId,
        MinCount: 1,
        MaxCount: 1,
        Placement: { AvailabilityZone: `${region}a` },
      }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId ?? "";
    const instance = (await ec2(OWNER).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })))
      .Reservations?.[0]?.Instances?.[0];
    const byDevice = new Map((instance?.BlockDeviceMappings ?? []).map((m) => [m.DeviceName, m.Ebs?.VolumeId]));
    expect([...byDevice.keys()].sort()).to.deep.equal(["/dev/sdb", "/dev/xvda"]);
    const volumes = await ec2(OWNER).send(
      new DescribeVolumesCommand({ VolumeIds: [...byDevice.values()] as string[] }),
    );
    const fromSnapshot = new Map(volumes.Volumes?.map((v) => [v.VolumeId, [v.SnapshotId, v.Size]]));
    expect(fromSnapshot.get(byDevice.get("/dev/xvda"))).to.deep.equal([rootSnap, 1]);
    expect(fromSnapshot.get(byDevice.get("/dev/sdb"))).to.deep.equal([dataSnap, 2]);
    expect(await readBlocks(OWNER, await snapshotOf(OWNER, byDevice.get("/dev/xvda")))).to.deep.equal(root);
    expect(await readBlocks(OWNER, await snapshotOf(OWNER, byDevice.get("/dev/sdb")))).to.deep.equal(data);
  });

  it("refuses an image whose mapping names a snapshot the account does not have", async () => {
    const err = await ec2(OWNER)
      .send(
        new RegisterImageCommand({
          Name: "x",
          BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: "snap-0123456789abcdef0" } }],
        }),
      )
      .then(
        () => undefined,
        (e: { name?: string }) => e,
      );
    expect(err?.name).to.equal("InvalidSnapshot.NotFound");
  });

  it("leaves plain moto alone: seeded images still get a blank root volume, blank volumes' snapshots have no block data", async () => {
    const run = await ec2(OWNER).send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: 1,
        MaxCount: 1,
        Placement: { AvailabilityZone: `${region}a` },
      }),
    );
    const mappings = run.Instances?.[0]?.BlockDeviceMappings ?? [];
    expect(mappings.map((m) => m.DeviceName)).to.deep.equal(["/dev/sda1"]);
    const [volume] =
      (await ec2(OWNER).send(new DescribeVolumesCommand({ VolumeIds: [mappings[0].Ebs?.VolumeId ?? ""] }))).Volumes ??
      [];
    expect([volume?.Size, volume?.SnapshotId ?? ""]).to.deep.equal([8, ""]);
    const blank = await ec2(OWNER).send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 1 }));
    const snap = await snapshotOf(OWNER, blank.VolumeId);
    // One attempt: plain moto answers this with a server error, which the SDK would otherwise retry for seconds.
    const once = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole", maxAttempts: 1 });
    const listed = await once
      .client(EBSClient, { account: OWNER, region })
      .send(new ListSnapshotBlocksCommand({ SnapshotId: snap }))
      .then(
        () => "listed",
        () => "not served",
      );
    once.destroy();
    expect(listed).to.equal("not served");
    const image = await ec2(OWNER).send(new RegisterImageCommand({ Name: "no-mappings" }));
    const described = await ec2(OWNER).send(new DescribeImagesCommand({ ImageIds: [image.ImageId ?? ""] }));
    expect(described.Images?.[0]?.BlockDeviceMappings?.[0]?.Ebs?.VolumeSize).to.equal(15);
  });
});
