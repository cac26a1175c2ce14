/**
 * The parts both exhibits share (the custody export's report and the drill report): each record in detail (what it
 * changed, how it links to an undo, the evidence it vouches for), the evidence inventory, how an examiner re-verifies
 * offline, and a short glossary. A record is read defensively: a malformed one (a field of the wrong type, a field
 * missing) is shown as it is, never trusted to have the shape the format promises.
 */
import { esc, md, mdCode, text } from "./escape";

/** One piece of evidence, as shown. */
export interface EvidenceView {
  /** Record that vouches for it. */
  readonly sequence: number;
  /** Kind. */
  readonly kind: string;
  /** Location. */
  readonly location: string;
  /** SHA-256, when recorded. */
  readonly sha256?: string;
  /** Bytes, when recorded. */
  readonly bytes?: string;
  /** Other facts (S3 version, key ARN, LINEAR checksum...). */
  readonly details: [string, string][];
}

/** One record, as shown. */
export interface RecordView {
  /** Sequence. */
  readonly sequence: number;
  /** Time. */
  readonly time: string;
  /** Actor. */
  readonly actor: string;
  /** Action. */
  readonly action: string;
  /** `succeeded` or `failed` (or whatever the record says). */
  readonly outcome: string;
  /** Error line. */
  readonly error?: string;
  /** Subjects. */
  readonly subjects: string[];
  /** Record hash. */
  readonly hash: string;
  /** Previous record's hash. */
  readonly previousHash: string;
  /** Details, flattened: what was changed and the facts of the action. */
  readonly changes: [string, string][];
  /** How this record links to undos: reversible, undone by, undoes. */
  readonly undo?: string;
  /** Evidence. */
  readonly evidence: EvidenceView[];
  /** Whether verification vouched for it. */
  readonly verified: boolean;
}

type Obj = { [key: string]: unknown };

function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function entries(value: unknown): [string, string][] {
  if (!isObject(value)) return value === undefined ? [] : [["(value)", text(value)]];
  return Object.entries(value).map(([k, v]) => [k, text(v)]);
}

/** Undo links of every record of a case: what each undo reverses, and what reversed each action. */
function undoLinks(records: readonly Obj[], caseId: string): Map<number, string> {
  const links = new Map<number, string>();
  const undoneBy = new Map<number, number>();
  for (const r of records) {
    const target = isObject(r.details) ? r.details.undoes : undefined;
    if (r.action === "contain.undone" && typeof target === "number" && typeof r.sequence === "number") {
      undoneBy.set(target, r.sequence);
      const failed = r.outcome === "failed" ? " (failed: see its error)" : "";
      links.set(r.sequence, `undoes record ${target}${failed}`);
    }
  }
  for (const r of records) {
    if (typeof r.sequence !== "number" || links.has(r.sequence)) continue;
    if (r.undo === undefined || r.undo === null) continue;
    const by = undoneBy.get(r.sequence);
    links.set(
      r.sequence,
      by !== undefined
        ? `reversed by record ${by}`
        : `reversible, not reversed: flz contain undo --case ${caseId} --action ${r.sequence} (undo information: ${text(r.undo)})`,
    );
  }
  return links;
}

/**
 * Views of every record, in the order given.
 *
 * @param records the records as parsed (possibly malformed).
 * @param caseId the case.
 * @param verified how many records, from record 0, verification vouched for.
 */
export function recordViews(records: readonly unknown[], caseId: string, verified: number): RecordView[] {
  const objs = records.filter(isObject);
  const links = undoLinks(objs, caseId);
  return objs.map((r, i) => {
    const sequence = typeof r.sequence === "number" ? r.sequence : i;
    const evidence = Array.isArray(r.evidence) ? r.evidence.filter(isObject) : [];
    return {
      sequence,
      time: text(r.time),
      actor: text(r.actor),
      action: text(r.action),
      outcome: r.outcome === undefined ? "succeeded" : text(r.outcome),
      ...(r.error !== undefined ? { error: text(r.error) } : {}),
      subjects: Array.isArray(r.subjects) ? r.subjects.map(text) : [text(r.subjects)],
      hash: text(r.hash),
      previousHash: text(r.previousHash),
      changes: entries(r.details),
      ...(links.has(sequence) ? { undo: links.get(sequence) } : {}),
      evidence: evidence.map((e) => ({
        sequence,
        kind: text(e.kind),
        location: text(e.location),
        ...(e.sha256 !== undefined ? { sha256: text(e.sha256) } : {}),
        ...(e.bytes !== undefined ? { bytes: text(e.bytes) } : {}),
        details: entries(e.details),
      })),
      verified: sequence < verified,
    };
  });
}

/** Every piece of evidence of the records, in record order. */
export function evidenceInventory(views: readonly RecordView[]): EvidenceView[] {
  return views.flatMap((v) => v.evidence);
}

/** The glossary both exhibits print. */
export const GLOSSARY: ReadonlyArray<readonly [string, string]> = [
  ["Record", "One event of the case (a capture step, a containment, an upload), stored once as its own object."],
  [
    "Record hash",
    "SHA-256 of the record's canonical JSON (RFC 8785) without its hash and signature; any change to the record changes it.",
  ],
  ["Previous hash", "The record hash of the record before; the first record carries 64 zeros. This links the chain."],
  [
    "Head hash",
    "The record hash of the last record. Quoted elsewhere (a ticket, this report), it shows whether records were later cut off the end.",
  ],
  [
    "Signature",
    "ECDSA P-256 by the custody signing key in KMS over the case, sequence, hashes and key; the key never leaves KMS.",
  ],
  [
    "Object Lock (COMPLIANCE)",
    "S3 retention that nobody, the account's root user included, can shorten or remove until it ends.",
  ],
  [
    "Image digest",
    "SHA-256 of a snapshot's whole raw image (unwritten blocks as zeros): what sha256sum prints for a restored volume's image.",
  ],
  ["LINEAR checksum", "AWS's aggregate of a snapshot's block checksums, kept beside the image digest."],
  [
    "VERIFIED / BROKEN / UNVERIFIED",
    "Every record present, canonical, linked and signed / a record missing, altered, malformed or unsigned (named) / not checked against a trusted key.",
  ],
];

/** The steps by which an examiner re-verifies a case without trusting flz or this report. */
export function reverifySteps(caseId: string, keyArn: string): string[] {
  return [
    `Get the custody public key from KMS yourself: aws kms get-public-key --key-id ${keyArn} --query PublicKey --output text | base64 -d | openssl pkey -pubin -inform DER -out custody.pem`,
    `Verify offline: flz custody verify --case ${caseId} --from <export folder> --public-key custody.pem (names the first broken record and exits 1).`,
    "Or by hand, in any language: canonicalise each records/<seq>.json (RFC 8785), SHA-256 it without hash and signature, compare with hash and with the next record's previousHash, and verify the DER ECDSA signature over the statement {case, hash, keyArn, previousHash, purpose: flz custody record, sequence}.",
    "Compare the head hash printed by the verification with the head hash in this report.",
    "Re-hash every artefact (sha256sum, or flz hash --snapshot for snapshots) and compare with the SHA-256 in the evidence inventory.",
  ];
}

/** A definition list row. */
function dd(term: string, value: string, cls = ""): string {
  return `<dt>${esc(term)}</dt><dd${cls ? ` class="${cls}"` : ""}>${value}</dd>`;
}

/** One record in detail, as HTML. */
export function recordDetailHtml(v: RecordView): string {
  const rows = [
    dd("Time (UTC)", esc(v.time)),
    dd("Actor", esc(v.actor)),
    dd("Subjects", v.subjects.map(esc).join("<br>")),
    dd("Record hash", `<code class="hash">${esc(v.hash)}</code>`),
    dd("Previous hash", `<code class="hash">${esc(v.previousHash)}</code>`),
  ];
  if (v.error !== undefined) rows.push(dd("Error", esc(v.error)));
  if (v.changes.length > 0)
    rows.push(
      dd(
        "Changes and facts",
        `<ul class="facts">${v.changes.map(([k, val]) => `<li><span class="key">${esc(k)}</span>: ${esc(val)}</li>`).join("")}</ul>`,
      ),
    );
  if (v.undo !== undefined) rows.push(dd("Undo", esc(v.undo)));
  for (const e of v.evidence)
    rows.push(
      dd(
        `Evidence (${e.kind})`,
        `${esc(e.location)}<br>SHA-256 <code class="hash">${esc(e.sha256 ?? "not recorded")}</code>${e.bytes !== undefined ? `<br>${esc(e.bytes)} bytes` : ""}${e.details.length > 0 ? `<br><span class="small">${e.details.map(([k, val]) => `${esc(k)}=${esc(val)}`).join("; ")}</span>` : ""}`,
      ),
    );
  const status = v.verified ? "verified" : "NOT VERIFIED";
  return `<section class="record${v.verified ? "" : " bad"}" id="record-${v.sequence}" data-sequence="${v.sequence}"><h3>Record ${v.sequence}: <code>${esc(v.action)}</code>, ${esc(v.outcome)}, <span class="record-status">${status}</span></h3><dl>${rows.join("")}</dl></section>`;
}

/** One record in detail, as Markdown. */
export function recordDetailMarkdown(v: RecordView): string[] {
  const lines = [
    `### Record ${v.sequence}: ${md(v.action)}, ${md(v.outcome)}, ${v.verified ? "verified" : "NOT VERIFIED"}`,
    "",
    `- Time (UTC): ${md(v.time)}`,
    `- Actor: ${md(v.actor)}`,
    `- Subjects: ${v.subjects.map(md).join(", ")}`,
    `- Record hash: ${mdCode(v.hash)}`,
    `- Previous hash: ${mdCode(v.previousHash)}`,
  ];
  if (v.error !== undefined) lines.push(`- Error: ${md(v.error)}`);
  for (const [k, val] of v.changes) lines.push(`- ${md(k)}: ${md(val)}`);
  if (v.undo !== undefined) lines.push(`- Undo: ${md(v.undo)}`);
  for (const e of v.evidence)
    lines.push(
      `- Evidence (${md(e.kind)}): ${md(e.location)}, SHA-256 ${mdCode(e.sha256 ?? "not recorded")}${e.bytes !== undefined ? `, ${md(e.bytes)} bytes` : ""}`,
    );
  lines.push("");
  return lines;
}

/** The evidence inventory as an HTML table. */
export function inventoryHtml(items: readonly EvidenceView[]): string {
  if (items.length === 0) return `<p id="inventory">No record names evidence.</p>`;
  return `<table id="inventory" class="inventory"><colgroup><col class="c-seq"><col class="c-kind"><col><col class="c-bytes"></colgroup><thead><tr><th>Record</th><th>Kind</th><th>Location and SHA-256</th><th>Bytes</th></tr></thead><tbody>
${items.map((e) => `<tr><td>${e.sequence}</td><td>${esc(e.kind)}</td><td>${esc(e.location)}<br><code class="hash">${esc(e.sha256 ?? "not recorded")}</code></td><td>${esc(e.bytes ?? "—")}</td></tr>`).join("\n")}
</tbody></table>`;
}

/** The evidence inventory as Markdown. */
export function inventoryMarkdown(items: readonly EvidenceView[]): string[] {
  if (items.length === 0) return ["No record names evidence.", ""];
  return [
    "| Record | Kind | Location | SHA-256 | Bytes |",
    "| ---: | --- | --- | --- | ---: |",
    ...items.map(
      (e) =>
        `| ${e.sequence} | ${md(e.kind)} | ${md(e.location)} | ${mdCode(e.sha256 ?? "not recorded")} | ${md(e.bytes ?? "—")} |`,
    ),
    "",
  ];
}

/** How to re-verify, and the glossary, as HTML. */
export function examinerHtml(caseId: string, keyArn: string): string {
  return `<h2>How an examiner re-verifies, offline</h2>
<ol id="reverify">${reverifySteps(caseId, keyArn)
    .map((s) => `<li>${esc(s)}</li>`)
    .join("")}</ol>
<h2>Glossary</h2>
<dl id="glossary" class="glossary">${GLOSSARY.map(([t, d]) => `<dt>${esc(t)}</dt><dd>${esc(d)}</dd>`).join("")}</dl>`;
}

/** How to re-verify, and the glossary, as Markdown. */
export function examinerMarkdown(caseId: string, keyArn: string): string[] {
  return [
    "## How an examiner re-verifies, offline",
    "",
    ...reverifySteps(caseId, keyArn).map((s, i) => `${i + 1}. ${md(s)}`),
    "",
    "## Glossary",
    "",
    ...GLOSSARY.map(([t, d]) => `- **${md(t)}**: ${md(d)}`),
    "",
  ];
}

/**
 * The stylesheet of both exhibits: readable on screen, and on A4 paper every column fits (fixed table layout, long
 * values wrap anywhere, digests in a small monospace that fits a line).
 */
export const EXHIBIT_CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60rem; padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.5em; margin-bottom: .3em; }
h3 { font-size: 1em; margin: .2em 0; }
table { border-collapse: collapse; margin: .5em 0 1.5em; width: 100%; table-layout: fixed; }
th, td { border: 1px solid #ccc; padding: .3em .4em; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f3f3f3; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85em; overflow-wrap: anywhere; }
code.hash { font-size: 11px; white-space: nowrap; }
td code.hash { white-space: normal; overflow-wrap: anywhere; }
.verdict { padding: .8em 1em; border-radius: 4px; font-weight: 600; margin: 1em 0; overflow-wrap: anywhere; }
.verdict.pass { background: #e6f4ea; border: 1px solid #1e7e34; color: #145523; }
.verdict.fail { background: #fdecea; border: 1px solid #b3261e; color: #7a1a14; }
tr.bad td, section.record.bad { background: #fdecea; }
section.record { border: 1px solid #ccc; padding: .4em .6em; margin: .6em 0; break-inside: avoid; }
dl { display: grid; grid-template-columns: 9em 1fr; gap: .15em .8em; margin: .3em 0; }
dt { font-weight: 600; overflow-wrap: anywhere; min-width: 0; }
dd { margin: 0; overflow-wrap: anywhere; min-width: 0; }
ul.facts { margin: 0; padding-left: 1.1em; }
.small { font-size: .85em; color: #444; }
.key { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
col.c-seq { width: 4.5em; } col.c-kind { width: 8em; } col.c-bytes { width: 7.5em; }
col.c-step { width: 22%; } col.c-cmd { width: 30%; }
col.c-time { width: 12.5em; } col.c-status { width: 8em; } col.c-outcome { width: 7em; } col.c-num { width: 6em; }
tr.passed .status, p.passed, li.passed { color: #0a6b2d; font-weight: 600; }
tr.failed .status, p.failed, li.failed, tr.overdue td { color: #a10e0e; font-weight: 600; }
tr.skipped .status { color: #8a5a00; font-weight: 600; }
tr.not-in-scenario td { color: #666; }
span.verdict { display: inline-block; padding: .1em .5em; margin: 0; }
.metrics { display: flex; gap: 2rem; flex-wrap: wrap; }
.metric strong { display: block; font-size: 1.4rem; }
footer { color: #555; font-size: 12px; }
@page { size: A4; margin: 12mm 11mm; }
@media print {
  body { font-size: 8.5pt; margin: 0; max-width: none; padding: 0; }
  code.hash { font-size: 7pt; }
  th, td { padding: .2em .3em; }
  tr, section.record { break-inside: avoid; }
  dl { grid-template-columns: 7.5em 1fr; }
}
`;
