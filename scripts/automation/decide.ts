/**
 * The guardrails' decision for one incident (issue 15, item 2), a pure function of what the intake read: the kill
 * switch, the excluded accounts, the opt-out tag, the mode for the finding type, and an earlier decision for the same
 * finding. The rate limit is decided later by the state machine (a conditional write), and recorded too.
 */
import {
  AUTOMATION_MODES,
  KILL_SWITCH_RELEASED,
  modeFor,
  OPT_OUT_TAG_KEY,
  OPT_OUT_TAG_VALUE,
  type AutomationMode,
} from "../../components/documents/automation";
import type { Incident } from "./incident";
import type { RecordInput } from "./types";

/** What the state machine does next. */
export type Decision = "skip" | AutomationMode;

/** A decision and why, as the ledger records it. */
export interface DecisionRecord {
  readonly decision: Decision;
  readonly reason: string;
}

/** The guardrails the intake receives from the definition. */
export interface IntakeGuardrails {
  readonly modes: Readonly<Record<string, AutomationMode>>;
  readonly defaultMode: AutomationMode;
  readonly excludedAccountIds: readonly string[];
  readonly minimumSeverity: number;
  readonly approvalTimeoutSeconds: number;
  readonly lockDays: number;
}

/** What the intake found out before deciding. */
export interface DecisionFacts {
  /** The kill switch's value (`unreadable` when the state machine could not read it). */
  readonly killSwitch: string;
  /** Tags of the target (instance or role), as read in the member account; undefined when it does not exist. */
  readonly targetTags?: Readonly<Record<string, string>>;
  /** Sequence of an earlier decision record for the same finding in this case, if any. */
  readonly earlierDecision?: number;
}

const RANK: Record<AutomationMode, number> = { observe: 0, approval: 1, contain: 2 };

/**
 * The rules that stop a response before anything in a member account is read: the kill switch (first), a duplicate
 * delivery, an excluded account, a GuardDuty severity below the minimum. Undefined when none applies.
 */
export function gate(
  incident: Incident,
  guardrails: IntakeGuardrails,
  facts: Pick<DecisionFacts, "killSwitch" | "earlierDecision">,
): DecisionRecord | undefined {
  if (facts.killSwitch !== KILL_SWITCH_RELEASED)
    return {
      decision: "skip",
      reason: `kill switch engaged: its value is ${JSON.stringify(facts.killSwitch)}, and only ${JSON.stringify(KILL_SWITCH_RELEASED)} lets the automation act`,
    };
  if (facts.earlierDecision !== undefined)
    return {
      decision: "skip",
      reason: `duplicate delivery of finding ${incident.findingId}: already decided in record ${facts.earlierDecision}; no second response`,
    };
  if (guardrails.excludedAccountIds.includes(incident.account))
    return { decision: "skip", reason: `account ${incident.account} is excluded from automated response` };
  if (incident.source === "guardduty" && incident.severity < guardrails.minimumSeverity)
    return {
      decision: "skip",
      reason: `severity ${incident.severity} is below the configured minimum ${guardrails.minimumSeverity}`,
    };
  return undefined;
}

/** The guardrails' decision: the first rule that stops the response wins; otherwise the mode of the finding type. */
export function decide(incident: Incident, guardrails: IntakeGuardrails, facts: DecisionFacts): DecisionRecord {
  const stopped = gate(incident, guardrails, facts);
  if (stopped) return stopped;
  if (facts.targetTags === undefined)
    return {
      decision: "skip",
      reason: `the ${incident.target.kind} named by the finding does not exist in ${incident.account} ${incident.region}`,
    };
  if (facts.targetTags[OPT_OUT_TAG_KEY] === OPT_OUT_TAG_VALUE)
    return {
      decision: "skip",
      reason: `the ${incident.target.kind} is tagged ${OPT_OUT_TAG_KEY}=${OPT_OUT_TAG_VALUE}: never touched by automation`,
    };
  let mode = modeFor(guardrails, incident.findingType);
  let why = `mode for ${incident.findingType}: ${mode}`;
  const requested = incident.requestedMode as AutomationMode | undefined;
  if (requested !== undefined && AUTOMATION_MODES.includes(requested) && RANK[requested] < RANK[mode]) {
    mode = requested;
    why = `${why}, lowered to ${requested} as the request asks`;
  }
  return { decision: mode, reason: mode === "observe" ? `${why}: capture only` : why };
}

/** The decision a later stage records (approval answered or timed out, rate limit, failed containment). */
export function stageDecision(input: RecordInput): DecisionRecord {
  const d = input.detail ?? {};
  switch (input.stage) {
    case "approval": {
      const by = typeof d.by === "string" && d.by ? d.by : "an unnamed approver";
      return d.approved === true
        ? { decision: "contain", reason: `containment approved by ${by}` }
        : { decision: "observe", reason: `containment refused by ${by}: capture only` };
    }
    case "approval-timeout":
      return {
        decision: "observe",
        reason: `no approval within ${input.intake.approvalTimeoutSeconds ?? "the configured"} s: capture only (the default when nobody answers)`,
      };
    case "approval-failed":
      return { decision: "observe", reason: `approval request failed (${String(d.Error ?? "error")}): capture only` };
    case "rate-limited":
      return {
        decision: "observe",
        reason: `containment rate limit reached for ${input.intake.rateWindow ?? "this hour"}h UTC: capture only`,
      };
    case "rate-unknown":
      return {
        decision: "observe",
        reason: `rate limit could not be checked (${String(d.Error ?? "error")}): capture only (fail closed)`,
      };
    case "contain-failed":
      return {
        decision: "observe",
        reason: `containment failed (${String(d.Error ?? "error")}: ${String(d.Cause ?? "").slice(0, 300)}); capture continues`,
      };
    default:
      throw new Error(`unknown decision stage ${JSON.stringify(input.stage)}`);
  }
}
