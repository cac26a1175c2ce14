/**
 * `flz drill` end to end: start a private emulator, seed the organisation, write and re-read the landing-zone
 * contract, plant the incident, run the runbook, write the reports, stop the emulator. Every AWS call of the drill
 * goes to the emulator: the endpoint and dummy credentials are set for the drill's duration and restored after, so
 * a drill can never touch a real account.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { withCallLabel } from "../aws/observer";
import { loadLandingZone } from "../contract";
import { startEmulator, type Emulator } from "../emulator";
import { plantIncident } from "./plant";
import { countSteps, drillPassed, renderHtml, renderMarkdown, type DrillReport } from "./report";
import { runRunbook } from "./runbook";
import type { Scenario, StepResult } from "./runbook-model";
import { runAutomatedRunbook } from "../automation/drill";
import { seedOrganisation } from "./seed-org";
import { emulatorWorld, installOracle, loadOracle } from "../oracle";
import { summarize, summaryLine, unchecked } from "../oracle/summary";

/** Options of {@link runDrill}. */
export interface DrillOptions {
  /** Scenario. */
  readonly scenario: Scenario;
  /** Folder the reports and the contract file are written to (created if missing). */
  readonly reportDir: string;
  /** Case ID. Default `DRILL-<UTC timestamp>`. */
  readonly caseId?: string;
  /** Leave the emulator running and return it (the caller stops it). */
  readonly keep?: boolean;
  /** Progress lines. */
  readonly onLine?: (line: string) => void;
}

/** What a drill leaves behind. */
export interface DrillOutcome {
  /** The report. */
  readonly report: DrillReport;
  /** Paths of the files written. */
  readonly files: { json: string; markdown: string; html: string; landingZone: string };
  /** The emulator, when kept. */
  readonly emulator?: Emulator;
}

const DRILL_ENV = [
  "AWS_ENDPOINT_URL",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_PROFILE",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
] as const;

/** Points the SDK at the emulator with dummy credentials; returns a function that restores the environment. */
export function useEmulatorEnvironment(endpoint: string): () => void {
  const saved = new Map<string, string | undefined>(DRILL_ENV.map((k) => [k, process.env[k]]));
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_ACCESS_KEY_ID = "drill";
  process.env.AWS_SECRET_ACCESS_KEY = "drill";
  process.env.AWS_REGION = "us-east-1";
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_DEFAULT_REGION;
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** A case ID for a drill started at `now`: `DRILL-20260302T091500Z`. */
export function drillCaseId(now: Date): string {
  return `DRILL-${now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "")}`;
}

/** Runs a whole drill. Resolves with the report (passed or not); rejects only when the drill could not run at all. */
export async function runDrill(options: DrillOptions): Promise<DrillOutcome> {
  const say = options.onLine ?? (() => undefined);
  const started = new Date();
  const caseId = options.caseId ?? drillCaseId(started);
  say(`starting the emulator`);
  const emulator = await startEmulator();
  const restore = useEmulatorEnvironment(emulator.endpoint);
  // Every AWS call of the drill is evaluated against the documents the stack deploys (scripts/oracle): the emulator
  // authorizes nothing, so this is what says the runbook would be allowed on AWS. Loaded only when its development
  // dependencies are installed; the report says when it was not.
  const loaded = loadOracle(emulatorWorld());
  const uninstall = "oracle" in loaded ? installOracle(loaded.oracle) : () => undefined;
  let kept = false;
  try {
    say(`emulator at ${emulator.endpoint}; seeding the organisation (management, forensic, two members)`);
    const seeded = await withCallLabel("drill: seed the organisation", () => seedOrganisation());
    mkdirSync(options.reportDir, { recursive: true });
    const landingZoneFile = path.join(options.reportDir, "landing-zone.json");
    writeFileSync(landingZoneFile, `${JSON.stringify(seeded.landingZone, null, 2)}\n`);
    // Read the contract back through the same loader every command uses: the drill runs on what it wrote.
    const landingZone = loadLandingZone(landingZoneFile);
    const incidentRegion = landingZone.regions[landingZone.regions.length - 1];
    say(`planting the incident in account ${seeded.members[0]} (${incidentRegion})`);
    const incident = await withCallLabel("drill: plant the incident", () =>
      plantIncident(seeded.members[0], incidentRegion),
    );
    say(`running the runbook for case ${caseId} (${options.scenario})`);
    const runbookOptions = {
      landingZone,
      incident,
      scenario: options.scenario,
      caseId,
      landingZoneFile,
      workDir: options.reportDir,
      onStep: (s: StepResult) =>
        say(`  ${s.status.toUpperCase()} ${s.id} (${s.durationMs} ms)${s.error ? `: ${s.error}` : ""}`),
    };
    // The automated scenario: a GuardDuty finding, and no operator command (the response automation, issue 15).
    const runbook =
      options.scenario === "automated"
        ? await withCallLabel("drill: automated response", () => runAutomatedRunbook(runbookOptions))
        : await runRunbook(runbookOptions);
    const authorization =
      "oracle" in loaded ? summarize(await loaded.oracle.evaluatePending()) : unchecked(loaded.unavailable);
    say(summaryLine(authorization));
    for (const problem of authorization.problems) say(`  ${problem}`);
    const report: DrillReport = {
      version: 1,
      // A runbook AWS would refuse did not pass, whatever the emulator let through.
      passed: drillPassed(runbook) && authorization.problems.length === 0,
      counts: countSteps(runbook),
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      endpoint: emulator.endpoint,
      incident,
      documents: seeded.documents,
      runbook,
      authorization,
      custodySigningKeyArn: landingZone.custodySigningKeyArn,
    };
    const files = {
      json: path.join(options.reportDir, "drill-report.json"),
      markdown: path.join(options.reportDir, "drill-report.md"),
      html: path.join(options.reportDir, "drill-report.html"),
      landingZone: landingZoneFile,
    };
    writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(files.markdown, renderMarkdown(report));
    writeFileSync(files.html, renderHtml(report));
    kept = Boolean(options.keep);
    return { report, files, ...(kept ? { emulator } : {}) };
  } finally {
    uninstall();
    if (!kept) {
      restore();
      await emulator.stop();
    }
  }
}
