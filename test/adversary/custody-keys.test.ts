/**
 * Attacks on the trust anchor of custody verification (issue 11, item 2): the insider re-signs the whole chain under a
 * KMS key of its own and replaces the case's public-key.pem with that key's, hoping a verifier trusts the key found
 * beside the records; or KMS cannot be reached while verify runs. Verify must fail closed: BROKEN with the key from
 * KMS, UNVERIFIED (exit 1) without one, and never VERIFIED on the strength of a public-key.pem.
 */
import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { publicKeyFingerprint } from "../../scripts/custody/case-files";
import { publicKeyKey, recordKey, recordHash, withoutSeal } from "../../scripts/custody/record";
import type { CustodyRecord, JsonValue } from "../../scripts/custody/types";
import { openTestCase } from "../support/cases";
import { runFlz } from "../support/cli";
import { useEmulator } from "../support/emulator";
import { sampleEvent, useCustodyWorld, type CustodyWorld } from "../scripts/custody/fixtures";
import { Insider, recordBytes, verifyCase } from "./custody-attacker";

/** Points KMS (only KMS) at a loopback port nobody listens on, for the duration of `fn`. */
async function withKmsUnreachable<T>(fn: () => Promise<T>): Promise<T> {
  const saved = process.env.AWS_ENDPOINT_URL_KMS;
  process.env.AWS_ENDPOINT_URL_KMS = "http://127.0.0.1:9";
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_KMS;
    else process.env.AWS_ENDPOINT_URL_KMS = saved;
  }
}

describe("adversary: the custody trust anchor (public key) against an insider", () => {
  useEmulator();
  const suite = useCustodyWorld();
  let world: CustodyWorld;
  let insider: Insider;
  let dir: string;
  beforeEach(() => {
    world = suite.world();
    dir = suite.dir();
    insider = new Insider(world.lz);
  });
  afterEach(() => insider.close());

  /** Opens a case with three more records and has the insider re-sign all of them (record 1 altered) under its key. */
  async function resignedCase(
    caseId: string,
  ): Promise<{ records: CustodyRecord[]; forged: CustodyRecord[]; pem: string }> {
    const ledger = await world.openedCase(caseId, 3);
    const records = await ledger.records();
    const own = await insider.ownSigningKey();
    let previousHash = "0".repeat(64);
    const forged: CustodyRecord[] = [];
    for (const r of records) {
      const body = withoutSeal(r as unknown as { [key: string]: JsonValue }) as unknown as Omit<
        CustodyRecord,
        "hash" | "signature"
      >;
      const changed =
        r.sequence === 1 ? { ...body, subjects: ["arn:aws:ec2:us-east-1:333333333333:instance/i-decoy"] } : body;
      const unsigned = { ...changed, previousHash };
      const sealed = { ...unsigned, hash: recordHash(unsigned) };
      const [signed] = await insider.sign([sealed], own.arn, world.lz.custodySigningKeyArn);
      forged.push(signed);
      previousHash = sealed.hash;
    }
    // New versions over every record, and over the public key: plain PutObject, as the insider can.
    for (const f of forged) await insider.put(recordKey(caseId, f.sequence), recordBytes(f));
    await insider.put(publicKeyKey(caseId), own.publicKeyPem);
    return { records, forged, pem: own.publicKeyPem };
  }

  it("a chain re-signed under the insider's key with a replaced public-key.pem: BROKEN with the key from KMS, every replacement named", async () => {
    const caseId = "IR-RESIGNED";
    const { records, pem } = await resignedCase(caseId);
    const { code, verdict } = await verifyCase(caseId, suite.lzFile());
    expect(code).to.equal(1);
    expect(verdict.status).to.equal("BROKEN");
    expect(verdict.publicKeySource).to.equal("kms");
    expect(verdict.publicKeySha256).to.not.equal(publicKeyFingerprint(pem));
    for (const r of records)
      expect(
        verdict.findings.some((f) => f.key === recordKey(caseId, r.sequence) && /has 2 versions/.test(f.reason)),
        `record ${r.sequence}`,
      ).to.equal(true);
    expect(
      verdict.findings.find((f) => f.key === publicKeyKey(caseId) && /has 2 versions/.test(f.reason)),
    ).to.not.equal(undefined);
    // The genuine first versions still verify: the report shows what was really recorded.
    expect(verdict.verified).to.equal(records.length);
  });

  it("the same, with KMS unreachable: UNVERIFIED and exit 1; the replaced public-key.pem is never used", async () => {
    const caseId = "IR-RESIGNED-NOKMS";
    await resignedCase(caseId);
    const { code, verdict } = await withKmsUnreachable(() => verifyCase(caseId, suite.lzFile()));
    expect(code).to.equal(1);
    expect(verdict.ok).to.equal(false);
    expect(verdict.status).to.not.equal("VERIFIED");
    expect(verdict.publicKeySha256).to.equal(null);
    expect(verdict.findings.find((f) => f.severity === "unverified")?.reason).to.match(
      /could not obtain the custody public key from KMS.*--public-key/,
    );
  });

  it("KMS unreachable during verify of an untouched case: UNVERIFIED, exit 1, and --public-key restores the check", async () => {
    const caseId = "IR-NOKMS";
    const ledger = await world.ledger(caseId);
    await openTestCase(ledger);
    await ledger.append(sampleEvent(0));
    const kmsPem = await ledger.kmsPublicKey();
    const { code, verdict } = await withKmsUnreachable(() => verifyCase(caseId, suite.lzFile()));
    expect(code).to.equal(1);
    expect(verdict.status).to.equal("UNVERIFIED");
    expect(verdict.verdict).to.match(/^UNVERIFIED: could not obtain the custody public key from KMS/);
    expect(verdict.verified).to.equal(0);
    const file = path.join(dir, "custody.pem");
    writeFileSync(file, kmsPem);
    const supplied = await withKmsUnreachable(() => verifyCase(caseId, suite.lzFile(), ["--public-key", file]));
    expect(supplied.code).to.equal(0);
    expect(supplied.verdict).to.include({ status: "VERIFIED", publicKeySource: "examiner", verified: 2 });
  });

  it("an exported folder carrying the insider's chain and key: UNVERIFIED without --public-key, BROKEN with KMS's", async () => {
    const caseId = "IR-FOLDER";
    const ledger = await world.ledger(caseId);
    await openTestCase(ledger);
    await ledger.append(sampleEvent(0));
    const out = path.join(dir, "export");
    expect((await suite.custody("export", caseId, "--out", out)).code).to.equal(0);
    const kmsPem = readFileSync(path.join(out, "public-key.pem"), "utf8");
    // The insider rewrites the folder: record 1 re-signed under its own key, and its key as public-key.pem.
    const own = await insider.ownSigningKey();
    const original = JSON.parse(readFileSync(path.join(out, "records", "00000001.json"), "utf8")) as CustodyRecord;
    const body = withoutSeal({ ...original, subjects: ["decoy"] } as unknown as {
      [key: string]: JsonValue;
    }) as unknown as Omit<CustodyRecord, "hash" | "signature">;
    const [forged] = await insider.sign([{ ...body, hash: recordHash(body) }], own.arn, world.lz.custodySigningKeyArn);
    writeFileSync(path.join(out, "records", "00000001.json"), recordBytes(forged));
    writeFileSync(path.join(out, "public-key.pem"), own.publicKeyPem);
    // ...and, being careful, the head hash in case.json too.
    const manifest = JSON.parse(readFileSync(path.join(out, "case.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(path.join(out, "case.json"), JSON.stringify({ ...manifest, headHash: forged.hash }));

    const offline = ["custody", "verify", "--case", caseId, "--from", out, "--json"];
    const alone = await runFlz(offline);
    expect(alone.code).to.equal(1);
    expect(JSON.parse(alone.out)).to.include({ status: "UNVERIFIED", ok: false, publicKeySha256: null });
    const pemFile = path.join(dir, "kms.pem");
    writeFileSync(pemFile, kmsPem);
    const checked = await runFlz([...offline, "--public-key", pemFile]);
    expect(checked.code).to.equal(1);
    const verdict = JSON.parse(checked.out) as { status: string; problem: { reason: string } };
    expect(verdict.status).to.equal("BROKEN");
    expect(verdict.problem.reason).to.match(
      /record 1 has a signature that does not verify with the custody public key/,
    );
  });
});
