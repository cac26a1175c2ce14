/**
 * The documents the landing-zone stack deploys, harvested from the real stack program (`stacks/index.ts` with
 * `stacks/Pulumi.example.yaml`) under the recording mock engine, and one IAM evaluation that layers them as AWS does:
 * identity policies of the caller, the SCPs above its account (none for the management account), the RCPs above the
 * resource's account (none for a resource of the management account), and the resource's own policy.
 * AGPL evaluator: test-only.
 */
import * as path from "node:path";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { PolicyDocument } from "../../components/documents";
import { readStackConfig } from "../../scripts/plan/plan";
import { runProgram, type RecordedResource } from "../../scripts/plan/mock-engine";

const STACK = path.resolve(__dirname, "../../stacks/index.ts");
const EXAMPLE = path.resolve(__dirname, "../../stacks/Pulumi.example.yaml");

/** Accounts and names of the example stack. */
export const ORG = "o-exampleorg1";
export const ROOT = "r-exam";
export const MANAGEMENT = "111111111111";
export const FORENSIC = "222222222222";
export const MEMBER = "333333333333";
export const EVIDENCE_BUCKET = `flz-evidence-${FORENSIC}-us-east-1`;
export const TRAIL_BUCKET = `flz-trail-${FORENSIC}-us-east-1`;
export const EVIDENCE = `arn:aws:s3:::${EVIDENCE_BUCKET}`;
export const TRAIL = `arn:aws:s3:::${TRAIL_BUCKET}`;
export const DEPLOYMENT = `arn:aws:iam::${FORENSIC}:role/OrganizationAccountAccessRole`;
export const RESPONDER = `arn:aws:iam::${FORENSIC}:role/FlzForensicResponder`;
/** Key ARNs as KMS would assign them in the forensic account (the policies name keys by account and purpose tag). */
export const KEYS = {
  evidence: `arn:aws:kms:us-east-1:${FORENSIC}:key/mrk-0123456789abcdef0123456789abcdef`,
  trail: `arn:aws:kms:us-east-1:${FORENSIC}:key/abcd1234-12ab-34cd-56ef-1234567890ab`,
  signing: `arn:aws:kms:us-east-1:${FORENSIC}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
} as const;
/** The purpose tag of each key, as ForensicKeys sets it. */
export const KEY_TAGS = { evidence: "evidence-key", trail: "trail-key", signing: "custody-signing" } as const;

/** An administrator's identity policy. */
export const ADMIN: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};

/** Everything the tests need from one run of the stack. */
export interface DeployedDocuments {
  readonly evidenceBucketPolicy: PolicyDocument;
  readonly trailBucketPolicy: PolicyDocument;
  readonly keyPolicies: Record<keyof typeof KEYS, PolicyDocument>;
  readonly protectionScp: PolicyDocument;
  /** The alarm-protection SCP, attached to the forensic account itself. */
  readonly alarmsScp: PolicyDocument;
  readonly workloadScps: PolicyDocument[];
  readonly rcp: PolicyDocument;
  readonly responderPolicy: PolicyDocument;
  readonly responderTrust: PolicyDocument;
  /** Event patterns of the alarm rules, by rule name. */
  readonly eventRules: Record<string, string>;
  /** IDs the mock engine gave the guardrail policies (the alarm patterns name them). */
  readonly policyIds: Record<string, string>;
  /** Every recorded resource, for anything else. */
  readonly resources: RecordedResource[];
}

let cached: Promise<DeployedDocuments> | undefined;

function byName(resources: RecordedResource[], type: string, name: string): RecordedResource {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`the stack declared no ${type} named ${name}`);
  return found;
}

function doc(resource: RecordedResource, key: string): PolicyDocument {
  return JSON.parse(String(resource.inputs[key])) as PolicyDocument;
}

/** Runs the stack once (per process) and harvests its documents. */
export function deployedDocuments(): Promise<DeployedDocuments> {
  cached ??= runProgram(() => {
    delete require.cache[require.resolve(STACK)];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { ...(require(STACK) as Record<string, unknown>) };
  }, readStackConfig(EXAMPLE)).then(({ resources }) => {
    const policy = (name: string) => byName(resources, "aws:organizations/policy:Policy", name);
    const key = (name: string) => doc(byName(resources, "aws:kms/key:Key", name), "policy");
    const rules = resources.filter((r) => r.type === "aws:cloudwatch/eventRule:EventRule");
    return {
      evidenceBucketPolicy: doc(
        byName(resources, "aws:s3/bucketPolicy:BucketPolicy", "flz-evidence-bucket-policy"),
        "policy",
      ),
      trailBucketPolicy: doc(
        byName(resources, "aws:s3/bucketPolicy:BucketPolicy", "flz-trail-bucket-policy"),
        "policy",
      ),
      keyPolicies: {
        evidence: key("flz-keys-evidence"),
        trail: key("flz-keys-trail"),
        signing: key("flz-keys-custody-signing"),
      },
      protectionScp: doc(policy("flz-guardrails-protect-forensics"), "content"),
      alarmsScp: doc(policy("flz-guardrails-protect-alarms"), "content"),
      workloadScps: [],
      rcp: doc(policy("flz-guardrails-protect-evidence"), "content"),
      responderPolicy: doc(
        byName(resources, "aws:iam/rolePolicy:RolePolicy", "flz-roles-forensic-responder"),
        "policy",
      ),
      responderTrust: doc(byName(resources, "aws:iam/role:Role", "flz-roles-forensic-responder"), "assumeRolePolicy"),
      eventRules: Object.fromEntries(rules.map((r) => [r.name, String(r.inputs.eventPattern)])),
      policyIds: Object.fromEntries(
        resources.filter((r) => r.type === "aws:organizations/policy:Policy").map((r) => [String(r.inputs.name), r.id]),
      ),
      resources,
    };
  });
  return cached;
}

/** Who makes a request. */
export interface Principal {
  /** Principal ARN (role, user or account root). */
  readonly arn: string;
  /** Its account. */
  readonly account: string;
  /** Its identity policies. */
  readonly policies: readonly PolicyDocument[];
}

/** A role of an account with `*:*`. */
export function administrator(account: string, name = "Administrator"): Principal {
  return { arn: `arn:aws:iam::${account}:role/${name}`, account, policies: [ADMIN] };
}

/** An account's root user (all permissions by nature; only SCPs and RCPs and resource policies restrict it). */
export function rootUser(account: string): Principal {
  return { arn: `arn:aws:iam::${account}:root`, account, policies: [ADMIN] };
}

/** One request. */
export interface Attempt {
  readonly principal: Principal;
  readonly action: string;
  readonly resource: string;
  /** Account that owns the resource. */
  readonly resourceAccount: string;
  /** The resource's own policy (bucket, key, trust), if any. */
  readonly resourcePolicy?: PolicyDocument;
  /** Request-specific context (`s3:if-none-match`, `aws:ResourceTag/...`, `kms:GrantIsForAWSResource`...). */
  readonly context?: Record<string, string | string[]>;
  /**
   * The organisation policies in force; default: the deployed SCP and RCP at the root, and the alarm-protection SCP on
   * the forensic account. `accountScps` are attached to the principal's own account.
   */
  readonly organizationPolicies?: {
    readonly scps: readonly PolicyDocument[];
    readonly rcps: readonly PolicyDocument[];
    readonly accountScps?: readonly PolicyDocument[];
  };
}

/** The verdict and, for a denial, which layers denied (so a test can say what stopped the attack). */
export interface Decision {
  readonly result: "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";
  readonly deniedBy: string[];
}

const FULL_ACCESS: PolicyDocument = ADMIN;

/**
 * Evaluates an attempt as AWS layers the policies. SCPs bind the principals of member accounts only (never the
 * management account); RCPs bind the resources of member accounts only; both are attached at the root, beside the
 * default FullAWSAccess / RCPFullAWSAccess.
 */
export async function decide(attempt: Attempt): Promise<Decision> {
  const deployed = await deployedDocuments();
  const policies = attempt.organizationPolicies ?? {
    scps: [deployed.protectionScp],
    rcps: [deployed.rcp],
    accountScps: attempt.principal.account === FORENSIC ? [deployed.alarmsScp] : [],
  };
  const principalInMember = attempt.principal.account !== MANAGEMENT;
  const resourceInMember = attempt.resourceAccount !== MANAGEMENT;
  const result = await runSimulation(
    {
      request: {
        principal: attempt.principal.arn,
        action: attempt.action,
        resource: { resource: attempt.resource, accountId: attempt.resourceAccount },
        contextVariables: {
          "aws:PrincipalArn": attempt.principal.arn,
          "aws:PrincipalAccount": attempt.principal.account,
          "aws:PrincipalOrgID": ORG,
          "aws:PrincipalIsAWSService": "false",
          "aws:SecureTransport": "true",
          ...attempt.context,
        },
      },
      identityPolicies: attempt.principal.policies.map((policy, i) => ({ name: `identity-${i}`, policy })),
      serviceControlPolicies: principalInMember
        ? [
            {
              orgIdentifier: ROOT,
              policies: [
                { name: "FullAWSAccess", policy: FULL_ACCESS },
                ...policies.scps.map((policy, i) => ({ name: `scp-${i}`, policy })),
              ],
            },
            {
              orgIdentifier: attempt.principal.account,
              policies: [
                { name: "FullAWSAccess", policy: FULL_ACCESS },
                ...(policies.accountScps ?? []).map((policy, i) => ({ name: `account-scp-${i}`, policy })),
              ],
            },
          ]
        : [],
      resourceControlPolicies: resourceInMember
        ? [
            { orgIdentifier: ROOT, policies: policies.rcps.map((policy, i) => ({ name: `rcp-${i}`, policy })) },
            { orgIdentifier: attempt.resourceAccount, policies: [] },
          ]
        : [],
      ...(attempt.resourcePolicy === undefined ? {} : { resourcePolicy: attempt.resourcePolicy }),
    },
    {},
  );
  if (result.resultType !== "single") {
    throw new Error(
      `simulation of ${attempt.action} on ${attempt.resource} did not run: ${JSON.stringify(result).slice(0, 400)}`,
    );
  }
  const ignored = (result.result.ignoredContextKeys ?? []).filter((k) => k in (attempt.context ?? {}));
  if (ignored.length > 0) {
    throw new Error(`the evaluator ignored ${ignored.join(", ")} for ${attempt.action}: the test would prove nothing`);
  }
  const analysis = result.result.analysis as { blockedBy?: string[] };
  return { result: result.overallResult as Decision["result"], deniedBy: analysis.blockedBy ?? [] };
}
