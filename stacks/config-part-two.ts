/**
 * The part-two keys of the stack configuration (guardrails, detection, investigation, forensic VPC, alarms), parsed and
 * validated like the rest (`config.ts`): one line naming the key, the value and what is valid.
 */
import type { ForensicAccountSource } from "../components/forensicAccount";
import type { AlarmSubscription } from "../components/IncidentAlarms";
import type { ForensicLandingZoneArgs } from "../components/forensicLandingZone";
import {
  ACCOUNT_ID,
  DETECTIVE_GRAPH_ARN,
  OU_OR_ROOT,
  StackConfigError,
  integer,
  matching,
  region,
  shown,
  uniqueList,
  type ConfigKey,
} from "./config";

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const SUBSCRIPTION_PROTOCOLS = ["email", "email-json", "https", "http", "sqs", "lambda", "sms", "firehose"];

/** A CIDR block of /16 to /22 (the forensic VPC carves /24 subnets from it). */
function cidrBlock(key: string, value: string): string {
  const match = CIDR.exec(value);
  const octetsOk = match !== null && match.slice(1, 5).every((o) => Number(o) <= 255);
  const prefix = match ? Number(match[5]) : -1;
  if (!octetsOk || prefix < 16 || prefix > 22)
    throw new StackConfigError(
      key,
      `${shown(value)} is not valid; valid: an IPv4 block from /16 to /22 such as 10.77.0.0/16`,
    );
  return value;
}

/** Detective graphs to adopt: a map region → graph ARN (YAML map; Pulumi passes it as JSON text). */
function graphArns(value: string | undefined): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const valid = "a map of region: arn:aws:detective:<region>:<account>:graph:<id>";
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new StackConfigError("detectiveGraphArns", `${shown(value)} is not valid; valid: ${valid}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new StackConfigError("detectiveGraphArns", `${shown(value)} is not a map; valid: ${valid}`);
  const result: Record<string, string> = {};
  for (const [r, arn] of Object.entries(parsed as Record<string, unknown>)) {
    region("detectiveGraphArns", r);
    if (typeof arn !== "string" || !DETECTIVE_GRAPH_ARN.test(arn) || arn.split(":")[3] !== r)
      throw new StackConfigError(
        "detectiveGraphArns",
        `${shown(String(arn))} (for ${r}) is not valid; valid: ${valid}`,
      );
    result[r] = arn;
  }
  return result;
}

/** Alarm subscriptions: a list of {protocol, endpoint}. */
function subscriptions(key: string, value: string): AlarmSubscription[] {
  const valid = `a list of {protocol, endpoint} with protocol one of ${SUBSCRIPTION_PROTOCOLS.join(", ")}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new StackConfigError(key, `${shown(value)} is not valid; valid: ${valid}`);
  }
  if (!Array.isArray(parsed)) throw new StackConfigError(key, `${shown(value)} is not a list; valid: ${valid}`);
  return parsed.map((item: unknown, index) => {
    const s = item as { protocol?: unknown; endpoint?: unknown } | null;
    if (
      typeof s !== "object" ||
      s === null ||
      typeof s.protocol !== "string" ||
      !SUBSCRIPTION_PROTOCOLS.includes(s.protocol) ||
      typeof s.endpoint !== "string" ||
      s.endpoint.trim() === ""
    )
      throw new StackConfigError(key, `item ${index} ${JSON.stringify(item)} is not valid; valid: ${valid}`);
    return { protocol: s.protocol, endpoint: s.endpoint };
  });
}

/** The part-two settings (guardrails, detection, investigation, forensic VPC, alarms), each switchable. */
export function partTwoSettings(
  keys: Map<string, string>,
  optionalBool: (key: ConfigKey) => boolean | undefined,
  homeRegion: string,
  forensicAccount: ForensicAccountSource,
  managementAccountId: string | undefined,
): Pick<ForensicLandingZoneArgs, "guardrails" | "detection" | "investigation" | "forensicVpc" | "alarms"> {
  const get = (key: ConfigKey): string | undefined => keys.get(key);
  const targets = (key: ConfigKey): string[] | undefined => {
    const value = get(key);
    return value === undefined
      ? undefined
      : uniqueList(key, value, (id) =>
          matching(key, id, OU_OR_ROOT, "the root ID such as r-ab12 or OU IDs such as ou-ab12-cd34ef56"),
        );
  };
  const guardrails = {
    enabled: optionalBool("guardrails"),
    targetIds: targets("guardrailTargetIds"),
    workloadBaseline: optionalBool("workloadBaseline"),
    workloadTargetIds: targets("workloadGuardrailTargetIds"),
    resourceControlTargetIds: targets("resourceControlTargetIds"),
  };
  if (guardrails.enabled === false) {
    for (const key of [
      "guardrailTargetIds",
      "workloadBaseline",
      "workloadGuardrailTargetIds",
      "resourceControlTargetIds",
    ] as const)
      if (keys.has(key))
        throw new StackConfigError(key, "is set but guardrails is false; remove it or set guardrails: true");
  }

  const detectionOn = optionalBool("detection") ?? true;
  const adminRaw = get("detectionAdminAccountId");
  const adminAccountId =
    adminRaw === undefined
      ? undefined
      : matching("detectionAdminAccountId", adminRaw, ACCOUNT_ID, "a 12-digit AWS account ID such as 333333333333");
  if (adminAccountId !== undefined && adminAccountId === managementAccountId)
    throw new StackConfigError(
      "detectionAdminAccountId",
      `${shown(adminAccountId)} is the management account; delegate to the forensic or a security account`,
    );
  if (!detectionOn) {
    for (const key of [
      "guardDuty",
      "securityHub",
      "detective",
      "detectionAdminAccountId",
      "guardDutyAdoptExisting",
      "securityHubAdoptExisting",
      "detectiveGraphArns",
    ] as const)
      if (keys.has(key))
        throw new StackConfigError(key, "is set but detection is false; remove it or set detection: true");
  }
  const detection = detectionOn
    ? {
        guardDuty: optionalBool("guardDuty"),
        securityHub: optionalBool("securityHub"),
        detective: optionalBool("detective"),
        adoptGuardDutyDetector: optionalBool("guardDutyAdoptExisting"),
        adoptSecurityHub: optionalBool("securityHubAdoptExisting"),
        detectiveGraphArns: graphArns(get("detectiveGraphArns")),
        // Delegating to the forensic account itself needs no extra provider: say so by leaving the ID out.
        adminAccountId:
          forensicAccount.kind === "adopt" && adminAccountId === forensicAccount.accountId ? undefined : adminAccountId,
      }
    : (false as const);

  const cutoff = get("investigationBytesScannedCutoff");
  const investigation = {
    enabled: optionalBool("investigation"),
    bytesScannedCutoffPerQuery:
      cutoff === undefined
        ? undefined
        : integer("investigationBytesScannedCutoff", cutoff, 10_000_000, Number.MAX_SAFE_INTEGER),
  };

  const zonesRaw = get("forensicVpcZones");
  const zones =
    zonesRaw === undefined
      ? undefined
      : uniqueList("forensicVpcZones", zonesRaw, (zone) =>
          matching(
            "forensicVpcZones",
            zone,
            new RegExp(`^${homeRegion}[a-z]$`),
            `zones of the home region ${homeRegion} such as ${homeRegion}a`,
          ),
        );
  if (zones !== undefined && zones.length < 2)
    throw new StackConfigError("forensicVpcZones", `${shown(zonesRaw ?? "")} names one zone; valid: two or more zones`);
  const cidr = get("forensicVpcCidr");
  const forensicVpc = {
    enabled: optionalBool("forensicVpc"),
    cidrBlock: cidr === undefined ? undefined : cidrBlock("forensicVpcCidr", cidr),
    availabilityZones: zones,
  };

  const subs = get("alarmSubscriptions");
  const alarms = {
    enabled: optionalBool("alarms"),
    subscriptions: subs === undefined ? undefined : subscriptions("alarmSubscriptions", subs),
  };
  return { guardrails, detection, investigation, forensicVpc, alarms };
}
