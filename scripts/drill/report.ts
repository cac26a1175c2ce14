/**
 * The drill's report: one data structure, rendered as JSON (for machines), Markdown (for the ticket) and a single
 * self-contained HTML page (for people). Pure functions; the command writes the files.
 */
import { summaryLine, type AuthorizationSummary } from "../oracle/summary";
import type { AttachedDocument } from "./seed-org";
import type { PlantedIncident } from "./plant";
import type { RunbookResult, StepStatus, TimelineEntry } from "./runbook";

/** Everything the report shows. */
export interface DrillReport {
  /** Report format version. */
  readonly version: 1;
  /** Whether at least one step ran and every step passed. */
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
}

/** Counts steps per status. */
export function countSteps(runbook: RunbookResult): Record<StepStatus, number> {
  const counts: Record<StepStatus, number> = { passed: 0, failed: 0, skipped: 0 };
  for (const s of runbook.steps) counts[s.status] += 1;
  return counts;
}

/** Whether the drill passed: at least one step ran and every step passed (a skipped step could not do its job). */
export function drillPassed(runbook: RunbookResult): boolean {
  const counts = countSteps(runbook);
  return counts.failed === 0 && counts.skipped === 0 && counts.passed > 0;
}

/** Milliseconds as `1.234 s`, or `not measured` when a phase did not complete. */
export function formatDuration(ms: number | undefined): string {
  return ms === undefined ? "not measured (a step of the phase did not pass)" : `${(ms / 1000).toFixed(3)} s`;
}

const STATUS_LABEL: Record<StepStatus, string> = {
  passed: "PASSED",
  failed: "FAILED",
  skipped: "SKIPPED",
};

/** The summary lines printed at the end of a drill. */
export function summaryLines(report: DrillReport): string[] {
  const r = report.runbook;
  const lines = [`Drill ${r.caseId} (${r.scenario}): ${report.passed ? "PASSED" : "FAILED"}`];
  for (const s of r.steps)
    lines.push(
      `  ${STATUS_LABEL[s.status].padEnd(17)} ${s.id.padEnd(18)} ${(s.durationMs / 1000).toFixed(3).padStart(7)} s  ${s.error ?? s.summary}`,
    );
  if (report.authorization) {
    lines.push(`  ${summaryLine(report.authorization)}`);
    for (const problem of report.authorization.problems) lines.push(`    ${problem}`);
  }
  lines.push(`  time to contain:           ${formatDuration(r.timeToContainMs)}`);
  lines.push(`  time to evidence secured:  ${formatDuration(r.timeToEvidenceSecuredMs)}`);
  for (const h of r.snapshotHashes ?? [])
    lines.push(
      `  ${h.device} forensic copy ${h.forensicSnapshotId}: ${h.matches ? "matches" : "DOES NOT MATCH"} the planted disk (SHA-256 ${h.imageSha256.slice(0, 16)}…)`,
    );
  if (r.artefact)
    lines.push(
      `  artefact ${r.artefact.location}: SHA-256 ${r.artefact.sha256.slice(0, 16)}… in record ${r.artefact.recordSequence}`,
    );
  if (r.custody)
    lines.push(
      `  custody chain: ${r.custody.ok ? "verified" : "BROKEN"}, ${r.custody.verified} of ${r.custody.total} records`,
    );
  const next = r.clock?.deadlines[0];
  if (next) lines.push(`  first deadline: ${next.regime.toUpperCase()} ${next.obligation}, due ${next.dueUtc}`);
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
  if (!r.snapshotHashes && r.steps.some((s) => s.id === "hash-snapshots"))
    lines.push({ ok: false, text: "forensic snapshots not hashed (see the runbook)" });
  if (r.artefact)
    lines.push({
      ok: true,
      text: `${r.artefact.location}: SHA-256 ${r.artefact.sha256} of ${r.artefact.bytes} bytes, computed from the local file and recorded in record ${r.artefact.recordSequence}`,
    });
  else if (r.steps.some((s) => s.id === "put-artefact"))
    lines.push({ ok: false, text: "artefact not put (see the runbook)" });
  if (lines.length === 0) lines.push({ ok: true, text: "no evidence in this scenario" });
  return lines;
}

/** The evidence of a timeline entry: `kind location sha256`, one per item. */
function evidenceText(t: TimelineEntry): string {
  return t.evidence.map((e) => `${e.kind} ${e.location}${e.sha256 ? ` ${e.sha256}` : ""}`).join("; ");
}

function md(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** The report as Markdown. */
export function renderMarkdown(report: DrillReport): string {
  const r = report.runbook;
  const out: string[] = [];
  out.push(`# Incident drill ${r.caseId}: ${report.passed ? "PASSED" : "FAILED"}`, "");
  out.push(`Scenario \`${r.scenario}\`, ${report.startedAt} to ${report.finishedAt}, emulator ${report.endpoint}.`, "");
  out.push(`- Time to contain: **${formatDuration(r.timeToContainMs)}**`);
  out.push(`- Time to evidence secured: **${formatDuration(r.timeToEvidenceSecuredMs)}**`);
  out.push(
    `- Steps: ${report.counts.passed} passed, ${report.counts.failed} failed, ${report.counts.skipped} skipped`,
    "",
  );
  out.push("## Incident", "");
  const i = report.incident;
  out.push(
    `Leaked access key \`${i.accessKeyId}\` of user \`${i.userName}\` in account ${i.account}; it assumed role \`${i.roleName}\` (session \`${i.sessionArn}\`), which created Auto Scaling group \`${i.autoScalingGroup}\` with instance \`${i.instanceId}\` (volumes ${i.volumeIds.map((v) => `\`${v}\``).join(", ")}) in ${i.region}.`,
    "",
  );
  out.push("## Runbook", "", "| Step | Status | Seconds | Command | Result |", "| --- | --- | ---: | --- | --- |");
  for (const s of r.steps) {
    out.push(
      `| ${md(s.title)} | ${STATUS_LABEL[s.status]} | ${(s.durationMs / 1000).toFixed(3)} | \`${md(s.command)}\` | ${md(s.error ?? s.summary)} |`,
    );
  }
  out.push("", "## Evidence integrity", "");
  out.push(...evidenceLines(r).map((line) => `- ${line.text}`));
  out.push("", "## Custody verification", "");
  if (r.custody) {
    out.push(
      `${r.custody.ok ? "Verified" : "BROKEN"}: ${r.custody.verified} of ${r.custody.total} records (hash chain, canonical form, signatures). Head hash \`${r.custody.headHash ?? "-"}\`.`,
    );
    if (r.custody.problem)
      out.push(
        "",
        `First problem: record ${r.custody.problem.sequence} (${r.custody.problem.location}): ${r.custody.problem.reason}`,
      );
  } else out.push("Not run.");
  out.push("", "## Reporting deadlines", "");
  if (r.clock) {
    out.push(
      `Computed at ${r.clock.now}; awareness ${r.clock.events.aware ?? "-"}.`,
      "",
      "| Due (UTC) | Regime | Obligation | Status |",
      "| --- | --- | --- | --- |",
    );
    for (const d of r.clock.deadlines)
      out.push(`| ${d.dueUtc} | ${d.regime.toUpperCase()} | ${md(d.obligation)} | ${d.status} |`);
    if (r.clock.waiting.length > 0) {
      out.push("", "Waiting for a start event:", "");
      for (const w of r.clock.waiting)
        out.push(`- ${w.regime.toUpperCase()} ${w.obligation}: ${w.period} after \`${w.waitingFor}\``);
    }
  } else out.push("Not computed.");
  out.push(
    "",
    "## Timeline (custody ledger)",
    "",
    "| # | Time (UTC) | Actor | Action | Subjects | Evidence (SHA-256) | Outcome |",
    "| ---: | --- | --- | --- | --- | --- | --- |",
  );
  for (const t of r.timeline)
    out.push(
      `| ${t.sequence} | ${t.time} | ${md(t.actor)} | ${t.action} | ${md(t.subjects.join(", "))} | ${md(evidenceText(t))} | ${t.outcome} |`,
    );
  out.push("", "## Policy documents of the organisation", "");
  for (const d of report.documents)
    out.push(
      `- ${d.account} ${d.target}: \`${d.builder}\`${d.attached === false ? ` (built, not attached: ${d.reason})` : ""}`,
    );
  out.push("");
  return out.join("\n");
}

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The report as one self-contained HTML page (no scripts, no external resources). */
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
  const custody = r.custody
    ? `<p id="custody-result" class="${r.custody.ok ? "passed" : "failed"}">${r.custody.ok ? "Verified" : "BROKEN"}: ${r.custody.verified} of ${r.custody.total} records (hash chain, canonical form, signatures). Head hash <code>${esc(r.custody.headHash ?? "-")}</code>.</p>` +
      (r.custody.problem
        ? `<p>First problem: record ${r.custody.problem.sequence}: ${esc(r.custody.problem.reason)}</p>`
        : "")
    : `<p id="custody-result">Not run.</p>`;
  const deadlines = r.clock
    ? `<table id="deadlines"><thead><tr><th>Due (UTC)</th><th>Regime</th><th>Obligation</th><th>Status</th></tr></thead><tbody>${r.clock.deadlines
        .map((d) =>
          row(
            [esc(d.dueUtc), esc(d.regime.toUpperCase()), esc(d.obligation), esc(d.status)],
            ` class="deadline ${d.status}"`,
          ),
        )
        .join("\n")}</tbody></table>` +
      (r.clock.waiting.length
        ? `<p>Waiting for a start event:</p><ul>${r.clock.waiting.map((w) => `<li>${esc(w.regime.toUpperCase())} ${esc(w.obligation)}: ${esc(w.period)} after <code>${esc(w.waitingFor)}</code></li>`).join("")}</ul>`
        : "")
    : "<p>Not computed.</p>";
  const timeline = r.timeline
    .map((t) =>
      row(
        [
          String(t.sequence),
          esc(t.time),
          esc(t.actor),
          `<code>${esc(t.action)}</code>`,
          esc(t.subjects.join(", ")),
          esc(evidenceText(t)),
          esc(t.outcome),
        ],
        ` class="event ${t.outcome === "failed" ? "failed" : ""}"`,
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
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Incident drill ${esc(r.caseId)}: ${verdict}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1d1d1f; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #d0d0d5; padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f5; }
code { font-size: 0.85em; }
.verdict.passed, tr.passed .status, p.passed { color: #0a6b2d; font-weight: 600; }
.verdict.failed, tr.failed .status, p.failed, tr.overdue { color: #a10e0e; font-weight: 600; }
tr.skipped .status { color: #8a5a00; font-weight: 600; }
.metrics { display: flex; gap: 2rem; }
.metric strong { display: block; font-size: 1.6rem; }
</style>
</head>
<body>
<h1>Incident drill <code>${esc(r.caseId)}</code>: <span id="verdict" class="verdict ${report.passed ? "passed" : "failed"}">${verdict}</span></h1>
<p>Scenario <code>${esc(r.scenario)}</code>, ${esc(report.startedAt)} to ${esc(report.finishedAt)}, emulator ${esc(report.endpoint)}.
${report.counts.passed} passed, ${report.counts.failed} failed, ${report.counts.skipped} skipped.</p>
<div class="metrics">
<div class="metric" id="time-to-contain">Time to contain<strong>${esc(formatDuration(r.timeToContainMs))}</strong></div>
<div class="metric" id="time-to-evidence">Time to evidence secured<strong>${esc(formatDuration(r.timeToEvidenceSecuredMs))}</strong></div>
</div>
<h2>Incident</h2>
<p>Leaked access key <code>${esc(report.incident.accessKeyId)}</code> of user <code>${esc(report.incident.userName)}</code> in account ${esc(report.incident.account)}; role session <code>${esc(report.incident.sessionArn)}</code>; Auto Scaling group <code>${esc(report.incident.autoScalingGroup)}</code> with instance <code>${esc(report.incident.instanceId)}</code> (${report.incident.volumeIds.length} volumes) in ${esc(report.incident.region)}.</p>
<h2>Runbook</h2>
<table id="steps"><thead><tr><th>Step</th><th>Status</th><th>Seconds</th><th>Command</th><th>Result</th></tr></thead><tbody>
${steps}
</tbody></table>
<h2>Evidence integrity</h2>
${evidence}
<h2>Custody verification</h2>
${custody}
<h2>Reporting deadlines</h2>
${deadlines}
<h2>Timeline (custody ledger)</h2>
<table id="timeline"><thead><tr><th>#</th><th>Time (UTC)</th><th>Actor</th><th>Action</th><th>Subjects</th><th>Evidence (SHA-256)</th><th>Outcome</th></tr></thead><tbody>
${timeline}
</tbody></table>
<h2>Policy documents of the organisation</h2>
<ul id="documents">${docs}</ul>
</body>
</html>
`;
}
