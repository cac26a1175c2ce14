/**
 * The custody report for lawyers and examiners (HTML and Markdown, same content), an exhibit that prints on A4 with
 * every column: case summary, the verification verdict, the timeline, every record in detail (what it changed, its
 * undo links, its evidence with hashes and locations), the evidence inventory, the evidence checks, records that could
 * not be read, how an examiner re-verifies offline, and a glossary. Pure functions over the records and the
 * verification result. The verdict is rendered from the verification result alone, and every value from a record is
 * escaped (records carry text from the incident), under a Content-Security-Policy that lets nothing but the page's
 * own stylesheet apply.
 */
import { contentSecurityPolicy, esc, md } from "../report/escape";
import {
  EXHIBIT_CSS,
  evidenceInventory,
  examinerHtml,
  examinerMarkdown,
  inventoryHtml,
  inventoryMarkdown,
  recordDetailHtml,
  recordDetailMarkdown,
  recordViews,
  type RecordView,
} from "../report/records";
import type { ChainVerification } from "./chain";
import type { CustodyRecord } from "./types";
import { custodyVerdict } from "./verdict";

/** One evidence check made by an online `verify` (S3 objects): what it found. */
export interface EvidenceCheck {
  /** Sequence of the record that vouches for the evidence. */
  readonly sequence: number;
  /** Evidence location. */
  readonly location: string;
  /** `verified`, `mismatch`, `missing` or `not-checked`. */
  readonly status: "verified" | "mismatch" | "missing" | "not-checked";
  /** How it was checked, or why not. */
  readonly detail: string;
}

/** What a report is made of. */
export interface CaseReportInput {
  /** Case ID. */
  readonly caseId: string;
  /** Where the records were read from. */
  readonly source: string;
  /** Custody signing key ARN. */
  readonly keyArn: string;
  /** SHA-256 fingerprint of the public key used to verify. */
  readonly publicKeySha256: string;
  /** When the report was generated (ISO 8601 UTC). */
  readonly generatedAt: string;
  /** Outcome of the chain verification. */
  readonly verification: ChainVerification;
  /** Every record that could be read, verified or not (those after a break are marked unverified). */
  readonly records: CustodyRecord[];
  /** Evidence checks, when the report was made online. */
  readonly evidenceChecks?: EvidenceCheck[];
  /** Stored records that could not be read at all (not JSON, a byte-order mark, not an object), named. */
  readonly unreadable?: UnreadableRecord[];
}

/** A stored record that could not be read, and why. */
export interface UnreadableRecord {
  /** Sequence from its object key or file name. */
  readonly sequence: number;
  /** Where it was read. */
  readonly location: string;
  /** Why it could not be read. */
  readonly reason: string;
}

/**
 * Every stored record that parses as a JSON object, as stored (malformed ones included, which the report shows as
 * they are), with the sequence its key gives it.
 */
export function parsedRecords(
  entries: readonly { sequence: number; location: string; bytes: Uint8Array }[],
): CustodyRecord[] {
  const out: CustodyRecord[] = [];
  for (const e of entries) {
    try {
      const value: unknown = JSON.parse(Buffer.from(e.bytes).toString("utf8"));
      if (typeof value === "object" && value !== null && !Array.isArray(value))
        out.push({ ...(value as CustodyRecord), sequence: e.sequence });
    } catch {
      // named by unreadableRecords
    }
  }
  return out;
}

/** Names every stored record that is not a readable JSON object (a BOM, bad JSON, not UTF-8, not an object). */
export function unreadableRecords(
  entries: readonly { sequence: number; location: string; bytes: Uint8Array }[],
): UnreadableRecord[] {
  const out: UnreadableRecord[] = [];
  for (const e of entries) {
    let reason: string | undefined;
    try {
      const textOf = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(e.bytes);
      if (textOf.startsWith("\uFEFF")) reason = "starts with a UTF-8 byte-order mark (not canonical JSON)";
      else {
        const value: unknown = JSON.parse(textOf);
        if (typeof value !== "object" || value === null || Array.isArray(value)) reason = "is not a JSON object";
      }
    } catch (err) {
      reason = err instanceof SyntaxError ? "is not valid JSON" : "is not valid UTF-8";
    }
    if (reason) out.push({ sequence: e.sequence, location: e.location, reason });
  }
  return out;
}

/**
 * The one-line verdict a report and `verify` print: decided by `custodyVerdict` (verdict.ts) from the verification
 * result alone (VERIFIED, BROKEN, INCOMPLETE or UNVERIFIED, with the first finding that decides it).
 */
export function verdictLine(v: ChainVerification, evidenceChecks: EvidenceCheck[] = []): string {
  return custodyVerdict(v, evidenceChecks).line;
}

/** Whether the verdict is a pass (VERIFIED only). */
export function verdictOk(v: ChainVerification, evidenceChecks: EvidenceCheck[] = []): boolean {
  return custodyVerdict(v, evidenceChecks).status === "VERIFIED";
}

function summaryRows(input: CaseReportInput): [string, string][] {
  const times = input.records.map((r) => String(r.time)).sort();
  const actors = [...new Set(input.records.map((r) => String(r.actor)))];
  return [
    ["Case", input.caseId],
    ["Records", `${input.verification.total} stored, ${input.verification.verified} verified`],
    ["First event", times[0] ?? "—"],
    ["Last event", times[times.length - 1] ?? "—"],
    ["Actors", actors.join("; ") || "—"],
    ["Source", input.source],
    ["Custody signing key", input.keyArn],
    ["Public key SHA-256 (SPKI DER)", input.publicKeySha256],
    ["Head hash", input.verification.headHash ?? "—"],
    ["Report generated", input.generatedAt],
  ];
}

function views(input: CaseReportInput): RecordView[] {
  return recordViews(input.records, input.caseId, input.verification.verified);
}

/** The report as Markdown. */
export function renderMarkdown(input: CaseReportInput): string {
  const v = input.verification;
  const all = views(input);
  const lines: string[] = [];
  lines.push(`# Chain of custody report: case ${md(input.caseId)}`, "");
  lines.push(`**Verification:** ${md(verdictLine(v, input.evidenceChecks))}`, "");
  lines.push("## Case summary", "", "| | |", "| --- | --- |");
  for (const [k, val] of summaryRows(input)) lines.push(`| ${md(k)} | ${md(val)} |`);
  lines.push(
    "",
    "## Timeline",
    "",
    "| # | Time (UTC) | Action | Outcome | Status |",
    "| ---: | --- | --- | --- | --- |",
  );
  for (const r of all)
    lines.push(
      `| ${r.sequence} | ${md(r.time)} | ${md(r.action)} | ${md(r.outcome)} | ${r.verified ? "verified" : "NOT VERIFIED"} |`,
    );
  lines.push("", "## Records in detail", "");
  for (const r of all) lines.push(...recordDetailMarkdown(r));
  lines.push("## Evidence inventory", "", ...inventoryMarkdown(evidenceInventory(all)));
  if (input.evidenceChecks && input.evidenceChecks.length > 0) {
    lines.push("## Evidence checks", "", "| Record | Location | Result | How |", "| ---: | --- | --- | --- |");
    for (const c of input.evidenceChecks)
      lines.push(`| ${c.sequence} | ${md(c.location)} | ${md(c.status)} | ${md(c.detail)} |`);
    lines.push("");
  }
  if (input.unreadable && input.unreadable.length > 0) {
    lines.push("## Records that could not be read", "");
    for (const u of input.unreadable) lines.push(`- Record ${u.sequence} (${md(u.location)}) ${md(u.reason)}`);
    lines.push("");
  }
  lines.push(...examinerMarkdown(input.caseId, input.keyArn));
  lines.push(`Generated by flz at ${md(input.generatedAt)}.`, "");
  return lines.join("\n");
}

/** The report as a self-contained HTML page (no scripts, no external resources, no style but its own). */
export function renderHtml(input: CaseReportInput): string {
  const v = input.verification;
  // The verdict and its colour come from the verification result and nothing else.
  const verdict = verdictLine(v, input.evidenceChecks);
  const ok = verdictOk(v, input.evidenceChecks);
  const all = views(input);
  const summary = summaryRows(input)
    .map(([k, val]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(val)}</td></tr>`)
    .join("\n");
  const timeline = all
    .map(
      (r) =>
        `<tr class="${r.verified ? "ok" : "bad"}" data-sequence="${r.sequence}"><td><a href="#record-${r.sequence}">${r.sequence}</a></td><td>${esc(r.time)}</td><td><code>${esc(r.action)}</code></td><td>${esc(r.outcome)}</td><td>${r.verified ? "verified" : "NOT VERIFIED"}</td></tr>`,
    )
    .join("\n");
  const checks =
    input.evidenceChecks && input.evidenceChecks.length > 0
      ? `<h2>Evidence checks</h2><table id="evidence-checks"><colgroup><col class="c-seq"><col><col class="c-status"><col></colgroup><thead><tr><th>Record</th><th>Location</th><th>Result</th><th>How</th></tr></thead><tbody>
${input.evidenceChecks.map((c) => `<tr class="${c.status === "verified" ? "ok" : c.status === "not-checked" ? "" : "bad"}"><td>${esc(c.sequence)}</td><td>${esc(c.location)}</td><td>${esc(c.status)}</td><td>${esc(c.detail)}</td></tr>`).join("\n")}
</tbody></table>`
      : "";
  const unreadable =
    input.unreadable && input.unreadable.length > 0
      ? `<h2>Records that could not be read</h2><ul id="unreadable">${input.unreadable.map((u) => `<li>Record ${esc(u.sequence)} (${esc(u.location)}) ${esc(u.reason)}</li>`).join("")}</ul>`
      : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(EXHIBIT_CSS)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chain of custody: ${esc(input.caseId)}</title>
<style>${EXHIBIT_CSS}</style>
</head>
<body>
<h1>Chain of custody report: case <span id="case-id">${esc(input.caseId)}</span></h1>
<div id="verdict" class="verdict ${ok ? "pass" : "fail"}">${esc(verdict)}</div>
<h2>Case summary</h2>
<table class="summary"><colgroup><col class="c-time"><col></colgroup><tbody>
${summary}
</tbody></table>
<h2>Timeline</h2>
<table id="timeline"><colgroup><col class="c-seq"><col class="c-time"><col><col class="c-outcome"><col class="c-status"></colgroup><thead><tr><th>#</th><th>Time (UTC)</th><th>Action</th><th>Outcome</th><th>Status</th></tr></thead><tbody>
${timeline}
</tbody></table>
<h2>Records in detail</h2>
<div id="records">
${all.map(recordDetailHtml).join("\n")}
</div>
<h2>Evidence inventory</h2>
${inventoryHtml(evidenceInventory(all))}
${checks}
${unreadable}
${examinerHtml(input.caseId, input.keyArn)}
<footer>Generated by flz at ${esc(input.generatedAt)}.</footer>
</body>
</html>
`;
}
