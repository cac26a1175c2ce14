/**
 * Time-bounded I/O (issue 19 item 1, PLAN.md decision 6): every client the factory hands out gives up on a stalled
 * request, retries it like any transient fault, reads small streamed answers within the attempt (so a truncated body
 * is retried), never lets the SDK retry a non-idempotent creation, counts throttling where it happens, and names the
 * operation and the resource in one line when the attempts run out. Driven through the fault proxy, in process.
 */
import { expect } from "chai";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { CreateVolumeCommand, CreateSnapshotCommand, EC2Client } from "@aws-sdk/client-ec2";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { ClientFactory } from "../../scripts/aws/clients";
import { isTransientError, passBodyThrough, type AttemptEvent } from "../../scripts/aws/attempts";
import { attemptBudgetMs, callBudgetMs, DEFAULT_TIMEOUTS, parseTimeouts } from "../../scripts/aws/timeouts";
import { describeError, UsageError } from "../../scripts/errors";
import { useEmulator } from "../support/emulator";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy";

describe("time-bounded AWS calls through the client factory (fault proxy)", function () {
  this.timeout(120_000);
  const emulator = useEmulator();
  let proxy: FaultProxy;
  let factory: ClientFactory;
  let events: AttemptEvent[];
  let endpoint: string | undefined;

  beforeEach(async () => {
    proxy = await startFaultProxy(emulator.endpoint());
    endpoint = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = proxy.url;
    factory = new ClientFactory({ timeouts: parseTimeouts("all=1500,connect=500,idle=3000"), maxAttempts: 4 });
    events = [];
    factory.onAttempt((e) => events.push(e));
  });
  afterEach(async () => {
    factory.destroy();
    process.env.AWS_ENDPOINT_URL = endpoint;
    await proxy.close();
  });

  const sts = () => factory.client(STSClient, { region: "us-east-1" });
  const s3 = () => factory.client(S3Client, { region: "us-east-1" });
  const timed = async <T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> => {
    const started = Date.now();
    try {
      return { value: await fn(), ms: Date.now() - started };
    } catch (error) {
      return { error, ms: Date.now() - started };
    }
  };

  it("gives up on a stalled request after its attempt budget and retries it like any transient fault", async () => {
    proxy.add({ operation: "sts:GetCallerIdentity", fault: "stall" });
    const run = await timed(() => sts().send(new GetCallerIdentityCommand({})));
    expect(run.error).to.equal(undefined);
    expect(events.map((e) => e.outcome)).to.deep.equal(["transient", "ok"]);
    expect(events[0].ms).to.be.within(1400, 3000);
  });

  it("retries an answer whose body stalls after its headers (applied, answer never completes)", async () => {
    await s3().send(new CreateBucketCommand({ Bucket: "stall-bucket" }));
    await s3().send(new PutObjectCommand({ Bucket: "stall-bucket", Key: "k", Body: "x".repeat(4096) }));
    events = [];
    proxy.add({ operation: "s3:GetObject", when: "after", fault: "truncate" });
    proxy.add({ operation: "s3:GetObject", when: "after", fault: "stall" });
    const out = await s3().send(new GetObjectCommand({ Bucket: "stall-bucket", Key: "k" }));
    expect(await out.Body?.transformToString()).to.have.length(4096);
    expect(events.map((e) => e.outcome)).to.deep.equal(["transient", "transient", "ok"]);
  });

  describe("a command marked to pass its body through (its caller reads the stream)", () => {
    const readVia = async (client: S3Client, bucket: string): Promise<string> => {
      const command = new GetObjectCommand({ Bucket: bucket, Key: "k" });
      passBodyThrough(command);
      const out = await client.send(command);
      const chunks: Buffer[] = [];
      for await (const chunk of out.Body as AsyncIterable<Buffer>) chunks.push(chunk);
      return Buffer.concat(chunks).toString();
    };

    it("gets the body as a stream; a body cut short fails the caller's read, not the attempt", async () => {
      await s3().send(new CreateBucketCommand({ Bucket: "pass-bucket" }));
      await s3().send(new PutObjectCommand({ Bucket: "pass-bucket", Key: "k", Body: "y".repeat(4096) }));
      expect(await readVia(s3(), "pass-bucket")).to.equal("y".repeat(4096));
      events = [];
      proxy.add({ operation: "s3:GetObject", when: "after", fault: "truncate" });
      const run = await timed(() => readVia(s3(), "pass-bucket"));
      expect(events.filter((e) => e.operation === "GetObject").map((e) => e.outcome)).to.deep.equal(["ok"]);
      expect(isTransientError(run.error), String(run.error)).to.equal(true);
    });

    it("still destroys a body that stalls after its headers at the attempt's deadline (a TimeoutError)", async () => {
      // The fault proxy's stall sends no headers: a server of its own sends them and 100 bytes of 4096, then nothing.
      const server = createServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "4096" });
        res.write("z".repeat(100));
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const saved = process.env.AWS_ENDPOINT_URL;
      process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const stalling = new ClientFactory({ timeouts: parseTimeouts("all=1500,connect=500,idle=60000") });
      try {
        const run = await timed(() => readVia(stalling.client(S3Client, { region: "us-east-1" }), "stalled"));
        expect((run.error as Error | undefined)?.name).to.equal("TimeoutError");
        expect(isTransientError(run.error)).to.equal(true);
      } finally {
        stalling.destroy();
        process.env.AWS_ENDPOINT_URL = saved;
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    });
  });

  it("stops after its attempts with one line naming the operation, the resource and why", async () => {
    proxy.add({ operation: "s3:PutObject", fault: "reset", times: Infinity });
    await s3().send(new CreateBucketCommand({ Bucket: "reset-bucket" }));
    const run = await timed(() =>
      s3().send(new PutObjectCommand({ Bucket: "reset-bucket", Key: "a/b.json", Body: "{}" })),
    );
    const line = describeError(run.error);
    expect(line.split("\n")).to.have.length(1);
    expect(line).to.match(
      /S3 PutObject s3:\/\/reset-bucket\/a\/b\.json \(forensic account, us-east-1\): connection reset \(ECONNRESET\); gave up after 4 attempts/,
    );
    expect(run.ms).to.be.below(callBudgetMs(factory.timeouts, "PutObject", 4));
  });

  it("never lets the SDK retry a creation whose answer was lost: the caller must look first", async () => {
    const ec2 = factory.client(EC2Client, { region: "us-east-1" });
    const volume = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 1 }));
    proxy.add({ operation: "ec2:CreateSnapshot", when: "after", fault: "reset" });
    const run = await timed(() => ec2.send(new CreateSnapshotCommand({ VolumeId: volume.VolumeId })));
    expect(describeError(run.error)).to.match(/CreateSnapshot vol-\w+ .*not retried by the SDK/);
    expect(proxy.hits("ec2:CreateSnapshot")).to.equal(1);
    // Throttling means "not carried out": that one the SDK does retry.
    proxy.add({ operation: "ec2:CreateSnapshot", fault: "throttle" });
    const again = await timed(() => ec2.send(new CreateSnapshotCommand({ VolumeId: volume.VolumeId })));
    expect(again.error).to.equal(undefined);
  });

  it("reports throttling absorbed by retries to the factory's observers", async () => {
    proxy.add({ operation: "sts:GetCallerIdentity", fault: "throttle", times: 2 });
    await sts().send(new GetCallerIdentityCommand({}));
    expect(events.map((e) => `${e.service}:${e.operation}:${e.outcome}`)).to.deep.equal([
      "STS:GetCallerIdentity:throttled",
      "STS:GetCallerIdentity:throttled",
      "STS:GetCallerIdentity:ok",
    ]);
  });

  it("retries as often as configured however long the faults go on (no client-wide retry quota)", async () => {
    // The SDK's standard strategy spends 14 of 500 quota tokens per retry: it would refuse after about 35.
    for (let i = 0; i < 40; i++) {
      proxy.add({ operation: "sts:GetCallerIdentity", fault: "reset", times: 3 });
      const run = await timed(() => sts().send(new GetCallerIdentityCommand({})));
      expect(run.error, `call ${i}`).to.equal(undefined);
    }
    expect(events.filter((e) => e.outcome === "transient")).to.have.length(120);
  });
});

describe("timeout policy", () => {
  it("gives block reads short budgets, creations and multipart completion long ones, and uploads time per byte", () => {
    expect(attemptBudgetMs(DEFAULT_TIMEOUTS, "GetSnapshotBlock")).to.be.below(
      attemptBudgetMs(DEFAULT_TIMEOUTS, "CopySnapshot"),
    );
    expect(attemptBudgetMs(DEFAULT_TIMEOUTS, "CompleteMultipartUpload")).to.be.at.least(600_000);
    expect(attemptBudgetMs(DEFAULT_TIMEOUTS, "UploadPart", 64 * 1024 * 1024)).to.equal(30_000 + 256_000);
  });

  it("reads FLZ_AWS_TIMEOUTS pairs, and refuses a bad one with one line naming it", () => {
    const p = parseTimeouts("all=2000,CopySnapshot=9000,connect=300");
    expect(p.connectMs).to.equal(300);
    expect(p.defaultMs).to.equal(2000);
    expect(p.operations.GetSnapshotBlock).to.equal(2000);
    expect(p.operations.CopySnapshot).to.equal(9000);
    expect(() => parseTimeouts("connect=fast")).to.throw(UsageError, /"connect=fast" is not valid/);
    expect(() => parseTimeouts("copy=5")).to.throw(UsageError, /"copy" is neither/);
  });
});
