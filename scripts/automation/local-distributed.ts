/**
 * A narrow driver for Distributed Map states, for the offline runs only (departure from "the definition executed
 * as is", documented in docs/automation.md): aws-local-stepfunctions 3.0.0 (the latest release) runs Map states
 * inline only; it has no ItemReader, no DISTRIBUTED mode and no child executions. The driver stands in for exactly
 * what Step Functions does around a Distributed Map, following its documented semantics (Step Functions developer
 * guide, "Using Map state in Distributed mode", "ItemReader (Map)", "ItemSelector (Map)", "Setting failure
 * thresholds for Distributed Map states"), and hands every iteration back to the interpreter:
 *
 * - the Map state is replaced, in the copy of the definition the interpreter runs, by a Task state with the same
 *   name, paths, retries, catchers and transition, bound to this driver; nothing else of the definition changes;
 * - ItemReader: `arn:aws:states:::s3:getObject` with `ReaderConfig.InputType` `JSON` (the object is a JSON array),
 *   `Bucket`/`Key` given or taken by path (`Key.$`) from the state's input, optional `ReaderConfig.MaxItems`;
 *   read from the emulator's S3 as the state machine's own SDK calls are;
 * - ItemSelector (optional): each item's input built from `$$.Map.Item.Value`, `$$.Map.Item.Index` and the state's
 *   input; without one the item itself is the child's input;
 * - each item runs the ItemProcessor's own states (`StartAt`, `States`) in a new interpreter execution (a child
 *   workflow), with the same Task bindings (the real handlers), at most `MaxConcurrency` at once (0: no limit of ours);
 * - failures: `ToleratedFailureCount` / `ToleratedFailurePercentage` (default 0); above them the state fails with
 *   `States.ExceedToleratedFailureThreshold`;
 * - the result is the array of child outputs in item order (what the Map hands to ResultSelector/ResultPath when no
 *   ResultWriter is set). ItemBatcher and ResultWriter are refused: the response definition uses neither.
 */
import type { AslState } from "../../components/documents/automation-asl";

/** How the driver reads the list and runs one child. */
export interface DistributedDriverDeps {
  /** Reads an S3 object's body as text (the state machine's `s3:GetObject`). */
  readonly getObject: (bucket: string, key: string) => Promise<string>;
  /** Runs the ItemProcessor's states for one item (a child execution); resolves with its output. */
  readonly runChild: (
    processor: { StartAt: string; States: Record<string, AslState> },
    input: unknown,
    index: number,
  ) => Promise<unknown>;
}

/** An error as Step Functions names it (`error.name` is what Catch and Retry match). */
function statesError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/** A reference path (`$.a.b`, `$`) into `data`; anything richer is refused (the definition uses no more). */
function atPath(data: unknown, path: string): unknown {
  if (!/^\$(\.[A-Za-z_][\w-]*)*$/.test(path))
    throw statesError("States.Runtime", `the local Distributed Map driver reads simple paths only, not ${path}`);
  let value = data;
  for (const key of path.split(".").slice(1)) {
    if (value === null || typeof value !== "object" || !(key in value))
      throw statesError("States.Runtime", `${path} is not in the state's input`);
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Parameters-style templating: `k.$` keys take paths (`$$.Map.Item.*` for the item, `$` for the state's input). */
function select(template: Record<string, unknown>, input: unknown, item: unknown, index: number): unknown {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (!key.endsWith(".$")) {
      out[key] =
        value && typeof value === "object" && !Array.isArray(value)
          ? select(value as Record<string, unknown>, input, item, index)
          : value;
      continue;
    }
    const path = String(value);
    const name = key.slice(0, -2);
    if (path === "$$.Map.Item.Index") out[name] = index;
    else if (path === "$$.Map.Item.Value") out[name] = item;
    else if (path.startsWith("$$.Map.Item.Value."))
      out[name] = atPath(item, `$${path.slice("$$.Map.Item.Value".length)}`);
    else out[name] = atPath(input, path);
  }
  return out;
}

/** True for a Map state in DISTRIBUTED mode. */
export function isDistributedMap(state: AslState): boolean {
  const processor = state.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined;
  return state.Type === "Map" && processor?.ProcessorConfig?.Mode === "DISTRIBUTED";
}

/**
 * The definition the interpreter runs: each top-level Distributed Map replaced by a Task bound to the driver (an
 * activity ARN of the forensic account: a resource the interpreter accepts and that names no real service). Returns
 * the copy and the replaced states by name.
 */
export function withDistributedMapsAsTasks<D extends { States: Record<string, AslState> }>(
  definition: D,
  resourceFor: (stateName: string) => string,
): { definition: D; maps: Record<string, AslState> } {
  const maps: Record<string, AslState> = {};
  const states: Record<string, AslState> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (!isDistributedMap(state)) {
      states[name] = state;
      continue;
    }
    maps[name] = state;
    const kept = [
      "Comment",
      "InputPath",
      "OutputPath",
      "ResultPath",
      "ResultSelector",
      "Retry",
      "Catch",
      "Next",
      "End",
    ];
    states[name] = {
      Type: "Task",
      Resource: resourceFor(name),
      ...Object.fromEntries(kept.filter((k) => k in state).map((k) => [k, state[k]])),
    };
  }
  return { definition: { ...definition, States: states }, maps };
}

/** Runs one Distributed Map state on its (effective) input; resolves with the Map's result array. */
export async function runDistributedMap(
  state: AslState,
  input: unknown,
  deps: DistributedDriverDeps,
): Promise<unknown[]> {
  if (state.ItemBatcher !== undefined || state.ResultWriter !== undefined)
    throw statesError(
      "States.Runtime",
      "the local Distributed Map driver supports neither ItemBatcher nor ResultWriter",
    );
  const reader = state.ItemReader as
    | {
        Resource?: string;
        ReaderConfig?: { InputType?: string; MaxItems?: number };
        Parameters?: Record<string, unknown>;
      }
    | undefined;
  if (reader?.Resource !== "arn:aws:states:::s3:getObject" || reader.ReaderConfig?.InputType !== "JSON")
    throw statesError(
      "States.Runtime",
      "the local Distributed Map driver reads only ItemReader arn:aws:states:::s3:getObject with InputType JSON",
    );
  const params = select(reader.Parameters ?? {}, input, undefined, 0) as { Bucket?: unknown; Key?: unknown };
  if (typeof params.Bucket !== "string" || typeof params.Key !== "string")
    throw statesError("States.ItemReaderFailed", "ItemReader: Bucket and Key must be strings");
  let items: unknown;
  try {
    items = JSON.parse(await deps.getObject(params.Bucket, params.Key));
  } catch (err) {
    throw statesError(
      "States.ItemReaderFailed",
      `ItemReader s3://${params.Bucket}/${params.Key}: ${(err as Error).message}`,
    );
  }
  if (!Array.isArray(items))
    throw statesError("States.ItemReaderFailed", `ItemReader s3://${params.Bucket}/${params.Key}: not a JSON array`);
  const list = reader.ReaderConfig.MaxItems ? items.slice(0, reader.ReaderConfig.MaxItems) : items;
  const selector = state.ItemSelector as Record<string, unknown> | undefined;
  const processor = state.ItemProcessor as { StartAt: string; States: Record<string, AslState> };
  const limit = Number(state.MaxConcurrency ?? 0) || list.length || 1;
  const results: unknown[] = new Array(list.length);
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < list.length) {
      const index = next++;
      const childInput = selector ? select(selector, input, list[index], index) : list[index];
      try {
        results[index] = await deps.runChild(
          { StartAt: processor.StartAt, States: processor.States },
          childInput,
          index,
        );
      } catch (err) {
        failures.push(`item ${index}: ${(err as Error).name}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, Math.max(list.length, 1)) }, worker));
  // A Map run fails when its failures exceed either threshold given; with neither, one failure fails it.
  const count = state.ToleratedFailureCount as number | undefined;
  const percent = state.ToleratedFailurePercentage as number | undefined;
  const exceeded =
    count === undefined && percent === undefined
      ? failures.length > 0
      : (count !== undefined && failures.length > count) ||
        (percent !== undefined && list.length > 0 && (failures.length * 100) / list.length > percent);
  if (exceeded)
    throw statesError(
      "States.ExceedToleratedFailureThreshold",
      `${failures.length} of ${list.length} child executions failed: ${failures.join("; ").slice(0, 1000)}`,
    );
  return results;
}
