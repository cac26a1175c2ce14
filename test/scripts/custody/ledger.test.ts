import { ClientFactory } from "../../../scripts/aws/clients";
import { expect } from "chai";
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { verifyChain } from "../../../scripts/custody/chain";
import { sha256Base64 } from "../../../scripts/custody/ledger";
import { GENESIS_HASH, publicKeyKey, recordKey, sha256Hex } from "../../../scripts/custody/record";
import { SEED_ACCOUNTS } from "../../../scripts/emulator/seed";
import { useEmulator } from "../../support/emulator";
import { custodyWorld, sampleEvent, type CustodyWorld } from "./fixtures";

describe("custody ledger in the evidence bucket", () => {
  useEmulator();
  let world: CustodyWorld;
  beforeEach(async () => {
    world = await custodyWorld();
  });
  afterEach(() => world.close());

  it("appends signed, chained records that verify offline with the case's stored public key", async () => {
    const ledger = await world.ledger("IR-2026-001");
    const first = await ledger.append(sampleEvent(0));
    const second = await ledger.append({ action: "evidence.put", subjects: ["s3://x/y"] });
    expect(first.sequence).to.equal(0);
    expect(first.previousHash).to.equal(GENESIS_HASH);
    expect(second.sequence).to.equal(1);
    expect(second.previousHash).to.equal(first.hash);
    expect(second.outcome).to.equal("succeeded");
    expect(first.actor).to.match(
      new RegExp(`^arn:aws:sts::${SEED_ACCOUNTS.forensic}:assumed-role/FlzForensicResponder/`),
    );
    expect(first.signature.keyArn).to.equal(world.lz.custodySigningKeyArn);

    const stored = await ledger.storedRecords();
    expect(stored.map((s) => s.location)).to.deep.equal([recordKey("IR-2026-001", 0), recordKey("IR-2026-001", 1)]);
    const publicKeyPem = await ledger.storedPublicKey();
    expect(publicKeyPem).to.equal(await ledger.kmsPublicKey());
    const result = verifyChain(stored, { caseId: "IR-2026-001", publicKeyPem: publicKeyPem ?? "" });
    expect(result.ok, result.problem?.reason).to.equal(true);
    expect(result.headHash).to.equal(second.hash);
    expect(await ledger.records()).to.deep.equal([first, second]);
  });

  it("continues an existing chain from a fresh process and keeps cases apart", async () => {
    await (await world.ledger("IR-A")).append(sampleEvent(1));
    await (await world.ledger("IR-B")).append(sampleEvent(2));
    const again = await (await world.ledger("IR-A")).append(sampleEvent(3));
    expect(again.sequence).to.equal(1);
    expect((await (await world.ledger("IR-B")).records()).map((r) => r.case)).to.deep.equal(["IR-B"]);
  });

  it("stores each record with an S3 SHA-256 checksum of its exact bytes under the bucket's COMPLIANCE retention", async () => {
    const ledger = await world.ledger("IR-7");
    await ledger.append(sampleEvent(0));
    const [entry] = await ledger.storedRecords();
    // The attacker is an administrator of the forensic account (the responder's own policy already denies deletes,
    // and the authorization oracle would refuse them): Object Lock must hold even against the account's admin.
    const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
    const s3 = admin.client(S3Client, { account: world.lz.forensicAccountId, region: world.lz.homeRegion });
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: world.lz.evidenceBucket, Key: entry.location, ChecksumMode: "ENABLED" }),
    );
    expect(head.ChecksumSHA256).to.equal(sha256Base64(entry.bytes));
    expect(head.ObjectLockMode).to.equal("COMPLIANCE");
    expect(head.ObjectLockRetainUntilDate?.getTime()).to.be.greaterThan(Date.now());
  });

  it("relies on a conditional create that the emulator honours: a second create of a record key is refused", async () => {
    const ledger = await world.ledger("IR-8");
    await ledger.append(sampleEvent(0));
    // The attacker is an administrator of the forensic account (the responder's own policy already denies deletes,
    // and the authorization oracle would refuse them): Object Lock must hold even against the account's admin.
    const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
    const s3 = admin.client(S3Client, { account: world.lz.forensicAccountId, region: world.lz.homeRegion });
    let refused: unknown;
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: world.lz.evidenceBucket,
          Key: recordKey("IR-8", 0),
          Body: "forged",
          IfNoneMatch: "*",
          ChecksumAlgorithm: "SHA256",
        }),
      );
    } catch (err) {
      refused = err;
    }
    expect((refused as { name?: string })?.name).to.equal("PreconditionFailed");
    const [entry] = await ledger.storedRecords();
    expect(Buffer.from(entry.bytes).toString()).to.not.equal("forged");
  });

  it("never forks: concurrent appenders in separate processes' clients produce one linear chain", async () => {
    const writers = await Promise.all([1, 2, 3, 4].map(() => world.ledger("IR-RACE")));
    const appended = await Promise.all(
      writers.flatMap((ledger, w) =>
        [0, 1, 2, 3, 4].map((i) => ledger.append({ action: "test.append", subjects: [`writer-${w}`, `event-${i}`] })),
      ),
    );
    expect(appended.map((r) => r.sequence).sort((a, b) => a - b)).to.deep.equal([...Array(20).keys()]);
    const reader = await world.ledger("IR-RACE");
    const result = verifyChain(await reader.storedRecords(), {
      caseId: "IR-RACE",
      publicKeyPem: (await reader.storedPublicKey()) ?? "",
    });
    expect(result.ok, result.problem?.reason).to.equal(true);
    expect(result.verified).to.equal(20);
    // every event is in the chain exactly once
    const subjects = result.records.map((r) => r.subjects.join("/")).sort();
    expect(new Set(subjects).size).to.equal(20);
  });

  it("keeps records and the public key locked: the emulator refuses to delete a locked version", async () => {
    const ledger = await world.ledger("IR-LOCK");
    await ledger.append(sampleEvent(0));
    // The attacker is an administrator of the forensic account (the responder's own policy already denies deletes,
    // and the authorization oracle would refuse them): Object Lock must hold even against the account's admin.
    const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
    const s3 = admin.client(S3Client, { account: world.lz.forensicAccountId, region: world.lz.homeRegion });
    for (const key of [recordKey("IR-LOCK", 0), publicKeyKey("IR-LOCK")]) {
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: world.lz.evidenceBucket, Prefix: key }));
      const versionId = versions.Versions?.[0]?.VersionId;
      expect(versionId, key).to.be.a("string");
      let refused: unknown;
      try {
        await s3.send(new DeleteObjectCommand({ Bucket: world.lz.evidenceBucket, Key: key, VersionId: versionId }));
      } catch (err) {
        refused = err;
      }
      expect((refused as { name?: string })?.name, key).to.equal("AccessDenied");
    }
    admin.destroy();
    expect(sha256Hex(Buffer.from((await ledger.storedRecords())[0].bytes))).to.have.length(64);
  });

  it("rejects a case ID that cannot be a key or file name, naming it", async () => {
    let error: unknown;
    try {
      await world.ledger("../etc");
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).to.contain('"../etc"');
  });
});
