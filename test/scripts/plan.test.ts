import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { formatPlan } from "../../scripts/plan/format";
import { main } from "../../scripts/plan/main";
import { planProgram, PlanResult, readStackConfig } from "../../scripts/plan/plan";

/** Captures what a run of `main` prints. */
function capture() {
  const out = new PassThrough();
  const err = new PassThrough();
  const text = { out: "", err: "" };
  out.on("data", (d: Buffer) => (text.out += d.toString()));
  err.on("data", (d: Buffer) => (text.err += d.toString()));
  return { io: { out, err, isTty: false }, text };
}

function tempFile(name: string, content: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "flz-plan-")), name);
  writeFileSync(file, content);
  return file;
}

describe("npm run plan", () => {
  let plan: PlanResult;
  before(async () => {
    plan = await planProgram();
  });

  it("plans the example stack with every cloud resource placed in an account and a region", () => {
    const cloud = plan.resources.filter((r) => r.custom);
    expect(cloud.length).to.be.greaterThan(40);
    for (const r of cloud) {
      expect(r.account, r.name).to.match(/^\d{12}$/);
      expect(r.region, r.name).to.match(/^[a-z]{2}-[a-z]+-\d$/);
    }
    const replica = plan.resources.find((r) => r.type === "aws:kms/replicaKey:ReplicaKey");
    expect(replica).to.deep.include({
      account: "222222222222",
      region: "eu-west-1",
      provider: "flz-forensic-account-eu-west-1",
      parent: "flz-keys",
    });
  });

  it("prints every resource with its account and region, its security settings, and the outputs", () => {
    const text = formatPlan(plan);
    for (const r of plan.resources.filter((x) => x.custom)) {
      const line = text.split("\n").find((l) => l.includes(`${r.type}  ${r.name}  [`));
      expect(line, r.name).to.include(`[account ${r.account}, region ${r.region}]`);
    }
    expect(text)
      .to.include("· lock=COMPLIANCE")
      .and.include("· customerMasterKeySpec=ECC_NIST_P256")
      .and.include("· permissionModel=SERVICE_MANAGED");
    expect(text).to.include("Deny DenyInsecureTransport");
    expect(text).to.match(/Outputs:\n(.|\n)*forensicResponderRoleArn: arn:aws:iam::/);
  });

  it("prints one JSON document with --json", async () => {
    const { io, text } = capture();
    expect(await main(["node", "plan", "--json"], io)).to.equal(0);
    const doc = JSON.parse(text.out) as PlanResult;
    expect(Object.keys(doc)).to.include.members(["resources", "outputs"]);
    expect(Object.keys(doc.resources[0])).to.include.members([
      "type",
      "name",
      "parent",
      "provider",
      "account",
      "region",
      "inputs",
    ]);
    expect(doc.resources.length).to.equal(plan.resources.length);
    expect(doc.outputs.forensicAccountId).to.equal("222222222222");
  });

  it("plans another stack configuration given with --stack-config", async () => {
    const config = tempFile(
      "Pulumi.test.yaml",
      [
        "config:",
        "  forensic-landing-zone:forensicAccountEmail: forensics@example.com",
        "  forensic-landing-zone:homeRegion: eu-central-1",
        "  forensic-landing-zone:regions: [eu-central-1, eu-west-1, us-east-1]",
        "  forensic-landing-zone:targetOuIds: [r-ab12]",
        // Required since issue 11: the named responder principals and the deployment principal.
        "  forensic-landing-zone:responderPrincipals: [arn:aws:iam::111111111111:role/IncidentResponseTeam]",
        "  forensic-landing-zone:deploymentRoleArn: arn:aws:iam::*:role/OrganizationAccountAccessRole",
      ].join("\n"),
    );
    const other = await planProgram({ stackConfig: config });
    expect(
      other.resources.filter((r) => r.type === "aws:kms/replicaKey:ReplicaKey").map((r) => r.region),
    ).to.have.members(["eu-west-1", "us-east-1"]);
    expect(other.resources.some((r) => r.type === "aws:organizations/account:Account")).to.equal(true);
    expect(other.outputs.homeRegion).to.equal("eu-central-1");
  });

  it("plans any other Pulumi TypeScript program given with --program, and re-runs it on a second plan", async () => {
    const aws = require.resolve("@pulumi/aws");
    const program = tempFile(
      "index.ts",
      `const aws = require(${JSON.stringify(aws)});\n` +
        `const p = new aws.Provider("eu", { region: "eu-west-1", allowedAccountIds: ["999999999999"] });\n` +
        `const b = new aws.s3.Bucket("logs", { bucket: "other-logs" }, { provider: p });\n` +
        `export const bucket = b.bucket;\n`,
    );
    const config = tempFile("Pulumi.x.yaml", "config: {}\n");
    for (let i = 0; i < 2; i++) {
      const other = await planProgram({ program, stackConfig: config });
      expect(other.resources.map((r) => [r.type, r.account, r.region])).to.deep.equal([
        ["pulumi:providers:aws", "999999999999", "eu-west-1"],
        ["aws:s3/bucket:Bucket", "999999999999", "eu-west-1"],
      ]);
      expect(other.outputs).to.deep.equal({ bucket: "other-logs" });
    }
  });

  it("reads YAML lists and numbers as the JSON text Pulumi hands the program", () => {
    const file = tempFile(
      "Pulumi.y.yaml",
      "config:\n  regions: [us-east-1]\n  forensic-landing-zone:trailRetentionDays: 30\n  aws:region: us-east-1\n",
    );
    expect(readStackConfig(file)).to.deep.equal({
      "forensic-landing-zone:regions": '["us-east-1"]',
      "forensic-landing-zone:trailRetentionDays": "30",
      "aws:region": "us-east-1",
    });
  });

  it("exits 2 with one line for a bad configuration, a missing file or a missing program", async () => {
    const bad = tempFile("Pulumi.bad.yaml", "config:\n  forensic-landing-zone:forensicAccountId: '123'\n");
    for (const argv of [
      ["--stack-config", bad],
      ["--stack-config", "/nonexistent/Pulumi.yaml"],
      ["--program", "/nonexistent/index.ts"],
    ]) {
      const { io, text } = capture();
      expect(await main(["node", "plan", ...argv], io), argv.join(" ")).to.equal(2);
      expect(text.err.trim().split("\n"), text.err).to.have.length(1);
      expect(text.out).to.equal("");
    }
    const { io, text } = capture();
    await main(["node", "plan", "--stack-config", bad], io);
    expect(text.err).to.match(
      /^plan: forensic-landing-zone:forensicAccountId: "123" is not valid; valid: a 12-digit AWS account ID/,
    );
  });

  describe("policy verdicts", () => {
    const awsModule = JSON.stringify(require.resolve("@pulumi/aws"));
    const emptyConfig = () => tempFile("Pulumi.x.yaml", "config: {}\n");
    /** A program in eu-west-1 with EBS encryption by default and one instance; `extra` adds resources. */
    const program = (httpTokens: string, extra = "") =>
      tempFile(
        "index.ts",
        `const aws = require(${awsModule});\n` +
          `const p = new aws.Provider("eu", { region: "eu-west-1", allowedAccountIds: ["999999999999"] });\n` +
          `new aws.ebs.EncryptionByDefault("ebs", { enabled: true }, { provider: p });\n` +
          `new aws.ec2.Instance("web", { ami: "ami-1", instanceType: "t3.micro", ` +
          `metadataOptions: { httpTokens: ${JSON.stringify(httpTokens)}, httpPutResponseHopLimit: 1 }, ` +
          `rootBlockDevice: { encrypted: true } }, { provider: p });\n` +
          extra,
      );

    it("shows every rule's verdict for the example stack, passes, and exits 0", async () => {
      expect(plan.policyPack).to.deep.include({ name: "forensic-landing-zone", passed: true, mandatoryViolations: 0 });
      expect(plan.policies.map((p) => p.name)).to.include.members([
        "forensic-bucket-object-lock",
        "ebs-encryption-by-default",
      ]);
      const { io, text } = capture();
      expect(await main(["node", "plan"], io)).to.equal(0);
      expect(text.out).to.match(/pass {2}forensic-bucket-object-lock \(mandatory, critical\)/);
      expect(text.out).to.match(/Policy pack forensic-landing-zone: passed/);
    });

    it("exits 0 for a compliant program given with --program", async () => {
      const { io, text } = capture();
      expect(
        await main(["node", "plan", "--program", program("required"), "--stack-config", emptyConfig()], io),
      ).to.equal(0);
      expect(text.out).to.match(/pass {2}ec2-imdsv2-required/);
      expect(text.err).to.equal("");
    });

    it("demands account-wide settings only of a stack declared an account baseline with --stack-tag", async () => {
      // A queue in us-east-1 with no EBS encryption by default there: an application owns no account defaults.
      const queue =
        `const q = new aws.Provider("us", { region: "us-east-1", allowedAccountIds: ["999999999999"] });\n` +
        `new aws.sqs.Queue("jobs", { sqsManagedSseEnabled: true }, { provider: q });\n`;
      const file = program("required", queue);
      const app = capture();
      expect(await main(["node", "plan", "--program", file, "--stack-config", emptyConfig()], app.io)).to.equal(0);
      expect(app.text.out).to.match(/n\/a {3}ebs-encryption-by-default/);
      const baseline = capture();
      const args = [
        "--program",
        file,
        "--stack-config",
        emptyConfig(),
        "--stack-tag",
        "flz:stack-kind=account-baseline",
      ];
      expect(await main(["node", "plan", ...args], baseline.io)).to.equal(1);
      expect(baseline.text.out).to.match(
        /FAIL {2}ebs-encryption-by-default[^\n]*\n\s+- \(stack\): EBS encryption by default is not enabled in us-east-1/,
      );
      const bad = capture();
      expect(await main(["node", "plan", "--program", file, "--stack-tag", "flz:stack-kind"], bad.io)).to.equal(2);
      expect(bad.text.err).to.equal(
        'plan: --stack-tag "flz:stack-kind" is not key=value, e.g. flz:stack-kind=account-baseline\n',
      );
    });

    it("exits 1 for a program with an IMDSv1 instance, naming the rule and the resource (also in --json)", async () => {
      const file = program("optional");
      const { io, text } = capture();
      expect(await main(["node", "plan", "--program", file, "--stack-config", emptyConfig()], io)).to.equal(1);
      expect(text.out).to.match(/FAIL {2}ec2-imdsv2-required \(mandatory, high\)\n\s+- web: /);
      expect(text.err).to.equal("plan: mandatory policy violations: ec2-imdsv2-required\n");

      const json = capture();
      expect(
        await main(["node", "plan", "--json", "--program", file, "--stack-config", emptyConfig()], json.io),
      ).to.equal(1);
      const doc = JSON.parse(json.text.out) as PlanResult;
      const rule = doc.policies.find((p) => p.name === "ec2-imdsv2-required");
      expect(rule?.enforcementLevel).to.equal("mandatory");
      expect(rule?.violations).to.have.length(1);
      expect(rule?.violations[0]?.urn).to.match(/aws:ec2\/instance:Instance::web$/);
      expect(rule?.violations[0]?.message).to.be.a("string").and.not.equal("");
      expect(doc.policyPack.passed).to.equal(false);
    });

    it("exits 1 for a program with a public bucket, naming the rule", async () => {
      const publicBucket =
        `const b = new aws.s3.Bucket("site", { bucket: "site" }, { provider: p });\n` +
        `new aws.s3.BucketAcl("site-acl", { bucket: b.id, acl: "public-read" }, { provider: p });\n`;
      const { io, text } = capture();
      expect(
        await main(
          ["node", "plan", "--program", program("required", publicBucket), "--stack-config", emptyConfig()],
          io,
        ),
      ).to.equal(1);
      expect(text.out).to.match(/FAIL {2}s3-no-public-acl[^\n]*\n\s+- site-acl: canned ACL public-read/);
      expect(text.err).to.include("s3-no-public-acl");
    });

    it("applies --policy-config: a rule made advisory warns and no longer fails the plan", async () => {
      const config = tempFile("policy.json", JSON.stringify({ "ec2-imdsv2-required": "advisory" }));
      const { io, text } = capture();
      expect(
        await main(
          [
            "node",
            "plan",
            "--program",
            program("optional"),
            "--stack-config",
            emptyConfig(),
            "--policy-config",
            config,
          ],
          io,
        ),
      ).to.equal(0);
      expect(text.out).to.match(/warn {2}ec2-imdsv2-required \(advisory/);
    });

    it("exits 2 with one line for a policy config that is unreadable, not JSON, or names an unknown rule", async () => {
      for (const [file, pattern] of [
        ["/nonexistent/policy.json", /cannot read policy configuration/],
        [tempFile("p.json", "{"), /is not JSON/],
        [tempFile("p.json", '{"no-such-rule":"advisory"}'), /unknown rule "no-such-rule"/],
      ] as const) {
        const { io, text } = capture();
        expect(await main(["node", "plan", "--policy-config", file], io), file).to.equal(2);
        expect(text.err.trim().split("\n")).to.have.length(1);
        expect(text.err).to.match(pattern);
      }
    });
  });

  it("prints a --json plan larger than a pipe buffer whole when run as a process", function () {
    this.timeout(60_000);
    const main = path.resolve(__dirname, "../../scripts/plan/main.ts");
    const run = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", main, "--json"], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout.length).to.be.greaterThan(65_536);
    expect((JSON.parse(run.stdout) as PlanResult).policyPack.passed).to.equal(true);
  });

  it("still plans after a failed run", async () => {
    const again = await planProgram();
    expect(again.resources.length).to.equal(plan.resources.length);
  });
});
