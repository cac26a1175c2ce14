// flz clock's edges through the CLI entry: remaining time rounded down, an empty --regime refused, contradictory
// start events named.
import { expect } from "chai";
import { runFlz } from "../../support/cli";

describe("flz clock edges", () => {
  it("rounds remaining time down: 59 d 23 h 59 m 30 s left never reads as 60 d", async () => {
    const run = await runFlz([
      "clock",
      "--aware-at",
      "2026-03-02T00:00:00Z",
      "--regime",
      "hipaa",
      "--now",
      "2026-03-02T00:00:30Z",
      "--tz",
      "UTC",
      "--json",
    ]);
    const [d] = JSON.parse(run.out).deadlines;
    expect(d.minutesLeft).to.equal(60 * 24 * 60 - 1);
    expect(d.hoursLeft).to.equal(1439.9);
    const text = await runFlz([
      "clock",
      "--aware-at",
      "2026-03-02T00:00:00Z",
      "--regime",
      "hipaa",
      "--now",
      "2026-03-02T00:00:30Z",
      "--tz",
      "UTC",
    ]);
    expect(text.out).to.contain("in 59 d 23 h 59 m");
  });

  it("refuses an empty --regime instead of computing every regime", async () => {
    for (const regime of ["", " , "]) {
      const run = await runFlz(["clock", "--aware-at", "2026-03-02T00:00:00Z", "--regime", regime]);
      expect(run.code).to.equal(2);
      expect(run.err.trim()).to.match(/^flz: --regime ".*" names no regime: use a comma-separated list of gdpr/);
    }
  });

  it("warns about a determination before awareness and an event in the future, and still computes", async () => {
    const run = await runFlz([
      "clock",
      "--aware-at",
      "2026-03-05T00:00:00Z",
      "--determined-at",
      "2026-03-04T00:00:00Z",
      "--notified-at",
      "2027-01-01T00:00:00Z",
      "--now",
      "2026-03-06T00:00:00Z",
      "--json",
    ]);
    expect(run.code).to.equal(0);
    expect(run.err).to.match(
      /warning: --determined-at 2026-03-04T00:00:00Z is before --aware-at 2026-03-05T00:00:00Z: an incident cannot be determined before anyone was aware of it/,
    );
    expect(run.err).to.match(/warning: --notified-at 2027-01-01T00:00:00Z is later than now/);
    expect(JSON.parse(run.out).warnings).to.have.length(2);
  });

  it("echoes an over-long record number as typed, never as 1e+23", async () => {
    const run = await runFlz([
      "clock",
      "--case",
      "IR-1",
      "--aware-record",
      "100000000000000000000000",
      "--landing-zone",
      "/nonexistent.json",
    ]);
    expect(run.code).to.equal(2);
    expect(run.err.trim()).to.equal(
      'flz: --aware-record "100000000000000000000000" is not a record sequence number: use 0 for the first record, 1 for the next, ...',
    );
  });
});
