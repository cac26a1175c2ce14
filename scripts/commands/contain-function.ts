/** `flz contain function`: a Lambda function throttled to zero, its public URLs closed, its triggers paused; restorable. */
import type { Command } from "commander";
import { containFunction } from "../contain/function";
import { parseFunctionArg } from "../contain/function-read";
import { UsageError } from "../errors";
import { common, run, type ContainCommonOptions } from "./contain";

/** Adds `flz contain function` under `flz contain`. */
export function registerContainFunction(contain: Command): void {
  common(
    contain
      .command("function")
      .summary(
        "Stop a Lambda function from running: reserved concurrency 0, public URLs closed, triggers paused; all restorable.",
      )
      .description(
        "Destination containment of a Lambda function, in the member account. (1) Reserved concurrency set to 0: Lambda " +
          "throttles every invocation, whoever makes it: the Invoke API, function URLs, API Gateway, and push triggers " +
          "(S3, SNS, EventBridge), whose events Lambda retries up to the function's maximum event age (6 hours by default) " +
          "and then drops or sends to its on-failure destination. (2) Every function URL with AuthType NONE (public), of " +
          "the function or of an alias, switched to AWS_IAM, so it stays closed if the concurrency is raised again; CORS " +
          "is left as it is. (3) Every event source mapping that polls for it (SQS, Kinesis, DynamoDB streams, Kafka, MQ) " +
          "disabled: messages wait in their queue or stream instead of being throttled into a dead-letter queue. The " +
          "previous reservation (or none), auth types and enabled mappings are recorded; `flz contain undo` puts back " +
          "exactly those (deleting the reservation when there was none, re-enabling only the mappings this disabled). " +
          "The function, its code, versions, aliases and resource-based policy are never changed or deleted: they are " +
          "evidence, and Lambda cannot write a policy back whole. `flz contain status` reports a reservation raised, a " +
          "URL made public or a trigger enabled since. Re-running changes only what is no longer contained.",
      )
      .option(
        "--function <name or ARN>",
        "function name, or arn:aws:lambda:<region>:<account>:function:<name> (required; not a version or alias; an ARN also gives --account and --region)",
      ),
  )
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  flz contain function --case IR-2026-0042 --account 333333333333 --region eu-west-1 --function payroll-export --dry-run\n" +
        "  flz contain function --case IR-2026-0042 --account 333333333333 --function arn:aws:lambda:eu-west-1:333333333333:function:payroll-export\n" +
        "  flz contain undo --case IR-2026-0042 --action 7\n",
    )
    .action(async (options: ContainCommonOptions & { function?: string }) => {
      const fn = parseFunctionArg(options.function);
      if (fn.account !== undefined && options.account !== undefined && fn.account !== options.account) {
        throw new UsageError(
          `--function ${options.function ?? ""} is in account ${fn.account}, not --account ${options.account}: give --account ${fn.account} (the member account that owns the function)`,
        );
      }
      if (fn.region !== undefined && options.region !== undefined && fn.region !== options.region) {
        throw new UsageError(
          `--function ${options.function ?? ""} is in region ${fn.region}, not --region ${options.region}: drop --region or give ${fn.region}`,
        );
      }
      // An ARN says where the function is: it gives --account and --region when they are not given.
      const where = { account: options.account ?? fn.account, region: options.region ?? fn.region };
      await run({ ...options, ...where }, true, (ctx) => containFunction(ctx, { name: fn.name }));
    });
}
