// The export report rendered in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core).
import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { runExport } from "../../../scripts/commands/custody";
import { renderHtml } from "../../../scripts/custody/report";
import { useEmulator } from "../../support/emulator";
import { captureIo } from "../hash/io";
import { openTestCase } from "../../support/cases";
import { custodyWorld, sampleEvent } from "./fixtures";

const CHROMIUM = process.env.FLZ_CHROMIUM ?? "/usr/bin/chromium";
const SCREENSHOTS = path.join(__dirname, "..", "..", "..", "test-results");

describe("custody report in headless Chromium", function () {
  this.timeout(120000);
  useEmulator();
  let browser: Browser;
  let dir: string;
  before(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    dir = mkdtempSync(path.join(tmpdir(), "flz-report-"));
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("renders the case ID, every record, every artefact and the verdict, and runs nothing from the records", async () => {
    const world = await custodyWorld();
    const caseId = "IR-2026-REPORT";
    const ledger = await world.ledger(caseId);
    const records = 8;
    await openTestCase(ledger);
    for (let i = 0; i < records - 2; i++) await ledger.append(sampleEvent(i));
    // text from the incident ends up in records: it must be shown, never executed
    await ledger.append({
      action: "capture.instance.described",
      subjects: ["<img src=x onerror=\"document.title='pwned'\">", "<script>document.title='pwned'</script>"],
    });
    const lz = path.join(dir, "lz.json");
    writeFileSync(lz, JSON.stringify(world.lz));
    const out = path.join(dir, "export");
    await runExport({ case: caseId, out, landingZone: lz }, captureIo());
    world.close();

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(pathToFileURL(path.join(out, "report.html")).href);
    expect(await page.textContent("#case-id")).to.equal(caseId);
    expect(await page.title()).to.equal(`Chain of custody: ${caseId}`);
    const verdict = page.locator("#verdict");
    expect(await verdict.textContent()).to.match(
      new RegExp(`^VERIFIED: ${records} records, chain intact, every signature valid`),
    );
    expect(await verdict.getAttribute("class")).to.contain("pass");
    const sequences = await page
      .locator("#timeline tbody tr")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-sequence")));
    expect(sequences).to.deep.equal([...Array(records).keys()].map(String));
    const statuses = await page.locator("#timeline tbody tr td:last-child").allTextContents();
    expect(await page.locator("#records section.record").count()).to.equal(records);
    expect(statuses).to.deep.equal(Array(records).fill("verified"));
    const body = (await page.textContent("body")) ?? "";
    expect(body).to.contain("<script>document.title='pwned'</script>");
    expect(body).to.contain("ab".repeat(32)); // the artefact hash of the snapshot evidence
    expect(await page.locator("img").count()).to.equal(0);
    expect(dialogs).to.deep.equal([]);
    await page.screenshot({ path: path.join(SCREENSHOTS, "custody-report.png"), fullPage: true });
    await page.close();
  });

  it("renders a broken chain with a failing verdict and unverified records marked", async () => {
    const html = renderHtml({
      caseId: "IR-BROKEN",
      source: "/evidence/IR-BROKEN",
      keyArn: "arn:aws:kms:us-east-1:222222222222:key/k",
      publicKeySha256: "f".repeat(64),
      generatedAt: "2026-01-01T00:00:00.000Z",
      verification: {
        ok: false,
        verified: 1,
        total: 2,
        headHash: "a".repeat(64),
        problem: {
          sequence: 1,
          location: "records/00000001.json",
          reason: "record 1 has a signature that does not verify with the custody public key",
        },
        records: [],
      },
      records: [0, 1].map((sequence) => ({
        version: 1 as const,
        sequence,
        case: "IR-BROKEN",
        time: `2026-01-01T00:00:0${sequence}.000Z`,
        actor: "arn:aws:sts::222222222222:assumed-role/FlzForensicResponder/flz-IR-BROKEN",
        action: "evidence.put",
        subjects: [`s3://b/${sequence}`],
        previousHash: "0".repeat(64),
        hash: String(sequence).repeat(64),
        signature: {
          keyArn: "arn:aws:kms:us-east-1:222222222222:key/k",
          algorithm: "ECDSA_SHA_256" as const,
          value: "AA==",
        },
      })),
    });
    const file = path.join(dir, "broken.html");
    writeFileSync(file, html);
    const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    await page.goto(pathToFileURL(file).href);
    expect(await page.locator("#verdict").getAttribute("class")).to.contain("fail");
    expect(await page.textContent("#verdict")).to.contain("BROKEN: record 1 has a signature that does not verify");
    expect(await page.locator("#timeline tbody tr td:last-child").allTextContents()).to.deep.equal([
      "verified",
      "NOT VERIFIED",
    ]);
    await page.screenshot({ path: path.join(SCREENSHOTS, "custody-report-broken.png"), fullPage: true });
    await page.close();
  });
});
