/**
 * The incident metrics as a section of the custody export and the drill report (Markdown and HTML, same content):
 * each metric with its value or why it is not computed, its two instants and their sources, and AWS's definition.
 * Pure over the records the report already shows; every value is escaped.
 */
import { esc, md } from "../report/escape";
import { caseMetrics, caseTimeline, formatDuration, type MetricValue } from "./metrics";
import type { MetricRecord } from "./metrics-input";

function valueOf(m: MetricValue): string {
  return m.seconds === null ? `not computed: ${m.reason ?? "missing inputs"}` : formatDuration(m.seconds);
}

function spanOf(m: MetricValue): string {
  return `${m.from ? `${m.from.at} (${m.from.source})` : "?"} to ${m.to ? `${m.to.at} (${m.to.source})` : "?"}`;
}

/** The section in Markdown (heading included). */
export function metricsMarkdown(caseId: string, records: readonly MetricRecord[]): string[] {
  const timeline = caseTimeline(caseId, records);
  const out = [
    "## Incident metrics (AWS Security Incident Response Guide)",
    "",
    "| Metric | Value | From / to | AWS's definition |",
    "| --- | --- | --- | --- |",
  ];
  for (const m of caseMetrics(timeline))
    out.push(
      `| ${md(m.name)} | ${md(valueOf(m))} | ${md(m.seconds === null ? "" : spanOf(m))} | ${md(m.definition)} |`,
    );
  for (const w of timeline.warnings) out.push("", `Warning: ${md(w)}`);
  out.push("");
  return out;
}

/** The section in HTML (heading included). */
export function metricsHtml(caseId: string, records: readonly MetricRecord[]): string {
  const timeline = caseTimeline(caseId, records);
  const rows = caseMetrics(timeline)
    .map(
      (m) =>
        `<tr class="${m.seconds === null ? "" : "ok"}" data-metric="${esc(m.key)}"><td>${esc(m.name)}</td><td>${esc(valueOf(m))}</td><td>${esc(m.seconds === null ? "" : spanOf(m))}</td><td>${esc(m.definition)}</td></tr>`,
    )
    .join("\n");
  const warnings = timeline.warnings.map((w) => `<p>Warning: ${esc(w)}</p>`).join("");
  return `<h2>Incident metrics (AWS Security Incident Response Guide)</h2>
<table id="incident-metrics"><thead><tr><th>Metric</th><th>Value</th><th>From / to</th><th>AWS's definition</th></tr></thead><tbody>
${rows}
</tbody></table>${warnings}`;
}
