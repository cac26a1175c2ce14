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
import type { AutomationFunction, AutomationGuardrails } from "./automation";
import {
  captureProcessor,
  containProcessor,
  distributedMap,
  DISTRIBUTED_CONTAIN_CONCURRENCY,
  INLINE_MAX_CONCURRENCY,
  LAMBDA_RETRY,
  MAX_INLINE_ITEMS,
  waits,
  type AslState,
  type ResponseFunctions,
} from "./automation-asl-maps";
import { DocumentInputError, requireArn } from "./validate";

/** A state machine definition (JSON). */
export type AslDefinition = {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
  readonly Comment?: string;
  readonly TimeoutSeconds?: number;
};

/** Arguments of {@link responseDefinition}. */
export interface ResponseDefinitionArgs {
  /** The guardrails (with defaults applied: `resolveGuardrails`). */
  readonly guardrails: AutomationGuardrails;
  /** ARNs of the functions the state machine invokes. */
  readonly functions: ResponseFunctions;
  /** The evidence bucket: where the intake writes the item lists of an incident too large for an inline Map. */
  readonly evidenceBucket: string;
  /** The rate-limit table's name. */
  readonly rateTableName: string;
  /** The notification topic (approval requests and outcomes). */
  readonly topicArn: string;
  /**
   * Instances captured at once in one region (the inner Map's MaxConcurrency). Default 10: EBS allows 20 concurrent
   * snapshot copies per destination region, and an instance typically has 2 volumes; an instance with more is kept
   * within the quota by the capture's own queue and its `ResourceLimitExceeded` backoff.
   */
  readonly captureConcurrency?: number;
  /** Seconds an execution may run in all. Default 86400: snapshot copies of large volumes take hours. */
  readonly timeoutSeconds?: number;
  /**
   * Instances above which an incident takes the Distributed Maps. Default and maximum {@link MAX_INLINE_ITEMS} (what
   * the 256 KiB payload limit allows); a lower value sends smaller incidents through the Distributed Maps too (the
   * offline runs use it to execute that path with a few instances).
   */
  readonly maxInlineItems?: number;
}

export {
  CAPTURE_INCOMPLETE_ERROR,
  CONTAINMENT_INCOMPLETE_ERROR,
  INLINE_MAX_CONCURRENCY,
  inlineBytesPerInstance,
  MAX_INLINE_ITEMS,
  PAYLOAD_LIMIT_BYTES,
  type AslState,
} from "./automation-asl-maps";

function task(
  resource: string,
  fn: AutomationFunction,
  parameters: Record<string, unknown>,
  next: string,
  extra: AslState = {},
): AslState {
  return {
    Type: "Task",
    Resource: resource,
    Parameters: parameters,
    ...waits(fn),
    Retry: [LAMBDA_RETRY],
    Next: next,
    ...extra,
  };
}

/** A record step: the record function appends one `automation.decision` record and returns the resulting decision. */
function recordStep(recordArn: string, stage: string, next: string, detailPath?: string): AslState {
  const parameters: Record<string, unknown> = { "intake.$": "$.intake", stage };
  if (detailPath) parameters["detail.$"] = detailPath;
  return task(recordArn, "record", parameters, next, { ResultPath: `$.decisions.${stage.replace(/-/g, "_")}` });
}

/** The response state machine (Standard workflow). */
export function responseDefinition(args: ResponseDefinitionArgs): AslDefinition {
  const arn = (name: keyof ResponseFunctions) => requireArn(`functions.${name}`, args.functions[name], "lambda");
  const fns: ResponseFunctions = {
    intake: arn("intake"),
    record: arn("record"),
    contain: arn("contain"),
    capture: arn("capture"),
    hash: arn("hash"),
    verify: arn("verify"),
  };
  const topicArn = requireArn("topicArn", args.topicArn, "sns");
  if (!/^[\w.-]{3,255}$/.test(args.rateTableName))
    throw new DocumentInputError(`rateTableName: ${JSON.stringify(args.rateTableName)} is not a DynamoDB table name`);
  const g = args.guardrails;
  const concurrency = args.captureConcurrency ?? 10;
  const maxInlineItems = args.maxInlineItems ?? MAX_INLINE_ITEMS;
  if (!Number.isInteger(maxInlineItems) || maxInlineItems < 1 || maxInlineItems > MAX_INLINE_ITEMS)
    throw new DocumentInputError(
      `maxInlineItems: ${String(maxInlineItems)} is not valid; valid: a whole number from 1 to ${MAX_INLINE_ITEMS} (above it an inline Map's payload may exceed 256 KiB)`,
    );
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(args.evidenceBucket))
    throw new DocumentInputError(`evidenceBucket: ${JSON.stringify(args.evidenceBucket)} is not an S3 bucket name`);
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
      "intake",
      {
        "event.$": "$.event",
        "killSwitch.$": "$.killSwitch.value",
        "executionName.$": "$$.Execution.Name",
        guardrails: intakeGuardrails(g),
        maxInlineItems,
        listBucket: args.evidenceBucket,
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
      Default: "CaptureRoute",
    },
    // A skip is announced, not only recorded: the opt-out tag is writable by an administrator of the member account,
    // so an intruder who tags the instance `flz:automation=off` must not stop the response unnoticed.
    Skipped: {
      Type: "Task",
      Comment: "The intake recorded why in the case's ledger; the on-call channel hears it too.",
      Resource: "arn:aws:states:::sns:publish",
      Parameters: {
        TopicArn: topicArn,
        Subject: "FLZ: automated response skipped",
        "Message.$": "$.intake.summary",
      },
      ResultPath: null,
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.notifyError", Next: "Done" }],
      Next: "Done",
    },
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
      Default: "CaptureRoute",
    },
    ApprovalTimedOut: recordStep(fns.record, "approval-timeout", "CaptureRoute"),
    ApprovalFailed: recordStep(fns.record, "approval-failed", "CaptureRoute", "$.approvalError"),
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
      Next: "ContainRoute",
    },
    RateLimited: recordStep(fns.record, "rate-limited", "CaptureRoute"),
    RateUnknown: recordStep(fns.record, "rate-unknown", "CaptureRoute", "$.rateError"),
    ContainRoute: {
      Type: "Choice",
      Choices: [{ Variable: "$.intake.distributed", BooleanEquals: true, Next: "ContainDistributed" }],
      Default: "Contain",
    },
    Contain: {
      Type: "Map",
      Comment:
        "Every target at once (inline Maps run up to 40 iterations at a time): all instances are contained before any capture starts.",
      ItemsPath: "$.intake.containItems",
      MaxConcurrency: INLINE_MAX_CONCURRENCY,
      ItemProcessor: { ProcessorConfig: { Mode: "INLINE" }, ...containProcessor(fns) },
      ResultPath: "$.containment",
      Next: "CaptureRoute",
    },
    ContainDistributed: distributedMap({
      comment: "An incident too large for the state's payload: the targets are read from the list the intake wrote.",
      bucket: args.evidenceBucket,
      keyPath: "$.intake.lists.containKey",
      maxConcurrency: DISTRIBUTED_CONTAIN_CONCURRENCY,
      processor: containProcessor(fns, "Distributed"),
      next: "CaptureRoute",
    }),
    CaptureRoute: {
      Type: "Choice",
      Choices: [{ Variable: "$.intake.distributed", BooleanEquals: true, Next: "CaptureDistributed" }],
      Default: "Capture",
    },
    Capture: {
      Type: "Map",
      Comment:
        "Every region at once; in each, the instances captured within the 20-copies-per-region quota, each hashed once captured.",
      ItemsPath: "$.intake.regions",
      MaxConcurrency: 0,
      ItemProcessor: {
        ProcessorConfig: { Mode: "INLINE" },
        StartAt: "CaptureRegion",
        States: {
          CaptureRegion: {
            Type: "Map",
            ItemsPath: "$.instances",
            MaxConcurrency: concurrency,
            ItemProcessor: { ProcessorConfig: { Mode: "INLINE" }, ...captureProcessor(fns) },
            End: true,
          },
        },
      },
      ResultPath: "$.captures",
      Next: "Verify",
    },
    CaptureDistributed: distributedMap({
      comment:
        "An incident too large for the state's payload: the instances are read from the list the intake wrote; at most as many at once as one region's copy quota allows, wherever they are.",
      bucket: args.evidenceBucket,
      keyPath: "$.intake.lists.captureKey",
      maxConcurrency: concurrency,
      processor: captureProcessor(fns, "Distributed"),
      next: "Verify",
    }),
    Verify: task(fns.verify, "verify", { "intake.$": "$.intake" }, "Notify", { ResultPath: "$.verification" }),
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

/**
 * The guardrails the state machine hands the intake function (what it decides with; the kill switch, exclusions by
 * tag and the rate limit are states of their own).
 * @param g The guardrails, with defaults applied (`resolveGuardrails`).
 */
export function intakeGuardrails(g: AutomationGuardrails): {
  modes: AutomationGuardrails["modes"];
  defaultMode: AutomationGuardrails["defaultMode"];
  excludedAccountIds: string[];
  minimumSeverity: AutomationGuardrails["minimumSeverity"];
  approvalTimeoutSeconds: AutomationGuardrails["approvalTimeoutSeconds"];
  lockDays: AutomationGuardrails["lockDays"];
} {
  return {
    modes: g.modes,
    defaultMode: g.defaultMode,
    excludedAccountIds: [...g.excludedAccountIds],
    minimumSeverity: g.minimumSeverity,
    approvalTimeoutSeconds: g.approvalTimeoutSeconds,
    lockDays: g.lockDays,
  };
}
