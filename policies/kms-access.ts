/**
 * KMS access rules: who may use or control a key. No key policy opens a key to everyone, no key policy hands full
 * control (`kms:*`, key-policy changes, deletion) to another account, and no grant lets its grantee hand the key on
 * or names a whole account as grantee.
 */
import { configOf } from "./lib/config";
import {
  admitsEveryone,
  conditionValues,
  coversAction,
  grantsAllActionsOf,
  hasRestrictingCondition,
  statementsOf,
  type Statement,
} from "./lib/documents";
import { accountOf, TYPES, validateTypes } from "./lib/resources";
import { resourceRule } from "./lib/rule";
import { DEFAULT_ENFORCEMENT, type ResourceRule, type RuleConfigSchema } from "./lib/types";
import { asArray, asRecord, asString, stringList } from "./lib/values";

const DECRYPT_ACTIONS = [
  "kms:Decrypt",
  "kms:ReEncryptFrom",
  "kms:CreateGrant",
  "kms:ScheduleKeyDeletion",
  "kms:PutKeyPolicy",
];

/** Why a key policy opens the key to everyone, or undefined. */
export function publicKeyPolicyProblem(document: unknown): string | undefined {
  const statements = statementsOf(document);
  if (!statements) return "the key policy is not a readable policy document: the pack cannot prove it is not public.";
  for (const s of statements) {
    if (s.effect !== "Allow" || !admitsEveryone(s) || hasRestrictingCondition(s)) continue;
    if (grantsAllActionsOf(s, "kms"))
      return `statement ${s.sid ?? "(no Sid)"} grants kms:* to "*": name the principals.`;
    const risky = DECRYPT_ACTIONS.filter((a) => coversAction(s, a));
    if (risky.length > 0)
      return `statement ${s.sid ?? "(no Sid)"} allows ${risky.join(", ")} to "*" without restricting the caller: add aws:PrincipalOrgID, kms:CallerAccount or kms:ViaService.`;
  }
  return undefined;
}

/** No key policy grants `kms:*` or decryption to `*` without a restricting condition. */
export const kmsKeyPolicyNotPublic: ResourceRule = resourceRule({
  name: "kms-key-policy-not-public",
  description:
    'Checks whether any KMS key policy grants kms:* or decryption to "*" without a condition restricting the caller.',
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps:
    'Grant KMS actions to named principals, or add StringEquals aws:PrincipalOrgID / kms:CallerAccount / kms:ViaService to statements for "*".',
  configSchema: { properties: {} },
  validateResource: validateTypes([...TYPES.key, ...TYPES.replicaKey, ...TYPES.keyPolicy], (key, _args, report) => {
    if (key.policy === undefined) return; // AWS applies the default key policy: the account root only.
    const problem = publicKeyPolicyProblem(key.policy);
    if (problem) report(problem);
  }),
});

/** Actions that amount to control of a key: whoever holds one can take the key from its owner or destroy it. */
const KEY_CONTROL_ACTIONS = ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CreateGrant", "kms:DisableKey"];

/**
 * Whether `kms:CreateGrant` is limited to grants for AWS services (`Bool kms:GrantIsForAWSResource true`), the form
 * AWS documents for sharing a key with another account's EBS or RDS use: the service, not the caller, holds the grant.
 */
function grantsOnlyForAwsResources(s: Statement): boolean {
  return (conditionValues(s, "Bool", "kms:GrantIsForAWSResource") ?? []).some((v) => v.toLowerCase() === "true");
}

/** The account an AWS principal element belongs to (`arn:...:iam::<id>:...` or a bare 12-digit ID), if any. */
export function principalAccount(principal: string): string | undefined {
  if (/^\d{12}$/.test(principal)) return principal;
  return /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(principal)?.[1];
}

/** The accounts a statement grants to by AWS principal. */
function grantedAccounts(s: Statement): string[] {
  return [
    ...new Set(
      stringList(asRecord(s.principal)?.AWS)
        .map(principalAccount)
        .filter((a): a is string => a !== undefined),
    ),
  ];
}

/**
 * Why a key policy gives another account control of the key (`kms:*`, or key-policy changes, deletion, grants), or
 * undefined. `ownAccount` is the key's account as its provider says; when it does not, control granted to more than
 * one account means at least one is another account's. Accounts in `trusted` are allowed.
 */
export function crossAccountControlProblem(
  document: unknown,
  ownAccount: string | undefined,
  trusted: readonly string[],
): string | undefined {
  const statements = statementsOf(document);
  if (!statements) return undefined; // kms-key-policy-not-public reports unreadable key policies.
  const controllers = new Map<string, string>();
  for (const s of statements) {
    if (s.effect !== "Allow" || s.notPrincipal) continue;
    const control = grantsAllActionsOf(s, "kms")
      ? "kms:*"
      : KEY_CONTROL_ACTIONS.find(
          (a) => coversAction(s, a) && !(a === "kms:CreateGrant" && grantsOnlyForAwsResources(s)),
        );
    if (!control) continue;
    for (const account of grantedAccounts(s))
      if (!controllers.has(account)) controllers.set(account, `${control} (statement ${s.sid ?? "(no Sid)"})`);
  }
  const foreign = [...controllers.keys()].filter((a) => !trusted.includes(a) && a !== ownAccount);
  if (ownAccount === undefined && foreign.length <= 1) return undefined;
  if (foreign.length === 0) return undefined;
  return `the key policy gives ${foreign.map((a) => `account ${a} ${controllers.get(a)}`).join(", ")}: another account could change the key policy, schedule the key's deletion or grant it away. Grant other accounts only the use actions they need (kms:Decrypt, kms:GenerateDataKey*), or list them in trustedAccountIds.`;
}

interface CrossAccountConfig {
  trustedAccountIds: string[];
}
const CROSS_ACCOUNT_SCHEMA: RuleConfigSchema = {
  properties: {
    trustedAccountIds: {
      type: "array",
      items: { type: "string" },
      default: [],
      description: "Accounts besides the key's own that may control keys (e.g. a central key-administration account).",
    },
  },
};

/** No key policy gives another account control of the key. */
export const kmsKeyPolicyNoCrossAccountControl: ResourceRule = resourceRule({
  name: "kms-key-policy-no-cross-account-control",
  description:
    "Checks whether any KMS key policy gives another account kms:* or control of the key (key-policy changes, deletion, grants).",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps:
    "Keep kms:* and key administration with the key's own account; grant other accounts only kms:Decrypt, kms:GenerateDataKey* and kms:DescribeKey, or name trusted administration accounts in trustedAccountIds.",
  configSchema: CROSS_ACCOUNT_SCHEMA,
  validateResource: validateTypes([...TYPES.key, ...TYPES.replicaKey, ...TYPES.keyPolicy], (key, args, report) => {
    if (key.policy === undefined) return; // The default key policy names the key's own account only.
    const { trustedAccountIds } = configOf<CrossAccountConfig>(args, CROSS_ACCOUNT_SCHEMA);
    const account = accountOf(args);
    const problem = crossAccountControlProblem(
      key.policy,
      /^\d{12}$/.test(account) ? account : undefined,
      trustedAccountIds,
    );
    if (problem) report(problem);
  }),
});

/** Operations that let a grantee hand the key on (a grant of a grant escapes the key policy's review). */
const REDELEGATING_OPERATIONS = ["CreateGrant"];

/** Why a KMS grant is too broad, or undefined. */
export function grantProblem(grantee: unknown, operations: unknown): string | undefined {
  const ops = asArray(operations).filter((o): o is string => typeof o === "string");
  const redelegates = ops.filter((o) => REDELEGATING_OPERATIONS.includes(o));
  if (redelegates.length > 0)
    return `the grant allows ${redelegates.join(", ")}: its grantee could grant the key to anyone, outside the key policy. Remove CreateGrant from operations.`;
  const principal = asString(grantee) ?? "";
  if (principal === "*" || /^\d{12}$/.test(principal) || /:root$/.test(principal))
    return `the grantee ${principal} is a whole account (or everyone): name the role that needs the key.`;
  return undefined;
}

/** KMS grants neither re-delegate nor name whole accounts. */
export const kmsGrantRestricted: ResourceRule = resourceRule({
  name: "kms-grant-restricted",
  description:
    "Checks whether any KMS grant lets its grantee create further grants, or names a whole account (or everyone) as grantee.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps:
    "Grant a specific role ARN only the operations it needs (e.g. Decrypt, GenerateDataKey), without CreateGrant; prefer the key policy for standing access.",
  configSchema: { properties: {} },
  validateResource: validateTypes(TYPES.kmsGrant, (grant, _args, report) => {
    const problem = grantProblem(grant.granteePrincipal, grant.operations);
    if (problem) report(problem);
  }),
});

/** Every KMS access rule. */
export const kmsAccessRules: ResourceRule[] = [
  kmsKeyPolicyNotPublic,
  kmsKeyPolicyNoCrossAccountControl,
  kmsGrantRestricted,
];
