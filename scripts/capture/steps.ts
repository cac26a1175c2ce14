/**
 * The AWS edge of evidence capture: one small function per call (or per poll loop), each taking the client it acts
 * through. Decisions live in plan.ts; ordering, queueing and custody records in capture.ts.
 */
import { createHash } from "node:crypto";
import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  DescribeInstancesCommand,
  DescribeLockedSnapshotsCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  GetConsoleOutputCommand,
  LockSnapshotCommand,
  ModifySnapshotAttributeCommand,
  type EC2Client,
  type Instance,
  type Snapshot,
  type Tag,
} from "@aws-sdk/client-ec2";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { GetCallerIdentityCommand, type STSClient } from "@aws-sdk/client-sts";
import { pollUntil, type Sleep } from "../aws/backoff";
import { OperationError } from "../errors";
import { INTENT_TAG } from "../custody/intent";
import { CAPTURE_TAG, parseProgress, type AttachedVolume, type SnapshotRef } from "./plan";
import type { DescribedSnapshot } from "./provenance";

/** A snapshot that ended in `error`: carries the snapshot's own `StateMessage`. */
export class SnapshotFailedError extends OperationError {
  constructor(
    /** The failed snapshot. */
    readonly snapshotId: string,
    /** AWS's explanation (often a KMS key problem). */
    readonly stateMessage: string,
    what: string,
  ) {
    super(`${what} ${snapshotId} ended in state error: ${stateMessage || "(AWS gave no StateMessage)"}`);
  }
}

/** Tags as the EC2 API wants them. */
export function toTagList(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** A snapshot as the capture tracks it. */
export function toSnapshotRef(s: Snapshot): SnapshotRef {
  const tags: Record<string, string> = {};
  for (const t of s.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? "";
  return {
    snapshotId: s.SnapshotId ?? "",
    state: s.State ?? "pending",
    kmsKeyId: s.KmsKeyId,
    startTime: s.StartTime?.toISOString(),
    tags,
  };
}

/** A snapshot with the fields provenance rests on (owner, volume). */
export function toDescribed(s: Snapshot): DescribedSnapshot {
  return { ...toSnapshotRef(s), ownerId: s.OwnerId, volumeId: s.VolumeId };
}

/** Every page of a DescribeSnapshots query of the account's own snapshots. */
async function ownSnapshots(
  ec2: EC2Client,
  input: { Filters?: { Name: string; Values: string[] }[] },
): Promise<DescribedSnapshot[]> {
  const found: DescribedSnapshot[] = [];
  let NextToken: string | undefined;
  do {
    const out = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"], ...input, NextToken }));
    found.push(...(out.Snapshots ?? []).map(toDescribed));
    NextToken = out.NextToken;
  } while (NextToken);
  return found;
}

/** A snapshot by ID, as the account sees it; undefined when it does not exist (any more). */
export async function describeSnapshot(ec2: EC2Client, snapshotId: string): Promise<DescribedSnapshot | undefined> {
  try {
    const out = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
    const snap = out.Snapshots?.find((s) => s.SnapshotId === snapshotId);
    return snap ? toDescribed(snap) : undefined;
  } catch (err) {
    if ((err as { name?: string }).name === "InvalidSnapshot.NotFound") return undefined;
    throw err;
  }
}

/** The account's own snapshots created under an intent (found by the tag set at creation). */
export function findByIntent(ec2: EC2Client, intentId: string): Promise<DescribedSnapshot[]> {
  return ownSnapshots(ec2, { Filters: [{ Name: `tag:${INTENT_TAG}`, Values: [intentId] }] });
}

/** The instance's DescribeInstances record, or undefined when this account and region have no such instance. */
export async function describeInstance(ec2: EC2Client, instanceId: string): Promise<Instance | undefined> {
  try {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    return out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
  } catch (err) {
    if ((err as { name?: string }).name === "InvalidInstanceID.NotFound") return undefined;
    throw err;
  }
}

/** EBS volumes attached to an instance, with their device names. */
export function attachedVolumes(instance: Instance): AttachedVolume[] {
  return (instance.BlockDeviceMappings ?? [])
    .filter((m) => m.Ebs?.VolumeId)
    .map((m) => ({ volumeId: m.Ebs?.VolumeId ?? "", device: m.DeviceName ?? "unknown" }));
}

/**
 * The account's own snapshots tagged for a case and instance (every page). Tags are not proof of anything: anyone
 * who may tag snapshots in the account can set them; capture uses this only to find untrusted candidates.
 */
export function findCaptureSnapshots(ec2: EC2Client, caseId: string, instanceId: string): Promise<DescribedSnapshot[]> {
  return ownSnapshots(ec2, {
    Filters: [
      { Name: `tag:${CAPTURE_TAG.case}`, Values: [caseId] },
      { Name: `tag:${CAPTURE_TAG.instance}`, Values: [instanceId] },
    ],
  });
}

/** Which of the snapshots grant createVolumePermission to `account`. */
export async function sharedWith(ec2: EC2Client, snapshotIds: string[], account: string): Promise<Set<string>> {
  const shared = new Set<string>();
  await Promise.all(
    snapshotIds.map(async (SnapshotId) => {
      const out = await ec2.send(
        new DescribeSnapshotAttributeCommand({ SnapshotId, Attribute: "createVolumePermission" }),
      );
      if ((out.CreateVolumePermissions ?? []).some((p) => p.UserId === account)) shared.add(SnapshotId);
    }),
  );
  return shared;
}

/** Whether a snapshot grants createVolumePermission to `account`. */
export async function isSharedWith(ec2: EC2Client, snapshotId: string, account: string): Promise<boolean> {
  return (await sharedWith(ec2, [snapshotId], account)).has(snapshotId);
}

/** Which of the snapshots carry a snapshot lock that has not expired. */
export async function lockedSnapshots(ec2: EC2Client, snapshotIds: string[]): Promise<Set<string>> {
  if (snapshotIds.length === 0) return new Set();
  const out = await ec2.send(new DescribeLockedSnapshotsCommand({ SnapshotIds: snapshotIds }));
  return new Set(
    (out.Snapshots ?? []).filter((s) => s.LockState && s.LockState !== "expired").map((s) => s.SnapshotId ?? ""),
  );
}

/** Starts a snapshot of a volume, tagged at creation (so even a run killed right after it is findable). */
export async function createSnapshot(
  ec2: EC2Client,
  volumeId: string,
  tags: Record<string, string>,
  description: string,
): Promise<DescribedSnapshot> {
  const out = await ec2.send(
    new CreateSnapshotCommand({
      VolumeId: volumeId,
      Description: description,
      TagSpecifications: [{ ResourceType: "snapshot", Tags: toTagList(tags) }],
    }),
  );
  return toDescribed({ ...out, Tags: out.Tags ?? toTagList(tags) });
}

/**
 * Copies a snapshot into the account and region of `ec2` (the destination region's client; `SourceRegion` names
 * where the source is, and the SDK adds the presigned URL), re-encrypted under `kmsKeyArn`. Tags are not copied by
 * EBS, so they are given again.
 */
export async function copySnapshot(
  ec2: EC2Client,
  options: {
    sourceSnapshotId: string;
    sourceRegion: string;
    kmsKeyArn: string;
    tags: Record<string, string>;
    description: string;
  },
): Promise<string> {
  const out = await ec2.send(
    new CopySnapshotCommand({
      SourceSnapshotId: options.sourceSnapshotId,
      SourceRegion: options.sourceRegion,
      Encrypted: true,
      KmsKeyId: options.kmsKeyArn,
      Description: options.description,
      TagSpecifications: [{ ResourceType: "snapshot", Tags: toTagList(options.tags) }],
    }),
  );
  if (!out.SnapshotId) throw new OperationError(`CopySnapshot of ${options.sourceSnapshotId} returned no snapshot ID`);
  return out.SnapshotId;
}

/** Shares a snapshot with one account (createVolumePermission), never publicly. */
export async function shareSnapshot(ec2: EC2Client, snapshotId: string, account: string): Promise<void> {
  await ec2.send(
    new ModifySnapshotAttributeCommand({
      SnapshotId: snapshotId,
      Attribute: "createVolumePermission",
      OperationType: "add",
      UserIds: [account],
    }),
  );
}

/** What a lock looks like once made. */
export interface LockResult {
  /** `compliance`, `compliance-cooloff`, ... */
  readonly lockState: string;
  /** When the lock ends (ISO 8601). */
  readonly expiresOn?: string;
}

/** Locks a snapshot in compliance mode, with no cool-off: nobody, root included, can delete it for `days` days. */
export async function lockSnapshot(ec2: EC2Client, snapshotId: string, days: number): Promise<LockResult> {
  const out = await ec2.send(
    new LockSnapshotCommand({ SnapshotId: snapshotId, LockMode: "compliance", LockDuration: days }),
  );
  return { lockState: out.LockState ?? "compliance", expiresOn: out.LockExpiresOn?.toISOString() };
}

/** Options of {@link waitForSnapshot}. */
export interface WaitOptions {
  /** What the snapshot is, for messages: `snapshot`, `evidence copy`, `forensic copy`. */
  readonly what: string;
  /** Milliseconds between polls. */
  readonly intervalMs: number;
  /** Absolute deadline (ms since epoch). */
  readonly deadline: number;
  /** Called with the percentage after every poll. */
  readonly onProgress?: (percent: number) => void;
  /** Sleep function (tests). */
  readonly sleep?: Sleep;
  /** Clock, ms since epoch (tests). */
  readonly now?: () => number;
}

/**
 * Waits for a snapshot to complete, reporting its `Progress`. Not the SDK's `waitUntilSnapshotCompleted`: that one
 * polls every 15-120 s and reports nothing in between, and an operator watching a capture needs to see it move.
 */
export async function waitForSnapshot(ec2: EC2Client, snapshotId: string, options: WaitOptions): Promise<SnapshotRef> {
  let last = 0;
  return pollUntil<SnapshotRef>(
    async () => {
      const out = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
      const snap = out.Snapshots?.[0];
      if (!snap) throw new OperationError(`${options.what} ${snapshotId} disappeared while waiting for it`);
      if (snap.State === "error") throw new SnapshotFailedError(snapshotId, snap.StateMessage ?? "", options.what);
      last = snap.State === "completed" ? 100 : parseProgress(snap.Progress);
      options.onProgress?.(last);
      return snap.State === "completed" ? { done: true, value: toSnapshotRef(snap) } : { done: false };
    },
    {
      intervalMs: options.intervalMs,
      deadline: options.deadline,
      sleep: options.sleep,
      now: options.now,
      onTimeout: () =>
        new OperationError(
          `${options.what} ${snapshotId} still pending at ${last}% when --max-wait ran out: run the same command again to resume`,
        ),
    },
  );
}

/** Lower-case hex SHA-256. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Where an artefact was stored, and its hash. */
export interface StoredArtefact {
  /** `s3://bucket/key`. */
  readonly location: string;
  /** Hex SHA-256 of the bytes. */
  readonly sha256: string;
  /** Size in bytes. */
  readonly bytes: number;
  /** S3 version ID, when the bucket returns one. */
  readonly versionId?: string;
}

/**
 * Stores an artefact in the evidence bucket, write-once (`If-None-Match: *`), SSE-KMS under the evidence key, with
 * an S3-verified SHA-256 checksum, so what lands is exactly what was hashed.
 */
export async function storeArtefact(
  s3: S3Client,
  options: { bucket: string; key: string; body: string; contentType: string; kmsKeyArn: string },
): Promise<StoredArtefact> {
  const bytes = Buffer.from(options.body, "utf8");
  const out = await s3.send(
    new PutObjectCommand({
      Bucket: options.bucket,
      Key: options.key,
      Body: bytes,
      ContentType: options.contentType,
      ChecksumAlgorithm: "SHA256",
      ChecksumSHA256: createHash("sha256").update(bytes).digest("base64"),
      ServerSideEncryption: "aws:kms",
      SSEKMSKeyId: options.kmsKeyArn,
      IfNoneMatch: "*",
    }),
  );
  return {
    location: `s3://${options.bucket}/${options.key}`,
    sha256: sha256Hex(bytes),
    bytes: bytes.length,
    versionId: out.VersionId,
  };
}

/** The instance's console output, decoded (empty when the instance has produced none yet). */
export async function consoleOutput(ec2: EC2Client, instanceId: string): Promise<string> {
  const out = await ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId }));
  return out.Output ? Buffer.from(out.Output, "base64").toString("utf8") : "";
}

/** ARN of the caller, for the custody record. */
export async function callerArn(sts: STSClient): Promise<string> {
  const out = await sts.send(new GetCallerIdentityCommand({}));
  return out.Arn ?? "unknown";
}
