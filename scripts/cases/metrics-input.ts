/**
 * The times of a case that its ledger cannot know by itself, recorded by the operator with a cited source: when the
 * first indicator of compromise occurred and when the attacker first gained access (both usually found in CloudTrail
 * or a finding long after the alert), and, when the ledger's own records are not the right answer, when containment
 * was complete and when safe operations were restored. Each is one `case.metrics.input` record; a later record of the
 * same input corrects an earlier one (both stay in the ledger).
 */
import type { CustodyEvent, CustodyRecord, JsonValue } from "../custody/types";
import { UsageError } from "../errors";

/** What metrics read of a record (custody records, and the drill's timeline entries, carry at least this). */
export type MetricRecord = Pick<CustodyRecord, "sequence" | "time" | "action" | "actor" | "details"> & {
  readonly outcome?: string;
};

/** Ledger action of an operator-recorded metric input. */
export const METRICS_INPUT_ACTION = "case.metrics.input";

/** The inputs an operator records. */
export const METRIC_INPUT_KINDS = ["first-indicator", "initial-access", "contained", "recovered"] as const;
/** One of {@link METRIC_INPUT_KINDS}. */
export type MetricInputKind = (typeof METRIC_INPUT_KINDS)[number];

/**
 * Inputs that are facts about the attacker: they must cite evidence (a CloudTrail event or a finding), never a note.
 * `contained` and `recovered` are the responders' own judgement and may cite a change record or ticket as a note.
 */
const EVIDENCE_ONLY: ReadonlySet<MetricInputKind> = new Set(["first-indicator", "initial-access"]);

/** Where a recorded time comes from. */
export interface Citation {
  /** `cloudtrail-event` (an event ID), `finding` (a GuardDuty, Security Hub, ... finding ID or ARN), `note`. */
  readonly kind: "cloudtrail-event" | "finding" | "note";
  /** The identifier (or the note's text). */
  readonly id: string;
}

/** One recorded input, as read back from the ledger. */
export interface MetricInput {
  /** Which input. */
  readonly kind: MetricInputKind;
  /** The instant it states, ISO 8601 UTC. */
  readonly at: string;
  /** Its source. */
  readonly source: Citation;
  /** The record holding it. */
  readonly sequence: number;
  /** Who recorded it (the record's actor). */
  readonly recordedBy: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** GuardDuty finding IDs: 32 hexadecimal digits. */
const GUARDDUTY_ID = /^[0-9a-f]{32}$/i;
/** A finding ARN of a detection service (Security Hub's finding IDs are ARNs). */
const FINDING_ARN =
  /^arn:(aws|aws-cn|aws-us-gov):(securityhub|guardduty|inspector2|macie2|access-analyzer|detective):[\w-]*:\d{12}:\S+$/;

/**
 * Parses `--source`: a CloudTrail event ID (`cloudtrail:<uuid>` or a bare UUID), a finding ID (`finding:<id>`, a
 * GuardDuty finding ID or a finding ARN), or, for `contained` and `recovered` only, `note:<text>`.
 *
 * @param text the flag's value.
 * @param kind the input it cites a source for.
 */
export function parseCitation(text: string | undefined, kind: MetricInputKind): Citation {
  const valid = EVIDENCE_ONLY.has(kind)
    ? "cloudtrail:<event ID> (a UUID from the event's eventID) or finding:<finding ID or ARN>"
    : "cloudtrail:<event ID>, finding:<finding ID or ARN> or note:<change record or ticket>";
  const value = (text ?? "").trim();
  if (value === "") throw new UsageError(`--source is required for ${kind}: give ${valid}`);
  const [prefix, ...rest] = value.split(":");
  const body = rest.join(":").trim();
  if (prefix === "cloudtrail" && UUID.test(body)) return { kind: "cloudtrail-event", id: body.toLowerCase() };
  if (prefix === "finding" && (GUARDDUTY_ID.test(body) || FINDING_ARN.test(body) || UUID.test(body)))
    return { kind: "finding", id: body };
  if (prefix === "note" && body !== "" && !EVIDENCE_ONLY.has(kind)) return { kind: "note", id: body.slice(0, 500) };
  if (UUID.test(value)) return { kind: "cloudtrail-event", id: value.toLowerCase() };
  if (GUARDDUTY_ID.test(value) || FINDING_ARN.test(value)) return { kind: "finding", id: value };
  throw new UsageError(`--source ${value} is not a source ${kind} can cite: give ${valid}`);
}

/** Parses `--record`. */
export function parseInputKind(text: string | undefined): MetricInputKind {
  const kind = METRIC_INPUT_KINDS.find((k) => k === text);
  if (!kind) {
    throw new UsageError(
      `--record ${text ?? "(missing)"} is not a metric input: give one of ${METRIC_INPUT_KINDS.join(", ")}`,
    );
  }
  return kind;
}

/** The custody event of one recorded input. */
export function metricInputEvent(caseId: string, kind: MetricInputKind, at: Date, source: Citation): CustodyEvent {
  return {
    action: METRICS_INPUT_ACTION,
    subjects: [caseId, ...(source.kind === "note" ? [] : [source.id])],
    details: { input: kind, at: at.toISOString(), source: { kind: source.kind, id: source.id } },
  };
}

const isObject = (v: JsonValue | undefined): v is { [key: string]: JsonValue } =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Every well-formed input record of a case, in ledger order (malformed ones are skipped: verify names them). */
export function metricInputs(records: readonly MetricRecord[]): MetricInput[] {
  const inputs: MetricInput[] = [];
  for (const record of records) {
    if (record?.action !== METRICS_INPUT_ACTION || record.outcome === "failed") continue;
    const d = record.details ?? {};
    const kind = METRIC_INPUT_KINDS.find((k) => k === d.input);
    const at = typeof d.at === "string" && !Number.isNaN(Date.parse(d.at)) ? new Date(d.at).toISOString() : undefined;
    const source = isObject(d.source) ? d.source : undefined;
    if (!kind || !at || typeof source?.id !== "string") continue;
    const sourceKind = source.kind === "finding" || source.kind === "note" ? source.kind : "cloudtrail-event";
    inputs.push({
      kind,
      at,
      source: { kind: sourceKind, id: source.id },
      sequence: record.sequence,
      recordedBy: record.actor,
    });
  }
  return inputs;
}

/** The latest recorded value of each input (a later record corrects an earlier one). */
export function latestInputs(records: readonly MetricRecord[]): Partial<Record<MetricInputKind, MetricInput>> {
  const latest: Partial<Record<MetricInputKind, MetricInput>> = {};
  for (const input of metricInputs(records)) latest[input.kind] = input;
  return latest;
}

/** How a citation reads for people. */
export function describeCitation(source: Citation): string {
  return source.kind === "cloudtrail-event"
    ? `CloudTrail event ${source.id}`
    : source.kind === "finding"
      ? `finding ${source.id}`
      : `note: ${source.id}`;
}
