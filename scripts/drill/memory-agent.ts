/**
 * The drill's memory capture (issue 16) against the emulator, which records SSM commands but runs none (moto has no
 * agent, no DescribeInstanceInformation and no CancelCommand). A stand-in for the SSM agent is attached to the capture's
 * own SSM client: SendCommand and GetCommandInvocation still go to the emulator; when a command is first polled, the
 * document's real script is run on this machine (`sh`), with the parameters the emulator recorded for the command
 * substituted as the SSM agent does, and its exit status and output replace the emulator's empty answer (InProgress
 * while it runs). The acquisition tool is a stand-in too: it writes known bytes (a planted memory image), so the drill
 * can check that the digest computed off the host is the planted image's.
 *
 * Used by `flz drill` and the tests only; nothing here runs against AWS.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateDocumentCommand, ListCommandsCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { MiddlewareStack } from "@smithy/types";
import {
  MEMORY_CAPTURE_DOCUMENT_NAME,
  MEMORY_TOOL_KEY,
  memoryCaptureDocument,
  memoryCaptureScript,
} from "../../components/documents/ssm-memory";
import { ClientFactory } from "../aws/clients";
import type { LandingZone } from "../contract";

/** The script text with every `{{ Name }}` replaced by its value, as the SSM agent substitutes document parameters. */
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

/** What a run of the document's script printed, and its exit status. */
export interface HostRun {
  /** Exit status. */
  readonly code: number;
  /** Standard output (the markers flz reads). */
  readonly stdout: string;
  /** Standard error. */
  readonly stderr: string;
}

/** Runs the document's script for `toolSha256` with `parameters`, as the SSM agent would (a script file, `sh`). */
export async function runDocumentScript(toolSha256: string, parameters: Record<string, string>): Promise<HostRun> {
  const dir = mkdtempSync(path.join(tmpdir(), "flz-host-"));
  const file = path.join(dir, "_script.sh");
  writeFileSync(file, substituteParameters(memoryCaptureScript(toolSha256), parameters));
  chmodSync(file, 0o700);
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn("sh", [file], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A stand-in for the acquisition tool (AVML's command line: one argument, the output path), NOT a memory acquisition
 * tool: it writes the bytes of `knownFile` to its output.
 */
export function standInAcquisitionToolWritingKnownBytes(knownFile: string): Buffer {
  return Buffer.from(
    `#!/bin/sh\n# flz stand-in for AVML (drill and tests): writes known bytes, acquires nothing\ncat '${knownFile}' > "$1"\n`,
  );
}

/** Failure paths a test can ask of the stand-in agent. */
export interface AgentBehaviour {
  /** Rewrites what the host printed (a compromised host lying about its digest). */
  readonly tamper?: (stdout: string) => string;
  /** Throws on this finished poll (1-based): the operator's process dies after the host finished. */
  readonly crashOnPoll?: number;
  /** The host never finishes (a hung acquisition): the command stays InProgress until cancelled. */
  readonly hang?: boolean;
}

/** The stand-in agent's state: the one agent on the instance, whatever client polls it. */
export interface StandInAgent {
  /** Script runs by command ID. */
  readonly runs: Map<string, { done?: HostRun }>;
  /** The parameters each command was sent with, as the emulator recorded them. */
  readonly parameters: Map<string, Record<string, string>>;
  /** Commands cancelled. */
  readonly cancelled: string[];
}

/** A new agent state. */
export function newStandInAgent(): StandInAgent {
  return { runs: new Map(), parameters: new Map(), cancelled: [] };
}

/**
 * Attaches the stand-in agent to an SSM client of the member account (see the module comment). `admin` reads back
 * the parameters the emulator recorded (ListCommands), as the agent receives them.
 */
export function attachStandInAgent(
  ssm: SSMClient,
  options: {
    readonly admin: SSMClient;
    readonly instanceId: string;
    readonly toolSha256: string;
    readonly agent: StandInAgent;
    readonly behaviour?: AgentBehaviour;
  },
): void {
  const { agent, behaviour = {} } = options;
  let polls = 0;
  (ssm.middlewareStack as MiddlewareStack<object, object>).add(
    (next, context) => async (args) => {
      const name = (context as { commandName?: string }).commandName;
      const input = args.input as { CommandId?: string };
      if (name === "DescribeInstanceInformationCommand") {
        return {
          response: {},
          output: {
            $metadata: {},
            InstanceInformationList: [
              { InstanceId: options.instanceId, PingStatus: "Online", PlatformType: "Linux", AgentVersion: "stand-in" },
            ],
          },
        };
      }
      if (name === "CancelCommandCommand") {
        agent.cancelled.push(input.CommandId ?? "");
        return { response: {}, output: { $metadata: {} } };
      }
      const result = await next(args);
      if (name !== "GetCommandInvocationCommand") return result;
      const commandId = input.CommandId ?? "";
      let run = agent.runs.get(commandId);
      if (!run && !behaviour.hang) {
        const listed = await options.admin.send(new ListCommandsCommand({ CommandId: commandId }));
        const parameters = Object.fromEntries(
          Object.entries(listed.Commands?.[0]?.Parameters ?? {}).map(([k, v]) => [k, v[0]]),
        );
        agent.parameters.set(commandId, parameters);
        const entry: { done?: HostRun } = {};
        void runDocumentScript(options.toolSha256, parameters).then((r) => (entry.done = r));
        agent.runs.set(commandId, entry);
        run = entry;
      }
      const output = (result as { output: Record<string, unknown> }).output;
      if (!run?.done) {
        output.Status = agent.cancelled.includes(commandId) ? "Cancelled" : "InProgress";
        output.StandardOutputContent = "";
        return result;
      }
      polls++;
      if (polls === behaviour.crashOnPoll) throw new Error("operator's process killed (test)");
      output.Status = run.done.code === 0 ? "Success" : "Failed";
      output.StandardOutputContent = (behaviour.tamper ?? ((s: string) => s))(run.done.stdout);
      output.StandardErrorContent = run.done.stderr;
      return result;
    },
    { step: "initialize", name: "flzStandInSsmAgent" },
  );
}

/**
 * Sets the emulator up for a memory capture of `instanceId`, as a deployment and an operator would: the
 * FLZ-CaptureMemory document in the member account (what the StackSet deploys), and the stand-in tool writing
 * `imageFile`'s bytes staged at `tools/avml` (what the operator stages, docs/memory.md); then attaches the stand-in
 * agent to the capture factory's SSM client. Returns the tool's SHA-256 and the member administrator's SSM client.
 */
export async function prepareMemoryRehearsal(options: {
  readonly lz: LandingZone;
  readonly factory: ClientFactory;
  readonly account: string;
  readonly region: string;
  readonly instanceId: string;
  readonly imageFile: string;
  readonly agent?: StandInAgent;
  readonly behaviour?: AgentBehaviour;
}): Promise<{ toolSha256: string; agent: StandInAgent; release: () => void }> {
  const { lz, account, region } = options;
  const tool = standInAcquisitionToolWritingKnownBytes(options.imageFile);
  const toolSha256 = createHash("sha256").update(tool).digest("hex");
  const admins = new ClientFactory({
    memberRoleName: "OrganizationAccountAccessRole",
    forensicRoleArn: `arn:aws:iam::${lz.forensicAccountId}:role/OrganizationAccountAccessRole`,
  });
  const admin = admins.client(SSMClient, { account, region });
  await admins
    .client(S3Client, { region: lz.homeRegion })
    .send(new PutObjectCommand({ Bucket: lz.evidenceBucket, Key: MEMORY_TOOL_KEY, Body: tool }));
  await admin.send(
    new CreateDocumentCommand({
      Name: MEMORY_CAPTURE_DOCUMENT_NAME,
      DocumentType: "Command",
      DocumentFormat: "JSON",
      Content: JSON.stringify(memoryCaptureDocument({ toolSha256 })),
    }),
  );
  const agent = options.agent ?? newStandInAgent();
  attachStandInAgent(options.factory.client(SSMClient, { account, region }), {
    admin,
    instanceId: options.instanceId,
    toolSha256,
    agent,
    behaviour: options.behaviour,
  });
  return { toolSha256, agent, release: () => admins.destroy() };
}
