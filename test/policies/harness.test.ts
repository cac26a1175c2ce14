import { expect } from "chai";
import type { ResourceRule, StackRule } from "../../policies/lib/types";
import { allRules } from "../../policies/pack";
import { evaluatePack } from "../../scripts/plan/evaluate";
import { formatVerdicts } from "../../scripts/plan/format";
import { provider, res } from "./helpers";

const aws = provider("eu-west-1", "222222222222");
const seen: Array<{ type: string; region?: unknown; config: object; tags: string | undefined }> = [];

/** A probe rule: records what the harness passes, flags buckets named "bad". */
const probe: ResourceRule = {
  name: "probe-rule",
  description: "Checks whether the harness passes engine-shaped args.",
  enforcementLevel: "mandatory",
  severity: "low",
  remediationSteps: "none",
  configSchema: { properties: { limit: { type: "integer", default: 3 } } },
  validateResource: (args, report) => {
    if (args.type !== "aws:s3/bucket:Bucket") args.notApplicable("only buckets");
    seen.push({
      type: args.type,
      region: args.provider?.props.region,
      config: args.getConfig(),
      tags: args.stackTags.get("team"),
    });
    if (args.props.bucket === "bad") report("bad bucket");
  },
};
const stackProbe: StackRule = {
  name: "stack-probe",
  description: "Checks whether stack rules see every resource with outputs and parents.",
  enforcementLevel: "advisory",
  severity: "low",
  remediationSteps: "none",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const child = args.resources.find((r) => r.name === "child");
    report(
      `${args.resources.length} resources; child id ${String(child?.props.id)}; parent ${child?.parent?.name ?? "none"}`,
      child?.urn,
    );
  },
};

describe("policy harness", () => {
  beforeEach(() => (seen.length = 0));
  const parent = res("flz:storage:EvidenceBucket", "parent", {});
  const program = [
    aws,
    parent,
    res("aws:s3/bucket:Bucket", "child", { bucket: "bad" }, { provider: aws, parent }),
    res("aws:kms/key:Key", "k", {}, { provider: aws }),
  ];

  it("runs resource rules only on applicable resources, with provider, stack tags and only the config sent", async () => {
    const verdict = await evaluatePack(program, { rules: [probe], stackTags: { team: "ir" } });
    expect(seen).to.deep.equal([{ type: "aws:s3/bucket:Bucket", region: "eu-west-1", config: {}, tags: "ir" }]);
    expect(verdict.policies[0]?.violations).to.deep.equal([
      { urn: program[2]?.urn, name: "child", message: "bad bucket" },
    ]);
    expect(verdict.passed).to.equal(false);
  });

  it("passes configured values (without enforcementLevel) to getConfig", async () => {
    await evaluatePack(program, {
      rules: [probe],
      config: { "probe-rule": { enforcementLevel: "advisory", limit: 5 } },
    });
    expect(seen[0]?.config).to.deep.equal({ limit: 5 });
  });

  it("applies configured enforcement levels: advisory does not fail the pack, disabled does not run", async () => {
    const advisory = await evaluatePack(program, { rules: [probe], config: { "probe-rule": "advisory" } });
    expect(advisory.passed).to.equal(true);
    expect(advisory.advisoryViolations).to.equal(1);
    const disabled = await evaluatePack(program, {
      rules: [probe],
      config: { "probe-rule": { enforcementLevel: "disabled" } },
    });
    expect(disabled.policies[0]?.status).to.equal("disabled");
    expect(seen).to.have.length(1);
    const remediate = await evaluatePack(program, { rules: [probe], config: { "probe-rule": "remediate" } });
    expect(remediate.policies[0]?.enforcementLevel).to.equal("mandatory");
  });

  it("gives stack rules every resource, with the physical id and linked parents", async () => {
    const verdict = await evaluatePack(program, { rules: [stackProbe] });
    expect(verdict.policies[0]?.violations[0]?.message).to.equal("4 resources; child id bad; parent parent");
    expect(verdict.policies[0]?.violations[0]?.name).to.equal("child");
  });

  it("shows stack rules a resource's inputs over stale recorded outputs, and computed outputs the inputs lack", async () => {
    // A weakened program (mutant) changes inputs; the state a preview plans is those inputs plus computed values.
    const bucket = res("aws:s3/bucket:Bucket", "child", { bucket: "good" }, { provider: aws, parent });
    const stale = { ...bucket, outputs: { bucket: "bad", arn: "arn:aws:s3:::good" } };
    const seenProps: Array<Record<string, unknown>> = [];
    const reader: StackRule = {
      ...stackProbe,
      validateStack: (args) => {
        seenProps.push(...args.resources.filter((r) => r.name === "child").map((r) => r.props));
      },
    };
    await evaluatePack([aws, parent, stale], { rules: [reader] });
    expect(seenProps[0]).to.include({ bucket: "good", arn: "arn:aws:s3:::good", id: "good" });
  });

  it("rejects config for unknown rules, unknown keys and wrong types, naming what is valid", async () => {
    for (const [config, pattern] of [
      [{ "no-such-rule": "advisory" }, /unknown rule "no-such-rule"; valid rules: trail-multi-region/],
      [
        { "forensic-bucket-object-lock": { minRetention: 1 } },
        /minRetention is not a setting.*valid: .*minRetentionDays/,
      ],
      [{ "forensic-bucket-object-lock": { minRetentionDays: "long" } }, /expected integer/],
      [{ "trail-multi-region": "strict" }, /valid: advisory, mandatory, remediate, disabled/],
    ] as const) {
      const error = await evaluatePack(program, { config: config as never }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).to.match(pattern);
    }
  });

  it("names each rule once, in kebab case, with the metadata the docs table needs", () => {
    const names = allRules.map((r) => r.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const rule of allRules) {
      expect(rule.name).to.match(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(rule.description).to.match(/^Checks whether[ ,]/);
      expect(rule.enforcementLevel).to.equal("mandatory");
      expect(rule.remediationSteps).to.have.length.greaterThan(10);
      for (const [key, schema] of Object.entries(rule.configSchema.properties))
        expect(schema.default, `${rule.name}.${key}`).to.not.equal(undefined);
    }
  });

  it("formats verdicts for people: one line per rule, violations under it, a summary", async () => {
    const text = formatVerdicts(await evaluatePack(program, { rules: [probe, stackProbe] }));
    expect(text).to.contain("FAIL  probe-rule (mandatory, low)");
    expect(text).to.contain("- child: bad bucket");
    expect(text).to.contain("warn  stack-probe (advisory, low)");
    expect(text).to.match(/FAILED with 1 mandatory violation\(s\) and 1 advisory/);
  });
});
