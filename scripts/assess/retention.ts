/**
 * How long logs and evidence must be kept: the longer of the retention the organisation configured and the longest
 * reporting window of the regimes `flz clock` knows. A regime's window is bounded above by the sum of its periods
 * (awareness → notification → intermediate report → final report, each period after the previous deadline), so the
 * evidence is still there when the last report of the chain is due.
 */
import { REPORTING_RULES, type Period, type Regime } from "../clock/regimes";

/** A period as calendar days, rounded up (a month counts 31 days, a US business day 7/5 of a day). */
export function periodDays(period: Period): number {
  switch (period.kind) {
    case "hours":
      return period.hours / 24;
    case "calendar-days":
      return period.days;
    case "months":
      return period.months * 31;
    case "us-business-days":
      // Weekends and a holiday: 4 business days can span 6 calendar days, plus the cut-off day itself.
      return Math.ceil((period.days * 7) / 5) + 1;
  }
}

/** Upper bound, in days, from the first start event to a regime's last deadline. */
export function regimeWindowDays(regime: Regime): number {
  return Math.ceil(
    REPORTING_RULES.filter((r) => r.regime === regime).reduce((sum, r) => sum + periodDays(r.period), 0),
  );
}

/** The required retention and where it comes from. */
export function requiredRetention(
  configuredDays: number,
  regimes: readonly Regime[],
): { readonly days: number; readonly reason: string } {
  const windows = regimes.map((r) => ({ regime: r, days: regimeWindowDays(r) }));
  const longest = windows.reduce((a, b) => (b.days > a.days ? b : a), { regime: "none" as Regime | "none", days: 0 });
  if (longest.days > configuredDays)
    return {
      days: longest.days,
      reason: `${longest.regime.toUpperCase()} reporting window (${longest.days} days) is longer than the configured ${configuredDays} days`,
    };
  return {
    days: configuredDays,
    reason: `configured retention ${configuredDays} days (longest reporting window: ${longest.regime === "none" ? "none" : `${longest.regime.toUpperCase()} ${longest.days} days`})`,
  };
}
