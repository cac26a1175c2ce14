import { ClientFactory } from "../../../scripts/aws/clients";
import { expect } from "chai";
import { generateKeyPairSync, sign } from "node:crypto";
import * as fc from "fast-check";
import { CreateKeyCommand, KMSClient, SignCommand } from "@aws-sdk/client-kms";
import { verifyChain, type StoredRecord } from "../../../scripts/custody/chain";
import { buildUnsignedRecord, recordHash, serialiseRecord, signingStatement } from "../../../scripts/custody/record";
import type { CustodyRecord } from "../../../scripts/custody/types";
import { emulator, useEmulator } from "../../support/emulator";
import { custodyWorld, sampleEvent } from "./fixtures";

const CASE = "IR-TAMPER";
const RECORDS = 21;

function parse(entry: StoredRecord): CustodyRecord {
  return JSON.parse(Buffer.from(entry.bytes).toString("utf8")) as CustodyRecord;
}

function encode(record: CustodyRecord): Uint8Array {
  return Buffer.from(serialiseRecord(record), "utf8");
}

describe("custody tamper detection (a ledger of 21 records)", () => {
  useEmulator();
  let chain: StoredRecord[];
  let publicKeyPem: string;
  /** Record 5's seal made by another KMS key: right statement, wrong signer. */
  let otherKeySignature: { keyArn: string; value: string };

  before(async function () {
    this.timeout(120000);
    // A before-all hook runs ahead of useEmulator's per-test reset: start from an empty emulator here too, or the
    // evidence bucket the previous suite left (with objects) cannot be seeded again.
    await (await emulator()).reset();
    const world = await custodyWorld();
    const ledger = await world.ledger(CASE);
    for (let i = 0; i < RECORDS; i++) await ledger.append(sampleEvent(i));
    chain = await ledger.storedRecords();
    publicKeyPem = (await ledger.storedPublicKey()) ?? "";
    // The forger is an administrator of the forensic account: a key of their own, never the custody key.
    const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
    const kms = admin.client(KMSClient, { account: world.lz.forensicAccountId, region: world.lz.homeRegion });
    const other = await kms.send(
      new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY", Description: "not the custody key" }),
    );
    const signed = await kms.send(
      new SignCommand({
        KeyId: other.KeyMetadata?.Arn,
        Message: signingStatement(parse(chain[5]), other.KeyMetadata?.Arn ?? ""),
        MessageType: "RAW",
        SigningAlgorithm: "ECDSA_SHA_256",
      }),
    );
    otherKeySignature = {
      keyArn: other.KeyMetadata?.Arn ?? "",
      value: Buffer.from(signed.Signature ?? []).toString("base64"),
    };
    admin.destroy();
    world.close();
  });

  const verify = (entries: StoredRecord[]) => verifyChain(entries, { caseId: CASE, publicKeyPem });

  it("accepts the untouched chain", () => {
    const result = verify(chain);
    expect(result.ok, result.problem?.reason).to.equal(true);
    expect(result.verified).to.equal(RECORDS);
  });

  it("names the changed record for every single-byte change anywhere in the chain", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: RECORDS - 1 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 255 }),
        (i, where, delta) => {
          const bytes = Buffer.from(chain[i].bytes);
          const at = Math.floor(where * bytes.length);
          bytes[at] = (bytes[at] + delta) % 256;
          const tampered = chain.map((entry, j) => (j === i ? { ...entry, bytes } : entry));
          const result = verify(tampered);
          expect(result.ok).to.equal(false);
          expect(result.problem?.sequence).to.equal(i);
          expect(result.verified).to.equal(i);
        },
      ),
      { numRuns: 600 },
    );
  });

  it("detects every single-byte change of a record exhaustively, at every offset", () => {
    const prefix = chain.slice(0, 3);
    const original = Buffer.from(prefix[1].bytes);
    for (let at = 0; at < original.length; at++) {
      for (const delta of [1, 0x20, 0x80]) {
        const bytes = Buffer.from(original);
        bytes[at] = (bytes[at] + delta) % 256;
        const result = verify(prefix.map((entry, j) => (j === 1 ? { ...entry, bytes } : entry)));
        expect(
          result.problem?.sequence,
          `offset ${at} +${delta}: ${original.subarray(Math.max(0, at - 30), at + 30).toString()} -> ${bytes.subarray(Math.max(0, at - 30), at + 30).toString()}`,
        ).to.equal(1);
      }
    }
  });

  it("names the gap when any record but the last is deleted", () => {
    fc.assert(
      fc.property(fc.nat({ max: RECORDS - 2 }), (i) => {
        const result = verify(chain.filter((_, j) => j !== i));
        expect(result.ok).to.equal(false);
        expect(result.problem?.sequence).to.equal(i);
        expect(result.problem?.reason).to.contain("missing");
      }),
    );
  });

  it("shows a cut-off tail through the head hash, which an examiner pins from the export report", () => {
    // A hash chain cannot know its own length; Object Lock stops deletion, the pinned head hash reveals it.
    const whole = verify(chain);
    const cut = verify(chain.slice(0, RECORDS - 1));
    expect(cut.ok).to.equal(true);
    expect(cut.headHash).to.not.equal(whole.headHash);
  });

  it("names the first of any swapped pair of records", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat({ max: RECORDS - 1 }), { minLength: 2, maxLength: 2 }), ([a, b]) => {
        const [i, j] = a < b ? [a, b] : [b, a];
        const swapped = chain.map((entry, k) =>
          k === i ? { ...entry, bytes: chain[j].bytes } : k === j ? { ...entry, bytes: chain[i].bytes } : entry,
        );
        const result = verify(swapped);
        expect(result.ok).to.equal(false);
        expect(result.problem?.sequence).to.equal(i);
      }),
    );
  });

  it("rejects a forged record inserted anywhere, even one correctly linked and hashed", () => {
    const forger = generateKeyPairSync("ec", { namedCurve: "P-256" });
    fc.assert(
      fc.property(fc.nat({ max: RECORDS }), (k) => {
        const previousHash = k === 0 ? "0".repeat(64) : parse(chain[k - 1]).hash;
        const unsigned = buildUnsignedRecord(
          { action: "evidence.put", subjects: ["s3://forged/evidence"] },
          { sequence: k, caseId: CASE, time: new Date().toISOString(), actor: parse(chain[0]).actor, previousHash },
        );
        const hash = recordHash(unsigned);
        const value = sign("sha256", signingStatement({ ...unsigned, hash }, parse(chain[0]).signature.keyArn), {
          key: forger.privateKey,
          dsaEncoding: "der",
        }).toString("base64");
        const forged: StoredRecord = {
          location: `forged/${k}`,
          sequence: k,
          bytes: encode({
            ...unsigned,
            hash,
            signature: { keyArn: parse(chain[0]).signature.keyArn, algorithm: "ECDSA_SHA_256", value },
          }),
        };
        // the records after the insertion are renamed one place on, as a forger would have to
        const entries = [
          ...chain.slice(0, k),
          forged,
          ...chain.slice(k).map((e) => ({ ...e, sequence: e.sequence + 1 })),
        ];
        const result = verify(entries);
        expect(result.ok).to.equal(false);
        expect(result.problem?.sequence).to.equal(k);
        expect(result.problem?.reason).to.contain("signature");
      }),
      { numRuns: 50 },
    );
  });

  it("rejects a record whose statement was signed by another KMS key", () => {
    const record = parse(chain[5]);
    const resealed = encode({ ...record, signature: { ...record.signature, ...otherKeySignature } });
    const result = verify(chain.map((entry, j) => (j === 5 ? { ...entry, bytes: resealed } : entry)));
    expect(result.ok).to.equal(false);
    expect(result.problem?.sequence).to.equal(5);
    expect(result.problem?.reason).to.contain("does not verify with the custody public key");
  });

  it("rejects a record moved to another case even with its own valid signature", () => {
    const result = verifyChain(chain, { caseId: "IR-OTHER", publicKeyPem });
    expect(result.problem?.sequence).to.equal(0);
    expect(result.problem?.reason).to.contain('not "IR-OTHER"');
  });
});
