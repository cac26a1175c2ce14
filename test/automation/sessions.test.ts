/**
 * Least privilege per function (issue 15, item 1): each acting function opens the forensic responder's session and
 * its member sessions with its own session policy (components/documents/automation-sessions.ts), and AWS grants the
 * intersection of the role's policies and the session policy. Evaluated by the authorization oracle over the
 * documents the stack deploys, with the sessions built by the same code the functions run (ContainerState), acting as
 * an attacker who holds one function's session and tries another function's step.
 */
import { expect } from "chai";
import {
  automationSessionPolicies,
  SESSION_POLICY_MAX_CHARS,
  type ActingFunction,
} from "../../components/documents/automation-sessions";
import type { CallIdentity, ObservedCall } from "../../scripts/aws/observer";
import { ContainerState } from "../../scripts/automation/container";
import type { LandingZone } from "../../scripts/contract";
import { SEED_ACCOUNTS } from "../../scripts/emulator/seed";
import { emulatorWorld, loadOracle, problemsOf } from "../../scripts/oracle";
import { emulatorWorldArgs } from "../../scripts/oracle/emulator-world";

const FORENSIC = SEED_ACCOUNTS.forensic;
const MEMBER = SEED_ACCOUNTS.members[0];
const REGION = "us-east-1";
const CASE = "IR-1";
const WORLD = emulatorWorldArgs();
const BUCKET = WORLD.evidenceBucket;
const LZ = {
  forensicAccountId: FORENSIC,
  homeRegion: REGION,
  evidenceBucket: BUCKET,
  forensicResponderRoleArn: `arn:aws:iam::${FORENSIC}:role/${WORLD.roleNames.forensicResponder}`,
  memberResponderRoleName: WORLD.roleNames.memberResponder,
} as unknown as LandingZone;

/** The sessions one function's container opens: where its forensic and member calls come from. */
function sessionsOf(fn: ActingFunction): { forensic: CallIdentity; member: CallIdentity | undefined } {
  const container = new ContainerState({
    landingZone: LZ,
    sessions: automationSessionPolicies(fn, {
      evidenceBucket: BUCKET,
      memberResponderRoleName: LZ.memberResponderRoleName,
    }),
    functionRoleArn: `arn:aws:iam::${FORENSIC}:role/flz-automation-${fn}`,
  });
  const factory = container.factory(CASE);
  let member: CallIdentity | undefined;
  try {
    member = factory.identityFor(MEMBER);
  } catch {
    member = undefined; // no member role name: the function never enters a member account
  }
  const forensic = factory.identityFor(undefined);
  container.destroy();
  return { forensic, member };
}

function call(
  signingName: string,
  operation: string,
  input: Record<string, unknown>,
  identity: CallIdentity,
  account?: string,
): ObservedCall {
  return {
    signingName,
    serviceId: signingName.toUpperCase(),
    operation,
    input,
    identity,
    region: REGION,
    ...(account ? { account } : {}),
    startedAt: new Date(),
    output: {},
  };
}

/** Problems of each call, evaluated alone on a fresh oracle (so one call's facts do not leak into another's). */
async function verdicts(...calls: ObservedCall[]): Promise<string[][]> {
  const out: string[][] = [];
  for (const c of calls) {
    const loaded = loadOracle(emulatorWorld());
    if ("unavailable" in loaded) throw new Error(loaded.unavailable);
    loaded.oracle.observer(c);
    const records = await loaded.oracle.evaluatePending();
    expect(records[0].outside, `${c.operation} was not evaluated: ${records[0].outside}`).to.equal(undefined);
    out.push(problemsOf(records));
  }
  return out;
}

async function allowed(...calls: ObservedCall[]): Promise<void> {
  for (const [i, problems] of (await verdicts(...calls)).entries())
    expect(problems, `${calls[i].operation} should be allowed`).to.deep.equal([]);
}

/** The same identity chain with every session policy removed: the unrestricted responder, as `flz` has it. */
function unrestricted(identity: CallIdentity): CallIdentity {
  if (identity.kind === "base") return identity;
  const { sessionPolicy: _dropped, ...rest } = identity;
  void _dropped;
  return { ...rest, assumedBy: unrestricted(identity.assumedBy) };
}

/**
 * Denied to the function's session, and denied because of its session policy: the same call made by the same roles
 * without session policies is allowed (so the test cannot pass on a call the roles refuse anyway).
 */
async function denied(...calls: ObservedCall[]): Promise<void> {
  for (const [i, problems] of (await verdicts(...calls)).entries())
    expect(
      problems.some((p) => p.includes(`:${calls[i].operation}`)),
      `${calls[i].operation} should be denied: ${problems.join("; ")}`,
    ).to.equal(true);
  for (const [i, problems] of (
    await verdicts(...calls.map((c) => ({ ...c, identity: unrestricted(c.identity) })))
  ).entries())
    expect(problems, `${calls[i].operation} without the session policy`).to.deep.equal([]);
}

const record = (key: string) => ({ Bucket: BUCKET, Key: `cases/${CASE}/${key}`, IfNoneMatch: "*" });
const ec2 = (operation: string, input: Record<string, unknown>, identity: CallIdentity, account?: string) =>
  call("ec2", operation, input, identity, account);

describe("automation: session policies (least privilege per function)", () => {
  it("the oracle intersects a session policy with the role: it denies what the role allows but the session policy does not", async () => {
    const responder: CallIdentity = {
      kind: "role",
      roleArn: LZ.forensicResponderRoleArn,
      sessionName: "flz-IR-1",
      sessionTags: {},
      assumedBy: { kind: "base" },
    };
    const put = (identity: CallIdentity) => call("s3", "PutObject", record("custody/00000001.json"), identity);
    await allowed(put(responder));
    const readOnly = {
      ...responder,
      sessionPolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
      }),
    };
    await denied(put(readOnly));
    await allowed(call("s3", "GetObject", { Bucket: BUCKET, Key: `cases/${CASE}/custody/00000001.json` }, readOnly));
  });

  it("every session policy fits STS's 2,048 characters and names its own function's step only", () => {
    for (const fn of ["intake", "record", "contain", "capture", "hash", "verify"] as const) {
      const p = automationSessionPolicies(fn, {
        evidenceBucket: BUCKET,
        memberResponderRoleName: "FlzMemberResponder",
      });
      for (const d of [p.forensic, p.member])
        if (d) expect(JSON.stringify(d).length).to.be.at.most(SESSION_POLICY_MAX_CHARS);
    }
    expect(() =>
      automationSessionPolicies("hash", {
        evidenceBucket: "Not A Bucket",
        memberResponderRoleName: "FlzMemberResponder",
      }),
    ).to.throw(/evidenceBucket: "Not A Bucket" is not an S3 bucket name/);
  });

  it("each function's role may assume the forensic responder (the function's own role, evaluated)", async () => {
    for (const fn of ["intake", "contain", "capture", "hash", "verify", "record"] as const) {
      const { forensic } = sessionsOf(fn);
      if (forensic.kind !== "role") throw new Error("no forensic session");
      await allowed(
        call(
          "sts",
          "AssumeRole",
          { RoleArn: forensic.roleArn, RoleSessionName: forensic.sessionName },
          forensic.assumedBy,
        ),
      );
    }
  });

  it("the capture function's member session cannot contain: no instance or network interface change, no security group", async () => {
    const { member } = sessionsOf("capture");
    if (!member) throw new Error("capture has no member session");
    await denied(
      ec2("ModifyInstanceAttribute", { InstanceId: "i-0123456789abcdef0", Groups: ["sg-1"] }, member, MEMBER),
      ec2(
        "ModifyNetworkInterfaceAttribute",
        { NetworkInterfaceId: "eni-0123456789abcdef0", Groups: ["sg-1"] },
        member,
        MEMBER,
      ),
      ec2("CreateSecurityGroup", { GroupName: "x", Description: "x", VpcId: "vpc-1" }, member, MEMBER),
    );
    await allowed(ec2("CreateSnapshot", { VolumeId: "vol-0123456789abcdef0" }, member, MEMBER));
  });

  it("the contain function cannot copy snapshots or write evidence, only custody records", async () => {
    const { forensic, member } = sessionsOf("contain");
    if (!member) throw new Error("contain has no member session");
    await denied(
      ec2("CopySnapshot", { SourceSnapshotId: "snap-0123456789abcdef0", SourceRegion: REGION }, forensic),
      ec2("LockSnapshot", { SnapshotId: "snap-0123456789abcdef0", LockMode: "compliance", LockDuration: 1 }, forensic),
      call("s3", "PutObject", record("evidence/memory/x.lime"), forensic),
      ec2("CreateSnapshot", { VolumeId: "vol-0123456789abcdef0" }, member, MEMBER),
      ec2("CopySnapshot", { SourceSnapshotId: "snap-0123456789abcdef0", SourceRegion: REGION }, member, MEMBER),
    );
    await allowed(
      call("s3", "PutObject", record("custody/00000003.json"), forensic),
      ec2("ModifyInstanceAttribute", { InstanceId: "i-0123456789abcdef0", Groups: ["sg-1"] }, member, MEMBER),
    );
  });

  it("the intake changes nothing in member accounts: it only reads the opt-out tags", async () => {
    const { forensic, member } = sessionsOf("intake");
    if (!member) throw new Error("intake has no member session");
    await denied(
      ec2("ModifyInstanceAttribute", { InstanceId: "i-0123456789abcdef0", Groups: ["sg-1"] }, member, MEMBER),
      ec2("CreateSnapshot", { VolumeId: "vol-0123456789abcdef0" }, member, MEMBER),
      ec2("CreateSecurityGroup", { GroupName: "x", Description: "x", VpcId: "vpc-1" }, member, MEMBER),
      call("iam", "UpdateAccessKey", { UserName: "u", AccessKeyId: "AKIAEXAMPLE", Status: "Inactive" }, member, MEMBER),
      ec2("CopySnapshot", { SourceSnapshotId: "snap-0123456789abcdef0", SourceRegion: REGION }, forensic),
    );
    await allowed(
      ec2("DescribeInstances", { InstanceIds: ["i-0123456789abcdef0"] }, member, MEMBER),
      call("s3", "PutObject", record("automation/contain-items.json"), forensic),
    );
  });

  it("the hash function writes nothing but its ledger records and never enters a member account", async () => {
    const { forensic, member } = sessionsOf("hash");
    expect(member).to.equal(undefined);
    await denied(
      call("s3", "PutObject", record("evidence/memory/x.lime"), forensic),
      call("s3", "PutObject", record("automation/contain-items.json"), forensic),
      call("s3", "PutObject", record("artefacts/x.json"), forensic),
      ec2("CopySnapshot", { SourceSnapshotId: "snap-0123456789abcdef0", SourceRegion: REGION }, forensic),
      ec2("CreateTags", { Resources: ["snap-0123456789abcdef0"], Tags: [{ Key: "a", Value: "b" }] }, forensic),
      call(
        "sts",
        "AssumeRole",
        { RoleArn: `arn:aws:iam::${MEMBER}:role/${LZ.memberResponderRoleName}`, RoleSessionName: "flz-IR-1" },
        forensic,
      ),
    );
    await allowed(
      call("s3", "PutObject", record("custody/00000004.json"), forensic),
      call(
        "ebs",
        "GetSnapshotBlock",
        { SnapshotId: "snap-0123456789abcdef0", BlockIndex: 0, BlockToken: "t" },
        forensic,
      ),
    );
  });

  it("the record and verify functions never enter a member account; verify writes nothing", async () => {
    expect(sessionsOf("record").member).to.equal(undefined);
    const { forensic, member } = sessionsOf("verify");
    expect(member).to.equal(undefined);
    await denied(call("s3", "PutObject", record("custody/00000005.json"), forensic));
    await allowed(call("s3", "GetObject", { Bucket: BUCKET, Key: `cases/${CASE}/custody/00000000.json` }, forensic));
  });
});
