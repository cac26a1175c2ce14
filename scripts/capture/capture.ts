/**
 * Snapshot-first evidence capture (DESIGN.md §5), resumable and recorded: for every volume of an instance, a
 * snapshot in the member account, a copy under the forensic account's evidence key, shared with the forensic
 * account, copied again there so the forensic account owns it, and locked in compliance mode (volume.ts). The
 * instance's DescribeInstances record and console output go to the evidence bucket as artefacts (artefacts.ts).
 *
 * Crash-safe and concurrency-safe (issue 19 item 2): a run first appends `capture.started` (which also completes any
 * batch a dead writer left half-written, so what it reads next is the whole ledger), then reads the ledger. One run
 * captures an instance at a time: a later run waits while an earlier, unfinished one may still be alive. Every change
 * is preceded by an intent record and resumed from it; a resumed capture trusts only what the ledger recorded, and
 * reports every other snapshot tagged for the case as an untrusted candidate (issue 11 item 4, provenance.ts).
 */
import { EC2Client, type Instance } from "@aws-sdk/client-ec2";
import { STSClient } from "@aws-sdk/client-sts";
import { realSleep } from "../aws/backoff";
import { newRun, runMayBeAlive } from "../custody/intent";
import type { CustodyRecord, JsonValue } from "../custody/types";
import { describeError, NotFoundError, OperationError } from "../errors";
import { storeInstanceArtefacts, type ArtefactResult } from "./artefacts";
import {
  CopyQueue,
  candidateOf,
  noteUntrusted,
  type CaptureOptions,
  type Context,
  type UntrustedCandidate,
} from "./context";
import { captureLedgerState, type CaptureLedgerState, type CaptureRun } from "./ledger-state";
import { destinationFor, selectVolumes, type CaptureRequest, type Destination, type VolumeCapture } from "./plan";
import { silentProgress } from "./progress";
import {
  attachedVolumes,
  callerArn,
  describeInstance,
  describeSnapshot,
  findCaptureSnapshots,
  lockedSnapshots,
  sharedWith,
} from "./steps";
import { captureVolume, type SnapshotResult } from "./volume";

export { CopyQueue, snapshotArn, type CaptureOptions, type UntrustedCandidate } from "./context";
export type { ArtefactResult } from "./artefacts";
export type { SnapshotResult } from "./volume";

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
  /** Snapshots tagged for the case and instance that are not evidence (never locked, never recorded as evidence). */
  readonly untrusted: UntrustedCandidate[];
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

  const run = newRun();
  const deadline = now().getTime() + request.maxWaitMinutes * 60_000;
  const started = await ledger.append({
    action: "capture.started",
    subjects: [request.instanceId, request.account],
    details: {
      ...requestDetails(request),
      forensicCaller,
      memberCaller,
      destinationRegion: destination.region,
      kmsKeyArn: destination.kmsKeyArn,
      volumes: volumes.map((v) => ({ volumeId: v.volumeId, device: v.device })),
      run: { ...run, deadline },
    },
  });
  // Read after our own append: it completed any batch a dead writer left, so nothing recorded is missed.
  const state = await waitForEarlierRuns({
    options,
    request,
    run,
    started,
    volumeIds: volumes.map((v) => v.volumeId),
    deadline,
    now,
  });

  const ctx: Context = {
    options,
    request,
    lz,
    destination,
    memberSource,
    memberDestination: factory.client(EC2Client, { ...member, region: destination.region }),
    forensicDestination: factory.client(EC2Client, { region: destination.region }),
    deadline,
    progress,
    queue: options.queue ?? new CopyQueue(),
    run,
    state,
    recorded: new Set(state.recorded),
    untrusted: new Map(),
    now,
  };

  const [artefacts, snapshots] = await Promise.all([
    storeInstanceArtefacts(ctx, instance),
    Promise.all(volumes.map((v) => captureVolume(ctx, v, state.volumes.get(v.volumeId) ?? emptyVolume()))),
  ]);
  const untrusted = await reportUntrusted(ctx, snapshots);
  const errors = failureLines({ snapshots, artefacts });
  await ledger.append({
    action: errors.length ? "capture.finished-with-failures" : "capture.completed",
    subjects: [request.instanceId, ...snapshots.flatMap((s) => (s.forensicSnapshotId ? [s.forensicSnapshotId] : []))],
    outcome: errors.length ? "failed" : "succeeded",
    ...(errors.length ? { error: errors.join("; ") } : {}),
    details: {
      runId: run.id,
      instance: request.instanceId,
      account: request.account,
      snapshots: snapshots.map((s) => ({ ...s }) as { [key: string]: JsonValue }),
      artefacts: artefacts.map((a) => ({ ...a }) as { [key: string]: JsonValue }),
      untrusted: untrusted.map((u) => u.snapshotId),
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
    untrusted,
  };
}

function emptyVolume() {
  return { snapshots: {}, shared: new Set<string>(), locked: new Set<string>(), open: new Map() };
}

/**
 * Reads the ledger and, while an earlier capture run of the same instance has not finished and may still be alive,
 * waits for it (polling the ledger), so two runs never change the same volumes at once. A run that died is taken
 * over: its open intents are resolved by the steps.
 */
async function waitForEarlierRuns(args: {
  options: CaptureOptions;
  request: CaptureRequest;
  run: ReturnType<typeof newRun>;
  started: CustodyRecord;
  volumeIds: string[];
  deadline: number;
  now: () => Date;
}): Promise<CaptureLedgerState> {
  const { options, request, run, started } = args;
  const progress = options.progress ?? silentProgress;
  const sleep = options.sleep ?? realSleep;
  let told = "";
  for (;;) {
    const state = captureLedgerState(await options.ledger.records(), request, args.volumeIds);
    const blocking = state.runs.filter(
      (r) =>
        r.sequence < started.sequence &&
        !r.finished &&
        r.run.id !== run.id &&
        runMayBeAlive(r.run, r.deadline, { self: run, now: args.now().getTime() }),
    );
    if (blocking.length === 0) return state;
    const first = blocking[0];
    const line = describeRun(first);
    if (line !== told) {
      progress.note(
        `waiting: instance ${request.instanceId} is being captured by ${line}; this run continues once it ends`,
      );
      told = line;
    }
    if (args.now().getTime() + (options.pollIntervalMs ?? 5000) > args.deadline) {
      throw new OperationError(
        `instance ${request.instanceId} is still being captured by ${line} when --max-wait ran out: run the same command again once it has finished`,
      );
    }
    await sleep(options.pollIntervalMs ?? 5000);
  }
}

function describeRun(r: CaptureRun): string {
  return `run ${r.run.id.slice(0, 8)} (process ${r.run.pid} on ${r.run.host}, started ${r.time} by ${r.actor}, custody record ${r.sequence})`;
}

/**
 * Every snapshot tagged for this case and instance that this capture does not use and the ledger did not record is
 * an untrusted candidate: it is reported (once per snapshot, as a record without evidence) and never locked.
 */
async function reportUntrusted(ctx: Context, snapshots: SnapshotResult[]): Promise<UntrustedCandidate[]> {
  const { request, destination } = ctx;
  const used = new Set(
    snapshots.flatMap(
      (s) => [s.sourceSnapshotId, s.evidenceCopySnapshotId, s.forensicSnapshotId].filter(Boolean) as string[],
    ),
  );
  for (const v of ctx.state.volumes.values()) for (const s of Object.values(v.snapshots)) if (s) used.add(s.snapshotId);
  const places: { ec2: EC2Client; account: string; region: string }[] = [
    { ec2: ctx.memberSource, account: request.account, region: request.region },
    { ec2: ctx.forensicDestination, account: ctx.lz.forensicAccountId, region: destination.region },
  ];
  if (destination.crossRegion)
    places.push({ ec2: ctx.memberDestination, account: request.account, region: destination.region });
  const found = await Promise.all(
    places.map(async (p) =>
      (await findCaptureSnapshots(p.ec2, request.caseId, request.instanceId).catch(() => [])).map((snap) => ({
        ...p,
        snap,
      })),
    ),
  );
  for (const { snap, account, region } of found.flat()) {
    if (used.has(snap.snapshotId)) continue;
    noteUntrusted(
      ctx,
      candidateOf(
        snap,
        account,
        region,
        "tagged for this case, but no custody record or open intent of the case vouches for its creation",
      ),
    );
  }
  const candidates = [...ctx.untrusted.values()].filter((c) => !used.has(c.snapshotId));
  for (const c of candidates) {
    ctx.progress.note(
      `untrusted candidate ${c.snapshotId} (account ${c.account}, ${c.region}, tagged as ${c.claimedStage ?? "?"} of ${c.claimedVolume ?? "?"}): ${c.reason}; not used, not locked`,
    );
    if (ctx.state.reportedUntrusted.has(c.snapshotId)) continue;
    await ctx.options.ledger.append({
      action: "capture.candidate.untrusted",
      subjects: [c.snapshotId, request.instanceId],
      outcome: "succeeded",
      details: {
        snapshotId: c.snapshotId,
        account: c.account,
        region: c.region,
        claimedVolume: c.claimedVolume ?? null,
        claimedStage: c.claimedStage ?? null,
        reason: c.reason,
        instance: request.instanceId,
      },
    });
  }
  return candidates;
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

/**
 * Per-volume state and the plan of a run, without changing anything (for `--dry-run`): what the ledger recorded,
 * checked against AWS, and the snapshots tagged for the case that the ledger does not vouch for.
 */
export async function inspectCapture(
  options: Pick<CaptureOptions, "factory" | "landingZone" | "request"> & { records: readonly CustodyRecord[] },
): Promise<{ destination: Destination; volumes: VolumeCapture[]; instance: Instance; untrusted: string[] }> {
  const { factory, request, landingZone: lz } = options;
  const destination = destinationFor(lz, request.region);
  const memberSource = factory.client(EC2Client, { account: request.account, region: request.region });
  const memberDestination = factory.client(EC2Client, { account: request.account, region: destination.region });
  const forensicDestination = factory.client(EC2Client, { region: destination.region });
  const instance = await locateInstance(options, memberSource);
  const volumes = selectVolumes(attachedVolumes(instance), request.volumeIds, request.instanceId);
  const state = captureLedgerState(
    options.records,
    request,
    volumes.map((v) => v.volumeId),
  );
  const known = new Set<string>();
  const result = await Promise.all(
    volumes.map(async (volume) => {
      const v = state.volumes.get(volume.volumeId);
      const get = async (ec2: EC2Client, id: string | undefined) => {
        if (!id) return undefined;
        known.add(id);
        return describeSnapshot(ec2, id);
      };
      const source = await get(memberSource, v?.snapshots.source?.snapshotId);
      const evidenceCopy = await get(memberDestination, v?.snapshots["evidence-copy"]?.snapshotId);
      const forensic = await get(forensicDestination, v?.snapshots.forensic?.snapshotId);
      const shared = evidenceCopy
        ? (await sharedWith(memberDestination, [evidenceCopy.snapshotId], lz.forensicAccountId)).has(
            evidenceCopy.snapshotId,
          )
        : false;
      const locked = forensic
        ? (await lockedSnapshots(forensicDestination, [forensic.snapshotId])).has(forensic.snapshotId)
        : false;
      return { volume, source, evidenceCopy, shared, forensic, locked } satisfies VolumeCapture;
    }),
  );
  const tagged = (
    await Promise.all(
      [memberSource, forensicDestination, ...(destination.crossRegion ? [memberDestination] : [])].map((ec2) =>
        findCaptureSnapshots(ec2, request.caseId, request.instanceId),
      ),
    )
  ).flat();
  const untrusted = tagged.map((s) => s.snapshotId).filter((id) => !known.has(id) && !state.reportedUntrusted.has(id));
  return { destination, instance, volumes: result, untrusted };
}
