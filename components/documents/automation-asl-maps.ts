/**
 * The Map states of the response definition and what they share with its other tasks: the errors the functions raise,
 * the retry of transient Lambda faults, each task's wait, the inline Maps' size threshold computed from Step
 * Functions' payload limit, the iterations (contain one target; capture and hash one instance) and the Distributed Map
 * that runs the same iterations over a list in S3. Pure, like the rest of the definition (automation-asl.ts).
 */
import { FUNCTION_TIMEOUT_SECONDS, type AutomationFunction } from "./automation";

/** One state (JSON object). */
export type AslState = Record<string, unknown>;

/** ARNs of the functions the state machine invokes. */
export interface ResponseFunctions {
  readonly intake: string;
  readonly record: string;
  readonly contain: string;
  readonly capture: string;
  readonly hash: string;
  readonly verify: string;
}

/** Error a capture function raises when snapshots are still copying: the state retries it, and it resumes. */
export const CAPTURE_INCOMPLETE_ERROR = "CaptureIncomplete";

/** Error a contain function raises when a containment step failed: recorded (ContainFailed), capture goes on. */
export const CONTAINMENT_INCOMPLETE_ERROR = "ContainmentIncomplete";

/** Retries of transient Lambda service errors (AWS's recommended retrier for Lambda tasks). */
export const LAMBDA_RETRY = {
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
export const waits = (fn: AutomationFunction): { TimeoutSeconds: number } => ({
  TimeoutSeconds: FUNCTION_TIMEOUT_SECONDS[fn],
});

/**
 * Step Functions' limit on a state's input and output: 256 KiB of UTF-8 ("Step Functions service quotas", quotas
 * related to state machine executions: "Maximum input or output size for a task, state, or execution: 256 KiB").
 */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

/** Inline Map iterations Step Functions runs at once, at most ("Using Map state in Inline mode": up to 40). */
export const INLINE_MAX_CONCURRENCY = 40;

/** Child workflows a Distributed Map runs at once when containing (well below its limit of 10,000). */
export const DISTRIBUTED_CONTAIN_CONCURRENCY = 100;

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
export function containProcessor(
  fns: ResponseFunctions,
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
export function captureProcessor(
  fns: ResponseFunctions,
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
export function distributedMap(args: {
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
