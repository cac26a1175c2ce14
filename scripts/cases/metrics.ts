/**
 * The incident-response metrics AWS's Security Incident Response Guide defines, computed from a case's ledger (pure).
 * Each metric is a duration between two instants of the case: the ledger's own records (awareness and acknowledgement
 * from `case.opened`, the first responsive action, the completion of containment) and the inputs the operator recorded
 * with a cited source (`metrics-input.ts`). A metric whose instants are missing is reported as missing, naming what is
 * missing and how to record it; one whose end precedes its start is reported as inconsistent, never as a negative or
 * guessed duration. Across cases, means and medians are taken over the cases where the metric could be computed.
 *
 * AWS uses "MTTR" both for "respond" and for "recover": they are distinct metrics here, labelled by their verb.
 */
import { describeCitation, latestInputs, type MetricInputKind, type MetricRecord } from "./metrics-input";
import { openingOf } from "./registry";

/** An instant of the case's timeline and where it comes from. */
export interface Instant {
  /** ISO 8601 UTC. */
  readonly at: string;
  /** Where it comes from, for people ("record 4 contain.sessions.revoked", "CloudTrail event ..."). */
  readonly source: string;
  /** The record holding it. */
  readonly sequence: number;
}

/** The instants metrics are computed from. */
export type InstantName =
  "first-indicator" | "initial-access" | "alert" | "acknowledged" | "first-action" | "contained" | "recovered";

/** A case's timeline: the instants known, and why the others are not. */
export interface Timeline {
  /** The case. */
  readonly caseId: string;
  /** The instants known. */
  readonly instants: Partial<Record<InstantName, Instant>>;
  /** Why an instant is unknown, and how to record it. */
  readonly missing: Partial<Record<InstantName, string>>;
  /** Inputs that contradict each other but still allow computing (initial access after the first indicator). */
  readonly warnings: string[];
}

/** One metric's definition: AWS's words, and the instants it spans. */
export interface MetricDefinition {
  /** Stable key. */
  readonly key: "detect" | "acknowledge" | "respond" | "contain" | "recover" | "dwell";
  /** Its name, with the verb that tells "respond" and "recover" apart. */
  readonly name: string;
  /** AWS's definition, quoted. */
  readonly definition: string;
  /** Where AWS defines it. */
  readonly url: string;
  /** Start instant. */
  readonly from: InstantName;
  /** End instant. */
  readonly to: InstantName;
}

const GUIDE = "https://docs.aws.amazon.com/whitepapers/latest/aws-security-incident-response-guide";

/** The metrics, in lifecycle order, with AWS's definitions (Security Incident Response Guide, "Metrics"). */
export const METRICS: readonly MetricDefinition[] = [
  {
    key: "detect",
    name: "Time to detect",
    definition:
      "the time between the occurrence of the first indicator of compromise and the initial identification or alert",
    url: `${GUIDE}/mean-time-to-detect.html`,
    from: "first-indicator",
    to: "alert",
  },
  {
    key: "acknowledge",
    name: "Time to acknowledge",
    definition: "average time it takes to acknowledge (and prioritize) a possible security incident",
    url: `${GUIDE}/metrics-summary.html`,
    from: "alert",
    to: "acknowledged",
  },
  {
    key: "respond",
    name: "Time to respond (MTTR: respond)",
    definition:
      "the time between initial alert or discovery of a possible security incident and first actions taken to respond",
    url: `${GUIDE}/mean-time-to-respond.html`,
    from: "alert",
    to: "first-action",
  },
  {
    key: "contain",
    name: "Time to contain",
    definition:
      "the time between initial alert or discovery and the completion of responsive actions that effectively prevents the attacker or compromised systems from doing further harm",
    url: `${GUIDE}/mean-time-to-contain.html`,
    from: "alert",
    to: "contained",
  },
  {
    key: "recover",
    name: "Time to recover (MTTR: recover)",
    definition: "average time it takes to fully return to safe operations from a possible security incident",
    url: `${GUIDE}/metrics-summary.html`,
    from: "alert",
    to: "recovered",
  },
  {
    key: "dwell",
    name: "Attacker dwell time",
    definition:
      "similar to mean time to contain, except the time frame begins with the initial time the attacker gained access to the system or environments, which might be earlier than the initial alert or discovery",
    url: `${GUIDE}/attacker-dwell-time.html`,
    from: "initial-access",
    to: "contained",
  },
];

/** Records that are responsive actions (AWS: "for example, acquire system data, contain the system"). */
const RESPONSIVE = /^(contain|capture|evidence)\./;
const INTENT = "contain.intent";
const UNDO = "contain.undone";

function inputHint(caseId: string, kind: MetricInputKind): string {
  const source =
    kind === "first-indicator" || kind === "initial-access"
      ? "cloudtrail:<event ID>|finding:<ID>"
      : "cloudtrail:<event ID>|finding:<ID>|note:<ticket>";
  return `flz case metrics ${caseId} --record ${kind} --at <time> --source ${source}`;
}

/**
 * The case's timeline from its records. Record 0 (`case.opened`) gives the alert (the awareness time the operator
 * stated: "initial alert or discovery") and the acknowledgement (the record's own time: the case was opened, i.e.
 * someone took it on). The first responsive action is the earliest containment intent or completion, capture or
 * evidence record. Containment is complete at the last containment completion, provided no containment was left
 * interrupted; an operator-recorded `contained` input takes precedence (containment may have been completed outside
 * flz). Recovery is only ever operator-recorded.
 */
export function caseTimeline(caseId: string, all: readonly MetricRecord[]): Timeline {
  // Reports show records that verify and records that do not; only well-formed ones can date anything.
  const records = all.filter(
    (r) =>
      typeof r === "object" &&
      r !== null &&
      typeof r.action === "string" &&
      typeof r.sequence === "number" &&
      typeof r.time === "string" &&
      !Number.isNaN(Date.parse(r.time)),
  );
  const instants: Partial<Record<InstantName, Instant>> = {};
  const missing: Partial<Record<InstantName, string>> = {};
  const warnings: string[] = [];
  const first = records.find((r) => r.sequence === 0);
  const opening = first ? openingOf(first) : undefined;
  if (first && opening && "opening" in opening) {
    instants.alert = {
      at: new Date(opening.opening.awarenessTime).toISOString(),
      source: "record 0 case.opened (awareness time)",
      sequence: 0,
    };
    instants.acknowledged = { at: first.time, source: "record 0 case.opened (time the case was opened)", sequence: 0 };
  } else {
    const why = "record 0 is not a case.opened record (the case was not opened with flz case open)";
    missing.alert = why;
    missing.acknowledged = why;
  }
  const firstAction = records.find((r) => RESPONSIVE.test(r.action) && r.action !== UNDO);
  if (firstAction) {
    instants["first-action"] = {
      at: firstAction.time,
      source: `record ${firstAction.sequence} ${firstAction.action === INTENT ? `intent of ${String(firstAction.details?.for ?? "a containment")}` : firstAction.action}`,
      sequence: firstAction.sequence,
    };
  } else missing["first-action"] = "no containment, capture or evidence record yet";

  const inputs = latestInputs(records);
  const fromInput = (kind: MetricInputKind): Instant | undefined => {
    const input = inputs[kind];
    return input
      ? {
          at: input.at,
          source: `record ${input.sequence} (${describeCitation(input.source)})`,
          sequence: input.sequence,
        }
      : undefined;
  };
  for (const kind of ["first-indicator", "initial-access", "recovered"] as const) {
    const instant = fromInput(kind);
    if (instant) instants[kind] = instant;
    else missing[kind] = `not recorded: ${inputHint(caseId, kind)}`;
  }

  const declared = fromInput("contained");
  if (declared) instants.contained = declared;
  else {
    const completions = records.filter(
      (r) => r.action.startsWith("contain.") && r.action !== INTENT && r.action !== UNDO && r.outcome !== "failed",
    );
    const completed = new Set(completions.map((r) => r.details?.intent).filter((s) => typeof s === "number"));
    const undone = new Set(records.filter((r) => r.action === UNDO).map((r) => r.details?.undoes));
    const interrupted = records.filter(
      (r) =>
        r.action === INTENT &&
        r.details?.for !== UNDO &&
        !completed.has(r.sequence) &&
        !undone.has(r.sequence) &&
        !records.some((c) => Array.isArray(c.details?.supersedes) && c.details.supersedes.includes(r.sequence)),
    );
    const last = completions[completions.length - 1];
    if (interrupted.length > 0) {
      missing.contained = `containment is not complete: record(s) ${interrupted.map((r) => r.sequence).join(", ")} never completed (rerun or undo them), or record it: ${inputHint(caseId, "contained")}`;
    } else if (last) {
      instants.contained = {
        at: last.time,
        source: `record ${last.sequence} ${last.action} (last containment completed)`,
        sequence: last.sequence,
      };
    } else
      missing.contained = `no containment recorded: contain with flz contain, or ${inputHint(caseId, "contained")}`;
  }
  const access = instants["initial-access"];
  const indicator = instants["first-indicator"];
  if (access && indicator && Date.parse(access.at) > Date.parse(indicator.at)) {
    warnings.push(
      `initial access (${access.at}) is after the first indicator of compromise (${indicator.at}): one of them is probably wrong`,
    );
  }
  return { caseId, instants, missing, warnings };
}

/** One metric of one case. */
export interface MetricValue {
  /** Which metric. */
  readonly key: MetricDefinition["key"];
  /** Its name. */
  readonly name: string;
  /** AWS's definition. */
  readonly definition: string;
  /** Start and end instants, when known. */
  readonly from?: Instant;
  /** End instant. */
  readonly to?: Instant;
  /** The duration in seconds, or null when it cannot be computed. */
  readonly seconds: number | null;
  /** Why it cannot be computed (missing inputs, or an end before its start). */
  readonly reason?: string;
}

/** Every metric of a case's timeline. */
export function caseMetrics(timeline: Timeline): MetricValue[] {
  return METRICS.map((m) => {
    const from = timeline.instants[m.from];
    const to = timeline.instants[m.to];
    const base = { key: m.key, name: m.name, definition: m.definition, from, to };
    const gaps = [m.from, m.to]
      .filter((n) => !timeline.instants[n])
      .map((n) => `${n}: ${timeline.missing[n] ?? "unknown"}`);
    if (!from || !to) return { ...base, seconds: null, reason: `missing ${gaps.join("; ")}` };
    const seconds = (Date.parse(to.at) - Date.parse(from.at)) / 1000;
    if (seconds < 0) {
      return {
        ...base,
        seconds: null,
        reason: `inconsistent: ${m.to} (${to.at}, ${to.source}) is before ${m.from} (${from.at}, ${from.source}); correct the input that is wrong`,
      };
    }
    return { ...base, seconds };
  });
}

/** A metric across cases. */
export interface MetricSummary {
  /** Which metric. */
  readonly key: MetricDefinition["key"];
  /** Its name. */
  readonly name: string;
  /** AWS's definition. */
  readonly definition: string;
  /** Cases where it could be computed. */
  readonly cases: number;
  /** Mean in seconds (null when no case). */
  readonly meanSeconds: number | null;
  /** Median in seconds (null when no case). */
  readonly medianSeconds: number | null;
  /** Cases where it could not be computed. */
  readonly missingIn: string[];
}

/** Mean of values (null for none). */
export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Median of values (the mean of the middle two for an even count; null for none). */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Means and medians of each metric over the given cases' metrics. */
export function summarizeMetrics(perCase: readonly { caseId: string; metrics: MetricValue[] }[]): MetricSummary[] {
  return METRICS.map((m) => {
    const values: number[] = [];
    const missingIn: string[] = [];
    for (const c of perCase) {
      const v = c.metrics.find((x) => x.key === m.key);
      if (v && v.seconds !== null) values.push(v.seconds);
      else missingIn.push(c.caseId);
    }
    return {
      key: m.key,
      name: m.name,
      definition: m.definition,
      cases: values.length,
      meanSeconds: mean(values),
      medianSeconds: median(values),
      missingIn,
    };
  });
}

/** Whether a case counts as closed for the summary: its recovery is recorded (safe operations restored). */
export function isClosed(timeline: Timeline): boolean {
  return timeline.instants.recovered !== undefined;
}

/** A duration for people: `2d 03h 04m 05s`, `4m 05s`, `12s`. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return "n/a";
  const s = Math.round(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (d > 0) return `${d}d ${pad(h)}h ${pad(m)}m ${pad(s % 60)}s`;
  if (h > 0) return `${h}h ${pad(m)}m ${pad(s % 60)}s`;
  if (m > 0) return `${m}m ${pad(s % 60)}s`;
  return `${s}s`;
}

/** One case's metrics as lines for people (also used by the drill report and the custody export). */
export function metricLines(metrics: readonly MetricValue[], warnings: readonly string[] = []): string[] {
  const lines: string[] = [];
  for (const m of metrics) {
    lines.push(
      m.seconds === null
        ? `${m.name}: not computed (${m.reason ?? "missing inputs"})`
        : `${m.name}: ${formatDuration(m.seconds)} (from ${m.from?.at ?? "?"}, ${m.from?.source ?? "?"}; to ${m.to?.at ?? "?"}, ${m.to?.source ?? "?"})`,
    );
    lines.push(`  AWS: "${m.definition}"`);
  }
  for (const w of warnings) lines.push(`warning: ${w}`);
  return lines;
}
