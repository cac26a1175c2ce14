/**
 * `flz hash`: the SHA-256 an examiner re-checks, for files and block devices (one streaming read, with an optional
 * 512 KiB block manifest) and for EBS snapshots through the EBS direct APIs (no volume restored). Reads only; changes
 * nothing in AWS. With `--case`, each digest is recorded in the case's custody ledger (issue 14), once per artefact
 * and digest. A long snapshot hash can write checkpoints into its manifest and resume from the last one (issue 19
 * item 5).
 */
import type { Command } from "commander";
import type { ClientFactory } from "../aws/clients";
import { hostname } from "node:os";
import * as path from "node:path";
import { withCaseLedger } from "./case";
import { hashOneSnapshot, recordOnce } from "./hash-snapshot";
import { loadLandingZone, type LandingZone } from "../contract";
import { isValidCaseId } from "../custody/record";
import { OperationError, UsageError } from "../errors";
import { ManifestWriter, type HashCheckpoint } from "../hash/blocks";
import { hashFile, type FileDigest } from "../hash/file";
import type { SnapshotDigest } from "../hash/snapshot";
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
  /** Record the digests in this case's ledger. */
  case?: string;
  /** Write a checkpoint into the manifest every this many MiB of image (snapshots). */
  checkpointEvery?: string;
  /** Resume a snapshot hash from the manifest's last checkpoint. */
  resume?: boolean;
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
      readonly checkpointBytes?: number;
      readonly resume: boolean;
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
      --manifest snap.manifest.jsonl --json
  $ flz hash --snapshot snap-0123456789abcdef0 --region eu-west-1 --case IR-2026-042
  $ flz hash --snapshot snap-0123456789abcdef0 --region eu-west-1 --manifest snap.jsonl --checkpoint-every 4096
  $ flz hash --snapshot snap-0123456789abcdef0 --region eu-west-1 --manifest snap.jsonl --resume

With --case, each digest is appended to the case's custody ledger (evidence.file.hashed, evidence.snapshot.hashed), once
per artefact and digest: hashing the same thing again with the same result records nothing new. Block reads that time
out, are reset or come back truncated are retried per block; throttling is counted where it happens.`;

/** Validates the flags and files into a request; throws {@link UsageError} naming the bad value. */
export function parseHashRequest(files: string[], flags: HashFlags): HashRequest {
  if (flags.snapshot === undefined) {
    if (files.length === 0)
      throw new UsageError("nothing to hash: give one or more files, or --snapshot <snap-id> --region <region>");
    for (const flag of ["region", "account", "concurrency", "checkpointEvery", "resume"] as const) {
      if (flags[flag] !== undefined)
        throw new UsageError(
          `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to --snapshot only, not to files`,
        );
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
  let checkpointBytes: number | undefined;
  if (flags.checkpointEvery !== undefined) {
    const mib = Number(flags.checkpointEvery);
    if (!Number.isInteger(mib) || mib < 1 || mib > 1024 * 1024)
      throw new UsageError(
        `--checkpoint-every ${flags.checkpointEvery} is not a whole number of MiB from 1 to 1048576`,
      );
    checkpointBytes = mib * 1024 * 1024;
  }
  if ((checkpointBytes !== undefined || flags.resume) && !flags.manifest)
    throw new UsageError(
      "--checkpoint-every and --resume need --manifest <file>: checkpoints are kept in the manifest",
    );
  return {
    kind: "snapshot",
    snapshotId: flags.snapshot,
    region: flags.region,
    account: flags.account,
    concurrency,
    manifest: flags.manifest,
    checkpointBytes,
    resume: flags.resume === true,
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
    .option(
      "--checkpoint-every <MiB>",
      "snapshots: write a resumable checkpoint into the manifest every this many MiB of image (hashes in WebAssembly, slower)",
    )
    .option("--resume", "snapshots: continue from the manifest's last checkpoint instead of starting over")
    .option("--case <id>", "record each digest in this case's custody ledger (needs the landing zone)")
    .option(
      "--landing-zone <file>",
      "outputs contract JSON; default $FLZ_LANDING_ZONE (required with --account and --case)",
    )
    .option("--json", "print one JSON document on stdout")
    .addHelpText("after", EXAMPLES)
    .action(async (files: string[], flags: HashFlags) => {
      await runHash(files, flags, processIo());
    });
}

/**
 * Runs the command; exported for tests that pass their own streams, and for the response automation's hash function,
 * which passes its own `factory` (its narrower session) for a snapshot's reading and its record.
 */
export async function runHash(
  files: string[],
  flags: HashFlags,
  io: Io,
  factory?: ClientFactory,
): Promise<FileDigest[] | SnapshotDigest> {
  const request = parseHashRequest(files, flags);
  if (flags.case !== undefined && !isValidCaseId(flags.case))
    throw new UsageError(
      `--case ${JSON.stringify(flags.case)} is not a case ID: letters, digits and . _ + = @ -, up to 128`,
    );
  const lz =
    request.kind === "snapshot" && (request.account !== undefined || flags.landingZone || process.env.FLZ_LANDING_ZONE)
      ? loadLandingZone(flags.landingZone)
      : flags.case !== undefined
        ? loadLandingZone(flags.landingZone)
        : undefined;
  let resumed: HashCheckpoint | undefined;
  let manifest: ManifestWriter | undefined;
  if (request.kind === "snapshot" && request.resume && request.manifest) {
    const opened = ManifestWriter.resume(request.manifest, request.snapshotId);
    manifest = opened.writer;
    resumed = opened.checkpoint;
    note(
      io,
      `resuming ${request.snapshotId} after block ${resumed.lastIndex} (${resumed.writtenBlocks} written blocks already hashed)`,
    );
  } else if (request.manifest) manifest = new ManifestWriter(request.manifest);
  try {
    if (request.kind === "files") {
      const digests = await hashFiles(request.files, manifest, io, flags.json === true);
      if (flags.case !== undefined && lz) await recordFileDigests(lz, flags.case, digests, manifest?.path, io);
      return digests;
    }
    return await hashOneSnapshot(request, flags, lz, manifest, resumed, io, factory);
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

/** Records each file's digest in the case's ledger. */
async function recordFileDigests(
  lz: LandingZone,
  caseId: string,
  digests: FileDigest[],
  manifest: string | undefined,
  io: Io,
): Promise<void> {
  await withCaseLedger(lz, caseId, async (ledger) => {
    for (const d of digests) {
      const where = path.resolve(d.path);
      const location = `file://${hostname()}${where}`;
      const record = await recordOnce(ledger, {
        action: "evidence.file.hashed",
        subjects: [location],
        evidence: [
          {
            kind: "file",
            location,
            sha256: d.sha256,
            bytes: d.bytes,
            details: { host: hostname(), path: where, ...(manifest ? { manifest: path.resolve(manifest) } : {}) },
          },
        ],
        details: { method: "flz hash: one streaming SHA-256 read" },
      });
      note(
        io,
        record.already
          ? `${d.path}: already recorded in custody record ${record.sequence} of case ${caseId} (same digest)`
          : `${d.path}: recorded as custody record ${record.sequence} of case ${caseId}`,
      );
    }
  });
}
