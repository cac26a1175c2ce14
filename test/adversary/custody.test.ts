/**
 * Attacks on the chain of custody by an insider who may write to the evidence bucket but may not sign with the custody
 * key (issue 11, item 2). One test per attack; each plays the attacker with plain S3 and KMS calls against the
 * emulator, then asserts the defence: the ledger never signs, copies or links to what it did not author and check,
 * and `flz custody verify` names every object and version involved. Prevention by bucket and resource control
 * policies is the landing zone's (test/adversary/landing-zone*.test.ts); these tests assume those writes got through.
 */
import { expect } from "chai";
import { HeadObjectCommand, ListObjectVersionsCommand, S3Client } from "@aws-sdk/client-s3";
import { KMSClient } from "@aws-sdk/client-kms";
import { journalKey } from "../../scripts/custody/batch";
import { openLedger, type EvidenceBucketLedger } from "../../scripts/custody/ledger";
import { recordKey } from "../../scripts/custody/record";
import { MIN_CUSTODY_RETENTION_DAYS } from "../../scripts/custody/retention";
import { openTestCase } from "../support/cases";
import { useEmulator } from "../support/emulator";
import {
  ADMIN,
  DEPLOYMENT_ARN,
  FORENSIC,
  ORG,
  SIGNING_KEY_ARN,
  FORENSIC_RESPONDER_ARN,
  decide,
  role,
} from "../components/documents/simulate";
import { custodySigningKeyPolicy } from "../../components/documents";
import { rejection, sampleEvent, useCustodyWorld, type CustodyWorld } from "../scripts/custody/fixtures";
import {
  forgedContainment,
  forgedRecords,
  Insider,
  journalOf,
  recordBytes,
  recordSigns,
  verifyCase,
} from "./custody-attacker";

const DAY = 24 * 60 * 60 * 1000;

describe("adversary: custody records against an insider who can write the evidence bucket", () => {
  useEmulator();
  const suite = useCustodyWorld();
  let world: CustodyWorld;
  let insider: Insider;
  beforeEach(() => {
    world = suite.world();
    insider = new Insider(world.lz);
  });
  afterEach(() => insider.close());

  /** A responder ledger of its own (as a new process) whose KMS Sign statements are recorded. */
  async function responder(caseId: string): Promise<{ ledger: EvidenceBucketLedger; signed: string[] }> {
    const factory = world.factory(caseId);
    const signed = recordSigns(factory.client(KMSClient, { region: world.lz.homeRegion }));
    return { ledger: await openLedger({ factory, landingZone: world.lz, caseId }), signed };
  }

  /** An opened case with `n` more records; returns the ledger and its last record. */
  async function caseWith(caseId: string, n: number) {
    const { ledger, signed } = await responder(caseId);
    let last = await openTestCase(ledger);
    for (let i = 0; i < n; i++) last = await ledger.append(sampleEvent(i));
    return { ledger, last, signed };
  }

  it("the insider's premise: it may not kms:Sign with the custody key (IAM evaluator over the key policy)", async () => {
    const key = {
      resource: SIGNING_KEY_ARN,
      account: FORENSIC,
      policy: custodySigningKeyPolicy({
        keyAccountId: FORENSIC,
        organizationId: ORG,
        signerRoleArn: FORENSIC_RESPONDER_ARN,
        deploymentPrincipalArn: DEPLOYMENT_ARN,
      }),
    };
    expect(await decide(role(FORENSIC, "Administrator", ORG, ADMIN), "kms:Sign", key)).to.not.equal("Allowed");
    expect(await decide(role(FORENSIC, "FlzForensicResponder", ORG, ADMIN), "kms:Sign", key)).to.equal("Allowed");
  });

  it("planted journal in an existing case: never completed, signed or linked to; appends refuse it by name, verify names it", async () => {
    const caseId = "IR-PLANT";
    const { ledger: first, last, signed: firstSigned } = await caseWith(caseId, 1);
    const forged = forgedRecords(caseId, last, [forgedContainment()]);
    // Unsigned records (the old journal's shape), and records signed with the insider's own KMS key.
    const own = await insider.ownSigningKey();
    const resigned = await insider.sign(forged, own.arn, world.lz.custodySigningKeyArn);
    await insider.put(journalKey(caseId, last.sequence + 1), journalOf(caseId, resigned), { ifNoneMatch: true });

    // A new process opening the case refuses before signing anything.
    const fresh = await responder(caseId);
    const refused = await rejection(fresh.ledger.append({ action: "test.after", subjects: ["x"] }));
    expect(refused.message).to.contain(journalKey(caseId, 2));
    expect(refused.message).to.match(
      /signature that does not verify with the custody public key.*not a claim made by flz/,
    );
    expect(fresh.signed).to.have.length(0);

    // A process that was already appending (its head cached) loses the claim, reads the journal, refuses it, and
    // has signed only its own record.
    const before = firstSigned.length;
    const cached = await rejection(first.append({ action: "test.mine", subjects: ["mine"] }));
    expect(cached.message).to.contain(journalKey(caseId, 2));
    const mine = firstSigned.slice(before).map((m) => JSON.parse(m) as { sequence: number; hash: string });
    expect(mine, "one Sign: its own record 2").to.have.length(1);
    expect(resigned.some((r) => r.hash === mine[0].hash)).to.equal(false);

    // What undo and capture read never includes the planted record.
    expect((await first.records()).map((r) => r.action)).to.deep.equal(["case.opened", sampleEvent(0).action]);
    const { code, verdict } = await verifyCase(caseId, suite.lzFile());
    expect(code).to.equal(1);
    expect(verdict.status).to.equal("BROKEN");
    const named = verdict.findings.find((f) => f.key === journalKey(caseId, 2));
    expect(named?.reason).to.match(/not a claim made by flz/);
    expect(named?.versionId).to.be.a("string");
  });

  it("planted journal for a case that does not exist yet: the case is never opened with it and nothing is signed", async () => {
    const caseId = "IR-NOT-YET";
    const forged = forgedRecords(caseId, { sequence: -1, hash: "0".repeat(64) }, [
      { action: "case.opened", subjects: [caseId], details: { title: "forged", openedBy: "insider" } },
      forgedContainment(),
    ]);
    await insider.put(journalKey(caseId, 0), journalOf(caseId, forged), { ifNoneMatch: true });

    const { ledger, signed } = await responder(caseId);
    const refused = await rejection(openTestCase(ledger));
    expect(refused.message).to.contain(journalKey(caseId, 0));
    expect(refused.message).to.match(/record 0 has no signature/);
    expect(signed, "no Sign call for anyone's records").to.have.length(0);
    const listed = await insider.s3.send(
      new ListObjectVersionsCommand({ Bucket: world.lz.evidenceBucket, Prefix: `cases/${caseId}/custody/` }),
    );
    expect(listed.Versions ?? [], "no record was written").to.have.length(0);
    const { code, verdict } = await verifyCase(caseId, suite.lzFile());
    expect(code).to.equal(1);
    expect(verdict.status).to.equal("BROKEN");
    expect(verdict.findings.map((f) => f.key)).to.include(journalKey(caseId, 0));
  });

  it("rollback by delete markers: verify names every marker; the next append continues after the hidden records, no fork", async () => {
    const caseId = "IR-ROLLBACK";
    const { last } = await caseWith(caseId, 4);
    expect(last.sequence).to.equal(4);
    const markers = new Map<string, string>();
    for (const key of [recordKey(caseId, 3), recordKey(caseId, 4), journalKey(caseId, 3), journalKey(caseId, 4)])
      markers.set(key, await insider.hide(key));

    const { code, verdict } = await verifyCase(caseId, suite.lzFile());
    expect(code).to.equal(1);
    expect(verdict.status).to.equal("BROKEN");
    for (const [key, versionId] of markers) {
      const finding = verdict.findings.find((f) => f.key === key && f.versionId === versionId);
      expect(finding?.reason, key).to.match(/hidden by a delete marker/);
    }
    // The hidden records are still read: the whole chain verifies under the markers.
    expect(verdict.verified).to.equal(5);

    const { ledger } = await responder(caseId);
    const next = await ledger.append({ action: "test.after-rollback", subjects: ["x"] });
    expect(next.sequence).to.equal(5);
    expect(next.previousHash).to.equal(last.hash);
    for (const sequence of [3, 4, 5]) {
      const versions = await insider.s3.send(
        new ListObjectVersionsCommand({ Bucket: world.lz.evidenceBucket, Prefix: recordKey(caseId, sequence) }),
      );
      expect(versions.Versions ?? [], `record ${sequence} has one version`).to.have.length(1);
    }
  });

  it("fork at the same sequence (a second version over a record key): named with its version; the chain keeps the first", async () => {
    const caseId = "IR-FORK";
    const { ledger, last } = await caseWith(caseId, 3);
    const original = (await ledger.records())[2];
    const own = await insider.ownSigningKey();
    const [forged] = await insider.sign(
      forgedRecords(caseId, { sequence: 1, hash: (await ledger.records())[1].hash }, [forgedContainment()]),
      own.arn,
      world.lz.custodySigningKeyArn,
    );
    // A plain PutObject, and a delete marker followed by a conditional create that S3 then accepts.
    const plain = await insider.put(recordKey(caseId, 2), recordBytes(forged));
    await insider.hide(recordKey(caseId, 3));
    const overMarker = await insider.put(recordKey(caseId, 3), recordBytes(forged), { ifNoneMatch: true });

    const { verdict } = await verifyCase(caseId, suite.lzFile());
    expect(verdict.status).to.equal("BROKEN");
    expect(verdict.findings.find((f) => f.versionId === plain)?.reason).to.match(/record 2 has 2 versions/);
    expect(verdict.findings.find((f) => f.versionId === overMarker)?.reason).to.match(/record 3 has 2 versions/);
    expect(verdict.verified, "the first versions still form the chain").to.equal(last.sequence + 1);
    // Undo, capture and clock read the first version, not the insider's.
    expect((await ledger.records())[2]).to.deep.equal(original);
    const next = await (await responder(caseId)).ledger.append({ action: "test.after-fork", subjects: ["x"] });
    expect(next.sequence).to.equal(last.sequence + 1);
  });

  it("plain PutObject of junk over a record key: later appends still succeed; verify names the key and version", async () => {
    const caseId = "IR-OVERWRITE";
    const { last } = await caseWith(caseId, 2);
    const junk = await insider.put(recordKey(caseId, 1), "junk");
    const { ledger } = await responder(caseId);
    const next = await ledger.append({ action: "test.after-overwrite", subjects: ["x"] });
    expect(next.sequence).to.equal(last.sequence + 1);
    const { verdict } = await verifyCase(caseId, suite.lzFile());
    expect(verdict.status).to.equal("BROKEN");
    const finding = verdict.findings.find((f) => f.versionId === junk);
    expect(finding?.key).to.equal(recordKey(caseId, 1));
    expect(finding?.reason).to.match(/record 1 has 2 versions/);
  });

  it("junk object at a higher sequence: the ledger refuses clearly, naming it; verify names it", async () => {
    const caseId = "IR-JUNK";
    await caseWith(caseId, 2);
    await insider.put(recordKey(caseId, 9), "{not a record", { ifNoneMatch: true });
    const { ledger, signed } = await responder(caseId);
    const refused = await rejection(ledger.append({ action: "test.after-junk", subjects: ["x"] }));
    expect(refused.message).to.contain(recordKey(caseId, 9));
    expect(refused.message).to.match(/no flz claim covers it.*refusing to append/);
    expect(signed).to.have.length(0);
    const { verdict } = await verifyCase(caseId, suite.lzFile());
    expect(verdict.status).to.equal("BROKEN");
    expect(verdict.problem?.reason).to.match(/record 3 is missing: the chain jumps from 2 to 9/);
    expect(
      verdict.findings.find((f) => f.key === recordKey(caseId, 9) && /not valid JSON/.test(f.reason)),
    ).to.not.equal(undefined);
  });

  it("retention removed before the case's first write: every ledger write still carries COMPLIANCE retention of a year or more", async () => {
    // The emulator refuses to change Object Lock on a bucket that holds objects (S3 allows it); the bucket is empty
    // here, before the case exists, which is when the insider acts.
    await insider.removeDefaultRetention();
    const caseId = "IR-NO-DEFAULT";
    await caseWith(caseId, 2);
    const listed = await insider.s3.send(
      new ListObjectVersionsCommand({ Bucket: world.lz.evidenceBucket, Prefix: `cases/${caseId}/` }),
    );
    expect(listed.Versions?.length).to.be.greaterThan(5);
    for (const v of listed.Versions ?? []) {
      const head = await insider.s3.send(
        new HeadObjectCommand({ Bucket: world.lz.evidenceBucket, Key: v.Key, VersionId: v.VersionId }),
      );
      expect(head.ObjectLockMode, v.Key).to.equal("COMPLIANCE");
      expect(head.ObjectLockRetainUntilDate?.getTime(), v.Key).to.be.greaterThan(
        Date.now() + MIN_CUSTODY_RETENTION_DAYS * DAY - DAY,
      );
    }
    expect((await verifyCase(caseId, suite.lzFile())).verdict.status).to.equal("VERIFIED");
  });

  it("a write that S3 stored without retention is reported by the append that made it, and named by verify", async () => {
    await insider.removeDefaultRetention();
    const caseId = "IR-UNLOCKED";
    await caseWith(caseId, 0);
    // Something between the ledger and S3 drops the retention headers (what a bucket without them would store).
    const factory = world.factory(caseId);
    factory.client(S3Client, { region: world.lz.homeRegion }).middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { ObjectLockMode?: string; ObjectLockRetainUntilDate?: Date };
        delete input.ObjectLockMode;
        delete input.ObjectLockRetainUntilDate;
        return next(args);
      },
      { step: "initialize", name: "testDropRetention" },
    );
    const stripped = await openLedger({ factory, landingZone: world.lz, caseId });
    const refused = await rejection(stripped.append({ action: "test.unlocked", subjects: ["x"] }));
    expect(refused.message).to.match(/has no Object Lock retention \(it can be deleted\)/);
    expect(refused.message).to.match(/S3 did not apply the COMPLIANCE retention the ledger asked for/);
    const { verdict } = await verifyCase(caseId, suite.lzFile());
    expect(verdict.status).to.equal("BROKEN");
    expect(
      verdict.findings.find((f) => f.key === recordKey(caseId, 1) && /no Object Lock retention/.test(f.reason)),
    ).to.not.equal(undefined);
  });
});
