/**
 * The handlers that act: contain one target (the functions of `flz contain`), capture one instance (`captureInstance`
 * of `flz capture`), hash its forensic snapshots (`runHash` of `flz hash --snapshot --case`) and verify the case's
 * chain (`runVerify` of `flz custody verify`). No second implementation: only the reading of the state's input and
 * the shape of the answer are new here.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { DescribeSnapshotsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { CAPTURE_INCOMPLETE_ERROR, CONTAINMENT_INCOMPLETE_ERROR } from "../../components/documents/automation-asl";
import { captureInstance, failureLines, snapshotArn } from "../capture/capture";
import { runHash } from "../commands/hash";
import { runVerify } from "../commands/custody";
import { deactivateAccessKey } from "../contain/access-key";
import type { ContainContext, ContainResult } from "../contain/common";
import { containInstance } from "../contain/instance";
import { revokeSessions } from "../contain/sessions";
import type { LandingZone } from "../contract";
import type { JsonValue } from "../custody/types";
import { describeError } from "../errors";
import type { SnapshotDigest } from "../hash/snapshot";
import type { ContainerState } from "./container";
import type { AutomationHandlers, CaptureItem, ContainItem, HashInput } from "./types";

/** Ledger action of snapshots the automation left for `flz hash --case` to hash (too large, or out of time). */
export const HASH_PENDING_ACTION = "automation.hash.pending";

/** How the acting handlers wait and how much they hash. */
export interface ActingLimits {
  /** Minutes a capture invocation waits for copies before handing back to the state machine's retry. */
  readonly captureWaitMinutes: number;
  /** Milliseconds between snapshot polls (undefined: the capture's own). */
  readonly pollIntervalMs?: number;
  /** Largest volume (GiB) hashed inside the function; larger ones are left "hash pending". */
  readonly hashMaxGiB: number;
  /** Minutes the hash function hashes before leaving what is unfinished "hash pending" (Lambda stops at 15). */
  readonly hashWaitMinutes: number;
}

/** The contract as a file, for the CLI functions that read it from `--landing-zone`. */
function contractFile(lz: LandingZone): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "flz-automation-")), "landing-zone.json");
  writeFileSync(file, JSON.stringify(lz));
  return file;
}

/** A stream pair that drops what the CLI functions print (the Lambda log gets the summary instead). */
function quietIo(): { out: PassThrough; err: PassThrough; isTty: false } {
  const out = new PassThrough();
  const err = new PassThrough();
  out.resume();
  err.resume();
  return { out, err, isTty: false };
}

/** The acting handlers of one container. */
export function actingHandlers(
  container: ContainerState,
  lz: LandingZone,
  limits: ActingLimits,
): Pick<AutomationHandlers, "contain" | "capture" | "hash" | "verify"> {
  let contract: string | undefined;
  const landingZoneFile = (): string => (contract ??= contractFile(lz));

  const contain = async (input: { item: ContainItem }): Promise<{ [key: string]: JsonValue }> => {
    const i = input.item;
    return container.withCaseLedger(i.caseId, async (ledger, factory) => {
      const ctx: ContainContext = { factory, ledger, account: i.account, region: i.region, dryRun: false };
      const t = i.target;
      let result: ContainResult;
      if (t.kind === "instance") result = await containInstance(ctx, { instanceId: t.instanceId });
      else if (t.kind === "role") result = await revokeSessions(ctx, { role: t.roleName, before: "now" });
      else result = await deactivateAccessKey(ctx, { user: t.userName, key: t.accessKeyId });
      if ((result.failures ?? []).length > 0)
        throw Object.assign(new Error(`containment incomplete: ${(result.failures ?? []).join("; ")}`), {
          name: CONTAINMENT_INCOMPLETE_ERROR,
        });
      return { action: result.action, changes: result.changes.length, record: result.record?.sequence ?? null };
    });
  };

  const capture = async (item: CaptureItem): Promise<{ [key: string]: JsonValue }> =>
    container.withCaseLedger(item.caseId, async (ledger, factory) => {
      const result = await captureInstance({
        factory,
        landingZone: lz,
        ledger,
        request: {
          caseId: item.caseId,
          instanceId: item.instanceId,
          account: item.account,
          region: item.region,
          volumeIds: [],
          lockDays: item.lockDays,
          maxWaitMinutes: limits.captureWaitMinutes,
        },
        pollIntervalMs: limits.pollIntervalMs,
      });
      const failures = failureLines(result);
      // Still copying (or a step to redo): the state machine retries, and the capture resumes from its tags.
      if (failures.length > 0) throw Object.assign(new Error(failures.join("; ")), { name: CAPTURE_INCOMPLETE_ERROR });
      return {
        caseId: item.caseId,
        instanceId: item.instanceId,
        destinationRegion: result.destinationRegion,
        snapshots: result.snapshots.map((s) => ({
          volumeId: s.volumeId,
          forensicSnapshotId: s.forensicSnapshotId ?? null,
          locked: s.locked,
        })),
      };
    });

  const hash = async (input: HashInput): Promise<{ [key: string]: JsonValue }> =>
    container.withCaseLedger(input.caseId, async (ledger, factory) => {
      const ids = input.snapshots.map((s) => s.forensicSnapshotId).filter((s): s is string => s !== null);
      const region = input.destinationRegion;
      const sizes = new Map<string, number>();
      if (ids.length > 0) {
        const out = await factory
          .client(EC2Client, { region })
          .send(new DescribeSnapshotsCommand({ SnapshotIds: ids }));
        for (const s of out.Snapshots ?? []) sizes.set(s.SnapshotId ?? "", s.VolumeSize ?? 0);
      }
      const pending: { snapshotId: string; reason: string }[] = [];
      const hashed: { [key: string]: JsonValue }[] = [];
      const deadline = limits.hashWaitMinutes * 60000;
      await Promise.all(
        ids.map(async (snapshotId) => {
          const gib = sizes.get(snapshotId) ?? 0;
          if (gib > limits.hashMaxGiB) {
            pending.push({
              snapshotId,
              reason: `volume of ${gib} GiB is larger than the ${limits.hashMaxGiB} GiB one function hashes within Lambda's 15 minutes`,
            });
            return;
          }
          let timer: NodeJS.Timeout | undefined;
          const outOfTime = new Promise<"late">((resolve) => {
            timer = setTimeout(() => resolve("late"), deadline);
          });
          // `flz hash --snapshot --case`: its own reading, checksum checks and record (once per snapshot and digest).
          const running = runHash(
            [],
            { snapshot: snapshotId, region, case: input.caseId, landingZone: landingZoneFile(), json: true },
            quietIo(),
            factory,
          ) as Promise<SnapshotDigest>;
          running.catch(() => undefined); // observed below, or abandoned after the deadline
          try {
            const done = await Promise.race([running, outOfTime]);
            if (done === "late") {
              pending.push({ snapshotId, reason: `not finished within ${limits.hashWaitMinutes} minutes` });
              return;
            }
            hashed.push({
              snapshotId,
              imageSha256: done.imageSha256,
              record: done.record?.sequence ?? null,
            });
          } catch (err) {
            pending.push({ snapshotId, reason: `hash failed: ${describeError(err)}` });
          } finally {
            clearTimeout(timer);
          }
        }),
      );
      let pendingRecord: number | null = null;
      if (pending.length > 0) {
        // Recorded so nobody takes the case for hashed: the record names the command that finishes each one.
        const r = await ledger.append({
          action: HASH_PENDING_ACTION,
          subjects: pending.map((p) => snapshotArn(region, p.snapshotId)),
          details: {
            instanceId: input.instanceId,
            region,
            pending: pending.map((p) => ({
              snapshotId: p.snapshotId,
              reason: p.reason,
              finishWith: `flz hash --snapshot ${p.snapshotId} --region ${region} --case ${input.caseId}`,
            })),
          },
        });
        pendingRecord = r.sequence;
      }
      return { instanceId: input.instanceId, hashed, pending: pending.map((p) => p.snapshotId), pendingRecord };
    });

  const verify = async (input: { intake: { caseId: string } }): Promise<{ [key: string]: JsonValue }> => {
    try {
      const verdict = await runVerify(
        { case: input.intake.caseId, landingZone: landingZoneFile(), json: true },
        quietIo(),
        container.factory(input.intake.caseId),
      );
      return {
        caseId: input.intake.caseId,
        ok: verdict.ok,
        verified: verdict.verified,
        total: verdict.total,
        verdict: verdict.verdict,
      };
    } catch (err) {
      return { caseId: input.intake.caseId, ok: false, verdict: describeError(err) };
    }
  };

  return { contain, capture, hash, verify };
}
