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
import { FUNCTION_TIMEOUT_SECONDS, type AutomationFunction, type AutomationGuardrails } from "./automation";
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
    readonly hash: string;
    readonly verify: string;
  };
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

/**
 * How long a task waits for its function: the function's own timeout (Step Functions' Task default is 99999999 s, so
 * without it a lost invocation would hold the execution until the execution's own timeout).
 */
const waits = (fn: AutomationFunction): { TimeoutSeconds: number } => ({
  TimeoutSeconds: FUNCTION_TIMEOUT_SECONDS[fn],
});

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

/**
 * Step Functions' limit on a state's input and output: 256 KiB of UTF-8 ("Step Functions service quotas", quotas
 * related to state machine executions: "Maximum input or output size for a task, state, or execution: 256 KiB").
 */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

/** Inline Map iterations Step Functions runs at once, at most ("Using Map state in Inline mode": up to 40). */
export const INLINE_MAX_CONCURRENCY = 40;

/** Child workflows a Distributed Map runs at once when containing (well below its limit of 10,000). */
const DISTRIBUTED_CONTAIN_CONCURRENCY = 100;

/**
 * Bytes the inline path carries per instance, in the worst case the automation produces: the instance in the
 * request event, its contain item and capture item in the intake's output, and the Maps' results (containment, and
 * a capture of 8 volumes with their hashes), each with the longest IDs the formats allow. Built from sample items so
 * the figure follows the shapes the handlers return.
 */
export function inlineBytesPerInstance(): number {
  const caseId = `AUTO-rq-123456789012-${"f".repeat(40)}`;
  const snapshot = "snap-0123456789abcdef0";
  const instance = { account: "123456789012", region: "ap-southeast-2", instanceId: "i-0123456789abcdef0" };
  const containItem = {
    caseId,
    findingId: "f".repeat(128),
    executionName: caseId.slice(5),
    ...instance,
    target: { kind: "instance", instanceId: instance.instanceId },
  };
  const captureItem = { caseId, ...instance, lockDays: 36500 };
  const containResult = { action: "contain.instance.isolated", changes: 99, record: 999999 };
  const volumes = Array.from({ length: 8 }, () => ({
    volumeId: "vol-0123456789abcdef0",
    forensicSnapshotId: snapshot,
    locked: true,
  }));
  const hashResult = {
    instanceId: instance.instanceId,
    hashed: volumes.map(() => ({ snapshotId: snapshot, imageSha256: "f".repeat(64), record: 999999 })),
    pending: [],
    pendingRecord: null,
  };
  const captureResult = { ...captureItem, destinationRegion: instance.region, snapshots: volumes, hash: hashResult };
  return [instance, containItem, captureItem, containResult, captureResult].reduce(
    (n, part) => n + Buffer.byteLength(JSON.stringify(part)) + 1,
    0,
  );
}

/** Bytes kept for the rest of the state: the event (a GuardDuty finding is a few KiB), the intake's own fields, errors. */
const RESERVED_BYTES = 64 * 1024;

/**
 * Most instances an incident may have for the inline path: above it, the intake writes the item lists to S3 and the
 * Distributed Maps read them. About 100 with 8 volumes each (the history limit of 25,000 events allows more).
 */
export const MAX_INLINE_ITEMS = Math.floor((PAYLOAD_LIMIT_BYTES - RESERVED_BYTES) / inlineBytesPerInstance());

/** One contain iteration: contain the target; a failure is recorded and the other targets and the capture go on. */
function containProcessor(
  fns: ResponseDefinitionArgs["functions"],
  /** Prefix of the state names (names are unique in a whole definition, Map iterations included). */
  p = "",
): {
  StartAt: string;
  States: Record<string, AslState>;
} {
  return {
    StartAt: `${p}ContainTarget`,
    States: {
      [`${p}ContainTarget`]: {
        Type: "Task",
        Resource: fns.contain,
        Parameters: { "item.$": "$" },
        ...waits("contain"),
        Retry: [LAMBDA_RETRY],
        ResultPath: "$.result",
        OutputPath: "$.result",
        // No retry of a failed containment step: every AWS call already had the SDK's retries (transient faults,
        // throttling), and concurrent containments of one VPC settle their shared groups themselves
        // (scripts/contain/instance-read.ts). What still fails is not transient: it is recorded, capture goes on.
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.containError", Next: `${p}ContainFailed` }],
        End: true,
      },
      [`${p}ContainFailed`]: {
        Type: "Task",
        Resource: fns.record,
        Parameters: { "intake.$": "$", stage: "contain-failed", "detail.$": "$.containError" },
        ...waits("record"),
        Retry: [LAMBDA_RETRY],
        ResultPath: "$.failure",
        OutputPath: "$.failure",
        End: true,
      },
    },
  };
}

/** One capture iteration: capture the instance (resuming from its tags on a retry), then hash its snapshots. */
function captureProcessor(
  fns: ResponseDefinitionArgs["functions"],
  /** Prefix of the state names (names are unique in a whole definition, Map iterations included). */
  p = "",
): {
  StartAt: string;
  States: Record<string, AslState>;
} {
  return {
    StartAt: `${p}CaptureInstance`,
    States: {
      [`${p}CaptureInstance`]: {
        Type: "Task",
        Resource: fns.capture,
        ...waits("capture"),
        Retry: [
          { ErrorEquals: [CAPTURE_INCOMPLETE_ERROR], IntervalSeconds: 60, MaxAttempts: 60, BackoffRate: 1 },
          LAMBDA_RETRY,
        ],
        Next: `${p}HashInstance`,
      },
      [`${p}HashInstance`]: {
        Type: "Task",
        Comment:
          "flz hash --snapshot --case for each forensic snapshot; a volume too large for one invocation is recorded 'hash pending' (flz hash --case finishes it).",
        Resource: fns.hash,
        ...waits("hash"),
        Retry: [LAMBDA_RETRY],
        ResultPath: "$.hash",
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.hashError", Next: `${p}HashNotDone` }],
        End: true,
      },
      [`${p}HashNotDone`]: {
        Type: "Pass",
        Comment: "The case holds no digest for these snapshots: flz hash --snapshot <id> --region <r> --case <case>.",
        End: true,
      },
    },
  };
}

/**
 * A Distributed Map (ItemProcessor mode DISTRIBUTED): its items read by an ItemReader from the JSON list the intake
 * wrote to S3, each iteration a child workflow execution (Standard, so a capture may wait for copies for hours).
 * Results are dropped (ResultPath null): what each iteration did is in the ledger, and the results of thousands of
 * iterations would exceed the payload limit this path exists to avoid.
 */
function distributedMap(args: {
  comment: string;
  bucket: string;
  keyPath: string;
  maxConcurrency: number;
  processor: { StartAt: string; States: Record<string, AslState> };
  next: string;
}): AslState {
  return {
    Type: "Map",
    Comment: args.comment,
    ItemReader: {
      Resource: "arn:aws:states:::s3:getObject",
      ReaderConfig: { InputType: "JSON" },
      Parameters: { Bucket: args.bucket, "Key.$": args.keyPath },
    },
    ItemProcessor: { ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" }, ...args.processor },
    MaxConcurrency: args.maxConcurrency,
    ResultPath: null,
    Next: args.next,
  };
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
  const concurrency = args.captureConcurrency ?? 10;
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
        guardrails: {
          modes: g.modes,
          defaultMode: g.defaultMode,
          excludedAccountIds: [...g.excludedAccountIds],
          minimumSeverity: g.minimumSeverity,
          approvalTimeoutSeconds: g.approvalTimeoutSeconds,
          lockDays: g.lockDays,
        },
        maxInlineItems: MAX_INLINE_ITEMS,
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
