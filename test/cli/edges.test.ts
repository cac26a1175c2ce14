// The CLI's edges, as an operator meets them: a reader that closes the pipe early, output folders that cannot be
// used, a landing-zone file of the wrong shape, no credentials or a dead endpoint, and help that reads the same in
// every command.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { buildProgram } from "../../scripts/cli";
import { leafCommands } from "../../scripts/help";
import type { LandingZone } from "../../scripts/contract";
import { seedLandingZone } from "../../scripts/emulator/seed";
import { runFlz } from "../support/cli";
import { emulator, useEmulator } from "../support/emulator";

const BIN = path.join(__dirname, "..", "..", "bin", "flz");

/** Runs `bin/flz <args> | head -1` in a shell; the exit code is flz's (pipefail), stderr is flz's own. */
function piped(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; out: string; err: string } {
  const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const run = spawnSync("bash", ["-c", `set -o pipefail; node '${BIN}' ${quoted} 2>"$ERRFILE" | head -1`], {
    encoding: "utf8",
    env: { ...process.env, ...env, ERRFILE: env.ERRFILE },
    timeout: 120_000,
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

describe("CLI edges (emulator, processes)", function () {
  this.timeout(180000);
  useEmulator();
  let lz: LandingZone;
  let dir: string;
  let file: string;
  beforeEach(async () => {
    lz = await seedLandingZone();
    dir = mkdtempSync(path.join(tmpdir(), "flz-edges-"));
    file = path.join(dir, "lz.json");
    writeFileSync(file, JSON.stringify(lz));
  });

  it("ends quietly when the reader closes the pipe early, in every command that prints", async () => {
    const endpoint = (await emulator()).endpoint;
    expect(
      (await runFlz(["case", "open", "IR-P", "--title", "pipe", "--aware-at", "now", "--landing-zone", file])).code,
    ).to.equal(0);
    const many = path.join(dir, "many");
    const files: string[] = [];
    for (let i = 0; i < 400; i++) {
      const f = path.join(dir, `f${i}`);
      writeFileSync(f, String(i));
      files.push(f);
    }
    writeFileSync(many, "");
    const env = { AWS_ENDPOINT_URL: endpoint, FLZ_LANDING_ZONE: file, ERRFILE: path.join(dir, "stderr") };
    const commands = [
      ["--help"],
      ["case", "--help"],
      ["hash", ...files],
      ["clock", "--aware-at", "2026-03-02T09:15:00Z", "--tz", "UTC"],
      ["clock", "--case", "IR-P", "--dry-run"],
      ["case", "list"],
      ["case", "status", "IR-P"],
      ["custody", "show", "--case", "IR-P"],
      ["custody", "verify", "--case", "IR-P"],
    ];
    for (const args of commands) {
      const run = piped(args, env);
      const stderr = readFileSync(env.ERRFILE, "utf8");
      expect(run.code, `${args.slice(0, 3).join(" ")}: ${stderr}`).to.equal(0);
      expect(run.out.split("\n").filter(Boolean), args[0]).to.have.length(1);
      expect(stderr, args.join(" ")).not.to.match(/EPIPE|Error:|\n\s+at /);
      // The SDK's Node version notice is not an operator's business mid-incident.
      expect(stderr).not.to.contain("NodeVersionSupportWarning");
    }
  });

  it("refuses an output folder that is a file, has no parent, or cannot be written, in one line and without hanging", async () => {
    expect(
      (await runFlz(["case", "open", "IR-O", "--title", "out", "--aware-at", "now", "--landing-zone", file])).code,
    ).to.equal(0);
    const aFile = path.join(dir, "a-file");
    writeFileSync(aFile, "x");
    const cases: [string, RegExp][] = [
      [aFile, /is a file, not a folder/],
      [path.join(dir, "no", "such", "parent"), /does not exist: create it first/],
      ["/proc/x", /\/proc\/x/],
      ["/proc/self/x", /\/proc\/self\/x/],
    ];
    for (const [out, why] of cases) {
      const started = Date.now();
      const run = await runFlz(["custody", "export", "--case", "IR-O", "--out", out, "--landing-zone", file]);
      expect(run.code, run.err).to.equal(2);
      expect(run.err.trim().split("\n"), out).to.have.length(1);
      expect(run.err)
        .to.match(new RegExp(`^flz: --out ${out.replace(/[/.]/g, "\\$&")}: `))
        .and.match(why);
      expect(Date.now() - started).to.be.lessThan(20000);
    }
    const drill = await runFlz(["drill", "--report", "/proc/x"]);
    expect([drill.code, drill.err.trim().split("\n").length]).to.deep.equal([2, 1]);
  });

  it("names the first few problems of a landing-zone file of the wrong shape, and what the file should be", async () => {
    const wrong = path.join(dir, "wrong.json");
    writeFileSync(wrong, JSON.stringify({ deployment: { resources: [] }, version: 3 }));
    const run = await runFlz(["case", "list", "--landing-zone", wrong]);
    expect(run.code).to.equal(2);
    const line = run.err.trim();
    expect(line.split("\n")).to.have.length(1);
    expect(line).to.match(
      /^flz: landing zone file .* is invalid: organizationId: missing; forensicAccountId: missing; homeRegion: missing \(and \d+ more\); this looks like `pulumi stack export`/,
    );
    expect(line.length).to.be.lessThan(400);
  });

  it("gives a hint for missing credentials and for a dead endpoint", () => {
    const base: NodeJS.ProcessEnv = {
      ...process.env,
      FLZ_LANDING_ZONE: file,
      AWS_EC2_METADATA_DISABLED: "true",
      HOME: dir,
    };
    delete base.AWS_ACCESS_KEY_ID;
    delete base.AWS_SECRET_ACCESS_KEY;
    delete base.AWS_PROFILE;
    const noCreds = spawnSync("node", [BIN, "case", "list"], { encoding: "utf8", env: base, timeout: 60_000 });
    expect(noCreds.status).to.equal(1);
    expect(noCreds.stderr.trim()).to.match(
      /^flz: no AWS credentials found: set AWS_PROFILE .* or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
    const dead = spawnSync("node", [BIN, "case", "list"], {
      encoding: "utf8",
      env: { ...process.env, FLZ_LANDING_ZONE: file, AWS_ENDPOINT_URL: "http://127.0.0.1:9" },
      timeout: 60_000,
    });
    expect(dead.status).to.equal(1);
    expect(dead.stderr.trim()).to.match(
      /^flz: cannot reach 127\.0\.0\.1:9: connection refused \(ECONNREFUSED\); check the network/,
    );
  });
});

describe("flz --version", () => {
  it("prints the version and exits 0 without loading any command", () => {
    expect(buildProgram(["node", "flz", "--version"]).commands).to.have.length(0);
    expect(buildProgram(["node", "flz", "-V"]).commands).to.have.length(0);
    const run = spawnSync("node", [BIN, "--version"], { encoding: "utf8", timeout: 120_000 });
    expect({ code: run.status, out: run.stdout, err: run.stderr }).to.deep.equal({ code: 0, out: "0.1.0\n", err: "" });
  });
});

describe("help, the same in every command", () => {
  const program = buildProgram();
  const leaves = leafCommands(program);
  const helpOf = (command: (typeof leaves)[number]["command"]): string => {
    let text = "";
    command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
    command.outputHelp();
    return text;
  };

  it("covers every command", () => {
    expect(leaves.map((l) => l.path)).to.include.members([
      "case open",
      "case list",
      "case status",
      "capture",
      "hash",
      "evidence put",
      "custody show",
      "custody verify",
      "custody export",
      "contain sessions",
      "contain access-key",
      "contain instance",
      "contain undo",
      "clock",
      "drill",
    ]);
  });

  for (const { path: name, command } of leafCommands(buildProgram())) {
    it(`flz ${name}: examples, exit codes, required flags marked, no commander defaults leaking`, () => {
      const text = helpOf(command);
      expect(text).to.match(/\nExamples:\n/);
      expect(text).to.match(/\nExit codes: 0 .*, 1 .*, 2 bad usage/);
      expect(text).not.to.match(/\(default: \[\]\)|\(default: "/);
      const required = command.options.filter((o) => /\(required\)$/.test(o.description ?? ""));
      for (const option of required) expect(text).to.contain(option.long);
      if (
        [
          "capture",
          "evidence put",
          "custody show",
          "custody verify",
          "custody export",
          "contain sessions",
          "clock",
        ].includes(name) &&
        name !== "clock"
      )
        expect(
          required.map((o) => o.long),
          name,
        ).to.include("--case");
    });
  }

  it("wraps descriptions to the terminal width ($COLUMNS when not a terminal)", () => {
    const saved = process.env.COLUMNS;
    process.env.COLUMNS = "70";
    try {
      const drill = leafCommands(buildProgram()).find((l) => l.path === "drill")?.command;
      const text = helpOf(drill!);
      const before = text.split("\nExamples:")[0];
      const long = before.split("\n").filter((l) => l.length > 70);
      expect(long).to.deep.equal([]);
      // hand-wrapped source text is re-flowed, not cut into ragged half lines
      expect(before).not.to.match(/\n[a-z]{1,12}\n/);
    } finally {
      if (saved === undefined) delete process.env.COLUMNS;
      else process.env.COLUMNS = saved;
    }
  });
});
