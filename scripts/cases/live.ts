/**
 * The seam for the live drift check of `flz case status` (issue 11 item 5, the containment engineer's): given the
 * containments the ledger says are in effect, re-read each from AWS and say whether it still is (policy removed or
 * altered, key re-activated, groups or attributes changed). Until that check lands, every containment is reported as
 * `not-checked`, and the status says plainly that "in effect" is the ledger's word only.
 */
import type { ClientFactory } from "../aws/clients";
import type { ContainmentInEffect, LiveState } from "./status";

/** What a live check needs. */
export interface LiveCheckContext {
  /** Responder clients for the case (member accounts through the member responder role). */
  readonly factory: ClientFactory;
}

/**
 * The live state of each containment, by record sequence. Replace the body with the real drift check; the command
 * and the rendering already show whatever it returns.
 *
 * @param _ctx clients for the check.
 * @param inEffect the containments the ledger says are in effect.
 */
export async function liveStates(
  _ctx: LiveCheckContext,
  inEffect: readonly ContainmentInEffect[],
): Promise<Map<number, LiveState>> {
  return new Map(
    inEffect.map((c) => [
      c.sequence,
      { state: "not-checked", detail: "not re-checked in AWS (the ledger's word only)" } satisfies LiveState,
    ]),
  );
}
