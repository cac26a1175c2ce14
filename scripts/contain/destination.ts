/**
 * Destination containment (issue 17) as `contain undo` and `contain status` see it: one place that knows each
 * destination kind's undo information, how to reverse it and how to check it is still in effect, so the engine's
 * undo and drift check each call one function for all of them.
 */
import type { ClientFactory } from "../aws/clients";
import type { JsonValue } from "../custody/types";
import type { ContainContext } from "./common";
import { BUCKET_ACTION, bucketFindings, isBucketUndo, undoBucket } from "./bucket";
import { FUNCTION_ACTION, functionFindings, isFunctionUndo, undoFunction } from "./function";
import { isKeyUndo, KEY_ACTION, keyFindings, undoKey } from "./key";
import { isNetworkUndo, NETWORK_ACTION, networkFindings, undoNetwork } from "./network";

/** Ledger actions of destination containments. */
export const DESTINATION_ACTIONS: readonly string[] = [NETWORK_ACTION, BUCKET_ACTION, KEY_ACTION, FUNCTION_ACTION];

/** Reverses a destination containment from its undo information; undefined when the undo is not one. */
export async function undoDestination(
  ctx: ContainContext,
  undo: { [key: string]: JsonValue },
): Promise<{ lines: string[]; failures: string[] } | undefined> {
  if (isNetworkUndo(undo)) return { lines: await undoNetwork(ctx, undo), failures: [] };
  if (isBucketUndo(undo)) return { lines: await undoBucket(ctx, undo), failures: [] };
  if (isKeyUndo(undo)) return { lines: await undoKey(ctx, undo), failures: [] };
  if (isFunctionUndo(undo)) return { lines: await undoFunction(ctx, undo), failures: [] };
  return undefined;
}

/** What is no longer in effect of a destination containment; undefined when the undo is not one. */
export async function destinationFindings(factory: ClientFactory, undo: unknown): Promise<string[] | undefined> {
  if (isNetworkUndo(undo)) return networkFindings(factory, undo);
  if (isBucketUndo(undo)) return bucketFindings(factory, undo);
  if (isKeyUndo(undo)) return keyFindings(factory, undo);
  if (isFunctionUndo(undo)) return functionFindings(factory, undo);
  return undefined;
}
