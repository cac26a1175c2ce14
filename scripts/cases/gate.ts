/**
 * The gate every case command passes (issue 14, PLAN decision 1): a case exists only once `flz case open` has written
 * its record 0, `case.opened`. A mistyped case ID is refused in one line naming the closest existing cases, before
 * anything is written: in the Object-Locked bucket a record of a typo would be permanent.
 */
import { NotFoundError, OperationError, UsageError } from "../errors";
import { closestIds } from "./closest";
import { listCaseIds, readCaseHead, type CaseHead, type CaseStore } from "./registry";

/**
 * What a command will do with the case:
 * - `act`: append records or change AWS for it (capture, contain, evidence put, clock --case): record 0 must be
 *   `case.opened`, dry runs included, so a dry run of a typo fails the way the real run would;
 * - `read`: look at it (custody show / verify / export, case status): the case must have records, whatever record 0
 *   says, because an examiner must be able to inspect a damaged or pre-`case open` chain and be told it is BROKEN;
 * - `open`: create it (`flz case open` only): the case must not exist yet.
 */
export type CaseAccess = "act" | "read" | "open";

/** `s3://bucket/cases/<id>/`, for messages. */
function where(store: CaseStore, caseId: string): string {
  return `s3://${store.bucket}/cases/${caseId}/`;
}

/** The one-line refusal of a case ID that names no case, naming the closest existing ones. */
export async function unknownCaseError(store: CaseStore, caseId: string, why: string): Promise<NotFoundError> {
  const existing = await listCaseIds(store);
  const closest = closestIds(caseId, existing);
  const hint =
    closest.length === 0
      ? `no case exists yet in s3://${store.bucket}/cases/`
      : `closest existing case${closest.length > 1 ? "s" : ""}: ${closest.join(", ")}`;
  return new NotFoundError(
    `case ${caseId} does not exist (${why}); ${hint}; a new case is opened with: flz case open ${caseId} --title <title> --aware-at <time>`,
  );
}

/**
 * Checks that the case may be used the way the command intends; throws otherwise (unknown case: exit 2, in every
 * command; a case whose record 0 is not `case.opened`: exit 1 for a command that would act on it).
 *
 * @param store the evidence bucket and a client for it.
 * @param caseId a valid case ID.
 * @param access what the command will do (see {@link CaseAccess}).
 */
export async function checkCase(store: CaseStore, caseId: string, access: CaseAccess): Promise<CaseHead> {
  const head = await readCaseHead(store, caseId);
  if (access === "open") {
    if (head.kind === "opened")
      throw new UsageError(
        `case ${caseId} is already open (opened ${head.record.time} by ${head.opening.openedBy}: ${JSON.stringify(head.opening.title)}); see flz case status ${caseId}`,
      );
    if (head.kind === "other" || head.hasObjects)
      throw new UsageError(
        `case ${caseId} cannot be opened: ${where(store, caseId)} already holds custody records (${head.kind === "other" ? `record 0 ${head.reason}` : "but no record 0"}); choose another case ID, and run flz custody verify --case ${caseId}`,
      );
    return head;
  }
  if (head.kind === "opened") return head;
  if (head.kind === "missing") {
    if (access === "read" && head.hasObjects) return head;
    throw await unknownCaseError(
      store,
      caseId,
      `no case.opened record at ${where(store, caseId)}custody/00000000.json`,
    );
  }
  if (access === "read") return head;
  throw new OperationError(
    `case ${caseId} takes no new records: its record 0 ${head.reason} (cases are opened with flz case open); inspect it with flz custody verify --case ${caseId}, or open a new case`,
  );
}
