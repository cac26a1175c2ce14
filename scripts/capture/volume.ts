/**
 * One volume's capture, resumable and recorded with write-ahead intents (issue 19 item 2, PLAN.md decision 5):
 * snapshot in the member account -> copy under the evidence key -> share with the forensic account -> copy again in
 * the forensic account -> compliance lock. Each step first uses what the ledger recorded (checked against AWS:
 * provenance.ts), then resolves the step's open intents by their identifiers, and only then writes a new intent and
 * makes the change: a creation tagged with its intent ID, tried with look-before-retry, never retried blindly.
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import { withQuotaBackoff } from "../aws/backoff";
import type { CustodyEvent, JsonValue } from "../custody/types";
import { describeError } from "../errors";
import { snapshotEvidence, type Context } from "./context";
import type { VolumeLedgerState } from "./ledger-state";
import { captureTags, type AttachedVolume, type SnapshotStage } from "./plan";
import type { DescribedSnapshot, Expectation } from "./provenance";
import {
  copySnapshot,
  createSnapshot,
  describeSnapshot,
  isSharedWith,
  lockSnapshot,
  lockedSnapshots,
  shareSnapshot,
  waitForSnapshot,
} from "./steps";
import { ensure, obtain, StepFailedError } from "./volume-stage";

/** One volume's outcome, as `--json` prints it. */
export interface SnapshotResult {
  /** The captured volume. */
  readonly volumeId: string;
  /** Its device name on the instance. */
  readonly device: string;
  /** The member account's snapshot of the volume. */
  readonly sourceSnapshotId?: string;
  /** The member account's copy under the evidence key (the one shared with the forensic account). */
  readonly evidenceCopySnapshotId?: string;
  /** The forensic account's own copy: the evidence. */
  readonly forensicSnapshotId?: string;
  /** The evidence key the copies are encrypted under. */
  readonly kmsKeyArn: string;
  /** `completed`, or `error` when a step failed. */
  readonly state: "completed" | "error";
  /** Whether the forensic copy is under a compliance snapshot lock. */
  readonly locked: boolean;
  /** The error line, when `state` is `error`. */
  readonly error?: string;
}

/** Runs (or resumes) one volume's capture; a failure is recorded and returned, not thrown. */
export async function captureVolume(
  ctx: Context,
  volume: AttachedVolume,
  state: VolumeLedgerState,
): Promise<SnapshotResult> {
  const { request, destination, progress, options } = ctx;
  const base = { volumeId: volume.volumeId, device: volume.device, kmsKeyArn: destination.kmsKeyArn };
  const forensicAccount = ctx.lz.forensicAccountId;
  const open = (step: string) => state.open.get(step) ?? [];
  let source: DescribedSnapshot | undefined;
  let evidenceCopy: DescribedSnapshot | undefined;
  let forensic: DescribedSnapshot | undefined;
  let locked = false;
  const wait = (ec2: EC2Client, snap: DescribedSnapshot, what: string) =>
    snap.state === "completed"
      ? Promise.resolve(snap)
      : waitForSnapshot(ec2, snap.snapshotId, {
          what,
          intervalMs: options.pollIntervalMs ?? 5000,
          deadline: ctx.deadline,
          sleep: options.sleep,
          now: () => ctx.now().getTime(),
          onProgress: (p) => progress.update(volume.volumeId, what, p),
        }).then((done) => ({ ...snap, ...done }));
  const quota = <T>(fn: () => Promise<T>) =>
    withQuotaBackoff(fn, {
      ...options.quotaBackoff,
      deadline: ctx.deadline,
      sleep: options.sleep,
      onRetry: (attempt, delay) =>
        progress.note(
          `${volume.volumeId}: copy quota full (ResourceLimitExceeded), retry ${attempt} in ${Math.round(delay / 1000)} s`,
        ),
    });
  const tags = (stage: SnapshotStage, capturedAt: string, sourceSnapshotId?: string) =>
    captureTags({
      caseId: request.caseId,
      instanceId: request.instanceId,
      account: request.account,
      volume,
      stage,
      capturedAt,
      sourceSnapshotId,
    });
  const expected = (stage: SnapshotStage, account: string): Expectation => ({
    stage,
    volumeId: volume.volumeId,
    account,
    kmsKeyArn: destination.kmsKeyArn,
  });
  const common = { volumeId: volume.volumeId, device: volume.device, instance: request.instanceId };

  try {
    // 1. Snapshot the volume in the member account.
    source = await obtain(ctx, volume, {
      stage: "source",
      ec2: ctx.memberSource,
      account: request.account,
      region: request.region,
      expected: expected("source", request.account),
      recorded: state.snapshots.source,
      open: open("source"),
      tags: tags("source", ctx.now().toISOString()),
      create: async (t) => {
        const snap = await createSnapshot(
          ctx.memberSource,
          volume.volumeId,
          t,
          `flz case ${request.caseId}: ${request.instanceId} ${volume.device} (${volume.volumeId})`,
        );
        progress.update(volume.volumeId, "snapshot", 0);
        return snap;
      },
      intent: { operation: "CreateSnapshot", before: { snapshotOfVolume: null }, facts: {} },
      outcome: (snap, intentId, recovered) => ({
        action: "capture.snapshot.created",
        subjects: [snap.snapshotId, volume.volumeId, request.instanceId],
        evidence: [
          snapshotEvidence(request.region, request.account, snap, { volumeId: volume.volumeId, device: volume.device }),
        ],
        details: {
          ...common,
          account: request.account,
          startTime: snap.startTime ?? null,
          intentId,
          recoveredFromIntent: recovered,
        },
      }),
    });
    const created = source;
    const capturedAt = created.tags["flz:captured-at"] ?? ctx.now().toISOString();

    // 2. Copy under the evidence key, in the member account: aws/ebs-encrypted snapshots cannot be shared.
    const copyOutcome =
      (stage: "evidence-copy" | "forensic", account: string, from: DescribedSnapshot) =>
      (snap: DescribedSnapshot, intentId: string, recovered: boolean): CustodyEvent => ({
        action: "capture.snapshot.copied",
        subjects: [snap.snapshotId, from.snapshotId, volume.volumeId],
        evidence: [
          snapshotEvidence(
            destination.region,
            account,
            { snapshotId: snap.snapshotId, kmsKeyId: destination.kmsKeyArn },
            { sourceSnapshotId: from.snapshotId, volumeId: volume.volumeId },
          ),
        ],
        details: {
          ...common,
          stage,
          account,
          sourceSnapshotId: from.snapshotId,
          destinationSnapshotId: snap.snapshotId,
          region: destination.region,
          kmsKeyArn: destination.kmsKeyArn,
          startTime: snap.startTime ?? null,
          intentId,
          recoveredFromIntent: recovered,
        },
      });
    const done = await wait(ctx.memberSource, created, "snapshot");
    source = done;
    evidenceCopy = await ctx.queue.run(request.account, destination.region, async () => {
      const copy = await obtain(ctx, volume, {
        stage: "evidence-copy",
        ec2: ctx.memberDestination,
        account: request.account,
        region: destination.region,
        expected: expected("evidence-copy", request.account),
        recorded: state.snapshots["evidence-copy"],
        open: open("evidence-copy"),
        tags: tags("evidence-copy", capturedAt, done.snapshotId),
        create: async (t) => {
          const id = await quota(() =>
            copySnapshot(ctx.memberDestination, {
              sourceSnapshotId: done.snapshotId,
              sourceRegion: request.region,
              kmsKeyArn: destination.kmsKeyArn,
              tags: t,
              description: `flz case ${request.caseId}: evidence copy of ${done.snapshotId} (${volume.volumeId})`,
            }),
          );
          progress.update(volume.volumeId, "evidence copy", 0);
          return (await describeSnapshot(ctx.memberDestination, id)) ?? { snapshotId: id, state: "pending", tags: t };
        },
        intent: {
          operation: "CopySnapshot",
          before: { evidenceCopyOf: done.snapshotId, exists: false },
          facts: { sourceSnapshotId: done.snapshotId },
        },
        outcome: copyOutcome("evidence-copy", request.account, done),
      });
      return wait(ctx.memberDestination, copy, "evidence copy");
    });
    const copy = evidenceCopy;

    // 3. Share the copy with the forensic account, and nobody else.
    await ensure(ctx, volume, {
      step: "share",
      operation: "ModifySnapshotAttribute",
      account: request.account,
      region: destination.region,
      recorded: state.shared.has(copy.snapshotId),
      open: open("share"),
      isDone: () => isSharedWith(ctx.memberDestination, copy.snapshotId, forensicAccount),
      apply: async () => {
        await shareSnapshot(ctx.memberDestination, copy.snapshotId, forensicAccount);
        return {};
      },
      before: { snapshotId: copy.snapshotId, sharedWith: [] },
      undo: `ModifySnapshotAttribute ${copy.snapshotId} createVolumePermission remove ${forensicAccount}`,
      identifier: `createVolumePermission of ${copy.snapshotId} includes ${forensicAccount}`,
      subject: copy.snapshotId,
      outcome: (intentId, recovered) => ({
        action: "capture.snapshot.shared",
        subjects: [copy.snapshotId, forensicAccount],
        details: {
          ...common,
          snapshotId: copy.snapshotId,
          account: request.account,
          region: destination.region,
          sharedWith: forensicAccount,
          intentId,
          recoveredFromIntent: recovered,
        },
      }),
    });

    // 4. Copy again in the forensic account, so the forensic account owns the evidence.
    forensic = await ctx.queue.run(forensicAccount, destination.region, async () => {
      const made = await obtain(ctx, volume, {
        stage: "forensic",
        ec2: ctx.forensicDestination,
        account: forensicAccount,
        region: destination.region,
        expected: expected("forensic", forensicAccount),
        recorded: state.snapshots.forensic,
        open: open("forensic"),
        tags: tags("forensic", capturedAt, created.snapshotId),
        create: async (t) => {
          const id = await quota(() =>
            copySnapshot(ctx.forensicDestination, {
              sourceSnapshotId: copy.snapshotId,
              sourceRegion: destination.region,
              kmsKeyArn: destination.kmsKeyArn,
              tags: t,
              description: `flz case ${request.caseId}: forensic copy of ${created.snapshotId} (${volume.volumeId} of ${request.instanceId})`,
            }),
          );
          progress.update(volume.volumeId, "forensic copy", 0);
          return (await describeSnapshot(ctx.forensicDestination, id)) ?? { snapshotId: id, state: "pending", tags: t };
        },
        intent: {
          operation: "CopySnapshot",
          before: { forensicCopyOf: copy.snapshotId, exists: false },
          facts: { sourceSnapshotId: copy.snapshotId },
        },
        outcome: copyOutcome("forensic", forensicAccount, copy),
      });
      return wait(ctx.forensicDestination, made, "forensic copy");
    });
    const evidence = forensic;

    // 5. Lock the forensic copy: compliance mode, nobody can delete it before the lock ends.
    const isLocked = async () =>
      (await lockedSnapshots(ctx.forensicDestination, [evidence.snapshotId])).has(evidence.snapshotId);
    await ensure(ctx, volume, {
      step: "lock",
      operation: "LockSnapshot",
      account: forensicAccount,
      region: destination.region,
      recorded: state.locked.has(evidence.snapshotId),
      open: open("lock"),
      isDone: isLocked,
      apply: async (): Promise<{ [key: string]: JsonValue }> => {
        // One lock: a lock already there (an earlier run's answer lost) is not renewed.
        if (await isLocked()) return { alreadyLocked: true };
        const lock = await lockSnapshot(ctx.forensicDestination, evidence.snapshotId, request.lockDays);
        return { lockState: lock.lockState, expiresOn: lock.expiresOn ?? null };
      },
      before: { snapshotId: evidence.snapshotId, locked: false },
      undo: "none: a compliance-mode lock cannot be removed or shortened by anyone until it expires",
      identifier: `DescribeLockedSnapshots lists ${evidence.snapshotId}`,
      subject: `lock:${evidence.snapshotId}`,
      outcome: (intentId, recovered, details) => ({
        action: "capture.snapshot.locked",
        subjects: [evidence.snapshotId, `lock:${evidence.snapshotId}`],
        details: {
          ...common,
          snapshotId: evidence.snapshotId,
          account: forensicAccount,
          region: destination.region,
          mode: "compliance",
          lockDays: request.lockDays,
          intentId,
          recoveredFromIntent: recovered,
          ...details,
        },
      }),
    });
    locked = true;
    progress.update(volume.volumeId, "locked", 100);
    return {
      ...base,
      sourceSnapshotId: source.snapshotId,
      evidenceCopySnapshotId: evidenceCopy.snapshotId,
      forensicSnapshotId: evidence.snapshotId,
      state: "completed",
      locked,
    };
  } catch (err) {
    const line = describeError(err);
    progress.note(`${volume.volumeId}: failed: ${line}`);
    const step = err instanceof StepFailedError ? err : undefined;
    await options.ledger.append({
      action: "capture.snapshot.failed",
      subjects: [
        volume.volumeId,
        request.instanceId,
        ...[source, evidenceCopy, forensic].flatMap((s) => (s ? [s.snapshotId] : [])),
      ],
      outcome: "failed",
      error: line,
      details: {
        ...common,
        ...(step?.intentId ? { intentId: step.intentId, intentOutcome: step.intentOutcome ?? "unknown" } : {}),
      },
    });
    return {
      ...base,
      sourceSnapshotId: source?.snapshotId,
      evidenceCopySnapshotId: evidenceCopy?.snapshotId,
      forensicSnapshotId: forensic?.snapshotId,
      state: "error",
      locked,
      error: line,
    };
  }
}
