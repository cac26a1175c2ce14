/**
 * Entry point of the automation's Lambda bundle (Node.js runtime): one bundle, one exported handler per function
 * (`lambda.intake`, `lambda.capture`, ...), each deployed with its own role. The handlers are built once per
 * container from the landing-zone contract in `FLZ_LANDING_ZONE_JSON` (validated like `--landing-zone`).
 */
import type { AutomationFunction } from "../../components/documents/automation";
import { parseLandingZone } from "../contract";
import { automationHandlers, type AutomationHandlers } from "./handlers";

let built: AutomationHandlers | undefined;

/**
 * The handlers of this container, built for the function it serves (a Lambda container runs one function: its
 * sessions take that function's session policies).
 */
function handlers(fn: AutomationFunction): AutomationHandlers {
  built ??= automationHandlers({
    landingZone: parseLandingZone(JSON.parse(process.env.FLZ_LANDING_ZONE_JSON ?? "null"), "FLZ_LANDING_ZONE_JSON"),
    stateMachineArn: process.env.FLZ_STATE_MACHINE_ARN,
    fn,
  });
  return built;
}

type Handlers = AutomationHandlers;

/** EventBridge target: starts one execution per finding. */
export const dispatch = async (event: unknown): ReturnType<Handlers["dispatch"]> =>
  handlers("dispatch").dispatch(event);
/** Opens the case, decides, records. */
export const intake = async (input: Parameters<Handlers["intake"]>[0]): ReturnType<Handlers["intake"]> =>
  handlers("intake").intake(input);
/** Records a later decision. */
export const record = async (input: Parameters<Handlers["record"]>[0]): ReturnType<Handlers["record"]> =>
  handlers("record").record(input);
/** Contains the target. */
export const contain = async (input: Parameters<Handlers["contain"]>[0]): ReturnType<Handlers["contain"]> =>
  handlers("contain").contain(input);
/** Captures one instance. */
export const capture = async (input: Parameters<Handlers["capture"]>[0]): ReturnType<Handlers["capture"]> =>
  handlers("capture").capture(input);
/** Hashes the forensic snapshots one capture made (or records them "hash pending"). */
export const hash = async (input: Parameters<Handlers["hash"]>[0]): ReturnType<Handlers["hash"]> =>
  handlers("hash").hash(input);
/** Verifies the case's chain. */
export const verify = async (input: Parameters<Handlers["verify"]>[0]): ReturnType<Handlers["verify"]> =>
  handlers("verify").verify(input);
