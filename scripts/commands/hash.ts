/**
 * `flz hash`: the SHA-256 an examiner re-checks, for files and block devices (one streaming read, with an optional
 * 512 KiB block manifest) and for EBS snapshots through the EBS direct APIs (no volume restored). Reads only; changes
 * nothing in AWS, so it has no ledger record of its own: the commands that produce evidence record these digests.
 */
import type { Command } from "commander";
import { EBSClient } from "@aws-sdk/client-ebs";
import { withResponderFactory } from "./case";
import { loadLandingZone } from "../contract";
import { OperationError, UsageError } from "../errors";
import { ManifestWriter } from "../hash/blocks";
import { hashFile, type FileDigest } from "../hash/file";
import { hashSnapshot, type SnapshotDigest } from "../hash/snapshot";
import { note, printJson, printLine, processIo, type Io } from "../output";

/** Options as commander hands them over. */
export interface HashFlags {
  /** Snapshot ID, instead of files. */
  snapshot?: string;
  /** Region of the snapshot. */
  region?: string;
  /** Account that owns the snapshot (default: the forensic account). */
  account?: string;
  /** Concurrent block requests, as a string from the command line. */
  concurrency?: string;
  /** Manifest output file. */
  manifest?: string;
  /** Landing-zone contract file (needed with --account). */
  landingZone?: string;
  /** Print JSON. */
  json?: boolean;
}

/** A validated `flz hash` request. */
export type HashRequest =
  | { readonly kind: "files"; readonly files: string[]; readonly manifest?: string }
  | {
      readonly kind: "snapshot";
      readonly snapshotId: string;
      readonly region: string;
      readonly account?: string;
      readonly concurrency: number;
      readonly manifest?: string;
    };

const EXAMPLES = `
Files: prints "<sha256>  <path>" lines, the format \`sha256sum -c\` checks. With --manifest, also writes the SHA-256 of
every 512 KiB block (JSON Lines) from the same single read. Works on block devices (e.g. /dev/nvme1n1) and on files far
larger than memory.

Snapshots: reads the blocks through the EBS direct APIs (ebs:ListSnapshotBlocks, ebs:GetSnapshotBlock), verifies every
block's checksum, and prints the image digest: the sha256sum of a raw image of a volume restored from the snapshot
(unwritten blocks count as zeros), plus AWS's LINEAR checksum aggregate. Hashing a sparse volume still costs one
SHA-256 pass over its full size.

Examples:
  $ flz hash memory.lime disk.raw
  $ flz hash /dev/nvme1n1 --manifest nvme1n1.manifest.jsonl --json
  $ flz hash --snapshot snap-0123456789abcdef0 --region eu-west-1
  $ flz hash --snapshot snap-0123456789abcdef0 --region eu-west-1 --account 333333333333 --concurrency 128 \\
      --manifest snap.manifest.jsonl --json`;

/** Validates the flags and files into a request; throws {@link UsageError} naming the bad value. */
export function parseHashRequest(files: string[], flags: HashFlags): HashRequest {
  if (flags.snapshot === undefined) {
    if (files.length === 0)
      throw new UsageError("nothing to hash: give one or more files, or --snapshot <snap-id> --region <region>");
    for (const flag of ["region", "account", "concurrency"] as const) {
      if (flags[flag] !== undefined) throw new UsageError(`--${flag} applies to --snapshot only, not to files`);
    }
    return { kind: "files", files, manifest: flags.manifest };
  }
  if (files.length > 0)
    throw new UsageError(`give either files or --snapshot, not both (got ${files.join(", ")} and ${flags.snapshot})`);
  if (!/^snap-[0-9a-f]{8,17}$/.test(flags.snapshot))
    throw new UsageError(`--snapshot ${flags.snapshot} is not a snapshot ID such as snap-0123456789abcdef0`);
  if (!flags.region) throw new UsageError("--snapshot needs --region <region>, e.g. --region eu-west-1");
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(flags.region))
    throw new UsageError(`--region ${flags.region} is not an AWS region such as eu-west-1`);
  if (flags.account !== undefined && !/^\d{12}$/.test(flags.account))
    throw new UsageError(`--account ${flags.account} is not a 12-digit AWS account ID`);
  const concurrency = flags.concurrency === undefined ? 64 : Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
    throw new UsageError(`--concurrency ${flags.concurrency} is not a whole number from 1 to 1024`);
  }
  return {
    kind: "snapshot",
    snapshotId: flags.snapshot,
    region: flags.region,
    account: flags.account,
    concurrency,
    manifest: flags.manifest,
  };
}

/**
 * A line in the format `sha256sum` prints and `sha256sum -c` checks. A name with a backslash, a newline or a carriage
 * return is escaped the way GNU coreutils does (`\\`, `\n`, `\r`, and a leading backslash on the line), so a
 * file name can never forge a second line for `sha256sum -c`.
 */
export function sha256sumLine(sha256: string, name: string): string {
  if (!/[\\\n\r]/.test(name)) return `${sha256}  ${name}`;
  const escaped = name.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r");
  return `\\${sha256}  ${escaped}`;
}

/** Every 10 s, a progress line on stderr (hashing a large device or snapshot takes minutes to hours). */
export function progressNotes(
  io: Io,
  describe: (done: number, seconds: number) => string,
  everyMs = 10000,
): (done: number) => void {
  const started = Date.now();
  let last = started;
  return (done) => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    note(io, describe(done, (now - started) / 1000));
  };
}

/** Adds `flz hash` to the program. */
export function register(program: Command): void {
  program
    .command("hash")
    .description(
      "SHA-256 of files, block devices or EBS snapshots (image digest, without restoring), with an optional 512 KiB block manifest.",
    )
    .argument("[files...]", "files or block devices to hash")
    .option("--snapshot <snap-id>", "hash an EBS snapshot through the EBS direct APIs instead of files")
    .option("--region <region>", "region of the snapshot")
    .option(
      "--account <id>",
      "12-digit account that owns the snapshot (assumes the member responder role; needs the landing zone); default: the forensic account",
    )
    .option("--concurrency <n>", "concurrent block requests for a snapshot (default 64)")
    .option("--manifest <out>", "also write per-block SHA-256s to this file (JSON Lines)")
    .option("--landing-zone <file>", "outputs contract JSON; default $FLZ_LANDING_ZONE (required with --account)")
    .option("--json", "print one JSON document on stdout")
    .addHelpText("after", EXAMPLES)
    .action(async (files: string[], flags: HashFlags) => {
      await runHash(files, flags, processIo());
    });
}

/** Runs the command; exported for tests that pass their own streams. */
export async function runHash(files: string[], flags: HashFlags, io: Io): Promise<FileDigest[] | SnapshotDigest> {
  const request = parseHashRequest(files, flags);
  const manifest = request.manifest ? new ManifestWriter(request.manifest) : undefined;
  try {
    if (request.kind === "files") return await hashFiles(request.files, manifest, io, flags.json === true);
    return await hashOneSnapshot(request, flags, manifest, io);
  } finally {
    manifest?.close();
  }
}

async function hashFiles(
  files: string[],
  manifest: ManifestWriter | undefined,
  io: Io,
  json: boolean,
): Promise<FileDigest[]> {
  const results: FileDigest[] = [];
  for (const file of files) {
    manifest?.source({ type: "file", source: file, blockSize: 512 * 1024 });
    let digest: FileDigest;
    try {
      const progress = progressNotes(
        io,
        (bytes, seconds) =>
          `${file}: ${(bytes / 2 ** 30).toFixed(1)} GiB hashed, ${(bytes / seconds / 1e6).toFixed(0)} MB/s`,
      );
      digest = await hashFile(file, {
        manifest: manifest !== undefined,
        onBlock: (b) => manifest?.block(b),
        onProgress: progress,
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "EISDIR" || code === "EACCES")
        throw new UsageError(`cannot read ${file}: ${code}`);
      throw new OperationError(`reading ${file} failed: ${(err as Error).message}`);
    }
    manifest?.summary({ source: file, bytes: digest.bytes, sha256: digest.sha256 });
    results.push(digest);
    if (!json) printLine(io, sha256sumLine(digest.sha256, file));
  }
  if (json) {
    printJson(
      io,
      results.map((r) =>
        manifest
          ? {
              path: r.path,
              bytes: r.bytes,
              sha256: r.sha256,
              blocks: r.blocks,
              blockSize: r.blockSize,
              manifest: manifest.path,
            }
          : r,
      ),
    );
  } else if (manifest) {
    note(io, `manifest: ${manifest.path} (${results.reduce((n, r) => n + (r.blocks ?? 0), 0)} blocks of 512 KiB)`);
  }
  return results;
}

async function hashOneSnapshot(
  request: Extract<HashRequest, { kind: "snapshot" }>,
  flags: HashFlags,
  manifest: ManifestWriter | undefined,
  io: Io,
): Promise<SnapshotDigest> {
  const lz =
    request.account !== undefined || flags.landingZone || process.env.FLZ_LANDING_ZONE
      ? loadLandingZone(flags.landingZone)
      : undefined;
  return withResponderFactory(lz, undefined, async (factory) => {
    const ebs = factory.client(EBSClient, { account: request.account, region: request.region });
    const digest = await hashSnapshot({
      ebs,
      snapshotId: request.snapshotId,
      concurrency: request.concurrency,
      onStart: ({ blockSize }) => manifest?.source({ type: "snapshot", source: request.snapshotId, blockSize }),
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
    const facts = {
      snapshotId: digest.snapshotId,
      account: request.account ?? lz?.forensicAccountId ?? null,
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
      ...(manifest ? { manifest: manifest.path } : {}),
    };
    if (flags.json) printJson(io, facts);
    else {
      printLine(io, `${digest.imageSha256}  ${digest.snapshotId} (image of ${digest.volumeSizeGiB} GiB)`);
      printLine(
        io,
        `linear checksum ${digest.linearChecksum}, ${digest.writtenBlocks} written blocks of ${digest.blockSize} bytes`,
      );
      note(
        io,
        `${facts.blocksPerSecond} blocks/s over ${facts.seconds} s; ${digest.checksumRetries} refetched, ${digest.throttled} throttled`,
      );
    }
    return digest;
  });
}
