import { launchChromium, printToPdf } from "../test/support/print";
(async () => {
  const b = await launchChromium();
  for (const f of process.argv.slice(2)) {
    const p = await printToPdf(b, f);
    console.log(f, p.pages, p.overflowing.slice(0, 10), p.text.length);
  }
  await b.close();
})();
