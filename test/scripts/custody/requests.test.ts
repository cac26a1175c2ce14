import { expect } from "chai";
import { KMSClient } from "@aws-sdk/client-kms";
import { S3Client } from "@aws-sdk/client-s3";
import { STSClient } from "@aws-sdk/client-sts";
import type { ClientFactory } from "../../../scripts/aws/clients";
import { verifyChain } from "../../../scripts/custody/chain";
import { regionOfKeyArn, type EvidenceBucketLedger } from "../../../scripts/custody/ledger";
import { openTestCase } from "../../support/cases";
import { useEmulator } from "../../support/emulator";
import { custodyWorld, type CustodyWorld } from "./fixtures";

/**
 * What a record costs in AWS requests. S3 and KMS bill every request (S3 a LIST at 12.5 times a GET), and a responder
 * appends and re-reads the case's chain all along an incident: the way every command uses the ledger is to read the
 * chain (its intents), act, and record what it did. These tests count the requests the ledger sends for that pattern,
 * per record appended, for one writer and for several writers on one case at once, and bound them by what the
 * protocol needs: one Sign and two conditional creates (the batch's journal claim and the record) per record, the
 * retention read back of both, and per read of the chain one listing plus a read of each object version the reader
 * has not seen yet (a version never changes). They were written against a ledger that re-read every record of the
 * case, and listed two prefixes, on every read of the chain.
 */
describe("custody ledger: AWS requests per appended record (emulator)", () => {
  useEmulator();
  let world: CustodyWorld;
  beforeEach(async () => {
    world = await custodyWorld();
  });
  afterEach(() => world.close());

  /** A ledger whose S3, KMS and STS requests are counted by command, from the moment it is opened. */
  async function countedLedger(
    caseId: string,
  ): Promise<{ ledger: EvidenceBucketLedger; requests: Record<string, number> }> {
    const factory: ClientFactory = world.factory(caseId);
    const requests: Record<string, number> = {};
    const count = (client: S3Client | KMSClient | STSClient): void => {
      (client.middlewareStack as S3Client["middlewareStack"]).add(
        (next, context) => async (args) => {
          const name = (context.commandName ?? "?").replace(/Command$/, "");
          requests[name] = (requests[name] ?? 0) + 1;
          return next(args);
        },
        { step: "initialize", name: "testCountRequests" },
      );
    };
    count(factory.client(S3Client, { region: world.lz.homeRegion }));
    count(factory.client(KMSClient, { region: regionOfKeyArn(world.lz.custodySigningKeyArn) }));
    count(factory.client(STSClient, { region: world.lz.homeRegion }));
    const { openLedger } = await import("../../../scripts/custody/ledger");
    return { ledger: await openLedger({ factory, landingZone: world.lz, caseId }), requests };
  }

  /** Read the chain, then record: `appends` times. */
  async function readThenRecord(ledger: EvidenceBucketLedger, writer: number, appends: number): Promise<void> {
    for (let i = 0; i < appends; i++) {
      await ledger.records();
      await ledger.append({ action: "test.step", subjects: [`writer-${writer}/step-${i}`] });
    }
  }

  it("one writer: one Sign, two creates, two retention checks per record, one listing per read, nothing read twice", async function () {
    this.timeout(120000);
    const caseId = "IR-REQUESTS-1";
    await openTestCase(await world.ledger(caseId));
    const { ledger, requests } = await countedLedger(caseId);
    const appends = 12;
    await readThenRecord(ledger, 0, appends);
    expect((await ledger.records()).length).to.equal(1 + appends);
    // Once per process: who signs, the trusted key, the bucket's retention.
    expect(requests.GetCallerIdentity, "caller identity").to.equal(1);
    expect(requests.GetPublicKey, "public key").to.equal(1);
    expect(requests.GetObjectLockConfiguration ?? 0, "lock configuration").to.be.at.most(1);
    expect(requests.Sign, "KMS Sign").to.equal(appends);
    expect(requests.PutObject, "PutObject (journal + record; the public key copy once)").to.be.at.most(2 * appends + 1);
    expect(requests.HeadObject, "retention read back").to.be.at.most(2 * appends + 1);
    // One listing per read of the chain (13 reads), and one when the writer opens the case.
    expect(requests.ListObjectVersions, "ListObjectVersions").to.be.at.most(appends + 2);
    // Record 0 (written by another ledger) and its journal, read once each; the writer's own records never.
    expect(requests.GetObject ?? 0, "GetObject").to.be.at.most(3);
  });

  it("four writers on one case: each reads another's record once, and what it follows of their claims", async function () {
    this.timeout(240000);
    const caseId = "IR-REQUESTS-4";
    await openTestCase(await world.ledger(caseId));
    const writers = await Promise.all([0, 1, 2, 3].map(() => countedLedger(caseId)));
    const appends = 6;
    await Promise.all(writers.map((w, i) => readThenRecord(w.ledger, i, appends)));
    const chain = verifyChain(await writers[0].ledger.storedRecords(), {
      caseId,
      publicKeyPem: await writers[0].ledger.kmsPublicKey(),
    });
    expect(chain.ok, chain.problem?.reason).to.equal(true);
    const records = writers.length * appends;
    expect(chain.total).to.equal(1 + records);
    const total = (name: string): number => writers.reduce((n, w) => n + (w.requests[name] ?? 0), 0);
    for (const w of writers) {
      expect(w.requests.GetCallerIdentity, "caller identity once per writer").to.equal(1);
      expect(w.requests.GetPublicKey, "public key once per writer").to.equal(1);
    }
    // Every record is read by each of the three other writers once (record and journal), plus the journals followed
    // after lost claims (at most one per other writer's batch per loss): bounded by 4 reads per other writer.
    const gets = total("GetObject");
    expect(gets / records, `GetObject per record (${gets} for ${records})`).to.be.at.most(4 * (writers.length - 1));
    // One listing per read of the chain: reads are one per append (plus the open, the final read).
    const lists = total("ListObjectVersions");
    expect(lists / records, `ListObjectVersions per record (${lists} for ${records})`).to.be.at.most(1.5);
    expect(total("Sign") / records, "KMS Sign per record (re-signed only after a lost claim)").to.be.at.most(3);
  });
});
