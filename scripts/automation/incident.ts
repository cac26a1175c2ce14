/**
 * What an automated response is about, read from the event that started it: a GuardDuty finding (AWS's published
 * finding format, as EventBridge delivers it), a Security Hub custom action (ASFF findings), or an explicit request.
 * Also the names a response goes by: the Step Functions execution name and the case ID, both derived from the finding,
 * so the same finding delivered twice is one execution and one case.
 *
 * Pure: no AWS calls.
 */
import { createHash } from "node:crypto";
import { REQUEST_DETAIL_TYPE, REQUEST_SOURCE } from "../../components/documents/automation";
import { UsageError } from "../errors";

/** What the response acts on. */
export type IncidentTarget =
  | { readonly kind: "instance"; readonly instanceId: string }
  | { readonly kind: "role"; readonly roleName: string }
  | { readonly kind: "access-key"; readonly userName: string; readonly accessKeyId: string };

/** One incident, whatever event announced it. */
export interface Incident {
  /** Where it came from. */
  readonly source: "guardduty" | "securityhub" | "request";
  /** The finding's (or request's) own ID. */
  readonly findingId: string;
  /** Finding type (`UnauthorizedAccess:EC2/SSHBruteForce`), or `Request` for an explicit request. */
  readonly findingType: string;
  /** Severity (GuardDuty scale 1-8.9; Security Hub's normalized 0-100 divided by 10; requests 10). */
  readonly severity: number;
  /** Member account of the affected resource. */
  readonly account: string;
  /** Region of the affected resource. */
  readonly region: string;
  /** The affected resource. */
  readonly target: IncidentTarget;
  /** One line for the case title and the notification. */
  readonly title: string;
  /** For explicit requests: the most the requester asks for (the guardrails may lower it). */
  readonly requestedMode?: string;
  /**
   * Every instance of the incident, when an explicit request names several (`instances`): one case, one execution,
   * contained and captured together. The first is also `target`, `account` and `region`. Absent otherwise.
   */
  readonly instances?: readonly InstanceRef[];
}

/** One instance of a multi-instance incident. */
export interface InstanceRef {
  /** Member account. */
  readonly account: string;
  /** Region. */
  readonly region: string;
  /** Instance ID. */
  readonly instanceId: string;
}

/** Most instances one request may name (the intake reads their tags in one call per account and region). */
export const MAX_REQUEST_INSTANCES = 1000;

/** Thrown for an event the automation does not handle (the dispatcher ignores it, with the reason in its log). */
export class UnsupportedEventError extends UsageError {}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function need(value: string | undefined, what: string, pattern?: RegExp): string {
  if (value === undefined || (pattern && !pattern.test(value)))
    throw new UnsupportedEventError(`event has no usable ${what} (got ${JSON.stringify(value ?? null)})`);
  return value;
}

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const INSTANCE = /^i-[0-9a-f]{8,17}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/** A GuardDuty finding as EventBridge delivers it (`detail` is the finding, GuardDuty finding format 2.0). */
function fromGuardDuty(detail: Json): Incident {
  const resource = obj(detail.resource);
  const type = need(str(detail.type), "finding type");
  const account = need(str(detail.accountId), "accountId", ACCOUNT);
  const region = need(str(detail.region), "region", REGION);
  let target: IncidentTarget;
  if (resource.resourceType === "Instance") {
    target = {
      kind: "instance",
      instanceId: need(str(obj(resource.instanceDetails).instanceId), "instance ID", INSTANCE),
    };
  } else if (resource.resourceType === "AccessKey") {
    const key = obj(resource.accessKeyDetails);
    const userType = str(key.userType);
    if (userType === "AssumedRole" || userType === "Role")
      target = { kind: "role", roleName: need(str(key.userName), "role name", ROLE_NAME) };
    else if (userType === "IAMUser")
      target = {
        kind: "access-key",
        userName: need(str(key.userName), "user name", ROLE_NAME),
        accessKeyId: need(str(key.accessKeyId), "access key ID", /^(AKIA|ASIA)[A-Z0-9]{12,}$/),
      };
    else
      throw new UnsupportedEventError(
        `GuardDuty finding for a ${userType ?? "unknown"} principal is not handled (roles and IAM users are)`,
      );
  } else {
    throw new UnsupportedEventError(
      `GuardDuty finding for resource type ${String(resource.resourceType)} is not handled (Instance and AccessKey are)`,
    );
  }
  return {
    source: "guardduty",
    findingId: need(str(detail.id), "finding ID", /^[\w-]{1,128}$/),
    findingType: type,
    severity: typeof detail.severity === "number" ? detail.severity : 0,
    account,
    region,
    target,
    title: `${type} in ${account} ${region}`.slice(0, 200),
  };
}

/** The first finding of a Security Hub custom action (ASFF). */
function fromSecurityHub(detail: Json): Incident {
  const findings = Array.isArray(detail.findings) ? detail.findings : [];
  if (findings.length !== 1)
    throw new UnsupportedEventError(
      `Security Hub custom action with ${findings.length} findings: select exactly one finding per action (one case per finding)`,
    );
  const finding = obj(findings[0]);
  const account = need(str(finding.AwsAccountId), "AwsAccountId", ACCOUNT);
  const region = need(str(finding.Region), "Region", REGION);
  const resources = Array.isArray(finding.Resources) ? finding.Resources.map(obj) : [];
  const instance = resources.find((r) => r.Type === "AwsEc2Instance");
  const role = resources.find((r) => r.Type === "AwsIamRole");
  let target: IncidentTarget;
  if (instance)
    target = { kind: "instance", instanceId: need(str(instance.Id)?.split("/").pop(), "instance ID", INSTANCE) };
  else if (role) target = { kind: "role", roleName: need(str(role.Id)?.split("/").pop(), "role name", ROLE_NAME) };
  else throw new UnsupportedEventError("Security Hub finding names no AwsEc2Instance or AwsIamRole resource");
  const types = Array.isArray(finding.Types) ? finding.Types : [];
  const type = str(types[0]) ?? "SecurityHub";
  const normalized = obj(finding.Severity).Normalized;
  return {
    source: "securityhub",
    findingId: need(str(finding.Id), "finding Id"),
    findingType: type,
    severity: typeof normalized === "number" ? normalized / 10 : 0,
    account,
    region,
    target,
    title: (str(finding.Title) ?? `${type} in ${account} ${region}`).slice(0, 200),
  };
}

/**
 * An explicit request: `{ account, region, instanceId | roleName | instances, requestId, reason, mode? }`, where
 * `instances` (`[{ account, region, instanceId }, ...]`) names every instance of one incident.
 */
function fromRequest(event: Json, detail: Json, forensicAccountId: string): Incident {
  const sender = str(event.account);
  // A member account may ask only about itself: the bus admits the whole organisation.
  const allowed = (account: string): string => {
    if (sender !== undefined && sender !== forensicAccountId && sender !== account)
      throw new UnsupportedEventError(
        `request from account ${sender} about account ${account} refused: a member account may request a response for itself only (the forensic account for any)`,
      );
    return account;
  };
  const listed = Array.isArray(detail.instances) ? detail.instances.map(obj) : undefined;
  if (listed !== undefined && (listed.length === 0 || listed.length > MAX_REQUEST_INSTANCES))
    throw new UnsupportedEventError(
      `request names ${listed.length} instances: give 1 to ${MAX_REQUEST_INSTANCES} ({account, region, instanceId})`,
    );
  const instances = listed?.map((i): InstanceRef => ({
    account: allowed(need(str(i.account), "instances[].account", ACCOUNT)),
    region: need(str(i.region), "instances[].region", REGION),
    instanceId: need(str(i.instanceId), "instances[].instanceId", INSTANCE),
  }));
  const account = instances ? instances[0].account : allowed(need(str(detail.account), "account", ACCOUNT));
  const region = instances ? instances[0].region : need(str(detail.region), "region", REGION);
  const instanceId = instances ? instances[0].instanceId : str(detail.instanceId);
  const roleName = str(detail.roleName);
  const target: IncidentTarget = instanceId
    ? { kind: "instance", instanceId: need(instanceId, "instanceId", INSTANCE) }
    : { kind: "role", roleName: need(roleName, "instanceId, instances or roleName", ROLE_NAME) };
  return {
    source: "request",
    findingId: need(str(detail.requestId) ?? str(event.id), "requestId", /^[\w.:-]{1,128}$/),
    findingType: "Request",
    severity: 10,
    account,
    region,
    target,
    title: (str(detail.reason) ?? `response requested for ${account}`).slice(0, 200),
    requestedMode: str(detail.mode),
    ...(instances ? { instances } : {}),
  };
}

/**
 * Reads the incident from an EventBridge event; throws {@link UnsupportedEventError} naming what is missing.
 *
 * @param event the event as EventBridge delivers it.
 * @param forensicAccountId the forensic account (the only sender that may request a response for another account).
 */
export function incidentOf(event: unknown, forensicAccountId: string): Incident {
  const e = obj(event);
  const detail = obj(e.detail);
  if (e.source === "aws.guardduty") return fromGuardDuty(detail);
  if (e.source === "aws.securityhub") return fromSecurityHub(detail);
  if (e.source === REQUEST_SOURCE && e["detail-type"] === REQUEST_DETAIL_TYPE)
    return fromRequest(e, detail, forensicAccountId);
  throw new UnsupportedEventError(`event source ${JSON.stringify(e.source ?? null)} is not one the automation handles`);
}

/**
 * The execution name of an incident (Step Functions: 1-80 of letters, digits, `-` and `_`; unique per state machine
 * for 90 days, so a second delivery of the same finding cannot start a second execution). GuardDuty IDs are unique per
 * account and region: the name keeps them readable; other IDs are hashed.
 */
export function executionNameOf(incident: Incident): string {
  const prefix = { guardduty: "gd", securityhub: "sh", request: "rq" }[incident.source];
  const digest = createHash("sha256")
    .update(`${incident.source}|${incident.account}|${incident.region}|${incident.findingId}`)
    .digest("hex");
  if (incident.source === "guardduty" && /^[0-9a-f]{32}$/.test(incident.findingId))
    return `${prefix}-${incident.account}-${incident.findingId}-${digest.slice(0, 8)}`;
  return `${prefix}-${incident.account}-${digest.slice(0, 40)}`;
}

/** The case of an execution: `AUTO-<execution name>`, a valid case ID. */
export function caseIdOf(executionName: string): string {
  return `AUTO-${executionName}`;
}

/** Every instance an incident names: the request's list, the finding's one instance, or none (a principal). */
export function incidentInstances(incident: Incident): InstanceRef[] {
  if (incident.instances) return [...incident.instances];
  const t = incident.target;
  return t.kind === "instance"
    ? [{ account: incident.account, region: incident.region, instanceId: t.instanceId }]
    : [];
}
