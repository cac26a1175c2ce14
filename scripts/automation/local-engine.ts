/**
 * Runs the response state machine's real definition offline with a local ASL interpreter (`aws-local-stepfunctions`),
 * every Task bound to what AWS would run: the Lambda tasks to the real handlers (`handlers.ts`), the SDK integrations
 * (kill switch, rate table, topic) to the same calls against the emulator, and the approval's task token to an answer
 * the caller gives (or none). Nothing about the definition is changed; the interpreter validates it first. Used by the
 * tests, `flz drill --scenario automated` and `bench/automation`: emulator only (it deploys the automation's own
 * pieces into the emulator's forensic account through the administrator role the seed created).
 */
import { randomUUID } from "node:crypto";
import {
  CreateTableCommand,
  DynamoDBClient,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import {
  resolveGuardrails,
  type AutomationFunction,
  type AutomationGuardrailSettings,
} from "../../components/documents/automation";
import { responseDefinition, type AslDefinition, type AslState } from "../../components/documents/automation-asl";
import { ClientFactory } from "../aws/clients";
import type { LandingZone } from "../contract";
import { runDistributedMap, withDistributedMapsAsTasks } from "./local-distributed";
import { automationHandlers, type AutomationHandlers, type ContainerHandlers } from "./handlers";

/**
 * aws-local-stepfunctions 3 uses `Promise.withResolvers` (Node 22+); flz otherwise runs on Node 20.19+ (README):
 * supply the standard function there, when the engine is first used, and nowhere else.
 */
function ensurePromiseWithResolvers(): void {
  if (typeof (Promise as { withResolvers?: unknown }).withResolvers === "function") return;
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/** The forensic account's administrator (what the deployment created), for the state machine's own SDK calls. */
const ADMIN = "OrganizationAccountAccessRole";
export const RATE_TABLE = "flz-automation-rate";
export const KILL_SWITCH = "/flz/automation/kill-switch";

/** The automation's deployed pieces in the emulator, and what a run saw. */
export interface LocalAutomation {
  readonly definition: AslDefinition;
  readonly handlers: AutomationHandlers;
  readonly topicArn: string;
  /** Messages published to the topic. */
  readonly published: Array<{ subject?: string; message: string }>;
  /** Runs one execution; `approve` answers an approval (undefined: nobody answers). */
  run(event: unknown, executionName: string, approve?: { approved: boolean; by: string }): Promise<ExecutionOutcome>;
  /** Sets the kill switch's value. */
  setKillSwitch(value: string): Promise<void>;
  /** Lambda containers started so far (cold starts). */
  coldStarts(): number;
  /** Releases every container's clients. */
  close(): void;
}

/** What an execution did. */
export interface ExecutionOutcome {
  readonly output: Record<string, unknown>;
  /** States entered, in order (state transitions are what Standard workflows bill). */
  readonly states: string[];
  /** Lambda invocations. */
  readonly invocations: number;
  /** When each state was entered and left (ms since the epoch), in order; Map iterations included. */
  readonly timings: StateTiming[];
}

/** One state's visit. */
export interface StateTiming {
  readonly state: string;
  readonly enteredAt: number;
  exitedAt?: number;
  failed?: string;
}

function fnArn(lz: LandingZone, name: string): string {
  return `arn:aws:lambda:${lz.homeRegion}:${lz.forensicAccountId}:function:flz-automation-${name}`;
}

/** Every Task state of a definition (Map iterators included), by name. */
function taskStates(states: Record<string, AslState>, into: Record<string, AslState> = {}): Record<string, AslState> {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === "Task") into[name] = state;
    const iterator = (state.Iterator ?? state.ItemProcessor) as { States: Record<string, AslState> } | undefined;
    if (iterator) taskStates(iterator.States, into);
  }
  return into;
}

/** The states a Distributed Map runs for each item, as a definition of its own. */
function processorOf(map: AslState): { StartAt: string; States: Record<string, AslState> } {
  const p = map.ItemProcessor as { StartAt: string; States: Record<string, AslState> };
  return { StartAt: p.StartAt, States: p.States };
}

/** Deploys the automation's pieces into the emulator's forensic account and returns a runner. */
export async function localAutomation(
  lz: LandingZone,
  settings: AutomationGuardrailSettings,
  options: {
    /** Milliseconds added before every AWS request (benchmarks). */
    injectedLatencyMs?: number;
    /** Largest volume the hash function hashes (GiB); default the handlers' own. */
    hashMaxGiB?: number;
    /** Instances above which an incident takes the Distributed Maps (the definition's setting); default its own. */
    maxInlineItems?: number;
  } = {},
): Promise<LocalAutomation> {
  ensurePromiseWithResolvers();
  const admin = new ClientFactory({ memberRoleName: ADMIN, injectedLatencyMs: options.injectedLatencyMs });
  const home = { account: lz.forensicAccountId, region: lz.homeRegion };
  const ssm = admin.client(SSMClient, home);
  const ddb = admin.client(DynamoDBClient, home);
  const sns = admin.client(SNSClient, home);
  // The Distributed Maps' ItemReader (s3:GetObject of the intake's lists), as the state machine's own call.
  const s3 = admin.client(S3Client, home);
  await ssm.send(new PutParameterCommand({ Name: KILL_SWITCH, Value: "released", Type: "String", Overwrite: true }));
  await ddb
    .send(
      new CreateTableCommand({
        TableName: RATE_TABLE,
        KeySchema: [{ AttributeName: "window", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "window", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    )
    .catch((err: Error) => {
      if (err.name !== "ResourceInUseException") throw err;
    });
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: "flz-automation" }))).TopicArn ?? "";
  const guardrails = resolveGuardrails({ killSwitchParameterName: KILL_SWITCH, ...settings });
  const definition = responseDefinition({
    guardrails,
    functions: {
      intake: fnArn(lz, "intake"),
      record: fnArn(lz, "record"),
      contain: fnArn(lz, "contain"),
      capture: fnArn(lz, "capture"),
      hash: fnArn(lz, "hash"),
      verify: fnArn(lz, "verify"),
    },
    rateTableName: RATE_TABLE,
    topicArn,
    evidenceBucket: lz.evidenceBucket,
    maxInlineItems: options.maxInlineItems,
  });
  // The Distributed Maps become Tasks bound to the driver (local-distributed.ts) in the copy the interpreter runs.
  const { definition: runnable, maps } = withDistributedMapsAsTasks(
    definition,
    (state) => `arn:aws:states:${lz.homeRegion}:${lz.forensicAccountId}:activity:flz-local-distributed-${state}`,
  );
  // Validated once, as Step Functions validates a definition when the state machine is created (an invalid one throws
  // here); each execution and each Distributed Map child then runs it unvalidated.
  for (const def of [runnable, ...Object.values(maps).map(processorOf)] as object[])
    new StateMachine(def as StateMachineDefinition, { validationOptions: { checkArn: true, checkPaths: true } });
  const deps = {
    landingZone: lz,
    pollIntervalMs: 50,
    injectedLatencyMs: options.injectedLatencyMs,
    hashMaxGiB: options.hashMaxGiB,
  };
  // Lambda's containers: one per function, serving one invocation at a time; a warm one is reused for the next
  // invocation of its function, a new one starts cold when all are busy (what Lambda does under concurrency).
  const idle = new Map<string, ContainerHandlers[]>();
  const containers: ContainerHandlers[] = [];
  let coldStarts = 0;
  const invoke = async (fn: AutomationFunction, input: unknown): Promise<unknown> => {
    let container = idle.get(fn)?.pop();
    if (!container) {
      coldStarts++;
      // A container serves one function, as that function's role (its sessions take its session policies).
      container = automationHandlers({
        ...deps,
        fn,
        functionRoleArn: `arn:aws:iam::${lz.forensicAccountId}:role/flz-automation-${fn}`,
      });
      containers.push(container);
    }
    try {
      return await (container as unknown as Record<string, (i: unknown) => Promise<unknown>>)[fn](input);
    } finally {
      idle.set(fn, [...(idle.get(fn) ?? []), container]);
    }
  };
  // Direct calls of one handler (tests): each through a container of its own function, like the state machine's.
  const via =
    <F extends AutomationFunction>(fn: F) =>
    (input: Parameters<AutomationHandlers[F]>[0]) =>
      invoke(fn, input) as ReturnType<AutomationHandlers[F]>;
  const handlers: AutomationHandlers = {
    dispatch: via("dispatch"),
    intake: via("intake"),
    record: via("record"),
    contain: via("contain"),
    capture: via("capture"),
    hash: via("hash"),
    verify: via("verify"),
  };
  const published: Array<{ subject?: string; message: string }> = [];
  const publish = async (input: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const message = typeof input.Message === "string" ? input.Message : JSON.stringify(input.Message);
    const out = await sns.send(
      new PublishCommand({ TopicArn: String(input.TopicArn), Subject: input.Subject as string, Message: message }),
    );
    published.push({ subject: input.Subject as string | undefined, message });
    return { MessageId: out.MessageId ?? "" };
  };

  const run = async (
    event: unknown,
    executionName: string,
    approve?: { approved: boolean; by: string },
  ): Promise<ExecutionOutcome> => {
    let invocations = 0;
    const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [name, state] of Object.entries(taskStates(definition.States))) {
      const resource = String(state.Resource);
      const fn = /^arn:aws:lambda:[^:]+:\d{12}:function:flz-automation-(\w+)$/.exec(resource)?.[1] as
        AutomationFunction | undefined;
      if (fn) {
        overrides[name] = async (input) => {
          invocations++;
          return invoke(fn, input);
        };
      } else if (resource === "arn:aws:states:::aws-sdk:ssm:getParameter") {
        overrides[name] = async (input) => {
          try {
            return await ssm.send(new GetParameterCommand(input as { Name: string }));
          } catch (err) {
            // Step Functions names AWS SDK integration errors <Service>.<Exception>.
            throw Object.assign(new Error((err as Error).message), { name: `Ssm.${(err as Error).name}` });
          }
        };
      } else if (resource === "arn:aws:states:::dynamodb:updateItem") {
        overrides[name] = async (input) => {
          try {
            return await ddb.send(new UpdateItemCommand(input as UpdateItemCommandInput));
          } catch (err) {
            throw Object.assign(new Error((err as Error).message), { name: `DynamoDB.${(err as Error).name}` });
          }
        };
      } else if (resource === "arn:aws:states:::sns:publish") {
        overrides[name] = (input) => publish(input as Record<string, unknown>);
      } else if (resource === "arn:aws:states:::sns:publish.waitForTaskToken") {
        overrides[name] = async (input) => {
          await publish(input as Record<string, unknown>);
          // The approver's SendTaskSuccess output, or no answer at all (the state's TimeoutSeconds ends the wait).
          return approve ?? new Promise(() => undefined);
        };
      } else {
        throw new Error(`no local binding for Task state ${name} (${resource})`);
      }
    }
    const states: string[] = [];
    const timings: StateTiming[] = [];
    const context = (name: string) => ({
      Execution: {
        Name: name,
        Id: `arn:aws:states:${lz.homeRegion}:${lz.forensicAccountId}:execution:flz-response:${name}`,
      },
      Task: { Token: `token-${randomUUID()}` },
    });
    // One interpreter execution (the whole workflow, or one Distributed Map child), its states logged in order. The
    // definition was validated once, when deployed (below): Step Functions validates at CreateStateMachine, not per
    // execution, and asl-validator costs 0.3-0.8 s of CPU per definition, which 16 executions at once would serialise.
    const execute = async (def: object, input: unknown, name: string): Promise<unknown> => {
      const machine = new StateMachine(def as StateMachineDefinition, { validationOptions: { noValidate: true } });
      const execution = machine.run(input as never, {
        overrides: { taskResourceLocalHandlers: overrides as never },
        context: context(name),
      });
      const logs = (async () => {
        for await (const log of execution.eventLogs) {
          const state = (log as { state?: { name: string } }).state?.name;
          if (state === undefined) continue;
          if (log.type === "StateEntered") {
            states.push(state);
            timings.push({ state, enteredAt: log.timestamp });
          } else {
            const open = [...timings].reverse().find((t) => t.state === state && t.exitedAt === undefined);
            if (open && (log.type === "StateExited" || log.type === "StateFailed")) open.exitedAt = log.timestamp;
            if (open && log.type === "StateFailed")
              open.failed = `${String((log as { Error?: string }).Error)}: ${String((log as { Cause?: unknown }).Cause ?? "").slice(0, 200)}`;
          }
        }
      })();
      try {
        return await execution.result;
      } finally {
        await logs.catch(() => undefined);
      }
    };
    // The Distributed Maps, which the interpreter cannot run: bound to the driver (local-distributed.ts), each item
    // a child execution of the ItemProcessor's states through `execute`, with the same bindings.
    for (const [name, map] of Object.entries(maps)) {
      overrides[name] = (input) =>
        runDistributedMap(map, input, {
          getObject: async (bucket, key) => {
            const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
            return (await out.Body?.transformToString("utf-8")) ?? "";
          },
          runChild: (processor, item, index) => execute(processor, item, `${executionName}-${name}-${index}`),
        });
    }
    let output: Record<string, unknown>;
    try {
      output = (await execute(runnable, { event }, executionName)) as Record<string, unknown>;
    } catch (err) {
      // Say where it failed: the states still open (or failed) when the execution ended.
      const open = timings.filter((t) => t.exitedAt === undefined || t.failed).map((t) => t.state);
      throw Object.assign(new Error(`${(err as Error).message} (in ${[...new Set(open)].join(", ") || "no state"})`), {
        name: (err as Error).name,
      });
    }
    return { output, states, invocations, timings };
  };

  return {
    definition,
    handlers,
    topicArn,
    published,
    run,
    async setKillSwitch(value: string) {
      await ssm.send(new PutParameterCommand({ Name: KILL_SWITCH, Value: value, Type: "String", Overwrite: true }));
    },
    coldStarts: () => coldStarts,
    close() {
      for (const c of containers) c.destroy();
      admin.destroy();
    },
  };
}

export { guardDutyInstanceFinding, guardDutyRoleFinding } from "./local-findings";
