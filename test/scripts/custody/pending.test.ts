import { expect } from "chai";
import { S3Client, type PutObjectCommandInput } from "@aws-sdk/client-s3";
import { journalKey } from "../../../scripts/custody/batch";
import { openLedger } from "../../../scripts/custody/ledger";
import { custodyPrefix } from "../../../scripts/custody/record";
import { decideUndo } from "../../../scripts/contain/undo";
import { openTestCase } from "../../support/cases";
import { useEmulator } from "../../support/emulator";
import { sampleEvent, useCustodyWorld } from "./fixtures";

/**
 * A writer that stops between claiming records (its journal, with the records signed by it, is stored) and writing
 * them: show, verify, records() (what undo and capture read) and export see the claimed records and say how they
 * complete; complete (or the next append) writes them, copying the author's bytes and signing nothing.
 */
describe("claimed but unwritten records (a writer stopped after its claim)", () => {
  useEmulator();
  const suite = useCustodyWorld();

  /**
   * A ledger whose record writes under `custody/` fail after the claim (the process "dies" there), for records from
   * sequence `from` on.
   */
  async function dyingWriter(caseId: string, from = 0) {
    const factory = suite.world().factory(caseId);
    factory.client(S3Client, { region: suite.world().lz.homeRegion }).middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as PutObjectCommandInput;
        const sequence = Number(/(\d+)\.json$/.exec(input.Key ?? "")?.[1] ?? -1);
        if (
          context.commandName === "PutObjectCommand" &&
          input.Key?.startsWith(custodyPrefix(caseId)) &&
          sequence >= from
        )
          throw Object.assign(new Error("the process was killed"), { name: "NetworkingError" });
        return next(args);
      },
      { step: "initialize", name: "testDieAfterClaim" },
    );
    return openLedger({ factory, landingZone: suite.world().lz, caseId });
  }

  it("a case whose record 0 is only claimed: verify says INCOMPLETE and how, records() and undo see it, complete writes it", async () => {
    const caseId = "IR-ONLY-CLAIMED";
    const dying = await dyingWriter(caseId);
    expect((await Promise.allSettled([openTestCase(dying)]))[0].status).to.equal("rejected");

    const verify = await suite.custody("verify", caseId, "--json");
    expect(verify.code).to.equal(1);
    const verdict = JSON.parse(verify.out) as { status: string; verdict: string };
    expect(verdict.status).to.equal("INCOMPLETE");
    expect(verdict.verdict).to.contain(journalKey(caseId, 0));
    expect(verdict.verdict).to.match(/record 0 is claimed and signed by its author .* flz custody complete/);
    expect(verdict.verdict).to.not.match(/no custody records|missing/);

    const show = await suite.custody("show", caseId);
    expect(show.out).to.match(/^0\s.*case\.opened \(claimed, not yet written\)/m);
    expect(show.err).to.match(/record 0 is claimed .* the next append to the case, or flz custody complete, writes it/);

    const reader = await suite.world().ledger(caseId);
    expect((await reader.records()).map((r) => r.action)).to.deep.equal(["case.opened"]);

    const dry = await suite.custody("complete", caseId, "--dry-run", "--json");
    expect(JSON.parse(dry.out)).to.include({ dryRun: true });
    expect(JSON.parse(dry.out).sequences).to.deep.equal([0]);
    expect((await suite.custody("verify", caseId)).code).to.equal(1);
    const done = await suite.custody("complete", caseId);
    expect(done.out).to.match(/copied records 0 from .*nothing signed/);
    const after = await suite.custody("verify", caseId, "--json");
    expect(after.code, after.out).to.equal(0);
    expect(JSON.parse(after.out)).to.include({ status: "VERIFIED", verified: 1 });
  });

  it("a containment record claimed but unwritten can be undone: undo reads it from its verified journal", async () => {
    const caseId = "IR-UNDO-CLAIMED";
    const ledger = await suite.world().ledger(caseId);
    await openTestCase(ledger);
    const dying = await dyingWriter(caseId);
    const contain = {
      action: "contain.sessions.revoked",
      subjects: ["arn:aws:iam::333333333333:role/App"],
      undo: { kind: "sessions", account: "333333333333", role: "App" },
    };
    expect((await Promise.allSettled([dying.append(contain)]))[0].status).to.equal("rejected");
    const records = await (await suite.world().ledger(caseId)).records();
    expect(records.map((r) => r.sequence)).to.deep.equal([0, 1]);
    expect(decideUndo(records, 1, caseId)).to.deep.include({ kind: "undo" });
  });

  it("the next append by any writer completes the claim before linking after it, copying the author's bytes", async () => {
    const caseId = "IR-NEXT-COMPLETES";
    const ledger = await suite.world().ledger(caseId);
    await openTestCase(ledger);
    // Record 1 goes out alone and is written; records 2-4 queue behind it, are claimed as one batch, never written.
    const dying = await dyingWriter(caseId, 2);
    const settled = await Promise.allSettled([0, 1, 2, 3].map((i) => dying.append(sampleEvent(i))));
    expect(settled.map((s) => s.status)).to.deep.equal(["fulfilled", "rejected", "rejected", "rejected"]);
    const held = (await (await suite.world().ledger(caseId)).records()).slice(2);
    expect(held.map((r) => r.sequence)).to.deep.equal([2, 3, 4]);
    const next = await (await suite.world().ledger(caseId)).append({ action: "test.after", subjects: ["x"] });
    expect(next.sequence).to.equal(5);
    const stored = await ledger.storedRecords();
    expect(stored.map((s) => s.sequence)).to.deep.equal([0, 1, 2, 3, 4, 5]);
    // Byte for byte the author's records, the author's signatures.
    expect((await ledger.records()).slice(2, 5)).to.deep.equal(held);
    expect((await suite.custody("verify", caseId)).code).to.equal(0);
  });
});
