/**
 * Pure decisions of snapshot-first evidence capture (DESIGN.md §5): what a request may look like, which volumes to
 * capture, how capture snapshots are tagged (the tags are what a resumed run finds), where each volume's capture
 * stands and what its next step is. No AWS calls here; scripts/capture/steps.ts does the I/O.
 */
import { UsageError } from "../errors";
import type { LandingZone } from "../contract";

/**
 * Tag keys put on every snapshot the capture makes, for people and for finding untrusted candidates. A resumed run
 * does not trust them: it finds its snapshots through the ledger and the intent tag (`flz:intent`).
 */
export const CAPTURE_TAG = {
  case: "flz:case",
  instance: "flz:instance",
  account: "flz:account",
  volume: "flz:volume",
  device: "flz:device",
  capturedAt: "flz:captured-at",
  stage: "flz:stage",
  sourceSnapshot: "flz:source-snapshot",
} as const;

/**
 * The three snapshots of one volume's capture: the member account's snapshot of the volume (`source`), its copy
 * re-encrypted under the evidence key so it can be shared (`evidence-copy`), and the forensic account's own copy of
 * that (`forensic`), which is the evidence that gets locked.
 */
export type SnapshotStage = "source" | "evidence-copy" | "forensic";

/** What one `flz capture` run is asked to do, validated. */
export interface CaptureRequest {
  /** Case ID: tags, session names, ledger. */
  readonly caseId: string;
  /** EC2 instance ID (`i-` and 8 or 17 hex digits). */
  readonly instanceId: string;
  /** Member account that owns the instance (12 digits). */
  readonly account: string;
  /** Region of the instance. */
  readonly region: string;
  /** Volumes to capture; empty = every volume attached to the instance. */
  readonly volumeIds: string[];
  /** Days the forensic copy stays under a COMPLIANCE-mode EBS Snapshot Lock (1-36500). */
  readonly lockDays: number;
  /** Minutes the whole capture may wait for snapshots and copies before it stops (and can be resumed). */
  readonly maxWaitMinutes: number;
}

/** Default lock duration, days: the evidence bucket's default retention, so snapshots and files age out together. */
export const DEFAULT_LOCK_DAYS = 365;
/** Default maximum wait, minutes: large volumes take hours to snapshot for the first time. */
export const DEFAULT_MAX_WAIT_MINUTES = 240;
/** EBS allows 20 concurrent snapshot copies per destination region (per account); more fail with ResourceLimitExceeded. */
export const MAX_CONCURRENT_COPIES_PER_REGION = 20;

const INSTANCE_ID = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;
const VOLUME_ID = /^vol-([0-9a-f]{8}|[0-9a-f]{17})$/;
const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const CASE_ID = /^[A-Za-z0-9][A-Za-z0-9._+=@-]{0,127}$/;

/** Raw option values, as the command line gives them. */
export interface RawCaptureOptions {
  /** `--case`. */
  readonly case?: string;
  /** `--instance`. */
  readonly instance?: string;
  /** `--account`. */
  readonly account?: string;
  /** `--region`. */
  readonly region?: string;
  /** `--volume`, repeatable. */
  readonly volume?: string[];
  /** `--lock-days`. */
  readonly lockDays?: string;
  /** `--max-wait`. */
  readonly maxWait?: string;
}

function positiveInteger(value: string | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not valid: a whole number from 1 to ${max}`);
  }
  return Number(value);
}

/** Validates the command line into a {@link CaptureRequest}; one {@link UsageError} naming the first bad value. */
export function parseCaptureRequest(raw: RawCaptureOptions): CaptureRequest {
  const required = (value: string | undefined, flag: string, pattern: RegExp, valid: string): string => {
    if (value === undefined || value === "") throw new UsageError(`${flag} is required: ${valid}`);
    if (!pattern.test(value) || value.includes(".."))
      throw new UsageError(`${flag} ${JSON.stringify(value)} is not valid: ${valid}`);
    return value;
  };
  const caseId = required(
    raw.case,
    "--case",
    CASE_ID,
    "1-128 letters, digits and . _ + = @ -, starting with a letter or digit",
  );
  const instanceId = required(
    raw.instance,
    "--instance",
    INSTANCE_ID,
    "an EC2 instance ID such as i-0123456789abcdef0",
  );
  const account = required(
    raw.account,
    "--account",
    ACCOUNT_ID,
    "the 12-digit ID of the member account that owns the instance",
  );
  const region = required(raw.region, "--region", REGION, "the instance's region, such as eu-west-1");
  const volumeIds = [...new Set(raw.volume ?? [])];
  for (const v of volumeIds) {
    if (!VOLUME_ID.test(v))
      throw new UsageError(
        `--volume ${JSON.stringify(v)} is not valid: an EBS volume ID such as vol-0123456789abcdef0`,
      );
  }
  return {
    caseId,
    instanceId,
    account,
    region,
    volumeIds,
    lockDays: positiveInteger(raw.lockDays, "--lock-days", DEFAULT_LOCK_DAYS, 36500),
    maxWaitMinutes: positiveInteger(raw.maxWait, "--max-wait", DEFAULT_MAX_WAIT_MINUTES, 7 * 24 * 60),
  };
}

/** Where evidence copies of a region's volumes go, and under which key. */
export interface Destination {
  /** Region of the evidence copy and the forensic copy. */
  readonly region: string;
  /** The forensic account's evidence key in that region. */
  readonly kmsKeyArn: string;
  /** Whether the evidence copy crosses regions (the instance's region is not governed). */
  readonly crossRegion: boolean;
}

/**
 * Evidence stays in the instance's region when the landing zone governs it (it has an evidence key there); an
 * instance in an ungoverned region is still captured, copied into the home region, because evidence must never be
 * left under a key the forensic account does not control.
 */
export function destinationFor(lz: LandingZone, region: string): Destination {
  const local = lz.evidenceKeyArns[region];
  if (local) return { region, kmsKeyArn: local, crossRegion: false };
  const home = lz.evidenceKeyArns[lz.homeRegion];
  if (!home) throw new UsageError(`landing zone has no evidence key for its home region ${lz.homeRegion}`);
  return { region: lz.homeRegion, kmsKeyArn: home, crossRegion: true };
}

/** A volume attached to the instance, as DescribeInstances reports it. */
export interface AttachedVolume {
  /** EBS volume ID. */
  readonly volumeId: string;
  /** Device name, e.g. `/dev/xvda`. */
  readonly device: string;
}

/** Picks the volumes to capture: all attached ones, or the named ones, each of which must be attached. */
export function selectVolumes(attached: AttachedVolume[], requested: string[], instanceId: string): AttachedVolume[] {
  if (requested.length === 0) {
    if (attached.length === 0)
      throw new UsageError(`instance ${instanceId} has no EBS volumes attached: nothing to snapshot`);
    return attached;
  }
  const byId = new Map(attached.map((v) => [v.volumeId, v]));
  return requested.map((id) => {
    const volume = byId.get(id);
    if (!volume) {
      const list = attached.map((v) => `${v.volumeId} (${v.device})`).join(", ") || "none";
      throw new UsageError(`--volume ${id} is not attached to instance ${instanceId}: attached volumes are ${list}`);
    }
    return volume;
  });
}

/** A snapshot as the capture tracks it. */
export interface SnapshotRef {
  /** Snapshot ID. */
  readonly snapshotId: string;
  /** `pending`, `completed`, `error`, ... */
  readonly state: string;
  /** KMS key the snapshot is encrypted under, if any. */
  readonly kmsKeyId?: string;
  /** When the snapshot was started (ISO 8601). */
  readonly startTime?: string;
  /** Tags, as a map. */
  readonly tags: Readonly<Record<string, string>>;
}

/** Tags of a capture snapshot, as a map. */
export function captureTags(options: {
  caseId: string;
  instanceId: string;
  account: string;
  volume: AttachedVolume;
  stage: SnapshotStage;
  capturedAt: string;
  sourceSnapshotId?: string;
}): Record<string, string> {
  const tags: Record<string, string> = {
    [CAPTURE_TAG.case]: options.caseId,
    [CAPTURE_TAG.instance]: options.instanceId,
    [CAPTURE_TAG.account]: options.account,
    [CAPTURE_TAG.volume]: options.volume.volumeId,
    [CAPTURE_TAG.device]: options.volume.device,
    [CAPTURE_TAG.capturedAt]: options.capturedAt,
    [CAPTURE_TAG.stage]: options.stage,
  };
  if (options.sourceSnapshotId) tags[CAPTURE_TAG.sourceSnapshot] = options.sourceSnapshotId;
  return tags;
}

/** Where one volume's capture stands: what exists already. */
export interface VolumeCapture {
  /** The volume. */
  readonly volume: AttachedVolume;
  /** The member account's snapshot of the volume. */
  readonly source?: SnapshotRef;
  /** Its copy under the evidence key, in the member account. */
  readonly evidenceCopy?: SnapshotRef;
  /** Whether the evidence copy is shared with the forensic account. */
  readonly shared: boolean;
  /** The forensic account's copy. */
  readonly forensic?: SnapshotRef;
  /** Whether the forensic copy carries a snapshot lock. */
  readonly locked: boolean;
}

/** The next thing to do for a volume. */
export type CaptureStep =
  "snapshot" | "wait-source" | "copy" | "wait-copy" | "share" | "forensic-copy" | "wait-forensic" | "lock" | "done";

/**
 * The next step of a volume's capture. A snapshot in `error` is not retried here (the caller reports it): evidence
 * of a failed step stays visible rather than being silently replaced.
 */
export function nextStep(v: VolumeCapture): CaptureStep {
  if (!v.source) return "snapshot";
  if (v.forensic) {
    if (v.forensic.state !== "completed") return "wait-forensic";
    return v.locked ? "done" : "lock";
  }
  if (!v.evidenceCopy) return v.source.state === "completed" ? "copy" : "wait-source";
  if (v.evidenceCopy.state !== "completed") return "wait-copy";
  return v.shared ? "forensic-copy" : "share";
}

/** The steps still to run for a volume, in order, as the plan (`--dry-run`) lists them. */
export function remainingSteps(v: VolumeCapture): CaptureStep[] {
  const order: CaptureStep[] = ["snapshot", "copy", "share", "forensic-copy", "lock"];
  const next = nextStep(v);
  if (next === "done") return [];
  const waitsFor: Partial<Record<CaptureStep, CaptureStep>> = {
    "wait-source": "copy",
    "wait-copy": "share",
    "wait-forensic": "lock",
  };
  const from = waitsFor[next] ?? next;
  return order.slice(order.indexOf(from));
}

/** Percent complete from a snapshot's `Progress` (a string like `"42%"`); 0 when absent or malformed. */
export function parseProgress(progress: string | undefined): number {
  const match = /^\s*(\d{1,3}(?:\.\d+)?)\s*%?\s*$/.exec(progress ?? "");
  if (!match) return 0;
  return Math.min(100, Math.max(0, Number(match[1])));
}

/** One line per volume describing what a run would do, for `--dry-run`. */
export function planLines(request: CaptureRequest, destination: Destination, volumes: VolumeCapture[]): string[] {
  const lines = [
    `capture plan for case ${request.caseId}: instance ${request.instanceId} in account ${request.account}, ${request.region}`,
    `evidence copies in ${destination.region}${destination.crossRegion ? " (cross-region: the instance's region is not governed)" : ""} under ${destination.kmsKeyArn}; forensic copies locked in compliance mode for ${request.lockDays} days`,
  ];
  for (const v of volumes) {
    const steps = remainingSteps(v);
    const existing = [
      v.source && `source ${v.source.snapshotId}`,
      v.evidenceCopy && `evidence copy ${v.evidenceCopy.snapshotId}`,
      v.forensic && `forensic copy ${v.forensic.snapshotId}`,
    ]
      .filter(Boolean)
      .join(", ");
    lines.push(
      `  ${v.volume.volumeId} (${v.volume.device}): ${steps.length ? `would ${steps.join(" -> ")}` : "already captured and locked"}${existing ? `; exists: ${existing}` : ""}`,
    );
  }
  lines.push("dry run: nothing was changed and nothing was recorded");
  return lines;
}
