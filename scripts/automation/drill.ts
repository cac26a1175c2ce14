/**
 * `flz drill --scenario automated`: the planted incident is announced by a GuardDuty finding (AWS's published format)
 * and nobody types a command. The response automation's own definition runs offline (`local-engine.ts`) with its
 * real handlers against the drill's emulator; the runbook's steps are the state machine's states, timed from the
 * finding's delivery, so the report gives time from finding to contained and to evidence secured.
 */
import { responderFactory } from "../aws/clients";
import { openLedger } from "../custody/ledger";
import { describeError } from "../errors";
import { phaseDuration, type RunbookOptions, type RunbookResult, type StepResult } from "../drill/runbook-model";
import { ledgerTimeline } from "../drill/runbook-checks";
import type { StepPhase } from "../drill/runbook-model";
import { caseIdOf, executionNameOf, incidentOf } from "./incident";
import { guardDutyInstanceFinding, localAutomation, type ExecutionOutcome, type StateTiming } from "./local-engine";

/** The drill's guardrails: the planted finding type is contained; everything else would only be observed. */
export const DRILL_GUARDRAILS = {
  modes: { "UnauthorizedAccess:EC2/*": "contain" as const },
  defaultMode: "observe" as const,
};

interface StepMap {
  readonly id: string;
  readonly title: string;
  readonly phase: StepPhase;
  readonly command: string;
  readonly states: readonly string[];
}

const STEPS: readonly StepMap[] = [
  {
    id: "automation-intake",
    title: "Finding delivered; kill switch read; case opened and the guardrails' decision recorded",
    phase: "case",
    command: "EventBridge → flz-automation-dispatch → states:StartExecution (ReadKillSwitch, Intake)",
    states: ["ReadKillSwitch", "Intake"],
  },
  {
    id: "automation-contain",
    title: "Containment slot claimed (rate limit) and the instance contained",
    phase: "contain",
    command: "state machine: ClaimContainmentSlot, Contain (the code of flz contain instance)",
    states: ["ClaimContainmentSlot", "Contain"],
  },
  {
    id: "automation-capture",
    title: "Every volume captured into the forensic account and locked",
    phase: "evidence",
    command: "state machine: Capture (Map by region, then by instance; the code of flz capture)",
    states: ["CaptureInstance"],
  },
  {
    id: "automation-hash",
    title: "Every forensic snapshot hashed through the EBS direct APIs and the digest recorded",
    phase: "custody",
    command: "state machine: HashInstance (the code of flz hash --snapshot --case)",
    states: ["HashInstance"],
  },
  {
    id: "automation-verify",
    title: "Custody chain verified",
    phase: "custody",
    command: "state machine: Verify (the code of flz custody verify)",
    states: ["Verify"],
  },
  {
    id: "automation-notify",
    title: "Outcome published to the notification topic",
    phase: "report",
    command: "state machine: Notify (sns:Publish)",
    states: ["Notify"],
  },
];

/** The steps of an execution, one per group of states, timed from their states' visits. */
export function stepsOf(
  timings: readonly StateTiming[],
  failures: Readonly<Record<string, string>> = {},
): StepResult[] {
  return STEPS.map((spec) => {
    const visits = timings.filter((t) => spec.states.includes(t.state));
    const base = { id: spec.id, title: spec.title, phase: spec.phase, command: spec.command };
    if (visits.length === 0)
      return {
        ...base,
        status: "skipped",
        startedAt: new Date(0).toISOString(),
        durationMs: 0,
        summary: "not reached",
        error: failures[spec.id] ?? "the state machine did not reach it",
      };
    const start = Math.min(...visits.map((v) => v.enteredAt));
    const end = Math.max(...visits.map((v) => v.exitedAt ?? v.enteredAt));
    const failed = visits.find((v) => v.failed)?.failed ?? failures[spec.id];
    return {
      ...base,
      status: failed ? "failed" : "passed",
      startedAt: new Date(start).toISOString(),
      durationMs: end - start,
      summary: failed ? "failed" : `states ${[...new Set(visits.map((v) => v.state))].join(", ")}`,
      ...(failed ? { error: failed } : {}),
    };
  });
}

/** Runs the automated scenario and returns what the report needs. */
export async function runAutomatedRunbook(options: RunbookOptions): Promise<RunbookResult> {
  const lz = options.landingZone;
  const incident = options.incident;
  const finding = guardDutyInstanceFinding({
    account: incident.account,
    region: incident.region,
    instanceId: incident.instanceId,
    adminAccount: lz.forensicAccountId,
  });
  const name = executionNameOf(incidentOf(finding, lz.forensicAccountId));
  const caseId = caseIdOf(name);
  let outcome: ExecutionOutcome | undefined;
  let error: string | undefined;
  // The clocks start when the finding is delivered, after the automation is deployed (`pulumi up` did that on AWS).
  let startedAt = new Date().toISOString();
  try {
    const automation = await localAutomation(lz, DRILL_GUARDRAILS);
    startedAt = new Date().toISOString();
    outcome = await automation.run(finding, name);
  } catch (err) {
    error = describeError(err);
  }
  const output = outcome?.output ?? {};
  // A containment the state machine caught (ContainFailed) or a chain that did not verify is a failed step.
  const failures: Record<string, string> = {};
  if (outcome?.states.includes("ContainFailed"))
    failures["automation-contain"] = JSON.stringify(output.containError ?? "containment failed");
  const verification = output.verification as { ok?: boolean; verdict?: string } | undefined;
  if (verification && verification.ok !== true)
    failures["automation-verify"] = verification.verdict ?? "chain does not verify";
  if (error) failures["automation-intake"] = error;
  // A snapshot left "hash pending" (or a hash that failed) is a failed hash step in the drill: its disks are small.
  const hashes = (
    (output.captures ?? []) as Array<Array<{ hash?: { pending?: string[] }; hashError?: unknown }>>
  ).flat();
  const unhashed = hashes.flatMap((c) => (c.hashError ? ["a hash invocation failed"] : (c.hash?.pending ?? [])));
  if (unhashed.length > 0) failures["automation-hash"] = `not hashed: ${unhashed.join(", ")}`;
  const steps = stepsOf(outcome?.timings ?? [], failures);
  for (const s of steps) options.onStep?.(s);

  const factory = responderFactory(lz, caseId);
  try {
    const ledger = await openLedger({ factory, landingZone: lz, caseId });
    const { custody, timeline } = await ledgerTimeline(ledger, caseId, true);
    return {
      caseId,
      scenario: options.scenario,
      startedAt,
      steps,
      timeToContainMs: phaseDuration(steps, "contain", startedAt),
      timeToEvidenceSecuredMs: phaseDuration(steps, "evidence", startedAt),
      custody,
      custodyAtStep: custody,
      timeline,
    };
  } finally {
    factory.destroy();
  }
}

/** Lambda invocations and state transitions of an execution (what a Standard workflow and Lambda bill). */
export function billedUnits(outcome: ExecutionOutcome): { invocations: number; transitions: number } {
  return { invocations: outcome.invocations, transitions: outcome.states.length };
}
