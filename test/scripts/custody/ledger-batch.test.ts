import { expect } from "chai";
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { HeadObjectCommand, ListObjectsV2Command, S3Client, type PutObjectCommandInput } from "@aws-sdk/client-s3";
import type { ClientFactory } from "../../../scripts/aws/clients";
import {
  BATCH_METADATA_KEY,
  chainEvents,
  journalKey,
  journalPrefix,
  journalProblem,
  parseBatchTag,
  type BatchTag,
  type SealedRecord,
} from "../../../scripts/custody/batch";
import { verifyChain } from "../../../scripts/custody/chain";
import { openLedger, type EvidenceBucketLedger } from "../../../scripts/custody/ledger";
import { GENESIS_HASH, recordKey, signingStatement } from "../../../scripts/custody/record";
import type { CustodyRecord } from "../../../scripts/custody/types";
import { useEmulator } from "../../support/emulator";
import { custodyWorld, sampleEvent, type CustodyWorld } from "./fixtures";

/** Runs `hook` before every PutObject the factory's S3 client sends (the ledger uses the same cached client). */
function beforePut(
  world: CustodyWorld,
  factory: ClientFactory,
  hook: (input: PutObjectCommandInput) => Promise<void>,
): void {
  const s3 = factory.client(S3Client, { region: world.lz.homeRegion });
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "PutObjectCommand") await hook(args.input as PutObjectCommandInput);
      return next(args);
    },
    { step: "initialize", name: "testBeforePut" },
  );
}

/** Lets a first append's batch set out (the ledger starts writing on the next microtask), so later ones queue behind it. */
const inFlight = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("custody ledger group commit (emulator)", () => {
  useEmulator();
  let world: CustodyWorld;
  beforeEach(async () => {
    world = await custodyWorld();
  });
  afterEach(() => world.close());

  const s3 = (): S3Client => world.factory().client(S3Client, { region: world.lz.homeRegion });
  const journals = async (caseId: string): Promise<string[]> =>
    (
      (await s3().send(new ListObjectsV2Command({ Bucket: world.lz.evidenceBucket, Prefix: journalPrefix(caseId) })))
        .Contents ?? []
    ).map((o) => o.Key ?? "");
  const tagOf = async (caseId: string, sequence: number): Promise<BatchTag | undefined> => {
    const head = await s3().send(
      new HeadObjectCommand({ Bucket: world.lz.evidenceBucket, Key: recordKey(caseId, sequence) }),
    );
    return parseBatchTag(head.Metadata?.[BATCH_METADATA_KEY]);
  };
  const verify = async (ledger: EvidenceBucketLedger, caseId: string) =>
    verifyChain(await ledger.storedRecords(), { caseId, publicKeyPem: (await ledger.storedPublicKey()) ?? "" });

  it("writes the appends of one turn as one batch: one claim, a signature per record, in order", async () => {
    const ledger = await world.ledger("IR-TURN");
    const records = await Promise.all(
      [0, 1, 2].map((i) => ledger.append({ action: "test.append", subjects: [`event-${i}`] })),
    );
    expect(records.map((r) => r.sequence)).to.deep.equal([0, 1, 2]);
    expect(await tagOf("IR-TURN", 0)).to.deep.include({ first: 0, last: 2 });
    expect(await journals("IR-TURN")).to.have.length(1);
    expect(new Set(records.map((r) => r.signature.value)).size).to.equal(3);
    const result = await verify(ledger, "IR-TURN");
    expect(result.ok, result.problem?.reason).to.equal(true);
    expect(result.verified).to.equal(3);
  });

  it("writes appends that arrive during a write as one batch, each record individually signed, in arrival order", async () => {
    const ledger = await world.ledger("IR-BATCH");
    const first = ledger.append({ action: "test.append", subjects: ["event-0"] });
    await inFlight();
    const records = [
      await first,
      ...(await Promise.all(
        [...Array(12).keys()].slice(1).map((i) => ledger.append({ action: "test.append", subjects: [`event-${i}`] })),
      )),
    ];
    expect(records.map((r) => r.sequence)).to.deep.equal([...Array(12).keys()]);
    expect(records.map((r) => r.subjects[0])).to.deep.equal([...Array(12).keys()].map((i) => `event-${i}`));
    // The first append went out alone; the eleven that queued behind it went out together.
    expect(await tagOf("IR-BATCH", 0)).to.deep.include({ first: 0, last: 0 });
    expect(await tagOf("IR-BATCH", 5)).to.deep.include({ first: 1, last: 11 });
    // Two claims: one per batch.
    expect(await journals("IR-BATCH")).to.have.length(2);
    expect(new Set(records.map((r) => r.signature.value)).size).to.equal(12);
    const result = await verify(ledger, "IR-BATCH");
    expect(result.ok, result.problem?.reason).to.equal(true);
    expect(result.verified).to.equal(12);
  });

  it("never forks with batching: 4 writers x 5 concurrent appends give one linear chain of 20", async () => {
    const writers = await Promise.all([1, 2, 3, 4].map(() => world.ledger("IR-RACE-B")));
    await Promise.all(
      writers.flatMap((ledger, w) =>
        [0, 1, 2, 3, 4].map((i) => ledger.append({ action: "test.append", subjects: [`writer-${w}`, `event-${i}`] })),
      ),
    );
    const result = await verify(writers[0], "IR-RACE-B");
    expect(result.ok, result.problem?.reason).to.equal(true);
    expect(result.verified).to.equal(20);
    expect(new Set(result.records.map((r) => r.subjects.join("/"))).size).to.equal(20);
    const tags = await Promise.all([...Array(20).keys()].map((i) => tagOf("IR-RACE-B", i)));
    expect(
      tags.some((t) => t !== undefined),
      "some records were written in batches",
    ).to.equal(true);
    expect((await journals("IR-RACE-B")).length, "fewer claims than records").to.be.lessThan(20);
    // Each writer's events keep their order in the chain.
    for (let w = 0; w < 4; w++) {
      const mine = result.records.filter((r) => r.subjects[0] === `writer-${w}`).map((r) => r.subjects[1]);
      expect(mine).to.deep.equal([0, 1, 2, 3, 4].map((i) => `event-${i}`));
    }
  });

  it("re-chains a whole batch after another writer that won its first sequence", async () => {
    const caseId = "IR-LOST-CLAIM";
    const factory = world.factory(caseId);
    const a = await openLedger({ factory, landingZone: world.lz, caseId });
    const b = await world.ledger(caseId);
    await a.append(sampleEvent(0));
    let intruder: CustodyRecord | undefined;
    beforePut(world, factory, async (input) => {
      // Just before A claims sequence 2 for its batch, B appends and takes it.
      if (!intruder && input.Key === journalKey(caseId, 2))
        intruder = await b.append({ action: "test.intruder", subjects: ["b"] });
    });
    const alone = a.append({ action: "test.append", subjects: ["a-1"] });
    await inFlight();
    const batch = [
      await alone,
      ...(await Promise.all([2, 3, 4].map((i) => a.append({ action: "test.append", subjects: [`a-${i}`] })))),
    ];
    expect(intruder?.sequence).to.be.a("number");
    // a-1 went out alone before B; a-2..a-4 were chained for sequence 2, lost it to B, and follow B.
    expect(batch.map((r) => r.sequence)).to.deep.equal([1, 3, 4, 5]);
    expect(intruder?.sequence).to.equal(2);
    const result = await verify(a, caseId);
    expect(result.ok, result.problem?.reason).to.equal(true);
    expect(result.records.map((r) => r.subjects[0])).to.deep.equal([
      sampleEvent(0).subjects[0],
      "a-1",
      "b",
      "a-2",
      "a-3",
      "a-4",
    ]);
  });

  it("completes a batch cut short (a record claimed but never stored) from its journal on the next append", async () => {
    const caseId = "IR-CUT-SHORT";
    const factory = world.factory(caseId);
    const a = await openLedger({ factory, landingZone: world.lz, caseId });
    await a.append(sampleEvent(0));
    // A's next six appends go out as record 1 alone, then a batch 2..6. Record 3 never reaches the bucket, as if A had died after writing the others.
    beforePut(world, factory, async (input) => {
      if (input.Key === recordKey(caseId, 3))
        throw Object.assign(new Error("connection reset"), { name: "NetworkingError" });
    });
    const alone = a.append({ action: "test.append", subjects: ["a-0"] });
    await inFlight();
    const settled = await Promise.allSettled([
      alone,
      ...[1, 2, 3, 4, 5].map((i) => a.append({ action: "test.append", subjects: [`a-${i}`] })),
    ]);
    const lost = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
    expect(lost).to.have.length(1);
    expect((lost[0].reason as Error).message).to.match(
      /record 3 of case IR-CUT-SHORT is claimed \(signed, in s3:\/\/.*\) but was not stored .*flz custody complete --case IR-CUT-SHORT copies it into place/,
    );
    const gap = verifyChain(await a.storedRecords(), { caseId, publicKeyPem: await a.kmsPublicKey() });
    expect(gap.ok).to.equal(false);
    expect(gap.problem?.sequence).to.equal(3);

    // Another operator's append fills the gap first (re-signed from the journal), then links after the batch.
    const b = await world.ledger(caseId);
    const next = await b.append({ action: "test.after", subjects: ["b"] });
    expect(next.sequence).to.equal(7);
    const result = await verify(b, caseId);
    expect(result.ok, result.problem?.reason).to.equal(true);
    expect(result.records.map((r) => r.subjects[0])).to.deep.equal([
      sampleEvent(0).subjects[0],
      ...[0, 1, 2, 3, 4, 5].map((i) => `a-${i}`),
      "b",
    ]);
  });

  it("completes a batch that claimed its sequences but stored none of its records, before linking after it", async () => {
    const caseId = "IR-CLAIM-ONLY";
    const factory = world.factory(caseId);
    const a = await openLedger({ factory, landingZone: world.lz, caseId });
    await a.append(sampleEvent(0));
    // A claims 1 (alone) and then 2..4, but dies before any record of 2..4 reaches the bucket.
    beforePut(world, factory, async (input) => {
      if ([2, 3, 4].some((n) => input.Key === recordKey(caseId, n)))
        throw Object.assign(new Error("connection reset"), { name: "NetworkingError" });
    });
    const alone = a.append({ action: "test.append", subjects: ["a-1"] });
    await inFlight();
    const settled = await Promise.allSettled([
      alone,
      ...[2, 3, 4].map((i) => a.append({ action: "test.append", subjects: [`a-${i}`] })),
    ]);
    expect(settled.map((s) => s.status)).to.deep.equal(["fulfilled", "rejected", "rejected", "rejected"]);
    // B sees record 1 as the last one stored; its claim of 2 meets A's, so B completes A's batch and follows it.
    const b = await world.ledger(caseId);
    const next = await b.append({ action: "test.after", subjects: ["b"] });
    expect(next.sequence).to.equal(5);
    const result = await verify(b, caseId);
    expect(result.ok, result.problem?.reason).to.equal(true);
    expect(result.records.map((r) => r.subjects[0])).to.deep.equal([
      sampleEvent(0).subjects[0],
      "a-1",
      "a-2",
      "a-3",
      "a-4",
      "b",
    ]);
  });

  it("a writer that opens the case from its own read's listing still chains after a claim made since that read", async () => {
    const caseId = "IR-READ-THEN-WRITE";
    const a = await world.ledger(caseId);
    const b = await world.ledger(caseId);
    await b.append(sampleEvent(0));
    expect(await a.records()).to.have.length(1);
    await b.append(sampleEvent(1)); // after A's listing: A's first claim (sequence 1) meets it
    const mine = await a.append({ action: "test.append", subjects: ["a"] });
    expect(mine.sequence).to.equal(2);
    const result = await verify(a, caseId);
    expect(result.ok, result.problem?.reason).to.equal(true);
    expect(result.records.map((r) => r.subjects[0])).to.deep.equal([
      sampleEvent(0).subjects[0],
      sampleEvent(1).subjects[0],
      "a",
    ]);
  });

  it("rejects only the caller of a malformed event, not the batch it would have joined", async () => {
    const ledger = await world.ledger("IR-BAD-EVENT");
    const settled = await Promise.allSettled([
      ledger.append(sampleEvent(0)),
      ledger.append({ action: "test.bad", subjects: ["x"], details: { n: Number.NaN } }),
      ledger.append(sampleEvent(1)),
      ledger.append(sampleEvent(2)),
    ]);
    expect(settled.map((s) => s.status)).to.deep.equal(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect(((settled[1] as PromiseRejectedResult).reason as Error).message).to.match(/event\.details\.n is NaN/);
    const result = await verify(ledger, "IR-BAD-EVENT");
    expect(result.ok, result.problem?.reason).to.equal(true);
    expect(result.verified).to.equal(3);
  });
});

describe("batch journal checks (pure)", () => {
  const author = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const keyArn = "arn:aws:kms:us-east-1:222222222222:key/custody";
  const publicKeyPem = author.publicKey.export({ type: "spki", format: "pem" }).toString();
  const signWith = (key: KeyObject, r: SealedRecord): CustodyRecord => ({
    ...r,
    signature: {
      keyArn,
      algorithm: "ECDSA_SHA_256",
      value: sign("sha256", signingStatement(r, keyArn), { key, dsaEncoding: "der" }).toString("base64"),
    },
  });
  const sealed = chainEvents(
    [sampleEvent(1), sampleEvent(2), sampleEvent(3)],
    { sequence: 4, hash: GENESIS_HASH.replace(/0$/, "1") },
    { caseId: "IR-J", actor: "arn:aws:sts::222222222222:assumed-role/R/s", time: "2026-03-02T09:00:00.000Z" },
  );
  const records = sealed.map((r) => signWith(author.privateKey, r));
  const journal = { version: 2, case: "IR-J", first: 5, last: 7, records };
  const wanted = { caseId: "IR-J", first: 5, publicKeyPem };

  it("accepts the journal of a batch, every record signed by its author", () => {
    expect(journalProblem(journal, wanted)).to.equal(undefined);
    expect(journalProblem(journal, { ...wanted, previousHash: sealed[0].previousHash })).to.equal(undefined);
  });

  it("refuses a journal that could put a record into the chain that was never claimed", () => {
    const changed = { ...records[1], subjects: ["forged"] };
    expect(journalProblem({ ...journal, records: [records[0], changed, records[2]] }, wanted)).to.match(
      /record 6 has hash .* but its contents hash to/,
    );
    expect(journalProblem({ ...journal, records: [records[0], records[2], records[1]] }, wanted)).to.match(
      /claims sequence/,
    );
    expect(journalProblem({ ...journal, case: "IR-K" }, wanted)).to.match(/belongs to case "IR-K"/);
    expect(journalProblem(journal, { ...wanted, first: 6 })).to.match(/starts at 5, not at 6/);
    expect(journalProblem({ ...journal, records: records.slice(0, 2) }, wanted)).to.match(
      /does not hold the records 5-7/,
    );
    expect(journalProblem(journal, { ...wanted, previousHash: GENESIS_HASH })).to.match(/record 5 does not link/);
  });

  it("refuses records signed by anyone but the custody key, unsigned records, and version 1 journals", () => {
    const forger = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const forged = [records[0], signWith(forger.privateKey, sealed[1]), records[2]];
    expect(journalProblem({ ...journal, records: forged }, wanted)).to.match(
      /record 6 has a signature that does not verify with the custody public key/,
    );
    expect(journalProblem({ ...journal, records: sealed }, wanted)).to.match(/record 5 has no signature/);
    expect(journalProblem({ ...journal, version: 1, records: sealed }, wanted)).to.match(/version 1 journal/);
    expect(journalProblem(journal, { ...wanted, publicKeyPem: undefined })).to.match(/cannot be checked/);
  });

  it("reads only well-formed batch tags", () => {
    expect(parseBatchTag("5-7-0123456789abcdef")).to.deep.equal({ first: 5, last: 7, firstHash: "0123456789abcdef" });
    expect(parseBatchTag("5-5-0123456789abcdef")).to.deep.equal({ first: 5, last: 5, firstHash: "0123456789abcdef" });
    expect(parseBatchTag(undefined)).to.equal(undefined);
    expect(parseBatchTag("7-5-0123456789abcdef")).to.equal(undefined);
    expect(parseBatchTag("5-7-xyz")).to.equal(undefined);
  });
});
