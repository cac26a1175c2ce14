/**
 * Entry point of the automation's Lambda bundle (Node.js runtime): one bundle, one exported handler per function
 * (`lambda.intake`, `lambda.capture`, ...), each deployed with its own role. The handlers are built once per
 * container from the landing-zone contract in `FLZ_LANDING_ZONE_JSON` (validated like `--landing-zone`).
 */
import { parseLandingZone } from "../contract";
import { automationHandlers, type AutomationHandlers } from "./handlers";

let built: AutomationHandlers | undefined;

function handlers(): AutomationHandlers {
  built ??= automationHandlers({
    landingZone: parseLandingZone(JSON.parse(process.env.FLZ_LANDING_ZONE_JSON ?? "null"), "FLZ_LANDING_ZONE_JSON"),
    stateMachineArn: process.env.FLZ_STATE_MACHINE_ARN,
  });
  return built;
}

type Handlers = AutomationHandlers;

/** EventBridge target: starts one execution per finding. */
export const dispatch = async (event: unknown): ReturnType<Handlers["dispatch"]> => handlers().dispatch(event);
/** Opens the case, decides, records. */
export const intake = async (input: Parameters<Handlers["intake"]>[0]): ReturnType<Handlers["intake"]> =>
  handlers().intake(input);
/** Records a later decision. */
export const record = async (input: Parameters<Handlers["record"]>[0]): ReturnType<Handlers["record"]> =>
  handlers().record(input);
/** Contains the target. */
export const contain = async (input: Parameters<Handlers["contain"]>[0]): ReturnType<Handlers["contain"]> =>
  handlers().contain(input);
/** Captures one instance. */
export const capture = async (input: Parameters<Handlers["capture"]>[0]): ReturnType<Handlers["capture"]> =>
  handlers().capture(input);
/** Hashes the forensic snapshots one capture made (or records them "hash pending"). */
export const hash = async (input: Parameters<Handlers["hash"]>[0]): ReturnType<Handlers["hash"]> =>
  handlers().hash(input);
/** Verifies the case's chain. */
export const verify = async (input: Parameters<Handlers["verify"]>[0]): ReturnType<Handlers["verify"]> =>
  handlers().verify(input);
