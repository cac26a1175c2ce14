/**
 * Test vocabulary for proving who can and cannot do what with the documents: callers (roles inside and outside
 * the organisation, AWS services, anonymous users) and one `decide` function that evaluates a request with
 * `@cloud-copilot/iam-simulate` exactly as AWS would see it (identity policies of the caller, the resource's
 * policy, the request context AWS adds). AGPL: test-only.
 */
import {
  anonymousPrincipal,
  runSimulation,
  runUnsafeSimulation,
  type Simulation,
  type SimulationRequestPrincipal,
} from "@cloud-copilot/iam-simulate";
// iam-policy is iam-simulate's own parser (installed with it); used only to name the key policy, see decide().
import { createValidatedPolicy, validateResourcePolicy } from "@cloud-copilot/iam-policy";
import {
  forensicInvestigatorPermissions,
  forensicResponderPermissions,
  type ForensicInvestigatorPermissionsArgs,
  type ForensicResourceProtection,
  type PolicyDocument,
} from "../../../components/documents";

/** The organisation of the landing zone in every test. */
export const ORG = "o-exampleorg1";
/** An organisation that is not ours. */
export const OTHER_ORG = "o-otherorg999";
/** Account IDs, as the seeded emulator uses them. */
export const MANAGEMENT = "111111111111";
export const FORENSIC = "222222222222";
export const MEMBER = "333333333333";
export const OUTSIDER_ACCOUNT = "999999999999";

/** Names and ARNs of the landing zone's roles and resources. */
export const MEMBER_RESPONDER_NAME = "FlzMemberResponder";
export const MEMBER_INVESTIGATOR_NAME = "FlzMemberInvestigator";
export const FORENSIC_RESPONDER_ARN = `arn:aws:iam::${FORENSIC}:role/FlzForensicResponder`;
export const FORENSIC_INVESTIGATOR_ARN = `arn:aws:iam::${FORENSIC}:role/FlzForensicInvestigator`;
export const TRAIL_ARN = `arn:aws:cloudtrail:us-east-1:${MANAGEMENT}:trail/flz-organization-trail`;
export const TRAIL_BUCKET_ARN = "arn:aws:s3:::flz-trail-logs-222222222222";
export const EVIDENCE_BUCKET_ARN = "arn:aws:s3:::flz-evidence-222222222222";
export const ACCESS_LOG_BUCKET_ARN = "arn:aws:s3:::flz-access-logs-222222222222";
export const EVIDENCE_KEY_ARNS = [
  `arn:aws:kms:us-east-1:${FORENSIC}:key/mrk-0123456789abcdef0123456789abcdef`,
  `arn:aws:kms:eu-west-1:${FORENSIC}:key/mrk-0123456789abcdef0123456789abcdef`,
];
export const SIGNING_KEY_ARN = `arn:aws:kms:us-east-1:${FORENSIC}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const TRAIL_KEY_ARN = `arn:aws:kms:us-east-1:${FORENSIC}:key/abcd1234-12ab-34cd-56ef-1234567890ab`;

/** A policy that allows everything: what an account administrator has. */
export const ADMIN: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};

/** Who makes a request, and what AWS knows about them. */
export interface Caller {
  /** Principal ARN (role), service principal, or the anonymous marker. */
  readonly principal: SimulationRequestPrincipal;
  /** Identity policies attached to the principal. */
  readonly policies: readonly PolicyDocument[];
  /** Context keys AWS derives from the caller (organisation, service flag, MFA, token issue time...). */
  readonly context: Readonly<Record<string, string | string[]>>;
}

/** A role `name` of `account`, member of `org` (null: an account that belongs to no organisation). */
export function role(account: string, name: string, org: string | null, ...policies: PolicyDocument[]): Caller {
  return {
    principal: `arn:aws:iam::${account}:role/${name}`,
    policies,
    context: {
      "aws:PrincipalArn": `arn:aws:iam::${account}:role/${name}`,
      "aws:PrincipalAccount": account,
      "aws:PrincipalType": "AssumedRole",
      "aws:PrincipalIsAWSService": "false",
      ...(org === null ? {} : { "aws:PrincipalOrgID": org }),
    },
  };
}

/** An IAM user `name` of `account` in the organisation (break-glass users), with `policies`. */
export function user(account: string, name: string, ...policies: PolicyDocument[]): Caller {
  return {
    principal: `arn:aws:iam::${account}:user/${name}`,
    policies,
    context: {
      "aws:PrincipalArn": `arn:aws:iam::${account}:user/${name}`,
      "aws:PrincipalAccount": account,
      "aws:PrincipalType": "User",
      "aws:PrincipalIsAWSService": "false",
      "aws:PrincipalOrgID": ORG,
    },
  };
}

/** An administrator of an account outside the organisation (`*` on everything in its own policy). */
export function outsider(name = "Administrator"): Caller {
  return role(OUTSIDER_ACCOUNT, name, OTHER_ORG, ADMIN);
}

/** An AWS service principal (CloudTrail, S3 log delivery): no organisation, `aws:PrincipalIsAWSService` true. */
export function service(name: string, context: Record<string, string | string[]> = {}): Caller {
  return { principal: name, policies: [], context: { "aws:PrincipalIsAWSService": "true", ...context } };
}

/** An unsigned request. */
export function anonymous(): Caller {
  return { principal: anonymousPrincipal, policies: [], context: {} };
}

/** A copy of `caller` with more request context (MFA, tags, encryption context...). */
export function withContext(caller: Caller, context: Record<string, string | string[]>): Caller {
  return { ...caller, context: { ...caller.context, ...context } };
}

/** What is being asked of which resource. */
export interface Target {
  /** The resource ARN. */
  readonly resource: string;
  /** Account that owns the resource. */
  readonly account: string;
  /** The resource's own policy (bucket, key or trust policy), if any. */
  readonly policy?: PolicyDocument;
}

/** Options of one request. */
export interface RequestOptions {
  /** Whether the request uses TLS (`aws:SecureTransport`). Default true: only the TLS tests say otherwise. */
  readonly tls?: boolean;
  /** Extra request context (action-specific keys such as `s3:x-amz-acl`). */
  readonly context?: Record<string, string | string[]>;
}

/** The simulator's verdict. */
export type Verdict = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

/**
 * Context keys the simulator drops although AWS evaluates them: it only understands variable keys of the form
 * `prefix/name`, and KMS encryption-context keys are `kms:EncryptionContext:<name>`. Requests carrying them are
 * evaluated without the simulator's context filtering (its "unsafe" entry point), after the same input validation.
 * That entry point loads the resource policy without a name and then reads the name (iam-simulate 0.1.173), so the
 * resource policy goes in already validated and named.
 */
const SIMULATOR_GAP = /^kms:encryptioncontext:/i;

/**
 * Evaluates `caller` doing `action` on `target`. Throws if the simulator rejects its input or silently drops a
 * context key the test gave (a malformed policy or an ignored key would otherwise read as "denied", and a test about
 * denial would pass for the wrong reason).
 */
export async function decide(
  caller: Caller,
  action: string,
  target: Target,
  options: RequestOptions = {},
): Promise<Verdict> {
  const simulation: Simulation = {
    request: {
      principal: caller.principal,
      action,
      resource: { resource: target.resource, accountId: target.account },
      contextVariables: {
        "aws:SecureTransport": String(options.tls ?? true),
        ...caller.context,
        ...(options.context ?? {}),
      },
    },
    identityPolicies: caller.policies.map((policy, i) => ({ name: `identity-${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(target.policy === undefined ? {} : { resourcePolicy: target.policy }),
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === "error") {
    throw new Error(`simulation of ${action} on ${target.resource} rejected: ${JSON.stringify(result.errors)}`);
  }
  const ignored =
    result.resultType === "single"
      ? (result.result.ignoredContextKeys ?? [])
      : result.results.flatMap((r) => r.ignoredContextKeys ?? []);
  const unexpected = ignored.filter(
    (key) => !SIMULATOR_GAP.test(key) && !(key in caller.context) && key !== "aws:SecureTransport",
  );
  if (unexpected.length > 0) {
    throw new Error(
      `the simulator ignored context keys ${unexpected.join(", ")} for ${action}: the test asks about something AWS would not evaluate.`,
    );
  }
  if (ignored.some((key) => SIMULATOR_GAP.test(key))) {
    const named =
      target.policy === undefined
        ? undefined
        : createValidatedPolicy(target.policy, validateResourcePolicy, { name: "resource-policy" });
    return runUnsafeSimulation({ ...simulation, resourcePolicy: named }, {}) as Verdict;
  }
  return result.overallResult as Verdict;
}

/** True when the verdict lets the request through. */
export function allowed(verdict: Verdict): boolean {
  return verdict === "Allowed";
}

/** The forensic responder role with the permissions the stack gives it. */
export const forensicResponder = (): Caller =>
  role(
    FORENSIC,
    "FlzForensicResponder",
    ORG,
    forensicResponderPermissions({
      memberResponderRoleName: MEMBER_RESPONDER_NAME,
      evidenceBucketArn: EVIDENCE_BUCKET_ARN,
      evidenceKeyArns: EVIDENCE_KEY_ARNS,
      signingKeyArn: SIGNING_KEY_ARN,
      organizationId: ORG,
    }),
  );

/** The forensic investigator role; `extra` adds the optional grants a suite is about (evidence keys, organisation). */
export const forensicInvestigator = (extra: Partial<ForensicInvestigatorPermissionsArgs> = {}): Caller =>
  role(
    FORENSIC,
    "FlzForensicInvestigator",
    ORG,
    forensicInvestigatorPermissions({
      memberInvestigatorRoleName: MEMBER_INVESTIGATOR_NAME,
      trailBucketArn: TRAIL_BUCKET_ARN,
      evidenceBucketArn: EVIDENCE_BUCKET_ARN,
      trailKeyArn: TRAIL_KEY_ARN,
      ...extra,
    }),
  );

/** The deployment principal in the forensic account (the role the stack's providers assume there). */
export const DEPLOYMENT_ARN = `arn:aws:iam::${FORENSIC}:role/OrganizationAccountAccessRole`;

/** The preventive controls as the stack configures them for these buckets and roles. */
export const PROTECTION: ForensicResourceProtection = {
  evidenceBucketArn: EVIDENCE_BUCKET_ARN,
  trailBucketArn: TRAIL_BUCKET_ARN,
  accessLogBucketArns: [ACCESS_LOG_BUCKET_ARN],
  deploymentPrincipalArn: DEPLOYMENT_ARN,
  caseWriterArns: [FORENSIC_RESPONDER_ARN],
  keys: { accountId: FORENSIC },
};
