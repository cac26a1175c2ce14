/**
 * `npm test`'s first step (the `pretest` script): what the tests need beyond `npm ci`, found or installed, or named in
 * one line each so a fresh machine is set up without reading a stack trace.
 * - Headless Chromium for the report checks (Debian's `chromium`; Playwright's own browser download is not used):
 *   installed with apt-get when missing and running as root, else the exact command is printed.
 * - Python 3 with moto 5.2.1 (`moto_server`, the emulator) and cfn-lint: named with the command that installs them.
 * Exits 1 when something is still missing.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const CHROMIUM = process.env.FLZ_CHROMIUM ?? "/usr/bin/chromium";
const PYTHON = process.env.FLZ_PYTHON ?? "python3";

function works(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: "ignore" }).status === 0;
}

function say(line: string): void {
  process.stderr.write(`npm test: ${line}\n`);
}

function ensureChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const root = process.getuid?.() === 0;
  if (!process.env.FLZ_CHROMIUM && root && works("apt-get", ["--version"])) {
    say(`${CHROMIUM} missing: installing Debian's chromium with apt-get (once per machine)`);
    try {
      execFileSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "inherit"] });
      execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], {
        stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      });
    } catch {
      // reported below
    }
    if (existsSync(CHROMIUM)) return true;
  }
  say(
    `the report tests need headless Chromium at ${CHROMIUM}: install it with 'sudo apt-get install -y chromium' (Debian/Ubuntu), or set FLZ_CHROMIUM to a Chromium binary`,
  );
  return false;
}

function ensurePython(): boolean {
  if (!works(PYTHON, ["--version"])) {
    say(`${PYTHON} not found: install Python 3, then pip install 'moto[server]==5.2.1' cfn-lint (or set FLZ_PYTHON)`);
    return false;
  }
  const moto = spawnSync(PYTHON, ["-c", "import moto, sys; sys.stdout.write(moto.__version__)"], { encoding: "utf8" });
  if (moto.status !== 0) {
    say(`${PYTHON} has no moto module: pip install 'moto[server]==5.2.1' (the emulator the tests and the drill use)`);
    return false;
  }
  if (moto.stdout.trim() !== "5.2.1")
    say(
      `note: moto ${moto.stdout.trim()} found; the tests are written against 5.2.1 (pip install 'moto[server]==5.2.1')`,
    );
  return true;
}

function ensureCfnLint(): boolean {
  if (works("cfn-lint", ["--version"])) return true;
  say("cfn-lint not found: pip install cfn-lint (the StackSet template tests run it)");
  return false;
}

const results = [ensureChromium(), ensurePython(), ensureCfnLint()];
if (results.includes(false)) process.exit(1);
