import { expect } from "chai";
import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { ListObjectVersionsCommand, S3Client } from "@aws-sdk/client-s3";
import type { ChainVerification } from "../../../scripts/custody/chain";
import { recordKey } from "../../../scripts/custody/record";
import { parseWitnessText, witnessFindings, type WitnessEvent } from "../../../scripts/custody/witness";
import { runFlz } from "../../support/cli";
import { useEmulator } from "../../support/emulator";
import { useCustodyWorld } from "./fixtures";

const BUCKET = "flz-evidence-222222222222";
const RESPONDER = "arn:aws:sts::222222222222:assumed-role/FlzForensicResponder/flz-IR-W";

/** A CloudTrail S3 data event, as the organisation trail's log files hold it (CloudTrail user guide, S3 examples). */
function trailEvent(
  eventName: string,
  key: string,
  extra: Record<string, unknown> = {},
  bucket = BUCKET,
): Record<string, unknown> {
  return {
    eventVersion: "1.09",
    userIdentity: { type: "AssumedRole", arn: RESPONDER, accountId: "222222222222" },
    eventTime: "2026-01-14T10:15:03Z",
    eventSource: "s3.amazonaws.com",
    eventName,
    awsRegion: "us-east-1",
    requestParameters: { bucketName: bucket, Host: `${bucket}.s3.us-east-1.amazonaws.com`, key },
    responseElements: null,
    readOnly: false,
    resources: [{ type: "AWS::S3::Object", ARN: `arn:aws:s3:::${bucket}/${key}` }],
    eventType: "AwsApiCall",
    eventCategory: "Data",
    ...extra,
  };
}

const chainOf = (total: number): ChainVerification => ({ ok: true, verified: total, total, records: [] });

describe("head witness: CloudTrail data events of the evidence bucket", () => {
  it("reads CloudTrail log files, JSON arrays and Athena's JSON Lines (lower-case columns, JSON kept as strings)", () => {
    const event = trailEvent("PutObject", recordKey("IR-W", 3), { responseElements: { "x-amz-version-id": "v3" } });
    const athena = {
      eventtime: "2026-01-14T10:15:03Z",
      eventsource: "s3.amazonaws.com",
      eventname: "PutObject",
      errorcode: null,
      requestparameters: JSON.stringify({ bucketName: BUCKET, key: recordKey("IR-W", 3) }),
      responseelements: JSON.stringify({ "x-amz-version-id": "v3" }),
      useridentity: { arn: RESPONDER },
    };
    const expected: WitnessEvent = {
      eventName: "PutObject",
      eventTime: "2026-01-14T10:15:03Z",
      bucket: BUCKET,
      keys: [recordKey("IR-W", 3)],
      versionId: "v3",
      actor: RESPONDER,
      errorCode: undefined,
    };
    expect(parseWitnessText(JSON.stringify({ Records: [event] }), "log")).to.deep.equal([expected]);
    expect(parseWitnessText(JSON.stringify([event]), "array")).to.deep.equal([expected]);
    expect(parseWitnessText(`${JSON.stringify(athena)}\n\n${JSON.stringify(athena)}\n`, "lines")).to.deep.equal([
      expected,
      expected,
    ]);
    expect(() => parseWitnessText('{"eventname":"PutObject"}\nnot json', "bad.json")).to.throw(/bad\.json line 2/);
  });

  it("names a record CloudTrail saw written beyond the chain's end, a record key written twice, and any delete", () => {
    const events = [0, 1, 2, 3, 4].map((s) => trailEvent("PutObject", recordKey("IR-W", s)));
    const ok = witnessFindings(parseWitnessText(JSON.stringify(events), "w"), {
      caseId: "IR-W",
      bucket: BUCKET,
      verification: chainOf(5),
    });
    expect(ok.filter((f) => f.severity === "broken")).to.deep.equal([]);

    const cut = witnessFindings(parseWitnessText(JSON.stringify(events), "w"), {
      caseId: "IR-W",
      bucket: BUCKET,
      verification: chainOf(3),
    });
    expect(cut.map((f) => f.reason)).to.deep.include(
      `CloudTrail witnessed record 4 written at 2026-01-14T10:15:03Z by ${RESPONDER}, but the chain ends at record 2: records were cut off its end`,
    );

    const twice = witnessFindings(
      parseWitnessText(JSON.stringify([...events, trailEvent("PutObject", recordKey("IR-W", 2))]), "w"),
      {
        caseId: "IR-W",
        bucket: BUCKET,
        verification: chainOf(5),
      },
    );
    expect(twice.find((f) => f.sequence === 2)?.reason).to.match(/witnessed 2 writes of record 2/);

    const deleted = witnessFindings(
      parseWitnessText(JSON.stringify([...events, trailEvent("DeleteObject", recordKey("IR-W", 4))]), "w"),
      { caseId: "IR-W", bucket: BUCKET, verification: chainOf(5) },
    );
    expect(deleted.find((f) => f.severity === "broken")?.reason).to.match(/witnessed DeleteObject of .*00000004\.json/);

    // Failed calls, other buckets and other cases do not count; a witness without the case's writes is noted.
    const noise = [
      trailEvent("PutObject", recordKey("IR-W", 9), { errorCode: "AccessDenied" }),
      trailEvent("PutObject", recordKey("IR-OTHER", 9)),
      {
        ...trailEvent("PutObject", recordKey("IR-W", 9)),
        requestParameters: { bucketName: "another", key: recordKey("IR-W", 9) },
      },
    ];
    const quiet = witnessFindings(parseWitnessText(JSON.stringify(noise), "w"), {
      caseId: "IR-W",
      bucket: BUCKET,
      verification: chainOf(5),
    });
    expect(quiet.map((f) => f.severity)).to.deep.equal(["note"]);
  });
});

describe("head witness end to end: an exported copy with its tail cut off (emulator, offline verify)", () => {
  useEmulator();
  const suite = useCustodyWorld();

  it("verifies the cut copy without a witness, and calls it BROKEN with the trail's events or the pinned head hash", async () => {
    const caseId = "IR-WITNESS";
    const ledger = await suite.world().openedCase(caseId, 3);
    const out = path.join(suite.dir(), "export");
    const exported = await suite.custody("export", caseId, "--out", out, "--json");
    const head = (JSON.parse(exported.out) as { verdict: { headHash: string } }).verdict.headHash;
    const pem = path.join(suite.dir(), "kms.pem");
    writeFileSync(pem, await ledger.kmsPublicKey());

    // The trail's log file of those writes (what CloudTrail delivered, gzipped), built from the bucket's own versions.
    const versions = await suite
      .world()
      .factory()
      .client(S3Client, { region: suite.world().lz.homeRegion })
      .send(
        new ListObjectVersionsCommand({ Bucket: suite.world().lz.evidenceBucket, Prefix: `cases/${caseId}/custody/` }),
      );
    const records = (versions.Versions ?? []).filter((v) => /\d{8}\.json$/.test(v.Key ?? ""));
    const trail = path.join(suite.dir(), "trail");
    const logs = path.join(
      trail,
      "AWSLogs",
      "o-flzdrill000",
      "222222222222",
      "CloudTrail",
      "us-east-1",
      "2026",
      "01",
      "14",
    );
    mkdirSync(logs, { recursive: true });
    writeFileSync(
      path.join(logs, "222222222222_CloudTrail_us-east-1_20260114T1015Z_abc.json.gz"),
      gzipSync(
        JSON.stringify({
          Records: records.map((v) =>
            trailEvent(
              "PutObject",
              v.Key ?? "",
              { responseElements: { "x-amz-version-id": v.VersionId } },
              suite.world().lz.evidenceBucket,
            ),
          ),
        }),
      ),
    );

    // The copy handed on has lost its last record.
    const last = readdirSync(path.join(out, "records")).sort().pop() as string;
    unlinkSync(path.join(out, "records", last));
    const base = ["custody", "verify", "--case", caseId, "--from", out, "--public-key", pem, "--json"];
    const careless = await runFlz(base);
    expect(careless.code).to.equal(1);
    expect((JSON.parse(careless.out) as { verdict: string }).verdict).to.match(
      /case\.json lists 4 records .* folder holds 3 .* removed from or added to the folder/,
    );
    // Whoever cut it carefully also rewrote case.json: the chain alone then looks sound.
    const manifestFile = path.join(out, "case.json");
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as { records: number; headHash: string };
    const cutHead = (JSON.parse(readFileSync(path.join(out, "records", "00000002.json"), "utf8")) as { hash: string })
      .hash;
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, records: 3, headHash: cutHead }));
    expect((await runFlz(base)).code, "a carefully cut chain alone looks sound").to.equal(0);

    const witnessed = await runFlz([...base, "--witness", trail]);
    expect(witnessed.code).to.equal(1);
    const verdict = JSON.parse(witnessed.out) as { status: string; verdict: string };
    expect(verdict.status).to.equal("BROKEN");
    expect(verdict.verdict).to.match(
      /CloudTrail witnessed record 3 written .* but the chain ends at record 2: records were cut off its end/,
    );

    const pinned = await runFlz([...base, "--expect-head", head]);
    expect(pinned.code).to.equal(1);
    expect((JSON.parse(pinned.out) as { verdict: string }).verdict).to.match(
      /pinned head hash .* is not the hash of any verified record/,
    );
  });
});
