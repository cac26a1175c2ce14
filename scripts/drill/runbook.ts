/**
 * The drill's runbook: the steps an operator takes after the incident is found, run through the same functions the
 * `flz` commands call, all recording in one case ledger. Each step is timed; a failing step is recorded as failed
 * and the runbook goes on where later steps do not depend on it, so one report shows everything that broke.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { S3Client } from "@aws-sdk/client-s3";
import { responderFactory } from "../aws/clients";
import { withCallLabel } from "../aws/observer";
import { captureInstance, type CaptureResult } from "../capture/capture";
import { parseCaptureRequest } from "../capture/plan";
import { captureMemory } from "../capture/memory";
import { parseMemoryRequest } from "../capture/memory-plan";
import { runCaseOpen } from "../commands/case-open";
import { clockForCase } from "../commands/clock";
import { runEvidencePut } from "../commands/evidence";
import { runHash } from "../commands/hash";
import type { ClockReport } from "../clock/deadlines";
import { deactivateAccessKey } from "../contain/access-key";
import type { ContainContext, ContainResult } from "../contain/common";
import { containInstance } from "../contain/instance";
import { containNetwork, subnetOfInstance } from "../contain/network";
import { containTechnique } from "../contain/technique";
import { revokeSessions } from "../contain/sessions";
import type { LandingZone } from "../contract";
import { verifyChain, type ChainVerification } from "../custody/chain";
import { custodyVerdict } from "../custody/verdict";
import { gatherOnline } from "../custody/verify-case";
import { openLedger, type EvidenceBucketLedger } from "../custody/ledger";
import type { CustodyLedger, CustodyRecord, JsonValue } from "../custody/types";
import { describeError } from "../errors";
import type { SnapshotDigest } from "../hash/snapshot";
import type { Io } from "../output";
import type { PlantedIncident } from "./plant";
import { prepareMemoryRehearsal } from "./memory-agent";

/** Drill scenarios. */
export type Scenario = "leaked-key" | "compromised-instance" | "all" | "automated";

/** Every scenario name, as `--scenario` accepts them. */
export const SCENARIOS: readonly Scenario[] = ["leaked-key", "compromised-instance", "all", "automated"];

/**
 * Outcome of one step. `skipped` means a step it needs did not pass (so it could not run): never counted as passed.
 * `not-in-scenario` means the scenario does not include the step: shown, so every report lists the same runbook, and
 * neither a pass nor a failure.
 */
export type StepStatus = "passed" | "failed" | "skipped" | "not-in-scenario";

/**
 * What a step counts towards. Evidence is secured when the forensic account owns locked copies (capture); hashing
 * and storing artefacts make the custody record of it, and do not delay "secured".
 */
export type StepPhase = "case" | "contain" | "evidence" | "custody" | "report";

/** One runbook step's outcome. */
export interface StepResult {
  /** Stable ID, e.g. `contain-sessions`. */
  readonly id: string;
  /** What the step does, for people. */
  readonly title: string;
  /** What it counts towards (time to contain, time to evidence secured). */
  readonly phase: StepPhase;
  /** The equivalent operator command line. */
  readonly command: string;
  /** Outcome. */
  readonly status: StepStatus;
  /** Start, UTC ISO 8601 with milliseconds. */
  readonly startedAt: string;
  /** Duration, milliseconds. */
  readonly durationMs: number;
  /** One line: what happened. */
  readonly summary: string;
  /** The error line, when failed; why, when skipped. */
  readonly error?: string;
}

/** Everything the runbook produced. */
export interface RunbookResult {
  /** Case ID. */
  readonly caseId: string;
  /** Scenario run. */
  readonly scenario: Scenario;
  /** When the runbook started (the incident's detection, for the drill's clocks). */
  readonly startedAt: string;
  /** Steps, in order. */
  readonly steps: StepResult[];
  /** Milliseconds from the start to the end of the last containment step, when every containment step passed. */
  readonly timeToContainMs?: number;
  /** Milliseconds from the start to the end of the last evidence step, when every evidence step passed. */
  readonly timeToEvidenceSecuredMs?: number;
  /** The capture's outcome, when it ran. */
  readonly capture?: CaptureResult;
  /**
   * The verification of the whole chain as the report shows it (every record of the timeline, read after the last
   * step), when the verify step ran; {@link RunbookResult.custodyAtStep} is what that step itself verified.
   */
  readonly custody?: ChainVerification;
  /** What the verify step verified when it ran (the records written before it). */
  readonly custodyAtStep?: ChainVerification;
  /** The image digests of the forensic snapshots, checked against the planted disks, when hashed. */
  readonly snapshotHashes?: SnapshotHashCheck[];
  /** The analyst's artefact put into the evidence bucket, when put. */
  readonly artefact?: ArtefactCheck;
  /** The reporting clocks, when computed. */
  readonly clock?: ClockReport;
  /** Every record of the case's ledger, in order. */
  readonly timeline: TimelineEntry[];
}

/** One ledger record, as the report's timeline shows it. */
export interface TimelineEntry {
  /** Sequence number. */
  readonly sequence: number;
  /** Time, UTC. */
  readonly time: string;
  /** Who appended it (STS caller ARN). */
  readonly actor: string;
  /** What happened. */
  readonly action: string;
  /** What it happened to. */
  readonly subjects: string[];
  /** `succeeded` or `failed`. */
  readonly outcome: string;
  /** The evidence it vouches for, with hashes. */
  readonly evidence: { kind: string; location: string; sha256?: string }[];
  /** The record hash. */
  readonly hash?: string;
  /** The previous record's hash. */
  readonly previousHash?: string;
  /** The record's details (what was changed, the facts of the action). */
  readonly details?: { [key: string]: JsonValue };
  /** The record's undo information, when reversible. */
  readonly undo?: { [key: string]: JsonValue };
  /** The error line, when failed. */
  readonly error?: string;
}

/** A forensic snapshot's image digest against the raw image the drill planted on that device. */
export interface SnapshotHashCheck {
  /** Device of the captured volume. */
  readonly device: string;
  /** The captured volume. */
  readonly volumeId: string;
  /** The forensic account's locked copy that was hashed. */
  readonly forensicSnapshotId: string;
  /** Its image digest, through the EBS direct APIs. */
  readonly imageSha256: string;
  /** SHA-256 of the raw image planted on the device. */
  readonly plantedSha256: string;
  /** Whether they are equal. */
  readonly matches: boolean;
  /** Written blocks read and verified. */
  readonly writtenBlocks: number;
  /** Ledger record of the digest. */
  readonly recordSequence: number;
}

/** The analyst's artefact, as put and as recorded. */
export interface ArtefactCheck {
  /** Local file the drill wrote. */
  readonly file: string;
  /** Where it went. */
  readonly location: string;
  /** SHA-256 of the local file, computed separately. */
  readonly sha256: string;
  /** Bytes. */
  readonly bytes: number;
  /** Ledger record of the upload. */
  readonly recordSequence: number;
}

/** Options of {@link runRunbook}. */
export interface RunbookOptions {
  /** The landing-zone contract. */
  readonly landingZone: LandingZone;
  /** The planted incident. */
  readonly incident: PlantedIncident;
  /** Scenario. */
  readonly scenario: Scenario;
  /** Case ID. */
  readonly caseId: string;
  /** The landing-zone contract file (what `--landing-zone` names for the commands run as an operator would). */
  readonly landingZoneFile: string;
  /** Folder for the artefacts the drill writes (the analyst's memory image). */
  readonly workDir: string;
  /** Milliseconds between snapshot polls. Default 200 (the emulator completes snapshots at once). */
  readonly pollIntervalMs?: number;
  /** Called as each step ends (progress lines). */
  readonly onStep?: (step: StepResult) => void;
}

interface StepSpec {
  readonly id: string;
  readonly title: string;
  readonly phase: StepPhase;
  readonly command: string;
  readonly scenarios: readonly Scenario[];
  /** Why the step cannot run (a step it needs did not pass), or undefined when it can. */
  readonly blockedBy?: () => string | undefined;
  readonly run: () => Promise<string>;
}

/** Whether a step runs in a scenario. */
export function stepRunsIn(scenarios: readonly Scenario[], scenario: Scenario): boolean {
  return scenario === "all" || scenarios.includes(scenario);
}

/**
 * Milliseconds from start to the end of the last step of a phase, or undefined when the phase did not run or any step
 * of it did not pass ({@link phaseRan} tells which).
 */
export function phaseDuration(steps: readonly StepResult[], phase: StepPhase, startedAt: string): number | undefined {
  const of = steps.filter((s) => s.phase === phase && s.status !== "not-in-scenario");
  if (of.length === 0 || of.some((s) => s.status !== "passed")) return undefined;
  const end = Math.max(...of.map((s) => Date.parse(s.startedAt) + s.durationMs));
  return end - Date.parse(startedAt);
}

/** Whether any step of a phase is part of the scenario that ran. */
export function phaseRan(steps: readonly StepResult[], phase: StepPhase): boolean {
  return steps.some((s) => s.phase === phase && s.status !== "not-in-scenario");
}

/** Techniques an intruder holding a role uses to stay (new keys, passwords, users): the drill's technique containment. */
const PERSISTENCE = ["iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:CreateUser"];
/** The attacker's address range of the drill (RFC 5737 documentation range). */
const ATTACKER_RANGE = "203.0.113.0/24";

function containSummary(result: ContainResult): string {
  const failures = (result as ContainResult & { failures?: string[] }).failures ?? [];
  if (failures.length > 0) throw new Error(`${failures.length} change(s) failed: ${failures.join("; ")}`);
  const changed = result.changes.map((c) => c.description).join("; ") || "nothing to change";
  return `${changed}${result.record ? ` (record ${result.record.sequence})` : ""}`;
}

/** The command a step runs, without its arguments (`flz contain sessions`), labelling the AWS calls it makes. */
export function commandLabel(command: string): string {
  const words = command.split(/\s+/);
  const end = words.findIndex((w) => !/^[a-z][a-z-]*$/.test(w));
  return words.slice(0, end === -1 ? words.length : end).join(" ");
}

/** Runs the runbook. Never throws for a failed step: the step is reported as failed. */
export async function runRunbook(options: RunbookOptions): Promise<RunbookResult> {
  const { landingZone: lz, incident, scenario, caseId } = options;
  const factory = responderFactory(lz, caseId);
  const startedAt = new Date().toISOString();
  const steps: StepResult[] = [];
  let capture: CaptureResult | undefined;
  let custodyAtStep: ChainVerification | undefined;
  let clock: ClockReport | undefined;
  let snapshotHashes: SnapshotHashCheck[] | undefined;
  let artefact: ArtefactCheck | undefined;
  let ledger: EvidenceBucketLedger | undefined;
  try {
    ledger = await withCallLabel("flz custody (ledger of every case command)", () =>
      openLedger({ factory, landingZone: lz, caseId }),
    );
    const l = ledger;
    const ctx: ContainContext = {
      factory,
      ledger: l,
      account: incident.account,
      region: incident.region,
      dryRun: false,
    };
    const where = `--case ${caseId} --account ${incident.account} --region ${incident.region}`;
    const roleArn = `arn:aws:iam::${incident.account}:role/${incident.roleName}`;
    const memoryImage = memoryImagePath(options.workDir, incident.instanceId);
    const title = `Drill: leaked access key ${incident.accessKeyId} of ${incident.userName}, instance ${incident.instanceId}`;
    let opened = false;
    const needsCase = (): string | undefined =>
      opened ? undefined : "needs the case opened by the open-case step, which did not pass";
    const specs: StepSpec[] = [
      {
        id: "open-case",
        title: "Open the case (record 0: title, awareness time, who)",
        phase: "case",
        command: `flz case open ${caseId} --title "${title}" --aware-at ${startedAt} --by "flz drill" --landing-zone ${options.landingZoneFile}`,
        scenarios: ["leaked-key", "compromised-instance"],
        run: async () => {
          const { record } = await runCaseOpen(
            caseId,
            { title, awareAt: startedAt, by: "flz drill", landingZone: options.landingZoneFile, json: true },
            bufferIo().io,
          );
          opened = true;
          return `case ${caseId} opened as record ${record?.sequence ?? "-"}; awareness ${startedAt} (the start of the runbook)`;
        },
      },
      {
        id: "contain-sessions",
        title: `Revoke sessions of role ${incident.roleName} issued before now`,
        phase: "contain",
        command: `flz contain sessions ${where} --role ${incident.roleName} --before now`,
        scenarios: ["leaked-key"],
        run: async () => containSummary(await revokeSessions(ctx, { role: incident.roleName, before: "now" })),
      },
      {
        id: "contain-access-key",
        title: `Deactivate the leaked access key of user ${incident.userName}`,
        phase: "contain",
        command: `flz contain access-key ${where} --user ${incident.userName} --key ${incident.accessKeyId}`,
        scenarios: ["leaked-key"],
        run: async () =>
          containSummary(await deactivateAccessKey(ctx, { user: incident.userName, key: incident.accessKeyId })),
      },
      {
        // Runbook order (docs/memory.md): protect, memory, isolate, disk. Memory before isolation, which can end the
        // processes and connections it would show.
        id: "capture-memory",
        title: `Capture the memory of ${incident.instanceId} over SSM, hashed off the host, before isolating it`,
        phase: "evidence",
        command: `flz capture memory ${where} --instance ${incident.instanceId}`,
        scenarios: ["compromised-instance"],
        run: async () => {
          const image = writeMemoryImage(
            options.workDir,
            incident.instanceId,
            memoryCapturePath(options.workDir, incident.instanceId),
          );
          const rehearsal = await prepareMemoryRehearsal({
            lz,
            factory,
            account: incident.account,
            region: incident.region,
            instanceId: incident.instanceId,
            imageFile: image,
          });
          try {
            const request = parseMemoryRequest(
              {
                case: caseId,
                account: incident.account,
                region: incident.region,
                instance: incident.instanceId,
                partSizeMib: "5",
              },
              (options.pollIntervalMs ?? 200) / 1000,
            );
            const result = await captureMemory({ factory, lz, request, ledger: l, io: bufferIo().io });
            const planted = createHash("sha256")
              .update(await readFile(image))
              .digest("hex");
            if (result.evidence.sha256 !== planted)
              throw new Error(
                `the image hashed off the host (${result.evidence.sha256}) is not the planted one (${planted})`,
              );
            if (result.verdict !== "MATCH") throw new Error(`the host's own digest does not match: ${result.verdict}`);
            return `${result.evidence.bytes ?? 0} bytes -> ${result.evidence.location} through pre-signed part URLs; hashed off the host ${planted.slice(0, 16)}… = the planted image; host digest ${result.verdict}; record ${result.record.sequence} (stand-in SSM agent and tool: the emulator runs no commands)`;
          } finally {
            rehearsal.release();
          }
        },
      },
      {
        id: "contain-instance",
        title: `Isolate instance ${incident.instanceId} (network, protection, Auto Scaling standby, IMDSv2)`,
        phase: "contain",
        command: `flz contain instance ${where} --instance ${incident.instanceId}`,
        scenarios: ["compromised-instance"],
        run: async () => containSummary(await containInstance(ctx, { instanceId: incident.instanceId })),
      },
      {
        id: "contain-technique",
        title: `Deny the persistence techniques iam:CreateAccessKey, iam:CreateLoginProfile, iam:CreateUser to role ${incident.roleName}`,
        phase: "contain",
        command: `flz contain technique --case ${caseId} --principal ${roleArn} --deny ${PERSISTENCE.join(",")}`,
        scenarios: ["leaked-key"],
        run: async () =>
          containSummary(
            await containTechnique(ctx, {
              principal: roleArn,
              deny: PERSISTENCE.join(","),
              forensicRoles: [lz.memberResponderRoleName, lz.memberInvestigatorRoleName],
            }),
          ),
      },
      {
        id: "contain-network",
        title: `Deny the attacker's range ${ATTACKER_RANGE} in the network ACL of the subnet of ${incident.instanceId}`,
        phase: "contain",
        command: `flz contain network ${where} --subnet <subnet of ${incident.instanceId}> --cidr ${ATTACKER_RANGE}`,
        scenarios: ["compromised-instance"],
        run: async () =>
          containSummary(
            await containNetwork(ctx, {
              subnetId: await subnetOfInstance(ctx, incident.instanceId),
              cidrs: [ATTACKER_RANGE],
            }),
          ),
      },
      {
        id: "capture",
        title: `Capture both volumes of ${incident.instanceId} into the forensic account, locked`,
        phase: "evidence",
        command: `flz capture ${where} --instance ${incident.instanceId}`,
        scenarios: ["compromised-instance"],
        run: async () => {
          const request = parseCaptureRequest({
            case: caseId,
            instance: incident.instanceId,
            account: incident.account,
            region: incident.region,
            lockDays: "1",
            maxWait: "5",
          });
          capture = await captureInstance({
            factory,
            landingZone: lz,
            request,
            ledger: l,
            pollIntervalMs: options.pollIntervalMs ?? 200,
          });
          const failed = capture.snapshots.filter((s) => s.state !== "completed");
          if (failed.length > 0)
            throw new Error(
              `${failed.length} volume(s) failed: ${failed.map((s) => `${s.volumeId}: ${s.error ?? "error"}`).join("; ")}`,
            );
          const unlocked = capture.snapshots.filter((s) => !s.locked).map((s) => s.forensicSnapshotId);
          if (unlocked.length > 0) throw new Error(`forensic snapshot(s) not locked: ${unlocked.join(", ")}`);
          return `${capture.snapshots.length} volume(s) -> forensic snapshots ${capture.snapshots.map((s) => s.forensicSnapshotId).join(", ")} (locked); ${capture.artefacts.length} artefact(s) stored`;
        },
      },
      {
        id: "hash-snapshots",
        title: "Hash the forensic snapshots through the EBS direct APIs and check them against the planted disks",
        phase: "custody",
        command: `flz hash --snapshot <forensic snapshot> --region ${incident.region} --case ${caseId} --landing-zone ${options.landingZoneFile}`,
        scenarios: ["compromised-instance"],
        blockedBy: () =>
          capture?.snapshots.some((snap) => snap.state === "completed" && snap.forensicSnapshotId)
            ? undefined
            : "needs the forensic snapshots of the capture step, which did not pass",
        run: async () => {
          const captured = (capture?.snapshots ?? []).filter((snap) => snap.state === "completed");
          snapshotHashes = await Promise.all(
            captured.map((snap) =>
              hashForensicSnapshot({
                caseId,
                landingZone: lz,
                landingZoneFile: options.landingZoneFile,
                region: incident.region,
                device: snap.device,
                volumeId: snap.volumeId,
                forensicSnapshotId: snap.forensicSnapshotId ?? "",
                plantedSha256: incident.disks.find((d) => d.device === snap.device)?.sha256,
              }),
            ),
          );
          const wrong = snapshotHashes.filter((h) => !h.matches);
          if (wrong.length > 0) {
            throw new Error(
              `image digest differs from the planted disk for ${wrong.map((h) => `${h.device} (${h.forensicSnapshotId}: ${h.imageSha256.slice(0, 16)}… ≠ ${h.plantedSha256.slice(0, 16)}…)`).join(", ")}`,
            );
          }
          return `${snapshotHashes.length} forensic snapshot(s) hashed; each image digest equals the SHA-256 of the raw disk planted (${snapshotHashes.map((h) => `${h.device} ${h.imageSha256.slice(0, 12)}…, record ${h.recordSequence}`).join("; ")})`;
        },
      },
      {
        id: "put-artefact",
        title: "Put an analyst's memory image into the evidence bucket and check its hash in the ledger",
        phase: "custody",
        command: `flz evidence put --case ${caseId} --kind memory --landing-zone ${options.landingZoneFile} ${memoryImage}`,
        scenarios: ["compromised-instance"],
        run: async () => {
          artefact = await putArtefact(l, {
            caseId,
            landingZoneFile: options.landingZoneFile,
            file: writeMemoryImage(options.workDir, incident.instanceId, memoryImage),
          });
          return `${artefact.bytes} bytes -> ${artefact.location}; SHA-256 ${artefact.sha256.slice(0, 16)}… recorded as record ${artefact.recordSequence}`;
        },
      },
      {
        id: "verify-custody",
        title: "Verify the custody chain (hashes, links, signatures)",
        phase: "custody",
        command: `flz custody verify --case ${caseId}`,
        scenarios: ["leaked-key", "compromised-instance"],
        run: async () => {
          // The command's own verification: every version and delete marker under the case, retention, chain,
          // signatures with the key from KMS, and the S3 evidence the records name.
          const gathered = await gatherOnline(
            l,
            factory.client(S3Client, { region: lz.homeRegion }),
            lz.custodySigningKeyArn,
            { caseId },
          );
          custodyAtStep = gathered.verification;
          const verdict = custodyVerdict(custodyAtStep, gathered.evidence);
          if (verdict.status !== "VERIFIED") throw new Error(verdict.line);
          return `${custodyAtStep.verified} of ${custodyAtStep.total} records verified (records 0 to ${custodyAtStep.total - 1}, all written before this step), every object version under the case audited; head ${custodyAtStep.headHash?.slice(0, 16)}...`;
        },
      },
      {
        id: "clock",
        title: "Compute and record the reporting deadlines",
        phase: "report",
        command: `flz clock --case ${caseId} --regime all`,
        scenarios: ["leaked-key", "compromised-instance"],
        run: async () => {
          const result = await clockForCase(l, { regime: "all", tz: "UTC" });
          clock = result.report;
          return `${clock.deadlines.length} deadline(s), ${clock.waiting.length} waiting; first ${clock.deadlines[0]?.regime ?? "-"} ${clock.deadlines[0]?.obligation ?? ""} due ${clock.deadlines[0]?.dueUtc ?? "-"} (record ${result.record?.sequence})`;
        },
      },
    ];
    for (const spec of specs) {
      const start = Date.now();
      const base = {
        id: spec.id,
        title: spec.title,
        phase: spec.phase,
        command: spec.command,
        startedAt: new Date(start).toISOString(),
      };
      let step: StepResult;
      const blocked = spec.id === "open-case" ? undefined : (needsCase() ?? spec.blockedBy?.());
      if (!stepRunsIn(spec.scenarios, scenario)) {
        step = {
          ...base,
          status: "not-in-scenario",
          durationMs: 0,
          summary: `not in this scenario (${scenario})`,
        };
      } else if (blocked) {
        step = { ...base, status: "skipped", durationMs: 0, summary: "not run", error: blocked };
      } else {
        try {
          const summary = await withCallLabel(commandLabel(spec.command), () => spec.run());
          step = { ...base, status: "passed", durationMs: Date.now() - start, summary };
        } catch (err) {
          if (process.env.FLZ_DEBUG) console.error(err);
          step = {
            ...base,
            status: "failed",
            durationMs: Date.now() - start,
            summary: "failed",
            error: describeError(err),
          };
        }
      }
      steps.push(step);
      options.onStep?.(step);
    }
    // The report's timeline and its verification cover the same records: everything in the ledger after the last step
    // (the clock step appends after the verify step), so "verified N of M" counts exactly the timeline's records.
    // Read as `flz custody verify` reads the ledger (labels the AWS calls for docs/permissions.md).
    const stored = await withCallLabel("flz custody verify", () => l.storedRecords()).catch(() => []);
    const custody =
      custodyAtStep && stored.length > 0
        ? await withCallLabel("flz custody verify", () => l.kmsPublicKey())
            .then((publicKeyPem) => verifyChain(stored, { caseId, publicKeyPem }))
            .catch(() => undefined)
        : undefined;
    const records = stored.flatMap((e): CustodyRecord[] => {
      try {
        return [JSON.parse(Buffer.from(e.bytes).toString("utf8")) as CustodyRecord];
      } catch {
        return [];
      }
    });
    return {
      caseId,
      scenario,
      startedAt,
      steps,
      timeToContainMs: phaseDuration(steps, "contain", startedAt),
      timeToEvidenceSecuredMs: phaseDuration(steps, "evidence", startedAt),
      capture,
      custody,
      custodyAtStep,
      clock,
      snapshotHashes,
      artefact,
      timeline: records.map(timelineEntry),
    };
  } finally {
    factory.destroy();
  }
}

/** A record as the timeline shows it. */
export function timelineEntry(record: CustodyRecord): TimelineEntry {
  return {
    sequence: record.sequence,
    time: record.time,
    actor: record.actor,
    action: record.action,
    subjects: record.subjects,
    outcome: record.outcome ?? "succeeded",
    evidence: (record.evidence ?? []).map((e) => ({
      kind: e.kind,
      location: e.location,
      ...(e.sha256 ? { sha256: e.sha256 } : {}),
    })),
    hash: record.hash,
    previousHash: record.previousHash,
    ...(record.details ? { details: record.details } : {}),
    ...(record.undo ? { undo: record.undo } : {}),
    ...(record.error ? { error: record.error } : {}),
  };
}

/** An output the drill reads instead of the terminal: the commands it runs print as they would for an operator. */
export function bufferIo(): { io: Io; text: () => string } {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  err.resume();
  return { io: { out, err, isTty: false }, text: () => Buffer.concat(chunks).toString("utf8") };
}

/** Where and what to hash for {@link hashForensicSnapshot}. */
interface SnapshotToHash {
  readonly caseId: string;
  readonly landingZone: LandingZone;
  readonly landingZoneFile: string;
  readonly region: string;
  readonly device: string;
  readonly volumeId: string;
  readonly forensicSnapshotId: string;
  readonly plantedSha256: string | undefined;
}

/**
 * Hashes a forensic snapshot with `flz hash --snapshot --case` (its own code path, reading the contract file), which
 * records the image digest in the case's ledger; the drill then compares it with the planted disk's digest.
 */
async function hashForensicSnapshot(target: SnapshotToHash): Promise<SnapshotHashCheck> {
  if (!target.plantedSha256) throw new Error(`no disk was planted on device ${target.device} of ${target.volumeId}`);
  const { io } = bufferIo();
  const digest = (await runHash(
    [],
    {
      snapshot: target.forensicSnapshotId,
      region: target.region,
      landingZone: target.landingZoneFile,
      case: target.caseId,
      json: true,
    },
    io,
  )) as SnapshotDigest;
  const matches = digest.imageSha256 === target.plantedSha256;
  if (!digest.record) throw new Error(`flz hash --case recorded no digest of ${target.forensicSnapshotId}`);
  const record = digest.record;
  return {
    device: target.device,
    volumeId: target.volumeId,
    forensicSnapshotId: target.forensicSnapshotId,
    imageSha256: digest.imageSha256,
    plantedSha256: target.plantedSha256,
    matches,
    writtenBlocks: digest.writtenBlocks,
    recordSequence: record.sequence,
  };
}

/** Where the drill plants the memory the stand-in acquisition tool writes (capture-memory step). */
export function memoryCapturePath(dir: string, instanceId: string): string {
  return path.join(dir, "artefacts", `${instanceId}-planted-memory.bin`);
}

/** Where the drill writes the analyst's fake memory image. */
export function memoryImagePath(dir: string, instanceId: string): string {
  return path.join(dir, "artefacts", `${instanceId}-memory.lime`);
}

/** Writes the analyst's fake memory image (3 MiB, deterministic) for the artefact step; returns its path. */
export function writeMemoryImage(dir: string, instanceId: string, file = memoryImagePath(dir, instanceId)): string {
  mkdirSync(path.dirname(file), { recursive: true });
  const image = Buffer.alloc(3 * 2 ** 20);
  // Pseudo-random pages from a hash chain: incompressible and the same on every run.
  let seed = createHash("sha256").update(`FLZ-DRILL memory of ${instanceId}`).digest();
  for (let offset = 0; offset < image.length; offset += seed.length) {
    seed.copy(image, offset);
    seed = createHash("sha256").update(seed).digest();
  }
  image.write(`FLZ-DRILL fake memory image of ${instanceId}\n`, 0, "utf8");
  writeFileSync(file, image);
  return file;
}

/**
 * Puts the artefact with `flz evidence put` (the command's own code path: its own client factory and ledger, as a
 * second operator), then checks that the case's ledger, read back, holds the artefact with the SHA-256 of the file
 * computed here separately.
 */
async function putArtefact(
  ledger: CustodyLedger,
  request: { caseId: string; landingZoneFile: string; file: string },
): Promise<ArtefactCheck> {
  const bytes = await readFile(request.file);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const { io } = bufferIo();
  const put = await runEvidencePut(
    request.file,
    { case: request.caseId, kind: "memory", landingZone: request.landingZoneFile, json: true },
    io,
  );
  if (!put) throw new Error("flz evidence put returned nothing (was it a dry run?)");
  const recorded = (await ledger.records()).find((r) => r.sequence === put.record.sequence);
  const item = recorded?.evidence?.find((e) => e.location === put.evidence.location);
  if (!recorded || recorded.action !== "evidence.put" || !item) {
    throw new Error(`the ledger has no evidence.put record ${put.record.sequence} for ${put.evidence.location}`);
  }
  if (item.sha256 !== sha256 || item.bytes !== bytes.length) {
    throw new Error(
      `the ledger records ${item.sha256} (${item.bytes} bytes) for ${put.evidence.location}, but the file is ${sha256} (${bytes.length} bytes)`,
    );
  }
  return {
    file: request.file,
    location: put.evidence.location,
    sha256,
    bytes: bytes.length,
    recordSequence: recorded.sequence,
  };
}

/** A JSON-safe copy of a value (drops undefined), for the JSON report. */
export function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
