/**
 * Fixtures of the memory-capture tests: the in-guest script with SSM's parameter substitution done as the SSM agent
 * does it (text replacement of `{{ Name }}`), run with `sh` on this machine, and a stand-in for the acquisition tool.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { memoryCaptureScript } from "../../../components/documents/ssm-memory";

/** The script text with every `{{ Name }}` replaced by its value, as SSM substitutes document parameters. */
export function substituteParameters(lines: readonly string[], parameters: Record<string, string>): string {
  return `${lines
    .map((line) =>
      line.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => {
        if (!(name in parameters)) throw new Error(`no value for parameter ${name}`);
        return parameters[name];
      }),
    )
    .join("\n")}\n`;
}

/** What a run of the script printed, and its exit status. */
export interface HostRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the document's script for `toolSha256` with `parameters`, as the SSM agent would (sh, a script file). */
export async function runHostScript(toolSha256: string, parameters: Record<string, string>): Promise<HostRun> {
  const dir = mkdtempSync(path.join(tmpdir(), "flz-host-"));
  const file = path.join(dir, "_script.sh");
  writeFileSync(file, substituteParameters(memoryCaptureScript(toolSha256), parameters));
  chmodSync(file, 0o700);
  return new Promise((resolve, reject) => {
    const child = spawn("sh", [file], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * A stand-in for the acquisition tool (AVML's command line: one argument, the output path), NOT a memory acquisition
 * tool: it writes the bytes of `knownFile` to its output, so a test knows exactly what the image must hash to.
 */
export function standInAcquisitionToolWritingKnownBytes(knownFile: string): Buffer {
  return Buffer.from(
    `#!/bin/sh\n# flz test stand-in for AVML: writes known bytes, acquires nothing\ncat '${knownFile}' > "$1"\n`,
  );
}
