/**
 * The guardrail SCPs of the response automation (`ResponseAutomation`, issue 15): who may change the functions that
 * act as the responder (`flz-protect-automation`, on the forensic account), and who may set or remove the opt-out tag
 * that makes the automation leave a resource alone (`flz-automation-opt-out`, on the workload targets).
 */
import { OPT_OUT_TAG_KEY } from "./automation";
import { document, exceptPrincipals, requireRoleArn } from "./scp-statements";
import type { PolicyDocument } from "./types";

/** Arguments of {@link protectAutomationScp}. */
export interface ProtectAutomationScpArgs {
  /** The forensic account, where the response automation runs. */
  readonly forensicAccountId: string;
  /** Name prefix of the automation's functions and roles (`ResponseAutomation`'s `namePrefix`, default `flz-automation`). */
  readonly namePrefix: string;
  /** ARN of the role the deployment acts as: the only principal that may still change the functions or pass their roles. */
  readonly deploymentRoleArn: string;
}

/**
 * The response automation's functions run as roles the forensic responder trusts, so whoever changes a function's
 * code or configuration, passes one of those roles to a function of their own, or invokes a function with an event of
 * their choosing acts as the responder. Denies all three to every principal of the forensic account but the deployment
 * role (and, for invoking, the automation's own state machine role). EventBridge's invocation of the
 * dispatcher is a service principal's, which SCPs do not bind. A separate SCP, not part of `flz-protect-forensics`,
 * so that one keeps its room under the 5,120-character limit and this one exists only when automation is on.
 */
export function protectAutomationScp(args: ProtectAutomationScpArgs): PolicyDocument {
  if (!/^\d{12}$/.test(args.forensicAccountId))
    throw new Error(`forensicAccountId "${args.forensicAccountId}" is not a 12-digit account ID`);
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(args.namePrefix))
    throw new Error(`namePrefix "${args.namePrefix}" is not a function name prefix (letters, digits, _ and -)`);
  const deployment = requireRoleArn(args.deploymentRoleArn, "deploymentRoleArn");
  const account = args.forensicAccountId;
  const functions = [
    `arn:aws:lambda:*:${account}:function:${args.namePrefix}-*`,
    `arn:aws:lambda:*:${account}:function:${args.namePrefix}-*:*`,
  ];
  const role = (name: string) => `arn:aws:iam::${account}:role/${args.namePrefix}-${name}`;
  return document([
    {
      Sid: "FlzProtectAutomationFunctions",
      Effect: "Deny",
      Action: [
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "lambda:DeleteFunction",
        "lambda:AddPermission",
        "lambda:CreateFunctionUrlConfig",
        "lambda:UpdateFunctionUrlConfig",
        "lambda:PutFunctionCodeSigningConfig",
        "lambda:DeleteFunctionCodeSigningConfig",
      ],
      Resource: functions,
      Condition: exceptPrincipals([deployment]),
    },
    {
      Sid: "FlzProtectAutomationRolePassing",
      Effect: "Deny",
      Action: "iam:PassRole",
      Resource: role("*"),
      Condition: exceptPrincipals([deployment]),
    },
    {
      Sid: "FlzInvokeAutomationOnlyFromItsMachine",
      Effect: "Deny",
      Action: "lambda:InvokeFunction",
      Resource: functions,
      Condition: exceptPrincipals([deployment, role("state-machine")]),
    },
  ]);
}

/**
 * Every call that sets or removes a tag on what the automation reads the opt-out tag from: EC2 instances
 * (`ec2:CreateTags` also authorizes tags given at launch, `ec2:CreateAction`) and IAM roles and users (`iam:TagRole`
 * also authorizes tags given to `CreateRole`).
 */
export const OPT_OUT_TAGGING_ACTIONS: readonly string[] = [
  "ec2:CreateTags",
  "ec2:DeleteTags",
  "iam:TagRole",
  "iam:UntagRole",
  "iam:TagUser",
  "iam:UntagUser",
];

/** Arguments of {@link freezeOptOutTagScp}. */
export interface FreezeOptOutTagScpArgs {
  /** ARN of the role the deployment acts as (an any-account pattern covers its role in every member account). */
  readonly deploymentRoleArn: string;
  /**
   * Roles that may set or remove the opt-out tag (patterns allowed, for example
   * `arn:aws:iam::*:role/PlatformOwner`): whoever decides which production resources automation must never touch.
   * Default none: only the deployment role.
   */
  readonly managerRoleArns?: readonly string[];
}

/**
 * The automation leaves alone an instance or a principal tagged `flz:automation=off`. Whoever can set that tag can
 * switch the automation off for a resource, and an administrator of a member account, an intruder holding that
 * account included, can tag anything in it; whoever can remove it exposes a production resource the owner opted out
 * (an intruder who removes it and then raises a finding has production contained). So both are denied to all but the
 * deployment role and the named managers: any tagging call that names the tag key (`aws:TagKeys`), and an
 * `ec2:DeleteTags` that names no key at all, which removes every tag of the resource, the opt-out one included.
 */
export function freezeOptOutTagScp(args: FreezeOptOutTagScpArgs): PolicyDocument {
  const allowed = [
    requireRoleArn(args.deploymentRoleArn, "deploymentRoleArn"),
    ...(args.managerRoleArns ?? []).map((arn, i) => requireRoleArn(arn, `optOutTagManagerRoleArns[${i}]`)),
  ];
  return document([
    {
      Sid: "FlzFreezeAutomationOptOutTag",
      Effect: "Deny",
      Action: [...OPT_OUT_TAGGING_ACTIONS],
      Resource: "*",
      Condition: { "ForAnyValue:StringEquals": { "aws:TagKeys": OPT_OUT_TAG_KEY }, ...exceptPrincipals(allowed) },
    },
    {
      Sid: "FlzFreezeAutomationOptOutTagAll",
      Effect: "Deny",
      Action: "ec2:DeleteTags",
      Resource: "*",
      Condition: { Null: { "aws:TagKeys": "true" }, ...exceptPrincipals(allowed) },
    },
  ]);
}
