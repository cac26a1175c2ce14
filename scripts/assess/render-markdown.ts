/**
 * The gap register as Markdown (for a ticket or a pull request) and as the summary lines printed on a terminal.
 * Pure functions of the report.
 */
import { checkDefinition } from "./catalog";
import type { AssessmentReport, RankedGap } from "./register";

function md(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** Where a finding applies, as text. */
export function placeOf(g: { account?: string; region?: string; resource?: string }): string {
  return [g.account ?? "organisation", g.region, g.resource].filter((x) => x !== undefined && x !== "").join(" / ");
}

/** What a gap breaks, in a few words: `contain, capture (leaked-access-key) in 3 accounts`. */
export function breaksText(gap: RankedGap): string {
  if (gap.breaks.length === 0) return "no runbook step (readiness)";
  const byScenario = new Map<string, Set<string>>();
  const accounts = new Set<string>();
  for (const b of gap.breaks) {
    byScenario.set(b.scenario, (byScenario.get(b.scenario) ?? new Set()).add(b.step));
    accounts.add(b.account);
  }
  const parts = [...byScenario].map(([s, steps]) => `${s}: ${[...steps].join(", ")}`);
  return `${parts.join("; ")} (${accounts.size} account${accounts.size === 1 ? "" : "s"})`;
}

/** The lines printed after a run. */
export function summaryLines(report: AssessmentReport, top = 10): string[] {
  const lines = [
    `Readiness of ${report.organizationId}: score ${report.scores.organization}/100, ${report.gaps.length} gap(s) over ${report.accounts.length} account(s) x ${report.regions.length} region(s)${report.complete ? "" : ` — PARTIAL: ${report.unreadable.length} scope(s) not read`}`,
  ];
  for (const u of report.unreadable)
    lines.push(
      `  NOT READ ${u.scope}${u.account ? ` ${u.account}` : ""}${u.region ? ` ${u.region}` : ""}: ${u.reason}`,
    );
  for (const v of report.scenarios) {
    const broken = v.steps.filter((s) => !s.works);
    lines.push(
      `  ${v.scenario.padEnd(25)} ${v.account}: ${broken.length === 0 ? "every step works" : broken.map((s) => `${s.step} FAILS (${[...new Set(s.brokenBy.map((b) => b.check))].join(", ")})`).join("; ")}`,
    );
  }
  for (const g of report.gaps.slice(0, top))
    lines.push(`  #${g.rank} ${g.severity.toUpperCase().padEnd(8)} ${g.check} ${placeOf(g)}: ${g.message}`);
  if (report.gaps.length > top) lines.push(`  ... ${report.gaps.length - top} more gap(s) in the register`);
  if (report.baseline)
    lines.push(
      `  since ${report.baseline.generatedAt}: ${report.baseline.improved.length} improved, ${report.baseline.regressed.length} regressed, score ${report.baseline.scoreDelta.organization >= 0 ? "+" : ""}${report.baseline.scoreDelta.organization}`,
    );
  return lines;
}

/** The register as Markdown. */
export function renderMarkdown(report: AssessmentReport): string {
  const out: string[] = [];
  out.push(`# Incident-response readiness: ${report.organizationId}`, "");
  out.push(
    `Generated ${report.generatedAt} by \`flz assess\` over ${report.accounts.length} account(s) and ${report.regions.length} region(s) (${report.regions.join(", ")}). Forensic account ${report.forensicAccountId}. Required retention: ${report.requiredRetention.days} days (${report.requiredRetention.reason}).`,
    "",
  );
  out.push(
    `**Organisation score: ${report.scores.organization}/100**${report.complete ? "" : " (partial result)"}`,
    "",
  );
  if (!report.complete) {
    out.push("## Not read", "", "| Scope | Account | Region | Why |", "| --- | --- | --- | --- |");
    for (const u of report.unreadable)
      out.push(`| ${u.scope} | ${u.account ?? ""} | ${u.region ?? ""} | ${md(u.reason)} |`);
    out.push("");
  }
  out.push("## Scenarios: would the runbook work today?", "");
  for (const name of report.scenarioNames) {
    out.push(`### ${name}`, "", "| Account | contain | capture | hash | hunt |", "| --- | --- | --- | --- | --- |");
    for (const v of report.scenarios.filter((s) => s.scenario === name)) {
      const cell = (step: string) => {
        const s = v.steps.find((x) => x.step === step);
        if (!s) return "";
        return s.works ? "works" : `FAILS: ${[...new Set(s.brokenBy.map((b) => b.check))].join(", ")}`;
      };
      out.push(`| ${v.account} | ${cell("contain")} | ${cell("capture")} | ${cell("hash")} | ${cell("hunt")} |`);
    }
    out.push("");
  }
  out.push("## Scores per account", "", "| Account | Score |", "| --- | --- |");
  for (const a of report.accounts) out.push(`| ${a} | ${report.scores.accounts[a]} |`);
  out.push("");
  if (report.baseline) {
    const b = report.baseline;
    out.push(`## Since ${b.generatedAt} (${md(b.file)})`, "");
    out.push(
      `Score ${b.scoreDelta.organization >= 0 ? "+" : ""}${b.scoreDelta.organization}; ${b.improved.length} improved, ${b.regressed.length} regressed, ${b.unchanged} unchanged.`,
      "",
    );
    for (const k of b.improved) out.push(`- improved: \`${md(k)}\``);
    for (const k of b.regressed) out.push(`- REGRESSED: \`${md(k)}\``);
    out.push("");
  }
  out.push(
    "## Gap register (ranked)",
    "",
    "| # | Severity | Check | Where | What | Breaks | Fix |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const g of report.gaps) {
    const c = checkDefinition(g.check);
    out.push(
      `| ${g.rank} | ${g.severity} | ${g.check} ${md(c.title)} | ${md(placeOf(g))} | ${md(g.message)} | ${md(breaksText(g))} | ${md(c.fix)} |`,
    );
  }
  out.push(
    "",
    "## Checks",
    "",
    "| Check | Severity | NIST SP 800-61 | Well-Architected | Reads |",
    "| --- | --- | --- | --- | --- |",
  );
  for (const c of report.checks)
    out.push(`| ${c.id} ${md(c.title)} | ${c.severity} | ${c.phase} | ${c.wellArchitected} | ${c.reads.join(", ")} |`);
  out.push("");
  return out.join("\n");
}
