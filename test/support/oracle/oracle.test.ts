/**
 * The authorization oracle can fail: calls the stack's documents do not grant are reported, with the call, the
 * principal and the deciding statement, both for synthetic calls and for a real call through the client factory.
 */
import { expect } from "chai";
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  EC2Client,
  ModifySnapshotAttributeCommand,
} from "@aws-sdk/client-ec2";
import type { CallIdentity, ObservedCall } from "../../../scripts/aws/observer";
import { ClientFactory } from "../../../scripts/aws/clients";
import { SEED_ACCOUNTS, seedLandingZone } from "../../../scripts/emulator/seed";
import { emulatorWorld, loadOracle, problemsOf, type AuthorizationOracle } from "../../../scripts/oracle";
import { EMULATOR_OPERATOR_ARN } from "../../../scripts/oracle/emulator-world";
import { useEmulator } from "../emulator";
import { takeRecords } from "./hooks";

const FORENSIC = SEED_ACCOUNTS.forensic;
const MEMBER = SEED_ACCOUNTS.members[0];
const base: CallIdentity = { kind: "base" };
const forensicResponder: CallIdentity = {
  kind: "role",
  roleArn: `arn:aws:iam::${FORENSIC}:role/FlzForensicResponder`,
  sessionName: "flz-IR-1",
  sessionTags: {},
  assumedBy: base,
};
const memberResponder: CallIdentity = {
  kind: "role",
  roleArn: `arn:aws:iam::${MEMBER}:role/FlzMemberResponder`,
  sessionName: "flz-IR-1",
  sessionTags: { "flz-case": "IR-1" },
  assumedBy: forensicResponder,
};

function call(
  signingName: string,
  operation: string,
  input: Record<string, unknown>,
  identity: CallIdentity,
  extra: Partial<ObservedCall> = {},
): ObservedCall {
  return {
    signingName,
    serviceId: signingName.toUpperCase(),
    operation,
    input,
    identity,
    region: "us-east-1",
    startedAt: new Date(),
    output: {},
    ...extra,
  };
}

function fresh(): AuthorizationOracle {
  const loaded = loadOracle(emulatorWorld());
  if ("unavailable" in loaded) throw new Error(loaded.unavailable);
  return loaded.oracle;
}

async function evaluate(...calls: ObservedCall[]) {
  const oracle = fresh();
  for (const c of calls) oracle.observer(c);
  return oracle.evaluatePending();
}

describe("authorization oracle: what AWS would refuse", () => {
  it("allows what the documents grant: the forensic responder writes a custody record into the evidence bucket", async () => {
    const records = await evaluate(
      call(
        "s3",
        "PutObject",
        { Bucket: "flz-evidence-222222222222-us-east-1", Key: "cases/IR-1/0.json", IfNoneMatch: "*" },
        forensicResponder,
      ),
    );
    expect(problemsOf(records)).to.deep.equal([]);
    expect(records[0].decisions.map((d) => d.request.action)).to.include("s3:PutObject");
    expect(records[0].decisions[0].deciding.join(" ")).to.match(/WriteAndReadEvidence.*forensicResponderPermissions/);
  });

  it("refuses a delete of evidence, naming the explicit deny that decides it", async () => {
    const records = await evaluate(
      call(
        "s3",
        "DeleteObject",
        { Bucket: "flz-evidence-222222222222-us-east-1", Key: "cases/IR-1/0.json" },
        forensicResponder,
      ),
    );
    const [problem] = problemsOf(records);
    expect(problem).to.match(
      /^s3:DeleteObject on arn:aws:s3:::flz-evidence-222222222222-us-east-1\/cases\/IR-1\/0\.json/,
    );
    expect(problem).to.match(
      /explicitly denied by statement DenyEvidenceTampering of identity policy flz-forensic-responder \(forensicResponderPermissions\)/,
    );
  });

  it("refuses a member responder session that smuggles in a tag key the member trust policy does not allow", async () => {
    const records = await evaluate(
      call(
        "sts",
        "AssumeRole",
        {
          RoleArn: `arn:aws:iam::${MEMBER}:role/FlzMemberResponder`,
          RoleSessionName: "x",
          Tags: [{ Key: "team", Value: "admins" }],
        },
        forensicResponder,
      ),
    );
    const problems = problemsOf(records);
    expect(
      problems.some(
        (p) =>
          /^sts:AssumeRole on arn:aws:iam::333333333333:role\/FlzMemberResponder/.test(p) &&
          /trust policy \(memberRoleTrust\)/.test(p),
      ),
    ).to.equal(true, problems.join("\n"));
    expect(problems.some((p) => p.startsWith("sts:TagSession"))).to.equal(true, problems.join("\n"));
  });

  it("lets the operator assume the forensic responder role, and no one else", async () => {
    const assume = call(
      "sts",
      "AssumeRole",
      { RoleArn: `arn:aws:iam::${FORENSIC}:role/FlzForensicResponder`, RoleSessionName: "flz-IR-1" },
      base,
    );
    expect(problemsOf(await evaluate(assume))).to.deep.equal([]);
    const oracle = fresh();
    const stranger = {
      ...oracle.world,
      operator: { ...oracle.world.operator, arn: `arn:aws:iam::${SEED_ACCOUNTS.management}:role/Someone` },
    };
    expect(EMULATOR_OPERATOR_ARN).to.not.equal(stranger.operator.arn);
    const loaded = loadOracle(stranger);
    if ("unavailable" in loaded) throw new Error(loaded.unavailable);
    loaded.oracle.observer(assume);
    expect(problemsOf(await loaded.oracle.evaluatePending()).join("\n")).to.match(/forensicRoleTrust/);
  });

  it("cannot be fooled by an operation it cannot map: it fails, saying where the mapping goes", async () => {
    const [problem] = problemsOf(await evaluate(call("ec2", "FrobnicateInstance", {}, memberResponder)));
    expect(problem).to.match(/no IAM action for EC2 FrobnicateInstance.*ACTION_GAPS in scripts\/oracle\/requests\.ts/);
  });
});

describe("authorization oracle over the emulator: a real call through the client factory", () => {
  useEmulator();

  it("records a call the member responder is not granted and names the call, the principal and the documents", async () => {
    const lz = await seedLandingZone();
    const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
    const responder = new ClientFactory({
      caseId: "IR-1",
      forensicRoleArn: lz.forensicResponderRoleArn,
      memberRoleName: lz.memberResponderRoleName,
    });
    try {
      const owner = admin.client(EC2Client, { account: MEMBER, region: "us-east-1" });
      const volume = await owner.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 1 }));
      const snapshot = await owner.send(new CreateSnapshotCommand({ VolumeId: volume.VolumeId }));
      const ec2 = responder.client(EC2Client, { account: MEMBER, region: "us-east-1" });
      // Making evidence public: the emulator does it; AWS would not let the member responder.
      await ec2.send(
        new ModifySnapshotAttributeCommand({
          SnapshotId: snapshot.SnapshotId,
          Attribute: "createVolumePermission",
          OperationType: "add",
          GroupNames: ["all"],
        }),
      );
      const records = await takeRecords();
      const problems = problemsOf(records);
      expect(problems, problems.join("\n")).to.have.length(1);
      expect(problems[0]).to.include(
        `ec2:ModifySnapshotAttribute on arn:aws:ec2:us-east-1::snapshot/${snapshot.SnapshotId} (EC2 ModifySnapshotAttribute)`,
      );
      expect(problems[0]).to.include(
        "as FlzMemberResponder (arn:aws:iam::333333333333:role/FlzMemberResponder, session flz-IR-1, tags flz-case=IR-1)",
      );
      expect(problems[0]).to.include(
        "explicitly denied by statement DenyPublicSnapshots of identity policy FlzMemberResponder (memberResponderPermissions)",
      );
      expect(problems[0]).to.include("ec2:Add/group=[all]");
      // The set-up calls of the account's administrator are recorded, not evaluated; the responder's are.
      expect(records.some((r) => r.outside !== undefined)).to.equal(true);
      expect(records.filter((r) => r.principal?.name === "FlzMemberResponder").map((r) => r.call.operation)).to.include(
        "ModifySnapshotAttribute",
      );
    } finally {
      admin.destroy();
      responder.destroy();
    }
  });
});
