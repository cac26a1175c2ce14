/**
 * The stack configuration, validated. A pure function from the raw `project:key` → text map (what
 * `pulumi.runtime.allConfig()` returns; structured values arrive as JSON text) to the typed arguments of
 * {@link ForensicLandingZone}, failing on the first bad key with one line naming the key, the value and what is valid.
 */
import type { ForensicLandingZoneArgs } from "../components/forensicLandingZone";
import type { AdvancedEventSelector } from "../components/organizationTrail";
import type { ForensicAccountSource } from "../components/forensicAccount";
import { DEFAULT_ROLE_NAMES } from "../components/memberRoles";
import { COMMERCIAL_REGIONS } from "../components/documents/regions";
import { partTwoSettings } from "./config-part-two";
import { automationSettings } from "./config-automation";

/** The project's config namespace: keys are written `forensic-landing-zone:<key>` in the stack file. */
export const CONFIG_NAMESPACE = "forensic-landing-zone";

/** AWS commercial-partition regions the landing zone can govern. */
export const KNOWN_REGIONS: readonly string[] = COMMERCIAL_REGIONS;

/** Retention values CloudWatch Logs accepts, days. */
export const CLOUDWATCH_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Every key the stack understands, with a one-line meaning (used in the unknown-key error and the docs). */
export const CONFIG_KEYS = {
  forensicAccountId: "adopt this existing account as the forensic account (12 digits)",
  forensicAccountEmail: "create the forensic account with this root e-mail address",
  forensicAccountName: "display name of a created forensic account (default Forensics)",
  forensicOuName: "OU created for a created forensic account (default Forensics)",
  forensicAccountAdminRoleName:
    "role the deployment assumes in the forensic account (default OrganizationAccountAccessRole)",
  managementAccountId: "pin the management account (12 digits); default: read from Organizations",
  homeRegion: "region of the trail, buckets, key primaries and StackSet; must be governed",
  regions: "governed regions (list)",
  targetOuIds: "OUs (ou-...) or the root (r-...) whose accounts get the member roles (list)",
  trailRetentionDays: "COMPLIANCE retention of the trail bucket, days (default 365)",
  evidenceRetentionDays: "COMPLIANCE retention of the evidence bucket, days (default 365)",
  trailName: "name of the organisation trail (default flz-organization-trail)",
  s3DataEvents: "log S3 object writes organisation-wide (default true)",
  lambdaDataEvents: "log Lambda invocations organisation-wide (default false)",
  additionalEventSelectors: "further CloudTrail advanced event selectors (list of {name, fieldSelectors})",
  cloudWatchLogsRetentionDays: "also deliver the trail to CloudWatch Logs, kept this many days (default: off)",
  responderPrincipals:
    "principal ARNs (roles or users, named; not an account root) that may assume the forensic responder role (required)",
  investigatorPrincipals:
    "principal ARNs that may assume the forensic investigator role (default: the forensic account)",
  breakGlassPrincipals: "principal ARNs that may assume the break-glass role with MFA (default: the forensic account)",
  forensicResponderRoleName: "default FlzForensicResponder",
  forensicInvestigatorRoleName: "default FlzForensicInvestigator",
  memberResponderRoleName: "default FlzMemberResponder",
  memberInvestigatorRoleName: "default FlzMemberInvestigator",
  breakGlassRoleName: "default FlzBreakGlass",
  bucketPrefix: "prefix of the bucket names (default flz)",
  keyDeletionWindowDays: "KMS deletion window, days 7 to 30 (default 30)",
  memoryToolSha256:
    "SHA-256 of the memory acquisition tool staged at tools/avml in the evidence bucket; deploys the FLZ-CaptureMemory SSM document (64 hex; default none: no memory capture)",
  guardrails:
    "attach the forensic protection SCP (trail, member roles, forensic keys, leaving the organisation) (default true)",
  guardrailTargetIds: "root (r-...) or OU IDs the protection SCP is attached to (list; default: the organisation root)",
  workloadBaseline:
    "also attach the workload baseline SCP: IMDSv2, no IMDSv1 credentials, no unencrypted volumes (default false)",
  workloadGuardrailTargetIds: "root or OU IDs of the workload baseline (list; default guardrailTargetIds)",
  deploymentRoleArn:
    "role the deployment acts as in governed accounts, the only principal the freezes exempt (required; arn:aws:iam::*:role/<forensicAccountAdminRoleName>)",
  resourceControlTargetIds:
    "root or OU IDs the evidence-protection RCP is attached to (list; default guardrailTargetIds, else the root)",
  guardDutyAdoptExisting: "use the GuardDuty detector that already exists in the administrator account (default false)",
  securityHubAdoptExisting: "use Security Hub already enabled in the administrator account (default false)",
  detectiveGraphArns:
    "existing Detective behaviour graphs of the administrator account to adopt, by region (map region: ARN)",
  detection: "delegate GuardDuty, Security Hub and Detective (default true; false leaves all three out)",
  guardDuty: "delegate GuardDuty with auto-enable for all members (default true)",
  securityHub: "delegate Security Hub with auto-enable and default standards (default true)",
  detective: "delegate Detective with auto-enable (default true)",
  detectionAdminAccountId:
    "delegated administrator of the detection services (12 digits; default: the forensic account)",
  investigation: "Athena workgroup, Glue table over the trail and hunt queries (default true)",
  investigationBytesScannedCutoff: "bytes one Athena query may scan (default 1099511627776, 1 TiB)",
  forensicVpc: "isolated analysis VPC in the forensic account's home region (default true)",
  forensicVpcCidr: "CIDR block of the forensic VPC, /16 to /22 (default 10.77.0.0/16)",
  forensicVpcZones: "two or more availability zones of the home region (list; default <homeRegion>a, <homeRegion>b)",
  alarms:
    "alarm rules (break-glass use, trail changes, GuardDuty high severity) in every governed region (default true)",
  alarmSubscriptions: "subscriptions to the alarm topics (list of {protocol, endpoint}; default none)",
  automation: "response automation: findings contained and captured by Step Functions with guardrails (default false)",
  automationSettings:
    "guardrails of the response automation (map: modes, defaultMode, approvalTimeoutSeconds, excludedAccountIds, maxContainmentsPerHour, minimumSeverity, killSwitchParameterName, lockDays, optOutTagManagerRoleArns)",
} as const;

/** A configuration key of this project. */
export type ConfigKey = keyof typeof CONFIG_KEYS;

/** A bad stack configuration: the message names the key, the offending value and what would be valid. */
export class StackConfigError extends Error {
  constructor(
    /** The bare key (without the namespace). */
    public readonly key: string,
    message: string,
  ) {
    super(`${CONFIG_NAMESPACE}:${key}: ${message}`);
    this.name = "StackConfigError";
  }
}

export const ACCOUNT_ID = /^\d{12}$/;
export const OU_OR_ROOT = /^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
export const DETECTIVE_GRAPH_ARN = /^arn:aws:detective:[a-z0-9-]+:\d{12}:graph:[0-9a-f]+$/;
const PRINCIPAL_ARN =
  /^arn:aws:(iam::\d{12}:(root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+)|sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+)$/;
const TRAIL_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{1,126})[A-Za-z0-9]$/;
const BUCKET_PREFIX = /^[a-z0-9](?:[a-z0-9-]{1,18})[a-z0-9]$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Reads the project's keys from a raw config map (full `project:key` names; other namespaces are ignored). */
function projectKeys(raw: Readonly<Record<string, string>>): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [fullKey, value] of Object.entries(raw)) {
    const separator = fullKey.indexOf(":");
    if (separator < 0 || fullKey.slice(0, separator) !== CONFIG_NAMESPACE) continue;
    const key = fullKey.slice(separator + 1);
    if (!(key in CONFIG_KEYS)) {
      throw new StackConfigError(key, `unknown key; valid keys: ${Object.keys(CONFIG_KEYS).join(", ")}`);
    }
    keys.set(key, value);
  }
  return keys;
}

/** Quotes a value for an error message. */
export const shown = (value: string): string => JSON.stringify(value);

/** A list value: JSON array text (how Pulumi passes YAML lists) or comma-separated text. */
function list(key: string, value: string): string[] {
  const text = value.trim();
  if (text.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new StackConfigError(key, `${shown(value)} is not a valid list; valid: a YAML list such as [a, b]`);
    }
    if (!Array.isArray(parsed) || !parsed.every((item): item is string => typeof item === "string")) {
      throw new StackConfigError(key, `${shown(value)} is not a list of strings; valid: a YAML list such as [a, b]`);
    }
    return parsed.map((item) => item.trim());
  }
  return text === "" ? [] : text.split(",").map((item) => item.trim());
}

/** A whole number within bounds. */
export function integer(key: string, value: string, min: number, max: number): number {
  const n = /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new StackConfigError(key, `${shown(value)} is not a whole number from ${min} to ${max}`);
  }
  return n;
}

/** A boolean written `true` or `false`. */
function boolean(key: string, value: string): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  throw new StackConfigError(key, `${shown(value)} is not a boolean; valid: true, false`);
}

/** A value matching a pattern. */
export function matching(key: string, value: string, pattern: RegExp, valid: string): string {
  if (!pattern.test(value)) throw new StackConfigError(key, `${shown(value)} is not valid; valid: ${valid}`);
  return value;
}

/** A non-empty list without duplicates whose items each match `item`. */
export function uniqueList(key: string, value: string, item: (entry: string) => string): string[] {
  const entries = list(key, value).map(item);
  if (entries.length === 0) throw new StackConfigError(key, `${shown(value)} is empty; name at least one`);
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry)) throw new StackConfigError(key, `${shown(entry)} appears twice; list each once`);
    seen.add(entry);
  }
  return entries;
}

export function region(key: string, value: string): string {
  if (!KNOWN_REGIONS.includes(value)) {
    throw new StackConfigError(key, `${shown(value)} is not a known AWS region; valid: ${KNOWN_REGIONS.join(", ")}`);
  }
  return value;
}

function forensicAccountSource(keys: Map<string, string>): ForensicAccountSource {
  const adopt = keys.get("forensicAccountId");
  const email = keys.get("forensicAccountEmail");
  if (adopt !== undefined && email !== undefined) {
    throw new StackConfigError(
      "forensicAccountId",
      `${shown(adopt)} is set together with forensicAccountEmail ${shown(email)}; set forensicAccountId to adopt an account, or forensicAccountEmail to create one, not both`,
    );
  }
  if (adopt !== undefined) {
    for (const createOnly of ["forensicAccountName", "forensicOuName"] as const) {
      if (keys.has(createOnly)) {
        throw new StackConfigError(
          createOnly,
          `applies only when creating the forensic account (forensicAccountEmail), but forensicAccountId ${shown(adopt)} adopts one`,
        );
      }
    }
    return {
      kind: "adopt",
      accountId: matching("forensicAccountId", adopt, ACCOUNT_ID, "a 12-digit AWS account ID such as 222222222222"),
    };
  }
  if (email !== undefined) {
    return {
      kind: "create",
      email: matching("forensicAccountEmail", email, EMAIL, "an e-mail address such as aws-forensics@example.com"),
      accountName: matching(
        "forensicAccountName",
        keys.get("forensicAccountName") ?? "Forensics",
        /^[ -~]{1,50}$/,
        "1 to 50 printable characters",
      ),
      organizationalUnitName: matching(
        "forensicOuName",
        keys.get("forensicOuName") ?? "Forensics",
        /^[ -~]{1,128}$/,
        "1 to 128 printable characters",
      ),
    };
  }
  throw new StackConfigError(
    "forensicAccountId",
    "missing: no forensic account; set forensicAccountId (adopt an existing account) or forensicAccountEmail (create one)",
  );
}

function required(keys: Map<string, string>, key: ConfigKey, valid: string): string {
  const value = keys.get(key);
  if (value === undefined || value.trim() === "") throw new StackConfigError(key, `missing; valid: ${valid}`);
  return value;
}

function eventSelectors(key: string, value: string): AdvancedEventSelector[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new StackConfigError(
      key,
      `${shown(value)} is not valid; valid: a list of {name, fieldSelectors: [{field, equals}]}`,
    );
  }
  const valid = "a list of {name, fieldSelectors: [{field, equals | notEquals | startsWith | ...}]}";
  if (!Array.isArray(parsed)) throw new StackConfigError(key, `${shown(value)} is not a list; valid: ${valid}`);
  return parsed.map((selector: unknown, index) => {
    const s = selector as { name?: unknown; fieldSelectors?: unknown };
    const fields = s?.fieldSelectors;
    const wellFormed =
      typeof selector === "object" &&
      selector !== null &&
      (s.name === undefined || typeof s.name === "string") &&
      Array.isArray(fields) &&
      fields.length > 0 &&
      fields.every(
        (f: unknown) => typeof f === "object" && f !== null && typeof (f as { field?: unknown }).field === "string",
      );
    if (!wellFormed)
      throw new StackConfigError(key, `item ${index} ${JSON.stringify(selector)} is not valid; valid: ${valid}`);
    return selector as AdvancedEventSelector;
  });
}

/**
 * Validates the raw stack configuration and returns the landing zone's arguments; throws a
 * {@link StackConfigError} on the first bad key.
 */
export function parseStackConfig(raw: Readonly<Record<string, string>>): ForensicLandingZoneArgs {
  const keys = projectKeys(raw);
  const forensicAccount = forensicAccountSource(keys);
  const get = (key: ConfigKey): string | undefined => keys.get(key);

  const managementRaw = get("managementAccountId");
  const managementAccountId =
    managementRaw === undefined
      ? undefined
      : matching("managementAccountId", managementRaw, ACCOUNT_ID, "a 12-digit AWS account ID such as 111111111111");
  if (
    managementAccountId !== undefined &&
    forensicAccount.kind === "adopt" &&
    forensicAccount.accountId === managementAccountId
  ) {
    throw new StackConfigError(
      "forensicAccountId",
      `${shown(forensicAccount.accountId)} is the management account; the forensic account must be a separate member account`,
    );
  }

  const regions = uniqueList(
    "regions",
    required(keys, "regions", "a list of governed regions such as [us-east-1, eu-west-1]"),
    (r) => region("regions", r),
  );
  const homeRegion = region(
    "homeRegion",
    required(keys, "homeRegion", `one of the governed regions [${regions.join(", ")}]`),
  );
  if (!regions.includes(homeRegion)) {
    throw new StackConfigError(
      "homeRegion",
      `${shown(homeRegion)} is not a governed region; valid: one of regions [${regions.join(", ")}]`,
    );
  }
  const targetOrganizationalUnitIds = uniqueList(
    "targetOuIds",
    required(keys, "targetOuIds", "a list of OU IDs (ou-xxxx-xxxxxxxx) or the root ID (r-xxxx)"),
    (ou) => matching("targetOuIds", ou, OU_OR_ROOT, "an OU ID such as ou-ab12-cd34ef56 or the root ID such as r-ab12"),
  );

  const optionalInt = (key: ConfigKey, min: number, max: number): number | undefined => {
    const value = get(key);
    return value === undefined ? undefined : integer(key, value, min, max);
  };
  const optionalBool = (key: ConfigKey): boolean | undefined => {
    const value = get(key);
    return value === undefined ? undefined : boolean(key, value);
  };
  const principals = (key: ConfigKey): string[] | undefined => {
    const value = get(key);
    return value === undefined
      ? undefined
      : uniqueList(key, value, (arn) =>
          matching(
            key,
            arn,
            PRINCIPAL_ARN,
            "IAM principal ARNs such as arn:aws:iam::222222222222:role/SecurityTeam or arn:aws:iam::222222222222:root",
          ),
        );
  };
  const roleName = (key: ConfigKey): string | undefined => {
    const value = get(key);
    return value === undefined
      ? undefined
      : matching(key, value, ROLE_NAME, "an IAM role name: 1 to 64 of letters, digits and +=,.@_-");
  };

  const cloudWatchRaw = get("cloudWatchLogsRetentionDays");
  let cloudWatchLogsRetentionDays: number | undefined;
  if (cloudWatchRaw !== undefined) {
    cloudWatchLogsRetentionDays = Number(cloudWatchRaw);
    if (!CLOUDWATCH_RETENTION_DAYS.includes(cloudWatchLogsRetentionDays)) {
      throw new StackConfigError(
        "cloudWatchLogsRetentionDays",
        `${shown(cloudWatchRaw)} is not a CloudWatch Logs retention; valid: ${CLOUDWATCH_RETENTION_DAYS.join(", ")}`,
      );
    }
  }

  const roleNames = {
    forensicResponder: roleName("forensicResponderRoleName"),
    forensicInvestigator: roleName("forensicInvestigatorRoleName"),
    memberResponder: roleName("memberResponderRoleName"),
    memberInvestigator: roleName("memberInvestigatorRoleName"),
    breakGlass: roleName("breakGlassRoleName"),
  };
  const definedRoleNames = Object.fromEntries(Object.entries(roleNames).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  const effective = { ...DEFAULT_ROLE_NAMES, ...definedRoleNames };
  const byName = new Map<string, string>();
  for (const [role, name] of Object.entries(effective)) {
    const other = byName.get(name);
    if (other) {
      throw new StackConfigError(
        `${role}RoleName`,
        `${shown(name)} is also the ${other} role's name; every role needs its own name`,
      );
    }
    byName.set(name, role);
  }

  const partTwo = partTwoSettings(keys, optionalBool, homeRegion, forensicAccount, managementAccountId);
  const adminRoleName = roleName("forensicAccountAdminRoleName");
  const deployment = deploymentRole(keys, adminRoleName, forensicAccount);
  const trailName = get("trailName");
  const bucketPrefix = get("bucketPrefix");
  const selectors = get("additionalEventSelectors");
  const memoryTool = get("memoryToolSha256");
  return {
    forensicAccount,
    forensicAccountAdminRoleName: deployment.adminRoleName,
    deploymentRoleArn: deployment.arn,
    managementAccountId,
    homeRegion,
    regions,
    targetOrganizationalUnitIds,
    trailRetentionDays: optionalInt("trailRetentionDays", 1, 36500),
    evidenceRetentionDays: optionalInt("evidenceRetentionDays", 1, 36500),
    trailName:
      trailName === undefined
        ? undefined
        : matching(
            "trailName",
            trailName,
            TRAIL_NAME,
            "3 to 128 letters, digits, '.', '_' or '-', starting and ending with a letter or digit",
          ),
    s3ObjectWrites: optionalBool("s3DataEvents"),
    lambdaInvokes: optionalBool("lambdaDataEvents"),
    additionalEventSelectors:
      selectors === undefined ? undefined : eventSelectors("additionalEventSelectors", selectors),
    cloudWatchLogsRetentionDays,
    responderPrincipalArns: responderPrincipals(principals),
    investigatorPrincipalArns: principals("investigatorPrincipals"),
    breakGlassPrincipalArns: principals("breakGlassPrincipals"),
    roleNames: definedRoleNames,
    bucketPrefix:
      bucketPrefix === undefined
        ? undefined
        : matching(
            "bucketPrefix",
            bucketPrefix,
            BUCKET_PREFIX,
            "3 to 20 lowercase letters, digits or '-', starting and ending with a letter or digit",
          ),
    keyDeletionWindowDays: optionalInt("keyDeletionWindowDays", 7, 30),
    memoryToolSha256:
      memoryTool === undefined
        ? undefined
        : matching(
            "memoryToolSha256",
            memoryTool,
            SHA256_HEX,
            "a SHA-256 in lower-case hex, 64 characters 0-9 and a-f (sha256sum of the staged tool)",
          ),
    ...partTwo,
    automation: automationSettings(keys, optionalBool),
  };
}

/**
 * The responder principals: required, and never an account root (which would let every administrator of that account
 * become the custody signer; docs/threat-model.md).
 */
function responderPrincipals(principals: (key: ConfigKey) => string[] | undefined): string[] {
  const arns = principals("responderPrincipals");
  if (arns === undefined)
    throw new StackConfigError(
      "responderPrincipals",
      "missing; valid: the roles or users that may act as the forensic responder, e.g. [arn:aws:iam::222222222222:role/IncidentResponder]",
    );
  const root = arns.find((arn) => arn.endsWith(":root"));
  if (root !== undefined)
    throw new StackConfigError(
      "responderPrincipals",
      `${shown(root)} is an account root (every principal of that account); valid: named roles or users such as arn:aws:iam::222222222222:role/IncidentResponder`,
    );
  return arns;
}

/**
 * The deployment role: required, and the role the deployment acts as in the forensic account, so its name is the
 * forensic account's admin role name (given or, when not, taken from it) and its account is `*` or the forensic account.
 */
function deploymentRole(
  keys: Map<string, string>,
  adminRoleName: string | undefined,
  forensicAccount: ForensicAccountSource,
): { arn: string; adminRoleName: string } {
  const value = keys.get("deploymentRoleArn");
  const example = `arn:aws:iam::*:role/${adminRoleName ?? "OrganizationAccountAccessRole"}`;
  if (value === undefined || value.trim() === "")
    throw new StackConfigError(
      "deploymentRoleArn",
      `missing; valid: the role the deployment acts as in the forensic account, e.g. ${example}`,
    );
  const match = DEPLOYMENT_ROLE_ARN.exec(value);
  if (!match)
    throw new StackConfigError(
      "deploymentRoleArn",
      `${shown(value)} is not valid; valid: a role ARN such as ${example}`,
    );
  const [, account, name] = match;
  if (adminRoleName !== undefined && name !== adminRoleName)
    throw new StackConfigError(
      "deploymentRoleArn",
      `${shown(value)} names role ${name}, but forensicAccountAdminRoleName is ${adminRoleName}; valid: ${example}`,
    );
  if (forensicAccount.kind === "adopt" && account !== "*" && account !== forensicAccount.accountId)
    throw new StackConfigError(
      "deploymentRoleArn",
      `${shown(value)} names account ${account}, not the forensic account ${forensicAccount.accountId}; valid: ${example}`,
    );
  if (forensicAccount.kind === "create" && account !== "*")
    throw new StackConfigError(
      "deploymentRoleArn",
      `${shown(value)} names account ${account}, but the forensic account is created (its ID is not known yet); valid: ${example}`,
    );
  return { arn: value, adminRoleName: name };
}

const DEPLOYMENT_ROLE_ARN = /^arn:aws:iam::(\d{12}|\*):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
