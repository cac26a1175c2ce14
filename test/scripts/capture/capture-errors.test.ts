import { expect } from "chai";
// Role assumption goes through the SDK credential provider's own STS client (nested-clients), not client-sts.
import { AssumeRoleCommand, STSClient as CredentialProviderSts } from "@aws-sdk/nested-clients/sts";
import {
  CopySnapshotCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  type DescribeSnapshotsCommandInput,
  type DescribeSnapshotsCommandOutput,
} from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { main } from "../../../scripts/cli";
import type { LandingZone } from "../../../scripts/contract";
import { openLedger } from "../../../scripts/custody/ledger";
import type { CustodyRecord } from "../../../scripts/custody/types";
import { seedLandingZone, SEED_ACCOUNTS } from "../../../scripts/emulator/seed";
import { useEmulator } from "../../support/emulator";
import {
  captureFactory,
  launchInstance,
  withCapturedProcessOutput,
  writeContract,
  type TestInstance,
} from "./fixtures";

const MEMBER = SEED_ACCOUNTS.members[0];
const REGION = "eu-west-1";

async function flz(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = await withCapturedProcessOutput(() => main(["node", "flz", ...args]));
  process.exitCode = 0;
  return { code: run.value, stdout: run.stdout, stderr: run.stderr };
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

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: "client", $metadata: { httpStatusCode: 403 } });
}

// moto enforces neither IAM nor KMS policies and completes every snapshot at once: these refusals and failures are
// injected with aws-sdk-client-mock on top of the emulator (every other call still goes to moto), and the command
// runs end to end through main().
describe("flz capture failures (aws-sdk-client-mock over the emulator)", function () {
  this.timeout(60000);
  useEmulator();
  let lz: LandingZone;
  let contract: string;
  let instance: TestInstance;
  let restore: (() => void)[] = [];

  beforeEach(async () => {
    lz = await seedLandingZone();
    contract = writeContract(lz);
    instance = await launchInstance(MEMBER, REGION, 1);
  });
  afterEach(() => {
    for (const r of restore) r();
    restore = [];
  });

  /** Opens a case as an operator does, with flz case open (before any fault is injected). */
  const openCase = async (caseId: string): Promise<void> => {
    const run = await flz([
      "case",
      "open",
      caseId,
      "--title",
      "capture failure",
      "--aware-at",
      "now",
      "--landing-zone",
      contract,
    ]);
    expect(run.code, run.stderr).to.equal(0);
  };

  const args = (caseId: string) => [
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

  it("stops with one line naming the member role when its assumption is denied, and records the failure", async () => {
    await openCase("IR-200");
    const memberRole = `arn:aws:iam::${MEMBER}:role/${lz.memberResponderRoleName}`;
    const sts = mockClient(CredentialProviderSts);
    restore.push(() => sts.restore());
    sts.send.callThrough();
    sts
      .on(AssumeRoleCommand, { RoleArn: memberRole })
      .rejects(
        awsError(
          "AccessDenied",
          `User: arn:aws:sts::222222222222:assumed-role/FlzForensicResponder/flz-IR-200 is not authorized to perform: sts:AssumeRole on resource: ${memberRole}`,
        ),
      );
    const run = await flz(args("IR-200"));
    expect(run.code).to.equal(1);
    expect(run.stderr.trim().split("\n")).to.have.length(1);
    expect(run.stderr).to.match(
      new RegExp(`^flz: cannot assume the member responder role ${memberRole}: AccessDenied: .*sts:AssumeRole`),
    );
    const records = await ledgerRecords(lz, "IR-200");
    expect(records.map((r) => [r.action, r.outcome])).to.deep.equal([["capture.failed", "failed"]]);
    expect(records[0].error).to.contain("AccessDenied");
  });

  it("fails a volume whose evidence copy is refused the key (AccessDenied), exits 1, and records it", async () => {
    await openCase("IR-201");
    const ec2 = mockClient(EC2Client);
    restore.push(() => ec2.restore());
    ec2.send.callThrough();
    ec2
      .on(CopySnapshotCommand)
      .rejects(
        awsError(
          "AccessDenied",
          "The key arn:aws:kms:eu-west-1:222222222222:key/x is not usable: kms:ReEncryptFrom denied",
        ),
      );
    const run = await flz([...args("IR-201"), "--json"]);
    expect(run.code).to.equal(1);
    const result = JSON.parse(run.stdout) as { snapshots: { state: string; error: string; locked: boolean }[] };
    expect(result.snapshots.every((s) => s.state === "error" && !s.locked)).to.equal(true);
    expect(run.stderr.trim().split("\n").at(-1)).to.match(
      /^flz: capture of i-\w+ is incomplete \(rerun the same command to resume\): vol-\w+: AccessDenied: .*kms:ReEncryptFrom denied/,
    );
    const failed = (await ledgerRecords(lz, "IR-201")).filter((r) => r.outcome === "failed");
    expect(failed.map((r) => r.action)).to.include.members([
      "capture.snapshot.failed",
      "capture.finished-with-failures",
    ]);
  });

  it("reports a snapshot copy that ends in error with its StateMessage, exits 1, and records it", async () => {
    await openCase("IR-202");
    const original = EC2Client.prototype.send as (
      this: EC2Client,
      command: DescribeSnapshotsCommand,
    ) => Promise<DescribeSnapshotsCommandOutput>;
    const ec2 = mockClient(EC2Client);
    restore.push(() => ec2.restore());
    ec2.send.callThrough();
    // The waiter's poll (by snapshot ID) sees the copy under the evidence key fail, which is how AWS reports a key
    // problem: later, as State error with a StateMessage, not as an error of CopySnapshot. (moto's source snapshot is
    // completed on creation, so the copy is the first snapshot waited for.)
    ec2
      .on(DescribeSnapshotsCommand)
      .callsFake(async (input: DescribeSnapshotsCommandInput, getClient: () => EC2Client) => {
        const real = await original.call(getClient(), new DescribeSnapshotsCommand(input));
        if (!input.SnapshotIds) return real;
        return {
          ...real,
          Snapshots: (real.Snapshots ?? []).map((s) => ({
            ...s,
            State: "error",
            Progress: "37%",
            StateMessage: "Snapshot creation failed: the volume's KMS key is disabled",
          })),
        };
      });
    const run = await flz([...args("IR-202"), "--volume", instance.volumeIds[1]]);
    expect(run.code).to.equal(1);
    expect(run.stderr.trim().split("\n").at(-1), run.stderr).to.match(
      /^flz: capture of i-\w+ is incomplete \(rerun the same command to resume\): vol-\w+: evidence copy snap-\w+ ended in state error: Snapshot creation failed: the volume's KMS key is disabled$/,
    );
    const failure = (await ledgerRecords(lz, "IR-202")).find((r) => r.action === "capture.snapshot.failed");
    expect(failure?.error).to.contain("the volume's KMS key is disabled");
    expect(failure?.subjects).to.include(instance.volumeIds[1]);
  });
});
