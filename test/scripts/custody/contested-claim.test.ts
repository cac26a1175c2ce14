import { expect } from "chai";
import { ListObjectVersionsCommand, S3Client, type PutObjectCommandInput } from "@aws-sdk/client-s3";
import { journalKey } from "../../../scripts/custody/batch";
import { verifyChain } from "../../../scripts/custody/chain";
import { openLedger } from "../../../scripts/custody/ledger";
import { useEmulator } from "../../support/emulator";
import { custodyWorld, type CustodyWorld } from "./fixtures";

/**
 * A claim accepted twice. S3's conditional creates are atomic (of two `If-None-Match: *` writes of one key, the second
 * gets 412), and the ledger's claims rely on it. moto's threaded server checked and stored in two steps, so under load
 * two writers could both "create" the same journal key: the second became a second version, both writers believed
 * they owned the sequence, and the one whose record write then lost refused to go on with "custody/<seq>.json holds
 * a record other than the one its batch claimed" (seen in the automation benchmark with 16 writers on one case).
 * Here a store that accepts the second create is simulated by sending that one claim without its condition.
 */
describe("custody ledger: a claim the store accepted twice (emulator)", () => {
  useEmulator();
  let world: CustodyWorld;
  beforeEach(async () => {
    world = await custodyWorld();
  });
  afterEach(() => world.close());

  it("the writer whose claim is not the journal's first version re-chains after the real claim; one chain, nothing lost", async () => {
    const caseId = "IR-TWICE";
    const a = await world.openedCase(caseId, 0);
    const factory = world.factory(caseId);
    const b = await openLedger({ factory, landingZone: world.lz, caseId });
    // B opens the case now, so its head is record 0 when A takes sequence 1.
    await b.complete();
    await a.append({ action: "test.first", subjects: ["a"] });
    let stripped = 0;
    factory.client(S3Client, { region: world.lz.homeRegion }).middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as PutObjectCommandInput;
        if (context.commandName === "PutObjectCommand" && input.Key === journalKey(caseId, 1) && stripped === 0) {
          stripped++;
          delete input.IfNoneMatch;
        }
        return next(args);
      },
      { step: "initialize", name: "testAcceptTwice" },
    );
    const record = await b.append({ action: "test.second", subjects: ["b"] });
    expect(stripped, "B's claim of sequence 1 went out unconditionally").to.equal(1);
    // The journal key holds two versions: A's claim (the first, which counts) and B's.
    const versions = await world
      .administratorS3()
      .send(new ListObjectVersionsCommand({ Bucket: world.lz.evidenceBucket, Prefix: journalKey(caseId, 1) }));
    expect(versions.Versions?.length).to.equal(2);
    expect(record.sequence, "B followed A's claim").to.equal(2);
    const chain = verifyChain(await a.storedRecords(), { caseId, publicKeyPem: await a.kmsPublicKey() });
    expect(chain.ok, chain.problem?.reason).to.equal(true);
    expect(chain.records.slice(1).map((r) => r.subjects[0])).to.deep.equal(["a", "b"]);
    // Both ledgers go on appending to the one chain.
    await a.append({ action: "test.third", subjects: ["a2"] });
    expect((await b.records()).map((r) => r.subjects[0]).slice(1)).to.deep.equal(["a", "b", "a2"]);
  });
});
