/**
 * The pack as the Pulumi CLI loads it: `run-policy-pack` in `policies/` with type-checked TypeScript, spoken to over
 * the Analyzer gRPC protocol with the SDK's generated stubs. Every rule test also compares its verdict with this
 * live pack (support/agreement.ts); this file checks the protocol calls themselves and type-checked loading.
 */
import { expect } from "chai";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { allRules, PACK_NAME } from "../../policies/pack";
import { isStackRule } from "../../policies/lib/types";
import { s3NoPublicPolicy } from "../../policies/storage";
import { evaluatePack } from "../../scripts/plan/evaluate";
import { doc, res } from "./helpers";
import { livePack } from "./support/agreement";
import { call, handshake, pb, POLICIES_DIR, startLivePack, type Message } from "./support/live-pack";
import { comparable, verdictsOverProtocol } from "./support/protocol";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Empty } = require("google-protobuf/google/protobuf/empty_pb") as { Empty: new () => unknown };
const POLICY_VERSION = (
  JSON.parse(readFileSync(path.join(POLICIES_DIR, "package.json"), "utf8")) as { version: string }
).version;

const publicPolicy = () => [
  res("aws:s3/bucketPolicy:BucketPolicy", "site-policy", {
    bucket: "site",
    policy: doc({ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::site/*" }),
  }),
];

describe("the pack as the Pulumi CLI loads it (Analyzer protocol)", function () {
  this.timeout(600_000);

  it("tolerates an unimplemented Handshake and accepts ConfigureStack with the stack's tags", async () => {
    const pack = await livePack();
    expect(["ok", "unimplemented"]).to.include(await handshake(pack));
    const request = new pb.AnalyzerStackConfigureRequest!() as Message;
    request.setStack!("dev" as never);
    request.setProject!("web" as never);
    request.setOrganization!("org" as never);
    request.setDryRun!(true as never);
    (request.getTagsMap!() as { set(k: string, v: string): void }).set("team", "ir");
    await call(pack.client, "configureStack", request);
  });

  it("describes every rule with its level, description and config schema (GetAnalyzerInfo)", async () => {
    const pack = await livePack();
    const info = await call(pack.client, "getAnalyzerInfo", new Empty());
    expect(info.getName!()).to.equal(PACK_NAME);
    expect(info.getVersion!()).to.equal(POLICY_VERSION);
    expect(info.getSupportsconfig!()).to.equal(true);
    const policies = (info.getPoliciesList!() as Message[]).map((p) => ({
      name: String(p.getName!()),
      level: Number(p.getEnforcementlevel!()),
      description: String(p.getDescription!()),
      schema: p.getConfigschema!() as Message | undefined,
    }));
    expect(policies.map((p) => p.name)).to.deep.equal(allRules.map((r) => r.name));
    for (const rule of allRules) {
      const p = policies.find((x) => x.name === rule.name);
      expect(p?.description, rule.name).to.equal(rule.description);
      expect(p?.level, rule.name).to.equal(
        { advisory: 0, mandatory: 1, disabled: 2, remediate: 3 }[rule.enforcementLevel],
      );
      const properties = (
        p?.schema?.getProperties?.() as { toJavaScript(): Record<string, unknown> } | undefined
      )?.toJavaScript();
      expect(Object.keys(properties ?? {}).sort(), rule.name).to.deep.equal(
        Object.keys(rule.configSchema.properties).sort(),
      );
    }
  });

  it("judges a value sent as a secret exactly as the same value sent plainly", async () => {
    const pack = await livePack();
    const plain = await verdictsOverProtocol(pack, publicPolicy(), { rules: [s3NoPublicPolicy], secrets: [] });
    const secret = await verdictsOverProtocol(pack, publicPolicy(), { rules: [s3NoPublicPolicy], secrets: ["policy"] });
    expect(plain[0]?.status).to.equal("fail");
    expect(secret.map(comparable)).to.deep.equal(plain.map(comparable));
  });

  it("reports a rule that reads an unknown sentinel as the engine does: advisory can't-run", async () => {
    const pack = await livePack();
    const bucket = res("aws:s3/bucket:Bucket", "site", { bucket: "site" });
    const policy = res("aws:s3/bucketPolicy:BucketPolicy", "site-policy", {
      bucket: "site",
      policy: doc({ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: "arn:aws:s3:::site-bucket/*" }),
    });
    // Recorded as built from the bucket's ARN: unknown at a first preview.
    const built = { ...policy, propertyDependencies: { policy: [bucket.urn], bucket: [bucket.urn] } };
    const withArn = { ...bucket, outputs: { bucket: "site", arn: "arn:aws:s3:::site-bucket" } };
    const options = { rules: [s3NoPublicPolicy], preview: "create" as const };
    const live = await verdictsOverProtocol(pack, [withArn, built], options);
    expect(live[0]?.status).to.equal("cannot-run");
    expect(live[0]?.previewUnknowns?.[0]?.message).to.match(/^can't run policy 's3-no-public-policy' from policy pack/);
    const inProcess = await evaluatePack([withArn, built], options);
    expect(live.map(comparable)).to.deep.equal(inProcess.policies.map(comparable));
  });

  it("runs every stack rule through AnalyzeStack and every resource rule through Analyze", async () => {
    const pack = await livePack();
    const verdicts = await verdictsOverProtocol(pack, publicPolicy());
    expect(verdicts.map((v) => v.name)).to.deep.equal(allRules.map((r) => r.name));
    expect(allRules.some(isStackRule) && allRules.some((r) => !isStackRule(r))).to.equal(true);
    expect(verdicts.find((v) => v.name === s3NoPublicPolicy.name)?.status).to.equal("fail");
  });

  describe("type-checked loading", () => {
    let copy: string;
    beforeEach(() => {
      // A copy of the pack beside a link to the repository's node_modules: dependencies resolve from the pack's
      // folder, as the CLI requires (it installs nothing).
      const root = mkdtempSync(path.join(tmpdir(), "flz-pack-"));
      copy = path.join(root, "policies");
      cpSync(POLICIES_DIR, copy, { recursive: true });
      symlinkSync(path.resolve(POLICIES_DIR, "..", "node_modules"), path.join(root, "node_modules"), "dir");
    });
    afterEach(() => rmSync(path.dirname(copy), { recursive: true, force: true }));

    it("loads an unmodified copy of the pack (the control for the next test)", async () => {
      const pack = await startLivePack(copy);
      try {
        const info = await call(pack.client, "getAnalyzerInfo", new Empty());
        expect(info.getName!()).to.equal(PACK_NAME);
      } finally {
        await pack.close();
      }
    });

    it("refuses to load a pack with a type error, naming the file and the error, as the CLI would", async () => {
      const file = path.join(copy, "lib", "values.ts");
      writeFileSync(file, `${readFileSync(file, "utf8")}\nexport const broken: number = "not a number";\n`);
      const error = await startLivePack(copy).then(
        async (pack) => {
          await pack.close();
          return undefined;
        },
        (e: Error) => e,
      );
      expect(error, "the pack loaded despite a type error").to.be.instanceOf(Error);
      expect(error?.message).to.match(/TS2322/);
      expect(error?.message).to.match(/values\.ts/);
    });
  });
});
