/**
 * Every rule test also asks the live pack (started as the Pulumi CLI starts it, spoken to over the Analyzer
 * protocol) and requires its verdict to equal the in-process evaluator's: the whole rule test corpus is the
 * protocol test's corpus. One pack process serves the whole mocha run; it is stopped, and the agreement count
 * printed, after the last test.
 */
import { expect } from "chai";
import type { PolicyVerdict } from "../../../scripts/plan/evaluate";
import type { RecordedResource } from "../../../scripts/plan/mock-engine";
import { startLivePack, type LivePack } from "./live-pack";
import { comparable, verdictsOverProtocol, type ProtocolOptions } from "./protocol";

let pack: Promise<LivePack> | undefined;

/** Per rule, how many compliant (`pass`) and violating (`fail`) cases the rule tests asserted in this run. */
export const caseCounts = new Map<string, { pass: number; fail: number }>();

/** Counts one asserted case of a rule (for the printed summary). */
export function countCase(rule: string, outcome: "pass" | "fail"): void {
  const entry = caseCounts.get(rule) ?? { pass: 0, fail: 0 };
  entry[outcome] += 1;
  caseCounts.set(rule, entry);
}

/** How many evaluations and rule verdicts the live pack agreed on in this run. */
export const agreement = { evaluations: 0, verdicts: 0 };

/** The shared live pack, started on first use. */
export function livePack(): Promise<LivePack> {
  pack ??= startLivePack();
  return pack;
}

/**
 * Asserts that the live pack gives, over the protocol, the same verdicts `evaluatePack` gave in process.
 *
 * @param resources what was evaluated.
 * @param options the same rules, config, preview mode.
 * @param inProcess the in-process verdicts, in rule order.
 */
export async function expectProtocolAgrees(
  resources: readonly RecordedResource[],
  options: ProtocolOptions,
  inProcess: readonly PolicyVerdict[],
): Promise<void> {
  const live = await verdictsOverProtocol(await livePack(), resources, options);
  expect(live.map(comparable), "verdicts of the live pack over the Analyzer protocol").to.deep.equal(
    inProcess.map(comparable),
  );
  agreement.evaluations += 1;
  agreement.verdicts += live.length;
}

// Started before the first test, with time to spare: type-checking the pack is the slow part, and a busy machine
// must not turn it into a test timeout.
before(function startPack() {
  this.timeout(600_000);
  return livePack().then(() => undefined);
});

after(async function stopLivePack() {
  this.timeout(30_000);
  if (!pack) return;
  const running = await pack.catch(() => undefined);
  await running?.close();
  if (caseCounts.size > 0)
    console.log(
      `  rule cases asserted (compliant/violating): ${[...caseCounts.entries()]
        .map(([rule, c]) => `${rule} ${c.pass}/${c.fail}`)
        .join(", ")}`,
    );
  if (agreement.evaluations === 0) return;
  // Printed for the closing note: how much of the corpus went through the protocol, all of it in agreement.
  console.log(
    `  live policy pack over the Analyzer protocol: ${agreement.evaluations} evaluations, ${agreement.verdicts} rule verdicts, all equal to the in-process evaluator's`,
  );
});
