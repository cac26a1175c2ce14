/**
 * The pack over the real landing-zone stack (stacks/index.ts with stacks/Pulumi.example.yaml, loaded the way
 * `npm run plan` loads it), and a mutation suite: each mutant weakens one security property of the recorded
 * resources (a pure function over RecordedResource[]) and must be caught by a new mandatory violation.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { PolicyPackConfig } from "@pulumi/policy";
import { DEFAULT_PROGRAM, DEFAULT_STACK_CONFIG, readStackConfig } from "../../scripts/plan/plan";
import { runProgram, type RecordedResource } from "../../scripts/plan/mock-engine";
import { evaluatePack, type EvaluateOptions, type PackVerdict } from "../../scripts/plan/evaluate";
import { formatVerdicts } from "../../scripts/plan/format";
import { evaluateBoth, res } from "./helpers";

type Mutation = (resources: RecordedResource[]) => RecordedResource[];

/** Changes the inputs of every resource of `type` whose name ends with `suffix`; throws if none matches (a mutant that changes nothing proves nothing). */
function change(
  type: string,
  suffix: string,
  edit: (inputs: Record<string, unknown>) => Record<string, unknown>,
): Mutation {
  return (resources) => {
    let hits = 0;
    const out = resources.map((r) => {
      if (r.type !== type || !r.name.endsWith(suffix)) return r;
      hits += 1;
      return { ...r, inputs: edit(structuredClone(r.inputs)) };
    });
    if (hits === 0) throw new Error(`mutation found no ${type} named *${suffix}`);
    return out;
  };
}

/** Removes resources of a type; throws if none exists. */
function remove(type: string): Mutation {
  return (resources) => {
    const out = resources.filter((r) => r.type !== type);
    if (out.length === resources.length) throw new Error(`mutation found no ${type}`);
    return out;
  };
}

/**
 * Adds a resource deployed through the provider of the first resource of `nextTo`'s type. `refs` names, per input,
 * the resource (by type and name suffix) whose ID the input holds: the new resource then records the property
 * dependency a program's `input: other.id` would, and the input holds that resource's ID.
 */
function addBeside(
  nextTo: string,
  make: (provider: string | undefined) => RecordedResource,
  refs: Record<string, { type: string; suffix: string }> = {},
): Mutation {
  return (resources) => {
    const added = make(resources.find((r) => r.type === nextTo)?.provider);
    const inputs = { ...added.inputs };
    const propertyDependencies: Record<string, string[]> = {};
    for (const [key, ref] of Object.entries(refs)) {
      const target = resources.find((r) => r.type === ref.type && r.name.endsWith(ref.suffix));
      if (!target) throw new Error(`mutation found no ${ref.type} named *${ref.suffix}`);
      inputs[key] = target.id;
      propertyDependencies[key] = [target.urn];
    }
    return [...resources, { ...added, inputs, propertyDependencies }];
  };
}

/** Edits the statements of a JSON policy document input. */
function statements(
  key: string,
  edit: (s: Array<Record<string, unknown>>) => Array<Record<string, unknown>>,
): (inputs: Record<string, unknown>) => Record<string, unknown> {
  return (inputs) => {
    const document = JSON.parse(String(inputs[key])) as { Statement: Array<Record<string, unknown>> };
    return { ...inputs, [key]: JSON.stringify({ ...document, Statement: edit(document.Statement) }) };
  };
}

const BUCKET = "aws:s3/bucket:Bucket";
const LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration";
const TRAIL = "aws:cloudtrail/trail:Trail";
const KEY = "aws:kms/key:Key";
const ROLE = "aws:iam/role:Role";
const retention = (mode: string, days: number) => (i: Record<string, unknown>) => ({
  ...i,
  rule: { defaultRetention: { mode, days } },
});

/** Weakening mutations of the landing zone. */
export const MUTATIONS: Record<string, Mutation> = {
  "evidence bucket lock in GOVERNANCE mode": change(LOCK, "evidence-bucket-lock", retention("GOVERNANCE", 365)),
  "trail bucket retention of 1 day": change(LOCK, "trail-bucket-lock", retention("COMPLIANCE", 1)),
  "evidence bucket created without Object Lock": change(BUCKET, "evidence-bucket", (i) => ({
    ...i,
    objectLockEnabled: false,
  })),
  "trail without log file validation": change(TRAIL, "trail", (i) => ({ ...i, enableLogFileValidation: false })),
  "single-region trail": change(TRAIL, "trail", (i) => ({ ...i, isMultiRegionTrail: false })),
  "trail without KMS": change(TRAIL, "trail", ({ kmsKeyId: _k, ...i }) => i),
  "trail disabled": change(TRAIL, "trail", (i) => ({ ...i, enableLogging: false })),
  "trail without global service events": change(TRAIL, "trail", (i) => ({ ...i, includeGlobalServiceEvents: false })),
  "management events excluded": change(TRAIL, "trail", (i) => ({
    ...i,
    advancedEventSelectors: [
      {
        fieldSelectors: [
          { field: "eventCategory", equals: ["Data"] },
          { field: "resources.type", equals: ["AWS::S3::Object"] },
        ],
      },
    ],
  })),
  "evidence key rotation off": change(KEY, "keys-evidence", (i) => ({ ...i, enableKeyRotation: false })),
  "evidence key 7-day deletion window": change(KEY, "keys-evidence", (i) => ({ ...i, deletionWindowInDays: 7 })),
  "evidence replica key 7-day deletion window": change("aws:kms/replicaKey:ReplicaKey", "eu-west-1", (i) => ({
    ...i,
    deletionWindowInDays: 7,
  })),
  "kms:* to * in the evidence key policy": change(
    KEY,
    "keys-evidence",
    statements("policy", (s) => [
      ...s,
      { Sid: "Everyone", Effect: "Allow", Principal: "*", Action: "kms:*", Resource: "*" },
    ]),
  ),
  "signing key symmetric": change(KEY, "custody-signing", (i) => ({
    ...i,
    customerMasterKeySpec: "SYMMETRIC_DEFAULT",
    keyUsage: "ENCRYPT_DECRYPT",
  })),
  "responder trust to *": change(ROLE, "forensic-responder", (i) => ({
    ...i,
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }],
    }),
  })),
  "break-glass without MFA": change(
    ROLE,
    "break-glass",
    statements("assumeRolePolicy", (s) => s.map(({ Condition: _c, ...rest }) => rest)),
  ),
  "responder sessions of 12 hours": change(ROLE, "forensic-responder", (i) => ({ ...i, maxSessionDuration: 43200 })),
  "AdministratorAccess on the responder": change(ROLE, "forensic-responder", (i) => ({
    ...i,
    managedPolicyArns: ["arn:aws:iam::aws:policy/AdministratorAccess"],
  })),
  "evidence bucket public-access block off": change(
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "evidence-bucket-public-access",
    (i) => ({ ...i, blockPublicPolicy: false, restrictPublicBuckets: false }),
  ),
  "public evidence bucket policy": change(
    "aws:s3/bucketPolicy:BucketPolicy",
    "evidence-bucket-policy",
    statements("policy", (s) => [
      ...s,
      { Sid: "Public", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*" },
    ]),
  ),
  "trail bucket policy without the TLS deny": change(
    "aws:s3/bucketPolicy:BucketPolicy",
    "trail-bucket-policy",
    statements("policy", (s) => s.filter((x) => !JSON.stringify(x).includes("aws:SecureTransport"))),
  ),
  "public-read ACL on the evidence bucket": addBeside(
    BUCKET,
    (p) => ({ ...res("aws:s3/bucketAcl:BucketAcl", "evidence-acl", { acl: "public-read" }), provider: p }),
    { bucket: { type: BUCKET, suffix: "-evidence-bucket" } },
  ),
  "evidence versioning suspended": change(
    "aws:s3/bucketVersioning:BucketVersioning",
    "evidence-bucket-versioning",
    (i) => ({ ...i, versioningConfiguration: { status: "Suspended" } }),
  ),
  "evidence bucket SSE-S3 instead of KMS": change(
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "evidence-bucket-encryption",
    (i) => ({ ...i, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }),
  ),
  "IMDSv1 instance added": addBeside(KEY, (p) => ({
    ...res("aws:ec2/instance:Instance", "legacy", {
      ami: "ami-1",
      metadataOptions: { httpTokens: "optional" },
      rootBlockDevice: { encrypted: true },
    }),
    provider: p,
  })),
  // In a governed region EBS encryption by default encrypts it anyway (no weakening): add it where the stack has none.
  "unencrypted EBS volume added in a region without encryption by default": addBeside(KEY, (p) => ({
    ...res("aws:ebs/volume:Volume", "scratch", { region: "ap-south-1", availabilityZone: "ap-south-1a", size: 10 }),
    provider: p,
  })),
  "member-roles StackSet missing": remove("aws:cloudformation/stackSet:StackSet"),
  "protection SCP detached": remove("aws:organizations/policyAttachment:PolicyAttachment"),
  "trail protection SCP without the StopLogging deny": change(
    "aws:organizations/policy:Policy",
    "protect-forensics",
    statements("content", (s) =>
      s.map((x) =>
        Array.isArray(x.Action) && x.Action.includes("cloudtrail:StopLogging")
          ? { ...x, Action: x.Action.filter((a) => a !== "cloudtrail:StopLogging") }
          : x,
      ),
    ),
  ),
  "protection SCP without the member-role deny": change(
    "aws:organizations/policy:Policy",
    "protect-forensics",
    statements("content", (s) => s.filter((x) => !JSON.stringify(x.Action ?? "").includes("iam:DeleteRole"))),
  ),
  "protection SCP made a tag policy": change("aws:organizations/policy:Policy", "protect-forensics", (i) => ({
    ...i,
    type: "TAG_POLICY",
  })),
  "EBS encryption by default off in eu-west-1": change(
    "aws:ebs/encryptionByDefault:EncryptionByDefault",
    "ebs-encryption-eu-west-1",
    (i) => ({ ...i, enabled: false }),
  ),
  "EBS encryption by default missing": remove("aws:ebs/encryptionByDefault:EncryptionByDefault"),
  "Athena workgroup overridable by clients": change(
    "aws:athena/workgroup:Workgroup",
    "investigation-workgroup",
    (i) => ({
      ...i,
      configuration: { ...(i.configuration as Record<string, unknown>), enforceWorkgroupConfiguration: false },
    }),
  ),
  "Athena results under SSE-S3": change("aws:athena/workgroup:Workgroup", "investigation-workgroup", (i) => {
    const configuration = i.configuration as Record<string, Record<string, unknown>>;
    return {
      ...i,
      configuration: {
        ...configuration,
        resultConfiguration: {
          ...configuration.resultConfiguration,
          encryptionConfiguration: { encryptionOption: "SSE_S3" },
        },
      },
    };
  }),
  "alarm topic unencrypted": change(
    "aws:sns/topic:Topic",
    "alarms-us-east-1-topic",
    ({ kmsMasterKeyId: _k, ...i }) => i,
  ),
  "forensic VPC flow log of rejected traffic only": change("aws:ec2/flowLog:FlowLog", "-flow-log", (i) => ({
    ...i,
    trafficType: "REJECT",
  })),
  "flow-log group expiring after 7 days": change("aws:cloudwatch/logGroup:LogGroup", "-flow-logs", (i) => ({
    ...i,
    retentionInDays: 7,
  })),
  "GuardDuty detector disabled": change("aws:guardduty/detector:Detector", "-guardduty-us-east-1", (i) => ({
    ...i,
    enable: false,
  })),
  "break-glass role untagged (AdministratorAccess no longer exempt)": change(ROLE, "break-glass", (i) => ({
    ...i,
    tags: {},
  })),
  "evidence key policy gives another account kms:*": change(KEY, "keys-evidence", (i) => ({
    ...i,
    policy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        ...((JSON.parse(String(i.policy)) as { Statement: unknown[] }).Statement ?? []),
        {
          Sid: "Outsider",
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::999999999999:root" },
          Action: "kms:*",
          Resource: "*",
        },
      ],
    }),
  })),
  "internet gateway in the forensic VPC": addBeside(
    "aws:ec2/vpc:Vpc",
    (p) => ({ ...res("aws:ec2/internetGateway:InternetGateway", "analysis-igw", {}), provider: p }),
    { vpcId: { type: "aws:ec2/vpc:Vpc", suffix: "-vpc" } },
  ),
};

/** Mandatory violations as comparable keys. */
function mandatoryKeys(verdict: PackVerdict): Set<string> {
  return new Set(
    verdict.policies
      .filter((p) => p.enforcementLevel === "mandatory")
      .flatMap((p) => p.violations.map((v) => `${p.name}|${v.urn ?? ""}|${v.message}`)),
  );
}

/** Mutants each mode may report only as "can't run during preview" (deferred to `pulumi up`), with the reason. */
type Deferrable = Record<string, string>;

/**
 * With a CREATED forensic account, its ID is unknown until Organizations has made the account, so every document
 * that names the forensic account (bucket names hold it, role ARNs and the key pattern are in it) is unknown on a
 * first preview: inherent, not a choice. Those mutants are deferred to `pulumi up`, where the rules that catch them
 * run on the real documents; none may pass silently. The adopt path (an existing organisation's usual case) has none.
 */
const DEFERRED_WHEN_ACCOUNT_IS_CREATED: Deferrable = {
  "kms:* to * in the evidence key policy": "the key policy names the forensic roles of an account not yet created",
  "evidence key policy gives another account kms:*":
    "the key policy names the forensic roles of an account not yet created",
  "public evidence bucket policy": "the bucket name holds the ID of an account not yet created",
  "trail bucket policy without the TLS deny": "the bucket name holds the ID of an account not yet created",
  "trail protection SCP without the StopLogging deny": "the SCP names the keys of an account not yet created",
  "protection SCP without the member-role deny": "the SCP names the keys of an account not yet created",
  "break-glass without MFA": "the trust policy names the root of an account not yet created",
};

/** The stack configuration of the example, with the forensic account created instead of adopted. */
function createdAccountConfig(): Record<string, string> {
  const config = { ...readStackConfig(DEFAULT_STACK_CONFIG) };
  delete config["forensic-landing-zone:forensicAccountId"];
  config["forensic-landing-zone:forensicAccountEmail"] = "aws-forensics@example.com";
  return config;
}

/** The ways the engine sees a program: everything known (`pulumi up`, later previews), or a first preview. */
const MODES: Array<{ label: string; options: EvaluateOptions; deferrable: Deferrable }> = [
  { label: "every value known (pulumi up, later previews)", options: {}, deferrable: {} },
  { label: "first preview (every resource to be created)", options: { preview: "create" }, deferrable: {} },
];

/** Runs the example program under the mock engine, as `npm run plan` loads it. */
async function exampleStack(config: Record<string, string>): Promise<RecordedResource[]> {
  const run = await runProgram(() => {
    // As `npm run plan` does: evaluate the program module afresh so it registers its resources in this run.
    delete require.cache[require.resolve(DEFAULT_PROGRAM)];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { ...(require(DEFAULT_PROGRAM) as Record<string, unknown>) };
  }, config);
  return run.resources;
}

/**
 * Runs every mutant in one mode and checks it is killed by a new mandatory violation; a survivor must be one the mode
 * may defer, and every rule that kills it once values are known must say "can't run during preview" for it (a
 * visible warning), never pass it silently. Prints the kill rate.
 */
async function checkMutants(
  resources: RecordedResource[],
  baseline: PackVerdict,
  label: string,
  options: EvaluateOptions,
  deferrable: Deferrable,
): Promise<void> {
  const before = mandatoryKeys(baseline);
  const survivors: string[] = [];
  const killedBy: Record<string, string[]> = {};
  for (const [name, mutate] of Object.entries(MUTATIONS)) {
    const verdict = await evaluatePack(mutate(resources), options);
    const fresh = [...mandatoryKeys(verdict)].filter((k) => !before.has(k));
    if (fresh.length === 0) survivors.push(name);
    else killedBy[name] = [...new Set(fresh.map((k) => k.split("|")[0] ?? ""))];
  }
  const deferred: string[] = [];
  const silent: string[] = [];
  for (const name of survivors) {
    const mutant = (MUTATIONS[name] as Mutation)(resources);
    const known = await evaluatePack(mutant);
    const killers = known.policies.filter((p) => p.enforcementLevel === "mandatory" && p.violations.length > 0);
    const preview = await evaluatePack(mutant, options);
    const warned = killers.every((k) => preview.policies.find((p) => p.name === k.name)?.status === "cannot-run");
    (warned && killers.length > 0 ? deferred : silent).push(name);
  }
  const total = Object.keys(MUTATIONS).length;
  const killed = total - survivors.length;
  console.log(`      mutation kill rate, ${label}: ${killed}/${total} (${Math.round((100 * killed) / total)}%)`);
  for (const [name, rules] of Object.entries(killedBy)) console.log(`        killed  ${name}  <- ${rules.join(", ")}`);
  for (const name of deferred)
    console.log(`        deferred to pulumi up ("can't run during preview")  ${name}: ${deferrable[name] ?? "?"}`);
  for (const name of silent) console.log(`        SURVIVED  ${name}`);
  expect(total).to.be.at.least(20);
  expect(silent, "mutants that pass silently").to.deep.equal([]);
  expect(deferred.sort(), "mutants deferred to pulumi up").to.deep.equal(
    deferred.filter((name) => name in deferrable).sort(),
  );
  if (Object.keys(deferrable).length === 0) expect(killed, "kill rate").to.equal(total);
}

describe("policy pack over the landing-zone stack", function () {
  this.timeout(120_000);
  let resources: RecordedResource[] = [];

  before(async () => {
    resources = await exampleStack(readStackConfig(DEFAULT_STACK_CONFIG));
  });

  for (const mode of MODES) {
    describe(mode.label, () => {
      let baseline: PackVerdict;
      before(async () => {
        baseline = await evaluateBoth(resources, mode.options);
      });

      it("the example stack passes every mandatory rule", () => {
        expect(baseline.mandatoryViolations, formatVerdicts(baseline)).to.equal(0);
      });

      it('every rule runs: no "can\'t run during preview" (the documents are built from names, not cloud-assigned IDs)', () => {
        const cannotRun = baseline.policies.flatMap((p) =>
          (p.previewUnknowns ?? []).map((u) => `${p.name} on ${u.name ?? "(stack)"}: ${u.message}`),
        );
        expect(cannotRun).to.deep.equal([]);
      });

      it(`catches every weakening mutation with a mandatory rule (${Object.keys(MUTATIONS).length} mutants)`, async () => {
        await checkMutants(resources, baseline, mode.label, mode.options, mode.deferrable);
      });
    });
  }

  describe("first preview with the forensic account created, not adopted (its ID unknown until it exists)", () => {
    const options: EvaluateOptions = { preview: "create" };
    let created: RecordedResource[] = [];
    let baseline: PackVerdict;
    before(async () => {
      created = await exampleStack(createdAccountConfig());
      baseline = await evaluateBoth(created, options);
    });

    it("passes every mandatory rule", () => {
      expect(baseline.mandatoryViolations, formatVerdicts(baseline)).to.equal(0);
    });

    it("catches every mutant, or defers to pulumi up only those naming the account being created", async () => {
      await checkMutants(
        created,
        baseline,
        "first preview, forensic account created",
        options,
        DEFERRED_WHEN_ACCOUNT_IS_CREATED,
      );
    });

    it("fails closed with config.preview-ci.json: every rule that would defer reports a mandatory violation instead", async () => {
      const ci = JSON.parse(
        readFileSync(path.join(__dirname, "..", "..", "policies", "config.preview-ci.json"), "utf8"),
      ) as PolicyPackConfig;
      const strict = await evaluatePack(created, { ...options, config: ci });
      const deferring = baseline.policies.filter((p) => p.status === "cannot-run").map((p) => p.name);
      expect(deferring.length, "rules that defer at this preview").to.be.greaterThan(0);
      expect(strict.previewUnknowns, formatVerdicts(strict)).to.equal(0);
      for (const name of deferring) {
        const verdict = strict.policies.find((p) => p.name === name);
        expect(verdict?.status, name).to.equal("fail");
        expect(
          verdict?.violations.every((v) => /^cannot verify during preview/.test(v.message)),
          name,
        ).to.equal(true);
      }
      console.log(
        `      preview-only CI config on the created-account first preview: ${deferring.length} deferring rules fail closed (${deferring.join(", ")})`,
      );
    });
  });
});
