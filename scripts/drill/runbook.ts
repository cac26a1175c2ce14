/**
 * The drill's runbook: the steps an operator takes after the incident is found, run through the same functions the
 * `flz` commands call, all recording in one case ledger. Each step is timed; a failing step is recorded as failed
 * and the runbook goes on where later steps do not depend on it, so one report shows everything that broke.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { S3Client } from "@aws-sdk/client-s3";
import { responderFactory } from "../aws/clients";
import { withCallLabel } from "../aws/observer";
import { captureInstance, type CaptureResult } from "../capture/capture";
import { parseCaptureRequest } from "../capture/plan";
import { captureMemory } from "../capture/memory";
import { parseMemoryRequest } from "../capture/memory-plan";
import { runCaseOpen } from "../commands/case-open";
import { clockForCase } from "../commands/clock";
import type { ClockReport } from "../clock/deadlines";
import { deactivateAccessKey } from "../contain/access-key";
import type { ContainContext, ContainResult } from "../contain/common";
import { containInstance } from "../contain/instance";
import { containNetwork, subnetOfInstance } from "../contain/network";
import { containTechnique } from "../contain/technique";
import { revokeSessions } from "../contain/sessions";
import type { ChainVerification } from "../custody/chain";
import { custodyVerdict } from "../custody/verdict";
import { gatherOnline } from "../custody/verify-case";
import { openLedger, type EvidenceBucketLedger } from "../custody/ledger";
import { prepareMemoryRehearsal } from "./memory-agent";
import {
  bufferIo,
  hashForensicSnapshot,
  ledgerTimeline,
  memoryCapturePath,
  memoryImagePath,
  putArtefact,
  writeMemoryImage,
} from "./runbook-checks";
import {
  phaseDuration,
  type ArtefactCheck,
  type RunbookOptions,
  type RunbookResult,
  type SnapshotHashCheck,
  type StepResult,
} from "./runbook-model";
import { runStep, type StepSpec } from "./runbook-step";

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
      // Each step reads the case as its command would in a process of its own (the permission reference is made of
      // these calls, and the ledger would otherwise answer later steps from what earlier steps read).
      l.forgetReads();
      const step = await runStep(
        spec,
        scenario,
        spec.id === "open-case" ? undefined : (needsCase() ?? spec.blockedBy?.()),
      );
      steps.push(step);
      options.onStep?.(step);
    }
    // The report's timeline and its verification cover the same records: everything in the ledger after the last step
    // (the clock step appends after the verify step), so "verified N of M" counts exactly the timeline's records.
    const { custody, timeline } = await ledgerTimeline(l, caseId, custodyAtStep !== undefined);
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
      timeline,
    };
  } finally {
    factory.destroy();
  }
}
