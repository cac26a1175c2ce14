/**
 * What became of each record of a batch the ledger wrote (ledger.ts), and the one-line errors of those that did not
 * land: a record claimed but not stored (the next append or `flz custody complete` copies it from its journal), a
 * record stored while a side write failed (the batch journal's retention, the case's public key), a claim the store
 * accepted twice.
 */
import { describeError, OperationError } from "../errors";
import { RecordTakenError } from "./record-writer";
import type { CustodyRecord } from "./types";

/** What became of one event of a batch. */
export type BatchOutcome = { readonly record: CustodyRecord } | { readonly error: unknown };

/**
 * The outcomes of a batch of which something failed, each failure named with its record and what repairs it.
 * @param outcomes each record's store outcome, in batch order
 * @param signed the batch's records
 * @param sideFailure why a side write failed (the journal's retention check, the public key), if one did
 * @param where the case and the batch journal's URL, for messages
 */
export function batchFailures(
  outcomes: readonly BatchOutcome[],
  signed: readonly CustodyRecord[],
  sideFailure: unknown,
  where: { readonly caseId: string; readonly journal: string },
): BatchOutcome[] {
  const { caseId, journal } = where;
  return outcomes.map((o, i): BatchOutcome => {
    const sequence = signed[i].sequence;
    if (!("error" in o) && sideFailure === undefined) return o;
    if ("error" in o)
      return {
        error:
          o.error instanceof OperationError
            ? o.error
            : new OperationError(
                `record ${sequence} of case ${caseId} is claimed (signed, in ${journal}) but was not stored (${describeError(o.error)}); the next append or flz custody complete --case ${caseId} copies it into place`,
              ),
      };
    return {
      error:
        sideFailure instanceof OperationError
          ? sideFailure
          : new OperationError(`record ${sequence} of case ${caseId} was stored, but ${describeError(sideFailure)}`),
    };
  });
}

/** The refusal of a record whose batch's claim was accepted twice by the store. */
export function contestedError(error: unknown, journal: string): unknown {
  if (!(error instanceof RecordTakenError)) return error;
  return new OperationError(
    `${error.message}: the claim ${journal} was accepted twice (S3 refuses the second of two conditional creates of one key; this store did not), and records of both claims were stored`,
  );
}
