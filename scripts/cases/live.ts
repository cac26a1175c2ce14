/**
 * The live drift check of `flz case status` (issue 11 item 5): given the containments the ledger says are in effect,
 * re-read each from AWS (`containmentStatus`, scripts/contain/status.ts, the same check as `flz contain status`) and
 * say whether it still is: a quarantine policy removed or altered, a key re-activated, groups or attributes changed.
 * A containment the check does not cover (superseded by a later record, or of a kind it does not know) is
 * `not-checked`, with the reason.
 */
import type { ClientFactory } from "../aws/clients";
import { containmentStatus } from "../contain/status";
import type { CustodyLedger } from "../custody/types";
import { describeError } from "../errors";
import type { ContainmentInEffect, LiveState } from "./status";

/** What a live check needs. */
export interface LiveCheckContext {
  /** Responder clients for the case (member accounts through the member responder role). */
  readonly factory: ClientFactory;
  /** The case's ledger (read only): the reference the check compares AWS with. */
  readonly ledger: CustodyLedger;
  /** Home region (the Organizations endpoint's partition). */
  readonly region?: string;
}

/**
 * The live state of each containment, by record sequence.
 *
 * @param ctx clients and ledger for the check.
 * @param inEffect the containments the ledger says are in effect.
 */
export async function liveStates(
  ctx: LiveCheckContext,
  inEffect: readonly ContainmentInEffect[],
): Promise<Map<number, LiveState>> {
  const states = new Map<number, LiveState>();
  if (inEffect.length === 0) return states;
  try {
    const status = await containmentStatus({ factory: ctx.factory, ledger: ctx.ledger, region: ctx.region });
    const bySequence = new Map(status.containments.map((c) => [c.sequence, c]));
    for (const c of inEffect) {
      const found = bySequence.get(c.sequence);
      if (!found) {
        states.set(c.sequence, {
          state: "not-checked",
          detail:
            c.supersededBy !== undefined
              ? `superseded by record ${c.supersededBy}`
              : "not a containment the drift check reads",
        });
      } else if (found.state === "unknown") {
        states.set(c.sequence, { state: "not-checked", detail: found.findings.join("; ") });
      } else {
        states.set(c.sequence, {
          state: found.state,
          detail: found.state === "in-effect" ? "re-read in AWS: in effect" : found.findings.join("; "),
        });
      }
    }
  } catch (err) {
    for (const c of inEffect) {
      states.set(c.sequence, { state: "not-checked", detail: `the drift check failed: ${describeError(err)}` });
    }
  }
  return states;
}
