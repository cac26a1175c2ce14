/**
 * The drill's report: one data structure, rendered as JSON (for machines), Markdown (for the ticket) and a single
 * self-contained HTML page (for people) that prints on A4 with every column. Pure functions; the command writes the
 * files. Counts, steps and metrics agree: a step the scenario does not include is listed as "not in this scenario"
 * (neither a pass nor a failure), a metric of a phase the scenario does not run says so, and the custody verification
 * covers exactly the records of the timeline. Every value from the ledger is escaped, under a Content-Security-Policy
 * that lets only the page's own stylesheet apply.
 */
import { summaryLine, type AuthorizationSummary } from "../oracle/summary";
import { contentSecurityPolicy, esc, md, mdCode } from "../report/escape";
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
} from "../report/records";
import { metricsHtml, metricsMarkdown } from "../cases/metrics-report";
import type { AttachedDocument } from "./seed-org";
import type { PlantedIncident } from "./plant";
import { phaseRan, type RunbookResult, type StepPhase, type StepStatus, type TimelineEntry } from "./runbook-model";

/** Everything the report shows. */
export interface DrillReport {
  /** Report format version. */
  readonly version: 1;
  /** Whether at least one step ran and every step of the scenario passed. */
  readonly passed: boolean;
  /** Steps per status. */
  readonly counts: Record<StepStatus, number>;
  /** When the drill started and finished, UTC. */
  readonly startedAt: string;
  /** Finish time. */
  readonly finishedAt: string;
  /** Emulator endpoint used. */
  readonly endpoint: string;
  /** The incident planted. */
  readonly incident: PlantedIncident;
  /** Documents attached to the organisation. */
  readonly documents: AttachedDocument[];
  /** The runbook's outcome. */
  readonly runbook: RunbookResult;
  /** The authorization oracle's verdict on every AWS call of the drill (absent in reports of older versions). */
  readonly authorization?: AuthorizationSummary;
  /** The custody signing key, for the examiner's steps. */
  readonly custodySigningKeyArn?: string;
}

/** Counts steps per status. */
export function countSteps(runbook: RunbookResult): Record<StepStatus, number> {
  const counts: Record<StepStatus, number> = { passed: 0, failed: 0, skipped: 0, "not-in-scenario": 0 };
  for (const s of runbook.steps) counts[s.status] += 1;
  return counts;
}

/**
 * Whether the drill passed: at least one step ran and every step of the scenario passed (a skipped step could not do
 * its job); steps not in the scenario do not count either way.
 */
export function drillPassed(runbook: RunbookResult): boolean {
  const counts = countSteps(runbook);
  return counts.failed === 0 && counts.skipped === 0 && counts.passed > 0;
}

/** Milliseconds as `1.234 s`, or why there is no figure. */
export function formatDuration(ms: number | undefined, ran = true): string {
  if (ms !== undefined) return `${(ms / 1000).toFixed(3)} s`;
  return ran ? "not measured (a step of the phase did not pass)" : "not in this scenario";
}

/** A phase's metric, stating whether the phase ran. */
function metric(r: RunbookResult, phase: StepPhase, ms: number | undefined): string {
  return formatDuration(ms, phaseRan(r.steps, phase));
}

const STATUS_LABEL: Record<StepStatus, string> = {
  passed: "PASSED",
  failed: "FAILED",
  skipped: "SKIPPED",
  "not-in-scenario": "NOT IN THIS SCENARIO",
};

function countsLine(c: Record<StepStatus, number>): string {
  return `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped, ${c["not-in-scenario"]} not in this scenario`;
}

/** The custody line: what was verified, over exactly the timeline's records. */
function custodyLine(r: RunbookResult): string | undefined {
  const c = r.custody;
  if (!c) return undefined;
  return `${c.ok ? "Verified" : "BROKEN"}: ${c.verified} of ${c.total} records (every record of the timeline: hash chain, canonical form, signatures)`;
}

/** The summary lines printed at the end of a drill. */
export function summaryLines(report: DrillReport): string[] {
  const r = report.runbook;
  const lines = [
    `Drill ${r.caseId} (${r.scenario}): ${report.passed ? "PASSED" : "FAILED"}; ${countsLine(report.counts)}`,
  ];
  for (const s of r.steps)
    lines.push(
      `  ${STATUS_LABEL[s.status].padEnd(20)} ${s.id.padEnd(18)} ${(s.durationMs / 1000).toFixed(3).padStart(7)} s  ${s.error ?? s.summary}`,
    );
  if (report.authorization) {
    lines.push(`  ${summaryLine(report.authorization)}`);
    for (const problem of report.authorization.problems) lines.push(`    ${problem}`);
  }
  lines.push(`  time to contain:           ${metric(r, "contain", r.timeToContainMs)}`);
  lines.push(`  time to evidence secured:  ${metric(r, "evidence", r.timeToEvidenceSecuredMs)}`);
  for (const h of r.snapshotHashes ?? [])
    lines.push(
      `  ${h.device} forensic copy ${h.forensicSnapshotId}: ${h.matches ? "matches" : "DOES NOT MATCH"} the planted disk (SHA-256 ${h.imageSha256.slice(0, 16)}…)`,
    );
  if (r.artefact)
    lines.push(
      `  artefact ${r.artefact.location}: SHA-256 ${r.artefact.sha256.slice(0, 16)}… in record ${r.artefact.recordSequence}`,
    );
  const custody = custodyLine(r);
  if (custody) lines.push(`  custody chain: ${custody}`);
  const next = r.clock?.deadlines[0];
  if (next)
    lines.push(
      `  first deadline: ${next.regime.toUpperCase()} ${next.obligation}, due ${next.dueUtc} (computed at ${r.clock?.now})`,
    );
  return lines;
}

/** One line of the evidence-integrity section, and whether it is a good one. */
export interface EvidenceLine {
  /** The line. */
  readonly text: string;
  /** False for a mismatch or a check that did not run. */
  readonly ok: boolean;
}

/** What the report says about the evidence: each forensic snapshot against its planted disk, and the artefact. */
export function evidenceLines(r: RunbookResult): EvidenceLine[] {
  const lines: EvidenceLine[] = (r.snapshotHashes ?? []).map((h) => ({
    ok: h.matches,
    text: `${h.device} (${h.volumeId}) -> forensic snapshot ${h.forensicSnapshotId}: image SHA-256 ${h.imageSha256} ${h.matches ? "equals" : "DIFFERS FROM"} the planted raw disk ${h.plantedSha256} (${h.writtenBlocks} written blocks; record ${h.recordSequence})`,
  }));
  const ran = (id: string): boolean => r.steps.some((s) => s.id === id && s.status !== "not-in-scenario");
  if (!r.snapshotHashes && ran("hash-snapshots"))
    lines.push({ ok: false, text: "forensic snapshots not hashed (see the runbook)" });
  if (r.artefact)
    lines.push({
      ok: true,
      text: `${r.artefact.location}: SHA-256 ${r.artefact.sha256} of ${r.artefact.bytes} bytes, computed from the local file and recorded in record ${r.artefact.recordSequence}`,
    });
  else if (ran("put-artefact")) lines.push({ ok: false, text: "artefact not put (see the runbook)" });
  if (lines.length === 0) lines.push({ ok: true, text: "no evidence in this scenario" });
  return lines;
}

function views(report: DrillReport) {
  const r = report.runbook;
  const verified = r.custody?.verified ?? 0;
  return recordViews(
    r.timeline.map((t: TimelineEntry) => ({
      ...t,
      ...(t.outcome === "succeeded" ? {} : { outcome: t.outcome }),
    })),
    r.caseId,
    verified,
  );
}

const KEY_PLACEHOLDER = "<custodySigningKeyArn>";

/** The report as Markdown. */
export function renderMarkdown(report: DrillReport): string {
  const r = report.runbook;
  const out: string[] = [];
  out.push(`# Incident drill ${md(r.caseId)}: ${report.passed ? "PASSED" : "FAILED"}`, "");
  out.push(
    `Scenario ${md(r.scenario)}, ${md(report.startedAt)} to ${md(report.finishedAt)}, emulator ${md(report.endpoint)}.`,
    "",
  );
  out.push(`- Time to contain: **${md(metric(r, "contain", r.timeToContainMs))}**`);
  out.push(`- Time to evidence secured: **${md(metric(r, "evidence", r.timeToEvidenceSecuredMs))}**`);
  out.push(`- Steps: ${countsLine(report.counts)}`, "");
  out.push("## Incident", "");
  const i = report.incident;
  out.push(
    `Leaked access key ${mdCode(i.accessKeyId)} of user ${md(i.userName)} in account ${md(i.account)}; it assumed role ${md(i.roleName)} (session ${md(i.sessionArn)}), which created Auto Scaling group ${md(i.autoScalingGroup)} with instance ${md(i.instanceId)} (volumes ${i.volumeIds.map(md).join(", ")}) in ${md(i.region)}.`,
    "",
  );
  out.push("## Runbook", "", "| Step | Status | Seconds | Command | Result |", "| --- | --- | ---: | --- | --- |");
  for (const s of r.steps) {
    out.push(
      `| ${md(s.title)} | ${STATUS_LABEL[s.status]} | ${(s.durationMs / 1000).toFixed(3)} | ${md(s.command)} | ${md(s.error ?? s.summary)} |`,
    );
  }
  out.push("", "## Evidence integrity", "");
  out.push(...evidenceLines(r).map((line) => `- ${md(line.text)}`));
  out.push("", "## Custody verification", "");
  const custody = custodyLine(r);
  if (custody && r.custody) {
    out.push(`${md(custody)}. Head hash ${mdCode(r.custody.headHash ?? "-")}.`);
    if (r.custody.problem)
      out.push(
        "",
        `First problem: record ${r.custody.problem.sequence} (${md(r.custody.problem.location)}): ${md(r.custody.problem.reason)}`,
      );
  } else out.push("Not run.");
  out.push("", "## Reporting deadlines", "");
  if (r.clock) {
    out.push(
      `Computed at ${md(r.clock.now)}; awareness ${md(r.clock.events.aware ?? "-")}.`,
      "",
      "| Due (UTC) | Regime | Obligation | Status |",
      "| --- | --- | --- | --- |",
    );
    for (const d of r.clock.deadlines)
      out.push(`| ${md(d.dueUtc)} | ${md(d.regime.toUpperCase())} | ${md(d.obligation)} | ${md(d.status)} |`);
    if (r.clock.waiting.length > 0) {
      out.push("", "Waiting for a start event:", "");
      for (const w of r.clock.waiting)
        out.push(`- ${md(w.regime.toUpperCase())} ${md(w.obligation)}: ${md(w.period)} after ${md(w.waitingFor)}`);
    }
  } else out.push("Not computed.");
  out.push("", ...metricsMarkdown(r.caseId, r.timeline));
  const all = views(report);
  out.push(
    "",
    "## Timeline (custody ledger)",
    "",
    "| # | Time (UTC) | Action | Outcome | Status |",
    "| ---: | --- | --- | --- | --- |",
  );
  for (const v of all)
    out.push(
      `| ${v.sequence} | ${md(v.time)} | ${md(v.action)} | ${md(v.outcome)} | ${v.verified ? "verified" : "NOT VERIFIED"} |`,
    );
  out.push("", "## Records in detail", "");
  for (const v of all) out.push(...recordDetailMarkdown(v));
  out.push("## Evidence inventory", "", ...inventoryMarkdown(evidenceInventory(all)));
  out.push(...examinerMarkdown(r.caseId, report.custodySigningKeyArn ?? KEY_PLACEHOLDER));
  out.push("## Policy documents of the organisation", "");
  for (const d of report.documents)
    out.push(
      `- ${md(d.account)} ${md(d.target)}: ${md(d.builder)}${d.attached === false ? ` (built, not attached: ${md(d.reason)})` : ""}`,
    );
  out.push("");
  return out.join("\n");
}

/** The report as one self-contained HTML page (no scripts, no external resources, no style but its own). */
export function renderHtml(report: DrillReport): string {
  const r = report.runbook;
  const row = (cells: string[], attrs = ""): string => `<tr${attrs}>${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`;
  const steps = r.steps
    .map((s) =>
      row(
        [
          esc(s.title),
          `<span class="status">${STATUS_LABEL[s.status]}</span>`,
          (s.durationMs / 1000).toFixed(3),
          `<code>${esc(s.command)}</code>`,
          esc(s.error ?? s.summary),
        ],
        ` class="step ${s.status}" data-step="${esc(s.id)}"`,
      ),
    )
    .join("\n");
  const custody = custodyLine(r);
  const custodyHtml =
    custody && r.custody
      ? `<p id="custody-result" class="${r.custody.ok ? "passed" : "failed"}">${esc(custody)}. Head hash <code class="hash">${esc(r.custody.headHash ?? "-")}</code>.</p>` +
        (r.custody.problem
          ? `<p>First problem: record ${esc(r.custody.problem.sequence)}: ${esc(r.custody.problem.reason)}</p>`
          : "")
      : `<p id="custody-result">Not run.</p>`;
  const deadlines = r.clock
    ? `<p id="deadlines-computed">Computed at <time>${esc(r.clock.now)}</time>; awareness ${esc(r.clock.events.aware ?? "-")}.</p><table id="deadlines"><colgroup><col class="c-time"><col class="c-num"><col><col class="c-status"></colgroup><thead><tr><th>Due (UTC)</th><th>Regime</th><th>Obligation</th><th>Status</th></tr></thead><tbody>${r.clock.deadlines
        .map((d) =>
          row(
            [esc(d.dueUtc), esc(d.regime.toUpperCase()), esc(d.obligation), esc(d.status)],
            ` class="deadline ${esc(d.status)}"`,
          ),
        )
        .join("\n")}</tbody></table>` +
      (r.clock.waiting.length
        ? `<p>Waiting for a start event:</p><ul>${r.clock.waiting.map((w) => `<li>${esc(w.regime.toUpperCase())} ${esc(w.obligation)}: ${esc(w.period)} after <code>${esc(w.waitingFor)}</code></li>`).join("")}</ul>`
        : "")
    : "<p>Not computed.</p>";
  const all = views(report);
  const timeline = all
    .map((v) =>
      row(
        [
          `<a href="#record-${v.sequence}">${v.sequence}</a>`,
          esc(v.time),
          `<code>${esc(v.action)}</code>`,
          esc(v.outcome),
          v.verified ? "verified" : "NOT VERIFIED",
        ],
        ` class="event${v.outcome === "failed" ? " failed" : ""}" data-sequence="${v.sequence}"`,
      ),
    )
    .join("\n");
  const evidence = `<ul id="evidence">${evidenceLines(r)
    .map((line) => `<li class="${line.ok ? "passed" : "failed"}">${esc(line.text)}</li>`)
    .join("")}</ul>`;
  const docs = report.documents
    .map(
      (d) =>
        `<li>${esc(d.account)} ${esc(d.target)}: <code>${esc(d.builder)}</code>${d.attached === false ? ` (built, not attached: ${esc(d.reason ?? "")})` : ""}</li>`,
    )
    .join("");
  const verdict = report.passed ? "PASSED" : "FAILED";
  const i = report.incident;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(EXHIBIT_CSS)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Incident drill ${esc(r.caseId)}: ${verdict}</title>
<style>${EXHIBIT_CSS}</style>
</head>
<body>
<h1>Incident drill <code>${esc(r.caseId)}</code>: <span id="verdict" class="verdict ${report.passed ? "pass" : "fail"}">${verdict}</span></h1>
<p>Scenario <code>${esc(r.scenario)}</code>, ${esc(report.startedAt)} to ${esc(report.finishedAt)}, emulator ${esc(report.endpoint)}.
<span id="counts">${esc(countsLine(report.counts))}</span>.</p>
<div class="metrics">
<div class="metric" id="time-to-contain">Time to contain<strong>${esc(metric(r, "contain", r.timeToContainMs))}</strong></div>
<div class="metric" id="time-to-evidence">Time to evidence secured<strong>${esc(metric(r, "evidence", r.timeToEvidenceSecuredMs))}</strong></div>
</div>
<h2>Incident</h2>
<p>Leaked access key <code>${esc(i.accessKeyId)}</code> of user <code>${esc(i.userName)}</code> in account ${esc(i.account)}; role session <code>${esc(i.sessionArn)}</code>; Auto Scaling group <code>${esc(i.autoScalingGroup)}</code> with instance <code>${esc(i.instanceId)}</code> (${i.volumeIds.length} volumes) in ${esc(i.region)}.</p>
<h2>Runbook</h2>
<table id="steps"><colgroup><col class="c-step"><col class="c-status"><col class="c-num"><col class="c-cmd"><col></colgroup><thead><tr><th>Step</th><th>Status</th><th>Seconds</th><th>Command</th><th>Result</th></tr></thead><tbody>
${steps}
</tbody></table>
<h2>Evidence integrity</h2>
${evidence}
<h2>Custody verification</h2>
${custodyHtml}
<h2>Reporting deadlines</h2>
${deadlines}
${metricsHtml(r.caseId, r.timeline)}
<h2>Timeline (custody ledger)</h2>
<table id="timeline"><colgroup><col class="c-seq"><col class="c-time"><col><col class="c-outcome"><col class="c-status"></colgroup><thead><tr><th>#</th><th>Time (UTC)</th><th>Action</th><th>Outcome</th><th>Status</th></tr></thead><tbody>
${timeline}
</tbody></table>
<h2>Records in detail</h2>
<div id="records">
${all.map(recordDetailHtml).join("\n")}
</div>
<h2>Evidence inventory</h2>
${inventoryHtml(evidenceInventory(all))}
${examinerHtml(r.caseId, report.custodySigningKeyArn ?? KEY_PLACEHOLDER)}
<h2>Policy documents of the organisation</h2>
<ul id="documents">${docs}</ul>
</body>
</html>
`;
}
