/**
 * The drill runbook's model: scenarios, steps and their outcomes, what the report shows, and the pure arithmetic over
 * them (which steps run in a scenario, how long a phase took). Kept apart from the runbook that produces it so the
 * report, the automated scenario and the tests read it without the commands the runbook calls.
 */
import type { CaptureResult } from "../capture/capture";
import type { ClockReport } from "../clock/deadlines";
import type { LandingZone } from "../contract";
import type { ChainVerification } from "../custody/chain";
import type { CustodyRecord, JsonValue } from "../custody/types";
import type { PlantedIncident } from "./plant";

/** Drill scenarios. */
export type Scenario = "leaked-key" | "compromised-instance" | "all" | "automated";

/** Every scenario name, as `--scenario` accepts them. */
export const SCENARIOS: readonly Scenario[] = ["leaked-key", "compromised-instance", "all", "automated"];

/**
 * Outcome of one step. `skipped` means a step it needs did not pass (so it could not run): never counted as passed.
 * `not-in-scenario` means the scenario does not include the step: shown, so every report lists the same runbook, and
 * neither a pass nor a failure.
 */
export type StepStatus = "passed" | "failed" | "skipped" | "not-in-scenario";

/**
 * What a step counts towards. Evidence is secured when the forensic account owns locked copies (capture); hashing
 * and storing artefacts make the custody record of it, and do not delay "secured".
 */
export type StepPhase = "case" | "contain" | "evidence" | "custody" | "report";

/** One runbook step's outcome. */
export interface StepResult {
  /** Stable ID, e.g. `contain-sessions`. */
  readonly id: string;
  /** What the step does, for people. */
  readonly title: string;
  /** What it counts towards (time to contain, time to evidence secured). */
  readonly phase: StepPhase;
  /** The equivalent operator command line. */
  readonly command: string;
  /** Outcome. */
  readonly status: StepStatus;
  /** Start, UTC ISO 8601 with milliseconds. */
  readonly startedAt: string;
  /** Duration, milliseconds. */
  readonly durationMs: number;
  /** One line: what happened. */
  readonly summary: string;
  /** The error line, when failed; why, when skipped. */
  readonly error?: string;
}

/** Everything the runbook produced. */
export interface RunbookResult {
  /** Case ID. */
  readonly caseId: string;
  /** Scenario run. */
  readonly scenario: Scenario;
  /** When the runbook started (the incident's detection, for the drill's clocks). */
  readonly startedAt: string;
  /** Steps, in order. */
  readonly steps: StepResult[];
  /** Milliseconds from the start to the end of the last containment step, when every containment step passed. */
  readonly timeToContainMs?: number;
  /** Milliseconds from the start to the end of the last evidence step, when every evidence step passed. */
  readonly timeToEvidenceSecuredMs?: number;
  /** The capture's outcome, when it ran. */
  readonly capture?: CaptureResult;
  /**
   * The verification of the whole chain as the report shows it (every record of the timeline, read after the last
   * step), when the verify step ran; {@link RunbookResult.custodyAtStep} is what that step itself verified.
   */
  readonly custody?: ChainVerification;
  /** What the verify step verified when it ran (the records written before it). */
  readonly custodyAtStep?: ChainVerification;
  /** The image digests of the forensic snapshots, checked against the planted disks, when hashed. */
  readonly snapshotHashes?: SnapshotHashCheck[];
  /** The analyst's artefact put into the evidence bucket, when put. */
  readonly artefact?: ArtefactCheck;
  /** The reporting clocks, when computed. */
  readonly clock?: ClockReport;
  /** Every record of the case's ledger, in order. */
  readonly timeline: TimelineEntry[];
}

/** One ledger record, as the report's timeline shows it. */
export interface TimelineEntry {
  /** Sequence number. */
  readonly sequence: number;
  /** Time, UTC. */
  readonly time: string;
  /** Who appended it (STS caller ARN). */
  readonly actor: string;
  /** What happened. */
  readonly action: string;
  /** What it happened to. */
  readonly subjects: string[];
  /** `succeeded` or `failed`. */
  readonly outcome: string;
  /** The evidence it vouches for, with hashes. */
  readonly evidence: { kind: string; location: string; sha256?: string }[];
  /** The record hash. */
  readonly hash?: string;
  /** The previous record's hash. */
  readonly previousHash?: string;
  /** The record's details (what was changed, the facts of the action). */
  readonly details?: { [key: string]: JsonValue };
  /** The record's undo information, when reversible. */
  readonly undo?: { [key: string]: JsonValue };
  /** The error line, when failed. */
  readonly error?: string;
}

/** A forensic snapshot's image digest against the raw image the drill planted on that device. */
export interface SnapshotHashCheck {
  /** Device of the captured volume. */
  readonly device: string;
  /** The captured volume. */
  readonly volumeId: string;
  /** The forensic account's locked copy that was hashed. */
  readonly forensicSnapshotId: string;
  /** Its image digest, through the EBS direct APIs. */
  readonly imageSha256: string;
  /** SHA-256 of the raw image planted on the device. */
  readonly plantedSha256: string;
  /** Whether they are equal. */
  readonly matches: boolean;
  /** Written blocks read and verified. */
  readonly writtenBlocks: number;
  /** Ledger record of the digest. */
  readonly recordSequence: number;
}

/** The analyst's artefact, as put and as recorded. */
export interface ArtefactCheck {
  /** Local file the drill wrote. */
  readonly file: string;
  /** Where it went. */
  readonly location: string;
  /** SHA-256 of the local file, computed separately. */
  readonly sha256: string;
  /** Bytes. */
  readonly bytes: number;
  /** Ledger record of the upload. */
  readonly recordSequence: number;
}

/** Options of {@link runRunbook}. */
export interface RunbookOptions {
  /** The landing-zone contract. */
  readonly landingZone: LandingZone;
  /** The planted incident. */
  readonly incident: PlantedIncident;
  /** Scenario. */
  readonly scenario: Scenario;
  /** Case ID. */
  readonly caseId: string;
  /** The landing-zone contract file (what `--landing-zone` names for the commands run as an operator would). */
  readonly landingZoneFile: string;
  /** Folder for the artefacts the drill writes (the analyst's memory image). */
  readonly workDir: string;
  /** Milliseconds between snapshot polls. Default 200 (the emulator completes snapshots at once). */
  readonly pollIntervalMs?: number;
  /** Called as each step ends (progress lines). */
  readonly onStep?: (step: StepResult) => void;
}
/** Whether a step runs in a scenario. */
export function stepRunsIn(scenarios: readonly Scenario[], scenario: Scenario): boolean {
  return scenario === "all" || scenarios.includes(scenario);
}

/**
 * Milliseconds from start to the end of the last step of a phase, or undefined when the phase did not run or any step
 * of it did not pass ({@link phaseRan} tells which).
 */
export function phaseDuration(steps: readonly StepResult[], phase: StepPhase, startedAt: string): number | undefined {
  const of = steps.filter((s) => s.phase === phase && s.status !== "not-in-scenario");
  if (of.length === 0 || of.some((s) => s.status !== "passed")) return undefined;
  const end = Math.max(...of.map((s) => Date.parse(s.startedAt) + s.durationMs));
  return end - Date.parse(startedAt);
}

/** Whether any step of a phase is part of the scenario that ran. */
export function phaseRan(steps: readonly StepResult[], phase: StepPhase): boolean {
  return steps.some((s) => s.phase === phase && s.status !== "not-in-scenario");
}

/** A record as the timeline shows it. */
export function timelineEntry(record: CustodyRecord): TimelineEntry {
  return {
    sequence: record.sequence,
    time: record.time,
    actor: record.actor,
    action: record.action,
    subjects: record.subjects,
    outcome: record.outcome ?? "succeeded",
    evidence: (record.evidence ?? []).map((e) => ({
      kind: e.kind,
      location: e.location,
      ...(e.sha256 ? { sha256: e.sha256 } : {}),
    })),
    hash: record.hash,
    previousHash: record.previousHash,
    ...(record.details ? { details: record.details } : {}),
    ...(record.undo ? { undo: record.undo } : {}),
    ...(record.error ? { error: record.error } : {}),
  };
}
