/**
 * Benchmark: ledger liveness under concurrency. 8 writers, each in its own process, append 50 records each (one after
 * another, awaited) to one case at the same moment, against the emulator. Prints lost appends (failed, or absent
 * from the chain), duplicated records (one event recorded twice), records per second, and the same single writer's
 * records per second as the reference measured in the same run (ratio = aggregate throughput of 8 contending writers
 * over one uncontended writer). Target: 0 lost, 0 duplicated, chain VERIFIED.
 *
 * Run: npx ts-node --transpile-only bench/custody-writers.ts   (FLZ_BENCH_WRITERS, FLZ_BENCH_APPENDS to change)
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ClientFactory } from "../scripts/aws/clients";
import { loadLandingZone } from "../scripts/contract";
import { verifyChain } from "../scripts/custody/chain";
import { openLedger } from "../scripts/custody/ledger";
import { benchEmulator } from "./support/emulator";
import { seedLandingZone } from "../scripts/emulator/seed";
import { openTestCase } from "../test/support/cases";
import { runWriters, type WritersOutcome } from "../test/support/custody-writers";

const WRITERS = Number(process.env.FLZ_BENCH_WRITERS ?? 8);
const APPENDS = Number(process.env.FLZ_BENCH_APPENDS ?? 50);

interface Tally {
  readonly lost: number;
  readonly duplicated: number;
  readonly records: number;
  readonly perSecond: number;
  readonly verified: boolean;
  readonly errors: string[];
  readonly requestsPerRecord: string;
}

async function scenario(file: string, caseId: string, writers: number): Promise<Tally> {
  const lz = loadLandingZone(file);
  const factory = new ClientFactory({ caseId, forensicRoleArn: lz.forensicResponderRoleArn });
  try {
    const ledger = await openLedger({ factory, landingZone: lz, caseId });
    await openTestCase(ledger);
    const outcome: WritersOutcome = await runWriters({ landingZoneFile: file, caseId, writers, appends: APPENDS });
    const chain = verifyChain(await ledger.storedRecords(), { caseId, publicKeyPem: await ledger.kmsPublicKey() });
    const subjects = chain.records.slice(1).map((r) => r.subjects[0]);
    const seen = new Map<string, number>();
    for (const s of subjects) seen.set(s, (seen.get(s) ?? 0) + 1);
    const wanted = writers * APPENDS;
    const present = [...seen.keys()].filter((s) => s.startsWith("writer-")).length;
    return {
      lost: wanted - present,
      duplicated: [...seen.values()].filter((n) => n > 1).reduce((a, n) => a + n - 1, 0),
      records: subjects.length,
      perSecond: subjects.length / (outcome.elapsedMs / 1000),
      verified: chain.ok,
      errors: outcome.reports.flatMap((r) => r.errors),
      requestsPerRecord: perRecord(outcome, subjects.length),
    };
  } finally {
    factory.destroy();
  }
}

/** AWS requests per record appended, by command, over every writer. */
function perRecord(outcome: WritersOutcome, records: number): string {
  const total: Record<string, number> = {};
  for (const r of outcome.reports)
    for (const [name, n] of Object.entries(r.requests)) total[name] = (total[name] ?? 0) + n;
  return Object.entries(total)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name.replace(/Command$/, "")} ${(n / Math.max(1, records)).toFixed(1)}`)
    .join(", ");
}

async function main(): Promise<void> {
  const emulator = await benchEmulator();
  const dir = mkdtempSync(path.join(tmpdir(), "flz-bench-writers-"));
  try {
    const file = path.join(dir, "lz.json");
    writeFileSync(file, JSON.stringify(await seedLandingZone()));
    console.log(`custody ledger, ${WRITERS} writer processes x ${APPENDS} appends each (awaited one by one), one case`);
    const one = await scenario(file, "BENCH-WRITERS-1", 1);
    const many = await scenario(file, `BENCH-WRITERS-${WRITERS}`, WRITERS);
    for (const [label, t] of [
      ["1 writer ", one],
      [`${WRITERS} writers`, many],
    ] as const) {
      console.log(
        `${label}: ${t.records} records, lost ${t.lost}, duplicated ${t.duplicated}, ${t.perSecond.toFixed(1)} records/s, chain ${t.verified ? "VERIFIED" : "NOT VERIFIED"}${t.errors.length ? `; first error: ${t.errors[0]}` : ""}\n  requests per record: ${t.requestsPerRecord}`,
      );
    }
    console.log(
      `ratio: ${WRITERS} contending writers deliver ${(many.perSecond / one.perSecond).toFixed(2)}x the records per second of 1 writer (target: 0 lost, 0 duplicated)`,
    );
    if (many.lost > 0 || many.duplicated > 0 || !many.verified) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await emulator.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
