/**
 * Delegated management of the quarantine SCPs (`quarantine.ts`): the organisation's resource-based delegation policy,
 * and the matching statements of the forensic responder's own permissions (Organizations checks both). Following the
 * resource-based policy examples of the AWS Organizations user guide (security_iam_resource-based-policy-examples:
 * "View organization, OUs, accounts, and policies", "Create, read, update, and delete policies", "Attach policies to a
 * single OU or account", "Tag and untag policies"), narrowed with the `aws:RequestTag`, `aws:ResourceTag`,
 * `aws:TagKeys` and `organizations:PolicyType` condition keys that the Service Authorization Reference lists for these
 * actions.
 */
import { PURPOSE_TAG_KEY } from "./keys";
import { QUARANTINE_PURPOSE, QUARANTINE_TAG_KEYS } from "./quarantine";
import type { PolicyDocument, PolicyStatement } from "./types";
import { DocumentInputError, requireAccountId, requireArn, requireOrganizationId } from "./validate";

/** Arguments of {@link quarantineDelegationPolicy}. */
export interface QuarantineDelegationPolicyArgs {
  /** The organisation (`o-...`). */
  readonly organizationId: string;
  /** The management account, whose ARNs name the organisation's policies and accounts. */
  readonly managementAccountId: string;
  /** The forensic responder role: the only principal the delegation names. */
  readonly responderRoleArn: string;
}

/** The ARN pattern of the organisation's service control policies. */
function scpArns(partition: string, account: string, organizationId: string): string {
  return `arn:${partition}:organizations::${account}:policy/${organizationId}/service_control_policy/*`;
}

/** Conditions that make a tagging request a quarantine tag (and nothing else). */
function quarantineTagRequest(): PolicyStatement["Condition"] {
  return {
    StringEquals: {
      [`aws:RequestTag/${PURPOSE_TAG_KEY}`]: QUARANTINE_PURPOSE,
      "organizations:PolicyType": "SERVICE_CONTROL_POLICY",
    },
    "ForAllValues:StringEquals": { "aws:TagKeys": [...QUARANTINE_TAG_KEYS] },
  };
}

/**
 * The statements both documents share, for `principal` (resource policy) or none (identity policy): read what
 * quarantine needs; create an SCP only with the quarantine tags; tag only at creation (never a policy that already
 * carries another purpose); update, attach, detach and delete only policies tagged as quarantine; attach and detach
 * only to accounts.
 */
function quarantineStatements(
  partition: string,
  managementAccount: string,
  organizationId: string,
  principal: PolicyStatement["Principal"] | undefined,
): PolicyStatement[] {
  const scps = scpArns(partition, managementAccount, organizationId);
  const who = principal === undefined ? {} : { Principal: principal };
  return [
    {
      Sid: "FlzQuarantineNavigate",
      Effect: "Allow",
      ...who,
      Action: ["organizations:DescribeOrganization", "organizations:ListTagsForResource"],
      Resource: "*",
    },
    {
      Sid: "FlzQuarantineReadScps",
      Effect: "Allow",
      ...who,
      Action: ["organizations:DescribePolicy", "organizations:ListPolicies", "organizations:ListPoliciesForTarget"],
      Resource: "*",
      Condition: { StringLikeIfExists: { "organizations:PolicyType": "SERVICE_CONTROL_POLICY" } },
    },
    {
      Sid: "FlzQuarantineCreate",
      Effect: "Allow",
      ...who,
      Action: "organizations:CreatePolicy",
      Resource: scps,
      Condition: quarantineTagRequest(),
    },
    {
      // CreatePolicy with tags also needs TagResource. A policy that already carries a purpose tag keeps it: only a
      // policy whose purpose is already quarantine (or that has none yet, being created) may be tagged.
      Sid: "FlzQuarantineTagOnCreate",
      Effect: "Allow",
      ...who,
      Action: "organizations:TagResource",
      Resource: scps,
      Condition: {
        ...quarantineTagRequest(),
        StringEqualsIfExists: { [`aws:ResourceTag/${PURPOSE_TAG_KEY}`]: QUARANTINE_PURPOSE },
      },
    },
    {
      Sid: "FlzQuarantineManage",
      Effect: "Allow",
      ...who,
      Action: [
        "organizations:UpdatePolicy",
        "organizations:DeletePolicy",
        "organizations:AttachPolicy",
        "organizations:DetachPolicy",
      ],
      Resource: scps,
      Condition: { StringEquals: { [`aws:ResourceTag/${PURPOSE_TAG_KEY}`]: QUARANTINE_PURPOSE } },
    },
    {
      Sid: "FlzQuarantineTargets",
      Effect: "Allow",
      ...who,
      Action: ["organizations:AttachPolicy", "organizations:DetachPolicy"],
      Resource: `arn:${partition}:organizations::${managementAccount}:account/${organizationId}/*`,
      Condition: { StringEquals: { "organizations:PolicyType": "SERVICE_CONTROL_POLICY" } },
    },
  ];
}

/**
 * The organisation's resource-based delegation policy (`aws.organizations.ResourcePolicy`, management account): the
 * forensic responder role may manage quarantine SCPs and nothing else. The Principal is the role's ARN, not the
 * forensic account's root, so no other principal of the forensic account gains anything even with
 * `organizations:*` in its own policy. Organizations allows one resource policy per organisation: merge other
 * delegations into this document rather than deploying a second one.
 */
export function quarantineDelegationPolicy(args: QuarantineDelegationPolicyArgs): PolicyDocument {
  const organizationId = requireOrganizationId("organizationId", args.organizationId);
  const management = requireAccountId("managementAccountId", args.managementAccountId);
  const responder = requireArn("responderRoleArn", args.responderRoleArn, "iam");
  if (!/:role\//.test(responder)) {
    throw new DocumentInputError(`responderRoleArn: ${JSON.stringify(responder)} is not an IAM role ARN.`);
  }
  const partition = responder.split(":")[1];
  return {
    Version: "2012-10-17",
    Statement: quarantineStatements(partition, management, organizationId, { AWS: responder }),
  };
}

/** Arguments of {@link quarantineResponderStatements}. */
export interface QuarantineResponderArgs {
  /** The organisation; when absent, policies of any organisation match (the delegation policy still pins it). */
  readonly organizationId?: string;
  /** Partition of the ARNs. Default `aws`. */
  readonly partition?: string;
}

/**
 * The forensic responder's identity-policy statements for quarantine: the same grants as the delegation policy
 * (Organizations needs both, the caller's own permission and the delegation), plus explicit denies that hold whatever
 * else is attached to the role: never untag a policy; never tag, change, attach, detach or delete a policy whose
 * purpose tag is anything but quarantine (the guardrails carry `flz:purpose = guardrail`); never attach or detach an
 * SCP on the forensic account itself (`${aws:PrincipalAccount}`), so a stolen session cannot lock the responders out.
 */
export function quarantineResponderStatements(args: QuarantineResponderArgs = {}): PolicyStatement[] {
  const partition = args.partition ?? "aws";
  const organizationId =
    args.organizationId === undefined ? "o-*" : requireOrganizationId("organizationId", args.organizationId);
  const policies = `arn:${partition}:organizations::*:policy/*/service_control_policy/*`;
  return [
    ...quarantineStatements(partition, "*", organizationId, undefined),
    {
      Sid: "FlzQuarantineNeverUntag",
      Effect: "Deny",
      Action: "organizations:UntagResource",
      Resource: "*",
    },
    {
      Sid: "FlzQuarantineOnlyQuarantinePolicies",
      Effect: "Deny",
      Action: [
        "organizations:TagResource",
        "organizations:UpdatePolicy",
        "organizations:DeletePolicy",
        "organizations:AttachPolicy",
        "organizations:DetachPolicy",
      ],
      Resource: policies,
      Condition: {
        Null: { [`aws:ResourceTag/${PURPOSE_TAG_KEY}`]: "false" },
        StringNotEquals: { [`aws:ResourceTag/${PURPOSE_TAG_KEY}`]: QUARANTINE_PURPOSE },
      },
    },
    {
      Sid: "FlzQuarantineNeverOwnAccount",
      Effect: "Deny",
      Action: ["organizations:AttachPolicy", "organizations:DetachPolicy"],
      Resource: `arn:${partition}:organizations::*:account/*/\${aws:PrincipalAccount}`,
    },
  ];
}
