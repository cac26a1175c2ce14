/**
 * Benchmark: what `flz custody verify` costs per record on a case of 5,000 records, against the emulator.
 *
 * The case is written as the ledger writes it (a journal per batch of 250, each record canonical, chained, signed,
 * under explicit COMPLIANCE retention), signed with a local P-256 key that verify is given as the examiner's
 * `--public-key` (KMS signing 5,000 records in the emulator would only slow the set-up; verify's work is the same).
 * Then, in the same run:
 * - reference: the least any verifier must do online, a plain ListObjectsV2 and one GetObject per record (same
 *   concurrency), nothing checked;
 * - verify online: every version and delete marker listed, every version read with its retention, the audit, the
 *   chain and every signature;
 * - verify offline: the exported folder (local files), the chain and every signature.
 * Prints milliseconds per record and the ratio of online verify to the reference.
 *
 * Run: npx ts-node --transpile-only bench/custody-verify.ts   (FLZ_BENCH_RECORDS to change the size)
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import pLimit from "p-limit";
import { ClientFactory } from "../scripts/aws/clients";
import { runExport, runVerify } from "../scripts/commands/custody";
import { batchTagOf, chainEvents, formatBatchTag, journalKey, serialiseJournal } from "../scripts/custody/batch";
import { custodyPrefix, GENESIS_HASH, recordKey, serialiseRecord, signingStatement } from "../scripts/custody/record";
import { retainUntilFor } from "../scripts/custody/retention";
import { sha256Base64 } from "../scripts/custody/store";
import type { CustodyRecord } from "../scripts/custody/types";
import { benchEmulator } from "./support/emulator";
import { seedLandingZone } from "../scripts/emulator/seed";
import type { Io } from "../scripts/output";
import { Writable } from "node:stream";

const RECORDS = Number(process.env.FLZ_BENCH_RECORDS ?? 5000);
const BATCH = 250;
const CASE = "BENCH-VERIFY";

function quietIo(): Io {
  const sink = new Writable({ write: (_c, _e, done) => done() });
  return { out: sink, err: sink, isTty: false };
}

async function main(): Promise<void> {
  const emulator = await benchEmulator();
  const dir = mkdtempSync(path.join(tmpdir(), "flz-bench-verify-"));
  const lz = await seedLandingZone();
  const factory = new ClientFactory({ forensicRoleArn: lz.forensicResponderRoleArn });
  try {
    const lzFile = path.join(dir, "lz.json");
    writeFileSync(lzFile, JSON.stringify(lz));
    const key = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pemFile = path.join(dir, "custody.pem");
    writeFileSync(pemFile, key.publicKey.export({ type: "spki", format: "pem" }));
    const s3 = factory.client(S3Client, { region: lz.homeRegion });
    const limit = pLimit(32);
    const retainUntil = retainUntilFor(new Date(), 365);
    const put = (k: string, body: string, metadata?: Record<string, string>) =>
      limit(() =>
        s3.send(
          new PutObjectCommand({
            Bucket: lz.evidenceBucket,
            Key: k,
            Body: body,
            Metadata: metadata,
            IfNoneMatch: "*",
            ChecksumAlgorithm: "SHA256",
            ChecksumSHA256: sha256Base64(body),
            ObjectLockMode: "COMPLIANCE",
            ObjectLockRetainUntilDate: retainUntil,
          }),
        ),
      );

    const started = performance.now();
    let head = { sequence: -1, hash: GENESIS_HASH };
    for (let first = 0; first < RECORDS; first += BATCH) {
      const events = Array.from({ length: Math.min(BATCH, RECORDS - first) }, (_, i) => ({
        action: "bench.event",
        subjects: [`event-${first + i}`],
        details: { step: first + i, note: "a record of ordinary size, with a few details" },
      }));
      const sealed = chainEvents(events, head, {
        caseId: CASE,
        actor: "arn:aws:sts::222222222222:assumed-role/R/s",
        time: new Date().toISOString(),
      });
      const signed: CustodyRecord[] = sealed.map((r) => ({
        ...r,
        signature: {
          keyArn: lz.custodySigningKeyArn,
          algorithm: "ECDSA_SHA_256",
          value: sign("sha256", signingStatement(r, lz.custodySigningKeyArn), {
            key: key.privateKey,
            dsaEncoding: "der",
          }).toString("base64"),
        },
      }));
      await put(journalKey(CASE, first), serialiseJournal(CASE, signed));
      const tag = formatBatchTag(batchTagOf(signed));
      await Promise.all(signed.map((r) => put(recordKey(CASE, r.sequence), serialiseRecord(r), { "flz-batch": tag })));
      const last = signed[signed.length - 1];
      head = { sequence: last.sequence, hash: last.hash };
    }
    console.log(
      `custody verify at ${RECORDS} records (written in ${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );

    // Reference: list the records and read each once, nothing checked.
    const refStart = performance.now();
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: lz.evidenceBucket, Prefix: custodyPrefix(CASE), ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    await Promise.all(
      keys.map((k) =>
        limit(async () => {
          const res = await s3.send(new GetObjectCommand({ Bucket: lz.evidenceBucket, Key: k }));
          await res.Body?.transformToByteArray();
        }),
      ),
    );
    const reference = performance.now() - refStart;

    const onlineStart = performance.now();
    const online = await runVerify({ case: CASE, landingZone: lzFile, publicKey: pemFile, json: true }, quietIo());
    const onlineMs = performance.now() - onlineStart;
    if (online.status !== "VERIFIED" || online.verified !== RECORDS) throw new Error(`verify said ${online.verdict}`);

    const out = path.join(dir, "export");
    await runExport({ case: CASE, landingZone: lzFile, out }, quietIo()).catch(() => undefined);
    const offlineStart = performance.now();
    const offline = await runVerify({ case: CASE, from: out, publicKey: pemFile, json: true }, quietIo());
    const offlineMs = performance.now() - offlineStart;
    if (offline.status !== "VERIFIED") throw new Error(`offline verify said ${offline.verdict}`);

    const per = (ms: number) => `${(ms / RECORDS).toFixed(3)} ms/record`;
    console.log(
      `reference (list + one GetObject per record, nothing checked): ${(reference / 1000).toFixed(2)} s, ${per(reference)}`,
    );
    console.log(
      `verify online (every version, retention, audit, chain, signatures): ${(onlineMs / 1000).toFixed(2)} s, ${per(onlineMs)}`,
    );
    console.log(
      `verify offline (exported folder, chain, signatures): ${(offlineMs / 1000).toFixed(2)} s, ${per(offlineMs)}`,
    );
    console.log(`ratio: online verify costs ${(onlineMs / reference).toFixed(2)}x the bare read of every record`);
  } finally {
    factory.destroy();
    rmSync(dir, { recursive: true, force: true });
    await emulator.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
