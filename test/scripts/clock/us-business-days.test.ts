import { expect } from "chai";
import {
  addUsBusinessDays,
  federalHolidayOn,
  federalHolidaysObservedIn,
  isUsBusinessDay,
} from "../../../scripts/clock/us-business-days";
import { formatDate, type CalendarDate } from "../../../scripts/clock/time";

const d = (text: string): CalendarDate => {
  const [year, month, day] = text.split("-").map(Number);
  return { year, month, day };
};
const fourth = (start: string, closures?: Set<string>) => formatDate(addUsBusinessDays(d(start), 4, closures).date);

describe("US business days (SEC)", () => {
  describe("federal holidays, computed by rule", () => {
    it("has the 11 holidays in an ordinary year, with Juneteenth", () => {
      const y2026 = federalHolidaysObservedIn(2026);
      expect(y2026.size).to.equal(11);
      expect(y2026.get("2026-06-19")).to.match(/Juneteenth/);
      expect(y2026.get("2026-11-26")).to.equal("Thanksgiving Day");
      expect(y2026.get("2026-01-19")).to.match(/Martin Luther King/);
    });

    it("observes a Saturday holiday on the Friday before and a Sunday holiday on the Monday after", () => {
      expect(federalHolidayOn(d("2026-07-03"))).to.equal("Independence Day"); // July 4, 2026 is a Saturday
      expect(federalHolidayOn(d("2026-07-04"))).to.equal(undefined);
      expect(federalHolidayOn(d("2027-07-05"))).to.equal("Independence Day"); // July 4, 2027 is a Sunday
    });

    it("observes New Year's Day 2022 (a Saturday) on Dec 31, 2021", () => {
      expect(federalHolidayOn(d("2021-12-31"))).to.equal("New Year's Day");
      expect(federalHolidaysObservedIn(2021).size).to.equal(12);
      expect(federalHolidaysObservedIn(2022).size).to.equal(10);
    });

    it("computes years nobody listed", () => {
      // Thanksgiving 2040 is the fourth Thursday of November: Nov 22.
      expect(federalHolidayOn(d("2040-11-22"))).to.equal("Thanksgiving Day");
      expect(isUsBusinessDay(d("2040-11-21"))).to.equal(true);
    });
  });

  it("counts four business days over a weekend", () => {
    expect(fourth("2026-03-06")).to.equal("2026-03-12"); // Friday -> Thursday
    expect(fourth("2026-03-02")).to.equal("2026-03-06"); // Monday -> Friday
  });

  it("starts counting on the next business day when the determination falls on a weekend", () => {
    expect(fourth("2026-03-07")).to.equal("2026-03-12"); // Saturday -> Thursday
  });

  it("skips Thanksgiving after a determination on the Wednesday before it", () => {
    const count = addUsBusinessDays(d("2025-11-26"), 4);
    expect(formatDate(count.date)).to.equal("2025-12-03");
    expect(count.skipped).to.deep.equal([
      { date: "2025-11-27", reason: "Thanksgiving Day" },
      { date: "2025-11-29", reason: "weekend" },
      { date: "2025-11-30", reason: "weekend" },
    ]);
  });

  it("skips July 3 when July 4 falls on a Saturday, and July 5 when it falls on a Sunday", () => {
    expect(fourth("2026-07-01")).to.equal("2026-07-08");
    expect(fourth("2027-07-01")).to.equal("2027-07-08");
  });

  it("skips Juneteenth and New Year's Day observed on Dec 31", () => {
    expect(fourth("2026-06-16")).to.equal("2026-06-23");
    expect(fourth("2021-12-28")).to.equal("2022-01-04");
  });

  it("skips one-off closures the operator names", () => {
    expect(fourth("2025-01-07")).to.equal("2025-01-13");
    expect(fourth("2025-01-07", new Set(["2025-01-09"]))).to.equal("2025-01-14");
  });
});
