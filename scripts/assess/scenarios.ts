/**
 * The three incidents the register is ranked by: a leaked access key, a compromised instance and a compromised role
 * session. Each is the runbook's four steps (contain, capture, hash, hunt) with the `flz` command or hunt that does
 * it and the checks it cannot do without. Pure: per account, a step works today when no gap of those checks applies.
 */
import { checkDefinition } from "./catalog";
import type { Finding } from "./types";

/** Scenario names, as `--scenario` takes them. */
export const SCENARIO_NAMES = ["leaked-access-key", "compromised-instance", "compromised-role-session"] as const;

/** A scenario name. */
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** The runbook's steps, in order. */
export type StepName = "contain" | "capture" | "hash" | "hunt";

/** One runbook step of a scenario. */
export interface ScenarioStep {
  /** Which step. */
  readonly step: StepName;
  /** What the responder runs. */
  readonly action: string;
  /** Checks whose gap makes this step fail. */
  readonly requires: readonly string[];
}

/** One scenario. */
export interface ScenarioDefinition {
  /** Name. */
  readonly name: ScenarioName;
  /** What happened, in one line. */
  readonly title: string;
  /** Its steps. */
  readonly steps: readonly ScenarioStep[];
}

const HASH: ScenarioStep = {
  step: "hash",
  action: "flz hash / flz evidence put: hash into the Object-Locked evidence bucket, sign the custody record",
  requires: ["FLZ-STORE-02", "FLZ-STORE-03", "FLZ-KEY-01"],
};

const KEEP_TRAIL = ["FLZ-TRAIL-01", "FLZ-TRAIL-02", "FLZ-TRAIL-07", "FLZ-STORE-01"];

/** The scenarios. */
export const SCENARIOS: readonly ScenarioDefinition[] = [
  {
    name: "leaked-access-key",
    title: "An IAM user's access key is leaked and used",
    steps: [
      {
        step: "contain",
        action: "flz contain access-key (deactivate) and flz contain sessions (revoke sessions it created)",
        requires: ["FLZ-ROLE-02", "FLZ-ORG-04"],
      },
      { step: "capture", action: "preserve the trail's record of every call the key made", requires: KEEP_TRAIL },
      HASH,
      {
        step: "hunt",
        action: "hunts access-key-activity and s3-object-access-by-principal; GuardDuty findings",
        requires: ["FLZ-ROLE-01", "FLZ-TRAIL-05", "FLZ-TRAIL-06", "FLZ-DET-01"],
      },
    ],
  },
  {
    name: "compromised-instance",
    title: "An EC2 instance is compromised",
    steps: [
      {
        step: "contain",
        action: "flz contain instance (isolate, protect from termination, Auto Scaling standby)",
        requires: ["FLZ-ROLE-02"],
      },
      {
        step: "capture",
        action: "flz capture (snapshots re-encrypted under the evidence key, shared, locked) and memory through SSM",
        requires: ["FLZ-ROLE-02", "FLZ-KEY-01", "FLZ-EC2-05", "FLZ-EC2-06", "FLZ-EC2-03"],
      },
      HASH,
      {
        step: "hunt",
        action: "flow logs, DNS query logs, hunt instance-credentials-used-outside-ec2, GuardDuty findings",
        requires: ["FLZ-ROLE-01", "FLZ-NET-01", "FLZ-NET-02", "FLZ-RET-01", "FLZ-TRAIL-05", "FLZ-DET-01"],
      },
    ],
  },
  {
    name: "compromised-role-session",
    title: "A role session's credentials are stolen",
    steps: [
      {
        step: "contain",
        action: "flz contain sessions (organisation quarantine SCP on sessions issued before the cutoff)",
        requires: ["FLZ-ORG-04"],
      },
      { step: "capture", action: "preserve the trail's record of the session", requires: KEEP_TRAIL },
      HASH,
      {
        step: "hunt",
        action: "hunts role-session-activity and assume-role-chain; Detective behaviour graph",
        requires: ["FLZ-ROLE-01", "FLZ-TRAIL-05", "FLZ-DET-05"],
      },
    ],
  },
];

/** Whether a finding is a gap (failed, or could not be read). */
export function isGap(finding: Finding): boolean {
  return finding.status !== "pass";
}

/**
 * Whether a gap applies to an account's incident: organisation- and forensic-wide checks (the trail, the buckets,
 * the keys, the delegation) apply to every account; the others only to their own account.
 */
export function appliesTo(finding: Finding, account: string): boolean {
  const scope = checkDefinition(finding.check).scope;
  if (scope === "organization" || scope === "forensic") return true;
  return finding.account === account;
}

/** A step of a scenario in one account. */
export interface StepVerdict {
  /** The step. */
  readonly step: StepName;
  /** What the responder runs. */
  readonly action: string;
  /** Whether it would work today. */
  readonly works: boolean;
  /** The gaps that break it. */
  readonly brokenBy: readonly Finding[];
}

/** A scenario in one account. */
export interface ScenarioVerdict {
  /** Scenario. */
  readonly scenario: ScenarioName;
  /** Account. */
  readonly account: string;
  /** Steps in order. */
  readonly steps: readonly StepVerdict[];
}

/** Each scenario's steps for each account, with the gaps that break them. */
export function evaluateScenarios(
  scenarios: readonly ScenarioDefinition[],
  accounts: readonly string[],
  findings: readonly Finding[],
): ScenarioVerdict[] {
  const gaps = findings.filter(isGap);
  return scenarios.flatMap((scenario) =>
    accounts.map((account) => ({
      scenario: scenario.name,
      account,
      steps: scenario.steps.map((s) => {
        const brokenBy = gaps.filter((g) => s.requires.includes(g.check) && appliesTo(g, account));
        return { step: s.step, action: s.action, works: brokenBy.length === 0, brokenBy };
      }),
    })),
  );
}
