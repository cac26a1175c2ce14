/**
 * `flz`: the operator CLI. Wires one command per file (each exports `register(program)`), turns every error into
 * one line and an exit code (0 done, 1 failed, 2 bad usage), and never prints a stack trace unless FLZ_DEBUG is set.
 */
import { Command, CommanderError } from "commander";
import { describeError, exitCodeOf } from "./errors";
import { finishHelp, helpConfiguration, helpWidth } from "./help";
import { quietOnClosedPipe } from "./output";

/** A command module: adds its command (with options, help and action) to the program. */
export interface CommandModule {
  register(program: Command): void;
}

/**
 * The commands, in the order `flz --help` lists them (by lifecycle phase), each loaded on demand: a responder typing
 * `flz hash` should not wait for the SDK clients of every other command to load.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- synchronous on-demand loading is the point here; import()
   would make building the program asynchronous for every caller. */
const COMMANDS: ReadonlyArray<{ readonly name: string; load(): CommandModule }> = [
  { name: "assess", load: () => require("./commands/assess") as CommandModule },
  { name: "case", load: () => require("./commands/case") as CommandModule },
  { name: "capture", load: () => require("./commands/capture") as CommandModule },
  { name: "hash", load: () => require("./commands/hash") as CommandModule },
  { name: "evidence", load: () => require("./commands/evidence") as CommandModule },
  { name: "custody", load: () => require("./commands/custody") as CommandModule },
  { name: "contain", load: () => require("./commands/contain") as CommandModule },
  { name: "clock", load: () => require("./commands/clock") as CommandModule },
  { name: "drill", load: () => require("./commands/drill") as CommandModule },
];
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * The modules to register: none for `flz --version` alone (loading all of them took 1.1 s of its 1.2 s), only the named
 * command when argv names one, every command otherwise (help, errors).
 */
function commandModules(argv: readonly string[] | undefined): CommandModule[] {
  const args = argv?.slice(2) ?? [];
  if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) return [];
  const named = args.find((arg) => !arg.startsWith("-"));
  const only = COMMANDS.find((c) => c.name === named);
  return (only ? [only] : COMMANDS).map((c) => c.load());
}

/**
 * Builds the program; exported for tests that run commands in-process.
 *
 * @param argv when given, only the command it names is loaded (start-up time); without it, every command.
 */
export function buildProgram(argv?: readonly string[]): Command {
  const program = new Command();
  program
    .name("flz")
    .description(
      "Forensic landing zone operator CLI: capture evidence, keep the chain of custody, contain an incident.\n" +
        "Every command that changes AWS has --dry-run, records what it did in the case's custody ledger, and prints how to undo it.",
    )
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .configureHelp(helpConfiguration())
    .configureOutput({
      getOutHelpWidth: () => helpWidth(process.stdout),
      getErrHelpWidth: () => helpWidth(process.stderr),
    })
    .addHelpText(
      "after",
      "\nStart with: flz case open <id> --title <title> --aware-at <time>; every other case command then takes --case <id>.\n" +
        "Every command has --help with examples. Exit codes: 0 done, 1 failed, 2 bad usage.\n",
    )
    .exitOverride();
  for (const module of commandModules(argv)) module.register(program);
  finishHelp(program);
  return program;
}

/** Runs the CLI; resolves with the exit code (also set on `process.exitCode`). */
export async function main(argv: string[]): Promise<number> {
  // The SDK's nine-line notice that its 2027 releases will need Node 22 says nothing an operator can act on mid-incident
  // (the README states what runs on Node 20); an operator who wants it back sets the variable to false.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  // `flz custody show | head -1`: the reader went away; finish the work, drop the rest of the output, no stack trace.
  quietOnClosedPipe(process.stdout, process.stderr);
  const program = buildProgram(argv);
  let code = 0;
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (or the help); help and version are successes.
      code = err.exitCode === 0 ? 0 : 2;
    } else {
      process.stderr.write(`flz: ${describeError(err)}\n`);
      if (process.env.FLZ_DEBUG) process.stderr.write(`${(err as Error).stack ?? ""}\n`);
      code = exitCodeOf(err);
    }
  }
  process.exitCode = code;
  return code;
}
