import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ClientFactory } from "../../../scripts/aws/clients";
import { openTestCase } from "../../support/cases";
import { runFlz } from "../../support/cli";
import { CLOCK_ACTION, eventsFromLedger } from "../../../scripts/clock/case-events";
import { openLedger } from "../../../scripts/custody/ledger";
import type { CustodyRecord } from "../../../scripts/custody/types";
import { seedLandingZone } from "../../../scripts/emulator/seed";
import { UsageError } from "../../../scripts/errors";
import { useEmulator } from "../../support/emulator";

const record = (sequence: number, time: string, action: string, details?: CustodyRecord["details"]): CustodyRecord => ({
  version: 1,
  sequence,
  case: "IR-1",
  time,
  actor: "arn:aws:sts::222222222222:assumed-role/FlzForensicResponder/flz-IR-1",
  action,
  subjects: [],
  ...(details ? { details } : {}),
  previousHash: "0".repeat(64),
  hash: "f".repeat(64),
  signature: { keyArn: "arn:aws:kms:us-east-1:222222222222:key/x", algorithm: "ECDSA_SHA_256", value: "" },
});

describe("clock start events from a case's ledger", () => {
  const records = [
    record(0, "2026-03-02T09:00:00.000Z", "contain.access-key.deactivated"),
    record(1, "2026-03-02T09:30:00.000Z", "capture.snapshot.created"),
    record(2, "2026-03-03T10:00:00.000Z", CLOCK_ACTION, {
      events: { aware: "2026-03-02T09:00:00Z", determined: "2026-03-03T08:00:00Z" },
    }),
  ];

  it("takes awareness from the first record and later events from earlier clock records", () => {
    const { times, sources } = eventsFromLedger(records.slice(0, 2));
    expect(times.aware?.toISOString()).to.equal("2026-03-02T09:00:00.000Z");
    expect(sources.aware).to.equal("first record (contain.access-key.deactivated)");
    const later = eventsFromLedger(records);
    expect(later.times.determined?.toISOString()).to.equal("2026-03-03T08:00:00.000Z");
    expect(later.sources.determined).to.equal("earlier clock record 2");
  });

  it("lets the operator name the awareness record or give the time", () => {
    expect(eventsFromLedger(records.slice(0, 2), { awareRecord: 1 }).times.aware?.toISOString()).to.equal(
      "2026-03-02T09:30:00.000Z",
    );
    const given = eventsFromLedger(records, { given: { aware: new Date("2026-03-01T23:00:00Z") } });
    expect(given.times.aware?.toISOString()).to.equal("2026-03-01T23:00:00.000Z");
    expect(given.sources.aware).to.equal("command line");
  });

  it("refuses an awareness record the case does not have", () => {
    expect(() => eventsFromLedger(records, { awareRecord: 7 })).to.throw(
      UsageError,
      /--aware-record 7 is not a record of this case: give a sequence number from 0 to 2/,
    );
  });
});

describe("flz clock --case (emulator)", () => {
  useEmulator();

  it("reads awareness from the case opening and records the deadlines in the ledger", async () => {
    const lz = await seedLandingZone();
    const file = path.join(mkdtempSync(path.join(tmpdir(), "flz-clock-")), "lz.json");
    writeFileSync(file, JSON.stringify(lz));
    const factory = new ClientFactory({
      caseId: "IR-CLOCK-1",
      forensicRoleArn: lz.forensicResponderRoleArn,
      memberRoleName: lz.memberResponderRoleName,
    });
    try {
      const ledger = await openLedger({ factory, landingZone: lz, caseId: "IR-CLOCK-1" });
      // The awareness stated at opening, hours before the case was opened, is what the clocks run from.
      await openTestCase(ledger, { awarenessTime: "2026-03-02T09:15:00.000Z" });

      const { code, out } = await runFlz([
        "clock",
        "--case",
        "IR-CLOCK-1",
        "--landing-zone",
        file,
        "--regime",
        "gdpr,sec",
        "--determined-at",
        "2026-03-04T21:00:00Z",
        "--tz",
        "UTC",
        "--json",
      ]);
      expect(code).to.equal(0);
      const printed = JSON.parse(out);
      expect(printed.events.aware).to.equal("2026-03-02T09:15:00Z");
      expect(printed.eventSources.aware).to.equal("case opening (record 0)");
      expect(printed.recordedAs).to.equal(1);

      const stored = await ledger.records();
      expect(stored.map((r) => r.action)).to.deep.equal(["case.opened", CLOCK_ACTION]);
      const details = stored[1].details as {
        deadlines: Array<{ regime: string; dueUtc: string }>;
        events: Record<string, string>;
      };
      expect(details.events.determined).to.equal("2026-03-04T21:00:00Z");
      expect(details.deadlines.find((d) => d.regime === "sec")?.dueUtc).to.equal("2026-03-10T21:30:00Z");

      // A later run without flags picks the determination back up from the ledger.
      const reopened = eventsFromLedger(await ledger.records());
      expect(reopened.times.determined?.toISOString()).to.equal("2026-03-04T21:00:00.000Z");
    } finally {
      factory.destroy();
    }
  });
});
