/**
 * The two kinds of step a volume's capture is made of, each resumable under a write-ahead intent (issue 19 item 2,
 * PLAN.md decision 5): a creation (snapshot, copy) that is found by its intent tag before it is made again, and a
 * change that sets state (share, lock) that is checked before it is applied again.
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import { ChangeFailedError, lookBeforeRetry } from "../aws/backoff";
import { isThrottlingError, isTransientError } from "../aws/attempts";
import { INTENT_TAG, type RecordedIntent } from "../custody/intent";
import type { CustodyEvent, JsonValue } from "../custody/types";
import { describeError, OperationError } from "../errors";
import { appendIntent, candidateOf, noteUntrusted, recordOnce, type Context } from "./context";
import type { RecordedSnapshot } from "./ledger-state";
import type { AttachedVolume, SnapshotStage } from "./plan";
import { pickIntentCreation, recordMatchProblem, type DescribedSnapshot, type Expectation } from "./provenance";
import { describeSnapshot, findByIntent } from "./steps";

/** A step failed; the intent it was made under, and whether the change may have happened. */
export class StepFailedError extends OperationError {
  constructor(
    message: string,
    readonly intentId: string | undefined,
    readonly intentOutcome: "not-applied" | "unknown" | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const LABEL: Record<SnapshotStage, string> = {
  source: "snapshot",
  "evidence-copy": "evidence copy",
  forensic: "forensic copy",
};

/** Where a creation stage acts and what it must produce. */
export interface CreationStage {
  readonly stage: SnapshotStage;
  readonly ec2: EC2Client;
  readonly account: string;
  readonly region: string;
  readonly expected: Expectation;
  readonly recorded?: RecordedSnapshot;
  readonly open: readonly RecordedIntent[];
  /** The creation call, with these tags. */
  readonly create: (tags: Record<string, string>) => Promise<DescribedSnapshot>;
  /** Tags of the new snapshot (without the intent tag). */
  readonly tags: Record<string, string>;
  /** What the intent says and the outcome record. */
  readonly intent: { operation: string; before: { [key: string]: JsonValue }; facts: { [key: string]: JsonValue } };
  readonly outcome: (snap: DescribedSnapshot, intentId: string, recovered: boolean) => CustodyEvent;
}

/**
 * The snapshot of a creation stage: the recorded one (still matching its record), else the creation of an open
 * intent (found by its tag), else a new creation under a new intent.
 */
export async function obtain(ctx: Context, volume: AttachedVolume, s: CreationStage): Promise<DescribedSnapshot> {
  const label = LABEL[s.stage];
  if (s.recorded) {
    const snap = await describeSnapshot(s.ec2, s.recorded.snapshotId);
    if (!snap) {
      throw new OperationError(
        `the ${label} ${s.recorded.snapshotId} recorded in custody record ${s.recorded.sequence} no longer exists in account ${s.account} (${s.region})`,
      );
    }
    const problem = recordMatchProblem(snap, s.recorded, s.expected);
    if (problem) {
      throw new OperationError(
        `the ${label} ${s.recorded.snapshotId} recorded in custody record ${s.recorded.sequence} no longer matches its record: it is ${problem}`,
      );
    }
    ctx.progress.note(`${volume.volumeId}: ${label} ${snap.snapshotId} recorded by an earlier run`);
    return snap;
  }
  for (const intent of s.open) {
    const { chosen, rejected } = pickIntentCreation(await findByIntent(s.ec2, intent.id), intent, s.expected);
    for (const r of rejected) noteUntrusted(ctx, candidateOf(r.snapshot, s.account, s.region, r.reason));
    if (chosen) {
      ctx.progress.note(
        `${volume.volumeId}: ${label} ${chosen.snapshotId} found by intent ${intent.id} (record ${intent.sequence}): a run made it, recording it now`,
      );
      await recordOnce(ctx, chosen.snapshotId, s.outcome(chosen, intent.id, true));
      return chosen;
    }
  }
  const { intent, record } = await appendIntent(ctx, {
    operation: s.intent.operation,
    step: s.stage,
    account: s.account,
    region: s.region,
    before: s.intent.before,
    undo: `nothing to undo: a ${label} of evidence is kept (it can be deleted by its owner; the ledger keeps its record)`,
    subjects: [volume.volumeId, ctx.request.instanceId],
    facts: { volumeId: volume.volumeId, device: volume.device, ...s.intent.facts },
    supersedes: s.open.map((i) => i.id),
  });
  const window = { id: intent.id, time: record.time, notAfter: intent.notAfter };
  let snap: DescribedSnapshot;
  try {
    const made = await lookBeforeRetry({
      change: () => s.create({ ...s.tags, [INTENT_TAG]: intent.id }),
      look: async () => pickIntentCreation(await findByIntent(s.ec2, intent.id), window, s.expected).chosen,
      unknownOutcome: (err) => isTransientError(err) && !isThrottlingError(err),
      deadline: ctx.deadline,
      settleMs: ctx.options.settleMs,
      sleep: ctx.options.sleep,
      onRetry: (attempt, err) =>
        ctx.progress.note(
          `${volume.volumeId}: ${label} attempt ${attempt} lost its answer (${describeError(err)}) and is not in AWS: trying again`,
        ),
    });
    snap = made.value;
    if (made.found)
      ctx.progress.note(`${volume.volumeId}: ${label} ${snap.snapshotId} was made although its answer was lost`);
  } catch (err) {
    const outcome = err instanceof ChangeFailedError ? err.outcome : "unknown";
    throw new StepFailedError(describeError(err instanceof ChangeFailedError ? err.cause : err), intent.id, outcome, {
      cause: err,
    });
  }
  await recordOnce(ctx, snap.snapshotId, s.outcome(snap, intent.id, false));
  return snap;
}

/** A change that sets state (share, lock): recorded, or found done by an open intent, or done now. */
export async function ensure(
  ctx: Context,
  volume: AttachedVolume,
  s: {
    step: string;
    operation: string;
    account: string;
    region: string;
    recorded: boolean;
    open: readonly RecordedIntent[];
    isDone: () => Promise<boolean>;
    apply: () => Promise<{ [key: string]: JsonValue }>;
    before: { [key: string]: JsonValue };
    undo: string;
    identifier: string;
    subject: string;
    outcome: (intentId: string, recovered: boolean, details: { [key: string]: JsonValue }) => CustodyEvent;
  },
): Promise<void> {
  if (s.recorded) return;
  if (s.open.length > 0 && (await s.isDone())) {
    await recordOnce(ctx, s.subject, s.outcome(s.open[s.open.length - 1].id, true, {}));
    return;
  }
  const { intent } = await appendIntent(ctx, {
    operation: s.operation,
    step: s.step,
    account: s.account,
    region: s.region,
    identifier: { kind: "state", description: s.identifier },
    before: s.before,
    undo: s.undo,
    subjects: [volume.volumeId, ctx.request.instanceId],
    facts: { volumeId: volume.volumeId, device: volume.device },
    supersedes: s.open.map((i) => i.id),
  });
  let details: { [key: string]: JsonValue };
  try {
    details = await s.apply();
  } catch (err) {
    // Setting state is idempotent: after a fault, look whether it took.
    if (isTransientError(err) && (await s.isDone().catch(() => false))) details = {};
    else throw new StepFailedError(describeError(err), intent.id, isTransientError(err) ? "unknown" : "not-applied");
  }
  await recordOnce(ctx, s.subject, s.outcome(intent.id, false, details));
}
