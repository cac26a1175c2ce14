import { expect } from "chai";
import { runFlz } from "../../support/cli";

/** Runs `flz <args>` in-process and captures what it writes. */
const flz = (...args: string[]) => runFlz(args);

describe("flz clock", () => {
  it("prints the deadlines as JSON, earliest first, with local times in --tz", async () => {
    const r = await flz(
      "clock",
      "--aware-at",
      "2025-11-26T09:00:00-05:00",
      "--determined-at",
      "2025-11-26T16:00:00-05:00",
      "--regime",
      "sec,gdpr",
      "--now",
      "2025-11-26T18:00:00Z",
      "--tz",
      "America/New_York",
      "--json",
    );
    expect(r.code, r.err).to.equal(0);
    const report = JSON.parse(r.out);
    expect(report.timeZone).to.equal("America/New_York");
    expect(
      report.deadlines.map((d: { regime: string; dueUtc: string; dueLocal: string }) => [
        d.regime,
        d.dueUtc,
        d.dueLocal,
      ]),
    ).to.deep.equal([
      ["gdpr", "2025-11-29T14:00:00Z", "2025-11-29T09:00:00-05:00"],
      ["sec", "2025-12-03T22:30:00Z", "2025-12-03T17:30:00-05:00"],
    ]);
  });

  it("prints a table for people with the marks", async () => {
    const r = await flz(
      "clock",
      "--aware-at",
      "2026-03-02T09:00Z",
      "--regime",
      "nis2",
      "--now",
      "2026-03-03T10:00Z",
      "--tz",
      "UTC",
    );
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/OVERDUE\s+2026-03-03T09:00:00Z .*early warning/);
    expect(r.out).to.match(/Waiting for a start event:\n\s+NIS2\s+final report: 1 month after --notified-at/);
  });

  it("skips a one-off closure given with --us-closure", async () => {
    const r = await flz(
      "clock",
      "--determined-at",
      "2025-01-07T12:00Z",
      "--regime",
      "sec",
      "--us-closure",
      "2025-01-09",
      "--tz",
      "UTC",
      "--json",
    );
    expect(JSON.parse(r.out).deadlines[0].dueUtc).to.equal("2025-01-14T22:30:00Z");
  });

  const usage: Array<[string, string[], RegExp]> = [
    [
      "a malformed time",
      ["--aware-at", "2025-13-01T00:00Z"],
      /^flz: --aware-at "2025-13-01T00:00Z" names a date or time that does not exist/,
    ],
    [
      "a time without a zone",
      ["--aware-at", "2025-03-01 09:00"],
      /^flz: --aware-at "2025-03-01 09:00" is not an ISO 8601 time with a zone/,
    ],
    [
      "an unknown regime",
      ["--aware-at", "2025-03-01T09:00Z", "--regime", "sox"],
      /^flz: --regime "sox" is not a known regime/,
    ],
    ["an unknown zone", ["--aware-at", "2025-03-01T09:00Z", "--tz", "CEST"], /^flz: --tz "CEST" is not a time zone/],
    ["no start event", [], /^flz: no start event given: pass at least --aware-at/],
    [
      "a bad due-soon window",
      ["--aware-at", "2025-03-01T09:00Z", "--due-soon", "soon"],
      /^flz: --due-soon "soon" is not a number of hours/,
    ],
  ];
  for (const [what, args, message] of usage) {
    it(`refuses ${what} with one line and exit code 2`, async () => {
      const r = await flz("clock", ...args);
      expect(r.code).to.equal(2);
      expect(r.err).to.match(message);
      expect(r.err.trim().split("\n")).to.have.length(1);
      expect(r.out).to.equal("");
    });
  }
});
