/**
 * The IAM evaluator's view of the guardrail SCPs for the tests of test/components/part-two: a request by an account
 * administrator (`*:*`) evaluated under the root's FullAWSAccess and guardrails and its account's FullAWSAccess, as
 * AWS Organizations layers them, and the guardrail bundles as GuardrailPolicies builds them by default.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import {
  combineScps,
  denyLeaveOrganizationScp,
  denyUnencryptedVolumesScp,
  protectForensicKeysScp,
  protectForensicRolesScp,
  protectTrailScp,
  requireImdsv2Scp,
  type ProtectForensicKeysScpArgs,
} from "../../../components/documents/scp";
import type { PolicyDocument } from "../../../components/documents/types";

export const MEMBER = "333333333333";
export const MANAGEMENT = "111111111111";
export const FORENSIC = "222222222222";
/**
 * The deployment acts inside member and forensic accounts through a role of the same name in each (the role its
 * providers assume), so the exemption is that role in any account.
 */
export const DEPLOY = "arn:aws:iam::*:role/FlzDeployment";
export const DEPLOY_IN_MEMBER = `arn:aws:iam::${MEMBER}:role/FlzDeployment`;
export const MEMBER_ADMIN = `arn:aws:iam::${MEMBER}:role/Administrator`;
export const TRAIL = `arn:aws:cloudtrail:us-east-1:${MANAGEMENT}:trail/flz-organization-trail`;
export const EVIDENCE_KEY = `arn:aws:kms:us-east-1:${FORENSIC}:key/mrk-0123456789abcdef0123456789abcdef`;
export const SIGNING_KEY = `arn:aws:kms:us-east-1:${FORENSIC}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const TRAIL_KEY = `arn:aws:kms:us-east-1:${FORENSIC}:key/abcd1234-12ab-34cd-56ef-1234567890ab`;
export const ALLOW_ALL: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};

/**
 * The guardrails as GuardrailPolicies bundles them: by default with the forensic keys named by ARN.
 *
 * @param keys how the key protection names the keys (ARNs, or the forensic account's purpose-tagged keys).
 */
export function protection(
  keys: Pick<ProtectForensicKeysScpArgs, "keyArns" | "keysByTag"> = { keyArns: [EVIDENCE_KEY, SIGNING_KEY] },
): PolicyDocument {
  return combineScps("flz-protect-forensics", [
    protectTrailScp({ trailArn: TRAIL, deploymentRoleArn: DEPLOY }),
    protectForensicRolesScp({
      roleNames: ["FlzMemberResponder", "FlzMemberInvestigator"],
      stackSetExecutionRoleName: "stacksets-exec-*",
      deploymentRoleArn: DEPLOY,
    }),
    denyLeaveOrganizationScp(),
    protectForensicKeysScp({ ...keys, deploymentRoleArn: DEPLOY }),
  ]);
}
export function workload(): PolicyDocument {
  return combineScps("flz-workload-baseline", [requireImdsv2Scp(), denyUnencryptedVolumesScp()]);
}

export interface Request {
  /** ARN of the calling role; its account is the caller's account. */
  principal: string;
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
  /** The resource's own policy (a KMS key policy), when the service requires one. */
  resourcePolicy?: PolicyDocument;
  /**
   * Account that owns the resource as far as the evaluator is concerned. The organisation trail belongs to the
   * management account, but its delegated CloudTrail administrator manages it as its own: we model that caller.
   */
  resourceAccount?: string;
  /** The guardrails attached to the root, next to FullAWSAccess; default the two bundles of GuardrailPolicies. */
  guardrails?: PolicyDocument[];
}

/**
 * Evaluates a request by an identity that holds `*:*` (an account administrator), in the account of its ARN, under the
 * root (FullAWSAccess + the guardrails) and its account (FullAWSAccess), as AWS Organizations layers them.
 */
export async function evaluate(req: Request): Promise<string> {
  const account = req.principal.split(":")[4];
  const guardrails = req.guardrails ?? [protection(), workload()];
  const result = await runSimulation(
    {
      request: {
        principal: req.principal,
        action: req.action,
        resource: { resource: req.resource, accountId: req.resourceAccount ?? (req.resource.split(":")[4] || account) },
        contextVariables: { "aws:PrincipalARN": req.principal, "aws:PrincipalAccount": account, ...req.context },
      },
      identityPolicies: [{ name: "AdministratorAccess", policy: ALLOW_ALL }],
      serviceControlPolicies: [
        {
          orgIdentifier: "r-exam",
          policies: [
            { name: "FullAWSAccess", policy: ALLOW_ALL },
            ...guardrails.map((policy, i) => ({ name: `guardrail-${i}`, policy })),
          ],
        },
        { orgIdentifier: account, policies: [{ name: "FullAWSAccess", policy: ALLOW_ALL }] },
      ],
      resourceControlPolicies: [],
      resourcePolicy: req.resourcePolicy,
    },
    {},
  );
  if (result.resultType !== "single")
    throw new Error(`simulation did not run: ${JSON.stringify(result).slice(0, 300)}`);
  return result.overallResult;
}

/**
 * The default key policy statement that lets IAM policies of the key's account grant use of the key.
 *
 * @param account the key's account.
 */
export function keyPolicyOf(account: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
    ],
  };
}
