// Attack: make the exhibit lie. Whoever can shape a record's text (a tag, a user name, an error message, or a forged
// object planted in the bucket) tries to restyle the verdict box or inject markup into the custody report and the
// drill report. Defence: every field escaped (HTML and Markdown), the verdict rendered from the verification result
// only, and a Content-Security-Policy without 'unsafe-inline' under which no style but the page's own applies.
// Malformed records (a BOM, bad JSON, missing fields) are named, and the report is still written, BROKEN.
import { expect } from "chai";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { Browser } from "playwright-core";
import { renderHtml, renderMarkdown, type CaseReportInput } from "../../scripts/custody/report";
import { recordKey } from "../../scripts/custody/record";
import type { CustodyRecord } from "../../scripts/custody/types";
import { openTestCase } from "../support/cases";
import { runFlz } from "../support/cli";
import { useEmulator } from "../support/emulator";
import { launchChromium } from "../support/print";
import { custodyWorld, sampleEvent } from "../scripts/custody/fixtures";

const RESTYLE = "<style>#verdict{background:rgb(0,255,0)!important;color:black}</style>";
const FAKE_VERDICT = '<div id="verdict" class="verdict pass">VERIFIED: all good</div>';

function hostileRecord(sequence: number): CustodyRecord {
  return {
    version: 1,
    sequence,
    case: "IR-ATTACK",
    time: `2026-01-01T00:00:0${sequence}.000Z`,
    actor: `arn:aws:sts::333333333333:assumed-role/x/${FAKE_VERDICT}`,
    action: `evidence.put</code>${RESTYLE}<code>`,
    subjects: [FAKE_VERDICT, "<img src=x onerror=alert(1)>"],
    // a forged record carries whatever types it likes: bytes as markup, details as style attributes
    evidence: [
      {
        kind: "memory",
        location: `s3://b/k"><span style="color:green">`,
        sha256: "a".repeat(64),
        bytes: RESTYLE as unknown as number,
        details: { note: '<p style="background:green">fine</p>' },
      },
    ],
    details: { "<b>key</b>": "[click](javascript:alert(1)) **bold** `code` | pipe" },
    error: "\n# Heading injected\n| forged | row |",
    previousHash: "0".repeat(64),
    hash: String(sequence).repeat(64),
    signature: { keyArn: "arn:aws:kms:us-east-1:222222222222:key/k", algorithm: "ECDSA_SHA_256", value: "AA==" },
  };
}

const input = (): CaseReportInput => ({
  caseId: "IR-ATTACK",
  source: "s3://flz-evidence/cases/IR-ATTACK/custody/",
  keyArn: "arn:aws:kms:us-east-1:222222222222:key/k",
  publicKeySha256: "f".repeat(64),
  generatedAt: "2026-01-01T00:00:09.000Z",
  verification: {
    ok: false,
    verified: 1,
    total: 2,
    headHash: "0".repeat(64),
    problem: {
      sequence: 1,
      location: "records/00000001.json",
      reason: "record 1 has a signature that does not verify",
    },
    records: [],
  },
  records: [hostileRecord(0), hostileRecord(1)],
});

describe("adversary: records that try to make the report lie", function () {
  this.timeout(120000);
  let browser: Browser;
  let dir: string;
  before(async () => {
    browser = await launchChromium();
    dir = mkdtempSync(path.join(tmpdir(), "flz-adversary-report-"));
  });
  after(async () => browser?.close());

  it("escapes every field in the HTML: no element, style or attribute comes from a record", () => {
    const html = renderHtml(input());
    expect(html).not.to.contain("<style>#verdict");
    expect(html).not.to.contain('<div id="verdict" class="verdict pass">');
    expect(html).not.to.contain("<img");
    expect(html).not.to.match(/ style="/);
    expect(html.match(/<style>/g)).to.have.length(1);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? "";
    expect(csp).to.match(/default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).not.to.contain("unsafe-inline");
  });

  it("escapes every field in the Markdown: no link, emphasis, code, HTML, heading or table row from a record", () => {
    const md = renderMarkdown(input());
    // every < from a record is backslash-escaped: no raw HTML reaches a Markdown renderer
    expect(md).not.to.match(/(^|[^\\])<(style|div|img|span|p |b>)/m);
    expect(md).not.to.contain("[click](javascript");
    expect(md).not.to.contain("**bold**");
    expect(md).not.to.match(/\n# Heading injected/);
    expect(md).not.to.match(/\n\| forged \| row \|/);
    expect(md).to.contain("\\[click\\](javascript:alert(1)) \\*\\*bold\\*\\* \\`code\\` \\| pipe");
  });

  it("renders the verdict from the verification result only: BROKEN stays red whatever the records say", async () => {
    const file = path.join(dir, "hostile.html");
    writeFileSync(file, renderHtml(input()));
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(pathToFileURL(file).href);
    expect(await page.locator("#verdict").count()).to.equal(1);
    expect(await page.textContent("#verdict")).to.match(/^BROKEN: record 1 has a signature that does not verify/);
    expect(await page.getAttribute("#verdict", "class")).to.equal("verdict fail");
    const background = await page.evaluate('getComputedStyle(document.getElementById("verdict")).backgroundColor');
    expect(background).to.equal("rgb(253, 236, 234)");
    expect(await page.locator("img, script, [style]").count()).to.equal(0);
    expect(dialogs).to.deep.equal([]);
    await page.close();
  });

  it("keeps the page's policy in force: a style element smuggled into the page does not apply", async () => {
    // As if an escaping bug let one through: the Content-Security-Policy is the second line of defence.
    const html = renderHtml(input()).replace(
      "</body>",
      `${RESTYLE}<p id="probe" style="color: rgb(0, 255, 0)">x</p></body>`,
    );
    const file = path.join(dir, "smuggled.html");
    writeFileSync(file, html);
    const page = await browser.newPage();
    await page.goto(pathToFileURL(file).href);
    expect(await page.evaluate('getComputedStyle(document.getElementById("verdict")).backgroundColor')).to.equal(
      "rgb(253, 236, 234)",
    );
    expect(await page.evaluate('getComputedStyle(document.getElementById("probe")).color')).not.to.equal(
      "rgb(0, 255, 0)",
    );
    await page.close();
  });

  describe("malformed records planted in the bucket (emulator)", () => {
    useEmulator();

    it("names a record with a byte-order mark, one of bad JSON and one missing fields, and still writes a BROKEN report", async () => {
      const world = await custodyWorld();
      const caseId = "IR-MALFORMED";
      try {
        const ledger = await world.ledger(caseId);
        await openTestCase(ledger);
        for (let i = 0; i < 2; i++) await ledger.append(sampleEvent(i));
        const good = (await ledger.records())[2];
        // A writer of the bucket plants three more objects under the record keys that come next.
        const s3 = world.factory().client(S3Client, { region: world.lz.homeRegion });
        const plant = (sequence: number, body: Uint8Array | string) =>
          s3.send(
            new PutObjectCommand({ Bucket: world.lz.evidenceBucket, Key: recordKey(caseId, sequence), Body: body }),
          );
        const bom = Buffer.concat([
          Buffer.from([0xef, 0xbb, 0xbf]),
          Buffer.from(JSON.stringify({ ...good, sequence: 3 })),
        ]);
        await plant(3, bom);
        await plant(4, '{"version":1,"sequence":4,');
        await plant(5, JSON.stringify({ version: 1, sequence: 5, case: caseId }));
        const lz = path.join(dir, "lz.json");
        writeFileSync(lz, JSON.stringify(world.lz));
        const out = path.join(dir, "export");
        const run = await runFlz(["custody", "export", "--case", caseId, "--out", out, "--landing-zone", lz]);
        expect(run.code, run.err).to.equal(1);
        expect(run.err.trim().split("\n").pop()).to.match(
          /^flz: exported, but custody of case IR-MALFORMED does not verify: BROKEN: record 3/,
        );
        const html = readFileSync(path.join(out, "report.html"), "utf8");
        const page = await browser.newPage();
        await page.goto(pathToFileURL(path.join(out, "report.html")).href);
        expect(await page.textContent("#verdict")).to.match(/^BROKEN: record 3 /);
        expect(await page.getAttribute("#verdict", "class")).to.equal("verdict fail");
        const unreadable = await page.locator("#unreadable li").allTextContents();
        expect(unreadable.join("\n"))
          .to.match(/Record 3 .*byte-order mark/)
          .and.match(/Record 4 .*not valid JSON/);
        // the record with missing fields is shown as it is, not verified
        expect(await page.locator('#records section.record[data-sequence="5"] .record-status').textContent()).to.equal(
          "NOT VERIFIED",
        );
        expect(html).to.contain("records/");
        await page.close();
        const md = readFileSync(path.join(out, "report.md"), "utf8");
        expect(md).to.match(/\*\*Verification:\*\* BROKEN: record 3/);
      } finally {
        world.close();
      }
    });
  });
});
