import { expect } from "chai";
import {
  addCalendarMonths,
  addHours,
  checkTimeZone,
  formatInZone,
  instantOfWallTime,
  parseCalendarDate,
  parseInstant,
} from "../../../scripts/clock/time";
import { UsageError } from "../../../scripts/errors";

const at = (iso: string) => new Date(iso);

describe("clock time arithmetic", () => {
  describe("parseInstant", () => {
    it("reads UTC and offset times to the same instant", () => {
      expect(parseInstant("2026-03-02T09:15:00Z", "--aware-at").toISOString()).to.equal("2026-03-02T09:15:00.000Z");
      expect(parseInstant("2026-03-02T10:15+01:00", "--aware-at").toISOString()).to.equal("2026-03-02T09:15:00.000Z");
      expect(parseInstant("2026-03-02T04:15:00.250-05:00", "--aware-at").toISOString()).to.equal(
        "2026-03-02T09:15:00.250Z",
      );
    });

    it("refuses a time without a zone, naming the flag and the value", () => {
      expect(() => parseInstant("2026-03-02T09:15", "--aware-at")).to.throw(
        UsageError,
        /--aware-at "2026-03-02T09:15".*with a zone/,
      );
    });

    it("refuses dates that do not exist instead of rolling them over", () => {
      expect(() => parseInstant("2025-02-29T00:00Z", "--now")).to.throw(UsageError, /does not exist/);
      expect(() => parseInstant("2025-02-30T00:00Z", "--now")).to.throw(UsageError, /does not exist/);
      expect(() => parseInstant("2025-04-31T00:00Z", "--now")).to.throw(UsageError, /does not exist/);
      expect(() => parseInstant("2025-01-01T24:00Z", "--now")).to.throw(UsageError);
      expect(parseInstant("2024-02-29T00:00Z", "--now").toISOString()).to.equal("2024-02-29T00:00:00.000Z");
    });

    it("refuses garbage and impossible offsets", () => {
      expect(() => parseInstant("yesterday", "--aware-at")).to.throw(UsageError);
      expect(() => parseInstant("2026-03-02T09:15+15:00", "--aware-at")).to.throw(UsageError, /offset/);
    });
  });

  describe("addCalendarMonths (end-of-month clamping)", () => {
    it("clamps Jan 31 + 1 month to the last day of February", () => {
      expect(addCalendarMonths(at("2025-01-31T14:00:00Z"), 1).toISOString()).to.equal("2025-02-28T14:00:00.000Z");
    });
    it("lands on Feb 29 in a leap year", () => {
      expect(addCalendarMonths(at("2024-01-31T14:00:00Z"), 1).toISOString()).to.equal("2024-02-29T14:00:00.000Z");
      expect(addCalendarMonths(at("2024-01-29T14:00:00Z"), 1).toISOString()).to.equal("2024-02-29T14:00:00.000Z");
    });
    it("clamps a leap day a year on to Feb 28", () => {
      expect(addCalendarMonths(at("2024-02-29T08:00:00Z"), 12).toISOString()).to.equal("2025-02-28T08:00:00.000Z");
    });
    it("keeps the day when the next month has it, and does not snap to month ends", () => {
      expect(addCalendarMonths(at("2025-02-28T08:00:00Z"), 1).toISOString()).to.equal("2025-03-28T08:00:00.000Z");
      expect(addCalendarMonths(at("2025-03-31T08:00:00Z"), 1).toISOString()).to.equal("2025-04-30T08:00:00.000Z");
    });
    it("crosses the year", () => {
      expect(addCalendarMonths(at("2025-12-31T23:59:00Z"), 1).toISOString()).to.equal("2026-01-31T23:59:00.000Z");
    });
  });

  describe("zones", () => {
    it("shows a due time with the offset in force at that time, across a spring DST change", () => {
      // Aware on Friday 11:00 in Berlin (winter time); 72 elapsed hours later Berlin is on summer time.
      const aware = parseInstant("2025-03-28T11:00:00+01:00", "--aware-at");
      const due = addHours(aware, 72);
      expect(due.toISOString()).to.equal("2025-03-31T10:00:00.000Z");
      expect(formatInZone(aware, "Europe/Berlin")).to.equal("2025-03-28T11:00:00+01:00");
      expect(formatInZone(due, "Europe/Berlin")).to.equal("2025-03-31T12:00:00+02:00");
    });

    it("shows a due time across an autumn DST change in New York", () => {
      const aware = parseInstant("2025-11-01T09:00:00-04:00", "--aware-at");
      expect(formatInZone(addHours(aware, 24), "America/New_York")).to.equal("2025-11-02T08:00:00-05:00");
    });

    it("converts a wall time to the right instant on both sides of a DST change", () => {
      expect(instantOfWallTime({ year: 2026, month: 3, day: 6 }, 17, 30, "America/New_York").toISOString()).to.equal(
        "2026-03-06T22:30:00.000Z",
      );
      expect(instantOfWallTime({ year: 2026, month: 3, day: 9 }, 17, 30, "America/New_York").toISOString()).to.equal(
        "2026-03-09T21:30:00.000Z",
      );
    });

    it("accepts IANA zones and refuses unknown ones", () => {
      expect(checkTimeZone("UTC")).to.equal("UTC");
      expect(checkTimeZone("Asia/Kolkata")).to.equal("Asia/Kolkata");
      expect(() => checkTimeZone("Mars/Olympus")).to.throw(UsageError, /--tz "Mars\/Olympus" is not a time zone/);
    });
  });

  it("parses calendar dates strictly", () => {
    expect(parseCalendarDate("2025-01-09", "--us-closure")).to.deep.equal({ year: 2025, month: 1, day: 9 });
    expect(() => parseCalendarDate("2025-13-01", "--us-closure")).to.throw(UsageError, /--us-closure/);
    expect(() => parseCalendarDate("9 Jan 2025", "--us-closure")).to.throw(UsageError);
  });
});
