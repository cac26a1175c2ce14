/**
 * Runs an assessment: reads every unit (the management account, the forensic account, each account, each region of
 * each account) with bounded concurrency (p-limit; the SDK's standard retry backs off on throttling), keeps each
 * unit's facts in the state file as it finishes, stops cleanly when interrupted, and turns the facts into the
 * register. A unit that cannot be read is named with its reason in the result (never a silent pass).
 */
import pLimit from "p-limit";
import type { ClientFactory } from "../aws/clients";
import type { LandingZone } from "../contract";
import { OperationError } from "../errors";
import { regionKey, runChecks, type AssessmentFacts, type AssessmentSettings } from "./checks";
import { organizationTrail } from "./checks/trail";
import { collectAccount } from "./collect/account";
import { collectForensic } from "./collect/forensic";
import { collectOrganization } from "./collect/organization";
import { reason } from "./collect/read";
import { collectRegion } from "./collect/region";
import type { AccountFacts, ForensicFacts, OrganizationFacts, RegionFacts } from "./facts";
import { silentAssessProgress, type AssessProgress } from "./progress";
import { buildReport, type AssessmentReport, type Unreadable } from "./register";
import type { ScenarioDefinition } from "./scenarios";
import type { StateFile } from "./state";
import type { Read } from "./types";

/**
 * Units (an account, or a region of an account) read at once by default. AWS throttles per account and region (EC2:
 * a token bucket per API for each account and region, https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html;
 * Service Quotas: 10 ListServiceQuotas per second per account and region), so units of different accounts never share
 * a bucket, and one unit makes about a dozen calls, each API once or twice: far below any bucket. What units do share
 * is the forensic account's STS rate (one AssumeRole per account, the session being shared by its units) and the
 * management account's Organizations rate (one unit, with its own bound). The bound is therefore the client's: 32
 * units keep about 400 requests in flight (sockets; a default soft limit of 1,024 open files leaves room), and reach
 * 20 accounts of 2 regions in two waves where 16 took four. Throttling that still happens is retried with backoff.
 */
export const DEFAULT_ASSESS_CONCURRENCY = 32;

/** Inputs of {@link runAssessment}. */
export interface AssessmentRun {
  /** The landing zone contract. */
  readonly landingZone: LandingZone;
  /** Clients as the forensic investigator (own placement) and the member investigator (member accounts). */
  readonly investigator: ClientFactory;
  /** Clients in the management account (own placement), read-only calls only. */
  readonly management: ClientFactory;
  /** Accounts to assess. */
  readonly accounts: readonly string[];
  /** Regions to assess. */
  readonly regions: readonly string[];
  /** Scenarios the register is ranked by. */
  readonly scenarios: readonly ScenarioDefinition[];
  /** Retention required, and why. */
  readonly requiredRetention: { readonly days: number; readonly reason: string };
  /** Break-glass role name. */
  readonly breakGlassRoleName: string;
  /** Detection administrator (default: the forensic account). */
  readonly detectionAdminAccountId?: string;
  /** Hours after which a trail's last delivery counts as stale. Default 24. */
  readonly deliveryMaxAgeHours?: number;
  /** Units read at once. Default {@link DEFAULT_ASSESS_CONCURRENCY}. */
  readonly concurrency?: number;
  /** Resume file; without it nothing is kept. */
  readonly state?: StateFile;
  /** Progress reporting. */
  readonly progress?: AssessProgress;
  /** Stops the run: units not started are left for a resume. */
  readonly signal?: AbortSignal;
  /** Clock. */
  readonly now?: () => Date;
}

/** The outcome of a run. */
export interface AssessmentOutcome {
  /** The register. */
  readonly report: AssessmentReport;
  /** Units read in this run (not carried over). */
  readonly unitsRead: number;
  /** Units carried over from the state file. */
  readonly unitsResumed: number;
}

/** Thrown when a run is interrupted; the state file holds what was read. */
export class AssessmentInterrupted extends OperationError {
  constructor(
    readonly done: number,
    readonly total: number,
    stateFile: string | undefined,
  ) {
    super(
      `assessment interrupted after ${done} of ${total} units${stateFile ? `; what was read is in ${stateFile}: run the same command again to resume` : ""}`,
    );
    this.name = "AssessmentInterrupted";
  }
}

const failure = (err: unknown): Read<never> => ({ ok: false, error: reason(err) });

/** Runs the assessment and builds the register. */
export async function runAssessment(run: AssessmentRun): Promise<AssessmentOutcome> {
  const lz = run.landingZone;
  const now = run.now ?? (() => new Date());
  const progress = run.progress ?? silentAssessProgress;
  const limit = pLimit(Math.max(1, run.concurrency ?? DEFAULT_ASSESS_CONCURRENCY));
  const total = 2 + run.accounts.length * (1 + run.regions.length);
  let read = 0;
  let resumed = 0;
  let interrupted = false;

  /** Runs (or resumes) one unit; a failure becomes a failed Read with its reason. */
  const unit = <T>(key: string, label: string, fn: () => Promise<T>): Promise<Read<T>> => {
    const kept = run.state?.get(key);
    if (kept !== undefined) {
      resumed += 1;
      return Promise.resolve({ ok: true, value: kept as T });
    }
    return limit(async (): Promise<Read<T>> => {
      if (run.signal?.aborted) {
        interrupted = true;
        return { ok: false, error: "not assessed (interrupted)" };
      }
      try {
        const value = await fn();
        read += 1;
        await run.state?.record(key, value);
        progress.unitDone(label);
        return { ok: true, value };
      } catch (err) {
        read += 1;
        const f = failure(err);
        progress.unitDone(label, f.ok ? undefined : f.error);
        return f;
      }
    });
  };

  const keptUnits = run.state
    ? [
        "organization",
        "forensic",
        ...run.accounts.flatMap((a) => [`account:${a}`, ...run.regions.map((r) => `region:${regionKey(a, r)}`)]),
      ].filter((k) => run.state?.get(k) !== undefined).length
    : 0;
  progress.start(total, keptUnits);

  const organization = unit<OrganizationFacts>("organization", `management account (${lz.homeRegion})`, () =>
    collectOrganization(run.management, lz.homeRegion, [...new Set([...run.accounts, lz.forensicAccountId])]),
  );
  // The forensic account is read at the same time; only its trail key waits for the management account's answer
  // (which key the organisation trail uses), so the two scopes' round trips overlap instead of adding up.
  const trailKey = organization.then((org) =>
    org.ok && org.value.trails.ok ? organizationTrail(org.value.trails.value, lz.trailArn)?.kmsKeyId : undefined,
  );
  const forensic = unit<ForensicFacts>("forensic", `forensic account ${lz.forensicAccountId}`, () =>
    collectForensic(run.investigator, lz, trailKey, run.breakGlassRoleName),
  );
  const accountReads: Record<string, Read<AccountFacts>> = {};
  const regionReads: Record<string, Read<RegionFacts>> = {};
  await Promise.all([
    organization,
    forensic,
    ...run.accounts.map(async (account) => {
      const accountRead = await unit<AccountFacts>(`account:${account}`, `account ${account}`, () =>
        collectAccount(run.investigator, account, lz.homeRegion, lz.memberResponderRoleName),
      );
      accountReads[account] = accountRead;
      if (!accountRead.ok) return; // the reason is reported once for the account, not per region
      await Promise.all(
        run.regions.map(async (region) => {
          regionReads[regionKey(account, region)] = await unit<RegionFacts>(
            `region:${regionKey(account, region)}`,
            `account ${account} ${region}`,
            () => collectRegion(run.investigator, account, region),
          );
        }),
      );
    }),
  ]);
  await run.state?.flush();
  progress.stop();
  if (interrupted) throw new AssessmentInterrupted(read + resumed, total, run.state?.file);

  const facts: AssessmentFacts = {
    organization: await organization,
    forensic: await forensic,
    accounts: accountReads,
    regions: regionReads,
  };
  const settings: AssessmentSettings = {
    landingZone: lz,
    accounts: run.accounts,
    regions: run.regions,
    requiredRetentionDays: run.requiredRetention.days,
    breakGlassRoleName: run.breakGlassRoleName,
    detectionAdminAccountId: run.detectionAdminAccountId ?? lz.forensicAccountId,
    deliveryMaxAgeHours: run.deliveryMaxAgeHours ?? 24,
    now: now().toISOString(),
  };
  const report = buildReport({
    startedAt: run.state?.startedAt ?? settings.now,
    generatedAt: settings.now,
    organizationId: lz.organizationId,
    forensicAccountId: lz.forensicAccountId,
    accounts: run.accounts,
    regions: run.regions,
    scenarios: run.scenarios,
    requiredRetention: run.requiredRetention,
    findings: runChecks(settings, facts),
    unreadable: unreadableScopes(facts),
  });
  await run.state?.remove();
  return { report, unitsRead: read, unitsResumed: resumed };
}

/** The scopes that could not be read, each with its reason. */
export function unreadableScopes(facts: AssessmentFacts): Unreadable[] {
  const out: Unreadable[] = [];
  if (!facts.organization.ok) out.push({ scope: "organization", reason: facts.organization.error });
  if (!facts.forensic.ok) out.push({ scope: "forensic", reason: facts.forensic.error });
  for (const [account, r] of Object.entries(facts.accounts).sort())
    if (!r.ok) out.push({ scope: "account", account, reason: r.error });
  for (const [key, r] of Object.entries(facts.regions).sort()) {
    if (r.ok) continue;
    const [account, region] = key.split("|");
    out.push({ scope: "region", account, region, reason: r.error });
  }
  return out;
}
