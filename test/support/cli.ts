/**
 * Runs the `flz` CLI in-process, as a user's shell would, and captures what it prints. One place for the stdout and
 * stderr capture that command tests need, so every command is tested through the same entry (`main()`).
 */
import { main } from "../../scripts/cli";

/** Runs `fn` with process.stdout and process.stderr captured; restores them and clears `process.exitCode` after. */
export async function withCapturedProcessOutput<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; stdout: string; stderr: string }> {
  const originalOut = process.stdout.write.bind(process.stdout);
  const originalErr = process.stderr.write.bind(process.stderr);
  let stdout = "";
  let stderr = "";
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    const value = await fn();
    return { value, stdout, stderr };
  } finally {
    process.stdout.write = originalOut;
    process.stderr.write = originalErr;
    // main() sets the exit code a shell would see; it must not become the test runner's own.
    process.exitCode = 0;
  }
}

/** Runs `flz <args>` in-process: its exit code and what it wrote to stdout and stderr. */
export async function runFlz(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { value, stdout, stderr } = await withCapturedProcessOutput(() => main(["node", "flz", ...args]));
  return { code: value, out: stdout, err: stderr };
}
