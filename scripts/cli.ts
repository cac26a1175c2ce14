/**
 * `flz`: the operator CLI. Wires one command per file (each exports `register(program)`), turns every error into
 * one line and an exit code (0 done, 1 failed, 2 bad usage), and never prints a stack trace unless FLZ_DEBUG is set.
 */
import { Command, CommanderError } from "commander";
import { describeError, exitCodeOf } from "./errors";
import * as captureCommand from "./commands/capture";
import * as clockCommand from "./commands/clock";
import * as drillCommand from "./commands/drill";
import * as containCommand from "./commands/contain";
import * as hashCommand from "./commands/hash";
import * as evidenceCommand from "./commands/evidence";
import * as custodyCommand from "./commands/custody";

/** A command module: adds its command (with options, help and action) to the program. */
export interface CommandModule {
  register(program: Command): void;
}

/** The commands, in the order `flz --help` lists them. */
function commandModules(): CommandModule[] {
  return [
    // one line per command file; keep the list sorted by lifecycle phase
    captureCommand,
    hashCommand,
    evidenceCommand,
    custodyCommand,
    clockCommand,
    drillCommand,
    containCommand,
  ];
}

/** Builds the program; exported for tests that run commands in-process. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name("flz")
    .description(
      "Forensic landing zone operator CLI: capture evidence, keep the chain of custody, contain an incident.\n" +
        "Every command that changes AWS has --dry-run, records what it did in the case's custody ledger, and prints how to undo it.",
    )
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  for (const module of commandModules()) module.register(program);
  return program;
}

/** Runs the CLI; resolves with the exit code (also set on `process.exitCode`). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
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
