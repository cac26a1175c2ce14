import { expect } from "chai";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ClientFactory } from "../../../scripts/aws/clients";
import { recordKey } from "../../../scripts/custody/record";
import { SEED_ACCOUNTS } from "../../../scripts/emulator/seed";
import { openTestCase } from "../../support/cases";
import { runFlz } from "../../support/cli";
import { useEmulator } from "../../support/emulator";
import { sampleEvent, useCustodyWorld } from "./fixtures";

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Ways a record's bytes can be malformed, built from a genuine record's bytes, and what verify must say. */
const KINDS: { name: string; make: (genuine: Buffer) => Buffer; reason: RegExp }[] = [
  {
    name: "a UTF-8 byte-order mark",
    make: (g) => Buffer.concat([BOM, g]),
    reason: /starts with a UTF-8 byte-order mark/,
  },
  { name: "bad JSON", make: (g) => g.subarray(0, g.length - 7), reason: /is not valid JSON/ },
  {
    name: "missing fields",
    make: () => Buffer.from('{"case":"x","sequence":3,"version":1}'),
    reason: /has no action string|has no actor string|has no time string/,
  },
  {
    name: "non-canonical bytes",
    make: (g) => Buffer.from(JSON.stringify(JSON.parse(g.toString("utf8")), null, 2)),
    reason: /is not in canonical form/,
  },
  { name: "an empty body", make: () => Buffer.alloc(0), reason: /is empty/ },
];

describe("malformed custody records: named by show, verify and export, never a crash", () => {
  useEmulator();
  const suite = useCustodyWorld();

  /** An opened case of records 0-2 whose trailing record 3 the insider writes with `bytes`. */
  async function caseWithTrailing(caseId: string, make: (genuine: Buffer) => Buffer): Promise<void> {
    const ledger = await suite.world().ledger(caseId);
    await openTestCase(ledger);
    await ledger.append(sampleEvent(0));
    await ledger.append(sampleEvent(1));
    const genuine = Buffer.from((await ledger.storedRecords())[2].bytes);
    const insider = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
    try {
      await insider.client(S3Client, { account: SEED_ACCOUNTS.forensic, region: suite.world().lz.homeRegion }).send(
        new PutObjectCommand({
          Bucket: suite.world().lz.evidenceBucket,
          Key: recordKey(caseId, 3),
          Body: make(genuine),
          ChecksumAlgorithm: "SHA256",
        }),
      );
    } finally {
      insider.destroy();
    }
  }

  for (const [i, kind] of KINDS.entries()) {
    it(`a trailing record with ${kind.name}: verify and export name it and say BROKEN; show lists the others`, async () => {
      const caseId = `IR-MALFORMED-${i}`;
      await caseWithTrailing(caseId, kind.make);

      const verify = await suite.custody("verify", caseId, "--json");
      expect(verify.code, verify.err).to.equal(1);
      const verdict = JSON.parse(verify.out) as { status: string; problem: { location: string; reason: string } };
      expect(verdict.status).to.equal("BROKEN");
      expect(verdict.problem.location).to.contain(recordKey(caseId, 3));
      expect(verdict.problem.reason).to.match(kind.reason);

      const show = await suite.custody("show", caseId);
      expect(show.code, show.err).to.equal(0);
      expect(show.out.trim().split("\n")).to.have.length(4);

      const out = path.join(suite.dir(), caseId);
      const exported = await suite.custody("export", caseId, "--out", out);
      expect(exported.code).to.equal(1);
      expect(exported.err).to.match(/does not verify: BROKEN: record 3/);
      expect(exported.err).to.not.match(/aborted|\n\s+at /);
      for (const file of ["report.html", "report.md", "case.json", "records/00000003.json"])
        expect(existsSync(path.join(out, file)), file).to.equal(true);
      expect(readFileSync(path.join(out, "report.md"), "utf8")).to.match(/\*\*Verification:\*\* BROKEN: record 3/);
      expect(JSON.parse(readFileSync(path.join(out, "case.json"), "utf8"))).to.include({ status: "BROKEN" });
    });
  }

  it("offline: every kind of damage to an exported record is named with the file and the reason", async () => {
    const caseId = "IR-MALFORMED-OFFLINE";
    const ledger = await suite.world().openedCase(caseId, 3);
    const out = path.join(suite.dir(), "export");
    expect((await suite.custody("export", caseId, "--out", out)).code).to.equal(0);
    const pem = path.join(suite.dir(), "kms.pem");
    writeFileSync(pem, await ledger.kmsPublicKey());
    const file = path.join(out, "records", "00000002.json");
    const genuine = readFileSync(file);
    for (const kind of KINDS) {
      writeFileSync(file, kind.make(genuine));
      const run = await runFlz(["custody", "verify", "--case", caseId, "--from", out, "--public-key", pem, "--json"]);
      expect(run.code, kind.name).to.equal(1);
      const verdict = JSON.parse(run.out) as { status: string; problem: { location: string; reason: string } };
      expect(verdict.status, kind.name).to.equal("BROKEN");
      expect(verdict.problem.location, kind.name).to.equal(file);
      expect(verdict.problem.reason, kind.name).to.match(kind.reason);
    }
  });
});
