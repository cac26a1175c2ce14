/**
 * Capture provenance (issue 11 item 4; docs/threat-model.md "Capture provenance"): when is a snapshot found in AWS
 * evidence of a volume? Only when the ledger recorded its creation (or an open intent of this case names it by the
 * tag it was created with), and AWS still describes it as the record does: the volume it was taken of, the account
 * that owns it, the key it is encrypted under, and a start time that matches the record (or falls inside the
 * intent's window). Anything else tagged for the case is an untrusted candidate: reported, never locked, never
 * recorded as evidence. An administrator of the member account can tag any snapshot with the case's tags, and can
 * read a snapshot's tags (intent IDs included) once it exists; what he cannot do is change a snapshot's volume,
 * owner or start time, or write to the ledger.
 */
import type { RecordedIntent } from "../custody/intent";
import type { SnapshotRef, SnapshotStage } from "./plan";

/** A snapshot as EC2 describes it, with the fields provenance rests on. */
export interface DescribedSnapshot extends SnapshotRef {
  /** Account that owns it. */
  readonly ownerId?: string;
  /** Volume it was taken of (for copies, whatever EBS reports: not relied on). */
  readonly volumeId?: string;
}

/** What the snapshot must be. */
export interface Expectation {
  /** Stage. */
  readonly stage: SnapshotStage;
  /** The volume being captured. */
  readonly volumeId: string;
  /** Account that must own it. */
  readonly account: string;
  /** Key copies must be encrypted under (the forensic account's evidence key of the region). */
  readonly kmsKeyArn: string;
}

/** Clock difference tolerated between this host and AWS when comparing start times with an intent's time. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** Why a snapshot is not evidence of the expected volume and stage; undefined when it is. */
export function provenanceProblem(snap: DescribedSnapshot, expected: Expectation): string | undefined {
  if (snap.ownerId !== undefined && snap.ownerId !== expected.account)
    return `owned by account ${snap.ownerId}, not ${expected.account}`;
  if (expected.stage === "source") {
    if (snap.volumeId !== expected.volumeId)
      return `taken of volume ${snap.volumeId ?? "(none)"}, not ${expected.volumeId}`;
  } else if (snap.kmsKeyId !== undefined && snap.kmsKeyId !== expected.kmsKeyArn) {
    return `encrypted under ${snap.kmsKeyId}, not the evidence key ${expected.kmsKeyArn}`;
  }
  if (snap.state === "error") return "in state error";
  return undefined;
}

/** Why a snapshot found by an intent's tag is not that intent's creation; undefined when it is. */
export function intentMatchProblem(
  snap: DescribedSnapshot,
  intent: Pick<RecordedIntent, "time" | "notAfter">,
  expected: Expectation,
): string | undefined {
  const problem = provenanceProblem(snap, expected);
  if (problem) return problem;
  const started = snap.startTime ? Date.parse(snap.startTime) : NaN;
  if (Number.isNaN(started)) return "has no start time";
  const from = Date.parse(intent.time) - CLOCK_SKEW_MS;
  const to = Date.parse(intent.notAfter) + CLOCK_SKEW_MS;
  if (started < from || started > to)
    return `started at ${snap.startTime}, outside the intent's window ${intent.time} to ${intent.notAfter}`;
  return undefined;
}

/** Why a recorded snapshot no longer matches its record; undefined when it does. */
export function recordMatchProblem(
  snap: DescribedSnapshot,
  recorded: { readonly startTime?: string },
  expected: Expectation,
): string | undefined {
  const problem = provenanceProblem(snap, expected);
  if (problem) return problem;
  if (recorded.startTime && snap.startTime && Date.parse(recorded.startTime) !== Date.parse(snap.startTime))
    return `started at ${snap.startTime}, but the ledger recorded ${recorded.startTime}`;
  return undefined;
}

/**
 * Among the snapshots an intent's tag finds, the one that is its creation: the earliest that passes
 * {@link intentMatchProblem}. The others are untrusted candidates, each with its reason.
 */
export function pickIntentCreation(
  found: readonly DescribedSnapshot[],
  intent: Pick<RecordedIntent, "id" | "time" | "notAfter">,
  expected: Expectation,
): { chosen?: DescribedSnapshot; rejected: { snapshot: DescribedSnapshot; reason: string }[] } {
  const rejected: { snapshot: DescribedSnapshot; reason: string }[] = [];
  const valid: DescribedSnapshot[] = [];
  for (const snap of found) {
    const problem = intentMatchProblem(snap, intent, expected);
    if (problem) rejected.push({ snapshot: snap, reason: `carries intent ${intent.id} but is ${problem}` });
    else valid.push(snap);
  }
  valid.sort(
    (a, b) => (a.startTime ?? "").localeCompare(b.startTime ?? "") || a.snapshotId.localeCompare(b.snapshotId),
  );
  const [chosen, ...extra] = valid;
  for (const snap of extra)
    rejected.push({
      snapshot: snap,
      reason: `a second snapshot for intent ${intent.id} (${chosen?.snapshotId} is used)`,
    });
  return { chosen, rejected };
}
