/**
 * The gap register as one self-contained HTML page: no script, no external resource, every value escaped (resource
 * names and error messages come from the assessed organisation), and a print style for A4 so the register can be
 * handed over on paper.
 */
import { checkDefinition } from "./catalog";
import type { AssessmentReport } from "./register";
import { breaksText, placeOf } from "./render-markdown";

/** Escapes text for HTML content and attribute values. */
export function esc(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

function table(id: string, head: string[], rows: string[]): string {
  return `<table id="${id}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#111}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.25rem .4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f3f3f3}code{font-size:.9em;word-break:break-all}
td.sev{overflow-wrap:normal;white-space:nowrap}
.score{font-size:2rem;font-weight:700}.partial{color:#a00;font-weight:700}
.critical{background:#fdd}.high{background:#fed}.medium{background:#ffd}.low{background:#eef}
td.works{color:#060}td.fails{color:#a00;font-weight:600}
.improved{color:#060}.regressed{color:#a00;font-weight:600}
@page{size:A4;margin:12mm}
@media print{body{margin:0;font-size:9pt}table{page-break-inside:auto}tr{page-break-inside:avoid}h2{page-break-after:avoid}}
`;

/** The register as HTML. */
export function renderHtml(report: AssessmentReport): string {
  const parts: string[] = [];
  parts.push(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">`,
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>Readiness: ${esc(report.organizationId)}</title><style>${STYLE}</style></head><body>`,
  );
  parts.push(`<h1>Incident-response readiness of <span id="organization">${esc(report.organizationId)}</span></h1>`);
  parts.push(
    `<p>Generated ${esc(report.generatedAt)} by <code>flz assess</code>: ${report.accounts.length} account(s) × ${report.regions.length} region(s) (${esc(report.regions.join(", "))}); forensic account ${esc(report.forensicAccountId)}; required retention ${report.requiredRetention.days} days (${esc(report.requiredRetention.reason)}).</p>`,
  );
  parts.push(
    `<p>Organisation score <span id="score" class="score">${report.scores.organization}</span>/100 · <span id="gap-count">${report.gaps.length}</span> gap(s)${report.complete ? "" : ` · <span id="partial" class="partial">PARTIAL: ${report.unreadable.length} scope(s) not read</span>`}</p>`,
  );
  if (!report.complete) {
    parts.push(`<h2>Not read</h2>`);
    parts.push(
      table(
        "unreadable",
        ["Scope", "Account", "Region", "Why"],
        report.unreadable.map(
          (u) =>
            `<tr data-scope="${esc(u.scope)}" data-account="${esc(u.account ?? "")}"><td>${esc(u.scope)}</td><td>${esc(u.account ?? "")}</td><td>${esc(u.region ?? "")}</td><td>${esc(u.reason)}</td></tr>`,
        ),
      ),
    );
  }
  parts.push(`<h2>Scenarios: would the runbook work today?</h2>`);
  for (const name of report.scenarioNames) {
    parts.push(`<h3>${esc(name)}</h3>`);
    parts.push(
      table(
        `scenario-${name}`,
        ["Account", "contain", "capture", "hash", "hunt"],
        report.scenarios
          .filter((v) => v.scenario === name)
          .map(
            (v) =>
              `<tr data-account="${esc(v.account)}"><td>${esc(v.account)}</td>${v.steps
                .map((s) =>
                  s.works
                    ? `<td class="works" data-step="${s.step}">works</td>`
                    : `<td class="fails" data-step="${s.step}">FAILS: ${esc([...new Set(s.brokenBy.map((b) => b.check))].join(", "))}</td>`,
                )
                .join("")}</tr>`,
          ),
      ),
    );
  }
  parts.push(`<h2>Scores per account</h2>`);
  parts.push(
    table(
      "scores",
      ["Account", "Score"],
      report.accounts.map(
        (a) => `<tr data-account="${esc(a)}"><td>${esc(a)}</td><td>${report.scores.accounts[a]}</td></tr>`,
      ),
    ),
  );
  if (report.baseline) {
    const b = report.baseline;
    parts.push(`<h2>Since ${esc(b.generatedAt)}</h2>`);
    parts.push(
      `<p id="baseline">Score ${b.scoreDelta.organization >= 0 ? "+" : ""}${b.scoreDelta.organization}; <span class="improved">${b.improved.length} improved</span>, <span class="regressed">${b.regressed.length} regressed</span>, ${b.unchanged} unchanged.</p><ul>`,
      ...b.improved.map((k) => `<li class="improved">improved: <code>${esc(k)}</code></li>`),
      ...b.regressed.map((k) => `<li class="regressed">REGRESSED: <code>${esc(k)}</code></li>`),
      `</ul>`,
    );
  }
  parts.push(`<h2>Gap register, ranked by the runbook steps each gap breaks</h2>`);
  parts.push(
    table(
      "gaps",
      ["#", "Severity", "Check", "Where", "What", "Breaks", "Fix"],
      report.gaps.map((g) => {
        const c = checkDefinition(g.check);
        return `<tr class="${g.severity}" data-check="${esc(g.check)}" data-rank="${g.rank}" data-status="${g.status}"><td>${g.rank}</td><td class="sev">${g.severity}</td><td><b>${esc(g.check)}</b> ${esc(c.title)}</td><td>${esc(placeOf(g))}</td><td>${esc(g.message)}${g.evidence.length ? `<br><code>${esc(g.evidence.join(" · "))}</code>` : ""}</td><td>${esc(breaksText(g))}</td><td>${esc(c.fix)}</td></tr>`;
      }),
    ),
  );
  parts.push(`<h2>Checks</h2>`);
  parts.push(
    table(
      "checks",
      ["Check", "Severity", "NIST SP 800-61", "Well-Architected", "Reads", "Why it matters on the day"],
      report.checks.map(
        (c) =>
          `<tr data-check="${esc(c.id)}"><td><b>${esc(c.id)}</b> ${esc(c.title)}</td><td class="sev">${c.severity}</td><td>${esc(c.phase)}</td><td>${esc(c.wellArchitected)}</td><td>${esc(c.reads.join(", "))}</td><td>${esc(c.why)}</td></tr>`,
      ),
    ),
  );
  parts.push(`</body></html>`);
  return parts.join("\n");
}
