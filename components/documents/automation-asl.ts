/**
 * The response state machine's definition (Amazon States Language), built from the guardrails and the ARNs of what it
 * calls. Pure, so the component deploys, and the tests validate (`asl-validator`) and execute (a local interpreter),
 * exactly the same document.
 *
 * The runbook: read the kill switch (first, and fail closed: a missing or unreadable parameter halts) → intake (open
 * the case once, decide the mode from the guardrails, record the decision) → per mode: capture only; or wait for an
 * approver (task token, timeout → capture only); or claim a containment slot (rate limit, above it → capture only)
 * and contain → capture every instance (Map; each capture resumes from its tags, so a retry takes no second
 * snapshot) → verify the custody chain → notify.
 */
import type { AutomationGuardrails } from "./automation";
import { DocumentInputError, requireArn } from "./validate";

/** A state machine definition (JSON). */
export type AslDefinition = {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
  readonly Comment?: string;
  readonly TimeoutSeconds?: number;
};
/** One state (JSON object). */
export type AslState = Record<string, unknown>;

/** Arguments of {@link responseDefinition}. */
export interface ResponseDefinitionArgs {
  /** The guardrails (with defaults applied: `resolveGuardrails`). */
  readonly guardrails: AutomationGuardrails;
  /** ARNs of the functions the state machine invokes. */
  readonly functions: {
    readonly intake: string;
    readonly record: string;
    readonly contain: string;
    readonly capture: string;
    readonly verify: string;
  };
  /** The rate-limit table's name. */
  readonly rateTableName: string;
  /** The notification topic (approval requests and outcomes). */
  readonly topicArn: string;
  /** Instances captured at once (Map concurrency). Default 4: each capture copies its volumes 20 at a time per region. */
  readonly captureConcurrency?: number;
  /** Seconds an execution may run in all. Default 86400: snapshot copies of large volumes take hours. */
  readonly timeoutSeconds?: number;
}

/** Error a capture function raises when snapshots are still copying: the state retries it, and it resumes. */
export const CAPTURE_INCOMPLETE_ERROR = "CaptureIncomplete";

/** Error a contain function raises when a containment step failed: recorded (ContainFailed), capture goes on. */
export const CONTAINMENT_INCOMPLETE_ERROR = "ContainmentIncomplete";

/** Retries of transient Lambda service errors (AWS's recommended retrier for Lambda tasks). */
const LAMBDA_RETRY = {
  ErrorEquals: [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
  ],
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
};

function task(resource: string, parameters: Record<string, unknown>, next: string, extra: AslState = {}): AslState {
  return { Type: "Task", Resource: resource, Parameters: parameters, Retry: [LAMBDA_RETRY], Next: next, ...extra };
}

/** A record step: the record function appends one `automation.decision` record and returns the resulting decision. */
function recordStep(recordArn: string, stage: string, next: string, detailPath?: string): AslState {
  const parameters: Record<string, unknown> = { "intake.$": "$.intake", stage };
  if (detailPath) parameters["detail.$"] = detailPath;
  return task(recordArn, parameters, next, { ResultPath: `$.decisions.${stage.replace(/-/g, "_")}` });
}

/** The response state machine (Standard workflow). */
export function responseDefinition(args: ResponseDefinitionArgs): AslDefinition {
  const fns = Object.fromEntries(
    Object.entries(args.functions).map(([name, arn]) => [name, requireArn(`functions.${name}`, arn, "lambda")]),
  ) as ResponseDefinitionArgs["functions"];
  const topicArn = requireArn("topicArn", args.topicArn, "sns");
  if (!/^[\w.-]{3,255}$/.test(args.rateTableName))
    throw new DocumentInputError(`rateTableName: ${JSON.stringify(args.rateTableName)} is not a DynamoDB table name`);
  const g = args.guardrails;
  const concurrency = args.captureConcurrency ?? 4;
  const states: Record<string, AslState> = {
    ReadKillSwitch: {
      Type: "Task",
      Comment:
        "Read first. Only the value 'released' lets the automation act; a missing or unreadable parameter halts it.",
      Resource: "arn:aws:states:::aws-sdk:ssm:getParameter",
      Parameters: { Name: g.killSwitchParameterName },
      ResultSelector: { "value.$": "$.Parameter.Value" },
      ResultPath: "$.killSwitch",
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.killSwitchError", Next: "KillSwitchUnreadable" }],
      Next: "Intake",
    },
    KillSwitchUnreadable: { Type: "Pass", Result: { value: "unreadable" }, ResultPath: "$.killSwitch", Next: "Intake" },
    Intake: task(
      fns.intake,
      {
        "event.$": "$.event",
        "killSwitch.$": "$.killSwitch.value",
        "executionName.$": "$$.Execution.Name",
        guardrails: {
          modes: g.modes,
          defaultMode: g.defaultMode,
          excludedAccountIds: [...g.excludedAccountIds],
          minimumSeverity: g.minimumSeverity,
          approvalTimeoutSeconds: g.approvalTimeoutSeconds,
          lockDays: g.lockDays,
        },
      },
      "Route",
      { ResultPath: "$.intake" },
    ),
    Route: {
      Type: "Choice",
      Choices: [
        { Variable: "$.intake.decision", StringEquals: "skip", Next: "Skipped" },
        { Variable: "$.intake.decision", StringEquals: "approval", Next: "AwaitApproval" },
        { Variable: "$.intake.decision", StringEquals: "contain", Next: "ClaimContainmentSlot" },
      ],
      Default: "Capture",
    },
    Skipped: { Type: "Succeed", Comment: "The intake recorded why in the case's ledger." },
    AwaitApproval: {
      Type: "Task",
      Comment: "An approver answers with SendTaskSuccess {approved, by}; no answer in time means capture only.",
      Resource: "arn:aws:states:::sns:publish.waitForTaskToken",
      Parameters: {
        TopicArn: topicArn,
        Subject: "FLZ: containment awaits approval",
        Message: {
          "caseId.$": "$.intake.caseId",
          "findingType.$": "$.intake.findingType",
          "account.$": "$.intake.account",
          "region.$": "$.intake.region",
          "summary.$": "$.intake.summary",
          "taskToken.$": "$$.Task.Token",
          howToApprove:
            'aws stepfunctions send-task-success --task-token <taskToken> --task-output \'{"approved":true,"by":"<your name>"}\' (approved:false refuses: capture only)',
        },
      },
      TimeoutSeconds: g.approvalTimeoutSeconds,
      ResultPath: "$.approval",
      Catch: [
        { ErrorEquals: ["States.Timeout"], ResultPath: "$.approvalError", Next: "ApprovalTimedOut" },
        { ErrorEquals: ["States.ALL"], ResultPath: "$.approvalError", Next: "ApprovalFailed" },
      ],
      Next: "RecordApproval",
    },
    RecordApproval: recordStep(fns.record, "approval", "ApprovalRoute", "$.approval"),
    ApprovalRoute: {
      Type: "Choice",
      Choices: [{ Variable: "$.decisions.approval.decision", StringEquals: "contain", Next: "ClaimContainmentSlot" }],
      Default: "Capture",
    },
    ApprovalTimedOut: recordStep(fns.record, "approval-timeout", "Capture"),
    ApprovalFailed: recordStep(fns.record, "approval-failed", "Capture", "$.approvalError"),
    ClaimContainmentSlot: {
      Type: "Task",
      Comment: `At most ${g.maxContainmentsPerHour} cases contained per clock hour; the same case claims its slot once.`,
      Resource: "arn:aws:states:::dynamodb:updateItem",
      Parameters: {
        TableName: args.rateTableName,
        Key: { window: { "S.$": "$.intake.rateWindow" } },
        UpdateExpression: "ADD cases :case",
        ConditionExpression: "attribute_not_exists(cases) OR size(cases) < :limit OR contains(cases, :id)",
        ExpressionAttributeValues: {
          ":case": { "SS.$": "States.Array($.intake.caseId)" },
          ":id": { "S.$": "$.intake.caseId" },
          ":limit": { N: String(g.maxContainmentsPerHour) },
        },
      },
      ResultPath: null,
      Catch: [
        { ErrorEquals: ["DynamoDB.ConditionalCheckFailedException"], ResultPath: "$.rateError", Next: "RateLimited" },
        { ErrorEquals: ["States.ALL"], ResultPath: "$.rateError", Next: "RateUnknown" },
      ],
      Next: "Contain",
    },
    RateLimited: recordStep(fns.record, "rate-limited", "Capture"),
    RateUnknown: recordStep(fns.record, "rate-unknown", "Capture", "$.rateError"),
    Contain: task(fns.contain, { "intake.$": "$.intake" }, "Capture", {
      ResultPath: "$.containment",
      // No retry of a failed containment step: every AWS call already had the SDK's retries (8 attempts, transient
      // faults and throttling), and concurrent containments of one VPC settle their shared groups themselves
      // (scripts/contain/instance-read.ts). What still fails is not transient: it is recorded and capture goes on.
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.containError", Next: "ContainFailed" }],
    }),
    ContainFailed: recordStep(fns.record, "contain-failed", "Capture", "$.containError"),
    Capture: {
      Type: "Map",
      Comment:
        "Every instance of the incident; each capture copies its volumes within the 20-copies-per-region quota and resumes from its tags.",
      ItemsPath: "$.intake.instances",
      MaxConcurrency: concurrency,
      Iterator: {
        StartAt: "CaptureInstance",
        States: {
          CaptureInstance: {
            Type: "Task",
            Resource: fns.capture,
            Retry: [
              { ErrorEquals: [CAPTURE_INCOMPLETE_ERROR], IntervalSeconds: 60, MaxAttempts: 60, BackoffRate: 1 },
              LAMBDA_RETRY,
            ],
            End: true,
          },
        },
      },
      ResultPath: "$.captures",
      Next: "Verify",
    },
    Verify: task(fns.verify, { "intake.$": "$.intake" }, "Notify", { ResultPath: "$.verification" }),
    Notify: {
      Type: "Task",
      Resource: "arn:aws:states:::sns:publish",
      Parameters: {
        TopicArn: topicArn,
        Subject: "FLZ: automated response finished",
        "Message.$": "States.JsonToString($.verification)",
      },
      ResultPath: null,
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.notifyError", Next: "Done" }],
      Next: "Done",
    },
    Done: { Type: "Succeed" },
  };
  return {
    Comment:
      "flz response automation: kill switch, intake, mode, containment, capture, custody verification (issue 15)",
    StartAt: "ReadKillSwitch",
    TimeoutSeconds: args.timeoutSeconds ?? 86400,
    States: states,
  };
}
