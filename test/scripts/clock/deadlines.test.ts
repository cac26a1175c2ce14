import { expect } from "chai";
import {
  computeClock,
  formatClock,
  parseRegimes,
  type ClockOptions,
  type Deadline,
  type IncidentTimes,
} from "../../../scripts/clock/deadlines";
import { REGIMES, REPORTING_RULES } from "../../../scripts/clock/regimes";
import { UsageError } from "../../../scripts/errors";

const t = (iso: string) => new Date(iso);
const options = (overrides: Partial<ClockOptions> = {}): ClockOptions => ({
  now: t("2026-03-02T09:00:00Z"),
  timeZone: "UTC",
  ...overrides,
});
const find = (deadlines: Deadline[], regime: string, obligation: RegExp): Deadline => {
  const hit = deadlines.find((d) => d.regime === regime && obligation.test(d.obligation));
  if (!hit) throw new Error(`no ${regime} deadline matching ${obligation}`);
  return hit;
};

describe("reporting clocks", () => {
  const all: IncidentTimes = {
    aware: t("2026-03-02T09:00:00Z"),
    determined: t("2026-03-04T15:00:00Z"),
    classified: t("2026-03-02T11:00:00Z"),
    notified: t("2026-03-03T08:00:00Z"),
    "intermediate-reported": t("2026-03-05T08:00:00Z"),
    "ransom-paid": t("2026-03-06T12:00:00Z"),
  };
  const report = computeClock(all, options());

  it("computes every obligation of every regime when every start event is known", () => {
    expect(report.deadlines).to.have.length(REPORTING_RULES.length);
    expect(report.waiting).to.have.length(0);
    expect(new Set(report.deadlines.map((d) => d.regime))).to.deep.equal(new Set(REGIMES));
  });

  it("GDPR: 72 h after awareness", () => {
    expect(find(report.deadlines, "gdpr", /supervisory/).dueUtc).to.equal("2026-03-05T09:00:00Z");
  });

  it("NIS2: early warning 24 h and notification 72 h after awareness, final report 1 month after the notification", () => {
    expect(find(report.deadlines, "nis2", /early warning/).dueUtc).to.equal("2026-03-03T09:00:00Z");
    expect(find(report.deadlines, "nis2", /incident notification/).dueUtc).to.equal("2026-03-05T09:00:00Z");
    expect(find(report.deadlines, "nis2", /final/).dueUtc).to.equal("2026-04-03T08:00:00Z");
  });

  it("DORA: initial 4 h after classification and 24 h after awareness, intermediate 72 h after it, final 1 month after that", () => {
    expect(find(report.deadlines, "dora", /4 h after classification/).dueUtc).to.equal("2026-03-02T15:00:00Z");
    expect(find(report.deadlines, "dora", /24 h after awareness/).dueUtc).to.equal("2026-03-03T09:00:00Z");
    expect(find(report.deadlines, "dora", /intermediate/).dueUtc).to.equal("2026-03-06T08:00:00Z");
    expect(find(report.deadlines, "dora", /final/).dueUtc).to.equal("2026-04-05T08:00:00Z");
  });

  it("SEC: 17:30 New York time on the 4th business day after the determination date", () => {
    // Wednesday Mar 4 -> Thu 5, Fri 6, Mon 9, Tue 10; New York is on EDT (UTC-4) from Mar 8, 2026.
    const sec = find(report.deadlines, "sec", /8-K/);
    expect(sec.dueUtc).to.equal("2026-03-10T21:30:00Z");
    expect(sec.skipped?.map((s) => s.date)).to.deep.equal(["2026-03-07", "2026-03-08"]);
  });

  it("SEC: the determination date is New York's, not UTC's", () => {
    // 22:00 in New York on Wednesday Nov 26, 2025 is already Thursday (Thanksgiving) in UTC.
    const late = computeClock({ determined: t("2025-11-27T03:00:00Z") }, options({ regimes: ["sec"] }));
    expect(late.deadlines[0].dueUtc).to.equal("2025-12-03T22:30:00Z");
  });

  it("HIPAA: 60 calendar days after discovery, one day earlier across a leap day", () => {
    expect(find(report.deadlines, "hipaa", /individuals/).dueUtc).to.equal("2026-05-01T09:00:00Z");
    const leap = computeClock({ aware: t("2024-02-01T10:00:00Z") }, options({ regimes: ["hipaa"] }));
    expect(leap.deadlines[0].dueUtc).to.equal("2024-04-01T10:00:00Z");
    const common = computeClock({ aware: t("2025-02-01T10:00:00Z") }, options({ regimes: ["hipaa"] }));
    expect(common.deadlines[0].dueUtc).to.equal("2025-04-02T10:00:00Z");
  });

  it("NYDFS: 72 h after the determination, 24 h and 30 days after an extortion payment", () => {
    expect(find(report.deadlines, "nydfs", /superintendent/).dueUtc).to.equal("2026-03-07T15:00:00Z");
    expect(find(report.deadlines, "nydfs", /notice of the extortion/).dueUtc).to.equal("2026-03-07T12:00:00Z");
    expect(find(report.deadlines, "nydfs", /written explanation/).dueUtc).to.equal("2026-04-05T12:00:00Z");
  });

  it("CIRCIA: 72 h after the covered incident, 24 h after a ransom payment", () => {
    expect(find(report.deadlines, "circia", /covered cyber incident/).dueUtc).to.equal("2026-03-07T15:00:00Z");
    expect(find(report.deadlines, "circia", /ransom/).dueUtc).to.equal("2026-03-07T12:00:00Z");
  });

  it("sorts deadlines by due time", () => {
    const due = report.deadlines.map((d) => Date.parse(d.dueUtc));
    expect(due).to.deep.equal([...due].sort((a, b) => a - b));
    expect(report.deadlines[0].obligation).to.match(/4 h after classification/);
  });

  it("NIS2 final report after a notification on Jan 31 falls on the last day of February, Feb 29 in a leap year", () => {
    const common = computeClock({ notified: t("2025-01-31T16:00:00Z") }, options({ regimes: ["nis2"] }));
    expect(find(common.deadlines, "nis2", /final/).dueUtc).to.equal("2025-02-28T16:00:00Z");
    const leap = computeClock({ notified: t("2024-01-31T16:00:00Z") }, options({ regimes: ["nis2"] }));
    expect(find(leap.deadlines, "nis2", /final/).dueUtc).to.equal("2024-02-29T16:00:00Z");
  });

  it("GDPR's 72 h run over Feb 29 in a leap year", () => {
    const leap = computeClock({ aware: t("2024-02-28T12:00:00Z") }, options({ regimes: ["gdpr"] }));
    expect(leap.deadlines[0].dueUtc).to.equal("2024-03-02T12:00:00Z");
  });

  it("shows the local due time with the offset in force at the deadline (Berlin changes to summer time in between)", () => {
    const berlin = computeClock(
      { aware: t("2025-03-28T10:00:00Z") },
      options({ regimes: ["gdpr"], timeZone: "Europe/Berlin" }),
    );
    expect(berlin.deadlines[0].dueUtc).to.equal("2025-03-31T10:00:00Z");
    expect(berlin.deadlines[0].dueLocal).to.equal("2025-03-31T12:00:00+02:00");
  });

  it("marks overdue and due-soon deadlines relative to now", () => {
    const now = t("2026-03-03T10:00:00Z");
    const marked = computeClock(
      { aware: t("2026-03-02T09:00:00Z") },
      options({ regimes: ["nis2", "gdpr", "hipaa"], now, dueSoonHours: 48 }),
    );
    expect(find(marked.deadlines, "nis2", /early warning/).status).to.equal("overdue");
    expect(find(marked.deadlines, "nis2", /early warning/).hoursLeft).to.equal(-1);
    expect(find(marked.deadlines, "gdpr", /supervisory/).status).to.equal("due-soon");
    expect(find(marked.deadlines, "hipaa", /individuals/).status).to.equal("open");
    const lines = formatClock(marked).join("\n");
    expect(lines).to.match(/OVERDUE .*early warning/);
    expect(lines).to.match(/DUE SOON .*supervisory/);
  });

  it("lists an obligation whose start event was not given as waiting for it", () => {
    const partial = computeClock({ aware: t("2026-03-02T09:00:00Z") }, options({ regimes: ["sec", "nis2"] }));
    expect(partial.deadlines.map((d) => d.regime)).to.deep.equal(["nis2", "nis2"]);
    expect(partial.waiting.map((w) => [w.regime, w.waitingFor])).to.deep.equal([
      ["nis2", "notified"],
      ["sec", "determined"],
    ]);
    expect(formatClock(partial).join("\n")).to.match(/SEC .*after --determined-at/);
  });

  describe("parseRegimes", () => {
    it("reads lists and all", () => {
      expect(parseRegimes("sec, GDPR")).to.deep.equal(["gdpr", "sec"]);
      expect(parseRegimes("all")).to.deep.equal([...REGIMES]);
    });
    it("names an unknown regime and the valid ones", () => {
      expect(() => parseRegimes("gdpr,ccpa")).to.throw(
        UsageError,
        /"ccpa" is not a known regime: .*gdpr, nis2, dora, sec, hipaa, nydfs, circia/,
      );
    });
  });
});
