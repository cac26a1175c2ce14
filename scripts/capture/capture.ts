/**
 * Snapshot-first evidence capture (DESIGN.md §5), resumable and recorded: for every volume of an instance, a
 * snapshot in the member account, a copy under the forensic account's evidence key, shared with the forensic
 * account, copied again there so the forensic account owns it, and locked in compliance mode. The instance's
 * DescribeInstances record and console output go to the evidence bucket as artefacts. Every step goes into the
 * case's custody ledger as soon as it has happened, so a run killed midway leaves a ledger that says what exists;
 * a rerun finds the snapshots by their tags and continues without capturing anything twice.
 */
import { EC2Client, type Instance } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { STSClient } from "@aws-sdk/client-sts";
import pLimit from "p-limit";
import { withQuotaBackoff, type QuotaBackoffOptions, type Sleep } from "../aws/backoff";
import type { ClientFactory } from "../aws/clients";
import type { LandingZone } from "../contract";
import { describeError, NotFoundError, OperationError } from "../errors";
import type { CustodyEvent, CustodyLedger, JsonValue } from "../custody/types";
import {
  CAPTURE_TAG,
  MAX_CONCURRENT_COPIES_PER_REGION,
  captureTags,
  destinationFor,
  resumeState,
  selectVolumes,
  type AttachedVolume,
  type CaptureRequest,
  type Destination,
  type SnapshotRef,
  type VolumeCapture,
} from "./plan";
import { silentProgress, type CaptureProgress } from "./progress";
import {
  attachedVolumes,
  callerArn,
  consoleOutput,
  copySnapshot,
  createSnapshot,
  describeInstance,
  findCaptureSnapshots,
  lockSnapshot,
  lockedSnapshots,
  shareSnapshot,
  sharedWith,
  storeArtefact,
  waitForSnapshot,
  type StoredArtefact,
} from "./steps";

/**
 * Bounds concurrent snapshot copies per destination account and region (EBS allows 20; more are refused with
 * ResourceLimitExceeded). A copy holds its slot until it completes, because that is what the quota counts. Share
 * one queue between captures that run at the same time.
 */
export class CopyQueue {
  private readonly limits = new Map<string, ReturnType<typeof pLimit>>();

  constructor(private readonly perRegion = MAX_CONCURRENT_COPIES_PER_REGION) {}

  /** Runs `fn` when a copy slot in that account and region is free. */
  run<T>(account: string, region: string, fn: () => Promise<T>): Promise<T> {
    const key = `${account}|${region}`;
    let limit = this.limits.get(key);
    if (!limit) {
      limit = pLimit(this.perRegion);
      this.limits.set(key, limit);
    }
    return limit(fn);
  }
}

/** Options of {@link captureInstance}. */
export interface CaptureOptions {
  /** Clients: forensic account through the forensic responder role, members through the member responder role. */
  readonly factory: ClientFactory;
  /** The landing-zone contract. */
  readonly landingZone: LandingZone;
  /** What to capture. */
  readonly request: CaptureRequest;
  /** The case's custody ledger; every step is appended to it. */
  readonly ledger: CustodyLedger;
  /** Progress reporting. Default: silent. */
  readonly progress?: CaptureProgress;
  /** Copy queue shared with other captures running at the same time. Default: a new one. */
  readonly queue?: CopyQueue;
  /** Milliseconds between snapshot polls. Default 5 000. */
  readonly pollIntervalMs?: number;
  /** Backoff on ResourceLimitExceeded (defaults in {@link withQuotaBackoff}). */
  readonly quotaBackoff?: Omit<QuotaBackoffOptions, "deadline" | "onRetry" | "sleep">;
  /** Sleep (tests). */
  readonly sleep?: Sleep;
  /** Clock (tests). */
  readonly now?: () => Date;
}

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

/** An instance artefact's outcome. */
export interface ArtefactResult {
  /** `instance-record` or `console-output`. */
  readonly kind: string;
  /** `s3://bucket/key`, when stored. */
  readonly location?: string;
  /** Hex SHA-256 of the stored bytes, when stored. */
  readonly sha256?: string;
  /** The error line, when it could not be stored. */
  readonly error?: string;
}

/** What a capture did, as `--json` prints it. */
export interface CaptureResult {
  /** Case ID. */
  readonly case: string;
  /** Instance ID. */
  readonly instance: string;
  /** Member account of the instance. */
  readonly account: string;
  /** Region of the instance. */
  readonly region: string;
  /** Region of the evidence copies. */
  readonly destinationRegion: string;
  /** One entry per captured volume. */
  readonly snapshots: SnapshotResult[];
  /** The instance record and console output in the evidence bucket (stored by this run or an earlier one). */
  readonly artefacts: ArtefactResult[];
}

/** Everything a capture run touches, resolved once. */
interface Context {
  readonly options: CaptureOptions;
  readonly request: CaptureRequest;
  readonly lz: LandingZone;
  readonly destination: Destination;
  readonly memberSource: EC2Client;
  readonly memberDestination: EC2Client;
  readonly forensicDestination: EC2Client;
  readonly deadline: number;
  readonly progress: CaptureProgress;
  readonly queue: CopyQueue;
  readonly recorded: Set<string>;
  /** Artefacts an earlier run of the case already stored, by subject. */
  readonly earlierArtefacts: Map<string, ArtefactResult>;
  readonly now: () => Date;
}

/** Official-format ARN of a snapshot (EBS snapshot ARNs carry no account; the record's details do). */
export function snapshotArn(region: string, snapshotId: string): string {
  return `arn:aws:ec2:${region}::snapshot/${snapshotId}`;
}

function recordKey(action: string, subject: string): string {
  return `${action}|${subject}`;
}

/** Captures one instance. Resolves with per-volume outcomes; a failed volume does not stop the others. */
export async function captureInstance(options: CaptureOptions): Promise<CaptureResult> {
  const { factory, request, ledger } = options;
  const lz = options.landingZone;
  const now = options.now ?? (() => new Date());
  const progress = options.progress ?? silentProgress;
  const destination = destinationFor(lz, request.region);
  const member = { account: request.account };

  const fail = async (message: string, cause: unknown, subjects: string[]): Promise<never> => {
    const line = `${message}: ${describeError(cause)}`;
    await ledger.append({
      action: "capture.failed",
      subjects,
      outcome: "failed",
      error: line,
      details: requestDetails(request),
    });
    throw new OperationError(line, { cause });
  };

  // Who is acting, in both accounts: the member call is where role assumption (and its AccessDenied) happens.
  const forensicCaller = await callerArn(factory.client(STSClient, { region: lz.homeRegion })).catch((err: unknown) => {
    throw new OperationError(
      `cannot act as the forensic responder ${lz.forensicResponderRoleArn}: ${describeError(err)}`,
      { cause: err },
    );
  });
  const memberCaller = await callerArn(factory.client(STSClient, { ...member, region: request.region })).catch(
    (err: unknown) =>
      fail(`cannot assume the member responder role ${factory.memberRoleArn(request.account)}`, err, [
        request.instanceId,
        request.account,
      ]),
  );

  const memberSource = factory.client(EC2Client, { ...member, region: request.region });
  const instance = await locateInstance(options, memberSource).catch((err: unknown) =>
    err instanceof InstanceNotFoundError
      ? ledger
          .append({
            action: "capture.failed",
            subjects: [request.instanceId],
            outcome: "failed",
            error: err.message,
            details: requestDetails(request),
          })
          .then(() => Promise.reject(err))
      : fail(`cannot describe instance ${request.instanceId}`, err, [request.instanceId]),
  );
  const volumes = selectVolumes(attachedVolumes(instance), request.volumeIds, request.instanceId);

  const earlier = await ledger.records();
  const ctx: Context = {
    options,
    request,
    lz,
    destination,
    memberSource,
    memberDestination: factory.client(EC2Client, { ...member, region: destination.region }),
    forensicDestination: factory.client(EC2Client, { region: destination.region }),
    deadline: now().getTime() + request.maxWaitMinutes * 60_000,
    progress,
    queue: options.queue ?? new CopyQueue(),
    recorded: new Set(earlier.flatMap((r) => r.subjects.map((s) => recordKey(r.action, s)))),
    earlierArtefacts: new Map(
      earlier
        .filter((r) => r.action === "capture.artefact.stored" && r.evidence?.[0])
        .map((r) => [
          r.subjects[0],
          { kind: r.evidence?.[0].kind ?? "", location: r.evidence?.[0].location, sha256: r.evidence?.[0].sha256 },
        ]),
    ),
    now,
  };

  const existing = await findExisting(ctx, volumes).catch((err: unknown) =>
    fail(`cannot look up the existing capture snapshots of case ${request.caseId}`, err, [request.instanceId]),
  );
  await ledger.append({
    action: "capture.started",
    subjects: [request.instanceId, request.account],
    details: {
      ...requestDetails(request),
      forensicCaller,
      memberCaller,
      destinationRegion: destination.region,
      kmsKeyArn: destination.kmsKeyArn,
      volumes: volumes.map((v) => ({ volumeId: v.volumeId, device: v.device })),
      resumed: existing.filter((v) => v.source).map((v) => v.volume.volumeId),
    },
  });

  const [artefacts, snapshots] = await Promise.all([
    storeInstanceArtefacts(ctx, instance),
    Promise.all(existing.map((v) => captureVolume(ctx, v))),
  ]);
  const errors = failureLines({ snapshots, artefacts });
  await ledger.append({
    action: errors.length ? "capture.finished-with-failures" : "capture.completed",
    subjects: [request.instanceId, ...snapshots.flatMap((s) => (s.forensicSnapshotId ? [s.forensicSnapshotId] : []))],
    outcome: errors.length ? "failed" : "succeeded",
    ...(errors.length ? { error: errors.join("; ") } : {}),
    details: {
      snapshots: snapshots.map((s) => ({ ...s }) as { [key: string]: JsonValue }),
      artefacts: artefacts.map((a) => ({ ...a }) as { [key: string]: JsonValue }),
    },
  });
  progress.stop();
  return {
    case: request.caseId,
    instance: request.instanceId,
    account: request.account,
    region: request.region,
    destinationRegion: destination.region,
    snapshots,
    artefacts,
  };
}

/** One line per thing that failed in a capture (empty when everything was captured). */
export function failureLines(result: Pick<CaptureResult, "snapshots" | "artefacts">): string[] {
  return [
    ...result.snapshots.filter((s) => s.state === "error").map((s) => `${s.volumeId}: ${s.error}`),
    ...result.artefacts.filter((a) => a.error).map((a) => `${a.kind}: ${a.error}`),
  ];
}

function requestDetails(request: CaptureRequest): { [key: string]: JsonValue } {
  return {
    instance: request.instanceId,
    account: request.account,
    region: request.region,
    volumes: request.volumeIds,
    lockDays: request.lockDays,
    maxWaitMinutes: request.maxWaitMinutes,
  };
}

/**
 * The instance is not where the operator said (exit 2, as an unknown name is in every command): the message says where
 * it is, or where it was looked for.
 */
export class InstanceNotFoundError extends NotFoundError {}

/**
 * Finds the instance in the requested region; when it is not there, looks in the landing zone's other regions so
 * the operator is told where it is rather than only that it is missing.
 */
export async function locateInstance(
  options: Pick<CaptureOptions, "factory" | "landingZone" | "request">,
  ec2: EC2Client,
): Promise<Instance> {
  const { request, factory, landingZone: lz } = options;
  const instance = await describeInstance(ec2, request.instanceId);
  if (instance) return instance;
  const others = [...new Set([lz.homeRegion, ...lz.regions])].filter((r) => r !== request.region);
  const found = await Promise.all(
    others.map(async (region) => {
      const there = await describeInstance(
        factory.client(EC2Client, { account: request.account, region }),
        request.instanceId,
      ).catch(() => undefined);
      return there ? region : undefined;
    }),
  );
  const elsewhere = found.find((r) => r !== undefined);
  if (elsewhere) {
    throw new InstanceNotFoundError(
      `instance ${request.instanceId} is not in ${request.region} but in ${elsewhere} (account ${request.account}): run again with --region ${elsewhere}`,
    );
  }
  throw new InstanceNotFoundError(
    `instance ${request.instanceId} not found in account ${request.account} (looked in ${[request.region, ...others].join(", ")}): check --instance, --account and --region`,
  );
}

/** The clients and facts {@link findExisting} needs. */
type LookupContext = Pick<
  Context,
  "request" | "lz" | "destination" | "memberSource" | "memberDestination" | "forensicDestination"
>;

/** What exists already for these volumes, from the snapshots' tags, their share attribute and their locks. */
async function findExisting(ctx: LookupContext, volumes: AttachedVolume[]): Promise<VolumeCapture[]> {
  const { request } = ctx;
  const stage = (s: SnapshotRef) => s.tags[CAPTURE_TAG.stage];
  const [memberSource, memberDestination, forensic] = await Promise.all([
    findCaptureSnapshots(ctx.memberSource, request.caseId, request.instanceId),
    ctx.destination.crossRegion
      ? findCaptureSnapshots(ctx.memberDestination, request.caseId, request.instanceId)
      : Promise.resolve([]),
    findCaptureSnapshots(ctx.forensicDestination, request.caseId, request.instanceId),
  ]);
  // Cross-region, the evidence copies live in the destination region; the source snapshots in the instance's.
  const member = ctx.destination.crossRegion
    ? [
        ...memberSource.filter((s) => stage(s) === "source"),
        ...memberDestination.filter((s) => stage(s) === "evidence-copy"),
      ]
    : memberSource;
  const copies = member.filter((s) => stage(s) === "evidence-copy").map((s) => s.snapshotId);
  const [shared, locked] = await Promise.all([
    sharedWith(ctx.memberDestination, copies, ctx.lz.forensicAccountId),
    lockedSnapshots(
      ctx.forensicDestination,
      forensic.map((s) => s.snapshotId),
    ),
  ]);
  return resumeState(volumes, { member, forensic, sharedWithForensic: shared, locked });
}

/** Appends an event unless the ledger already has that action for that subject (a resumed run). */
async function recordOnce(ctx: Context, subject: string, event: CustodyEvent): Promise<void> {
  const key = recordKey(event.action, subject);
  if (ctx.recorded.has(key)) return;
  await ctx.options.ledger.append(event);
  ctx.recorded.add(key);
}

function snapshotEvidence(
  region: string,
  account: string,
  snap: SnapshotRef,
  extra: { [key: string]: JsonValue } = {},
) {
  return {
    kind: "snapshot",
    location: snapshotArn(region, snap.snapshotId),
    details: {
      account,
      region,
      snapshotId: snap.snapshotId,
      ...(snap.kmsKeyId ? { kmsKeyId: snap.kmsKeyId } : {}),
      ...extra,
    },
  };
}

/** Runs (or resumes) one volume's capture; a failure is recorded and returned, not thrown. */
async function captureVolume(ctx: Context, start: VolumeCapture): Promise<SnapshotResult> {
  const { request, destination, progress, options } = ctx;
  const { volume } = start;
  const base = { volumeId: volume.volumeId, device: volume.device, kmsKeyArn: destination.kmsKeyArn };
  const forensicAccount = ctx.lz.forensicAccountId;
  let source = start.source;
  let evidenceCopy = start.evidenceCopy;
  let forensic = start.forensic;
  let locked = start.locked;
  const wait = (ec2: EC2Client, snap: SnapshotRef, what: string) =>
    snap.state === "completed"
      ? Promise.resolve(snap)
      : waitForSnapshot(ec2, snap.snapshotId, {
          what,
          intervalMs: options.pollIntervalMs ?? 5000,
          deadline: ctx.deadline,
          sleep: options.sleep,
          now: () => ctx.now().getTime(),
          onProgress: (p) => progress.update(volume.volumeId, what, p),
        });
  const backoff = (fn: () => Promise<string>) =>
    withQuotaBackoff(fn, {
      ...options.quotaBackoff,
      deadline: ctx.deadline,
      sleep: options.sleep,
      onRetry: (attempt, delay) =>
        progress.note(
          `${volume.volumeId}: copy quota full (ResourceLimitExceeded), retry ${attempt} in ${Math.round(delay / 1000)} s`,
        ),
    });
  const subjects = () => [
    volume.volumeId,
    request.instanceId,
    ...[source, evidenceCopy, forensic].flatMap((s) => (s ? [s.snapshotId] : [])),
  ];

  try {
    // 1. Snapshot the volume in the member account.
    if (!source) {
      const capturedAt = ctx.now().toISOString();
      const tags = captureTags({
        caseId: request.caseId,
        instanceId: request.instanceId,
        account: request.account,
        volume,
        stage: "source",
        capturedAt,
      });
      source = await createSnapshot(
        ctx.memberSource,
        volume.volumeId,
        tags,
        `flz case ${request.caseId}: ${request.instanceId} ${volume.device} (${volume.volumeId})`,
      );
      progress.update(volume.volumeId, "snapshot", 0);
    } else {
      progress.note(`${volume.volumeId}: found snapshot ${source.snapshotId} from an earlier run`);
    }
    const created = source;
    await recordOnce(ctx, created.snapshotId, {
      action: "capture.snapshot.created",
      subjects: [created.snapshotId, volume.volumeId, request.instanceId],
      evidence: [
        snapshotEvidence(request.region, request.account, created, {
          volumeId: volume.volumeId,
          device: volume.device,
        }),
      ],
      details: {
        volumeId: volume.volumeId,
        device: volume.device,
        startTime: created.startTime ?? null,
        recoveredFromTags: start.source !== undefined,
      },
    });
    const capturedAt = created.tags[CAPTURE_TAG.capturedAt] ?? ctx.now().toISOString();

    if (!forensic) {
      // 2. Copy under the evidence key, in the member account: aws/ebs-encrypted snapshots cannot be shared.
      if (!evidenceCopy) {
        const done = await wait(ctx.memberSource, created, "snapshot");
        source = done;
        evidenceCopy = await ctx.queue.run(request.account, destination.region, async () => {
          const startedAt = ctx.now().toISOString();
          const id = await backoff(() =>
            copySnapshot(ctx.memberDestination, {
              sourceSnapshotId: done.snapshotId,
              sourceRegion: request.region,
              kmsKeyArn: destination.kmsKeyArn,
              tags: captureTags({
                caseId: request.caseId,
                instanceId: request.instanceId,
                account: request.account,
                volume,
                stage: "evidence-copy",
                capturedAt,
                sourceSnapshotId: done.snapshotId,
              }),
              description: `flz case ${request.caseId}: evidence copy of ${done.snapshotId} (${volume.volumeId})`,
            }),
          );
          await recordOnce(ctx, id, {
            action: "capture.snapshot.copied",
            subjects: [id, done.snapshotId, volume.volumeId],
            evidence: [
              snapshotEvidence(
                destination.region,
                request.account,
                { ...done, snapshotId: id, kmsKeyId: destination.kmsKeyArn },
                { sourceSnapshotId: done.snapshotId },
              ),
            ],
            details: {
              stage: "evidence-copy",
              sourceSnapshotId: done.snapshotId,
              sourceRegion: request.region,
              destinationSnapshotId: id,
              destinationRegion: destination.region,
              kmsKeyArn: destination.kmsKeyArn,
              sourceCompletedAt: ctx.now().toISOString(),
              startedAt,
            },
          });
          progress.update(volume.volumeId, "evidence copy", 0);
          return wait(ctx.memberDestination, { snapshotId: id, state: "pending", tags: {} }, "evidence copy");
        });
      } else {
        progress.note(`${volume.volumeId}: found evidence copy ${evidenceCopy.snapshotId} from an earlier run`);
        await recordOnce(ctx, evidenceCopy.snapshotId, {
          action: "capture.snapshot.copied",
          subjects: [evidenceCopy.snapshotId, created.snapshotId, volume.volumeId],
          evidence: [snapshotEvidence(destination.region, request.account, evidenceCopy)],
          details: {
            stage: "evidence-copy",
            sourceSnapshotId: created.snapshotId,
            destinationSnapshotId: evidenceCopy.snapshotId,
            kmsKeyArn: destination.kmsKeyArn,
            recoveredFromTags: true,
          },
        });
        const pending = evidenceCopy;
        evidenceCopy = await ctx.queue.run(request.account, destination.region, () =>
          wait(ctx.memberDestination, pending, "evidence copy"),
        );
      }
      const copy = evidenceCopy;

      // 3. Share the copy with the forensic account, and nobody else.
      if (!start.shared) await shareSnapshot(ctx.memberDestination, copy.snapshotId, forensicAccount);
      await recordOnce(ctx, copy.snapshotId, {
        action: "capture.snapshot.shared",
        subjects: [copy.snapshotId, forensicAccount],
        details: {
          snapshotId: copy.snapshotId,
          account: request.account,
          region: destination.region,
          sharedWith: forensicAccount,
          recoveredFromTags: start.shared,
        },
      });

      // 4. Copy again in the forensic account, so the forensic account owns the evidence.
      forensic = await ctx.queue.run(forensicAccount, destination.region, async () => {
        const startedAt = ctx.now().toISOString();
        const id = await backoff(() =>
          copySnapshot(ctx.forensicDestination, {
            sourceSnapshotId: copy.snapshotId,
            sourceRegion: destination.region,
            kmsKeyArn: destination.kmsKeyArn,
            tags: captureTags({
              caseId: request.caseId,
              instanceId: request.instanceId,
              account: request.account,
              volume,
              stage: "forensic",
              capturedAt,
              sourceSnapshotId: created.snapshotId,
            }),
            description: `flz case ${request.caseId}: forensic copy of ${created.snapshotId} (${volume.volumeId} of ${request.instanceId})`,
          }),
        );
        await recordOnce(ctx, id, {
          action: "capture.snapshot.copied",
          subjects: [id, copy.snapshotId, volume.volumeId],
          evidence: [
            snapshotEvidence(
              destination.region,
              forensicAccount,
              { ...copy, snapshotId: id, kmsKeyId: destination.kmsKeyArn },
              { sourceSnapshotId: copy.snapshotId },
            ),
          ],
          details: {
            stage: "forensic",
            sourceSnapshotId: copy.snapshotId,
            sourceAccount: request.account,
            destinationSnapshotId: id,
            destinationAccount: forensicAccount,
            region: destination.region,
            kmsKeyArn: destination.kmsKeyArn,
            startedAt,
          },
        });
        progress.update(volume.volumeId, "forensic copy", 0);
        return wait(ctx.forensicDestination, { snapshotId: id, state: "pending", tags: {} }, "forensic copy");
      });
    } else {
      progress.note(`${volume.volumeId}: found forensic copy ${forensic.snapshotId} from an earlier run`);
      await recordOnce(ctx, forensic.snapshotId, {
        action: "capture.snapshot.copied",
        subjects: [forensic.snapshotId, volume.volumeId],
        evidence: [snapshotEvidence(destination.region, forensicAccount, forensic)],
        details: {
          stage: "forensic",
          destinationSnapshotId: forensic.snapshotId,
          kmsKeyArn: destination.kmsKeyArn,
          recoveredFromTags: true,
        },
      });
      const pending = forensic;
      forensic = await ctx.queue.run(forensicAccount, destination.region, () =>
        wait(ctx.forensicDestination, pending, "forensic copy"),
      );
    }
    const evidence = forensic;

    // 5. Lock the forensic copy: compliance mode, nobody can delete it before the lock ends.
    let lockDetails: { [key: string]: JsonValue } = { recoveredFromTags: true };
    if (!locked) {
      const lock = await lockSnapshot(ctx.forensicDestination, evidence.snapshotId, request.lockDays);
      lockDetails = { lockState: lock.lockState, expiresOn: lock.expiresOn ?? null };
      locked = true;
    }
    await recordOnce(ctx, `lock:${evidence.snapshotId}`, {
      action: "capture.snapshot.locked",
      subjects: [evidence.snapshotId, `lock:${evidence.snapshotId}`],
      details: {
        snapshotId: evidence.snapshotId,
        account: forensicAccount,
        region: destination.region,
        mode: "compliance",
        lockDays: request.lockDays,
        ...lockDetails,
      },
    });
    progress.update(volume.volumeId, "locked", 100);
    return {
      ...base,
      sourceSnapshotId: source?.snapshotId,
      evidenceCopySnapshotId: evidenceCopy?.snapshotId,
      forensicSnapshotId: evidence.snapshotId,
      state: "completed",
      locked,
    };
  } catch (err) {
    const line = describeError(err);
    progress.note(`${volume.volumeId}: failed: ${line}`);
    await ctx.options.ledger.append({
      action: "capture.snapshot.failed",
      subjects: subjects(),
      outcome: "failed",
      error: line,
      details: { volumeId: volume.volumeId, device: volume.device },
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

/** Stores the instance record and console output once per case and instance (a resumed run keeps the first ones). */
async function storeInstanceArtefacts(ctx: Context, instance: Instance): Promise<ArtefactResult[]> {
  const { request, lz } = ctx;
  const s3 = ctx.options.factory.client(S3Client, { region: lz.homeRegion });
  const prefix = `cases/${request.caseId}/artefacts/${request.account}/${request.region}/${request.instanceId}`;
  const stamp = ctx.now().toISOString().replace(/[:.]/g, "-");
  const kmsKeyArn = lz.evidenceKeyArns[lz.homeRegion] ?? ctx.destination.kmsKeyArn;
  const items: { kind: string; file: string; contentType: string; body: () => Promise<string> }[] = [
    {
      kind: "instance-record",
      file: "describe-instances.json",
      contentType: "application/json",
      body: async () => `${JSON.stringify(instance, null, 2)}\n`,
    },
    {
      kind: "console-output",
      file: "console-output.txt",
      contentType: "text/plain; charset=utf-8",
      body: () => consoleOutput(ctx.memberSource, request.instanceId),
    },
  ];
  const stored: ArtefactResult[] = [];
  for (const item of items) {
    const subject = `${item.kind}:${request.account}/${request.region}/${request.instanceId}`;
    const earlier = ctx.earlierArtefacts.get(subject);
    if (earlier) {
      stored.push(earlier);
      continue;
    }
    let artefact: StoredArtefact;
    try {
      artefact = await storeArtefact(s3, {
        bucket: lz.evidenceBucket,
        key: `${prefix}/${stamp}-${item.file}`,
        body: await item.body(),
        contentType: item.contentType,
        kmsKeyArn,
      });
    } catch (err) {
      const line = `cannot store the ${item.kind} of ${request.instanceId}: ${describeError(err)}`;
      ctx.progress.note(line);
      await ctx.options.ledger.append({
        action: "capture.artefact.failed",
        subjects: [subject, request.instanceId],
        outcome: "failed",
        error: line,
      });
      stored.push({ kind: item.kind, error: line });
      continue;
    }
    await recordOnce(ctx, subject, {
      action: "capture.artefact.stored",
      subjects: [subject, request.instanceId],
      evidence: [
        {
          kind: item.kind,
          location: artefact.location,
          sha256: artefact.sha256,
          bytes: artefact.bytes,
          details: artefact.versionId ? { versionId: artefact.versionId } : {},
        },
      ],
    });
    stored.push({ kind: item.kind, location: artefact.location, sha256: artefact.sha256 });
  }
  return stored;
}

/** Per-volume state and the plan of a run, without changing anything (for `--dry-run`). */
export async function inspectCapture(
  options: Pick<CaptureOptions, "factory" | "landingZone" | "request">,
): Promise<{ destination: Destination; volumes: VolumeCapture[]; instance: Instance }> {
  const { factory, request, landingZone: lz } = options;
  const destination = destinationFor(lz, request.region);
  const memberSource = factory.client(EC2Client, { account: request.account, region: request.region });
  const instance = await locateInstance(options, memberSource);
  const volumes = selectVolumes(attachedVolumes(instance), request.volumeIds, request.instanceId);
  const found = await findExisting(
    {
      request,
      lz,
      destination,
      memberSource,
      memberDestination: factory.client(EC2Client, { account: request.account, region: destination.region }),
      forensicDestination: factory.client(EC2Client, { region: destination.region }),
    },
    volumes,
  );
  return { destination, instance, volumes: found };
}
