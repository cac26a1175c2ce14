/**
 * `npm run plan`: the offline plan's command-line edge. Parses the flags, runs {@link planProgram}, prints the
 * plan for people or as one JSON document, and turns errors into one line and an exit code (2 bad usage, 1 failed).
 */
import * as path from "node:path";
import { Command, CommanderError } from "commander";
import { describeError, exitCodeOf, UsageError } from "../errors";
import { Io, processIo, printJson, printLine } from "../output";
import { formatPlan, formatVerdicts } from "./format";
import { DEFAULT_STACK_CONFIG, planProgram, verdictOf } from "./plan";

interface PlanFlags {
  stackConfig?: string;
  program?: string;
  policyConfig?: string;
  stackTag?: string[];
  json?: boolean;
}

/** Parses `key=value` stack tags; a malformed one is bad usage. */
export function parseStackTags(values: readonly string[] = []): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf("=");
    if (at <= 0) throw new UsageError(`--stack-tag "${value}" is not key=value, e.g. flz:stack-kind=account-baseline`);
    tags[value.slice(0, at)] = value.slice(at + 1);
  }
  return tags;
}

/** Runs the plan command with `argv` (as `process.argv`); resolves with the exit code. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const command = new Command()
    .name("npm run plan --")
    .description(
      "Print every resource `pulumi up` would create for the forensic landing zone, with the account and region it " +
        "lands in and its security-relevant settings, plus the stack outputs. Runs the program under a recording " +
        "mock engine: no AWS credentials and no Pulumi CLI needed. Then evaluates the policy pack (policies/) over " +
        "the same resources, as `pulumi preview --policy-pack policies` would, and exits 1 when a mandatory rule fails.",
    )
    .option(
      "--stack-config <file>",
      `Pulumi stack file whose config the program sees (default ${path.relative(process.cwd(), DEFAULT_STACK_CONFIG)})`,
    )
    .option("--program <file>", "any other Pulumi TypeScript program to plan (default: the landing-zone stack)")
    .option(
      "--policy-config <file>",
      'policy pack configuration (JSON, as for --policy-pack-config), e.g. {"ec2-imdsv2-required": "advisory"}',
    )
    .option(
      "--stack-tag <key=value...>",
      "stack tag the policy rules see, as `pulumi stack tag set` gives it; flz:stack-kind=account-baseline (or " +
        "landing-zone) declares a stack that owns account-wide settings such as EBS encryption by default",
    )
    .option(
      "--json",
      "print one JSON document { resources: [{type, name, parent, provider, account, region, inputs}], outputs, " +
        "policies: [{name, enforcementLevel, status, violations: [{urn, name, message}]}], policyPack }",
    )
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  npm run plan                                        the example stack\n" +
        "  npm run plan -- --stack-config stacks/Pulumi.prod.yaml\n" +
        "  npm run plan -- --json | jq '.resources[] | select(.type == \"aws:kms/key:Key\")'\n" +
        "  npm run plan -- --program ../other/index.ts --stack-config ../other/Pulumi.dev.yaml\n" +
        "  npm run plan -- --policy-config policy-config.json   rules at other levels or settings\n" +
        "  npm run plan -- --program ../baseline/index.ts --stack-tag flz:stack-kind=account-baseline\n" +
        "\nExit codes: 0 planned and every mandatory rule passed; 1 a mandatory rule failed (or the run failed); 2 bad usage.",
    )
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.out.write(text), writeErr: (text) => io.err.write(text) });
  try {
    command.parse(argv);
    const flags = command.opts<PlanFlags>();
    const result = await planProgram({
      program: flags.program,
      stackConfig: flags.stackConfig,
      policyConfig: flags.policyConfig,
      stackTags: parseStackTags(flags.stackTag),
    });
    if (flags.json) printJson(io, result);
    else printLine(io, `${formatPlan(result)}\n\n${formatVerdicts(verdictOf(result))}`);
    if (!result.policyPack.passed) {
      const failed = result.policies
        .filter((p) => p.enforcementLevel === "mandatory" && p.violations.length > 0)
        .map((p) => p.name);
      io.err.write(`plan: mandatory policy violations: ${failed.join(", ")}\n`);
      return 1;
    }
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    io.err.write(`plan: ${describeError(err)}\n`);
    return exitCodeOf(err);
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    // The mock engine keeps no handles open, but a program might: exit explicitly once the plan is printed, and
    // only after stdout has flushed (a piped `--json` plan is larger than one pipe buffer; exiting at once cut it).
    process.stdout.write("", () => process.exit(code));
  });
}
