/**
 * What the state machine passes between the automation's handlers (the states' inputs and outputs), and the one
 * ledger event every guardrail decision becomes.
 */
import type { JsonValue } from "../custody/types";
import type { Decision, DecisionRecord, IntakeGuardrails } from "./decide";
import type { IncidentTarget } from "./incident";

/** Ledger action of every guardrail decision, "skipped because" included. */
export const DECISION_ACTION = "automation.decision";

/** Input of the intake (the state machine's Parameters). */
export interface IntakeInput {
  readonly event: unknown;
  readonly killSwitch: string;
  readonly executionName: string;
  readonly guardrails: IntakeGuardrails;
  /** More instances than this: the item lists go to S3 for Distributed Maps (automation-asl.ts computes it). */
  readonly maxInlineItems: number;
  /** Bucket the item lists of a distributed response are written to (the evidence bucket). */
  readonly listBucket: string;
}

/** One instance to capture (an item of the capture Map). */
export interface CaptureItem {
  readonly caseId: string;
  readonly account: string;
  readonly region: string;
  readonly instanceId: string;
  readonly lockDays: number;
}

/** The instances of one region (the capture's copy quota is per region, so each region's Map is bounded alone). */
export interface RegionGroup {
  readonly region: string;
  readonly instances: CaptureItem[];
}

/** One target to contain (an item of the contain Map), with what its decision record needs. */
export interface ContainItem {
  readonly caseId: string;
  readonly findingId: string;
  readonly executionName: string;
  readonly account: string;
  readonly region: string;
  readonly target: IncidentTarget;
}

/** Where the item lists of a distributed response are (S3 keys in `bucket`). */
export interface ItemLists {
  readonly bucket: string;
  readonly containKey: string;
  readonly captureKey: string;
}

/** What the intake hands to the rest of the state machine. */
export interface IntakeOutput {
  readonly caseId: string;
  readonly executionName: string;
  readonly findingId: string;
  readonly findingType: string;
  readonly account: string;
  readonly region: string;
  readonly target: IncidentTarget;
  readonly decision: Decision;
  readonly reason: string;
  readonly summary: string;
  readonly approvalTimeoutSeconds: number;
  /** Instances the response acts on. */
  readonly instanceCount: number;
  /** Whether the item lists are in S3 (`lists`) for Distributed Maps instead of inline. */
  readonly distributed: boolean;
  /** Targets to contain (inline; empty when distributed). */
  readonly containItems: ContainItem[];
  /** Instances to capture, by region (inline; empty when distributed). */
  readonly regions: RegionGroup[];
  /** The lists in S3, when distributed. */
  readonly lists?: ItemLists;
  /** The rate-limit window (clock hour, UTC) a containment claims a slot in. */
  readonly rateWindow: string;
  /** Sequence of the decision record. */
  readonly decisionRecord: number;
}

/** What a decision record needs to know about the response (an intake output, or one contain item). */
export type DecisionSubject = Pick<IntakeOutput, "caseId" | "findingId" | "target" | "executionName"> &
  Partial<Pick<IntakeOutput, "approvalTimeoutSeconds" | "rateWindow">>;

/** Input of the record function. */
export interface RecordInput {
  readonly intake: DecisionSubject;
  readonly stage: string;
  readonly detail?: {
    readonly approved?: unknown;
    readonly by?: unknown;
    readonly Error?: unknown;
    readonly Cause?: unknown;
  };
}

/** Input of the hash function: the forensic snapshots one capture made. */
export interface HashInput {
  readonly caseId: string;
  readonly instanceId: string;
  readonly destinationRegion: string;
  readonly snapshots: ReadonlyArray<{ readonly volumeId: string; readonly forensicSnapshotId: string | null }>;
}

/** The handlers, bound to a landing zone. */
export interface AutomationHandlers {
  dispatch(
    event: unknown,
  ): Promise<{ readonly started?: string; readonly duplicate?: string; readonly ignored?: string }>;
  intake(input: IntakeInput): Promise<IntakeOutput>;
  record(input: RecordInput): Promise<DecisionRecord & { readonly sequence: number }>;
  contain(input: { readonly item: ContainItem }): Promise<{ [key: string]: JsonValue }>;
  capture(item: CaptureItem): Promise<{ [key: string]: JsonValue }>;
  hash(input: HashInput): Promise<{ [key: string]: JsonValue }>;
  verify(input: { readonly intake: Pick<IntakeOutput, "caseId"> }): Promise<{ [key: string]: JsonValue }>;
}

function targetId(target: IncidentTarget): string {
  return target.kind === "instance" ? target.instanceId : target.kind === "role" ? target.roleName : target.accessKeyId;
}

/** A decision record's event. */
export function decisionEvent(
  subject: Pick<DecisionSubject, "findingId" | "target" | "executionName">,
  stage: string,
  d: DecisionRecord,
  extra: { [key: string]: JsonValue } = {},
) {
  return {
    action: DECISION_ACTION,
    subjects: [targetId(subject.target)],
    details: {
      stage,
      findingId: subject.findingId,
      executionName: subject.executionName,
      decision: d.decision,
      reason: d.reason,
      ...extra,
    },
  };
}
