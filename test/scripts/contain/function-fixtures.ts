/**
 * A Lambda function of the member account to contain, built by the account's owner in the emulator: a role for it,
 * the function (moto stores the code without running it), an optional reserved concurrency, an optional public URL,
 * and SQS queues feeding it through event source mappings (one enabled, one disabled by its owner).
 */
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  ListFunctionUrlConfigsCommand,
  PutFunctionConcurrencyCommand,
} from "@aws-sdk/client-lambda";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { ContainWorld } from "./fixtures";

/** The function's name in every test. */
export const FUNCTION = "payroll-export";

/** What a test builds. */
export interface FunctionOptions {
  /** Reserved concurrency to set; none when absent. */
  readonly reserved?: number;
  /** Give the function a public URL (AuthType NONE, with CORS). Default true. */
  readonly url?: boolean;
}

/** What was built. */
export interface BuiltFunction {
  readonly arn: string;
  /** The enabled mapping (from queue `jobs`) and the one its owner had disabled (from queue `replays`). */
  readonly enabledMapping: string;
  readonly disabledMapping: string;
}

/** The CORS settings of the public URL (containment must leave them as they are). */
export const CORS = { AllowOrigins: ["https://payroll.example.com"], AllowMethods: ["POST"], MaxAge: 300 };

/** Builds the function as the member account's owner. */
export async function buildFunction(world: ContainWorld, options: FunctionOptions = {}): Promise<BuiltFunction> {
  const role = await world.owner(IAMClient).send(
    new CreateRoleCommand({
      RoleName: "payroll-export-role",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    }),
  );
  const lambda = world.owner(LambdaClient);
  const created = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: FUNCTION,
      Role: role.Role?.Arn,
      Runtime: "nodejs20.x",
      Handler: "index.handler",
      // moto stores the package without unpacking it (it runs code only with Docker, absent here).
      Code: { ZipFile: new TextEncoder().encode("exports.handler = async () => 'exported';") },
    }),
  );
  if (options.reserved !== undefined) {
    await lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: FUNCTION, ReservedConcurrentExecutions: options.reserved }),
    );
  }
  if (options.url !== false) {
    await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: FUNCTION, AuthType: "NONE", Cors: CORS }));
  }
  const sqs = world.owner(SQSClient);
  const queueArn = async (name: string): Promise<string> => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl;
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
    return attrs.Attributes?.QueueArn ?? "";
  };
  const enabled = await lambda.send(
    new CreateEventSourceMappingCommand({ FunctionName: FUNCTION, EventSourceArn: await queueArn("jobs") }),
  );
  const disabled = await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: FUNCTION,
      EventSourceArn: await queueArn("replays"),
      Enabled: false,
    }),
  );
  return {
    arn: created.FunctionArn ?? "",
    enabledMapping: enabled.UUID ?? "",
    disabledMapping: disabled.UUID ?? "",
  };
}

/** What containment changes, as the owner reads it. */
export interface FunctionView {
  /** Reserved concurrency; null: none. */
  readonly reserved: number | null;
  /** The URL's auth type and CORS, null when it has none. */
  readonly url: { readonly authType: string; readonly cors: unknown } | null;
  /** Mapping UUID to state. */
  readonly mappings: Record<string, string>;
}

/** Reads the function's containable state as its owner. */
export async function viewFunction(world: ContainWorld): Promise<FunctionView> {
  const lambda = world.owner(LambdaClient);
  const concurrency = await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: FUNCTION }));
  const urls = await lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: FUNCTION }));
  const url = urls.FunctionUrlConfigs?.[0];
  const mappings = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: FUNCTION }));
  return {
    reserved: concurrency.ReservedConcurrentExecutions ?? null,
    url: url ? { authType: url.AuthType ?? "", cors: url.Cors } : null,
    mappings: Object.fromEntries((mappings.EventSourceMappings ?? []).map((m) => [m.UUID ?? "", m.State ?? ""])),
  };
}
