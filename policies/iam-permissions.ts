/**
 * IAM permission rules: what roles, users and groups may do. Full administrator access (Action `*` on Resource `*`,
 * `AdministratorAccess`, `IAMFullAccess`) is for the break-glass role only; nobody else gets the IAM write actions
 * that are known privilege-escalation paths on every resource. Stack rules, because an attachment names its role,
 * user or group by name and only the role resource carries the purpose tag that marks it break-glass.
 *
 * Sources read: inline policies of roles (and of StackSet template roles), `RolePolicy`, `UserPolicy`, `GroupPolicy`,
 * managed `Policy` documents with the attachments that grant them, and AWS-managed policy ARNs on roles and on
 * `RolePolicyAttachment`, `UserPolicyAttachment`, `GroupPolicyAttachment` and `PolicyAttachment`.
 */
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { configOf } from "./lib/config";
import { coversAction, coversAllResources, statementsOf, wildcardMatches, type Statement } from "./lib/documents";
import { isOneOf, linkOf, ofTypes, TYPES } from "./lib/resources";
import { isBreakGlass, roleOf, rolesInTemplate, ROLE_PROPERTIES, type RoleConfig } from "./lib/roles";
import { stackRule } from "./lib/rule";
import { DEFAULT_ENFORCEMENT, type RuleConfigSchema, type StackRule } from "./lib/types";
import { containsUnknown, deferToUpdate, elements, read, UNKNOWN } from "./lib/unknowns";
import { asArray, asString, type Props } from "./lib/values";

/** Who receives a set of permissions. */
interface Grantee {
  /** "role X", "user X", "group X", or a description when it cannot be told. */
  readonly label: string;
  /** Whether it is the break-glass role (by purpose tag), the only one allowed full access. */
  readonly breakGlass: boolean;
}

/** Permissions granted somewhere in the stack, and to whom. */
interface Grant {
  /** Where the grant is declared, for messages. */
  readonly where: string;
  /** The resource to blame. */
  readonly urn: string;
  /** Where the granted policy documents are: (holder, key) pairs, read on use (unknown during a preview, often). */
  readonly documents: Array<{ holder: unknown; key: string }>;
  /** AWS-managed policy ARNs granted. */
  readonly managedArns: string[];
  /** Who receives them; empty when no grantee can be found (a managed policy attached outside this stack). */
  readonly grantees: Grantee[];
  /** A grantee reference unknown during the preview that cannot be traced: (holder, key) to defer on. */
  readonly unknownGrantee?: { holder: unknown; key: string };
}

const roleTags = (role: PolicyResource): Record<string, string> => roleOf(role.props as Props, role.name).tags;

/** The grantees named by `property` of `resource` (one name or a list), joined to roles of the stack for their tags. */
function granteesOf(
  resource: PolicyResource,
  property: string,
  kind: "role" | "user" | "group",
  resources: readonly PolicyResource[],
  config: RoleConfig,
): { grantees: Grantee[]; unknown: boolean } {
  const raw = read(resource.props, property);
  if (raw === undefined || raw === null) return { grantees: [], unknown: false };
  if (raw === UNKNOWN) {
    if (kind !== "role")
      return { grantees: [{ label: `a ${kind} unknown during preview`, breakGlass: false }], unknown: false };
    const roles = ofTypes(resources, TYPES.role).filter((r) => linkOf(resource, property, r) === "yes");
    if (roles.length === 1 && roles[0])
      return {
        grantees: [{ label: `role ${roles[0].name}`, breakGlass: isBreakGlass({ tags: roleTags(roles[0]) }, config) }],
        unknown: false,
      };
    return { grantees: [], unknown: true };
  }
  const names = asArray(raw).map((v) => asString(v) ?? "(unknown)");
  return {
    grantees: names.map((name) => {
      if (kind !== "role") return { label: `${kind} ${name}`, breakGlass: false };
      const role = ofTypes(resources, TYPES.role).find(
        (r) => linkOf(resource, property, r, TYPES.role, name) === "yes",
      );
      return { label: `role ${name}`, breakGlass: !!role && isBreakGlass({ tags: roleTags(role) }, config) };
    }),
    unknown: false,
  };
}

/** Where a role's inline policy documents are (`inlinePolicies[i].policy`), without reading them. */
function inlineDocuments(props: Props): Array<{ holder: unknown; key: string }> {
  const list = read(props, "inlinePolicies");
  if (list === UNKNOWN) return [{ holder: props, key: "inlinePolicies" }];
  return elements(list).map((entry, i) =>
    entry === UNKNOWN ? { holder: list, key: String(i) } : { holder: entry, key: "policy" },
  );
}

/** Every grant of permissions in the stack. */
function grantsOf(resources: readonly PolicyResource[], config: RoleConfig): Grant[] {
  const grants: Grant[] = [];
  const attachmentTypes = [
    ...TYPES.rolePolicyAttachment,
    ...TYPES.userPolicyAttachment,
    ...TYPES.groupPolicyAttachment,
    ...TYPES.policyAttachment,
  ];
  const attachments = ofTypes(resources, attachmentTypes);
  const attachmentGrantees = (a: PolicyResource): { grantees: Grantee[]; unknown: boolean } => {
    const parts = [
      granteesOf(a, "role", "role", resources, config),
      granteesOf(a, "user", "user", resources, config),
      granteesOf(a, "group", "group", resources, config),
      granteesOf(a, "roles", "role", resources, config),
      granteesOf(a, "users", "user", resources, config),
      granteesOf(a, "groups", "group", resources, config),
    ];
    return { grantees: parts.flatMap((p) => p.grantees), unknown: parts.some((p) => p.unknown) };
  };
  for (const r of resources) {
    const props = r.props as Props;
    if (isOneOf(r.type, TYPES.role)) {
      const role = roleOf(props, r.name);
      grants.push({
        where: role.where,
        urn: r.urn,
        documents: inlineDocuments(props),
        managedArns: role.managedPolicyArns,
        grantees: [{ label: role.where, breakGlass: isBreakGlass(role, config) }],
      });
    } else if (isOneOf(r.type, TYPES.stackSet)) {
      const template = read(props, "templateBody");
      if (template === UNKNOWN) {
        grants.push({
          where: `StackSet ${r.name}`,
          urn: r.urn,
          documents: [{ holder: props, key: "templateBody" }],
          managedArns: [],
          grantees: [],
        });
        continue;
      }
      for (const role of rolesInTemplate(template, `StackSet ${r.name}`) ?? [])
        grants.push({
          where: role.where,
          urn: r.urn,
          documents: role.inlinePolicies.map((policy) => ({ holder: { policy }, key: "policy" })),
          managedArns: role.managedPolicyArns,
          grantees: [{ label: role.where, breakGlass: isBreakGlass(role, config) }],
        });
    } else if (isOneOf(r.type, [...TYPES.rolePolicy, ...TYPES.userPolicy, ...TYPES.groupPolicy])) {
      const kind = isOneOf(r.type, TYPES.rolePolicy) ? "role" : isOneOf(r.type, TYPES.userPolicy) ? "user" : "group";
      const { grantees, unknown } = granteesOf(r, kind, kind, resources, config);
      grants.push({
        where: r.name,
        urn: r.urn,
        documents: [{ holder: props, key: "policy" }],
        managedArns: [],
        grantees,
        unknownGrantee: unknown ? { holder: r.props, key: kind } : undefined,
      });
    } else if (isOneOf(r.type, TYPES.managedPolicy)) {
      // A customer-managed policy reaches whoever its attachments in this stack name; with none here, it may be
      // attached anywhere later, so nobody is exempt.
      const attached = attachments.filter((a) => linkOf(a, "policyArn", r, TYPES.managedPolicy) === "yes");
      const found = attached.map(attachmentGrantees);
      grants.push({
        where: `policy ${r.name}`,
        urn: r.urn,
        documents: [{ holder: props, key: "policy" }],
        managedArns: [],
        grantees: found.flatMap((f) => f.grantees),
        unknownGrantee: found.some((f) => f.unknown) ? { holder: attached[0]?.props, key: "role" } : undefined,
      });
    } else if (isOneOf(r.type, attachmentTypes)) {
      const arn = read(props, "policyArn");
      if (typeof arn !== "string" || !/^arn:aws[a-z-]*:iam::aws:policy\//.test(arn)) continue;
      const { grantees, unknown } = attachmentGrantees(r);
      const unknownKey = ["role", "roles"].find((k) => read(props, k) === UNKNOWN) ?? "role";
      grants.push({
        where: r.name,
        urn: r.urn,
        documents: [],
        managedArns: [arn],
        grantees,
        unknownGrantee: unknown ? { holder: r.props, key: unknownKey } : undefined,
      });
    }
  }
  return grants;
}

/** Whether a document allows every action on every resource. */
export function grantsFullAdmin(document: unknown): boolean {
  return (statementsOf(document) ?? []).some(
    (s: Statement) =>
      s.effect === "Allow" && (s.actions.includes("*") || s.notActions.length > 0) && coversAllResources(s),
  );
}

/**
 * Runs `problemOf` over every grant and reports it for each grantee that is not the break-glass role. A grant whose
 * grantee a preview cannot trace is decided after everything else (deferred, or failing closed; see lib/rule.ts).
 */
function reportGrants(
  args: StackValidationArgs,
  report: (message: string, urn?: string) => void,
  config: RoleConfig,
  problemOf: (grant: Grant, documents: unknown[]) => string | undefined,
): void {
  const grants = grantsOf(args.resources, config);
  if (grants.length === 0) args.notApplicable("The program grants no IAM permissions.");
  let deferred: { holder: unknown; key: string } | undefined;
  for (const grant of grants) {
    const values = grant.documents.map((d) => ({ d, value: read(d.holder, d.key) }));
    const unknown = values.find((v) => containsUnknown(v.value));
    const problem = problemOf(
      grant,
      values.filter((v) => v !== unknown && !containsUnknown(v.value)).map((v) => v.value),
    );
    if (!problem) {
      // A document unknown during the preview may be the one that grants too much: decided last.
      if (unknown && grant.grantees.some((g) => !g.breakGlass)) deferred ??= unknown.d;
      continue;
    }
    const exposed = grant.grantees.filter((g) => !g.breakGlass);
    if (grant.unknownGrantee && exposed.length === 0) {
      deferred ??= grant.unknownGrantee;
      continue;
    }
    if (grant.grantees.length > 0 && exposed.length === 0) continue;
    const to = exposed.length > 0 ? exposed.map((g) => g.label).join(", ") : "whoever it is attached to";
    report(`${grant.where} ${problem} (granted to ${to}): only the break-glass role may have it.`, grant.urn);
  }
  if (deferred) deferToUpdate(deferred.holder, deferred.key);
}

interface AdminConfig extends RoleConfig {
  adminPolicyNames: string[];
}
const ADMIN_SCHEMA: RuleConfigSchema = {
  properties: {
    ...ROLE_PROPERTIES,
    adminPolicyNames: {
      type: "array",
      items: { type: "string" },
      default: ["AdministratorAccess", "IAMFullAccess"],
      description:
        "AWS-managed policies that amount to administrator access (IAMFullAccess lets its holder grant itself anything).",
    },
  },
};

/** No `Action: *` on `Resource: *`, AdministratorAccess or IAMFullAccess outside the break-glass role. */
export const iamNoWildcardAdmin: StackRule = stackRule({
  name: "iam-no-wildcard-admin",
  description:
    'Checks whether any role, user or group other than the break-glass role gets Action "*" on Resource "*" (inline or managed) or AdministratorAccess / IAMFullAccess.',
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps:
    "Grant the actions each principal needs on the resources it needs; keep full administrator access for the role tagged break-glass.",
  configSchema: ADMIN_SCHEMA,
  validateStack: (args, report) => {
    const config = configOf<AdminConfig>(args, ADMIN_SCHEMA);
    reportGrants(args, report, config, (grant, documents) => {
      const managed = grant.managedArns.find((arn) =>
        config.adminPolicyNames.some((name) => arn.endsWith(`:policy/${name}`)),
      );
      if (managed) return `attaches ${managed}`;
      // Managed policies first: known at a first preview; inline documents often are not.
      if (documents.some(grantsFullAdmin)) return 'allows Action "*" on Resource "*"';
      return undefined;
    });
  },
});

/**
 * IAM actions that let their holder raise its own privileges when allowed on every resource: pass any role to a
 * service, rewrite or attach policies, change who may assume a role, or mint credentials for another user. The
 * published privilege-escalation methods for AWS IAM are built from these (AWS IAM User Guide on `iam:PassRole`;
 * the AWS managed policy reference marks them "permissions management").
 */
export const ESCALATION_ACTIONS = [
  "iam:PassRole",
  "iam:CreatePolicyVersion",
  "iam:SetDefaultPolicyVersion",
  "iam:AttachUserPolicy",
  "iam:AttachGroupPolicy",
  "iam:AttachRolePolicy",
  "iam:PutUserPolicy",
  "iam:PutGroupPolicy",
  "iam:PutRolePolicy",
  "iam:UpdateAssumeRolePolicy",
  "iam:CreateAccessKey",
  "iam:CreateLoginProfile",
  "iam:UpdateLoginProfile",
  "iam:AddUserToGroup",
];

/**
 * Whether a statement's resources cover every role, user, group or policy of an account: `*`, a `NotResource`, or a
 * pattern such as `arn:aws:iam::*:role/*` or `arn:aws:iam::123456789012:policy/*` (probed with names no program
 * chose; the account field of the pattern is kept, so one account's every role counts as every role).
 */
function coversEveryIamEntity(statement: Statement): boolean {
  if (coversAllResources(statement)) return true;
  return statement.resources.some((pattern) => {
    const account = /^\d{12}$/.test(pattern.split(":")[4] ?? "") ? pattern.split(":")[4] : "123456789012";
    return ["role/zz-any-admin-role", "user/zz-any-user", "policy/zz-any-policy", "group/zz-any-group"].some((entity) =>
      wildcardMatches(pattern, `arn:aws:iam::${account}:${entity}`),
    );
  });
}

/** The escalation actions a document allows on every IAM entity (full-admin statements excluded: reported apart). */
export function escalationActions(document: unknown, actions: readonly string[]): string[] {
  const found = new Set<string>();
  for (const s of statementsOf(document) ?? []) {
    if (s.effect !== "Allow" || grantsFullAdmin({ Statement: [rawOf(s)] }) || !coversEveryIamEntity(s)) continue;
    for (const action of actions) if (coversAction(s, action)) found.add(action);
  }
  return [...found];
}

/** A normalised statement back in document form (for {@link grantsFullAdmin}). */
function rawOf(s: Statement): Record<string, unknown> {
  return {
    Effect: s.effect,
    Action: s.actions,
    NotAction: s.notActions.length > 0 ? s.notActions : undefined,
    Resource: s.resources,
    NotResource: s.notResources.length > 0 ? s.notResources : undefined,
  };
}

interface EscalationConfig extends RoleConfig {
  escalationActions: string[];
}
const ESCALATION_SCHEMA: RuleConfigSchema = {
  properties: {
    ...ROLE_PROPERTIES,
    escalationActions: {
      type: "array",
      items: { type: "string" },
      default: ESCALATION_ACTIONS,
      description: "IAM actions that count as privilege escalation when allowed on every role, user, group or policy.",
    },
  },
};

/** No service-wide IAM write that escalates privileges, outside the break-glass role. */
export const iamNoPrivilegeEscalation: StackRule = stackRule({
  name: "iam-no-privilege-escalation",
  description:
    "Checks whether any role, user or group other than the break-glass role may pass any role or rewrite, attach or assume-enable IAM policies and credentials on every IAM entity (iam:*, iam:PassRole on *, policy versions, attachments).",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps:
    "Scope iam:PassRole and IAM write actions to the specific role, user or policy ARNs the principal manages (e.g. arn:aws:iam::<account>:role/app-*).",
  configSchema: ESCALATION_SCHEMA,
  validateStack: (args, report) => {
    const config = configOf<EscalationConfig>(args, ESCALATION_SCHEMA);
    reportGrants(args, report, config, (_grant, documents) => {
      const actions = [...new Set(documents.flatMap((d) => escalationActions(d, config.escalationActions)))];
      return actions.length > 0 ? `allows ${actions.join(", ")} on every IAM entity` : undefined;
    });
  },
});

/** Every IAM permission rule. */
export const iamPermissionRules: StackRule[] = [iamNoWildcardAdmin, iamNoPrivilegeEscalation];
