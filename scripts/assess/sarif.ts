/**
 * The gap register as SARIF 2.1.0 (OASIS), for code-scanning dashboards and CI: one rule per check (with its
 * severity, NIST phase, Well-Architected practice and fix), one result per gap, located by a logical location
 * (organisation / account / region / resource) because readiness gaps live in an AWS organisation, not in a file.
 * Typed with `@types/sarif`, which follows the published schema.
 */
import type { Log, ReportingDescriptor, Result } from "sarif";
import { CHECKS } from "./catalog";
import type { AssessmentReport } from "./register";
import { breaksText, placeOf } from "./render-markdown";
import type { Severity } from "./types";

/** SARIF's schema URI for 2.1.0. */
export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

/** SARIF levels by severity: critical and high gaps are errors. */
const LEVEL: Record<Severity, Result.level> = { critical: "error", high: "error", medium: "warning", low: "note" };

/** GitHub code scanning's numeric `security-severity` per severity (0-10). */
const SECURITY_SEVERITY: Record<Severity, string> = { critical: "9.5", high: "8.0", medium: "5.5", low: "2.0" };

/** The register as a SARIF log. */
export function renderSarif(report: AssessmentReport, toolVersion = "0.1.0"): Log {
  const rules: ReportingDescriptor[] = CHECKS.map((c) => ({
    id: c.id,
    name: c.id.replace(/-/g, ""),
    shortDescription: { text: c.title },
    fullDescription: { text: c.why },
    help: { text: `Fix: ${c.fix}`, markdown: `**Fix:** ${c.fix}` },
    defaultConfiguration: { level: LEVEL[c.severity] },
    properties: {
      severity: c.severity,
      "security-severity": SECURITY_SEVERITY[c.severity],
      nistPhase: c.phase,
      wellArchitected: c.wellArchitected,
      reads: c.reads,
      tags: ["security", "incident-response", c.phase, c.wellArchitected],
    },
  }));
  const index = new Map(CHECKS.map((c, i) => [c.id, i]));
  const results: Result[] = report.gaps.map((g) => ({
    ruleId: g.check,
    ruleIndex: index.get(g.check),
    level: LEVEL[g.severity],
    kind: "fail",
    message: { text: `${g.status === "unknown" ? "Not read: " : ""}${g.message}. Breaks: ${breaksText(g)}.` },
    locations: [
      {
        logicalLocations: [
          {
            fullyQualifiedName: `${report.organizationId}/${placeOf(g)}`,
            kind: "resource",
            name: g.resource ?? g.account ?? report.organizationId,
          },
        ],
      },
    ],
    partialFingerprints: { "flzGap/v1": g.key },
    rank: Math.max(0, 100 - g.rank),
    properties: {
      rank: g.rank,
      status: g.status,
      account: g.account,
      region: g.region,
      evidence: g.evidence,
      breaks: g.breaks,
    },
  }));
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: "flz assess", version: toolVersion, rules } },
        invocations: [
          {
            executionSuccessful: report.complete,
            endTimeUtc: report.generatedAt,
            toolExecutionNotifications: report.unreadable.map((u) => ({
              level: "error",
              message: {
                text: `not read: ${u.scope}${u.account ? ` ${u.account}` : ""}${u.region ? ` ${u.region}` : ""}: ${u.reason}`,
              },
            })),
          },
        ],
        results,
        properties: { organizationScore: report.scores.organization, accountScores: report.scores.accounts },
      },
    ],
  };
}
