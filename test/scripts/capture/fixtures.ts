/**
 * Fixtures of the capture tests: an instance with volumes in a member account of the emulator, a contract file, an
 * in-memory custody ledger (our own interface, for tests that mock AWS and so cannot reach the S3 ledger), and
 * capturable output streams.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { AttachVolumeCommand, CreateVolumeCommand, EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { ClientFactory } from "../../../scripts/aws/clients";
import type { LandingZone } from "../../../scripts/contract";
import type { CustodyEvent, CustodyLedger, CustodyRecord } from "../../../scripts/custody/types";
import type { Io } from "../../../scripts/output";

/** An instance launched for a test. */
export interface TestInstance {
  readonly instanceId: string;
  readonly volumeIds: string[];
}

/** Launches an instance in a member account of the emulator with `extraVolumes` more volumes attached. */
export async function launchInstance(account: string, region: string, extraVolumes = 1): Promise<TestInstance> {
  const factory = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  try {
    const ec2 = factory.client(EC2Client, { account, region });
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: 1,
        MaxCount: 1,
        InstanceType: "t3.micro",
        Placement: { AvailabilityZone: `${region}a` },
      }),
    );
    const instance = run.Instances?.[0];
    const instanceId = instance?.InstanceId ?? "";
    const volumeIds = (instance?.BlockDeviceMappings ?? []).map((m) => m.Ebs?.VolumeId ?? "");
    const devices = ["/dev/sdf", "/dev/sdg", "/dev/sdh", "/dev/sdi", "/dev/sdj", "/dev/sdk", "/dev/sdl", "/dev/sdm"];
    for (let i = 0; i < extraVolumes; i++) {
      const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 8 }));
      await ec2.send(new AttachVolumeCommand({ InstanceId: instanceId, VolumeId: vol.VolumeId, Device: devices[i] }));
      volumeIds.push(vol.VolumeId ?? "");
    }
    return { instanceId, volumeIds };
  } finally {
    factory.destroy();
  }
}

/** Writes the contract as `pulumi stack output --json` would, and returns the file's path. */
export function writeContract(lz: LandingZone): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "flz-capture-")), "landing-zone.json");
  writeFileSync(file, JSON.stringify(lz, null, 2));
  return file;
}

/** A client factory as `flz capture` builds it. */
export function captureFactory(lz: LandingZone, caseId: string): ClientFactory {
  return new ClientFactory({
    caseId,
    memberRoleName: lz.memberResponderRoleName,
    forensicRoleArn: lz.forensicResponderRoleArn,
    maxAttempts: 2,
  });
}

/**
 * An in-memory ledger with the interface's behaviour (sequence, hash chain); unsigned. For tests where AWS is
 * mocked and the S3 ledger cannot run.
 */
export class MemoryLedger implements CustodyLedger {
  readonly stored: CustodyRecord[] = [];
  constructor(readonly caseId: string) {}
  async append(event: CustodyEvent): Promise<CustodyRecord> {
    const previousHash = this.stored.at(-1)?.hash ?? "0".repeat(64);
    const body = {
      ...event,
      version: 1 as const,
      sequence: this.stored.length,
      case: this.caseId,
      time: new Date().toISOString(),
      actor: "test",
      previousHash,
    };
    const hash = createHash("sha256").update(JSON.stringify(body)).digest("hex");
    const record: CustodyRecord = {
      ...body,
      hash,
      signature: { keyArn: "none", algorithm: "ECDSA_SHA_256", value: "" },
    };
    this.stored.push(record);
    return record;
  }
  async records(): Promise<CustodyRecord[]> {
    return [...this.stored];
  }
}

/** Streams a test can read back. */
export interface CapturedIo extends Io {
  stdout(): string;
  stderr(): string;
}

/** An {@link Io} over in-memory streams. */
export function memoryIo(): CapturedIo {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = "";
  let e = "";
  out.on("data", (c: Buffer) => (o += c.toString()));
  err.on("data", (c: Buffer) => (e += c.toString()));
  return { out, err, isTty: false, stdout: () => o, stderr: () => e };
}

export { withCapturedProcessOutput } from "../../support/cli";
