import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  CreateDocumentCommand,
  DescribeInstanceInformationCommand,
  GetDocumentCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import {
  MEMORY_CAPTURE_DOCUMENT_NAME,
  MEMORY_MAX_PARTS,
  MEMORY_TOOL_KEY,
  memoryCaptureDocument,
} from "../../../components/documents";
import { ClientFactory } from "../../../scripts/aws/clients";
import {
  abortMemoryCapture,
  captureMemory,
  MEMORY_ABORTED_ACTION,
  MEMORY_ACTION,
  MEMORY_INTENT_ACTION,
  MEMORY_SENT_ACTION,
} from "../../../scripts/capture/memory";
import { checkMemoryCapture } from "../../../scripts/capture/memory-checks";
import { parseMemoryRequest } from "../../../scripts/capture/memory-plan";
import { runCaptureMemory } from "../../../scripts/commands/capture-memory";
import type { LandingZone } from "../../../scripts/contract";
import { openLedger } from "../../../scripts/custody/ledger";
import { SEED_ACCOUNTS, seedLandingZone } from "../../../scripts/emulator/seed";
import { UsageError } from "../../../scripts/errors";
import { openTestCase } from "../../support/cases";
import { useEmulator } from "../../support/emulator";
import { blockBytes } from "../hash/ebs-fixtures";
import { captureIo } from "../hash/io";
import { launchInstance, writeContract } from "./fixtures";
import {
  attachStandInAgent,
  newStandInAgent,
  standInAcquisitionToolWritingKnownBytes,
  type AgentBehaviour,
  type StandInAgent,
} from "../../../scripts/drill/memory-agent";

const MEMBER = SEED_ACCOUNTS.members[0];
const MIB = 2 ** 20;

describe("flz capture memory (emulator; the SSM agent is a stand-in that runs the document's script here)", function () {
  this.timeout(120_000);
  useEmulator();
  let lz: LandingZone;
  let dir: string;
  let image: Buffer;
  let tool: Buffer;
  let toolSha256: string;
  let instanceId: string;
  const factories: ClientFactory[] = [];
  const newFactory = (options: ConstructorParameters<typeof ClientFactory>[0]) => {
    const f = new ClientFactory(options);
    factories.push(f);
    return f;
  };
  const responder = (caseId: string) =>
    newFactory({ caseId, forensicRoleArn: lz.forensicResponderRoleArn, memberRoleName: lz.memberResponderRoleName });
  const memberAdmin = () =>
    newFactory({ memberRoleName: "OrganizationAccountAccessRole" }).client(SSMClient, {
      account: MEMBER,
      region: lz.homeRegion,
    });

  beforeEach(async () => {
    lz = await seedLandingZone();
    dir = mkdtempSync(path.join(tmpdir(), "flz-memory-"));
    // 12 MiB and a bit: three parts of 5 MiB, the last one short.
    image = blockBytes(16, 12 * MIB + 12345);
    const known = path.join(dir, "known-image.bin");
    writeFileSync(known, image);
    tool = standInAcquisitionToolWritingKnownBytes(known);
    toolSha256 = createHash("sha256").update(tool).digest("hex");
    // The operator stages the tool (docs/memory.md), as the forensic account's administrator.
    const forensicAdmin = newFactory({
      forensicRoleArn: `arn:aws:iam::${SEED_ACCOUNTS.forensic}:role/OrganizationAccountAccessRole`,
    });
    await forensicAdmin
      .client(S3Client, { region: lz.homeRegion })
      .send(new PutObjectCommand({ Bucket: lz.evidenceBucket, Key: MEMORY_TOOL_KEY, Body: tool }));
    // The StackSet deploys the document into the member account (here: created as that account's administrator).
    await memberAdmin().send(
      new CreateDocumentCommand({
        Name: MEMORY_CAPTURE_DOCUMENT_NAME,
        DocumentType: "Command",
        DocumentFormat: "JSON",
        Content: JSON.stringify(memoryCaptureDocument({ toolSha256 })),
      }),
    );
    instanceId = (await launchInstance(MEMBER, lz.homeRegion, 0)).instanceId;
  });
  afterEach(() => {
    factories.splice(0).forEach((f) => f.destroy());
    rmSync(dir, { recursive: true, force: true });
  });

  let agent: StandInAgent;
  beforeEach(() => {
    agent = newStandInAgent();
  });

  async function setUp(caseId: string, behaviour: AgentBehaviour = {}) {
    const factory = responder(caseId);
    const ledger = await openLedger({ factory, landingZone: lz, caseId });
    attachStandInAgent(factory.client(SSMClient, { account: MEMBER, region: lz.homeRegion }), {
      admin: memberAdmin(),
      instanceId,
      toolSha256,
      agent,
      behaviour,
    });
    const io = captureIo();
    const request = parseMemoryRequest(
      { case: caseId, account: MEMBER, region: lz.homeRegion, instance: instanceId, partSizeMib: "5" },
      0.2,
    );
    return { factory, ledger, io, request, options: { factory, lz, request, ledger, io } };
  }

  const openUploads = async (factory: ClientFactory) =>
    (
      await factory
        .client(S3Client, { region: lz.homeRegion })
        .send(new ListMultipartUploadsCommand({ Bucket: lz.evidenceBucket, Prefix: "cases/" }))
    ).Uploads ?? [];

  it("streams the stand-in tool's known bytes through pre-signed part URLs, hashes them off the host, locks and records them", async () => {
    const { factory, ledger, io, options } = await setUp("IR-MEM");
    await openTestCase(ledger);
    const result = await captureMemory(options);

    const expected = createHash("sha256").update(image).digest("hex");
    expect(result.verdict).to.equal("MATCH");
    expect(result.evidence.sha256).to.equal(expected);
    expect(result.evidence.bytes).to.equal(image.length);
    expect(result.evidence.location).to.match(
      new RegExp(`^s3://${lz.evidenceBucket}/cases/IR-MEM/evidence/memory/\\d{8}T\\d{6}Z-${instanceId}\\.lime$`),
    );
    const details = result.evidence.details ?? {};
    expect(details).to.include({
      hostVerdict: "MATCH",
      sha256ReportedByHost: expected,
      hashedOffHost: true,
      toolSha256,
      toolSha256ReportedByHost: toolSha256,
      instanceId,
      account: MEMBER,
      partsReportedByHost: 3,
      bytesReportedByHost: image.length,
      retentionMode: "COMPLIANCE",
      blocks: Math.ceil(image.length / (512 * 1024)),
    });
    expect(details.ssmCommandId).to.be.a("string").and.not.equal("");
    // What reached the host: pre-signed URLs only (no credentials), with no checksum of an empty body signed in.
    const sent = agent.parameters.get(String(details.ssmCommandId)) ?? {};
    expect(Object.keys(sent).sort()).to.deep.equal([
      "ExecutionTimeout",
      "PartSignatures",
      "PartSizeMiB",
      "ToolUrl",
      "UploadUrl",
    ]);
    expect(sent.UploadUrl).not.to.match(/x-amz-checksum|x-amz-sdk-checksum|X-Amz-Signature/i);
    const intentFacts = ((await ledger.records())[1].details?.intent as { facts: { parts: number } }).facts;
    expect(sent.PartSignatures.split(" ")).to.have.length(intentFacts.parts);
    const { secretAccessKey } = await factory.client(S3Client, { region: lz.homeRegion }).config.credentials();
    expect(JSON.stringify(sent)).not.to.contain(secretAccessKey);

    // The object is what the tool wrote, locked; its manifest is beside it.
    const s3 = factory.client(S3Client, { region: lz.homeRegion });
    const key = result.evidence.location.replace(`s3://${lz.evidenceBucket}/`, "");
    const stored = await s3.send(new GetObjectCommand({ Bucket: lz.evidenceBucket, Key: key }));
    expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(image)).to.equal(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: lz.evidenceBucket, Key: key }));
    expect(head.ObjectLockMode).to.equal("COMPLIANCE");
    expect(head.ObjectLockRetainUntilDate!.getTime()).to.be.greaterThan(Date.now() + 364 * 86400_000);
    const manifest = await s3.send(new GetObjectCommand({ Bucket: lz.evidenceBucket, Key: `${key}.manifest.jsonl` }));
    const lines = (await manifest.Body!.transformToString())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[1]).to.deep.equal({
      type: "block",
      index: 0,
      sha256: createHash("sha256")
        .update(image.subarray(0, 512 * 1024))
        .digest("hex"),
    });
    expect(lines.at(-1)).to.include({ type: "summary", sha256: expected, bytes: image.length });

    // The ledger: intent, sent (command and upload IDs), the image record closing the intent; no upload left open.
    const actions = (await ledger.records()).map((r) => r.action);
    expect(actions).to.deep.equal(["case.opened", MEMORY_INTENT_ACTION, MEMORY_SENT_ACTION, MEMORY_ACTION]);
    const records = await ledger.records();
    expect(records.at(-1)?.evidence?.[0]).to.deep.equal(result.evidence);
    expect(records.at(-1)?.details?.intentId).to.equal((records[1].details?.intent as { id: string }).id);
    expect(records[2].details).to.include({ ssmCommandId: details.ssmCommandId, toolSha256 });
    expect(await openUploads(factory)).to.deep.equal([]);
    expect(io.stderr()).to.contain("memory capture sent (SSM command");
  });

  it("flags a tampered host-reported digest as BROKEN, keeping the off-host digest as the evidence hash", async () => {
    const lie = "0".repeat(64);
    const { ledger, options } = await setUp("IR-LIE", {
      tamper: (stdout) => stdout.replace(/^FLZ-HOST-SHA256 .*$/m, `FLZ-HOST-SHA256 ${lie}`),
    });
    await openTestCase(ledger);
    const result = await captureMemory(options);
    expect(result.verdict).to.equal("BROKEN");
    expect(result.evidence.sha256).to.equal(createHash("sha256").update(image).digest("hex"));
    expect(result.evidence.details).to.include({ sha256ReportedByHost: lie, hostVerdict: "BROKEN" });
    const record = (await ledger.records()).at(-1)!;
    expect(record.action).to.equal(MEMORY_ACTION);
    expect(record.details?.hostVerdict).to.equal("BROKEN");
  });

  it("completes and records, once, a capture whose operator died after the host finished", async () => {
    const first = await setUp("IR-CRASH", { crashOnPoll: 1 });
    await openTestCase(first.ledger);
    let crashed: Error | undefined;
    await captureMemory(first.options).catch((err: Error) => (crashed = err));
    expect(crashed?.message).to.contain("killed (test)");
    expect(await openUploads(first.factory)).to.have.length(1);

    const second = await setUp("IR-CRASH");
    const result = await captureMemory(second.options);
    expect(result.how).to.equal("completed-interrupted");
    expect(result.evidence.sha256).to.equal(createHash("sha256").update(image).digest("hex"));
    const actions = (await second.ledger.records()).map((r) => r.action);
    expect(actions).to.deep.equal(["case.opened", MEMORY_INTENT_ACTION, MEMORY_SENT_ACTION, MEMORY_ACTION]);
    expect(await openUploads(second.factory)).to.deep.equal([]);
  });

  it("--abort removes an interrupted upload and records it; nothing is left open or unrecorded", async () => {
    const first = await setUp("IR-ABORT", { crashOnPoll: 1 });
    await openTestCase(first.ledger);
    await captureMemory(first.options).catch(() => undefined);
    const [open] = await openUploads(first.factory);
    const second = await setUp("IR-ABORT");
    const aborted = await abortMemoryCapture({ ...second.options, request: { ...second.request, abort: true } });
    expect(aborted).to.deep.equal([open.UploadId]);
    expect(await openUploads(second.factory)).to.deep.equal([]);
    const last = (await second.ledger.records()).at(-1)!;
    expect(last.action).to.equal(MEMORY_ABORTED_ACTION);
    expect(last.details?.abortedUploads).to.deep.equal([open.UploadId]);
    // The intent is closed: a second --abort finds nothing.
    expect(await abortMemoryCapture(second.options)).to.deep.equal([]);
  });

  it("cancels a command that overruns its timeout, aborts its upload and records the failure", async () => {
    const { factory, ledger, options } = await setUp("IR-HANG", { hang: true });
    await openTestCase(ledger);
    let failed: Error | undefined;
    await captureMemory({ ...options, request: { ...options.request, timeoutMinutes: 0.005 }, graceMs: 0 }).catch(
      (err: Error) => (failed = err),
    );
    expect(failed?.message).to.match(
      /timed out \(SSM command .*TimedOut\).*the upload was aborted and the failure recorded/,
    );
    expect(agent.cancelled).to.have.length(1);
    expect(await openUploads(factory)).to.deep.equal([]);
    const last = (await ledger.records()).at(-1)!;
    expect(last).to.include({ action: MEMORY_ACTION, outcome: "failed" });
    expect(last.details).to.include({ status: "TimedOut", intentOutcome: "not-applied" });
  });

  it("refuses, before sending anything, a staged tool that is not the pinned one", async () => {
    const { ledger, options } = await setUp("IR-TOOL");
    await openTestCase(ledger);
    const forensicAdmin = newFactory({
      forensicRoleArn: `arn:aws:iam::${SEED_ACCOUNTS.forensic}:role/OrganizationAccountAccessRole`,
    });
    await forensicAdmin
      .client(S3Client, { region: lz.homeRegion })
      .send(new PutObjectCommand({ Bucket: lz.evidenceBucket, Key: MEMORY_TOOL_KEY, Body: Buffer.from("other") }));
    let refused: Error | undefined;
    await captureMemory(options).catch((err: Error) => (refused = err));
    expect(refused?.message).to.match(/the staged tool .* hashes to [0-9a-f]{64}, but the document pins/);
    expect((await ledger.records()).map((r) => r.action)).to.deep.equal(["case.opened"]);
  });

  it("refuses to send a command over SSM's 64 KB limit: nothing reaches the host, the upload is aborted and recorded", async () => {
    const { factory, ledger, request, options } = await setUp("IR-SIZE");
    await openTestCase(ledger);
    const checked = await checkMemoryCapture(factory, lz, request);
    // A plan SSM would refuse (2,000 signatures are 130 KB), as the capture planned before the limit was checked.
    const facts = { ...checked, plan: { ...checked.plan, parts: MEMORY_MAX_PARTS } };
    let refused: Error | undefined;
    await captureMemory(options, facts).catch((err: Error) => (refused = err));
    expect(refused?.message).to.match(/could not be sent: the command would carry \d+ bytes .* over SSM's limit/);
    expect(refused?.message).not.to.contain("\n");
    expect(agent.parameters.size).to.equal(0);
    expect(await openUploads(factory)).to.deep.equal([]);
    const last = (await ledger.records()).at(-1);
    expect(last).to.include({ action: MEMORY_ACTION, outcome: "failed" });
    expect(last?.details).to.include({ intentOutcome: "not-applied" });
  });

  it("--dry-run checks and prints the plan, records nothing; bad values are refused by name", async () => {
    // The CLI builds its own clients: moto has no DescribeInstanceInformation, so SSM is mocked here
    // (aws-sdk-client-mock), with the document as deployed; EC2 and S3 still go to the emulator.
    const ssm = mockClient(SSMClient);
    try {
      ssm.on(DescribeInstanceInformationCommand).resolves({
        InstanceInformationList: [{ InstanceId: instanceId, PingStatus: "Online", PlatformType: "Linux" }],
      });
      ssm.on(GetDocumentCommand).resolves({
        Content: JSON.stringify(memoryCaptureDocument({ toolSha256 })),
        DocumentVersion: "1",
      });
      const ledger = await openLedger({ factory: responder("IR-DRYMEM"), landingZone: lz, caseId: "IR-DRYMEM" });
      await openTestCase(ledger);
      const io = captureIo();
      const landingZone = writeContract(lz);
      await runCaptureMemory(
        { case: "IR-DRYMEM", account: MEMBER, region: lz.homeRegion, instance: instanceId, landingZone, dryRun: true },
        io,
      );
      expect(io.stdout()).to.contain(`would capture the memory of ${instanceId}`);
      expect(io.stdout()).to.contain(`tool sha256 ${toolSha256}`);
      expect((await ledger.records()).map((r) => r.action)).to.deep.equal(["case.opened"]);
      // Offline: unreachable states are refused with one line.
      ssm.on(DescribeInstanceInformationCommand).resolves({
        InstanceInformationList: [{ InstanceId: instanceId, PingStatus: "ConnectionLost", PlatformType: "Linux" }],
      });
      let refused: Error | undefined;
      await runCaptureMemory(
        { case: "IR-DRYMEM", account: MEMBER, region: lz.homeRegion, instance: instanceId, landingZone, dryRun: true },
        io,
      ).catch((err: Error) => (refused = err));
      expect(refused?.message).to.contain("its SSM agent is ConnectionLost, not Online");
    } finally {
      ssm.restore();
    }
    for (const [input, message] of [
      [{ account: MEMBER, region: "us-east-1", instance: "i-01234567" }, "--case is required"],
      [{ case: "IR-1", account: "12", region: "us-east-1", instance: "i-01234567" }, "--account 12"],
      [{ case: "IR-1", account: MEMBER, region: "us-east-1", instance: "vol-1" }, "--instance vol-1"],
      [
        { case: "IR-1", account: MEMBER, region: "us-east-1", instance: "i-01234567", partSizeMib: "4" },
        "--part-size-mib 4",
      ],
    ] as const) {
      expect(() => parseMemoryRequest(input)).to.throw(UsageError, message);
    }
  });
});
