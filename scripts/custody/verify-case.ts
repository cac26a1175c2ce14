/**
 * Gathering a case's verification, online (the evidence bucket, every version and delete marker, the key from KMS)
 * or offline (an exported folder, with the key the examiner supplies), into one result that `verify`, `export` and
 * the report render from. The trust anchor is only ever a public key from KMS or from the examiner: without one, the
 * verdict is UNVERIFIED, whatever public-key.pem lies beside the records.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { describeError } from "../errors";
import { auditFolder, auditInventory, combine, type AuditExpectations, type CaseAudit } from "./audit";
import type { CaseFolder, ExportedJournal } from "./case-files";
import { publicKeyFingerprint } from "./case-files";
import type { ChainVerification, StoredRecord } from "./chain";
import { checkEvidence } from "./evidence-check";
import type { CaseInventory } from "./inventory";
import type { EvidenceBucketLedger } from "./ledger";
import { custodyPrefix } from "./record";
import type { EvidenceCheck } from "./report";
import { custodyVerdict, type CustodyFinding, type VerdictStatus } from "./verdict";
import { pinnedHeadFindings, witnessFindings, type WitnessEvent } from "./witness";

/** Where the trusted public key came from. */
export type KeySource = "kms" | "examiner" | "none";

/** Everything a verification gathered. */
export interface GatheredCase {
  /** Where the records were read. */
  readonly source: string;
  /** Custody signing key ARN (from the landing zone or the export's manifest). */
  readonly keyArn: string;
  /** The trusted public key, when there is one. */
  readonly publicKeyPem?: string;
  /** Where it came from. */
  readonly keySource: KeySource;
  /** The records verified as a chain (journal-held ones included). */
  readonly entries: StoredRecord[];
  /** Journals holding records not yet written, as stored (for an export). */
  readonly pendingJournals: ExportedJournal[];
  /** The verification result (chain, audit, witness). */
  readonly verification: ChainVerification;
  /** Evidence checks (online only). */
  readonly evidence: EvidenceCheck[];
  /** The inventory (online only). */
  readonly inventory?: CaseInventory;
}

/** What the examiner adds to a verification. */
export interface VerifyInputs {
  /** Case ID. */
  readonly caseId: string;
  /** A public key the examiner supplies (PEM); it replaces KMS as the trust anchor. */
  readonly publicKeyPem?: string;
  /** CloudTrail events of the evidence bucket (head witness). */
  readonly witness?: readonly WitnessEvent[];
  /** Head hashes pinned earlier (from a previous verify or export). */
  readonly pinnedHeads?: readonly string[];
}

/** The result `flz custody verify --json` prints. */
export interface CustodyVerdict {
  /** Case ID. */
  readonly case: string;
  /** Where the records were read. */
  readonly source: string;
  /** Pass or fail: true only for VERIFIED. */
  readonly ok: boolean;
  /** VERIFIED, BROKEN, INCOMPLETE or UNVERIFIED. */
  readonly status: VerdictStatus;
  /** One-line verdict. */
  readonly verdict: string;
  /** Records that verified. */
  readonly verified: number;
  /** Records found. */
  readonly total: number;
  /** Hash of the last verified record. */
  readonly headHash: string | null;
  /** First problem, when any. */
  readonly problem: { sequence: number; location: string; reason: string } | null;
  /** Fingerprint of the trusted public key, or null when there was none. */
  readonly publicKeySha256: string | null;
  /** Where the trusted key came from. */
  readonly publicKeySource: KeySource;
  /** Everything found (object, version, reason). */
  readonly findings: CustodyFinding[];
  /** Evidence checks (online only). */
  readonly evidence: EvidenceCheck[];
}

/** Extra findings from the witness and pinned heads. */
function witnessed(
  inputs: VerifyInputs,
  first: ChainVerification,
  bucket: string | undefined,
  inventory?: CaseInventory,
): CustodyFinding[] {
  const out: CustodyFinding[] = [];
  if (inputs.witness) {
    const versionsByKey = inventory
      ? inventory.entries.reduce((m, e) => {
          if (!e.deleteMarker) m.set(e.key, new Set([...(m.get(e.key) ?? []), e.versionId]));
          return m;
        }, new Map<string, Set<string>>())
      : undefined;
    out.push(...witnessFindings(inputs.witness, { caseId: inputs.caseId, bucket, verification: first, versionsByKey }));
  }
  if (inputs.pinnedHeads?.length) out.push(...pinnedHeadFindings(inputs.pinnedHeads, first));
  return out;
}

/** The verification of an audit, with the witness's findings when the examiner gave one (checked against the chain). */
function withWitness(
  audit: CaseAudit,
  expect: AuditExpectations,
  keyFindings: CustodyFinding[],
  inputs: VerifyInputs,
  bucket: string | undefined,
  inventory?: CaseInventory,
): ChainVerification {
  const first = combine(audit, expect, keyFindings);
  if (!inputs.witness && !inputs.pinnedHeads?.length) return first;
  return combine(audit, expect, [...keyFindings, ...witnessed(inputs, first, bucket, inventory)]);
}

/**
 * Verifies a case in the evidence bucket: every version and delete marker under its prefix, with the public key from
 * KMS (or the examiner's). When KMS cannot be read and the examiner supplied no key, the signatures are not checked
 * and the verdict is UNVERIFIED (the case's stored public-key.pem is never used in its place).
 * @param ledger the case's ledger
 * @param s3 client for the evidence checks
 * @param keyArn custody signing key ARN
 * @param inputs key, witness, pinned heads
 */
export async function gatherOnline(
  ledger: EvidenceBucketLedger,
  s3: S3Client,
  keyArn: string,
  inputs: VerifyInputs,
): Promise<GatheredCase> {
  const [inventory, key] = await Promise.all([
    ledger.inventory("case"),
    inputs.publicKeyPem
      ? Promise.resolve({ pem: inputs.publicKeyPem, source: "examiner" as const })
      : ledger.kmsPublicKey().then(
          (pem) => ({ pem, source: "kms" as const }),
          (err: unknown) => ({ error: describeError(err) }),
        ),
  ]);
  const publicKeyPem = "pem" in key ? key.pem : undefined;
  const expect = { caseId: inputs.caseId, publicKeyPem };
  const audit = auditInventory(inventory, expect);
  const kmsFinding: CustodyFinding[] =
    "error" in key
      ? [
          {
            severity: "unverified",
            reason: `could not obtain the custody public key from KMS (${key.error}): pass --public-key <pem> obtained from KMS yourself; the case's public-key.pem is never trusted on its own`,
          },
        ]
      : [];
  const verification = withWitness(audit, expect, kmsFinding, inputs, ledger.bucket, inventory);
  const evidence = await checkEvidence(s3, verification.records);
  return {
    source: `s3://${ledger.bucket}/${custodyPrefix(inputs.caseId)}`,
    keyArn,
    publicKeyPem,
    keySource: "pem" in key ? key.source : "none",
    entries: audit.entries,
    pendingJournals: pendingJournalsOf(audit.entries, inventory),
    verification,
    evidence,
    inventory,
  };
}

/** The journals (as stored) that hold records not yet written. */
function pendingJournalsOf(entries: readonly StoredRecord[], inventory: CaseInventory): ExportedJournal[] {
  const keys = new Set(entries.filter((e) => e.heldInJournal).map((e) => e.heldInJournal as string));
  return inventory.entries
    .filter((e) => keys.has(e.key) && !e.deleteMarker && e.bytes && e.sequence !== undefined)
    .filter((e, i, all) => all.findIndex((o) => o.key === e.key) === i)
    .map((e) => ({ first: e.sequence as number, location: e.key, bytes: e.bytes as Uint8Array }));
}

/**
 * Verifies an exported folder, fully offline, with the key the examiner supplies; without one, UNVERIFIED (the
 * folder's own public-key.pem proves only that the folder agrees with itself).
 * @param folder the folder as read
 * @param source the folder's path
 * @param inputs key, witness, pinned heads
 */
export function gatherOffline(folder: CaseFolder, source: string, inputs: VerifyInputs): GatheredCase {
  const publicKeyPem = inputs.publicKeyPem;
  const expect = { caseId: inputs.caseId, publicKeyPem };
  const audit = auditFolder(
    folder.entries,
    folder.journals.map((j) => ({ key: j.location, first: j.first, bytes: j.bytes })),
    expect,
  );
  const keyFinding: CustodyFinding[] = publicKeyPem
    ? []
    : [
        {
          severity: "unverified",
          reason: `no --public-key given: pass the key you obtained from KMS yourself (aws kms get-public-key); the folder's own public-key.pem${folder.publicKeyPem ? ` (SHA-256 ${safeFingerprint(folder.publicKeyPem)})` : ""} is never trusted on its own`,
        },
      ];
  const bucket = /^s3:\/\/([^/]+)\//.exec(folder.manifest?.source ?? "")?.[1];
  const plain = combine(audit, expect, keyFinding);
  const manifest = manifestFindings(folder, plain);
  const verification = withWitness(audit, expect, [...keyFinding, ...manifest], inputs, bucket);
  return {
    source,
    keyArn: folder.manifest?.keyArn ?? "unknown",
    publicKeyPem,
    keySource: publicKeyPem ? "examiner" : "none",
    entries: audit.entries,
    pendingJournals: folder.journals,
    verification,
    evidence: [],
  };
}

/**
 * The export's own case.json against the folder: a mismatch means records were removed from (or added to) the folder
 * after the export. A match proves nothing on its own (whoever cuts the records can edit case.json too): the
 * witnesses are what an examiner relies on.
 */
function manifestFindings(folder: CaseFolder, chain: ChainVerification): CustodyFinding[] {
  const m = folder.manifest;
  if (!m || typeof m.records !== "number") return [];
  const held = folder.entries.length;
  // The head hash is comparable only when the export verified the whole chain (otherwise it names the verified part).
  const head = chain.headHash ?? null;
  const headDiffers = m.status === "VERIFIED" && (m.headHash ?? null) !== head;
  if (m.records === held && !headDiffers) return [];
  return [
    {
      severity: "broken",
      key: "case.json",
      reason: `the export's case.json lists ${m.records} records${m.status === "VERIFIED" ? ` with head ${m.headHash ?? "none"}` : ""}, but the folder holds ${held}${headDiffers ? ` with head ${head ?? "none"}` : ""}: records were removed from or added to the folder after the export`,
    },
  ];
}

function safeFingerprint(pem: string): string {
  try {
    return publicKeyFingerprint(pem);
  } catch {
    return "unreadable";
  }
}

/** The printed verdict of a gathered verification. */
export function verdictOf(caseId: string, g: GatheredCase): CustodyVerdict {
  const v = g.verification;
  const { status, line } = custodyVerdict(v, g.evidence);
  return {
    case: caseId,
    source: g.source,
    ok: status === "VERIFIED",
    status,
    verdict: line,
    verified: v.verified,
    total: v.total,
    headHash: v.headHash ?? null,
    problem: v.problem ?? null,
    publicKeySha256: g.publicKeyPem ? safeFingerprint(g.publicKeyPem) : null,
    publicKeySource: g.keySource,
    findings: v.findings ?? [],
    evidence: g.evidence,
  };
}
