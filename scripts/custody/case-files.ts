/**
 * A case's custody material outside the bucket: the exported folder that `flz custody export` writes and that
 * `flz custody verify --from` checks offline. Layout:
 *
 *   <dir>/records/<seq>.json   every record, byte for byte as stored
 *   <dir>/public-key.pem       the custody signing key's public key, as kept with the case
 *   <dir>/case.json            what was exported, from where, and the verified head hash
 *   <dir>/report.html, report.md
 */
import { createHash, createPublicKey } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { UsageError } from "../errors";
import type { StoredRecord } from "./chain";
import { recordFileName, sequenceOfFileName } from "./record";

/** The `case.json` of an export. */
export interface ExportManifest {
  /** Case ID. */
  readonly case: string;
  /** Where the records came from (`s3://bucket/cases/<case>/custody/`). */
  readonly source: string;
  /** Custody signing key ARN (from the landing zone). */
  readonly keyArn: string;
  /** SHA-256 fingerprint of the public key (hex of the SPKI DER), to compare with KMS GetPublicKey. */
  readonly publicKeySha256: string;
  /** Number of records exported. */
  readonly records: number;
  /** Hash of the last record at export: pin it elsewhere, it shows any later cut-off of the chain's end. */
  readonly headHash: string | null;
  /** When the export was made (UTC). */
  readonly exportedAt: string;
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

/** Writes the records and the public key of an export (the report is written by the caller). */
export function writeCaseFolder(
  dir: string,
  entries: StoredRecord[],
  publicKeyPem: string,
  manifest: ExportManifest,
): void {
  mkdirSync(path.join(dir, "records"), { recursive: true });
  for (const entry of entries) writeFileSync(path.join(dir, "records", recordFileName(entry.sequence)), entry.bytes);
  writeFileSync(path.join(dir, "public-key.pem"), publicKeyPem);
  writeFileSync(path.join(dir, "case.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** What an exported folder holds. */
export interface CaseFolder {
  /** The records as stored in the folder. */
  readonly entries: StoredRecord[];
  /** The folder's public key, if present. */
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
  return { entries: entries.sort((a, b) => a.sequence - b.sequence), publicKeyPem, manifest };
}
