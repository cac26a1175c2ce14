import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { generateKeyPairSync } from "node:crypto";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { HeadObjectCommand, PutObjectRetentionCommand, S3Client } from "@aws-sdk/client-s3";
import { runExport, runShow, runVerify } from "../../../scripts/commands/custody";
import { runEvidencePut } from "../../../scripts/commands/evidence";
import { OperationError } from "../../../scripts/errors";
import { useEmulator } from "../../support/emulator";
import { blockBytes } from "../hash/ebs-fixtures";
import { captureIo } from "../hash/io";
import { openTestCase } from "../../support/cases";
import { custodyWorld, rejection, type CustodyWorld } from "./fixtures";

describe("flz custody and flz evidence put (emulator)", () => {
  useEmulator();
  let world: CustodyWorld;
  let dir: string;
  let landingZone: string;
  beforeEach(async () => {
    world = await custodyWorld();
    dir = mkdtempSync(path.join(tmpdir(), "flz-custody-"));
    landingZone = path.join(dir, "lz.json");
    writeFileSync(landingZone, JSON.stringify(world.lz));
  });
  afterEach(() => {
    world.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("evidence put uploads once with S3 SHA-256 checksums and records the sha256sum of the file", async () => {
    const small = path.join(dir, "auth.log");
    writeFileSync(small, "Jan  1 00:00:01 host sshd[1]: Accepted publickey for root\n");
    const large = path.join(dir, "mem.lime");
    writeFileSync(large, blockBytes(42, 11 * 1024 * 1024 + 7));
    const io = captureIo();
    await openTestCase(await world.ledger("IR-EV"));
    const a = await runEvidencePut(small, { case: "IR-EV", kind: "log", landingZone }, io);
    const b = await runEvidencePut(large, { case: "IR-EV", kind: "memory", landingZone, partSizeMib: "5" }, io);
    for (const [file, result] of [
      [small, a],
      [large, b],
    ] as const) {
      expect(result?.evidence.sha256).to.equal(execFileSync("sha256sum", [file]).toString().split(" ")[0]);
      expect(result?.record.evidence?.[0]).to.deep.equal(result?.evidence);
    }
    // The emulator applies the bucket's default retention to single-part uploads only (a gap: S3 applies it to
    // completed multipart uploads too), and spells the composite checksum without its -N suffix.
    expect(a?.evidence.details?.retentionMode).to.equal("COMPLIANCE");
    expect(b?.evidence.details?.parts).to.equal(3);
    expect(b?.evidence.details?.s3ChecksumSha256).to.be.a("string");
    const s3 = world.factory().client(S3Client, { region: world.lz.homeRegion });
    const key = (a?.evidence.location ?? "").replace(`s3://${world.lz.evidenceBucket}/`, "");
    expect(key).to.match(/^cases\/IR-EV\/evidence\/log\/\d{8}T\d{6}Z-auth\.log$/);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: world.lz.evidenceBucket, Key: key, ChecksumMode: "ENABLED" }),
    );
    expect(Buffer.from(head.ChecksumSHA256 ?? "", "base64").toString("hex")).to.equal(a?.evidence.sha256);

    // Emulator gap: S3 gives a completed multipart upload the bucket's default retention; moto gives it none, and
    // verify rightly calls a version without COMPLIANCE retention BROKEN. Apply what S3 would have applied, as the
    // account's administrator: S3 stands in here, not the responder (which may lock custody keys only).
    const multipartKey = (b?.evidence.location ?? "").replace(`s3://${world.lz.evidenceBucket}/`, "");
    await world.administratorS3().send(
      new PutObjectRetentionCommand({
        Bucket: world.lz.evidenceBucket,
        Key: multipartKey,
        VersionId: b?.evidence.details?.versionId as string | undefined,
        Retention: { Mode: "COMPLIANCE", RetainUntilDate: new Date(Date.now() + 86400000) },
        ChecksumAlgorithm: "SHA256",
      }),
    );
    const verdict = await runVerify({ case: "IR-EV", landingZone, json: true }, captureIo());
    expect(verdict.ok).to.equal(true);
    expect(verdict.evidence.map((e) => e.status)).to.deep.equal(["verified", "verified"]);
  });

  it("evidence put --dry-run changes nothing, and bad kinds are refused by name", async () => {
    const file = path.join(dir, "x.bin");
    writeFileSync(file, "x");
    const io = captureIo();
    await openTestCase(await world.ledger("IR-DRY"));
    await runEvidencePut(file, { case: "IR-DRY", kind: "disk-image", landingZone, dryRun: true }, io);
    expect(io.stdout()).to.contain(`s3://${world.lz.evidenceBucket}/cases/IR-DRY/evidence/disk-image/`);
    expect((await (await world.ledger("IR-DRY")).records()).map((r) => r.action)).to.deep.equal(["case.opened"]);
    expect(
      (await rejection(runEvidencePut(file, { case: "IR-DRY", kind: "ram", landingZone }, io))).message,
    ).to.contain("--kind ram");
  });

  it("show lists every record; export writes records, key and report; verify --from passes offline and names tampering", async () => {
    await world.openedCase("IR-EXP", 4);
    const shown = captureIo();
    await runShow({ case: "IR-EXP", landingZone }, shown);
    const lines = shown.stdout().trim().split("\n");
    expect(lines).to.have.length(6);
    expect(lines[0]).to.match(/^SEQ\s+TIME \(UTC\)\s+ACTOR\s+ACTION\s+SUBJECTS\s+HASH\s+PREVIOUS$/);
    expect(lines[5]).to.match(/^4\s+\d{4}-\d\d-\d\dT.*capture\.snapshot\.created/);

    const out = path.join(dir, "export");
    const exported = await runExport({ case: "IR-EXP", out, landingZone }, captureIo());
    expect(exported.verdict.ok).to.equal(true);
    expect(readdirSync(path.join(out, "records"))).to.deep.equal([
      "00000000.json",
      "00000001.json",
      "00000002.json",
      "00000003.json",
      "00000004.json",
    ]);
    const markdown = readFileSync(path.join(out, "report.md"), "utf8");
    expect(markdown).to.contain("**Verification:** VERIFIED: 5 records");
    expect(markdown).to.contain("`" + "ab".repeat(32) + "`");

    // offline: point the SDK nowhere, so any AWS call would fail
    const saved = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = "http://127.0.0.1:9";
    try {
      const pem = path.join(dir, "kms.pem");
      writeFileSync(pem, readFileSync(path.join(out, "public-key.pem")));
      const ok = await runVerify({ case: "IR-EXP", from: out, publicKey: pem, json: true }, captureIo());
      expect(ok).to.include({ ok: true, verified: 5, total: 5 });

      const file = path.join(out, "records", "00000002.json");
      writeFileSync(file, readFileSync(file, "utf8").replace("contain.sessions.revoked", "contain.sessions.REVOKED"));
      const io = captureIo();
      const broken = await rejection(runVerify({ case: "IR-EXP", from: out, publicKey: pem, json: true }, io));
      expect(broken).to.be.instanceOf(OperationError);
      expect(broken.message).to.contain("record 2 has hash");
      expect(JSON.parse(io.stdout())).to.deep.include({
        ok: false,
        verified: 2,
        problem: { sequence: 2, location: file, reason: JSON.parse(io.stdout()).problem.reason },
      });

      const stranger = path.join(dir, "stranger.pem");
      writeFileSync(
        stranger,
        generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }),
      );
      const wrongKey = await rejection(runVerify({ case: "IR-EXP", from: out, publicKey: stranger }, captureIo()));
      expect(wrongKey.message).to.contain("record 0 has a signature that does not verify");
    } finally {
      process.env.AWS_ENDPOINT_URL = saved;
    }
  });

  it("verify online fails closed on an empty case and on a stranger's public key", async () => {
    expect((await rejection(runVerify({ case: "IR-NONE", landingZone }, captureIo()))).message).to.contain(
      "case IR-NONE does not exist",
    );
    const ledger = await world.ledger("IR-K");
    await openTestCase(ledger);
    const stranger = path.join(dir, "stranger.pem");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      stranger,
      generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }),
    );
    const err = await rejection(runVerify({ case: "IR-K", landingZone, publicKey: stranger }, captureIo()));
    expect(err.message).to.contain("record 0 has a signature that does not verify");
  });
});
