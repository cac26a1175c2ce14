/**
 * The audit of a case's inventory (pure): every version and delete marker under the case's prefix is accounted for,
 * or named. What it reports as BROKEN, each with its key and version:
 * - a delete marker anywhere under the case (a rollback of the chain, or evidence hidden);
 * - a second version of a record, a journal or the public key (a fork, or an overwrite by a plain PutObject);
 * - an object under the custody prefixes that flz does not write (junk, a planted object), or a record that is not a
 *   record of this case signed by the custody key (malformed, forged, from another case);
 * - a journal that is not a journal of records signed by the custody key (planted), or that disagrees with the record
 *   stored in its range;
 * - a version without COMPLIANCE retention (custody objects: at least {@link MIN_CUSTODY_RETENTION_DAYS} days);
 * - a public-key.pem that is not the trusted custody key.
 * Records claimed in a sound journal but not yet written are merged into the chain from the journal (they are signed
 * by their author) and make the verdict INCOMPLETE, with how they complete.
 */
import { publicKeyFingerprint } from "./case-files";
import { journalProblem, type BatchJournal } from "./batch";
import {
  describeLocation,
  parsedRecordProblem,
  parseRecordBytes,
  verifyChain,
  type ChainVerification,
  type StoredRecord,
} from "./chain";
import type { CaseInventory, InventoryEntry } from "./inventory";
import { recordKey, serialiseRecord } from "./record";
import { MIN_CUSTODY_RETENTION_DAYS, retentionProblem } from "./retention";
import type { CustodyFinding, VerdictStatus } from "./verdict";

/** What the audit checks against. */
export interface AuditExpectations {
  /** Case ID. */
  readonly caseId: string;
  /** Trusted custody public key (from KMS or the examiner), or undefined (signatures unchecked: UNVERIFIED). */
  readonly publicKeyPem: string | undefined;
  /** Least COMPLIANCE retention of a custody object, days from its write. Default {@link MIN_CUSTODY_RETENTION_DAYS}. */
  readonly minCustodyRetentionDays?: number;
}

/** What the audit found: the chain to verify (records and journal-held records) and the findings. */
export interface CaseAudit {
  /** The records to verify as a chain: the first version of each record key, and records held only in journals. */
  readonly entries: StoredRecord[];
  /** Findings about objects, versions and retention. */
  readonly findings: CustodyFinding[];
}

function groupByKey(entries: readonly InventoryEntry[]): Map<string, InventoryEntry[]> {
  const byKey = new Map<string, InventoryEntry[]>();
  for (const e of entries) byKey.set(e.key, [...(byKey.get(e.key) ?? []), e]);
  return byKey;
}

function parseJson(bytes: Uint8Array | undefined): unknown {
  try {
    return bytes ? (JSON.parse(Buffer.from(bytes).toString("utf8")) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

/** Audits an inventory; see the module comment. */
export function auditInventory(inventory: CaseInventory, expect: AuditExpectations): CaseAudit {
  const findings: CustodyFinding[] = [];
  const minDays = expect.minCustodyRetentionDays ?? MIN_CUSTODY_RETENTION_DAYS;
  const byKey = groupByKey(inventory.entries);
  const records = new Map<number, StoredRecord>();
  const journals: JournalCopy[] = [];

  for (const [key, versions] of byKey) {
    const real = versions.filter((v) => !v.deleteMarker);
    const role = versions[0].role;
    const sequence = versions[0].sequence;
    const what =
      role === "record"
        ? `record ${sequence}`
        : role === "journal"
          ? `batch journal ${sequence}`
          : role === "public-key"
            ? "the case's public-key.pem"
            : role === "foreign"
              ? "an object flz never writes"
              : "evidence object";
    for (const marker of versions.filter((v) => v.deleteMarker)) {
      findings.push({
        severity: "broken",
        sequence: role === "record" ? sequence : undefined,
        key,
        versionId: marker.versionId,
        reason: `${what} is hidden by a delete marker placed ${marker.lastModified?.toISOString() ?? "at an unknown time"} (a DeleteObject without a version ID${role === "record" ? ": a rollback of the chain" : ""}); the versions under it are still read`,
      });
    }
    if (real.length > 1 && role !== "case-object") {
      findings.push({
        severity: "broken",
        sequence: role === "record" ? sequence : undefined,
        key,
        versionId: real[1].versionId,
        reason: `${what} has ${real.length} versions (${real.map((v) => v.versionId).join(", ")}): a second write over its key (a fork or an overwrite by a plain PutObject); the first version is the one audited`,
      });
    } else if (real.length > 1) {
      findings.push({
        severity: "note",
        key,
        versionId: real[1].versionId,
        reason: `${what} has ${real.length} versions: its record names the version it vouches for`,
      });
    }
    for (const version of real) {
      if (version.readError) {
        findings.push({
          severity: "broken",
          sequence: role === "record" ? sequence : undefined,
          key,
          versionId: version.versionId,
          reason: `${what} could not be read: ${version.readError}`,
        });
        continue;
      }
      const problem = retentionProblem(version.lock ?? {}, version.lastModified, role === "case-object" ? 0 : minDays);
      if (problem)
        findings.push({
          severity: "broken",
          sequence: role === "record" ? sequence : undefined,
          key,
          versionId: version.versionId,
          reason: `${what} ${problem}`,
        });
    }
    const first = real[0];
    if (!first) continue;
    if (role === "foreign")
      findings.push({
        severity: "broken",
        key,
        versionId: first.versionId,
        reason: `${key} is not a record, journal or public key: flz never writes it, so a writer of the bucket other than flz put it there`,
      });
    else if (role === "record" && sequence !== undefined)
      records.set(sequence, {
        location: key,
        sequence,
        bytes: first.bytes ?? new Uint8Array(),
        versionId: first.versionId,
      });
    else if (role === "journal" && sequence !== undefined && (first.bytes || first.readError))
      // A journal listed but not read (a reader that needs only the journals of unwritten records) is not judged.
      journals.push({ key, first: sequence, versionId: first.versionId, bytes: first.bytes });
    else if (role === "public-key" && expect.publicKeyPem !== undefined && first.bytes) {
      let same = false;
      try {
        same =
          publicKeyFingerprint(Buffer.from(first.bytes).toString("utf8")) === publicKeyFingerprint(expect.publicKeyPem);
      } catch {
        same = false;
      }
      if (!same)
        findings.push({
          severity: "broken",
          key,
          versionId: first.versionId,
          reason:
            "the case's public-key.pem is not the custody key's public key (KMS's, or the one the examiner supplied): it was replaced, and is never trusted",
        });
    }
  }

  const held = journalHeldRecords(journals, records, expect, findings);
  return { entries: [...records.values(), ...held], findings };
}

/** A journal as stored: where, which first sequence it claims, its bytes. */
export interface JournalCopy {
  /** Key or path. */
  readonly key: string;
  /** First sequence it claims. */
  readonly first: number;
  /** Version read, when read from the bucket. */
  readonly versionId?: string;
  /** Its bytes. */
  readonly bytes?: Uint8Array;
}

/**
 * The audit of an exported folder, offline: its records, and the records its journals hold that are not among them.
 * @param records the folder's records
 * @param journals the folder's journals
 * @param expect case and trusted key
 */
export function auditFolder(
  records: readonly StoredRecord[],
  journals: readonly JournalCopy[],
  expect: AuditExpectations,
): CaseAudit {
  const findings: CustodyFinding[] = [];
  const bySequence = new Map(records.map((r) => [r.sequence, r]));
  const held = journalHeldRecords(journals, bySequence, expect, findings);
  return { entries: [...records, ...held], findings };
}

/** Checks every journal; returns the records it holds that are not stored yet, adding findings for the unsound. */
function journalHeldRecords(
  journals: readonly JournalCopy[],
  records: ReadonlyMap<number, StoredRecord>,
  expect: AuditExpectations,
  findings: CustodyFinding[],
): StoredRecord[] {
  const held: StoredRecord[] = [];
  for (const { key, first, versionId, bytes } of journals) {
    const value = parseJson(bytes);
    const problem = value === undefined ? "is not valid JSON" : journalProblem(value, { ...expect, first });
    // Without a trusted key nothing can be said about signatures: the verdict is UNVERIFIED anyway.
    if (problem && !(expect.publicKeyPem === undefined && problem.startsWith("cannot be checked"))) {
      findings.push({
        severity: "broken",
        sequence: first,
        key,
        versionId,
        reason: `batch journal ${key} ${problem}: it is not a claim made by flz, so nothing of it is copied or signed`,
      });
      continue;
    }
    for (const record of (value as BatchJournal).records) {
      const stored = records.get(record.sequence);
      if (!stored) {
        held.push({
          location: recordKey(expect.caseId, record.sequence),
          sequence: record.sequence,
          // The author's exact bytes: canonical JSON is a function of the record.
          bytes: Buffer.from(serialiseRecord(record), "utf8"),
          heldInJournal: key,
        });
        continue;
      }
      const parsed = parseRecordBytes(stored.bytes);
      if ("value" in parsed && parsed.value.hash !== record.hash)
        findings.push({
          severity: "broken",
          sequence: record.sequence,
          key: stored.location,
          versionId: stored.versionId,
          reason: `record ${record.sequence} is not the record its batch journal ${key} claimed (hash ${String(parsed.value.hash).slice(0, 12)}… ≠ ${record.hash.slice(0, 12)}…)`,
        });
    }
  }
  return held;
}

/**
 * Records that the chain check did not reach (after its first problem) are still each checked on their own, so every
 * malformed, forged or foreign record is named, not only the first.
 */
function standaloneFindings(
  entries: StoredRecord[],
  from: number,
  expect: AuditExpectations,
  skip: number | undefined,
): CustodyFinding[] {
  const out: CustodyFinding[] = [];
  for (const entry of entries) {
    if (entry.sequence < from || entry.sequence === skip) continue;
    const parsed = parseRecordBytes(entry.bytes);
    const reason =
      "reason" in parsed
        ? parsed.reason
        : parsedRecordProblem(parsed.value, entry.sequence, undefined, {
            caseId: expect.caseId,
            publicKeyPem: expect.publicKeyPem,
          });
    if (reason)
      out.push({
        severity: "broken",
        sequence: entry.sequence,
        key: entry.location,
        versionId: entry.versionId,
        reason: `record ${entry.sequence} ${reason}`,
      });
  }
  return out;
}

/** Findings first by sequence (those without one after), then by key. */
function byPlace(a: CustodyFinding, b: CustodyFinding): number {
  const sa = a.sequence ?? Number.MAX_SAFE_INTEGER;
  const sb = b.sequence ?? Number.MAX_SAFE_INTEGER;
  if (sa !== sb) return sa - sb;
  return (a.key ?? "").localeCompare(b.key ?? "");
}

/** The verdict status of a set of findings and a chain of `total` records. */
export function statusOf(findings: readonly CustodyFinding[], total: number): VerdictStatus {
  if (findings.some((f) => f.severity === "broken") || total === 0) return "BROKEN";
  if (findings.some((f) => f.severity === "unverified")) return "UNVERIFIED";
  if (findings.some((f) => f.severity === "pending")) return "INCOMPLETE";
  return "VERIFIED";
}

/**
 * Verifies a case from its inventory: the audit's findings and the chain of its records (journal-held records
 * included), in one result that the verdict and the report are rendered from.
 * @param inventory what was listed and read under the case's prefix
 * @param expect case, trusted public key, retention floor
 * @param extra findings from elsewhere (a CloudTrail witness, a pinned head hash)
 */
export function verifyInventory(
  inventory: CaseInventory,
  expect: AuditExpectations,
  extra: readonly CustodyFinding[] = [],
): ChainVerification {
  const audit = auditInventory(inventory, expect);
  return combine(audit, expect, extra);
}

/** Verifies the chain of an audit and merges every finding into one result. */
export function combine(
  audit: CaseAudit,
  expect: AuditExpectations,
  extra: readonly CustodyFinding[] = [],
): ChainVerification {
  const chain = verifyChain(audit.entries, { caseId: expect.caseId, publicKeyPem: expect.publicKeyPem });
  const problemAt = chain.problem?.sequence;
  const standalone = problemAt === undefined ? [] : standaloneFindings(audit.entries, problemAt, expect, problemAt);
  // A specific reason the key is missing (KMS unreachable, no --public-key) replaces the chain's generic one.
  const specific = extra.some((f) => f.severity === "unverified");
  const chainFindings = (chain.findings ?? []).filter((f) => !(specific && f.severity === "unverified"));
  const findings = [...chainFindings, ...audit.findings, ...standalone, ...extra].sort(byPlace);
  const status = statusOf(findings, chain.total);
  const firstBroken = findings.find((f) => f.severity === "broken");
  const problem =
    chain.problem ??
    (firstBroken
      ? {
          sequence: firstBroken.sequence ?? -1,
          location: describeLocation({ location: firstBroken.key ?? "", versionId: firstBroken.versionId }),
          reason: firstBroken.reason,
        }
      : undefined);
  return { ...chain, ok: status === "VERIFIED", status, findings, problem };
}
