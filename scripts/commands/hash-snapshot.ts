/**
 * `flz hash --snapshot`: one EBS snapshot's image digest through the EBS direct APIs (no volume restored), its
 * manifest and checkpoints, and its custody record (once per snapshot and digest, so a rerun after a crash adds
 * nothing). Split from `hash.ts`, which parses the command and hashes files.
 */
import { EBSClient } from "@aws-sdk/client-ebs";
import type { ClientFactory } from "../aws/clients";
import { withResponderFactory } from "./case";
import type { HashFlags, HashRequest } from "./hash";
import { progressNotes } from "./hash";
import { snapshotArn } from "../capture/context";
import type { LandingZone } from "../contract";
import { openLedger } from "../custody/ledger";
import type { CustodyEvent, CustodyLedger } from "../custody/types";
import type { HashCheckpoint, ManifestWriter } from "../hash/blocks";
import { hashSnapshot, type SnapshotDigest } from "../hash/snapshot";
import { note, printJson, printLine, type Io } from "../output";

/** Hashes one snapshot through the EBS direct APIs, writes its manifest, and records the digest in the case. */
export async function hashOneSnapshot(
  request: Extract<HashRequest, { kind: "snapshot" }>,
  flags: HashFlags,
  lz: LandingZone | undefined,
  manifest: ManifestWriter | undefined,
  resumed: HashCheckpoint | undefined,
  io: Io,
  /** The caller's factory (the response automation's hash function, through its session policy); default the responder's. */
  given?: ClientFactory,
): Promise<SnapshotDigest> {
  return withResponderFactory(
    lz,
    flags.case,
    async (factory) => {
      const ebs = factory.client(EBSClient, { account: request.account, region: request.region });
      const digest = await hashSnapshot({
        ebs,
        snapshotId: request.snapshotId,
        concurrency: request.concurrency,
        observeAttempts: (observer) => factory.onAttempt(observer),
        resumeFrom: resumed,
        checkpoint:
          manifest && (request.checkpointBytes !== undefined || resumed)
            ? { everyBytes: request.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES, write: (c) => manifest.checkpoint(c) }
            : undefined,
        onStart: ({ blockSize }) => {
          if (!resumed) manifest?.source({ type: "snapshot", source: request.snapshotId, blockSize });
        },
        onBlock: (block) => manifest?.block(block),
        onProgress: progressNotes(
          io,
          (blocks, seconds) =>
            `${request.snapshotId}: ${blocks} blocks verified, ${(blocks / seconds).toFixed(0)} blocks/s`,
        ),
      });
      if (manifest) {
        manifest.summary({
          source: request.snapshotId,
          blockSize: digest.blockSize,
          volumeSizeGiB: digest.volumeSizeGiB,
          writtenBlocks: digest.writtenBlocks,
          imageSha256: digest.imageSha256,
          linearChecksum: digest.linearChecksum,
        });
      }
      const account = request.account ?? lz?.forensicAccountId;
      const facts = {
        snapshotId: digest.snapshotId,
        account: account ?? null,
        region: request.region,
        volumeSizeGiB: digest.volumeSizeGiB,
        blockSize: digest.blockSize,
        writtenBlocks: digest.writtenBlocks,
        imageSha256: digest.imageSha256,
        linearChecksum: digest.linearChecksum,
        seconds: Number(digest.seconds.toFixed(3)),
        blocksPerSecond: Math.round(digest.blocksPerSecond),
        checksumRetries: digest.checksumRetries,
        throttled: digest.throttled,
        faultsRetried: digest.faultsRetried,
        ...(digest.resumedAfterIndex !== undefined ? { resumedAfterIndex: digest.resumedAfterIndex } : {}),
        ...(manifest ? { manifest: manifest.path } : {}),
      };
      let record: { sequence: number; hash: string; already: boolean } | undefined;
      if (flags.case !== undefined && lz) {
        const ledger = await openLedger({ factory, landingZone: lz, caseId: flags.case });
        const location = snapshotArn(request.region, digest.snapshotId);
        record = await recordOnce(ledger, {
          action: "evidence.snapshot.hashed",
          subjects: [location],
          evidence: [
            {
              kind: "snapshot",
              location,
              sha256: digest.imageSha256,
              bytes: digest.volumeSizeGiB * 2 ** 30,
              details: {
                ...(account ? { account } : {}),
                region: request.region,
                snapshotId: digest.snapshotId,
                blockSize: digest.blockSize,
                writtenBlocks: digest.writtenBlocks,
                linearChecksum: digest.linearChecksum,
              },
            },
          ],
          details: {
            method: "EBS direct APIs (flz hash --snapshot): every block's checksum verified, unwritten blocks as zeros",
            blocksPerSecond: Math.round(digest.blocksPerSecond),
          },
        });
        if (record.already)
          note(io, `already recorded in custody record ${record.sequence} of case ${flags.case} (same digest)`);
      }
      if (flags.json)
        printJson(io, record ? { ...facts, record: { sequence: record.sequence, hash: record.hash } } : facts);
      else {
        printLine(io, `${digest.imageSha256}  ${digest.snapshotId} (image of ${digest.volumeSizeGiB} GiB)`);
        printLine(
          io,
          `linear checksum ${digest.linearChecksum}, ${digest.writtenBlocks} written blocks of ${digest.blockSize} bytes`,
        );
        note(
          io,
          `${facts.blocksPerSecond} blocks/s over ${facts.seconds} s; ${digest.checksumRetries} refetched, ${digest.throttled} throttled, ${digest.faultsRetried} retried after faults`,
        );
        if (record && !record.already) note(io, `recorded as custody record ${record.sequence} of case ${flags.case}`);
      }
      return record ? { ...digest, record: { sequence: record.sequence, hash: record.hash } } : digest;
    },
    { factory: given },
  );
}

/** Default checkpoint interval with --resume and no --checkpoint-every: 4 GiB of image. */
const DEFAULT_CHECKPOINT_BYTES = 4 * 2 ** 30;

/**
 * Appends an event unless the case already has the same action for the same evidence with the same digest (a rerun
 * after a crash, or the same check made twice); returns the record either way.
 */
export async function recordOnce(
  ledger: CustodyLedger,
  event: CustodyEvent,
): Promise<{ sequence: number; hash: string; already: boolean }> {
  const item = event.evidence?.[0];
  const earlier = (await ledger.records()).find(
    (r) =>
      r.action === event.action &&
      r.outcome !== "failed" &&
      r.evidence?.some((e) => e.location === item?.location && e.sha256 === item?.sha256),
  );
  if (earlier) return { sequence: earlier.sequence, hash: earlier.hash, already: true };
  const record = await ledger.append(event);
  return { sequence: record.sequence, hash: record.hash, already: false };
}
