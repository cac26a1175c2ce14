// The custody export's report as an exhibit on paper: printed to an A4 PDF in headless Chromium, every column fits
// and every record hash is in the PDF's text. (The drill report's print check is in test/scripts/drill/drill.test.ts.)
import { expect } from "chai";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Browser } from "playwright-core";
import { runFlz } from "../support/cli";
import { useEmulator } from "../support/emulator";
import { launchChromium, printToPdf } from "../support/print";
import { custodyWorld, sampleEvent } from "../scripts/custody/fixtures";

describe("flz custody export on A4 (emulator, headless Chromium)", function () {
  this.timeout(120000);
  useEmulator();
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => browser?.close());

  it("prints every column and every record hash, with record details, inventory, re-verification steps and glossary", async () => {
    const world = await custodyWorld();
    const dir = mkdtempSync(path.join(tmpdir(), "flz-exhibit-"));
    const lz = path.join(dir, "lz.json");
    writeFileSync(lz, JSON.stringify(world.lz));
    const caseId = "IR-2026-EXHIBIT";
    try {
      const open = await runFlz([
        "case",
        "open",
        caseId,
        "--title",
        "A4 exhibit",
        "--aware-at",
        "now",
        "--landing-zone",
        lz,
      ]);
      expect(open.code, open.err).to.equal(0);
      const ledger = await world.ledger(caseId);
      for (let i = 0; i < 12; i++) await ledger.append(sampleEvent(i));
      const out = path.join(dir, "export");
      const run = await runFlz(["custody", "export", "--case", caseId, "--out", out, "--landing-zone", lz]);
      expect(run.code, run.err).to.equal(0);
      const hashes = readdirSync(path.join(out, "records")).map(
        (f) => (JSON.parse(readFileSync(path.join(out, "records", f), "utf8")) as { hash: string }).hash,
      );
      expect(hashes).to.have.length(13);
      const printed = await printToPdf(browser, path.join(out, "report.html"));
      expect(printed.overflowing, "elements wider than an A4 page").to.deep.equal([]);
      expect(hashes.filter((h) => !printed.text.includes(h))).to.deep.equal([]);
      for (const heading of [
        "Records in detail",
        "Evidence inventory",
        "How an examiner re-verifies, offline",
        "Glossary",
      ])
        expect(printed.text).to.contain(heading);
      expect(printed.text).to.contain("ab".repeat(32)); // an evidence hash of the inventory
    } finally {
      world.close();
    }
  });
});
