import { readFileSync, writeFileSync } from "node:fs";
import { renderHtml, type DrillReport } from "../scripts/drill/report";
import { launchChromium, printToPdf } from "../test/support/print";
(async () => {
  const report = JSON.parse(readFileSync("/tmp/wf/drill1/drill-report.json", "utf8")) as DrillReport;
  writeFileSync("/tmp/wf/drill1/re.html", renderHtml(report));
  const b = await launchChromium();
  const p = await printToPdf(b, "/tmp/wf/drill1/re.html");
  const missing = report.runbook.timeline.filter((t) => !p.text.includes(t.hash ?? "x")).map((t) => t.sequence);
  console.log(p.pages, p.overflowing, "missing", missing);
  const page = await b.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto("file:///tmp/wf/drill1/re.html");
  console.log("width", await page.evaluate("document.documentElement.scrollWidth"));
  await page.screenshot({ path: "/tmp/wf/drill1/shot.png", fullPage: false });
  await page.emulateMedia({ media: "print" });
  await page.setViewportSize({ width: 710, height: 1000 });
  await page.screenshot({ path: "/tmp/wf/drill1/print.png", fullPage: false });
  await b.close();
})();
