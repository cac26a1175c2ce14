/**
 * The custody report for lawyers and examiners (HTML and Markdown, same content): case summary, verification
 * verdict, timeline of every record, and every artefact with its hashes and locations. Pure functions over the
 * records and the verification result; every value from a record is escaped, because records carry text that came
 * from the incident (tags, names) and the report is opened in a browser.
 */
import type { ChainVerification } from "./chain";
import type { CustodyRecord, EvidenceItem, JsonValue } from "./types";
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
}

/** The one-line verdict a report and `verify` print: decided by `custodyVerdict` (verdict.ts) from the result alone. */
export function verdictLine(v: ChainVerification, evidenceChecks: EvidenceCheck[] = []): string {
  return custodyVerdict(v, evidenceChecks).line;
}

/** Whether the verdict is a pass (VERIFIED only). */
export function verdictOk(v: ChainVerification, evidenceChecks: EvidenceCheck[] = []): boolean {
  return custodyVerdict(v, evidenceChecks).status === "VERIFIED";
}

interface ArtefactRow {
  readonly sequence: number;
  readonly item: EvidenceItem;
}

function artefacts(records: CustodyRecord[]): ArtefactRow[] {
  return records.flatMap((r) => (r.evidence ?? []).map((item) => ({ sequence: r.sequence, item })));
}

function compact(value: { [key: string]: JsonValue } | undefined): string {
  if (!value || Object.keys(value).length === 0) return "";
  return Object.entries(value)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(", ");
}

function summaryRows(input: CaseReportInput): [string, string][] {
  const times = input.records.map((r) => r.time).sort();
  const actors = [...new Set(input.records.map((r) => r.actor))];
  return [
    ["Case", input.caseId],
    ["Records", String(input.records.length)],
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

const md = (text: string): string =>
  text
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/[\r\n]+/g, " ")
    .replace(/([*_`<>[\]])/g, "\\$1");

/** The report as Markdown. */
export function renderMarkdown(input: CaseReportInput): string {
  const v = input.verification;
  const lines: string[] = [];
  lines.push(`# Chain of custody report: case ${md(input.caseId)}`, "");
  lines.push(`**Verification:** ${md(verdictLine(v, input.evidenceChecks))}`, "");
  lines.push("## Case summary", "", "| | |", "|---|---|");
  for (const [k, val] of summaryRows(input)) lines.push(`| ${md(k)} | ${md(val)} |`);
  lines.push(
    "",
    "## Timeline",
    "",
    "| # | Time (UTC) | Actor | Action | Subjects | Outcome | Record hash | Status |",
    "|---|---|---|---|---|---|---|---|",
  );
  for (const r of input.records) {
    const status = r.sequence < v.verified ? "verified" : "NOT VERIFIED";
    lines.push(
      `| ${r.sequence} | ${md(r.time)} | ${md(r.actor)} | ${md(r.action)} | ${md(r.subjects.join(", "))} | ${md(r.outcome ?? "succeeded")}${r.error ? `: ${md(r.error)}` : ""} | \`${r.hash}\` | ${status} |`,
    );
  }
  lines.push("", "## Artefacts", "");
  const rows = artefacts(input.records);
  if (rows.length === 0) lines.push("No record names an artefact.");
  else {
    lines.push("| Record | Kind | Location | SHA-256 | Bytes | Details |", "|---|---|---|---|---|---|");
    for (const { sequence, item } of rows) {
      lines.push(
        `| ${sequence} | ${md(item.kind)} | ${md(item.location)} | \`${md(item.sha256 ?? "—")}\` | ${item.bytes ?? "—"} | ${md(compact(item.details))} |`,
      );
    }
  }
  if (input.evidenceChecks && input.evidenceChecks.length > 0) {
    lines.push("", "## Evidence checks", "", "| Record | Location | Result | How |", "|---|---|---|---|");
    for (const c of input.evidenceChecks)
      lines.push(`| ${c.sequence} | ${md(c.location)} | ${c.status} | ${md(c.detail)} |`);
  }
  lines.push("", "## How to re-check", "");
  lines.push("- Each file in `records/` is the record exactly as stored (RFC 8785 canonical JSON).");
  lines.push(
    "- `hash` = SHA-256 of the record's canonical JSON without `hash` and `signature`; `previousHash` links to the record before.",
  );
  lines.push(
    "- `signature.value` = ECDSA P-256 (SHA-256, DER, base64) by the custody key over the canonical statement",
  );
  lines.push(
    '  `{"case","hash","keyArn","previousHash","purpose":"flz custody record","sequence"}`; verify with `public-key.pem`,',
  );
  lines.push("  after comparing its fingerprint with `aws kms get-public-key` for the key above.");
  lines.push("- Offline: `flz custody verify --case <id> --from <this folder> --public-key <pem from KMS>`.", "");
  return lines.join("\n");
}

const esc = (text: string): string =>
  text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");

/** The report as a self-contained HTML page (no scripts, no external resources). */
export function renderHtml(input: CaseReportInput): string {
  const v = input.verification;
  const verdict = verdictLine(v, input.evidenceChecks);
  const ok = verdictOk(v, input.evidenceChecks);
  const rows = artefacts(input.records);
  const summary = summaryRows(input)
    .map(([k, val]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(val)}</td></tr>`)
    .join("\n");
  const timeline = input.records
    .map((r) => {
      const verified = r.sequence < v.verified;
      return `<tr class="${verified ? "ok" : "bad"}" data-sequence="${r.sequence}"><td>${r.sequence}</td><td>${esc(r.time)}</td><td class="wrap">${esc(r.actor)}</td><td>${esc(r.action)}</td><td class="wrap">${r.subjects.map(esc).join("<br>")}</td><td>${esc(r.outcome ?? "succeeded")}${r.error ? `: ${esc(r.error)}` : ""}</td><td><code>${esc(r.hash)}</code></td><td>${verified ? "verified" : "NOT VERIFIED"}</td></tr>`;
    })
    .join("\n");
  const artefactRows =
    rows.length === 0
      ? `<p>No record names an artefact.</p>`
      : `<table><thead><tr><th>Record</th><th>Kind</th><th>Location</th><th>SHA-256</th><th>Bytes</th><th>Details</th></tr></thead><tbody>
${rows
  .map(
    ({ sequence, item }) =>
      `<tr><td>${sequence}</td><td>${esc(item.kind)}</td><td class="wrap">${esc(item.location)}</td><td><code>${esc(item.sha256 ?? "—")}</code></td><td>${item.bytes ?? "—"}</td><td class="wrap">${esc(compact(item.details))}</td></tr>`,
  )
  .join("\n")}
</tbody></table>`;
  const checks =
    input.evidenceChecks && input.evidenceChecks.length > 0
      ? `<h2>Evidence checks</h2><table><thead><tr><th>Record</th><th>Location</th><th>Result</th><th>How</th></tr></thead><tbody>
${input.evidenceChecks.map((c) => `<tr class="${c.status === "verified" ? "ok" : c.status === "not-checked" ? "" : "bad"}"><td>${c.sequence}</td><td class="wrap">${esc(c.location)}</td><td>${c.status}</td><td>${esc(c.detail)}</td></tr>`).join("\n")}
</tbody></table>`
      : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Chain of custody: ${esc(input.caseId)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #1b1b1b; }
h1 { font-size: 1.5em; margin-bottom: .3em; }
.verdict { padding: .8em 1em; border-radius: 4px; font-weight: 600; margin: 1em 0; }
.verdict.pass { background: #e6f4ea; border: 1px solid #1e7e34; color: #145523; }
.verdict.fail { background: #fdecea; border: 1px solid #b3261e; color: #7a1a14; }
table { border-collapse: collapse; margin: .5em 0 1.5em; width: 100%; }
th, td { border: 1px solid #ccc; padding: .3em .5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.wrap { word-break: break-all; }
code { font-size: 11px; word-break: break-all; }
tr.bad td { background: #fdecea; }
.summary th { width: 16em; }
footer { color: #555; font-size: 12px; }
@media print { body { margin: 0; } }
</style>
</head>
<body>
<h1>Chain of custody report: case <span id="case-id">${esc(input.caseId)}</span></h1>
<div id="verdict" class="verdict ${ok ? "pass" : "fail"}">${esc(verdict)}</div>
<h2>Case summary</h2>
<table class="summary"><tbody>
${summary}
</tbody></table>
<h2>Timeline</h2>
<table id="timeline"><thead><tr><th>#</th><th>Time (UTC)</th><th>Actor</th><th>Action</th><th>Subjects</th><th>Outcome</th><th>Record hash</th><th>Status</th></tr></thead><tbody>
${timeline}
</tbody></table>
<h2>Artefacts</h2>
${artefactRows}
${checks}
<h2>How to re-check</h2>
<ul>
<li>Each file in <code>records/</code> is the record exactly as stored (RFC 8785 canonical JSON).</li>
<li><code>hash</code> is the SHA-256 of the record's canonical JSON without <code>hash</code> and <code>signature</code>; <code>previousHash</code> links to the record before (64 zeros for the first).</li>
<li><code>signature.value</code> is an ECDSA P-256 signature (SHA-256, DER, base64) by the custody key over the canonical statement <code>{"case","hash","keyArn","previousHash","purpose":"flz custody record","sequence"}</code>. Verify it with <code>public-key.pem</code> after comparing its fingerprint above with <code>aws kms get-public-key</code>.</li>
<li>Offline: <code>flz custody verify --case ${esc(input.caseId)} --from &lt;this folder&gt; --public-key &lt;pem from KMS&gt;</code>.</li>
</ul>
<footer>Generated by flz ${esc(input.generatedAt)}.</footer>
</body>
</html>
`;
}
