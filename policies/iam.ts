/**
 * IAM rules: who can become a forensic role, and what any role may do. Trust to `*` must be pinned to the
 * organisation, an ARN or an external ID; `Action: *` on `Resource: *` is for the break-glass role only; forensic
 * sessions stay short; break-glass needs MFA. Roles are read from `aws.iam.Role` and its policies, and from the
 * CloudFormation templates of StackSets (how member-account roles are usually deployed).
 */
import { resourceRule } from "./lib/rule";
import type { ResourceValidationArgs } from "@pulumi/policy";
import { configOf } from "./lib/config";
import { deferToUpdate, read, UNKNOWN } from "./lib/unknowns";
import {
  admitsEveryone,
  conditionValues,
  coversAllResources,
  hasRestrictingCondition,
  statementsOf,
  type Statement,
} from "./lib/documents";
import { PURPOSE, PURPOSE_TAG_SCHEMA } from "./lib/purpose";
import { isOneOf, TYPES } from "./lib/resources";
import { DEFAULT_ENFORCEMENT, type ResourceRule, type RuleConfigSchema } from "./lib/types";
import { asArray, asNumber, asRecord, asString, stringList, type Props } from "./lib/values";

/** A role as the rules see it, whether it is a Pulumi resource or a role inside a StackSet template. */
export interface RoleView {
  /** Role name (the `name` input, else the logical name). */
  readonly name: string;
  /** Where it was found, for messages. */
  readonly where: string;
  /** Trust policy document (string or object). */
  readonly trust: unknown;
  /** Permission policy documents attached inline. */
  readonly inlinePolicies: unknown[];
  /** Managed policy ARNs. */
  readonly managedPolicyArns: string[];
  /** Maximum session duration in seconds, if set. */
  readonly maxSessionDuration?: number;
  /** Tags. */
  readonly tags: Record<string, string>;
}

/** The roles declared in a CloudFormation template body (JSON); templates in YAML are not read. */
export function rolesInTemplate(templateBody: unknown, where: string): RoleView[] | undefined {
  let template: unknown = templateBody;
  if (typeof templateBody === "string") {
    try {
      template = JSON.parse(templateBody);
    } catch {
      return undefined;
    }
  }
  const resources = asRecord(asRecord(template)?.Resources) ?? {};
  const roles: RoleView[] = [];
  for (const [logicalId, raw] of Object.entries(resources)) {
    const resource = asRecord(raw);
    if (asString(resource?.Type) !== "AWS::IAM::Role") continue;
    const p = asRecord(resource?.Properties) ?? {};
    const tags = Object.fromEntries(
      asArray(p.Tags)
        .map(asRecord)
        .filter((t): t is Props => !!t && typeof t.Key === "string" && typeof t.Value === "string")
        .map((t) => [t.Key as string, t.Value as string]),
    );
    roles.push({
      name: asString(p.RoleName) ?? logicalId,
      where: `${where} template role ${logicalId}`,
      trust: p.AssumeRolePolicyDocument,
      inlinePolicies: asArray(p.Policies).map((x) => asRecord(x)?.PolicyDocument),
      managedPolicyArns: stringList(p.ManagedPolicyArns),
      maxSessionDuration: asNumber(p.MaxSessionDuration),
      tags,
    });
  }
  return roles;
}

/** The role view of an `aws.iam.Role` resource. */
export function roleOf(props: Props, logicalName: string): RoleView {
  return {
    name: asString(props.name) ?? logicalName,
    where: `role ${asString(props.name) ?? logicalName}`,
    // Read on use: during a first preview the trust and inline documents are often unknown (they name ARNs of
    // resources not created yet), and a rule that needs only the session length or the managed policies must still
    // decide rather than be reported as unable to run.
    get trust() {
      return props.assumeRolePolicy;
    },
    get inlinePolicies() {
      return asArray(props.inlinePolicies).map((p) => asRecord(p)?.policy);
    },
    managedPolicyArns: stringList(props.managedPolicyArns),
    maxSessionDuration: asNumber(props.maxSessionDuration),
    tags: Object.fromEntries(
      Object.entries(asRecord(props.tags) ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"),
    ),
  };
}

/** Roles of a resource (a Role, or a StackSet's template); not applicable for other types. */
function rolesOfResource(args: ResourceValidationArgs): RoleView[] {
  const props = args.props as Props;
  if (isOneOf(args.type, TYPES.role)) return [roleOf(props, args.name)];
  if (isOneOf(args.type, TYPES.stackSet)) return rolesInTemplate(props.templateBody, `StackSet ${args.name}`) ?? [];
  return args.notApplicable("Policy only applies to IAM roles and CloudFormation StackSets.");
}

interface RoleConfig {
  purposeTagKey: string;
  breakGlassRolePattern: string;
  forensicRolePattern: string;
}
const ROLE_PROPERTIES = {
  purposeTagKey: PURPOSE_TAG_SCHEMA,
  breakGlassRolePattern: {
    type: "string" as const,
    default: "break-?glass",
    description:
      "Case-insensitive regular expression matching break-glass role names (the purpose tag also identifies them).",
  },
  forensicRolePattern: {
    type: "string" as const,
    default: "forensic|responder|investigator|break-?glass",
    description:
      "Case-insensitive regular expression matching forensic role names (the purpose tag also identifies them).",
  },
};

/** Whether a role is the break-glass role (by purpose tag or name). */
export function isBreakGlass(role: RoleView, config: RoleConfig): boolean {
  return (
    role.tags[config.purposeTagKey]?.toLowerCase() === PURPOSE.breakGlassRole ||
    new RegExp(config.breakGlassRolePattern, "i").test(role.name)
  );
}

/** Whether a role is a forensic role (by purpose tag or name). */
export function isForensicRole(role: RoleView, config: RoleConfig): boolean {
  const purpose = role.tags[config.purposeTagKey]?.toLowerCase();
  return (
    purpose === PURPOSE.forensicRole ||
    purpose === PURPOSE.breakGlassRole ||
    new RegExp(config.forensicRolePattern, "i").test(role.name)
  );
}

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

const ADMIN_POLICY_ARN = /^arn:aws[a-z-]*:iam::aws:policy\/AdministratorAccess$/;

/** Whether a permission document allows every action on every resource. */
export function grantsFullAdmin(document: unknown): boolean {
  return (statementsOf(document) ?? []).some(
    (s: Statement) =>
      s.effect === "Allow" && (s.actions.includes("*") || s.notActions.length > 0) && coversAllResources(s),
  );
}

const ADMIN_SCHEMA: RuleConfigSchema = { properties: ROLE_PROPERTIES };

/** No `Action: *` on `Resource: *` outside the break-glass role. */
export const iamNoWildcardAdmin: ResourceRule = resourceRule({
  name: "iam-no-wildcard-admin",
  description:
    'Checks whether any role or policy other than the break-glass role allows Action "*" on Resource "*" (inline, managed, or AdministratorAccess).',
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps:
    "Grant the actions the role needs on the resources it needs; keep full administrator access for the break-glass role only.",
  configSchema: ADMIN_SCHEMA,
  validateResource: (args, report) => {
    const config = configOf<RoleConfig>(args, ADMIN_SCHEMA);
    const props = args.props as Props;
    if (isOneOf(args.type, [...TYPES.rolePolicy, ...TYPES.managedPolicy, ...TYPES.rolePolicyAttachment])) {
      // Decide on the document first: the owning role's name is often unknown during a preview (role.id), and is
      // needed only when the document grants full admin (to exempt the break-glass role).
      const attachment = isOneOf(args.type, TYPES.rolePolicyAttachment);
      const admin = attachment ? ADMIN_POLICY_ARN.test(asString(props.policyArn) ?? "") : grantsFullAdmin(props.policy);
      if (!admin) return;
      const role = read(props, "role");
      if (role === UNKNOWN) deferToUpdate(props, "role");
      const owner = asString(role) ?? asString(props.name) ?? args.name;
      const view: RoleView = {
        name: owner,
        where: `${args.name}`,
        trust: undefined,
        inlinePolicies: [],
        managedPolicyArns: [],
        tags: {},
      };
      if (isBreakGlass(view, config)) return;
      if (attachment) report(`AdministratorAccess is attached to ${owner}: only the break-glass role may have it.`);
      else
        report(`${args.name} allows Action "*" on Resource "*": scope it, or attach it to the break-glass role only.`);
      return;
    }
    for (const role of rolesOfResource(args)) {
      if (isBreakGlass(role, config)) continue;
      // Managed policies first: they are known at a first preview, inline documents often are not.
      if (role.managedPolicyArns.some((arn) => ADMIN_POLICY_ARN.test(arn)))
        report(`${role.where} has AdministratorAccess: only the break-glass role may.`);
      if (role.inlinePolicies.some(grantsFullAdmin))
        report(`${role.where} has an inline policy allowing Action "*" on Resource "*": scope it.`);
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
    "Checks whether forensic roles (responder, investigator, break-glass; by purpose tag or name) keep sessions at or under the configured maximum (1 hour by default).",
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
  iamNoWildcardAdmin,
  iamForensicRoleSessionDuration,
  iamBreakGlassMfa,
];
