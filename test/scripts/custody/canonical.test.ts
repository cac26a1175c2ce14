import { expect } from "chai";
import { canonicalJson, toJsonValue } from "../../../scripts/custody/canonical";
import { buildUnsignedRecord, GENESIS_HASH, recordHash, signingStatement } from "../../../scripts/custody/record";

describe("canonical JSON and record hashing", () => {
  it("sorts keys by UTF-16 code units at every depth and writes no whitespace (RFC 8785)", () => {
    expect(canonicalJson({ b: [3, { z: 1, a: "x y" }], a: null, "\u00e9": true, A: 1.5 })).to.equal(
      '{"A":1.5,"a":null,"b":[3,{"a":"x y","z":1}],"é":true}',
    );
  });

  it("spells numbers the ECMAScript way, so every RFC 8785 implementation agrees", () => {
    expect(canonicalJson([1e21, 1e-7, 0.1, -0, 100])).to.equal("[1e+21,1e-7,0.1,0,100]");
  });

  it("refuses values JSON cannot carry faithfully instead of coercing them", () => {
    expect(() => toJsonValue({ a: { b: NaN } })).to.throw("value.a.b is NaN");
    expect(() => toJsonValue({ when: new Date(0) })).to.throw("value.when is a Date");
    expect(toJsonValue({ a: undefined, b: [undefined] })).to.deep.equal({ b: [null] });
  });

  it("hashes a record the same whatever the order its fields were given in", () => {
    const at = {
      sequence: 0,
      caseId: "IR-1",
      time: "2026-01-01T00:00:00.000Z",
      actor: "arn:aws:sts::1:assumed-role/r/s",
      previousHash: GENESIS_HASH,
    };
    const one = buildUnsignedRecord({ action: "x.y", subjects: ["a"], details: { p: 1, q: 2 } }, at);
    const two = buildUnsignedRecord({ details: { q: 2, p: 1 }, subjects: ["a"], action: "x.y" }, at);
    expect(recordHash(one)).to.equal(recordHash(two));
    expect(recordHash(one)).to.match(/^[0-9a-f]{64}$/);
  });

  it("never lets an event override its place in the chain", () => {
    const at = {
      sequence: 4,
      caseId: "IR-1",
      time: "2026-01-01T00:00:00.000Z",
      actor: "me",
      previousHash: GENESIS_HASH,
    };
    const sneaky = {
      action: "x",
      subjects: [],
      sequence: 0,
      case: "IR-2",
      actor: "someone else",
    } as unknown as Parameters<typeof buildUnsignedRecord>[0];
    expect(buildUnsignedRecord(sneaky, at)).to.include({ sequence: 4, case: "IR-1", actor: "me" });
  });

  it("signs a short statement that names the case, position, links and key, well under KMS's 4096 bytes", () => {
    const statement = signingStatement(
      { case: "C".repeat(128), sequence: 99999999, previousHash: "a".repeat(64), hash: "b".repeat(64) },
      `arn:aws:kms:us-east-1:222222222222:key/${"k".repeat(36)}`,
    );
    expect(statement.length).to.be.below(600);
    expect(JSON.parse(statement.toString())).to.have.keys([
      "case",
      "hash",
      "keyArn",
      "previousHash",
      "purpose",
      "sequence",
    ]);
  });
});
