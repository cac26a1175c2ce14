/**
 * The drill's runbook: the steps an operator takes after the incident is found, run through the same functions the
 * `flz` commands call, all recording in one case ledger. Each step is timed; a failing step is recorded as failed
 * and the runbook goes on where later steps do not depend on it, so one report shows everything that broke.
 */
import { ClientFactory } from "../aws/clients";
import { captureInstance, type CaptureResult } from "../capture/capture";
import { parseCaptureRequest } from "../capture/plan";
import { clockForCase } from "../commands/clock";
import type { ClockReport } from "../clock/deadlines";
import { deactivateAccessKey } from "../contain/access-key";
import type { ContainContext, ContainResult } from "../contain/common";
import { containInstance } from "../contain/instance";
import { revokeSessions } from "../contain/sessions";
import type { LandingZone } from "../contract";
import { verifyChain, type ChainVerification } from "../custody/chain";
import { openLedger, type EvidenceBucketLedger } from "../custody/ledger";
import type { JsonValue } from "../custody/types";
import { describeError } from "../errors";
import type { PlantedIncident } from "./plant";

/** Drill scenarios. */
export type Scenario = "leaked-key" | "compromised-instance" | "all";

/** Every scenario name, as `--scenario` accepts them. */
export const SCENARIOS: readonly Scenario[] = ["leaked-key", "compromised-instance", "all"];

/** Outcome of one step. `unavailable` means the piece it needs has not been built yet: never counted as passed. */
export type StepStatus = "passed" | "failed" | "unavailable" | "skipped";

/**
 * What a step counts towards. Evidence is secured when the forensic account owns locked copies (capture); hashing
 * and storing artefacts make the custody record of it, and do not delay "secured".
 */
export type StepPhase = "contain" | "evidence" | "custody" | "report";

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
  /** The error line, when failed; why, when unavailable or skipped. */
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
  /** The custody verification, when it ran. */
  readonly custody?: ChainVerification;
  /** The reporting clocks, when computed. */
  readonly clock?: ClockReport;
  /** The ledger's records, for the timeline. */
  readonly timeline: { sequence: number; time: string; action: string; subjects: string[]; outcome: string }[];
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
  /** Milliseconds between snapshot polls. Default 200 (the emulator completes snapshots at once). */
  readonly pollIntervalMs?: number;
  /** Called as each step ends (progress lines). */
  readonly onStep?: (step: StepResult) => void;
}

interface StepSpec {
  readonly id: string;
  readonly title: string;
  readonly phase: StepPhase;
  readonly command: string;
  readonly scenarios: readonly Scenario[];
  /** Undefined: the piece is not built yet; the step is reported as unavailable with this reason. */
  readonly run?: () => Promise<string>;
  readonly unavailable?: string;
}

/** Whether a step runs in a scenario. */
export function stepRunsIn(scenarios: readonly Scenario[], scenario: Scenario): boolean {
  return scenario === "all" || scenarios.includes(scenario);
}

/** Milliseconds from start to the end of the last step of a phase, or undefined when any step of it did not pass. */
export function phaseDuration(steps: readonly StepResult[], phase: StepPhase, startedAt: string): number | undefined {
  const of = steps.filter((s) => s.phase === phase);
  if (of.length === 0 || of.some((s) => s.status !== "passed")) return undefined;
  const end = Math.max(...of.map((s) => Date.parse(s.startedAt) + s.durationMs));
  return end - Date.parse(startedAt);
}

function containSummary(result: ContainResult): string {
  const failures = (result as ContainResult & { failures?: string[] }).failures ?? [];
  if (failures.length > 0) throw new Error(`${failures.length} change(s) failed: ${failures.join("; ")}`);
  const changed = result.changes.map((c) => c.description).join("; ") || "nothing to change";
  return `${changed}${result.record ? ` (record ${result.record.sequence})` : ""}`;
}

/** Runs the runbook. Never throws for a failed step: the step is reported as failed. */
export async function runRunbook(options: RunbookOptions): Promise<RunbookResult> {
  const { landingZone: lz, incident, scenario, caseId } = options;
  const factory = new ClientFactory({
    caseId,
    forensicRoleArn: lz.forensicResponderRoleArn,
    memberRoleName: lz.memberResponderRoleName,
  });
  const startedAt = new Date().toISOString();
  const steps: StepResult[] = [];
  let capture: CaptureResult | undefined;
  let custody: ChainVerification | undefined;
  let clock: ClockReport | undefined;
  let ledger: EvidenceBucketLedger | undefined;
  try {
    ledger = await openLedger({ factory, landingZone: lz, caseId });
    const l = ledger;
    const ctx: ContainContext = {
      factory,
      ledger: l,
      account: incident.account,
      region: incident.region,
      dryRun: false,
    };
    const where = `--case ${caseId} --account ${incident.account} --region ${incident.region}`;
    const specs: StepSpec[] = [
      {
        id: "contain-sessions",
        title: `Revoke sessions of role ${incident.roleName} issued before now`,
        phase: "contain",
        command: `flz contain sessions ${where} --role ${incident.roleName} --before now`,
        scenarios: ["leaked-key"],
        run: async () => containSummary(await revokeSessions(ctx, { role: incident.roleName, before: "now" })),
      },
      {
        id: "contain-access-key",
        title: `Deactivate the leaked access key of user ${incident.userName}`,
        phase: "contain",
        command: `flz contain access-key ${where} --user ${incident.userName} --key ${incident.accessKeyId}`,
        scenarios: ["leaked-key"],
        run: async () =>
          containSummary(await deactivateAccessKey(ctx, { user: incident.userName, key: incident.accessKeyId })),
      },
      {
        id: "contain-instance",
        title: `Isolate instance ${incident.instanceId} (network, protection, Auto Scaling standby, IMDSv2)`,
        phase: "contain",
        command: `flz contain instance ${where} --instance ${incident.instanceId}`,
        scenarios: ["compromised-instance"],
        run: async () => containSummary(await containInstance(ctx, { instanceId: incident.instanceId })),
      },
      {
        id: "capture",
        title: `Capture both volumes of ${incident.instanceId} into the forensic account, locked`,
        phase: "evidence",
        command: `flz capture ${where} --instance ${incident.instanceId}`,
        scenarios: ["compromised-instance"],
        run: async () => {
          const request = parseCaptureRequest({
            case: caseId,
            instance: incident.instanceId,
            account: incident.account,
            region: incident.region,
            lockDays: "1",
            maxWait: "5",
          });
          capture = await captureInstance({
            factory,
            landingZone: lz,
            request,
            ledger: l,
            pollIntervalMs: options.pollIntervalMs ?? 200,
          });
          const failed = capture.snapshots.filter((s) => s.state !== "completed");
          if (failed.length > 0)
            throw new Error(
              `${failed.length} volume(s) failed: ${failed.map((s) => `${s.volumeId}: ${s.error ?? "error"}`).join("; ")}`,
            );
          const unlocked = capture.snapshots.filter((s) => !s.locked).map((s) => s.forensicSnapshotId);
          if (unlocked.length > 0) throw new Error(`forensic snapshot(s) not locked: ${unlocked.join(", ")}`);
          return `${capture.snapshots.length} volume(s) -> forensic snapshots ${capture.snapshots.map((s) => s.forensicSnapshotId).join(", ")} (locked); ${capture.artefacts.length} artefact(s) stored`;
        },
      },
      {
        id: "hash-snapshots",
        title: "Hash the forensic snapshots through the EBS direct APIs",
        phase: "custody",
        command: `flz hash snapshot --case ${caseId} --snapshot <forensic snapshot>`,
        scenarios: ["compromised-instance"],
        unavailable:
          "not yet available: the snapshot hashing code (scripts/hash/) landed after the drill was built and is not wired in yet; note the emulator serves the EBS direct APIs only for snapshots made with StartSnapshot",
      },
      {
        id: "put-artefact",
        title: "Put an analyst's artefact into the evidence bucket",
        phase: "custody",
        command: `flz custody put --case ${caseId} <file>`,
        scenarios: ["compromised-instance"],
        unavailable:
          "not yet available: no function that puts an artefact into the evidence bucket with a custody record has landed in scripts/custody/",
      },
      {
        id: "verify-custody",
        title: "Verify the custody chain (hashes, links, signatures)",
        phase: "custody",
        command: `flz custody verify --case ${caseId}`,
        scenarios: ["leaked-key", "compromised-instance"],
        run: async () => {
          custody = verifyChain(await l.storedRecords(), { caseId, publicKeyPem: await l.kmsPublicKey() });
          if (!custody.ok)
            throw new Error(`chain broken at record ${custody.problem?.sequence}: ${custody.problem?.reason}`);
          return `${custody.verified} of ${custody.total} records verified; head ${custody.headHash?.slice(0, 16)}...`;
        },
      },
      {
        id: "clock",
        title: "Compute and record the reporting deadlines",
        phase: "report",
        command: `flz clock --case ${caseId} --regime all`,
        scenarios: ["leaked-key", "compromised-instance"],
        run: async () => {
          const result = await clockForCase(l, { regime: "all", tz: "UTC" });
          clock = result.report;
          return `${clock.deadlines.length} deadline(s), ${clock.waiting.length} waiting; first ${clock.deadlines[0]?.regime ?? "-"} ${clock.deadlines[0]?.obligation ?? ""} due ${clock.deadlines[0]?.dueUtc ?? "-"} (record ${result.record?.sequence})`;
        },
      },
    ];
    for (const spec of specs) {
      if (!stepRunsIn(spec.scenarios, scenario)) continue;
      const start = Date.now();
      const base = {
        id: spec.id,
        title: spec.title,
        phase: spec.phase,
        command: spec.command,
        startedAt: new Date(start).toISOString(),
      };
      let step: StepResult;
      if (!spec.run) {
        step = { ...base, status: "unavailable", durationMs: 0, summary: "not run", error: spec.unavailable };
      } else {
        try {
          const summary = await spec.run();
          step = { ...base, status: "passed", durationMs: Date.now() - start, summary };
        } catch (err) {
          if (process.env.FLZ_DEBUG) console.error(err);
          step = {
            ...base,
            status: "failed",
            durationMs: Date.now() - start,
            summary: "failed",
            error: describeError(err),
          };
        }
      }
      steps.push(step);
      options.onStep?.(step);
    }
    const records = await l.records().catch(() => []);
    return {
      caseId,
      scenario,
      startedAt,
      steps,
      timeToContainMs: phaseDuration(steps, "contain", startedAt),
      timeToEvidenceSecuredMs: phaseDuration(steps, "evidence", startedAt),
      capture,
      custody,
      clock,
      timeline: records.map((r) => ({
        sequence: r.sequence,
        time: r.time,
        action: r.action,
        subjects: r.subjects,
        outcome: r.outcome ?? "succeeded",
      })),
    };
  } finally {
    factory.destroy();
  }
}

/** A JSON-safe copy of a value (drops undefined), for the JSON report. */
export function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
