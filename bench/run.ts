/**
 * `npm run bench [-- <name>...]`: runs the benchmarks one after another, each in its own process (so one's memory
 * and sockets never skew the next), and prints their own ratio lines. With no names, runs them all.
 * Each benchmark measures its reference (openssl, sha256sum, a 1-volume capture, ...) in the same run.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import * as path from "node:path";

const available = readdirSync(__dirname)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts")
  .map((f) => f.replace(/\.ts$/, ""))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown benchmark ${unknown.join(", ")}; valid: ${available.join(", ")}\n`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : available) {
  process.stdout.write(`\n== bench/${name}\n`);
  const result = spawnSync(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", path.join(__dirname, `${name}.ts`)],
    {
      stdio: "inherit",
    },
  );
  if (result.status !== 0) failed += 1;
}
process.exit(failed > 0 ? 1 : 0);
