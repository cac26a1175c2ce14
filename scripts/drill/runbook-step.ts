/**
 * One runbook step, declared and run: whether it belongs to the scenario, whether a step it needs failed, and its
 * outcome timed. A failing step becomes a failed result (never a throw) so one report shows everything that broke.
 */
import { withCallLabel } from "../aws/observer";
import { describeError } from "../errors";
import { stepRunsIn, type Scenario, type StepPhase, type StepResult } from "./runbook-model";

/** A step of the runbook as declared: what it is, where it runs, and what it does. */
export interface StepSpec {
  /** Stable ID, e.g. `contain-sessions`. */
  readonly id: string;
  /** What the step does, for people. */
  readonly title: string;
  /** What it counts towards. */
  readonly phase: StepPhase;
  /** The equivalent operator command line (its command words label the AWS calls the step makes). */
  readonly command: string;
  /** Scenarios that include the step. */
  readonly scenarios: readonly Scenario[];
  /** Why the step cannot run (a step it needs did not pass), or undefined when it can. */
  readonly blockedBy?: () => string | undefined;
  /** Does the step; returns its one-line summary or throws its error. */
  readonly run: () => Promise<string>;
}

/** The command a step runs, without its arguments (`flz contain sessions`), labelling the AWS calls it makes. */
function commandLabel(command: string): string {
  const words = command.split(/\s+/);
  const end = words.findIndex((w) => !/^[a-z][a-z-]*$/.test(w));
  return words.slice(0, end === -1 ? words.length : end).join(" ");
}

/**
 * Runs one step of a scenario and returns its outcome.
 * @param spec The step.
 * @param scenario The scenario being run.
 * @param blocked Why it cannot run (a step it needs did not pass), or undefined.
 */
export async function runStep(spec: StepSpec, scenario: Scenario, blocked: string | undefined): Promise<StepResult> {
  const start = Date.now();
  const base = {
    id: spec.id,
    title: spec.title,
    phase: spec.phase,
    command: spec.command,
    startedAt: new Date(start).toISOString(),
  };
  if (!stepRunsIn(spec.scenarios, scenario)) {
    return { ...base, status: "not-in-scenario", durationMs: 0, summary: `not in this scenario (${scenario})` };
  }
  if (blocked) return { ...base, status: "skipped", durationMs: 0, summary: "not run", error: blocked };
  try {
    const summary = await withCallLabel(commandLabel(spec.command), () => spec.run());
    return { ...base, status: "passed", durationMs: Date.now() - start, summary };
  } catch (err) {
    if (process.env.FLZ_DEBUG) console.error(err);
    return { ...base, status: "failed", durationMs: Date.now() - start, summary: "failed", error: describeError(err) };
  }
}
