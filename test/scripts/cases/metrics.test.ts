import { expect } from "chai";
import {
  caseMetrics,
  caseTimeline,
  formatDuration,
  isClosed,
  mean,
  median,
  metricLines,
  summarizeMetrics,
} from "../../../scripts/cases/metrics";
import { metricInputEvent, parseCitation, parseInputKind } from "../../../scripts/cases/metrics-input";
import { caseOpenedEvent } from "../../../scripts/cases/opened";
import type { CustodyEvent, CustodyRecord } from "../../../scripts/custody/types";

const CASE = "IR-2026-0042";
const EVENT = "3e5f0a52-1c7e-4a8b-9d1e-2f6c7b8a9d0e";
const FINDING = "5ab2c4d7e8f90123456789abcdef0123";

/** Builds a ledger: each entry is an event and the time it was recorded. */
function ledger(entries: [CustodyEvent, string][]): CustodyRecord[] {
  return entries.map(([event, time], sequence) => ({
    ...event,
    version: 1,
    sequence,
    case: CASE,
    time,
    actor: "arn:aws:sts::222222222222:assumed-role/FlzForensicResponder/test",
    previousHash: "0".repeat(64),
    hash: "0".repeat(64),
    signature: { keyArn: "k", algorithm: "ECDSA_SHA_256", value: "" },
  }));
}

const opened = (aware: string): CustodyEvent =>
  caseOpenedEvent({ caseId: CASE, title: "t", awarenessTime: aware, openedBy: "alice" });
const input = (kind: Parameters<typeof metricInputEvent>[1], at: string, source = `cloudtrail:${EVENT}`) =>
  metricInputEvent(CASE, kind, new Date(at), parseCitation(source, kind));
const intent = (forAction: string): CustodyEvent => ({
  action: "contain.intent",
  subjects: ["x"],
  details: { for: forAction },
});
const done = (action: string, intentSeq: number): CustodyEvent => ({
  action,
  subjects: ["x"],
  details: { intent: intentSeq },
});

/** A complete case: first indicator 09:00, access 08:30, aware 10:00, opened 10:05, first action 10:20, contained 10:50, recovered next day 10:00. */
function completeCase(): CustodyRecord[] {
  return ledger([
    [opened("2026-03-02T10:00:00Z"), "2026-03-02T10:05:00Z"],
    [intent("contain.sessions.revoked"), "2026-03-02T10:20:00Z"],
    [done("contain.sessions.revoked", 1), "2026-03-02T10:21:00Z"],
    [intent("contain.instance.isolated"), "2026-03-02T10:40:00Z"],
    [done("contain.instance.isolated", 3), "2026-03-02T10:50:00Z"],
    [input("first-indicator", "2026-03-02T09:00:00Z"), "2026-03-02T12:00:00Z"],
    [input("initial-access", "2026-03-02T08:30:00Z", `finding:${FINDING}`), "2026-03-02T12:01:00Z"],
    [input("recovered", "2026-03-03T10:00:00Z", "note:CHG-1234"), "2026-03-03T10:05:00Z"],
  ]);
}

const seconds = (records: CustodyRecord[]) =>
  Object.fromEntries(caseMetrics(caseTimeline(CASE, records)).map((m) => [m.key, m.seconds]));

describe("case metrics: arithmetic", () => {
  it("computes every metric from the ledger and the recorded inputs", () => {
    expect(seconds(completeCase())).to.deep.equal({
      detect: 3600, // 09:00 -> 10:00
      acknowledge: 300, // 10:00 -> 10:05
      respond: 1200, // 10:00 -> 10:20 (the first intent: the action began)
      contain: 3000, // 10:00 -> 10:50 (the last containment completed)
      recover: 86400,
      dwell: 8400, // 08:30 -> 10:50
    });
  });

  it("says which input is missing instead of guessing, and how to record it", () => {
    const records = completeCase().slice(0, 5); // no operator inputs
    const metrics = caseMetrics(caseTimeline(CASE, records));
    const detect = metrics.find((m) => m.key === "detect");
    expect(detect?.seconds).to.equal(null);
    expect(detect?.reason).to.match(
      /first-indicator: not recorded: flz case metrics IR-2026-0042 --record first-indicator/,
    );
    expect(metrics.find((m) => m.key === "dwell")?.reason).to.match(/initial-access/);
    expect(metrics.find((m) => m.key === "recover")?.seconds).to.equal(null);
    expect(metrics.find((m) => m.key === "respond")?.seconds).to.equal(1200);
  });

  it("reports an end before its start as inconsistent, not as a negative duration", () => {
    // The first indicator recorded after the alert (a typo in the day).
    const records = ledger([
      [opened("2026-03-02T10:00:00Z"), "2026-03-02T10:05:00Z"],
      [input("first-indicator", "2026-03-03T09:00:00Z"), "2026-03-02T12:00:00Z"],
    ]);
    const detect = caseMetrics(caseTimeline(CASE, records)).find((m) => m.key === "detect");
    expect(detect?.seconds).to.equal(null);
    expect(detect?.reason).to.match(
      /^inconsistent: alert \(2026-03-02T10:00:00.000Z.*is before first-indicator \(2026-03-03T09:00:00.000Z/,
    );
  });

  it("takes the latest recording of an input, whatever order the instants are in", () => {
    const records = ledger([
      [opened("2026-03-02T10:00:00Z"), "2026-03-02T10:05:00Z"],
      [input("first-indicator", "2026-03-02T09:30:00Z"), "2026-03-02T11:00:00Z"],
      // corrected later to an earlier instant
      [input("first-indicator", "2026-03-01T22:00:00Z"), "2026-03-02T15:00:00Z"],
    ]);
    const timeline = caseTimeline(CASE, records);
    expect(timeline.instants["first-indicator"]?.sequence).to.equal(2);
    expect(seconds(records).detect).to.equal(12 * 3600);
  });

  it("warns when initial access is recorded after the first indicator, and still computes", () => {
    const records = ledger([
      [opened("2026-03-02T10:00:00Z"), "2026-03-02T10:05:00Z"],
      [done("contain.sessions.revoked", 99), "2026-03-02T10:30:00Z"],
      [input("first-indicator", "2026-03-02T09:00:00Z"), "2026-03-02T11:00:00Z"],
      [input("initial-access", "2026-03-02T09:10:00Z"), "2026-03-02T11:00:00Z"],
    ]);
    const timeline = caseTimeline(CASE, records);
    expect(timeline.warnings[0]).to.match(/initial access .* is after the first indicator/);
    expect(seconds(records).dwell).to.equal(80 * 60);
  });

  it("does not count containment as complete while one is interrupted", () => {
    const records = completeCase().slice(0, 4); // record 3 is an intent with no completion
    const timeline = caseTimeline(CASE, records);
    expect(timeline.instants.contained).to.equal(undefined);
    expect(timeline.missing.contained).to.match(/record\(s\) 3 never completed/);
  });

  it("an operator-recorded containment time takes precedence over the ledger's", () => {
    const records = ledger([
      [opened("2026-03-02T10:00:00Z"), "2026-03-02T10:05:00Z"],
      [intent("contain.sessions.revoked"), "2026-03-02T10:20:00Z"], // interrupted
      [input("contained", "2026-03-02T11:00:00Z", "note:network team blocked the range"), "2026-03-02T12:00:00Z"],
    ]);
    expect(seconds(records).contain).to.equal(3600);
  });

  it("an undo is not a first action, and a case without record 0 as case.opened has no alert", () => {
    const records = ledger([
      [{ action: "capture.started", subjects: ["i-1"] }, "2026-03-02T10:00:00Z"],
      [{ action: "contain.undone", subjects: ["x"], details: { undoes: 5 } }, "2026-03-02T09:00:00Z"],
    ]);
    const timeline = caseTimeline(CASE, records);
    expect(timeline.instants["first-action"]?.sequence).to.equal(0);
    expect(timeline.missing.alert).to.match(/not a case.opened record/);
  });

  it("ignores malformed records (a report shows them) instead of failing", () => {
    const records = [
      ...completeCase(),
      { sequence: 8 } as unknown as CustodyRecord,
      { action: "contain.x", sequence: 9, time: "not a time" } as unknown as CustodyRecord,
    ];
    expect(seconds(records).contain).to.equal(3000);
  });

  it("a case is closed once its recovery is recorded", () => {
    expect(isClosed(caseTimeline(CASE, completeCase()))).to.equal(true);
    expect(isClosed(caseTimeline(CASE, completeCase().slice(0, 7)))).to.equal(false);
  });

  it("means and medians over the cases where a metric is known", () => {
    expect(mean([])).to.equal(null);
    expect(median([])).to.equal(null);
    expect(median([5, 1, 3])).to.equal(3);
    expect(median([4, 1, 3, 10])).to.equal(3.5);
    const a = caseMetrics(caseTimeline(CASE, completeCase()));
    const bRecords = completeCase().slice(0, 5); // no inputs: detect, dwell, recover missing
    const b = caseMetrics(caseTimeline(CASE, bRecords));
    const summary = summarizeMetrics([
      { caseId: "A", metrics: a },
      { caseId: "B", metrics: b },
    ]);
    const detect = summary.find((s) => s.key === "detect");
    expect(detect).to.include({ cases: 1, meanSeconds: 3600, medianSeconds: 3600 });
    expect(detect?.missingIn).to.deep.equal(["B"]);
    const respond = summary.find((s) => s.key === "respond");
    expect(respond).to.include({ cases: 2, meanSeconds: 1200, medianSeconds: 1200 });
  });

  it("labels respond and recover apart and quotes AWS's definitions", () => {
    const lines = metricLines(caseMetrics(caseTimeline(CASE, completeCase()))).join("\n");
    expect(lines).to.include("Time to respond (MTTR: respond): 20m 00s");
    expect(lines).to.include("Time to recover (MTTR: recover): 1d 00h 00m 00s");
    expect(lines).to.include(
      'AWS: "the time between the occurrence of the first indicator of compromise and the initial identification or alert"',
    );
    expect(formatDuration(65)).to.equal("1m 05s");
  });
});

describe("case metrics: inputs", () => {
  it("accepts CloudTrail event IDs and finding IDs or ARNs", () => {
    expect(parseCitation(`cloudtrail:${EVENT}`, "first-indicator")).to.deep.equal({
      kind: "cloudtrail-event",
      id: EVENT,
    });
    expect(parseCitation(EVENT.toUpperCase(), "initial-access")).to.deep.equal({ kind: "cloudtrail-event", id: EVENT });
    expect(parseCitation(FINDING, "first-indicator").kind).to.equal("finding");
    const arn =
      "arn:aws:securityhub:us-east-1:333333333333:subscription/aws-foundational-security-best-practices/v/1.0.0/IAM.1/finding/abc";
    expect(parseCitation(`finding:${arn}`, "first-indicator")).to.deep.equal({ kind: "finding", id: arn });
  });

  it("refuses facts about the attacker without evidence, and names what is valid", () => {
    expect(() => parseCitation("note:the SOC said so", "first-indicator")).to.throw(/cloudtrail:<event ID>/);
    expect(() => parseCitation(undefined, "initial-access")).to.throw(/--source is required for initial-access/);
    expect(() => parseCitation("cloudtrail:not-an-id", "first-indicator")).to.throw(
      /--source cloudtrail:not-an-id is not a source/,
    );
    expect(parseCitation("note:CHG-1234", "recovered")).to.deep.equal({ kind: "note", id: "CHG-1234" });
    expect(() => parseInputKind("detected")).to.throw(/first-indicator, initial-access, contained, recovered/);
  });
});
