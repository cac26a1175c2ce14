import { expect } from "chai";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import {
  DocumentInputError,
  MEMORY_CAPTURE_DOCUMENT_LOGICAL_ID,
  MEMORY_CAPTURE_DOCUMENT_NAME,
  memberResponderPermissions,
  memberRolesTemplate,
  memoryCaptureDocument,
  pinnedToolSha256,
  withMemoryCaptureDocument,
} from "../../../components/documents";
import { parseHostOutput, uploadParameters } from "../../../scripts/capture/memory-plan";
import { runDocumentScript } from "../../../scripts/drill/memory-agent";

const TOOL_SHA = "a".repeat(64);
const doc = () => memoryCaptureDocument({ toolSha256: TOOL_SHA });
const script = () => doc().mainSteps[0].inputs.runCommand.join("\n");

const template = () =>
  withMemoryCaptureDocument(
    memberRolesTemplate({
      forensicResponderRoleArn: "arn:aws:iam::222222222222:role/FlzForensicResponder",
      forensicInvestigatorRoleArn: "arn:aws:iam::222222222222:role/FlzForensicInvestigator",
      responderRoleName: "FlzMemberResponder",
      investigatorRoleName: "FlzMemberInvestigator",
      keysByTag: { accountId: "222222222222" },
    }),
    { toolSha256: TOOL_SHA },
  );

/** A plausible pre-signed UploadPart URL base (what uploadParameters hands the document), real AWS and emulator. */
const AWS_BASE =
  "https://flz-evidence-222222222222-us-east-1.s3.us-east-1.amazonaws.com/cases/IR-1/evidence/memory/20261127T060000Z-i-0abc123def4567890.lime?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential=ASIA%2F20261127%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261127T060000Z&X-Amz-Expires=3600&X-Amz-Security-Token=IQoJb3JpZ2luX2VjE%2B%2F%3D&X-Amz-SignedHeaders=host&uploadId=2~abc.DEF_ghi-jkl&x-id=UploadPart";
const EMULATOR_BASE =
  "http://127.0.0.1:40123/flz-evidence/cases/IR-1/evidence/memory/x.lime?uploadId=abc&x-id=UploadPart";

describe("the FLZ-CaptureMemory SSM document", () => {
  it("is a schema 2.2 Command document with one Linux-only shell step whose timeout is a parameter", () => {
    const d = doc();
    expect(d.schemaVersion).to.equal("2.2");
    expect(d.mainSteps).to.have.length(1);
    expect(d.mainSteps[0].action).to.equal("aws:runShellScript");
    expect(d.mainSteps[0].precondition).to.deep.equal({ StringEquals: ["platformType", "Linux"] });
    expect(d.mainSteps[0].inputs.timeoutSeconds).to.equal("{{ ExecutionTimeout }}");
  });

  it("pins the tool's SHA-256 in its content (not a parameter) and refuses a malformed one", () => {
    expect(script()).to.contain(`TOOL_SHA256='${TOOL_SHA}'`);
    expect(Object.keys(doc().parameters)).not.to.include("ToolSha256");
    expect(pinnedToolSha256(JSON.stringify(doc()))).to.equal(TOOL_SHA);
    expect(() => memoryCaptureDocument({ toolSha256: "ABC" })).to.throw(DocumentInputError, /toolSha256: "ABC"/);
  });

  it("uses every parameter, declares every placeholder, and quotes each in single quotes", () => {
    const d = doc();
    const used = new Set([...JSON.stringify(d.mainSteps).matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]));
    expect([...used].sort()).to.deep.equal(Object.keys(d.parameters).sort());
    for (const name of Object.keys(d.parameters).filter((n) => n !== "ExecutionTimeout")) {
      const occurrences = script().match(new RegExp(`\\{\\{ ${name} \\}\\}`, "g")) ?? [];
      expect(occurrences, name).to.have.length(1);
      expect(script(), name).to.match(new RegExp(`^[A-Z_]+='\\{\\{ ${name} \\}\\}'$`, "m"));
    }
  });

  it("constrains every parameter with an allowedPattern that admits no shell metacharacter", () => {
    const probes = ["'", '"', "$", "`", "\\", " ", "\n", ";", "|", "(", ")", "<", ">", "*", "#", "!", "{", "}"];
    const valid: Record<string, string> = {
      ToolUrl: EMULATOR_BASE,
      UploadUrl: AWS_BASE,
      PartSignatures: `${"0".repeat(64)} ${"f".repeat(64)}`,
      PartSizeMiB: "64",
      ExecutionTimeout: "3600",
    };
    for (const [name, parameter] of Object.entries(doc().parameters)) {
      const pattern = new RegExp(parameter.allowedPattern);
      expect(pattern.test(valid[name]), `${name} accepts ${valid[name]}`).to.equal(true);
      for (const probe of probes) {
        // The separator space is the signature list's own syntax: it is accepted between signatures only.
        if (name === "PartSignatures" && probe === " ") continue;
        for (const attempt of [
          `${valid[name]}${probe}id`,
          `${probe}${valid[name]}`,
          `${valid[name].slice(0, 3)}${probe}`,
        ]) {
          expect(pattern.test(attempt), `${name} refuses ${JSON.stringify(attempt)}`).to.equal(false);
        }
      }
    }
    const p = (name: string) => new RegExp(doc().parameters[name].allowedPattern);
    expect(p("ToolUrl").test("http://evil.example.com/tool")).to.equal(false); // plain http only to the loopback emulator
    expect(p("ToolUrl").test("file:///etc/shadow")).to.equal(false);
    expect(p("PartSignatures").test(`${"0".repeat(64)}  ${"0".repeat(64)}`)).to.equal(false);
    expect(p("PartSizeMiB").test("4")).to.equal(false);
    expect(p("PartSizeMiB").test("1025")).to.equal(false);
    expect(p("PartSizeMiB").test("1024")).to.equal(true);
  });

  it("takes one upload URL and a signature per part from pre-signed part URLs signed at one instant", () => {
    const sig = (n: number) => n.toString(16).padStart(64, "0");
    const urls = [1, 2, 3].map((n) => `${EMULATOR_BASE}&partNumber=${n}&X-Amz-Signature=${sig(n)}`);
    const params = uploadParameters(urls);
    expect(params.PartSignatures).to.equal([1, 2, 3].map(sig).join(" "));
    expect(params.UploadUrl).not.to.contain("partNumber");
    expect(params.UploadUrl).not.to.contain("X-Amz-Signature");
    const other = urls.map((u, i) => (i === 1 ? u.replace("uploadId=abc", "uploadId=zzz") : u));
    expect(() => uploadParameters(other)).to.throw(/differ in more than/);
  });

  it("is deployed with the member roles, passes cfn-lint, and the responder may run only it", async function () {
    this.timeout(120_000);
    const t = template();
    const resource = t.Resources[MEMORY_CAPTURE_DOCUMENT_LOGICAL_ID];
    expect(resource.Type).to.equal("AWS::SSM::Document");
    expect(resource.Properties.Name).to.equal(MEMORY_CAPTURE_DOCUMENT_NAME);
    expect(resource.Properties.DocumentType).to.equal("Command");
    expect(resource.Properties.Content).to.deep.equal(doc());
    const dir = mkdtempSync(path.join(tmpdir(), "flz-ssm-doc-"));
    try {
      const file = path.join(dir, "member-roles-with-memory.json");
      writeFileSync(file, JSON.stringify(t, null, 2));
      const output = await promisify(execFile)("cfn-lint", ["--format", "json", file]).then(
        (r) => r.stdout,
        (e: { stdout?: string; message: string }) => {
          if (!e.stdout?.trim()) throw new Error(`cfn-lint did not run: ${e.message}`);
          return e.stdout;
        },
      );
      const findings = JSON.parse(output) as { Level: string; Rule: { Id: string }; Message: string }[];
      expect(findings.filter((f) => f.Level === "Error").map((f) => `${f.Rule.Id}: ${f.Message}`)).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const statements = memberResponderPermissions({ keysByTag: { accountId: "222222222222" } }).Statement;
    const send = statements.filter((s) => [s.Action].flat().includes("ssm:SendCommand"));
    expect(send).to.have.length(1);
    expect(send[0].Resource).to.deep.equal([
      `arn:aws:ssm:*:*:document/${MEMORY_CAPTURE_DOCUMENT_NAME}`,
      "arn:aws:ec2:*:*:instance/*",
      "arn:aws:ssm:*:*:managed-instance/*",
    ]);
  });
});

describe("the in-guest script (run here with sh)", () => {
  let server: Server;
  let base: string;
  const puts: string[] = [];
  const tool = Buffer.from("#!/bin/sh\necho not the pinned tool\n");
  before(async () => {
    server = createServer((req, res) => {
      if (req.method === "PUT") puts.push(req.url ?? "");
      res.end(req.method === "GET" ? tool : "");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it("refuses to run a tool whose SHA-256 is not the pinned one, and sends nothing", async function () {
    this.timeout(30_000);
    const run = await runDocumentScript(TOOL_SHA, {
      ToolUrl: `${base}/tools/avml?X-Amz-Signature=x`,
      UploadUrl: `${base}/cases/x.lime?uploadId=u`,
      PartSignatures: "0".repeat(64),
      PartSizeMiB: "5",
      ExecutionTimeout: "60",
    });
    const report = parseHostOutput(run.stdout);
    expect(run.code).to.equal(1);
    expect(report.toolSha256).to.equal(createHash("sha256").update(tool).digest("hex"));
    expect(report.errors.join(" ")).to.contain(`not the pinned ${TOOL_SHA}: not run`);
    expect(report.lockdown).to.be.a("string");
    expect(puts).to.deep.equal([]);
  });
});
