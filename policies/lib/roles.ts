/**
 * Roles as the IAM rules see them, whether an `aws.iam.Role` or a role inside a StackSet's CloudFormation template
 * (how member-account roles are usually deployed), and which of them are forensic. Forensic and break-glass roles are
 * recognised by their purpose tag only: a name says nothing a rule can rely on (`alert-responder-bot` is no
 * responder), while the tag is the program's explicit statement of intent.
 */
import type { ResourceValidationArgs } from "@pulumi/policy";
import { PURPOSE, PURPOSE_TAG_SCHEMA } from "./purpose";
import { isOneOf, TYPES } from "./resources";
import { read, UNKNOWN } from "./unknowns";
import { asArray, asNumber, asRecord, asString, stringList, type Props } from "./values";

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
  // A generated name is unknown until the role exists: fall back to the logical name rather than stop the rule.
  const named = read(props, "name");
  const name = (named === UNKNOWN ? undefined : asString(named)) ?? logicalName;
  // Tags unknown during a preview carry no purpose: the role is then neither exempt nor forensic by tag.
  const tagged = read(props, "tags");
  return {
    name,
    where: `role ${name}`,
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
      Object.keys(asRecord(tagged === UNKNOWN ? undefined : tagged) ?? {})
        .map((k) => [k, read(tagged, k)] as const)
        .filter((e): e is readonly [string, string] => typeof e[1] === "string"),
    ),
  };
}

/** Roles of a resource (a Role, or a StackSet's template); not applicable for other types. */
export function rolesOfResource(args: ResourceValidationArgs): RoleView[] {
  const props = args.props as Props;
  if (isOneOf(args.type, TYPES.role)) return [roleOf(props, args.name)];
  if (isOneOf(args.type, TYPES.stackSet)) return rolesInTemplate(props.templateBody, `StackSet ${args.name}`) ?? [];
  return args.notApplicable("Policy only applies to IAM roles and CloudFormation StackSets.");
}

/** Settings of the rules that recognise forensic roles. */
export interface RoleConfig {
  purposeTagKey: string;
}

/** Config schema entries of the rules that recognise forensic roles. */
export const ROLE_PROPERTIES = { purposeTagKey: PURPOSE_TAG_SCHEMA };

/** The role's purpose tag, lower-cased. */
export function purposeTagOf(tags: Record<string, string>, config: RoleConfig): string | undefined {
  return tags[config.purposeTagKey]?.toLowerCase();
}

/** Whether a role is the break-glass role: tagged `<purposeTagKey>=break-glass`. */
export function isBreakGlass(role: { tags: Record<string, string> }, config: RoleConfig): boolean {
  return purposeTagOf(role.tags, config) === PURPOSE.breakGlassRole;
}

/** Whether a role is a forensic role: tagged `<purposeTagKey>=forensic-role` or `break-glass`. */
export function isForensicRole(role: { tags: Record<string, string> }, config: RoleConfig): boolean {
  const purpose = purposeTagOf(role.tags, config);
  return purpose === PURPOSE.forensicRole || purpose === PURPOSE.breakGlassRole;
}
