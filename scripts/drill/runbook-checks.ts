/**
 * What the drill checks its steps against, and the evidence it makes for them: the forensic snapshots' digests
 * against the planted disks, the analyst's artefact put and read back from the ledger, the memory images it plants.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { runEvidencePut } from "../commands/evidence";
import { runHash } from "../commands/hash";
import type { LandingZone } from "../contract";
import { withCallLabel } from "../aws/observer";
import { verifyChain, type ChainVerification } from "../custody/chain";
import type { EvidenceBucketLedger } from "../custody/ledger";
import type { CustodyLedger, CustodyRecord } from "../custody/types";
import type { SnapshotDigest } from "../hash/snapshot";
import type { Io } from "../output";
import { timelineEntry, type ArtefactCheck, type SnapshotHashCheck, type TimelineEntry } from "./runbook-model";

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
export interface SnapshotToHash {
  /** Case the digest is recorded in. */
  readonly caseId: string;
  /** The landing-zone contract. */
  readonly landingZone: LandingZone;
  /** The contract file, as `flz hash --landing-zone` reads it. */
  readonly landingZoneFile: string;
  /** Region of the forensic snapshot. */
  readonly region: string;
  /** Device the captured volume was attached as. */
  readonly device: string;
  /** The captured volume. */
  readonly volumeId: string;
  /** The forensic account's locked copy to hash. */
  readonly forensicSnapshotId: string;
  /** SHA-256 of the raw image the drill planted on the device, when one was. */
  readonly plantedSha256: string | undefined;
}

/**
 * Hashes a forensic snapshot with `flz hash --snapshot --case` (its own code path, reading the contract file), which
 * records the image digest in the case's ledger; the drill then compares it with the planted disk's digest.
 */
export async function hashForensicSnapshot(target: SnapshotToHash): Promise<SnapshotHashCheck> {
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
export async function putArtefact(
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

/**
 * The case's ledger read back after the last step, as the report shows it: every record as a timeline entry and, when
 * asked, the verification of exactly those records (so "verified N of M" counts the timeline). Read as `flz custody
 * verify` reads it (the label names the AWS calls for docs/permissions.md). A record that does not parse is left out
 * of the timeline and makes the chain fail, never the report.
 * @param ledger The case's ledger.
 * @param caseId The case.
 * @param verify Whether to verify the chain (the signatures against the custody key from KMS).
 */
export async function ledgerTimeline(
  ledger: EvidenceBucketLedger,
  caseId: string,
  verify: boolean,
): Promise<{ custody?: ChainVerification; timeline: TimelineEntry[] }> {
  const stored = await withCallLabel("flz custody verify", () => ledger.storedRecords()).catch(() => []);
  const custody =
    verify && stored.length > 0
      ? await withCallLabel("flz custody verify", () => ledger.kmsPublicKey())
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
  return { custody, timeline: records.map(timelineEntry) };
}
