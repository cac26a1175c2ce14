/**
 * What a case's ledger says about the capture of one instance (pure; no AWS): which snapshots the ledger recorded
 * as created or copied for each volume and stage, whether the share and the lock were recorded, which intents are
 * still open, which runs started and which finished, which artefacts are stored. A resumed capture trusts only
 * what this says (issue 11 item 4): a snapshot tagged for the case that the ledger does not know is never evidence.
 */
import { openIntents, type RecordedIntent, type RunIdentity } from "../custody/intent";
import type { CustodyRecord, JsonValue } from "../custody/types";
import type { SnapshotStage } from "./plan";

/** Action of a capture intent record. */
export const CAPTURE_INTENT_ACTION = "capture.intent";

/** A snapshot whose creation the ledger recorded. */
export interface RecordedSnapshot {
  /** Snapshot ID. */
  readonly snapshotId: string;
  /** Stage. */
  readonly stage: SnapshotStage;
  /** The captured volume. */
  readonly volumeId: string;
  /** Account that owns it. */
  readonly account: string;
  /** Region it lives in. */
  readonly region: string;
  /** Start time as recorded (ISO 8601), when the record has one. */
  readonly startTime?: string;
  /** Key it is encrypted under, as recorded. */
  readonly kmsKeyId?: string;
  /** Sequence of the record. */
  readonly sequence: number;
}

/** One volume's capture as recorded. */
export interface VolumeLedgerState {
  /** Recorded snapshots by stage. */
  readonly snapshots: Partial<Record<SnapshotStage, RecordedSnapshot>>;
  /** Evidence copies whose share with the forensic account was recorded. */
  readonly shared: ReadonlySet<string>;
  /** Forensic copies whose lock was recorded. */
  readonly locked: ReadonlySet<string>;
  /** Open intents for this volume, by step, oldest first. */
  readonly open: ReadonlyMap<string, RecordedIntent[]>;
}

/** A capture run of this instance, as its `capture.started` record declares it. */
export interface CaptureRun {
  /** The run. */
  readonly run: RunIdentity;
  /** Sequence of its `capture.started` record. */
  readonly sequence: number;
  /** When it started (ISO 8601). */
  readonly time: string;
  /** Actor that started it. */
  readonly actor: string;
  /** Until when it may act (ms since epoch). */
  readonly deadline?: number;
  /** Whether it recorded its end. */
  readonly finished: boolean;
}

/** A stored artefact, as recorded. */
export interface RecordedArtefact {
  /** `instance-record` or `console-output`. */
  readonly kind: string;
  /** `s3://bucket/key`. */
  readonly location?: string;
  /** Hex SHA-256. */
  readonly sha256?: string;
}

/** The capture of one instance, as the ledger records it. */
export interface CaptureLedgerState {
  /** Per volume. */
  readonly volumes: ReadonlyMap<string, VolumeLedgerState>;
  /** Capture runs of this instance, in ledger order. */
  readonly runs: readonly CaptureRun[];
  /** Artefacts stored, by subject. */
  readonly artefacts: ReadonlyMap<string, RecordedArtefact>;
  /** Open artefact intents, by subject. */
  readonly openArtefacts: ReadonlyMap<string, RecordedIntent[]>;
  /** Snapshots already reported as untrusted candidates. */
  readonly reportedUntrusted: ReadonlySet<string>;
  /** `action|subject` of every record, for appending an outcome once. */
  readonly recorded: ReadonlySet<string>;
}

/** Key of an action on a subject, for {@link CaptureLedgerState.recorded}. */
export function recordKey(action: string, subject: string): string {
  return `${action}|${subject}`;
}

const str = (v: JsonValue | undefined): string | undefined => (typeof v === "string" ? v : undefined);

function isRun(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    typeof value.id === "string" &&
    typeof value.host === "string" &&
    typeof value.pid === "number"
  );
}

/** The snapshot a `capture.snapshot.created` / `.copied` record vouches for, if it is one of this instance. */
function recordedSnapshot(r: CustodyRecord, volumes: ReadonlySet<string>): RecordedSnapshot | undefined {
  if (r.outcome === "failed") return undefined;
  const d = r.details ?? {};
  const item = r.evidence?.[0]?.details ?? {};
  if (r.action === "capture.snapshot.created") {
    const volumeId = str(d.volumeId);
    const snapshotId = r.subjects[0];
    if (!volumeId || !volumes.has(volumeId) || !snapshotId) return undefined;
    return {
      snapshotId,
      stage: "source",
      volumeId,
      account: str(item.account) ?? "",
      region: str(item.region) ?? "",
      startTime: str(d.startTime),
      sequence: r.sequence,
    };
  }
  if (r.action === "capture.snapshot.copied") {
    const stage = str(d.stage);
    const snapshotId = str(d.destinationSnapshotId) ?? r.subjects[0];
    const volumeId = str(d.volumeId) ?? r.subjects.find((s) => volumes.has(s));
    if ((stage !== "evidence-copy" && stage !== "forensic") || !snapshotId || !volumeId || !volumes.has(volumeId))
      return undefined;
    return {
      snapshotId,
      stage,
      volumeId,
      account: str(item.account) ?? "",
      region: str(item.region) ?? "",
      startTime: str(d.startTime) ?? str(item.startTime),
      kmsKeyId: str(d.kmsKeyArn),
      sequence: r.sequence,
    };
  }
  return undefined;
}

/**
 * Folds a case's records into the capture state of one instance (`volumeIds`: the volumes being captured). The
 * first recorded snapshot of a volume and stage wins: a later record for the same stage can only come from an older
 * flz without intents racing itself, and the evidence must not switch.
 */
export function captureLedgerState(
  records: readonly CustodyRecord[],
  target: { instanceId: string; account: string; region: string },
  volumeIds: readonly string[],
): CaptureLedgerState {
  const volumes = new Set(volumeIds);
  const snapshots = new Map<string, Partial<Record<SnapshotStage, RecordedSnapshot>>>();
  const shared = new Map<string, Set<string>>();
  const locked = new Map<string, Set<string>>();
  const runs: CaptureRun[] = [];
  const finished = new Set<string>();
  const artefacts = new Map<string, RecordedArtefact>();
  const reportedUntrusted = new Set<string>();
  const recorded = new Set<string>();
  const byCopy = new Map<string, string>(); // evidence copy or forensic copy -> volume
  for (const v of volumes) {
    snapshots.set(v, {});
    shared.set(v, new Set());
    locked.set(v, new Set());
  }

  for (const r of records) {
    for (const s of r.subjects) recorded.add(recordKey(r.action, s));
    const d = r.details ?? {};
    const sameInstance = d.instance === target.instanceId && d.account === target.account;
    if (r.action === "capture.started" && sameInstance && isRun(d.run)) {
      runs.push({
        run: { id: String(d.run.id), host: String(d.run.host), pid: Number(d.run.pid) },
        sequence: r.sequence,
        time: r.time,
        actor: r.actor,
        deadline: typeof d.run.deadline === "number" ? d.run.deadline : undefined,
        finished: false,
      });
    }
    if (
      (r.action === "capture.completed" || r.action === "capture.finished-with-failures") &&
      typeof d.runId === "string"
    )
      finished.add(d.runId);
    const snap = recordedSnapshot(r, volumes);
    if (snap) {
      const stages = snapshots.get(snap.volumeId) ?? {};
      stages[snap.stage] ??= snap;
      snapshots.set(snap.volumeId, stages);
      if (snap.stage !== "source") byCopy.set(snap.snapshotId, snap.volumeId);
    }
    if (r.action === "capture.snapshot.shared" && r.outcome !== "failed") {
      const id = str(d.snapshotId) ?? r.subjects[0];
      const volume = str(d.volumeId) ?? byCopy.get(id);
      if (volume) shared.get(volume)?.add(id);
    }
    if (r.action === "capture.snapshot.locked" && r.outcome !== "failed") {
      const id = str(d.snapshotId) ?? r.subjects[0];
      const volume = str(d.volumeId) ?? byCopy.get(id);
      if (volume) locked.get(volume)?.add(id);
    }
    if (r.action === "capture.artefact.stored" && r.outcome !== "failed" && r.evidence?.[0] && r.subjects[0]) {
      const e = r.evidence[0];
      artefacts.set(r.subjects[0], { kind: e.kind, location: e.location, sha256: e.sha256 });
    }
    if (r.action === "capture.candidate.untrusted") {
      const id = str(d.snapshotId);
      if (id) reportedUntrusted.add(id);
    }
  }

  const open = new Map<string, Map<string, RecordedIntent[]>>();
  const openArtefacts = new Map<string, RecordedIntent[]>();
  for (const intent of openIntents(records, CAPTURE_INTENT_ACTION)) {
    const facts = intent.facts ?? {};
    if (facts.instance !== target.instanceId || facts.memberAccount !== target.account) continue;
    const volume = str(facts.volumeId);
    if (volume && volumes.has(volume)) {
      const steps = open.get(volume) ?? new Map<string, RecordedIntent[]>();
      steps.set(intent.step, [...(steps.get(intent.step) ?? []), intent]);
      open.set(volume, steps);
    } else if (str(facts.subject)) {
      const subject = str(facts.subject) as string;
      openArtefacts.set(subject, [...(openArtefacts.get(subject) ?? []), intent]);
    }
  }

  return {
    volumes: new Map(
      [...volumes].map((v) => [
        v,
        {
          snapshots: snapshots.get(v) ?? {},
          shared: shared.get(v) ?? new Set(),
          locked: locked.get(v) ?? new Set(),
          open: open.get(v) ?? new Map(),
        },
      ]),
    ),
    runs: runs.map((run) => ({ ...run, finished: finished.has(run.run.id) })),
    artefacts,
    openArtefacts,
    reportedUntrusted,
    recorded,
  };
}
