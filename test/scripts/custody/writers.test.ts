import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { verifyChain } from "../../../scripts/custody/chain";
import { openTestCase } from "../../support/cases";
import { runWriters } from "../../support/custody-writers";
import { useEmulator } from "../../support/emulator";
import { custodyWorld, type CustodyWorld } from "./fixtures";

describe("custody ledger liveness: concurrent writers in separate processes (emulator)", () => {
  useEmulator();
  let world: CustodyWorld;
  let dir: string;
  beforeEach(async () => {
    world = await custodyWorld();
    dir = mkdtempSync(path.join(tmpdir(), "flz-writers-"));
  });
  afterEach(() => {
    world.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("8 writer processes appending one record after another to one case all succeed: nothing lost, nothing twice, one chain", async function () {
    this.timeout(300000);
    const file = path.join(dir, "lz.json");
    writeFileSync(file, JSON.stringify(world.lz));
    const ledger = await world.ledger("IR-WRITERS");
    await openTestCase(ledger);
    const { reports } = await runWriters({ landingZoneFile: file, caseId: "IR-WRITERS", writers: 8, appends: 4 });
    expect(reports.flatMap((r) => r.errors)).to.deep.equal([]);
    const chain = verifyChain(await ledger.storedRecords(), {
      caseId: "IR-WRITERS",
      publicKeyPem: await ledger.kmsPublicKey(),
    });
    expect(chain.ok, chain.problem?.reason).to.equal(true);
    expect(chain.total).to.equal(1 + 8 * 4);
    const subjects = chain.records.slice(1).map((r) => r.subjects[0]);
    expect(new Set(subjects).size, "no event twice").to.equal(8 * 4);
    // Every writer's events are in the chain in its own order, at the sequences it was told.
    for (const r of reports) {
      const mine = chain.records.filter((c) => c.subjects[0].startsWith(`writer-${r.writer}/`));
      expect(mine.map((c) => c.subjects[0])).to.deep.equal(r.appended.map((a) => a.subject));
      expect(mine.map((c) => c.sequence)).to.deep.equal(r.appended.map((a) => a.sequence));
    }
  });
});
