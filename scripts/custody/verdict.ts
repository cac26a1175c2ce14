/**
 * The verdict of a custody verification, as `flz custody verify` prints it and the report renders it: one status and
 * one line, decided only from the verification result (chain, version audit, witness) and the evidence checks.
 *
 * - VERIFIED: every record present, byte-exact, linked, hashed and signed (checked with a public key from KMS or
 *   supplied by the examiner), and nothing else under the case prefix is out of place.
 * - BROKEN: something is wrong and it is named: a damaged, malformed, forged or missing record, a delete marker, a
 *   second version of a record, a foreign object, a version without COMPLIANCE retention, a witness disagreeing.
 * - INCOMPLETE: nothing is wrong, but records claimed by a writer that stopped are still held only in its journal
 *   (signed by their author); the next append or `flz custody complete` writes them.
 * - UNVERIFIED: nothing structural is wrong, but no trusted public key was available, so no signature was checked.
 * Only VERIFIED exits 0.
 */

/** The four verdicts; see the module comment. */
export type VerdictStatus = "VERIFIED" | "BROKEN" | "INCOMPLETE" | "UNVERIFIED";

/** One thing a verification found, named by where it is. */
export interface CustodyFinding {
  /** `broken` makes the verdict BROKEN; `pending` INCOMPLETE; `unverified` UNVERIFIED; `note` changes nothing. */
  readonly severity: "broken" | "pending" | "unverified" | "note";
  /** The sequence number concerned, when the finding is about a record. */
  readonly sequence?: number;
  /** Object key (or file path) concerned. */
  readonly key?: string;
  /** S3 version ID concerned (a delete marker's own version ID for a delete marker). */
  readonly versionId?: string;
  /** What was found, in one sentence. */
  readonly reason: string;
}

/** The evidence check fields the verdict looks at (see `EvidenceCheck` in report.ts). */
export interface CheckedEvidence {
  /** Sequence of the record that vouches for the evidence. */
  readonly sequence: number;
  /** Evidence location. */
  readonly location: string;
  /** `verified`, `mismatch`, `missing` or `not-checked`. */
  readonly status: string;
  /** How it was checked, or why not. */
  readonly detail: string;
}

/** The parts of a verification result the verdict is decided from (a `ChainVerification`). */
export interface VerdictInput {
  /** Pass or fail (older results carry only this). */
  readonly ok: boolean;
  /** Records verified. */
  readonly verified: number;
  /** Records found. */
  readonly total: number;
  /** Head hash. */
  readonly headHash?: string;
  /** First problem. */
  readonly problem?: { readonly sequence: number; readonly location: string; readonly reason: string };
  /** Status, when the result carries one. */
  readonly status?: VerdictStatus;
  /** Findings, when the result carries them. */
  readonly findings?: readonly CustodyFinding[];
}

/** The verdict: status and the one line to print. */
export interface CustodyVerdictLine {
  /** The status. */
  readonly status: VerdictStatus;
  /** One line: the status, then why (the first finding that decides it, named by key and version). */
  readonly line: string;
}

function where(f: CustodyFinding): string {
  if (!f.key) return "";
  return f.versionId ? ` (${f.key}, version ${f.versionId})` : ` (${f.key})`;
}

/** Counts the findings of a severity, for "and N more" in the verdict line. */
function more(findings: readonly CustodyFinding[], severity: CustodyFinding["severity"]): string {
  const n = findings.filter((f) => f.severity === severity).length - 1;
  return n > 0 ? `; and ${n} more finding${n > 1 ? "s" : ""}` : "";
}

/**
 * Decides the verdict of a verification result and the evidence checks made online.
 * @param v the verification result
 * @param evidenceChecks S3 evidence checks (mismatch or missing evidence makes the verdict BROKEN)
 */
export function custodyVerdict(v: VerdictInput, evidenceChecks: readonly CheckedEvidence[] = []): CustodyVerdictLine {
  const findings = v.findings ?? [];
  const broken = findings.find((f) => f.severity === "broken");
  if (broken) return { status: "BROKEN", line: `BROKEN: ${broken.reason}${where(broken)}${more(findings, "broken")}` };
  if (!v.ok && v.problem && v.status === undefined)
    return { status: "BROKEN", line: `BROKEN: ${v.problem.reason} (${v.problem.location})` };
  if (v.total === 0 && !findings.some((f) => f.severity === "pending"))
    return { status: "BROKEN", line: "BROKEN: the case has no custody records" };
  const badEvidence = evidenceChecks.find((c) => c.status === "mismatch" || c.status === "missing");
  if (badEvidence)
    return {
      status: "BROKEN",
      line: `BROKEN: evidence of record ${badEvidence.sequence} at ${badEvidence.location}: ${badEvidence.detail}`,
    };
  const unverified = findings.find((f) => f.severity === "unverified");
  if (v.status === "UNVERIFIED" || unverified)
    return {
      status: "UNVERIFIED",
      line: `UNVERIFIED: ${unverified?.reason ?? "signatures were not checked with a trusted custody public key"}; ${v.total} records structurally intact (head ${v.headHash ?? "none"})`,
    };
  const pending = findings.find((f) => f.severity === "pending");
  if (v.status === "INCOMPLETE" || pending)
    return {
      status: "INCOMPLETE",
      line: `INCOMPLETE: ${pending?.reason ?? "records are claimed but not yet written"}${more(findings, "pending")}`,
    };
  if (!v.ok) return { status: "BROKEN", line: `BROKEN: ${v.problem?.reason ?? "the chain did not verify"}` };
  return {
    status: "VERIFIED",
    line: `VERIFIED: ${v.verified} records, chain intact, every signature valid (head ${v.headHash})`,
  };
}
