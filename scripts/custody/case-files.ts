/**
 * A case's custody material outside the bucket: the exported folder that `flz custody export` writes and that
 * `flz custody verify --from` checks offline. Layout:
 *
 *   <dir>/records/<seq>.json   every record, byte for byte as stored (the first version of each record key)
 *   <dir>/journals/<first>.json  batch journals that hold records claimed but not yet written (usually none)
 *   <dir>/public-key.pem       the custody signing key's public key as KMS gave it at export (absent if KMS could
 *                              not be read); a convenience, never a trust anchor: verify --from needs --public-key
 *   <dir>/case.json            what was exported, from where, the verdict, its findings, and the head hash
 *   <dir>/report.html, report.md
 */
import { createHash, createPublicKey } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { UsageError } from "../errors";
import { firstOfJournalName } from "./batch";
import type { StoredRecord } from "./chain";
import { recordFileName, sequenceOfFileName } from "./record";
import type { CustodyFinding, VerdictStatus } from "./verdict";
import { parseWitnessText, type WitnessEvent } from "./witness";

/** The `case.json` of an export. */
export interface ExportManifest {
  /** Case ID. */
  readonly case: string;
  /** Where the records came from (`s3://bucket/cases/<case>/custody/`). */
  readonly source: string;
  /** Custody signing key ARN (from the landing zone). */
  readonly keyArn: string;
  /** SHA-256 fingerprint of the public key verified with (hex of the SPKI DER), or null when none was trusted. */
  readonly publicKeySha256: string | null;
  /** Number of records exported. */
  readonly records: number;
  /** Hash of the last record at export: pin it elsewhere, it shows any later cut-off of the chain's end. */
  readonly headHash: string | null;
  /** When the export was made (UTC). */
  readonly exportedAt: string;
  /** The verdict at export (absent in exports of older versions). */
  readonly status?: VerdictStatus;
  /** What the verification found at export, every object version and delete marker audited (absent in older exports). */
  readonly findings?: CustodyFinding[];
}

/** A batch journal of an export: its first sequence and bytes as stored. */
export interface ExportedJournal {
  /** First sequence it claims. */
  readonly first: number;
  /** Where it was read from (key or path). */
  readonly location: string;
  /** Its bytes. */
  readonly bytes: Uint8Array;
}

/** SHA-256 (hex) of a PEM public key's SPKI DER: the fingerprint an examiner compares with KMS's key. */
export function publicKeyFingerprint(pem: string): string {
  const der = createPublicKey(pem).export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("hex");
}

/** Reads a PEM public key file, or fails with a usage error naming it. */
export function readPublicKeyFile(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read public key ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    createPublicKey(pem);
  } catch {
    throw new UsageError(
      `${file} is not a PEM public key (expected "-----BEGIN PUBLIC KEY-----", as KMS GetPublicKey gives in DER)`,
    );
  }
  return pem;
}

/**
 * Writes the records, journals of records not yet written, and the public key of an export (the report is written by
 * the caller). Records held only in a journal are not written under records/: the journal is, as it is in the bucket.
 */
export function writeCaseFolder(
  dir: string,
  entries: StoredRecord[],
  publicKeyPem: string | undefined,
  manifest: ExportManifest,
  journals: readonly ExportedJournal[] = [],
): void {
  mkdirSync(path.join(dir, "records"), { recursive: true });
  for (const entry of entries) {
    if (entry.heldInJournal) continue;
    writeFileSync(path.join(dir, "records", recordFileName(entry.sequence)), entry.bytes);
  }
  if (journals.length > 0) {
    mkdirSync(path.join(dir, "journals"), { recursive: true });
    for (const j of journals) writeFileSync(path.join(dir, "journals", recordFileName(j.first)), j.bytes);
  }
  if (publicKeyPem) writeFileSync(path.join(dir, "public-key.pem"), publicKeyPem);
  writeFileSync(path.join(dir, "case.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** What an exported folder holds. */
export interface CaseFolder {
  /** The records as stored in the folder. */
  readonly entries: StoredRecord[];
  /** The folder's journals (records claimed but not yet written at export), if any. */
  readonly journals: ExportedJournal[];
  /** The folder's public key, if present: never trusted on its own. */
  readonly publicKeyPem?: string;
  /** The folder's `case.json`, if present and readable. */
  readonly manifest?: ExportManifest;
}

/** Reads an exported folder; any file in records/ that is not `<digits>.json` is refused (nothing is silently ignored). */
export function readCaseFolder(dir: string): CaseFolder {
  const recordsDir = path.join(dir, "records");
  let names: string[];
  try {
    names = readdirSync(recordsDir);
  } catch (err) {
    throw new UsageError(
      `${dir} is not an exported case folder: cannot list ${recordsDir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  const entries: StoredRecord[] = names.map((name) => {
    const sequence = sequenceOfFileName(name);
    if (sequence === undefined)
      throw new UsageError(`${path.join(recordsDir, name)} is not a record file (expected <sequence>.json)`);
    return { location: path.join(recordsDir, name), sequence, bytes: readFileSync(path.join(recordsDir, name)) };
  });
  const pemFile = path.join(dir, "public-key.pem");
  let publicKeyPem: string | undefined;
  try {
    publicKeyPem = readFileSync(pemFile, "utf8");
  } catch {
    publicKeyPem = undefined;
  }
  let manifest: ExportManifest | undefined;
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, "case.json"), "utf8")) as ExportManifest;
  } catch {
    manifest = undefined;
  }
  return {
    entries: entries.sort((a, b) => a.sequence - b.sequence),
    journals: readJournalFolder(path.join(dir, "journals")),
    publicKeyPem,
    manifest,
  };
}

function readJournalFolder(dir: string): ExportedJournal[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.map((name) => {
    const first = firstOfJournalName(name);
    if (first === undefined)
      throw new UsageError(`${path.join(dir, name)} is not a journal file (expected <first sequence>.json)`);
    return { first, location: path.join(dir, name), bytes: readFileSync(path.join(dir, name)) };
  });
}

/**
 * Reads CloudTrail events an examiner supplies as a head witness: files (`.json`, or `.json.gz` as CloudTrail stores
 * its log files) or folders of them (searched recursively). See witness.ts for the formats.
 * @param paths files or folders
 */
export function readWitnessFiles(paths: readonly string[]): WitnessEvent[] {
  const events: WitnessEvent[] = [];
  const visit = (file: string, named: boolean): void => {
    let info;
    try {
      info = statSync(file);
    } catch (err) {
      throw new UsageError(`cannot read witness ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    if (info.isDirectory()) {
      for (const name of readdirSync(file).sort()) visit(path.join(file, name), false);
      return;
    }
    // In a folder, only CloudTrail-like files (a trail prefix also holds digest folders and other files).
    if (!named && !/\.json(l|\.gz)?$/i.test(file)) return;
    const raw = readFileSync(file);
    const text = file.toLowerCase().endsWith(".gz") ? gunzipSync(raw).toString("utf8") : raw.toString("utf8");
    try {
      events.push(...parseWitnessText(text, file));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  };
  for (const p of paths) visit(p, true);
  return events;
}
