/**
 * The IAM evaluator (`@cloud-copilot/iam-simulate`, AGPL: test-only) over the documents containment relies on
 * together: the caller's identity policies, the SCPs above its account (guardrails, quarantine policies, FullAWSAccess
 * at each level), and the resource's policy (the Organizations delegation policy for Organizations calls). Throws on a
 * rejected simulation or a context key the evaluator ignored, so a "denied" can never come from a malformed input.
 */
import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import type { PolicyDocument } from "../../../components/documents";

/** The evaluator's verdict. */
export type Verdict = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

/** AWS's default SCP, attached at every level of an organisation. */
export const FULL_AWS_ACCESS: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};

/** A principal and what AWS knows about it. */
export interface Principal {
  /** Role or user ARN. */
  readonly arn: string;
  /** Identity policies. */
  readonly policies: readonly PolicyDocument[];
  /** Request context from the principal (`aws:PrincipalArn`, `aws:TokenIssueTime`, ...). */
  readonly context: Readonly<Record<string, string | string[]>>;
}

/** A role session of `account`/`name`, issued at `issued` (omit for no token issue time). */
export function roleSession(
  account: string,
  name: string,
  issued: string | undefined,
  ...policies: PolicyDocument[]
): Principal {
  const arn = `arn:aws:iam::${account}:role/${name}`;
  return {
    arn,
    policies,
    context: {
      "aws:PrincipalArn": arn,
      "aws:PrincipalAccount": account,
      "aws:PrincipalType": "AssumedRole",
      ...(issued === undefined ? {} : { "aws:TokenIssueTime": issued }),
    },
  };
}

/** An IAM user calling with its long-term key (`issued` undefined) or a GetSessionToken session issued at `issued`. */
export function userCaller(
  account: string,
  name: string,
  issued: string | undefined,
  ...policies: PolicyDocument[]
): Principal {
  const arn = `arn:aws:iam::${account}:user/${name}`;
  return {
    arn,
    policies,
    context: {
      "aws:PrincipalArn": arn,
      "aws:PrincipalAccount": account,
      "aws:PrincipalType": "User",
      ...(issued === undefined ? {} : { "aws:TokenIssueTime": issued }),
    },
  };
}

/** A GetFederationToken session named `name` in `account`, issued at `issued`. */
export function federatedSession(
  account: string,
  name: string,
  issued: string,
  ...policies: PolicyDocument[]
): Principal {
  const arn = `arn:aws:sts::${account}:federated-user/${name}`;
  return {
    arn,
    policies,
    context: {
      "aws:PrincipalArn": arn,
      "aws:PrincipalAccount": account,
      "aws:PrincipalType": "FederatedUser",
      "aws:TokenIssueTime": issued,
    },
  };
}

/** One evaluated request. */
export interface Request {
  /** Who asks. */
  readonly caller: Principal;
  /** IAM action, e.g. `iam:PutRolePolicy`. */
  readonly action: string;
  /** Resource ARN. */
  readonly resource: string;
  /** Account owning the resource. */
  readonly resourceAccount: string;
  /** The resource's policy (Organizations delegation policy, bucket policy, ...). */
  readonly resourcePolicy?: PolicyDocument;
  /** SCPs from the root down to the caller's account, one list per level. Default: FullAWSAccess at two levels. */
  readonly scps?: readonly (readonly PolicyDocument[])[];
  /** Action-specific request context (`aws:RequestTag/...`, `aws:ResourceTag/...`, `organizations:PolicyType`). */
  readonly context?: Readonly<Record<string, string | string[]>>;
}

/** Evaluates a request as AWS would; throws when the evaluator rejects its input or ignores a given context key. */
export async function evaluate(request: Request): Promise<Verdict> {
  const levels = request.scps ?? [[FULL_AWS_ACCESS], [FULL_AWS_ACCESS]];
  const simulation: Simulation = {
    request: {
      principal: request.caller.arn,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resourceAccount },
      contextVariables: { "aws:SecureTransport": "true", ...request.caller.context, ...(request.context ?? {}) },
    },
    identityPolicies: request.caller.policies.map((policy, i) => ({ name: `identity-${i}`, policy })),
    serviceControlPolicies: levels.map((policies, level) => ({
      orgIdentifier: level === 0 ? "r-root" : `level-${level}`,
      policies: policies.map((policy, i) => ({ name: `scp-${level}-${i}`, policy })),
    })),
    resourceControlPolicies: [],
    ...(request.resourcePolicy === undefined ? {} : { resourcePolicy: request.resourcePolicy }),
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === "error") {
    throw new Error(
      `simulation of ${request.action} on ${request.resource} rejected: ${JSON.stringify(result.errors)}`,
    );
  }
  const ignored =
    result.resultType === "single"
      ? (result.result.ignoredContextKeys ?? [])
      : result.results.flatMap((r) => r.ignoredContextKeys ?? []);
  const given = new Set([...Object.keys(request.context ?? {})].map((k) => k.toLowerCase()));
  const dropped = ignored.filter((key) => given.has(key.toLowerCase()));
  if (dropped.length > 0) {
    throw new Error(`the evaluator ignored ${dropped.join(", ")} for ${request.action}: AWS would not evaluate them`);
  }
  return result.overallResult as Verdict;
}
