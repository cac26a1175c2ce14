/**
 * `contain function`: destination containment of a Lambda function (issue 17). Three changes, each recorded with what
 * it replaced so undo restores exactly that:
 *
 * 1. reserved concurrency set to 0 (`PutFunctionConcurrency`): Lambda then throttles every invocation, whoever makes
 *    it and however: the Invoke API, function URLs, API Gateway, and the push triggers (S3, SNS, EventBridge), whose
 *    asynchronous events Lambda retries for up to the function's maximum event age (6 hours by default) before it
 *    drops them or sends them to the function's on-failure destination ("How Lambda handles errors and retries with
 *    asynchronous invocation", Lambda developer guide). Undo puts the previous reservation back, or deletes the
 *    reservation when the function had none (`DeleteFunctionConcurrency`), which is not the same as any number;
 * 2. every public function URL (AuthType NONE, of the function or of an alias) switched to AWS_IAM: with concurrency
 *    back up, an anonymous caller still cannot reach the code ("Control access to Lambda function URLs"). The URL's
 *    CORS settings are not changed; they are recorded beside the auth type;
 * 3. every polling trigger (event source mapping: SQS, Kinesis, DynamoDB streams, Kafka, MQ) disabled: the messages
 *    stay in their queue or stream instead of being throttled into a dead-letter queue or expiring; undo re-enables
 *    exactly the mappings this action disabled.
 *
 * The resource-based policy is not touched. Concurrency 0 already refuses every invocation it grants; and Lambda has no
 * call that writes a policy whole (only AddPermission / RemovePermission of single statements, and AddPermission
 * cannot express every condition a statement may carry), so removing statements could not be undone exactly, and the
 * responder would need AddPermission, which can make any function public. The function, its code, versions and aliases
 * are never deleted or changed: they are evidence.
 */
import {
  DeleteFunctionConcurrencyCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
  UpdateEventSourceMappingCommand,
  UpdateFunctionUrlConfigCommand,
  type FunctionUrlAuthType,
} from "@aws-sdk/client-lambda";
import type { ClientFactory } from "../aws/clients";
import type { CustodyRecord, JsonValue } from "../custody/types";
import { UsageError } from "../errors";
import type { ContainContext, ContainResult, PlannedChange } from "./common";
import {
  MAPPING_OFF,
  MAPPING_ON,
  planFunction,
  readFunction,
  readMappings,
  readReserved,
  readUrls,
  requireFunction,
  urlLabel,
  type FunctionPlan,
  type MappingState,
  type UrlState,
} from "./function-read";
import { intentFor, openIntents, recordCompletion, recordIntent, toJsonObject } from "./intent";

/** Ledger action of a function containment. */
export const FUNCTION_ACTION = "contain.function.restricted";

/** Undo information of `contain function`: only what this action changed. */
export interface FunctionUndo {
  readonly kind: "lambda-function";
  readonly account: string;
  readonly region: string;
  /** The function's name. */
  readonly functionName: string;
  /** Its unqualified ARN. */
  readonly functionArn: string;
  /** Present when this action set reserved concurrency to 0: the reservation before (null: none). */
  readonly concurrency?: { readonly previous: number | null };
  /** The URLs this action closed, with their auth type and CORS before. */
  readonly urls: UrlState[];
  /** The mappings this action disabled. */
  readonly mappings: Omit<MappingState, "state">[];
}

/** Type guard for recorded function undo information. */
export function isFunctionUndo(value: unknown): value is FunctionUndo {
  const v = value as Partial<FunctionUndo> | undefined;
  return (
    v?.kind === "lambda-function" &&
    typeof v.functionName === "string" &&
    Array.isArray(v.urls) &&
    Array.isArray(v.mappings)
  );
}

/**
 * Target keys (see `intent.ts`): one per thing changed, so a later containment of the same function that changes
 * something else (a trigger added since) neither supersedes this one in the drift check nor blocks its undo.
 */
export function functionTargets(undo: FunctionUndo): string[] {
  const at = `${undo.account}:${undo.region}`;
  return [
    ...(undo.concurrency ? [`function-concurrency:${at}:${undo.functionName}`] : []),
    ...undo.urls.map((u) => `function-url:${at}:${undo.functionName}${u.qualifier === null ? "" : `:${u.qualifier}`}`),
    ...undo.mappings.map((m) => `event-source-mapping:${at}:${m.uuid}`),
  ];
}

/** The undo of a plan, merged into the undo an interrupted run recorded (its "before" wins: it is the original). */
function undoOf(
  ctx: ContainContext,
  name: string,
  arn: string,
  plan: FunctionPlan,
  earlier?: FunctionUndo,
): FunctionUndo {
  const urls = [...(earlier?.urls ?? [])];
  for (const u of plan.urls) if (!urls.some((e) => e.qualifier === u.qualifier)) urls.push(u);
  const mappings = [...(earlier?.mappings ?? [])];
  for (const m of plan.mappings) {
    if (!mappings.some((e) => e.uuid === m.uuid))
      mappings.push({ uuid: m.uuid, functionArn: m.functionArn, eventSourceArn: m.eventSourceArn });
  }
  const concurrency = earlier?.concurrency ?? plan.concurrency;
  return {
    kind: "lambda-function",
    account: ctx.account,
    region: ctx.region,
    functionName: name,
    functionArn: arn,
    ...(concurrency ? { concurrency } : {}),
    urls,
    mappings,
  };
}

const reservation = (n: number | null): string => (n === null ? "none (the account's unreserved pool)" : String(n));

/** One line per change of the plan. */
function changesOf(name: string, arn: string, plan: FunctionPlan): PlannedChange[] {
  return [
    ...(plan.concurrency
      ? [
          {
            target: arn,
            description: `set the reserved concurrency of function ${name} to 0 (was ${reservation(plan.concurrency.previous)}): every invocation is throttled`,
          },
        ]
      : []),
    ...plan.urls.map((u) => ({
      target: arn,
      description: `switch function URL ${urlLabel(u)} from AuthType NONE (public) to AWS_IAM`,
    })),
    ...plan.mappings.map((m) => ({
      target: m.uuid,
      description: `disable trigger ${m.uuid} (${m.eventSourceArn} -> ${m.functionArn}, ${m.state})`,
    })),
  ];
}

/** The interrupted run of this function's containment, if any: its intent, never completed nor undone. */
function openIntentOf(records: readonly CustodyRecord[], arn: string): CustodyRecord | undefined {
  const open = openIntents(records).filter(
    (r) =>
      intentFor(r) === FUNCTION_ACTION &&
      (r.details?.plan as { functionArn?: JsonValue } | undefined)?.functionArn === arn,
  );
  return open[open.length - 1];
}

/** Arguments of {@link containFunction}. */
export interface ContainFunctionArgs {
  /** The function's name (from `--function`, name or ARN). */
  readonly name: string;
}

/** Contains the function (see the module comment). */
export async function containFunction(ctx: ContainContext, args: ContainFunctionArgs): Promise<ContainResult> {
  const lambda = ctx.factory.client(LambdaClient, { account: ctx.account, region: ctx.region });
  const state = await readFunction(lambda, args.name, ctx.account, ctx.region);
  const plan = planFunction(state);
  const open = openIntentOf(await ctx.ledger.records(), state.arn);
  const earlier = isFunctionUndo(open?.undo) ? open.undo : undefined;
  const changes = changesOf(state.name, state.arn, plan);
  const details: { [key: string]: JsonValue } = {
    function: state.arn,
    reservedConcurrencyBefore: state.reserved,
    urls: state.urls.map((u) => toJsonObject(u)),
    triggers: state.mappings.map((m) => toJsonObject(m)),
  };
  const notes = [
    "reserved concurrency 0 throttles every invocation: the Invoke API, function URLs, API Gateway, and push triggers (S3, SNS, EventBridge: their events are retried up to the function's maximum event age, 6 hours by default, then dropped or sent to its on-failure destination)",
    "the function, its code, versions, aliases and resource-based policy are left as they are (evidence)",
    ...plan.unsettled.map(
      (m) => `trigger ${m.uuid} (${m.eventSourceArn}) is ${m.state}: rerun once it has settled to disable it`,
    ),
    ...(open ? [`completing record ${open.sequence}, an interrupted containment of this function`] : []),
  ];
  const failures = plan.unsettled.map((m) => `trigger ${m.uuid} is ${m.state} and could not be disabled yet`);
  if (changes.length === 0 && !open) {
    return {
      action: FUNCTION_ACTION,
      dryRun: ctx.dryRun,
      changes,
      notes: [...notes, "already in effect: nothing changed, nothing recorded"],
      details,
      failures,
    };
  }
  if (ctx.dryRun) return { action: FUNCTION_ACTION, dryRun: true, changes, notes, details, failures };
  const undo = undoOf(ctx, state.name, state.arn, plan, earlier);
  const intent =
    open ??
    (await recordIntent(ctx.ledger, {
      action: FUNCTION_ACTION,
      subjects: [state.arn],
      targets: functionTargets(undo),
      account: ctx.account,
      region: ctx.region,
      before: toJsonObject({ reservedConcurrency: state.reserved, urls: state.urls, mappings: state.mappings }),
      plan: toJsonObject({ functionArn: state.arn, ...plan }),
      identifiers: { functionArn: state.arn },
      undo: toJsonObject(undo),
    }));
  // Concurrency first: it stops every invocation path at once; the URLs and triggers follow.
  if (plan.concurrency) {
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: state.name, ReservedConcurrentExecutions: 0 }));
  }
  for (const u of plan.urls) {
    await lambda.send(
      new UpdateFunctionUrlConfigCommand({
        FunctionName: state.name,
        ...(u.qualifier === null ? {} : { Qualifier: u.qualifier }),
        AuthType: "AWS_IAM",
      }),
    );
  }
  for (const m of plan.mappings) {
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: m.uuid, Enabled: false }));
  }
  const record = await recordCompletion(ctx.ledger, intent, {
    action: FUNCTION_ACTION,
    subjects: [state.arn],
    details: { ...details, targets: functionTargets(undo) },
    undo: toJsonObject(undo),
  });
  return { action: FUNCTION_ACTION, dryRun: false, changes, notes, details, record, failures };
}

/** Restores what the action changed: the reservation, the URLs' auth type, the triggers it disabled. */
export async function undoFunction(ctx: ContainContext, undo: FunctionUndo): Promise<string[]> {
  const lambda = ctx.factory.client(LambdaClient, { account: undo.account, region: undo.region });
  const name = undo.functionName;
  try {
    await requireFunction(lambda, name, undo.account, undo.region);
  } catch (err) {
    if (err instanceof UsageError) return [`function ${name} no longer exists: nothing to restore`];
    throw err;
  }
  const lines: string[] = [];
  if (undo.concurrency) {
    const previous = undo.concurrency.previous;
    if ((await readReserved(lambda, name)) === previous) {
      lines.push(`function ${name}: its reserved concurrency is already ${reservation(previous)}`);
    } else if (previous === null) {
      lines.push(`remove the reserved concurrency of function ${name} (it had none before)`);
      if (!ctx.dryRun) await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: name }));
    } else {
      lines.push(`put the reserved concurrency of function ${name} back to ${previous}`);
      if (!ctx.dryRun) {
        await lambda.send(
          new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: previous }),
        );
      }
    }
  }
  const urls = undo.urls.length > 0 ? await readUrls(lambda, name, undo.functionArn) : [];
  for (const was of undo.urls) {
    const now = urls.find((u) => u.qualifier === was.qualifier);
    if (!now) {
      lines.push(`function URL ${urlLabel(was)} no longer exists: nothing to restore`);
      continue;
    }
    if (JSON.stringify(now.cors) !== JSON.stringify(was.cors)) {
      // Containment never changed CORS: a difference is someone else's later change, not ours to discard.
      lines.push(`function URL ${urlLabel(was)}: its CORS settings changed since containment and are left as they are`);
    }
    if (now.authType === was.authType) continue;
    lines.push(`switch function URL ${urlLabel(was)} back to AuthType ${was.authType}`);
    if (!ctx.dryRun) {
      await lambda.send(
        new UpdateFunctionUrlConfigCommand({
          FunctionName: name,
          ...(was.qualifier === null ? {} : { Qualifier: was.qualifier }),
          AuthType: was.authType as FunctionUrlAuthType,
        }),
      );
    }
  }
  const mappings = undo.mappings.length > 0 ? await readMappings(lambda, undo.functionArn) : [];
  for (const was of undo.mappings) {
    const now = mappings.find((m) => m.uuid === was.uuid);
    if (!now) {
      lines.push(`trigger ${was.uuid} (${was.eventSourceArn}) no longer exists: nothing to re-enable`);
      continue;
    }
    if (MAPPING_ON.includes(now.state)) continue;
    lines.push(`re-enable trigger ${was.uuid} (${was.eventSourceArn})`);
    if (!ctx.dryRun) await lambda.send(new UpdateEventSourceMappingCommand({ UUID: was.uuid, Enabled: true }));
  }
  return lines;
}

/**
 * The drift check of a function containment: what this action changed and is no longer so (a reservation raised or
 * removed, a URL public again, a trigger re-enabled), and what would reopen the function since (a new public URL, a new
 * enabled trigger), or the function gone.
 */
export async function functionFindings(factory: ClientFactory, undo: FunctionUndo): Promise<string[]> {
  const lambda = factory.client(LambdaClient, { account: undo.account, region: undo.region });
  const name = undo.functionName;
  const state = await readFunction(lambda, name, undo.account, undo.region).catch((err: unknown) => {
    if (err instanceof UsageError) return undefined;
    throw err;
  });
  if (!state) return [`function ${name} no longer exists`];
  const findings: string[] = [];
  if (undo.concurrency && state.reserved !== 0) {
    findings.push(
      state.reserved === null
        ? `function ${name}: its reserved concurrency was removed (it scales on the account's pool again)`
        : `function ${name}: its reserved concurrency is ${state.reserved} again (containment set 0)`,
    );
  }
  for (const u of state.urls.filter((x) => x.authType === "NONE")) {
    const ours = undo.urls.some((w) => w.qualifier === u.qualifier);
    findings.push(
      ours
        ? `function URL ${urlLabel(u)} is public again (AuthType NONE)`
        : `function URL ${urlLabel(u)} is public (AuthType NONE) and was not when contained`,
    );
  }
  for (const m of state.mappings.filter((x) => !MAPPING_OFF.includes(x.state))) {
    const ours = undo.mappings.some((w) => w.uuid === m.uuid);
    findings.push(
      ours
        ? `trigger ${m.uuid} (${m.eventSourceArn}) was re-enabled (${m.state})`
        : `trigger ${m.uuid} (${m.eventSourceArn}) invokes the function (${m.state}) and was not enabled when contained`,
    );
  }
  return findings;
}
