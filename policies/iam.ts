/**
 * IAM trust rules: who can become a role. Trust to `*` must be pinned to the organisation, an ARN or an external ID;
 * trust to another account's root must be pinned to principals, an external ID, the organisation or MFA; forensic
 * sessions stay short; break-glass needs MFA. Roles are read from `aws.iam.Role` and from StackSet templates
 * (policies/lib/roles.ts). What roles, users and groups may do is checked in iam-permissions.ts.
 */
import { configOf } from "./lib/config";
import { resourceRule } from "./lib/rule";
import {
  admitsEveryone,
  conditionValues,
  coversAction,
  hasRestrictingCondition,
  statementsOf,
  type Statement,
} from "./lib/documents";
import { accountOf, isOneOf, TYPES } from "./lib/resources";
import { isBreakGlass, isForensicRole, rolesOfResource, ROLE_PROPERTIES, type RoleConfig } from "./lib/roles";
import { DEFAULT_ENFORCEMENT, type ResourceRule, type RuleConfigSchema } from "./lib/types";
import { asRecord, stringList } from "./lib/values";

interface TrustConfig {
  restrictingConditionKeys: string[];
}
const TRUST_SCHEMA: RuleConfigSchema = {
  properties: {
    restrictingConditionKeys: {
      type: "array",
      items: { type: "string" },
      default: ["aws:PrincipalOrgID", "aws:PrincipalArn", "sts:ExternalId"],
      description: 'Condition keys that make a trust to "*" acceptable.',
    },
  },
};

/** Why a trust policy admits anyone, or undefined. */
export function openTrustProblem(trust: unknown, restrictingKeys: readonly string[]): string | undefined {
  const statements = statementsOf(trust);
  if (!statements)
    return "the trust policy is not a readable policy document: the pack cannot prove who may assume the role.";
  const open = statements.find(
    (s) => s.effect === "Allow" && admitsEveryone(s) && !hasRestrictingCondition(s, restrictingKeys),
  );
  if (open)
    return `statement ${open.sid ?? "(no Sid)"} lets "*" assume the role without ${restrictingKeys.join(", ")}: name the principals or add one of these conditions.`;
  return undefined;
}

/** No trust policy admits `*` without aws:PrincipalOrgID, aws:PrincipalArn or sts:ExternalId. */
export const iamTrustRestricted: ResourceRule = resourceRule({
  name: "iam-trust-restricted",
  description:
    'Checks whether any role trust policy (including roles in StackSet templates) lets "*" assume it without aws:PrincipalOrgID, aws:PrincipalArn or sts:ExternalId.',
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps:
    'Trust named role ARNs or accounts, or keep Principal "*" only with StringEquals aws:PrincipalOrgID, ArnLike aws:PrincipalArn, or sts:ExternalId.',
  configSchema: TRUST_SCHEMA,
  validateResource: (args, report) => {
    const roles = rolesOfResource(args);
    const { restrictingConditionKeys } = configOf<TrustConfig>(args, TRUST_SCHEMA);
    for (const role of roles) {
      const problem = openTrustProblem(role.trust, restrictingConditionKeys);
      if (problem) report(`${role.where}: ${problem}`);
    }
  },
});

interface CrossAccountConfig {
  restrictingConditionKeys: string[];
}
const CROSS_ACCOUNT_SCHEMA: RuleConfigSchema = {
  properties: {
    restrictingConditionKeys: {
      type: "array",
      items: { type: "string" },
      default: [
        "sts:ExternalId",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:MultiFactorAuthPresent",
        "aws:MultiFactorAuthAge",
      ],
      description:
        "Condition keys that pin who in a trusted account may assume the role (an external ID, principal ARNs, the organisation, or MFA).",
    },
  },
};

/** The account a principal element names when it names a whole account (`arn:...:iam::<id>:root` or a bare ID). */
export function accountRootOf(principal: string): string | undefined {
  if (/^\d{12}$/.test(principal)) return principal;
  return /^arn:aws[a-z-]*:iam::(\d{12}):root$/.exec(principal)?.[1];
}

/** Whether a condition on one of `keys` narrows who in the trusted account matches (MFA counts when demanded). */
function pinsPrincipal(statement: Statement, keys: readonly string[]): boolean {
  const wanted = keys.map((k) => k.toLowerCase());
  if (wanted.includes("aws:multifactorauthpresent") && requiresMfa(statement)) return true;
  return hasRestrictingCondition(
    statement,
    keys.filter((k) => !/^aws:MultiFactorAuth/i.test(k)),
  );
}

/**
 * Why a trust policy lets every principal of another account assume the role, or undefined. Trusting an account's
 * root delegates the choice of who may assume the role to that account's administrators (anyone they grant
 * `sts:AssumeRole` to); an external ID, principal ARNs, the organisation or MFA in the condition pins it.
 * `ownAccount` undefined (the provider does not say) counts every account root as another account's.
 */
export function crossAccountTrustProblem(
  trust: unknown,
  ownAccount: string | undefined,
  keys: readonly string[],
): string | undefined {
  const statements = statementsOf(trust);
  if (!statements) return undefined; // iam-trust-restricted reports unreadable trust policies.
  for (const s of statements) {
    if (s.effect !== "Allow" || s.notPrincipal || !coversAction(s, "sts:AssumeRole")) continue;
    const roots = stringList(asRecord(s.principal)?.AWS)
      .map(accountRootOf)
      .filter((a): a is string => a !== undefined && a !== ownAccount);
    if (roots.length === 0 || pinsPrincipal(s, keys)) continue;
    return `statement ${s.sid ?? "(no Sid)"} trusts account ${roots.join(", ")} as a whole (its root) with no ${keys.join(", ")} condition: name the role ARNs that may assume it, or add an external ID, aws:PrincipalArn, organisation or MFA condition.`;
  }
  return undefined;
}

/** A role trusting another account's root pins who in that account may assume it. */
export const iamCrossAccountTrustConditioned: ResourceRule = resourceRule({
  name: "iam-cross-account-trust-conditioned",
  description:
    "Checks whether any role trusting another account as a whole (its root) pins who may assume it with an external ID, principal ARN, organisation or MFA condition.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps:
    "Trust the specific role ARNs of the other account, or add StringEquals sts:ExternalId, ArnLike aws:PrincipalArn with a literal account, aws:PrincipalOrgID, or Bool aws:MultiFactorAuthPresent true.",
  configSchema: CROSS_ACCOUNT_SCHEMA,
  validateResource: (args, report) => {
    const roles = rolesOfResource(args);
    const { restrictingConditionKeys } = configOf<CrossAccountConfig>(args, CROSS_ACCOUNT_SCHEMA);
    // A Role's own account is its provider's; a StackSet's roles live in every member account (unknown here).
    const account = isOneOf(args.type, TYPES.role) ? accountOf(args) : undefined;
    const own = account && /^\d{12}$/.test(account) ? account : undefined;
    for (const role of roles) {
      const problem = crossAccountTrustProblem(role.trust, own, restrictingConditionKeys);
      if (problem) report(`${role.where}: ${problem}`);
    }
  },
});

interface SessionConfig extends RoleConfig {
  maxSessionSeconds: number;
}
const SESSION_SCHEMA: RuleConfigSchema = {
  properties: {
    ...ROLE_PROPERTIES,
    maxSessionSeconds: {
      type: "integer",
      minimum: 900,
      maximum: 43200,
      default: 3600,
      description: "Longest session accepted for forensic roles, in seconds.",
    },
  },
};

/** Forensic roles keep short sessions. */
export const iamForensicRoleSessionDuration: ResourceRule = resourceRule({
  name: "iam-forensic-role-session-duration",
  description:
    "Checks whether forensic roles (tagged forensic-role or break-glass by the purpose tag) keep sessions at or under the configured maximum (1 hour by default).",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "medium",
  remediationSteps: "Set maxSessionDuration to at most maxSessionSeconds (3600 by default) on forensic roles.",
  configSchema: SESSION_SCHEMA,
  validateResource: (args, report) => {
    const config = configOf<SessionConfig>(args, SESSION_SCHEMA);
    const roles = rolesOfResource(args).filter((r) => isForensicRole(r, config));
    if (roles.length === 0) args.notApplicable("No forensic role here.");
    for (const role of roles) {
      const duration = role.maxSessionDuration ?? 3600;
      if (duration > config.maxSessionSeconds)
        report(
          `${role.where} allows ${duration}-second sessions: set maxSessionDuration to at most ${config.maxSessionSeconds}.`,
        );
    }
  },
});

/** Whether an Allow trust statement demands MFA (present and not merely "if exists"). */
export function requiresMfa(statement: Statement): boolean {
  const present = conditionValues(statement, "Bool", "aws:MultiFactorAuthPresent");
  if (present && present.length > 0 && present.every((v) => v.toLowerCase() === "true")) return true;
  return conditionValues(statement, "NumericLessThan", "aws:MultiFactorAuthAge") !== undefined;
}

const MFA_SCHEMA: RuleConfigSchema = { properties: ROLE_PROPERTIES };

/** The break-glass role requires MFA to assume. */
export const iamBreakGlassMfa: ResourceRule = resourceRule({
  name: "iam-break-glass-mfa",
  description: "Checks whether every statement allowing someone to assume the break-glass role requires MFA.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps:
    'Add Condition { Bool: { "aws:MultiFactorAuthPresent": "true" } } to every Allow statement of the break-glass trust policy.',
  configSchema: MFA_SCHEMA,
  validateResource: (args, report) => {
    const config = configOf<RoleConfig>(args, MFA_SCHEMA);
    const roles = rolesOfResource(args).filter((r) => isBreakGlass(r, config));
    if (roles.length === 0) args.notApplicable("No break-glass role here.");
    for (const role of roles) {
      const statements = statementsOf(role.trust);
      if (!statements) {
        report(`${role.where}: the trust policy is not readable, so MFA cannot be proven.`);
        continue;
      }
      const lax = statements.filter((s) => s.effect === "Allow" && !requiresMfa(s));
      if (lax.length > 0)
        report(
          `${role.where}: statement ${lax[0]?.sid ?? "(no Sid)"} allows assuming the break-glass role without MFA: require aws:MultiFactorAuthPresent "true".`,
        );
    }
  },
});

/** Every IAM rule. */
export const iamRules: ResourceRule[] = [
  iamTrustRestricted,
  iamCrossAccountTrustConditioned,
  iamForensicRoleSessionDuration,
  iamBreakGlassMfa,
];
