/**
 * The pack configuration files shipped in policies/: the example (every rule at its default level and settings) and
 * the preview-only CI configuration (every rule fails closed on values unknown at preview), and what
 * PulumiPolicy.yaml may legitimately name.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { PolicyPackConfig } from "@pulumi/policy";
import { parse as parseYaml } from "yaml";
import { allRules } from "../../policies/pack";
import { s3NoPublicPolicy } from "../../policies/storage";
import { validatePackConfig } from "../../scripts/plan/pack-config";
import type { RecordedResource } from "../../scripts/plan/mock-engine";
import { doc, evaluateBoth, res } from "./helpers";
import { POLICIES_DIR } from "./support/live-pack";

const read = (name: string) => readFileSync(path.join(POLICIES_DIR, name), "utf8");
const config = (name: string) => JSON.parse(read(name)) as PolicyPackConfig;

/** A bucket policy allowing "*" built from the new bucket's ARN: unknown at a first preview. */
function publicPolicyFromArn(): RecordedResource[] {
  const bucket = {
    ...res("aws:s3/bucket:Bucket", "site", { bucket: "site" }),
    outputs: { bucket: "site", arn: "arn:aws:s3:::site-x" },
  };
  const policy = {
    ...res("aws:s3/bucketPolicy:BucketPolicy", "site-policy", {
      bucket: "site",
      policy: doc({ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::site-x/*" }),
    }),
    propertyDependencies: { bucket: [bucket.urn], policy: [bucket.urn] },
  };
  return [bucket, policy];
}

describe("pack configuration files", () => {
  it("config.example.json sets every rule to its default level and every setting to its default", () => {
    const example = config("config.example.json");
    validatePackConfig(example, allRules);
    expect(Object.keys(example)).to.deep.equal(allRules.map((r) => r.name));
    for (const rule of allRules) {
      const entry = example[rule.name] as Record<string, unknown>;
      expect(entry.enforcementLevel, rule.name).to.equal(rule.enforcementLevel);
      for (const [key, schema] of Object.entries(rule.configSchema.properties))
        expect(entry[key], `${rule.name}.${key}`).to.deep.equal(schema.default);
    }
  });

  it("config.preview-ci.json makes every rule fail closed on values unknown at preview", () => {
    const ci = config("config.preview-ci.json");
    validatePackConfig(ci, allRules);
    expect(Object.keys(ci)).to.deep.equal(allRules.map((r) => r.name));
    for (const rule of allRules) expect(ci[rule.name], rule.name).to.deep.equal({ previewUnknowns: "fail" });
  });

  it("defers a public policy built from a new bucket's ARN by default, and fails it with the preview-CI config", async () => {
    const rule = allRules.find((r) => r.name === s3NoPublicPolicy.name);
    if (!rule) throw new Error("rule missing");
    const deferred = await evaluateBoth(publicPolicyFromArn(), { rules: [rule], preview: "create" });
    expect(deferred.policies[0]?.status).to.equal("cannot-run");
    expect(deferred.mandatoryViolations).to.equal(0);
    const failed = await evaluateBoth(publicPolicyFromArn(), {
      rules: [rule],
      preview: "create",
      config: config("config.preview-ci.json"),
    });
    expect(failed.policies[0]?.status).to.equal("fail");
    expect(failed.mandatoryViolations).to.equal(1);
    expect(failed.policies[0]?.violations[0]?.message).to.match(
      /^cannot verify during preview: .*previewUnknowns: "fail"/,
    );
    // At pulumi up the document is known: the public statement itself is reported, in either configuration.
    const up = await evaluateBoth(publicPolicyFromArn(), { rules: [rule], config: config("config.preview-ci.json") });
    expect(up.policies[0]?.violations[0]?.message).to.match(/allows s3:GetObject to "\*"/);
  });

  it("rejects a previewUnknowns value other than defer or fail, naming the valid ones", () =>
    expect(() =>
      validatePackConfig({ "s3-no-public-policy": { previewUnknowns: "ignore" } } as never, allRules),
    ).to.throw(/previewUnknowns is "ignore"; valid: "defer", "fail"/));

  it("PulumiPolicy.yaml uses only the attributes the CLI reads, and every file it mentions exists", () => {
    const text = read("PulumiPolicy.yaml");
    const project = parseYaml(text) as Record<string, unknown>;
    // Pulumi's policy pack project file reference: runtime (required), version, main, description, author, website,
    // license. There is no attribute for a pack configuration: it is given with --policy-pack-config.
    const allowed = ["runtime", "version", "main", "description", "author", "website", "license"];
    expect(Object.keys(project).filter((k) => !allowed.includes(k))).to.deep.equal([]);
    for (const [, file] of text.matchAll(/policies\/([\w.-]+\.json)/g))
      expect(() => read(file ?? ""), file).not.to.throw();
  });
});
