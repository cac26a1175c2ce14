/**
 * Builders for policy tests: recorded resources as the mock engine records them (type, name, URN, parent, explicit
 * provider, inputs), and one-rule evaluation through the same harness `npm run plan` uses.
 */
import { expect } from "chai";
import type { PolicyPackConfig } from "@pulumi/policy";
import { allRules } from "../../policies/pack";
import type { Rule } from "../../policies/lib/types";
import type { RecordedResource } from "../../scripts/plan/mock-engine";
import { evaluatePack, type EvaluateOptions, type PackVerdict, type PolicyVerdict } from "../../scripts/plan/evaluate";
import { countCase, expectProtocolAgrees } from "./support/agreement";

const URN_PREFIX = "urn:pulumi:test::policy-test::";

/** A recorded resource; `provider` and `parent` link the way the engine records them. */
export function res(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  links: { provider?: RecordedResource; parent?: RecordedResource; id?: string } = {},
): RecordedResource {
  return {
    type,
    name,
    urn: `${URN_PREFIX}${links.parent ? `${links.parent.type}$` : ""}${type}::${name}`,
    parent: links.parent?.urn,
    provider: links.provider ? `${links.provider.urn}::${links.provider.id}` : undefined,
    custom: !type.startsWith("flz:"),
    inputs,
    id:
      links.id ??
      (typeof inputs.bucket === "string" && type.startsWith("aws:s3/bucket:") ? inputs.bucket : `${name}-id`),
  };
}

/** An explicit AWS provider for an account and region (complex inputs as JSON text, as under mocks). */
export function provider(region = "us-east-1", account = "222222222222"): RecordedResource {
  return res("pulumi:providers:aws", `aws-${account}-${region}`, {
    region,
    allowedAccountIds: JSON.stringify([account]),
  });
}

/** The verdict of one rule over some resources. */
export async function verdictOf(
  rule: Rule,
  resources: RecordedResource[],
  config?: PolicyPackConfig,
  stackTags?: Record<string, string>,
): Promise<PolicyVerdict> {
  const verdict = await evaluateBoth(resources, { rules: [rule], config, stackTags });
  const only = verdict.policies[0];
  if (!only) throw new Error("no verdict");
  return only;
}

/**
 * `evaluatePack` in process, and the same evaluation through the live pack over the Analyzer protocol: the verdicts
 * must be equal (see support/agreement.ts). Returns the in-process verdict.
 */
export async function evaluateBoth(resources: RecordedResource[], options: EvaluateOptions = {}): Promise<PackVerdict> {
  const verdict = await evaluatePack(resources, options);
  // Probe rules written for a test are not in the pack the CLI loads: only the pack's own rules can be compared.
  if ((options.rules ?? allRules).every((r) => allRules.some((p) => p.name === r.name)))
    await expectProtocolAgrees(resources, options, verdict.policies);
  return verdict;
}

/** Asserts the rule applied and found nothing. */
export async function expectPass(
  rule: Rule,
  resources: RecordedResource[],
  config?: PolicyPackConfig,
  stackTags?: Record<string, string>,
): Promise<void> {
  const v = await verdictOf(rule, resources, config, stackTags);
  expect(
    v.violations.map((x) => x.message),
    `${rule.name} should pass`,
  ).to.deep.equal([]);
  expect(v.status).to.equal("pass");
  countCase(rule.name, "pass");
}

/** Asserts the rule reported a violation whose message matches `pattern`; returns the violations. */
export async function expectViolation(
  rule: Rule,
  resources: RecordedResource[],
  pattern: RegExp,
  config?: PolicyPackConfig,
  stackTags?: Record<string, string>,
): Promise<PolicyVerdict> {
  const v = await verdictOf(rule, resources, config, stackTags);
  expect(v.status, `${rule.name} should fail`).to.equal("fail");
  expect(
    v.violations.some((x) => pattern.test(x.message)),
    `messages: ${v.violations.map((x) => x.message).join(" | ")}`,
  ).to.equal(true);
  countCase(rule.name, "fail");
  return v;
}

/** Asserts the rule did not apply to any of the resources. */
export async function expectNotApplicable(
  rule: Rule,
  resources: RecordedResource[],
  stackTags?: Record<string, string>,
): Promise<void> {
  const v = await verdictOf(rule, resources, undefined, stackTags);
  expect(v.status).to.equal("not-applicable");
  expect(v.violations).to.deep.equal([]);
}

/** JSON text of a policy document, as `pulumi.jsonStringify` would pass it. */
export function doc(...statements: Array<Record<string, unknown>>): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}
