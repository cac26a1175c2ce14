/**
 * One help style for every `flz` command: descriptions are paragraphs that commander wraps to the terminal's width
 * (single line breaks written into the source are joined, so nothing is wrapped twice into a ragged edge), required
 * flags say "(required)", a default is shown once and in words (never commander's `(default: [])`), and every command
 * ends with its exit codes. Examples stay as written: they are command lines to copy.
 */
import { Help, type Command, type Option } from "commander";

/** The exit codes every command shares (DESIGN.md §9; scripts/errors.ts says which error gets which). */
export const EXIT_CODES_LINE =
  "Exit codes: 0 done, 1 failed (AWS refused or could not be reached, a check failed), 2 bad usage (a malformed or missing value, a path that cannot be used, an unknown case, instance or file).";

/** What 0 and 1 mean where a command gives them a sharper meaning; 2 is always bad usage. */
const EXIT_MEANINGS: Record<string, { readonly ok: string; readonly failed: string }> = {
  capture: { ok: "every volume captured and locked", failed: "a step failed (rerun the same command to resume)" },
  hash: { ok: "hashed", failed: "a read failed or a block failed its checksum" },
  "evidence put": { ok: "uploaded and recorded", failed: "failed (a failed upload is recorded too)" },
  "custody verify": { ok: "verified", failed: "broken or unverified (the first broken record is named)" },
  "custody export": {
    ok: "exported and verified",
    failed: "exported, but the chain does not verify (the report says why)",
  },
  "contain sessions": {
    ok: "contained (or already contained)",
    failed: "a change failed (the others were applied and recorded)",
  },
  "contain access-key": { ok: "deactivated (or already inactive)", failed: "a change failed" },
  "contain instance": { ok: "isolated", failed: "a step failed (the others were applied and recorded)" },
  "contain undo": { ok: "reversed (or nothing to reverse)", failed: "a step could not be reversed (recorded)" },
  drill: { ok: "every step passed", failed: "a step failed or was skipped" },
  clock: { ok: "computed (and recorded with --case)", failed: "the case's ledger could not be read or written" },
  "case open": { ok: "opened", failed: "the record could not be written" },
  "case status": {
    ok: "shown (the verification verdict is part of the output)",
    failed: "the ledger could not be read",
  },
};

/** The exit-code line of a command, by its path below `flz` (e.g. `custody verify`). */
export function exitCodesLine(path: string): string {
  const meaning = EXIT_MEANINGS[path];
  if (!meaning) return EXIT_CODES_LINE;
  return `Exit codes: 0 ${meaning.ok}, 1 ${meaning.failed}, 2 bad usage (a malformed or missing value, a path that cannot be used, an unknown case, instance or file).`;
}

/** Joins the single line breaks of hand-wrapped text into spaces, keeping paragraph breaks and indented lines. */
export function unwrap(text: string): string {
  return text.replace(/([^\n])\n(?=[^\n\s])/g, "$1 ");
}

function defaultText(option: Option): string | undefined {
  const value: unknown = option.defaultValue;
  if (value === undefined || value === false) return undefined;
  if (Array.isArray(value) && value.length === 0) return undefined;
  return option.defaultValueDescription ?? (typeof value === "string" ? value : JSON.stringify(value));
}

/** Help overrides shared by every command (inherited by subcommands created after it is set). */
export function helpConfiguration(): Partial<Help> {
  const base = new Help();
  return {
    commandDescription: (cmd: Command) => unwrap(base.commandDescription(cmd)),
    subcommandDescription: (cmd: Command) => unwrap(base.subcommandDescription(cmd)),
    argumentDescription: (argument) => unwrap(argument.description ?? ""),
    optionDescription: (option: Option) => {
      let text = unwrap(option.description ?? "");
      const dflt = defaultText(option);
      if (dflt !== undefined && !/\bdefault\b/i.test(text)) text = `${text} (default: ${dflt})`;
      return text;
    },
  };
}

/** Every command below `root` that has no subcommands, with its path (`custody verify`). */
export function leafCommands(root: Command, prefix = ""): { path: string; command: Command }[] {
  return root.commands.flatMap((c) => {
    const path = prefix ? `${prefix} ${c.name()}` : c.name();
    if (c.commands.length === 0) return [{ path, command: c }];
    // A command that runs something itself and also has subcommands (`flz capture`, `flz capture memory`) is a leaf
    // too. commander exposes no public "has an action" test; its action handler field is the only marker.
    const runs = (c as unknown as { _actionHandler?: unknown })._actionHandler != null;
    return [...(runs ? [{ path, command: c }] : []), ...leafCommands(c, path)];
  });
}

/**
 * Applies the shared help style to a program whose commands are registered: the exit codes at the end of every
 * command's help, and the help width of the terminal (or `$COLUMNS`, else 80) when output is not a terminal.
 *
 * @param program the root command.
 */
export function finishHelp(program: Command): void {
  for (const { path, command } of leafCommands(program)) command.addHelpText("after", `\n${exitCodesLine(path)}\n`);
}

/** The width help is wrapped to: the terminal's, or `$COLUMNS`, else 80. */
export function helpWidth(stream: NodeJS.WriteStream): number {
  const columns = stream.isTTY ? stream.columns : Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns > 20 ? Math.min(columns, 200) : 80;
}
