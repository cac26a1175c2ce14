/**
 * `flz assess`: a read-only readiness assessment of a live organisation, as a gap register ranked by the runbook
 * steps each gap would break in a leaked-key, compromised-instance or stolen-session incident. Parses and validates
 * at the edge; the reading, deciding and rendering live in `scripts/assess/`.
 */
import { Command } from "commander";
import { readFileSync, writeFileSync } from "node:fs";
import { paginateListAccounts, OrganizationsClient } from "@aws-sdk/client-organizations";
import { ClientFactory } from "../aws/clients";
import { parseRegimes } from "../clock/deadlines";
import { loadLandingZone, type LandingZone } from "../contract";
import { OperationError, UsageError } from "../errors";
import { note, printJson, printLine, processIo, type Io } from "../output";
import { allPages, reason } from "../assess/collect/read";
import { barAssessProgress, lineAssessProgress } from "../assess/progress";
import { compareWithBaseline, failsThreshold, type AssessmentReport } from "../assess/register";
import { renderHtml } from "../assess/render-html";
import { renderMarkdown, summaryLines } from "../assess/render-markdown";
import { requiredRetention } from "../assess/retention";
import { DEFAULT_ASSESS_CONCURRENCY, runAssessment } from "../assess/run";
import { renderSarif } from "../assess/sarif";
import { SCENARIOS, SCENARIO_NAMES } from "../assess/scenarios";
import { StateFile } from "../assess/state";
import { SEVERITIES, type Severity } from "../assess/types";

/** Options of `flz assess`, as commander parses them. */
export interface AssessCommandOptions {
  readonly accounts?: string;
  readonly all?: boolean;
  readonly regions?: string;
  readonly scenario?: string;
  readonly json?: boolean;
  readonly html?: string;
  readonly markdown?: string;
  readonly sarif?: string;
  readonly baseline?: string;
  readonly failOn?: string;
  readonly landingZone?: string;
  readonly managementRole?: string;
  readonly breakGlassRole?: string;
  readonly detectionAdmin?: string;
  readonly retentionDays?: string;
  readonly regime?: string;
  readonly concurrency?: string;
  readonly state?: string;
  readonly fresh?: boolean;
}

/** Default state file (in the working directory). */
export const DEFAULT_STATE_FILE = "flz-assess.state.json";

/** Parses `--accounts`. */
export function parseAccounts(text: string): string[] {
  const ids = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const bad = ids.find((id) => !/^\d{12}$/.test(id));
  if (bad !== undefined || ids.length === 0)
    throw new UsageError(
      `--accounts ${JSON.stringify(text)} is not a list of 12-digit account IDs: use e.g. 111111111111,222222222222`,
    );
  return [...new Set(ids)];
}

/** Parses `--regions` (default: the landing zone's governed regions). */
export function parseRegions(text: string | undefined, lz: LandingZone): string[] {
  if (text === undefined) return [...lz.regions];
  const regions = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const bad = regions.find((r) => !/^[a-z]{2}(-[a-z]+)+-\d$/.test(r));
  if (bad !== undefined || regions.length === 0)
    throw new UsageError(
      `--regions ${JSON.stringify(text)} is not a list of AWS regions: use e.g. us-east-1,eu-west-1`,
    );
  return [...new Set(regions)];
}

/** Parses `--scenario`. */
export function parseScenario(text: string | undefined): typeof SCENARIOS {
  const value = (text ?? "all").trim();
  if (value === "all") return SCENARIOS;
  const found = SCENARIOS.filter((s) => s.name === value);
  if (found.length === 0)
    throw new UsageError(
      `--scenario ${JSON.stringify(value)} is not a scenario: use ${SCENARIO_NAMES.join(", ")} or all`,
    );
  return found;
}

/** Parses `--fail-on`. */
export function parseFailOn(text: string | undefined): Severity | "none" {
  const value = (text ?? "high").trim();
  if (value === "none" || (SEVERITIES as readonly string[]).includes(value)) return value as Severity | "none";
  throw new UsageError(`--fail-on ${JSON.stringify(value)} is not a severity: use ${SEVERITIES.join(", ")} or none`);
}

/** Parses a positive whole number option. */
export function parsePositive(flag: string, text: string | undefined, fallback: number, max = 100000): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > max)
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a whole number from 1 to ${max}`);
  return Number(text);
}

/** Reads a previous register given with `--baseline`. */
export function loadBaseline(file: string): AssessmentReport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      `--baseline ${file}: ${code ? `cannot read it (${code})` : "not JSON"}; give the file a previous flz assess --json wrote`,
    );
  }
  const r = parsed as Partial<AssessmentReport>;
  if (
    r.version !== 1 ||
    !Array.isArray(r.gaps) ||
    typeof r.scores?.organization !== "number" ||
    typeof r.generatedAt !== "string"
  )
    throw new UsageError(`--baseline ${file} is not an flz assess register (version 1 with gaps and scores)`);
  return r as AssessmentReport;
}

/** Every active account of the organisation, from the management account. */
async function organisationAccounts(management: ClientFactory, region: string): Promise<string[]> {
  try {
    const accounts = await allPages(
      paginateListAccounts({ client: management.client(OrganizationsClient, { region }) }, {}),
      (p) => p.Accounts,
    );
    return accounts
      .filter((a) => a.Status === "ACTIVE" || a.State === "ACTIVE")
      .map((a) => a.Id ?? "")
      .sort();
  } catch (err) {
    throw new OperationError(
      `cannot list the organisation's accounts from the management account (${reason(err)}): pass --management-role <arn> or --accounts <ids>`,
    );
  }
}

/** Runs `flz assess` with parsed options; exported for tests. Resolves with the report. */
export async function runAssess(
  options: AssessCommandOptions,
  io: Io,
  signal?: AbortSignal,
): Promise<AssessmentReport> {
  if (options.accounts !== undefined && options.all)
    throw new UsageError("--accounts and --all are exclusive: name the accounts, or assess every account");
  const lz = loadLandingZone(options.landingZone);
  const regions = parseRegions(options.regions, lz);
  const scenarios = parseScenario(options.scenario);
  const threshold = parseFailOn(options.failOn);
  const concurrency = parsePositive("--concurrency", options.concurrency, DEFAULT_ASSESS_CONCURRENCY, 64);
  const retention = requiredRetention(
    parsePositive("--retention-days", options.retentionDays, 365, 36500),
    parseRegimes(options.regime ?? "all"),
  );
  const baseline = options.baseline !== undefined ? loadBaseline(options.baseline) : undefined;
  const managementRole = options.managementRole ?? process.env.FLZ_MANAGEMENT_ROLE_ARN;
  if (managementRole !== undefined && !/^arn:aws[\w-]*:iam::\d{12}:role\/.+/.test(managementRole))
    throw new UsageError(
      `--management-role ${JSON.stringify(managementRole)} is not a role ARN: use arn:aws:iam::<management account>:role/<name>`,
    );
  const management = new ClientFactory({ forensicRoleArn: managementRole });
  const investigator = new ClientFactory({
    forensicRoleArn: lz.forensicInvestigatorRoleArn,
    memberRoleName: lz.memberInvestigatorRoleName,
  });
  const progress = io.isTty ? barAssessProgress(io.err) : lineAssessProgress((line) => note(io, line));
  try {
    const accounts =
      options.accounts !== undefined
        ? parseAccounts(options.accounts)
        : await organisationAccounts(management, lz.homeRegion);
    const stateFile = options.state ?? DEFAULT_STATE_FILE;
    const state = StateFile.open(
      stateFile,
      { organizationId: lz.organizationId, forensicAccountId: lz.forensicAccountId, accounts, regions },
      new Date(),
      Boolean(options.fresh),
      (l) => note(io, l),
    );
    const outcome = await runAssessment({
      landingZone: lz,
      investigator,
      management,
      accounts,
      regions,
      scenarios,
      requiredRetention: retention,
      breakGlassRoleName: options.breakGlassRole ?? "FlzBreakGlass",
      detectionAdminAccountId: options.detectionAdmin,
      concurrency,
      state,
      progress,
      signal,
    });
    const report: AssessmentReport = baseline
      ? { ...outcome.report, baseline: compareWithBaseline(outcome.report, baseline, options.baseline ?? "") }
      : outcome.report;
    if (options.html) writeFileSync(options.html, renderHtml(report));
    if (options.markdown) writeFileSync(options.markdown, renderMarkdown(report));
    if (options.sarif) writeFileSync(options.sarif, `${JSON.stringify(renderSarif(report), null, 2)}\n`);
    if (options.json) printJson(io, report);
    else for (const line of summaryLines(report)) printLine(io, line);
    if (failsThreshold(report, threshold)) {
      const worst = report.gaps.filter(
        (g) => threshold !== "none" && SEVERITIES.indexOf(g.severity) <= SEVERITIES.indexOf(threshold),
      );
      throw new OperationError(
        `${worst.length} gap(s) at or above ${threshold}${report.complete ? "" : `, and ${report.unreadable.length} scope(s) not read`}; the first: ${worst[0].check} ${worst[0].message}`,
      );
    }
    return report;
  } finally {
    progress.stop();
    management.destroy();
    investigator.destroy();
  }
}

/** Adds `flz assess` to the program. */
export function register(program: Command): void {
  program
    .command("assess")
    .summary(
      "Read-only readiness assessment of the organisation: a gap register ranked by the incidents it would break.",
    )
    .description(
      "Reads the organisation, read-only: the management account's Organizations and trail settings (--management-role), the\n" +
        "forensic account as the forensic investigator, and every account and region as the member investigator (the role is\n" +
        "actually assumed). Runs 39 checks (trail, buckets, keys, roles, break-glass, SCPs/RCPs, detection, flow and DNS logs,\n" +
        "IMDSv2, SSM, EBS keys, quotas, retention) and tells, for a leaked access key, a compromised instance and a stolen role\n" +
        "session, whether each runbook step (contain, capture, hash, hunt) would work today in each account and which check\n" +
        "breaks it. The register is ranked by that. Scores per account and for the organisation. An account or region that\n" +
        "cannot be read is named with the reason (never a silent pass). Interrupted (Ctrl-C), it keeps what it read in the\n" +
        "state file; the same command resumes. Exit 1 when a gap at or above --fail-on remains, 2 for bad usage.",
    )
    .option("--accounts <ids>", "comma-separated account IDs to assess")
    .option("--all", "assess every active account of the organisation (the default)")
    .option("--regions <list>", "comma-separated regions (default: the landing zone's governed regions)")
    .option("--scenario <name>", `rank by one scenario: ${SCENARIO_NAMES.join(", ")}, or all`, "all")
    .option("--json", "print the register as one JSON document on stdout (progress stays on stderr)")
    .option("--html <file>", "write the register as HTML (printable on A4)")
    .option("--markdown <file>", "write the register as Markdown")
    .option("--sarif <file>", "write the gaps as SARIF 2.1.0 (code-scanning dashboards)")
    .option(
      "--baseline <previous.json>",
      "compare with a previous register (--json output): what improved, what regressed",
    )
    .option(
      "--fail-on <severity>",
      `exit 1 when a gap of this severity or worse remains: ${SEVERITIES.join(", ")}, none`,
      "high",
    )
    .option("--landing-zone <file>", "the landing zone's stack outputs (default FLZ_LANDING_ZONE)")
    .option(
      "--management-role <arn>",
      "read-only role in the management account (default FLZ_MANAGEMENT_ROLE_ARN, else your own credentials)",
    )
    .option("--break-glass-role <name>", "break-glass role name in the forensic account", "FlzBreakGlass")
    .option(
      "--detection-admin <account>",
      "account GuardDuty, Security Hub and Detective should be delegated to (default the forensic account)",
    )
    .option(
      "--retention-days <n>",
      "days logs and evidence must be kept (the larger of this and the longest reporting window counts)",
      "365",
    )
    .option("--regime <list>", "reporting regimes whose windows count toward the retention (as flz clock)", "all")
    .option("--concurrency <n>", "accounts and regions read at once", String(DEFAULT_ASSESS_CONCURRENCY))
    .option("--state <file>", `resume file (default ./${DEFAULT_STATE_FILE}; removed when a run completes)`)
    .option("--fresh", "ignore an existing state file and start over")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  flz assess --management-role arn:aws:iam::111111111111:role/FlzAssessReadOnly --html register.html\n" +
        "  flz assess --accounts 333333333333,444444444444 --regions eu-west-1 --json > register.json\n" +
        "  flz assess --baseline last-week.json --fail-on critical --sarif flz.sarif   # in CI\n",
    )
    .action(async (options: AssessCommandOptions) => {
      const io = processIo();
      const controller = new AbortController();
      const stop = () => {
        note(io, "interrupting: finishing the reads in flight, keeping what was read for a resume");
        controller.abort();
      };
      process.once("SIGINT", stop);
      try {
        await runAssess(options, io, controller.signal);
      } finally {
        process.removeListener("SIGINT", stop);
      }
    });
}
