/**
 * Documents of the response automation (DESIGN.md §12, issue 15): the guardrail settings and their validation, the
 * EventBridge patterns that start a response (GuardDuty findings at or above a severity, the Security Hub custom
 * action, an explicit request), the response bus's policy (the organisation only), and the identity and trust
 * policies of the automation's roles (one per Lambda function, the state machine's, the event forwarders').
 *
 * Pure: plain strings in, documents out. The state machine definition is built in `automation-asl.ts`.
 */
import type { EventPattern } from "./alarms";
import type { PolicyDocument, PolicyStatement } from "./types";
import { DocumentInputError, requireAccountId, requireArn, requireOrganizationId } from "./validate";

/**
 * What the automation does for a finding type:
 * - `observe`: capture only (evidence, no change to the workload);
 * - `approval`: wait for an approver's decision (task token), capture only when the wait times out or is refused;
 * - `contain`: contain, then capture.
 */
export type AutomationMode = "observe" | "approval" | "contain";

/** Every mode, for validation and help. */
export const AUTOMATION_MODES: readonly AutomationMode[] = ["observe", "approval", "contain"];

/** Tag of an instance or role that the automation never touches (its value must be {@link OPT_OUT_TAG_VALUE}). */
export const OPT_OUT_TAG_KEY = "flz:automation";
/** Value of {@link OPT_OUT_TAG_KEY} that opts a resource out. */
export const OPT_OUT_TAG_VALUE = "off";

/** SSM parameter the state machine reads first. Only the value {@link KILL_SWITCH_RELEASED} lets it act. */
export const DEFAULT_KILL_SWITCH_PARAMETER = "/flz/automation/kill-switch";
/** The one kill-switch value under which the automation acts; anything else (or no parameter) halts it. */
export const KILL_SWITCH_RELEASED = "released";

/** `source` of an explicit response request (EventBridge refuses `aws.` sources from callers). */
export const REQUEST_SOURCE = "flz.automation";
/** `detail-type` of an explicit response request. */
export const REQUEST_DETAIL_TYPE = "FLZ Response Request";
/** Identifier of the Security Hub custom action ("FLZ: contain and capture"). */
export const SECURITY_HUB_ACTION_ID = "FlzContainCapture";

/** The guardrails, as configured (every field optional; {@link resolveGuardrails} applies the defaults). */
export interface AutomationGuardrailSettings {
  /**
   * Mode per finding type: an exact GuardDuty/Security Hub type (`UnauthorizedAccess:EC2/SSHBruteForce`) or a prefix
   * ending in `*` (`CryptoCurrency:*`). The longest matching key wins. Default: none (every type takes `defaultMode`).
   */
  readonly modes?: Readonly<Record<string, AutomationMode>>;
  /** Mode of a finding type no key matches. Default `observe`: automation starts by only collecting evidence. */
  readonly defaultMode?: AutomationMode;
  /** Seconds an approval waits before the response falls back to capture only. Default 3600; 60 to 86400. */
  readonly approvalTimeoutSeconds?: number;
  /** Accounts never touched (production, the forensic account itself). Default none. */
  readonly excludedAccountIds?: readonly string[];
  /** Containments per clock hour across the organisation; above it, capture only. Default 10; 1 to 1000. */
  readonly maxContainmentsPerHour?: number;
  /** Minimum GuardDuty severity that starts a response (1 to 8.9). Default 7 (High and Critical). */
  readonly minimumSeverity?: number;
  /** Name of the kill-switch parameter. Default {@link DEFAULT_KILL_SWITCH_PARAMETER}. */
  readonly killSwitchParameterName?: string;
  /** Days the captured snapshots stay compliance-locked. Default 365. */
  readonly lockDays?: number;
}

/** The guardrails with every default applied. */
export interface AutomationGuardrails {
  readonly modes: Readonly<Record<string, AutomationMode>>;
  readonly defaultMode: AutomationMode;
  readonly approvalTimeoutSeconds: number;
  readonly excludedAccountIds: readonly string[];
  readonly maxContainmentsPerHour: number;
  readonly minimumSeverity: number;
  readonly killSwitchParameterName: string;
  readonly lockDays: number;
}

function wholeIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new DocumentInputError(`${name}: ${String(value)} is not valid; valid: a whole number from ${min} to ${max}`);
  return value;
}

/** Applies the defaults and validates; throws {@link DocumentInputError} naming the bad value. */
export function resolveGuardrails(settings: AutomationGuardrailSettings = {}): AutomationGuardrails {
  const modes = { ...(settings.modes ?? {}) };
  for (const [type, mode] of Object.entries(modes)) {
    if (!AUTOMATION_MODES.includes(mode))
      throw new DocumentInputError(
        `modes.${type}: ${String(mode)} is not valid; valid: ${AUTOMATION_MODES.join(", ")}`,
      );
    if (!/^[\w:/.*-]{1,200}$/.test(type) || (type.includes("*") && !type.endsWith("*")))
      throw new DocumentInputError(
        `modes: finding type ${JSON.stringify(type)} is not valid; valid: a type such as UnauthorizedAccess:EC2/SSHBruteForce or a prefix ending in * (CryptoCurrency:*)`,
      );
  }
  const defaultMode = settings.defaultMode ?? "observe";
  if (!AUTOMATION_MODES.includes(defaultMode))
    throw new DocumentInputError(
      `defaultMode: ${String(defaultMode)} is not valid; valid: ${AUTOMATION_MODES.join(", ")}`,
    );
  const severity = settings.minimumSeverity ?? 7;
  if (!(severity >= 1 && severity < 9))
    throw new DocumentInputError(
      `minimumSeverity: ${String(severity)} is not valid; valid: 1 to 8.9 (GuardDuty severity)`,
    );
  const killSwitch = settings.killSwitchParameterName ?? DEFAULT_KILL_SWITCH_PARAMETER;
  if (!/^\/[\w./-]{1,1010}$/.test(killSwitch))
    throw new DocumentInputError(
      `killSwitchParameterName: ${JSON.stringify(killSwitch)} is not valid; valid: an SSM parameter path such as ${DEFAULT_KILL_SWITCH_PARAMETER}`,
    );
  return {
    modes,
    defaultMode,
    approvalTimeoutSeconds: wholeIn("approvalTimeoutSeconds", settings.approvalTimeoutSeconds ?? 3600, 1, 86400),
    excludedAccountIds: (settings.excludedAccountIds ?? []).map((a) => requireAccountId("excludedAccountIds", a)),
    maxContainmentsPerHour: wholeIn("maxContainmentsPerHour", settings.maxContainmentsPerHour ?? 10, 1, 1000),
    minimumSeverity: severity,
    killSwitchParameterName: killSwitch,
    lockDays: wholeIn("lockDays", settings.lockDays ?? 365, 1, 36500),
  };
}

/** The mode of a finding type: the longest matching key of `modes` (exact beats prefix), else the default. */
export function modeFor(
  guardrails: Pick<AutomationGuardrails, "modes" | "defaultMode">,
  findingType: string,
): AutomationMode {
  let best: { length: number; mode: AutomationMode } | undefined;
  for (const [key, mode] of Object.entries(guardrails.modes)) {
    const matches = key.endsWith("*") ? findingType.startsWith(key.slice(0, -1)) : key === findingType;
    const length = key.endsWith("*") ? key.length - 1 : Number.MAX_SAFE_INTEGER;
    if (matches && (!best || length > best.length)) best = { length, mode };
  }
  return best?.mode ?? guardrails.defaultMode;
}

/**
 * GuardDuty findings at or above `minimumSeverity` (EventBridge numeric matching; GuardDuty user guide, "Creating
 * custom responses to GuardDuty findings with Amazon EventBridge"). The delegated administrator's bus receives the
 * findings of every member account of its region, so one rule per governed region covers the organisation.
 */
export function guardDutyResponsePattern(minimumSeverity: number): EventPattern {
  return {
    source: ["aws.guardduty"],
    "detail-type": ["GuardDuty Finding"],
    detail: { severity: [{ numeric: [">=", minimumSeverity] }] },
  };
}

/** The Security Hub custom action "FLZ: contain and capture" of the forensic account (Security Hub user guide, "Custom actions"). */
export function securityHubActionPattern(actionTargetArn: string): EventPattern {
  return {
    source: ["aws.securityhub"],
    "detail-type": ["Security Hub Findings - Custom Action"],
    resources: [requireArn("actionTargetArn", actionTargetArn, "securityhub")],
  };
}

/** An explicit response request (`flz` or a runbook puts it on the response bus). */
export function responseRequestPattern(): EventPattern {
  return { source: [REQUEST_SOURCE], "detail-type": [REQUEST_DETAIL_TYPE] };
}

/** Everything the response bus's dispatch rule accepts: the three kinds above. */
export function responseBusPattern(actionTargetArn?: string): EventPattern {
  const kinds: EventPattern[] = [
    { source: ["aws.guardduty"], "detail-type": ["GuardDuty Finding"] },
    responseRequestPattern(),
  ];
  if (actionTargetArn) kinds.push(securityHubActionPattern(actionTargetArn));
  return { $or: kinds };
}

/** Arguments of {@link responseBusPolicy}. */
export interface ResponseBusPolicyArgs {
  /** The response bus. */
  readonly busArn: string;
  /** The organisation whose principals may put events. */
  readonly organizationId: string;
}

/**
 * Policy of the response bus: only principals of the organisation may put events on it (the forwarders of every
 * governed region, and explicit requests from member accounts). The dispatcher accepts an explicit request only for
 * the sender's own account (or from the forensic account), so a member administrator cannot aim the automation at
 * another account; the guardrails still apply to whatever is accepted.
 */
export function responseBusPolicy(args: ResponseBusPolicyArgs): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowOrganizationPutEvents",
        Effect: "Allow",
        Principal: "*",
        Action: "events:PutEvents",
        Resource: requireArn("busArn", args.busArn, "events"),
        Condition: {
          StringEquals: { "aws:PrincipalOrgID": requireOrganizationId("organizationId", args.organizationId) },
        },
      },
    ],
  };
}

/** Trust of a role a service assumes, limited to this account's resources (confused-deputy protection). */
export function serviceRoleTrust(service: string, accountId: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowServiceOfThisAccount",
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": requireAccountId("accountId", accountId) } },
      },
    ],
  };
}

/** Role of the event forwarders: put events on the response bus only. */
export function eventForwarderPermissions(busArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "PutOnResponseBus",
        Effect: "Allow",
        Action: "events:PutEvents",
        Resource: requireArn("busArn", busArn, "events"),
      },
    ],
  };
}

/** The automation's Lambda functions, each with its own role. */
export type AutomationFunction = "dispatch" | "intake" | "record" | "contain" | "capture" | "hash" | "verify";

/** Every function, in the order of a response. */
export const AUTOMATION_FUNCTIONS: readonly AutomationFunction[] = [
  "dispatch",
  "intake",
  "record",
  "contain",
  "capture",
  "hash",
  "verify",
];

/**
 * Seconds each function may run (Lambda's limit is 900): the capture waits for copies, then hands back to a retry;
 * the hash hands what it could not finish to `flz hash --case`. The state machine's tasks wait as long (and no longer).
 */
export const FUNCTION_TIMEOUT_SECONDS: Readonly<Record<AutomationFunction, number>> = {
  dispatch: 30,
  intake: 120,
  record: 60,
  contain: 300,
  capture: 900,
  hash: 900,
  verify: 300,
};

/** Arguments of {@link automationFunctionPermissions}. */
export interface AutomationFunctionPermissionsArgs {
  /** Which function. */
  readonly fn: AutomationFunction;
  /** ARN of the function's own log group (`arn:aws:logs:<region>:<account>:log-group:/aws/lambda/<name>`). */
  readonly logGroupArn: string;
  /** The forensic responder role, which every function but the dispatcher acts through (as `flz` does). */
  readonly forensicResponderRoleArn: string;
  /** The state machine (the dispatcher starts executions of it, and nothing else). */
  readonly stateMachineArn: string;
}

/**
 * Identity policy of one function's role. The dispatcher may only start executions of the response state machine
 * (named after the finding, so a duplicate is refused by Step Functions). Every other function runs the CLI's own
 * code, which acts as the forensic responder (the same role and session as `flz`, so the custody records, the
 * signature and the member sessions are the CLI's): it may assume that role and tag the session with the case, and
 * nothing else. Every function writes only its own log group.
 */
export function automationFunctionPermissions(args: AutomationFunctionPermissionsArgs): PolicyDocument {
  const logs: PolicyStatement = {
    Sid: "WriteOwnLogs",
    Effect: "Allow",
    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
    Resource: `${requireArn("logGroupArn", args.logGroupArn, "logs")}:*`,
  };
  const statements: PolicyStatement[] =
    args.fn === "dispatch"
      ? [
          {
            Sid: "StartResponseExecutions",
            Effect: "Allow",
            Action: "states:StartExecution",
            Resource: requireArn("stateMachineArn", args.stateMachineArn, "states"),
          },
        ]
      : [
          {
            Sid: "ActAsForensicResponder",
            Effect: "Allow",
            Action: ["sts:AssumeRole", "sts:TagSession"],
            Resource: requireArn("forensicResponderRoleArn", args.forensicResponderRoleArn, "iam"),
          },
        ];
  return { Version: "2012-10-17", Statement: [...statements, logs] };
}

/** Arguments of {@link stateMachinePermissions}. */
export interface StateMachinePermissionsArgs {
  /** The functions the state machine invokes (every one but the dispatcher). */
  readonly functionArns: readonly string[];
  /** The kill-switch parameter's ARN. */
  readonly killSwitchParameterArn: string;
  /** The rate-limit table's ARN. */
  readonly rateTableArn: string;
  /** The notification topic's ARN. */
  readonly topicArn: string;
  /** The state machine's own ARN: its Distributed Maps start child executions of it. */
  readonly stateMachineArn: string;
  /** The evidence bucket, where the intake writes the item lists the Distributed Maps read. */
  readonly evidenceBucket: string;
}

/**
 * Identity policy of the state machine's role: invoke the automation's functions, read the kill switch, claim a
 * containment slot in the rate table, publish to the notification topic (encrypted with the AWS-managed SNS key,
 * usable only through SNS: `kms:ViaService`).
 */
export function stateMachinePermissions(args: StateMachinePermissionsArgs): PolicyDocument {
  const topicArn = requireArn("topicArn", args.topicArn, "sns");
  const region = topicArn.split(":")[3];
  const machineArn = requireArn("stateMachineArn", args.stateMachineArn, "states");
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(args.evidenceBucket))
    throw new DocumentInputError(`evidenceBucket: ${JSON.stringify(args.evidenceBucket)} is not an S3 bucket name`);
  const bucket = args.evidenceBucket;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "InvokeAutomationFunctions",
        Effect: "Allow",
        Action: "lambda:InvokeFunction",
        Resource: args.functionArns.map((a) => requireArn("functionArns", a, "lambda")),
      },
      {
        Sid: "ReadKillSwitch",
        Effect: "Allow",
        Action: "ssm:GetParameter",
        Resource: requireArn("killSwitchParameterArn", args.killSwitchParameterArn, "ssm"),
      },
      {
        Sid: "ClaimContainmentSlot",
        Effect: "Allow",
        Action: "dynamodb:UpdateItem",
        Resource: requireArn("rateTableArn", args.rateTableArn, "dynamodb"),
      },
      { Sid: "Notify", Effect: "Allow", Action: "sns:Publish", Resource: topicArn },
      {
        Sid: "EncryptNotifications",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
        Resource: "*",
        Condition: { StringEquals: { "kms:ViaService": `sns.${region}.amazonaws.com` } },
      },
      // Distributed Maps ("IAM policies for using Distributed Map states", Step Functions developer guide): each
      // iteration is a child execution of this state machine, which the parent starts, watches and stops; the
      // ItemReader reads the list with s3:GetObject, decrypted with the evidence key through S3 only.
      {
        Sid: "RunDistributedMapChildren",
        Effect: "Allow",
        Action: "states:StartExecution",
        Resource: machineArn,
      },
      {
        Sid: "WatchDistributedMapChildren",
        Effect: "Allow",
        Action: ["states:DescribeExecution", "states:StopExecution"],
        Resource: `${machineArn.replace(":stateMachine:", ":execution:")}/*`,
      },
      {
        Sid: "ReadDistributedMapItems",
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: `arn:${machineArn.split(":")[1]}:s3:::${bucket}/cases/*/automation/*`,
      },
      {
        Sid: "DecryptDistributedMapItems",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: "*",
        Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
      },
    ],
  };
}
