/**
 * `contain function`, the reading side: what `--function` names, the state of a Lambda function that containment
 * changes (its reserved concurrency, its function URLs, the event source mappings that feed it), and the plan that
 * state calls for (pure). `function.ts` acts on the plan, records it, undoes it and checks it is still in effect.
 *
 * Reads only what containment needs: `GetFunctionConfiguration` (never `GetFunction`, whose answer carries a
 * pre-signed link to the code: reading the code is capture's business, not containment's), `GetFunctionConcurrency`,
 * `ListFunctionUrlConfigs` and `ListEventSourceMappings`.
 */
import {
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  paginateListEventSourceMappings,
  paginateListFunctionUrlConfigs,
} from "@aws-sdk/client-lambda";
import type { JsonValue } from "../custody/types";
import { UsageError } from "../errors";
import { awsErrorName, partitionOf } from "./common";
import { toJsonObject } from "./intent";

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const ARN = /^arn:(aws|aws-cn|aws-us-gov):lambda:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):function:([^:]+)(?::(.+))?$/;

/** What `--function` named: a function name, or the parts of a function ARN. */
export interface FunctionArg {
  /** The function's name. */
  readonly name: string;
  /** Account of the ARN, when an ARN was given. */
  readonly account?: string;
  /** Region of the ARN, when an ARN was given. */
  readonly region?: string;
}

/**
 * Validates `--function`: a name, or an unqualified function ARN. A version or alias (`:live`, `:3`) is refused:
 * reserved concurrency, the URLs and the triggers belong to the whole function, so containing one alias would leave the
 * others running and say otherwise.
 */
export function parseFunctionArg(text: string | undefined): FunctionArg {
  const value = (text ?? "").trim();
  if (NAME.test(value)) return { name: value };
  const arn = ARN.exec(value);
  const qualified = value.includes(":") && !value.startsWith("arn:") ? value.split(":") : undefined;
  if ((arn && arn[5] !== undefined) || (qualified && qualified.length === 2 && NAME.test(qualified[0]))) {
    const name = arn ? arn[4] : (qualified as string[])[0];
    throw new UsageError(
      `--function ${value} names a version or alias: containment acts on the whole function (every version and alias): give ${name} or its unqualified ARN`,
    );
  }
  if (!arn || !NAME.test(arn[4])) {
    throw new UsageError(
      `--function ${text ?? "(missing)"} is not a Lambda function name or ARN: give a name (1-64 letters, digits, - and _) or arn:aws:lambda:<region>:<account>:function:<name>`,
    );
  }
  return { name: arn[4], region: arn[2], account: arn[3] };
}

/** The unqualified ARN of a function. */
export function functionArn(account: string, region: string, name: string): string {
  return `arn:${partitionOf(region)}:lambda:${region}:${account}:function:${name}`;
}

/** One function URL: of the function itself (`qualifier` null) or of an alias. */
export interface UrlState {
  /** The alias the URL belongs to; null for the function's own URL. */
  readonly qualifier: string | null;
  /** The URL (`https://<id>.lambda-url.<region>.on.aws/`). */
  readonly url: string;
  /** `NONE` (public) or `AWS_IAM`. */
  readonly authType: string;
  /** The URL's CORS settings, recorded as they were (containment does not change them); null when none. */
  readonly cors: JsonValue;
}

/** One event source mapping (a poller trigger: SQS, Kinesis, DynamoDB streams, Kafka, MQ, DocumentDB). */
export interface MappingState {
  /** The mapping's ID. */
  readonly uuid: string;
  /** The function, version or alias ARN it invokes. */
  readonly functionArn: string;
  /** Its source (queue, stream, cluster). */
  readonly eventSourceArn: string;
  /** Lambda's state: Creating, Enabling, Enabled, Disabling, Disabled, Updating, Deleting. */
  readonly state: string;
}

/** What containment changes of a function, as read from Lambda. */
export interface FunctionState {
  /** The function's name. */
  readonly name: string;
  /** Its unqualified ARN. */
  readonly arn: string;
  /** Reserved concurrency; null when the function has none (it draws on the account's unreserved pool). */
  readonly reserved: number | null;
  /** Every function URL, of the function and of its aliases. */
  readonly urls: UrlState[];
  /** Every event source mapping that invokes the function, any version or alias. */
  readonly mappings: MappingState[];
}

/** Mapping states in which the mapping polls (or is about to): containment turns them off. */
export const MAPPING_ON: readonly string[] = ["Enabled", "Enabling"];
/** Mapping states in which it does not (Deleting: it is going away; nothing to pause). */
export const MAPPING_OFF: readonly string[] = ["Disabled", "Disabling", "Deleting"];

/** The alias of a URL's function ARN (`...:function:name:alias`), null for the function's own. */
function qualifierOf(arn: string | undefined, unqualified: string): string | null {
  return arn !== undefined && arn.startsWith(`${unqualified}:`) ? arn.slice(unqualified.length + 1) : null;
}

/** Whether a mapping invokes this function (the function itself, or any version or alias of it). */
const invokes = (mappingFunctionArn: string | undefined, arn: string): boolean =>
  mappingFunctionArn === arn || (mappingFunctionArn ?? "").startsWith(`${arn}:`);

/** Confirms the function exists (one line naming it when not). */
export async function requireFunction(
  lambda: LambdaClient,
  name: string,
  account: string,
  region: string,
): Promise<void> {
  try {
    await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
  } catch (err) {
    if (awsErrorName(err) === "ResourceNotFoundException") {
      throw new UsageError(
        `function ${name} does not exist in account ${account}, region ${region}: give the name or ARN of a function of that account and region (--region)`,
      );
    }
    throw err;
  }
}

/** The function's reserved concurrency, null when it has none. */
export async function readReserved(lambda: LambdaClient, name: string): Promise<number | null> {
  const out = await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name }));
  return out.ReservedConcurrentExecutions ?? null;
}

/** Every URL of the function and its aliases (ListFunctionUrlConfigs lists them all, in pages). */
export async function readUrls(lambda: LambdaClient, name: string, arn: string): Promise<UrlState[]> {
  const urls: UrlState[] = [];
  for await (const page of paginateListFunctionUrlConfigs({ client: lambda }, { FunctionName: name })) {
    for (const c of page.FunctionUrlConfigs ?? []) {
      urls.push({
        qualifier: qualifierOf(c.FunctionArn, arn),
        url: c.FunctionUrl ?? "",
        authType: c.AuthType ?? "",
        cors: c.Cors ? toJsonObject(c.Cors) : null,
      });
    }
  }
  return urls;
}

/**
 * Every event source mapping of the function. Listed unfiltered and matched on `FunctionArn` here: a mapping may
 * invoke a version or an alias (`...:function:name:live`), and the API's `FunctionName` filter matches the name or
 * qualified ARN it is given, so filtering by name could miss the alias's mappings.
 */
export async function readMappings(lambda: LambdaClient, arn: string): Promise<MappingState[]> {
  const mappings: MappingState[] = [];
  for await (const page of paginateListEventSourceMappings({ client: lambda }, {})) {
    for (const m of page.EventSourceMappings ?? []) {
      if (!invokes(m.FunctionArn, arn) || !m.UUID) continue;
      mappings.push({
        uuid: m.UUID,
        functionArn: m.FunctionArn ?? arn,
        eventSourceArn: m.EventSourceArn ?? "",
        state: m.State ?? "",
      });
    }
  }
  return mappings;
}

/** Reads everything containment changes of the function (after confirming it exists). */
export async function readFunction(
  lambda: LambdaClient,
  name: string,
  account: string,
  region: string,
): Promise<FunctionState> {
  await requireFunction(lambda, name, account, region);
  const arn = functionArn(account, region, name);
  const [reserved, urls, mappings] = await Promise.all([
    readReserved(lambda, name),
    readUrls(lambda, name, arn),
    readMappings(lambda, arn),
  ]);
  return { name, arn, reserved, urls, mappings };
}

/** What containment is to change (pure). */
export interface FunctionPlan {
  /** Set reserved concurrency to 0; absent when it is 0 already. `previous` null: the function had none. */
  readonly concurrency?: { readonly previous: number | null };
  /** Public URLs (AuthType NONE) to switch to AWS_IAM. */
  readonly urls: UrlState[];
  /** Mappings that poll, to disable. */
  readonly mappings: MappingState[];
  /** Mappings in a transitional state (Creating, Updating): neither touched nor left unsaid. */
  readonly unsettled: MappingState[];
}

/** The plan the state calls for. */
export function planFunction(state: FunctionState): FunctionPlan {
  return {
    ...(state.reserved === 0 ? {} : { concurrency: { previous: state.reserved } }),
    urls: state.urls.filter((u) => u.authType === "NONE"),
    mappings: state.mappings.filter((m) => MAPPING_ON.includes(m.state)),
    unsettled: state.mappings.filter((m) => !MAPPING_ON.includes(m.state) && !MAPPING_OFF.includes(m.state)),
  };
}

/** How people read a URL: the URL, and the alias it belongs to. */
export function urlLabel(u: { readonly url: string; readonly qualifier: string | null }): string {
  return u.qualifier === null ? u.url : `${u.url} (alias ${u.qualifier})`;
}
