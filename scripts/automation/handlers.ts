/**
 * The response automation's Lambda handlers (issue 15): the other front end of the same modules the `flz` CLI runs.
 * Each acts as the forensic responder (the factory `flz` builds) behind the case gate, opens cases with the
 * `case.opened` event of `flz case open` (intake.ts), contains, captures, hashes and verifies with the CLI's own
 * functions (acting.ts). One set of handlers is one Lambda container: what it keeps between invocations is in
 * container.ts. Here: the dispatcher, the decision records of later stages, and the assembly.
 */
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { AutomationFunction } from "../../components/documents/automation";
import { automationSessionPolicies, type ActingFunction } from "../../components/documents/automation-sessions";
import { ClientFactory } from "../aws/clients";
import type { LandingZone } from "../contract";
import { actingHandlers } from "./acting";
import { ContainerState } from "./container";
import { stageDecision, type DecisionRecord } from "./decide";
import { executionNameOf, incidentOf, UnsupportedEventError, type Incident } from "./incident";
import { intakeHandler } from "./intake";
import { decisionEvent, type AutomationHandlers, type RecordInput } from "./types";

export { stageDecision } from "./decide";
export { HASH_PENDING_ACTION } from "./acting";
export * from "./types";

/** What the handlers need. */
export interface AutomationDeps {
  /** The landing-zone contract (in Lambda: the `FLZ_LANDING_ZONE_JSON` environment variable). */
  readonly landingZone: LandingZone;
  /** The response state machine (the dispatcher's only target). */
  readonly stateMachineArn?: string;
  /** Clock (tests). */
  readonly now?: () => Date;
  /** Minutes a capture invocation waits for copies before handing back to the state machine's retry. Default 12 (Lambda stops at 15). */
  readonly captureWaitMinutes?: number;
  /** Milliseconds between snapshot polls. Default the capture's own. */
  readonly pollIntervalMs?: number;
  /**
   * Largest volume (GiB) the hash function hashes; larger ones are recorded "hash pending" for `flz hash --case`.
   * Default 64: a function hashing at a conservative 100 MB/s covers about 70 GiB of image in its 12 minutes.
   */
  readonly hashMaxGiB?: number;
  /** Minutes the hash function hashes before leaving the rest "hash pending". Default 12 (Lambda stops at 15). */
  readonly hashWaitMinutes?: number;
  /** Milliseconds added before every AWS request (benchmarks against the emulator). Default 0. */
  readonly injectedLatencyMs?: number;
  /**
   * The function this container serves: its sessions take that function's session policies (least privilege per
   * function; components/documents/automation-sessions.ts). The dispatcher acts as its own role only.
   */
  readonly fn: AutomationFunction;
  /** The function's own role (what the base credentials are a session of; the call observer is told so). */
  readonly functionRoleArn?: string;
}

/** A container's handlers, and its release (tests and the local engine). */
export type ContainerHandlers = AutomationHandlers & {
  /** Releases the container's clients. */
  destroy(): void;
};

/** Builds the handlers of one container for a landing zone. */
export function automationHandlers(deps: AutomationDeps): ContainerHandlers {
  const lz = deps.landingZone;
  const now = deps.now ?? (() => new Date());
  // The dispatcher never uses the container (it starts executions as its own role): any session policy is moot.
  const acting: ActingFunction = deps.fn === "dispatch" ? "record" : deps.fn;
  const container = new ContainerState({
    landingZone: lz,
    injectedLatencyMs: deps.injectedLatencyMs,
    sessions: automationSessionPolicies(acting, {
      evidenceBucket: lz.evidenceBucket,
      memberResponderRoleName: lz.memberResponderRoleName,
    }),
    functionRoleArn: deps.functionRoleArn,
  });
  const actingSet = actingHandlers(container, lz, {
    captureWaitMinutes: deps.captureWaitMinutes ?? 12,
    pollIntervalMs: deps.pollIntervalMs,
    hashMaxGiB: deps.hashMaxGiB ?? 64,
    hashWaitMinutes: deps.hashWaitMinutes ?? 12,
  });

  const record = async (input: RecordInput): Promise<DecisionRecord & { sequence: number }> => {
    const d = stageDecision(input);
    return container.withCaseLedger(input.intake.caseId, async (ledger) => {
      const r = await ledger.append(decisionEvent(input.intake, input.stage, d));
      return { ...d, sequence: r.sequence };
    });
  };

  const dispatch = async (event: unknown) => {
    let incident: Incident;
    try {
      incident = incidentOf(event, lz.forensicAccountId);
    } catch (err) {
      if (err instanceof UnsupportedEventError) return { ignored: err.message };
      throw err;
    }
    const name = executionNameOf(incident);
    if (!deps.stateMachineArn) throw new Error("the dispatcher has no state machine: set FLZ_STATE_MACHINE_ARN");
    const factory = new ClientFactory({});
    try {
      await factory
        .client(SFNClient, { region: lz.homeRegion })
        .send(
          new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name, input: JSON.stringify({ event }) }),
        );
      return { started: name };
    } catch (err) {
      // The same finding again (GuardDuty re-publishes updates of a finding): one execution per finding.
      if ((err as { name?: string }).name === "ExecutionAlreadyExists") return { duplicate: name };
      throw err;
    } finally {
      factory.destroy();
    }
  };

  return {
    dispatch,
    intake: intakeHandler(container, lz, now),
    record,
    ...actingSet,
    destroy: () => container.destroy(),
  };
}
