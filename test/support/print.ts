/**
 * Exhibits on paper: opens an HTML report in headless Chromium (Debian's, driven by playwright-core), checks that at
 * the width of an A4 page nothing sticks out (no column cut off), prints it to an A4 PDF, and extracts the PDF's text
 * (pdf-parse) so a test can look for every record hash in what was actually printed.
 */
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { PDFParse } from "pdf-parse";
import { chromium, type Browser } from "playwright-core";

/** Where Chromium is (npm test's pretest installs Debian's when missing). */
export const CHROMIUM = process.env.FLZ_CHROMIUM ?? "/usr/bin/chromium";

/** Starts headless Chromium; throws naming the fix when it is missing (never a silent skip: the check runs in CI). */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium not found at ${CHROMIUM}: run npm test (its pretest installs Debian's chromium), or set FLZ_CHROMIUM`,
    );
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** What printing a report found. */
export interface Printed {
  /** The PDF's text. */
  readonly text: string;
  /** Pages. */
  readonly pages: number;
  /** Elements wider than the printable width of A4 (tag#id.class and widths); empty when every column fits. */
  readonly overflowing: string[];
}

/** A4's printable width at the exhibits' margins (210 mm - 2 x 11 mm), in CSS pixels (96 per inch). */
const A4_CONTENT_PX = Math.floor(((210 - 22) / 25.4) * 96);

/**
 * Prints an HTML file to an A4 PDF and extracts its text.
 *
 * @param browser a running Chromium.
 * @param file the HTML file.
 */
export async function printToPdf(browser: Browser, file: string): Promise<Printed> {
  const page = await browser.newPage({ viewport: { width: A4_CONTENT_PX, height: 1100 } });
  try {
    await page.goto(pathToFileURL(file).href);
    await page.emulateMedia({ media: "print" });
    // Run in the page (a string, as this project compiles without the DOM library): every element that reaches past
    // the printable width, or whose content is wider than its box (a cut-off column), is named.
    const overflowing = (await page.evaluate(`(() => {
      const limit = ${A4_CONTENT_PX};
      const out = [];
      for (const el of Array.from(document.querySelectorAll("body, body *"))) {
        const rect = el.getBoundingClientRect();
        const cut = el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1;
        if (rect.right > limit + 1 || cut)
          out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " right " + Math.round(rect.right) + " scroll " + el.scrollWidth + "/" + el.clientWidth);
      }
      return out;
    })()`)) as string[];
    const pdf = await page.pdf({ format: "A4", printBackground: true, preferCSSPageSize: true });
    const parser = new PDFParse({ data: new Uint8Array(pdf) });
    try {
      const result = await parser.getText();
      return { text: result.text, pages: result.total, overflowing };
    } finally {
      await parser.destroy();
    }
  } finally {
    await page.close();
  }
}
