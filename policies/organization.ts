/**
 * Organisation rules (stack rules): once a program creates an organisation trail, service control policies must stop
 * member accounts from switching it off or tampering with the forensic roles; and a program that is a forensic
 * landing zone must contain every part an investigation depends on.
 */
import { resourceRule, stackRule } from "./lib/rule";
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { configOf } from "./lib/config";
import { coversAction, namesPrincipal, statementsOf, type Statement } from "./lib/documents";
import { PURPOSE, PURPOSE_TAG_SCHEMA } from "./lib/purpose";
import { linkOf, ofTypes, purposeOf, TYPES, validateTypes } from "./lib/resources";
import { containsUnknown, deferToUpdate, read, readPath, UNKNOWN } from "./lib/unknowns";
import { EVIDENCE_COMPONENT_SCHEMA, isComponentPrimaryBucket, protectedBuckets } from "./lib/buckets";
import { objectLockProblem } from "./storage";
import { STACK_KIND, STACK_KIND_SCHEMA, STACK_KIND_TAG, stackKindOf, type StackKindConfig } from "./lib/stack-kind";
import { DEFAULT_ENFORCEMENT, type ResourceRule, type RuleConfigSchema, type StackRule } from "./lib/types";
import { asBoolean, asString, type Props } from "./lib/values";

/**
 * The organisation trails of a stack. A trail whose `isOrganizationTrail` is unknown during a preview counts as one
 * (failing closed: the organisation rules then apply to it).
 */
export function organizationTrails(resources: readonly PolicyResource[]): PolicyResource[] {
  return ofTypes(resources, TYPES.trail).filter((t) => {
    const flag = read(t.props, "isOrganizationTrail");
    return flag === UNKNOWN || asBoolean(flag) === true;
  });
}

/**
 * Service control policies that are attached to a target in the same program (joined through the attachment's
 * `policyId`: its property dependencies first, then its known value). `undecided` holds those a preview cannot settle:
 * the attachment's reference cannot be traced, or the policy's type is unknown; they never count as protection.
 */
export function attachedScps(resources: readonly PolicyResource[]): {
  attached: PolicyResource[];
  undecided: PolicyResource[];
} {
  const attachments = ofTypes(resources, TYPES.scpAttachment);
  const attached: PolicyResource[] = [];
  const undecided: PolicyResource[] = [];
  for (const p of ofTypes(resources, TYPES.scp)) {
    const type = read(p.props, "type");
    if (type !== UNKNOWN && (asString(type) ?? "SERVICE_CONTROL_POLICY") !== "SERVICE_CONTROL_POLICY") continue;
    const links = attachments.map((a) => linkOf(a, "policyId", p, TYPES.scp));
    if (type !== UNKNOWN && links.includes("yes")) attached.push(p);
    else if (links.includes("yes") || links.includes("undecided")) undecided.push(p);
  }
  return { attached, undecided };
}

/** What {@link undeniedActions} found. */
export interface UndeniedActions {
  /** Required actions no attached SCP with a known document denies. */
  readonly missing: string[];
  /** An attached SCP whose content is unknown during preview (built from new resources' ARNs), if any. */
  readonly unknownContent?: PolicyResource;
  /** SCPs that may be attached SCPs but a preview cannot tell (see {@link attachedScps}). */
  readonly undecided: PolicyResource[];
  /** Deny statements that would cover a required action but exempt too much to count, with why. */
  readonly exempting: string[];
}

/**
 * Why a Deny statement's condition exempts too many principals to count as protection, or undefined. An SCP deny
 * protects only where it applies: its condition must be nothing but an exemption of named principals
 * (`ArnNotLike`/`ArnNotEquals`/`StringNotLike`/`StringNotEquals` on `aws:PrincipalArn`), each pattern naming a
 * principal (`arn:aws:iam::*:role/FlzDeployment`, `...:role/stacksets-exec-*`), never every role or user
 * (`arn:aws:iam::*:role/*`, `arn:aws:iam::*:*`, `*`). Any other condition (a tag, an account, MFA, a region) limits
 * when the deny applies, so an intruder can step outside it.
 */
export function broadExemption(statement: Statement): string | undefined {
  for (const [operator, block] of Object.entries(statement.condition)) {
    for (const [key, values] of Object.entries(block)) {
      const exemption = /^(ArnNotLike|ArnNotEquals|StringNotLike|StringNotEquals)$/i.test(operator);
      if (!exemption || key.toLowerCase() !== "aws:principalarn")
        return `its condition ${operator} ${key} limits when it applies`;
      const broad = values.find((v) => !namesPrincipal(v));
      if (broad !== undefined) return `it exempts every principal matching ${broad}`;
    }
  }
  return undefined;
}

/** The actions in `required` that no attached SCP denies (optionally only on resources matching `resourceTest`). */
export function undeniedActions(
  resources: readonly PolicyResource[],
  required: readonly string[],
  resourceTest?: (resource: string) => boolean,
): UndeniedActions {
  const { attached, undecided } = attachedScps(resources);
  const unknownContent = attached.find((p) => containsUnknown(read(p.props, "content")));
  const denies = attached
    .filter((p) => p !== unknownContent && !containsUnknown(read(p.props, "content")))
    .flatMap((p) => statementsOf(read(p.props, "content")) ?? [])
    .filter(
      (s) => s.effect === "Deny" && (!resourceTest || s.resources.some(resourceTest) || s.notResources.length > 0),
    );
  const protective = denies.filter((s) => !broadExemption(s));
  const missing = required.filter((action) => !protective.some((s) => coversAction(s, action)));
  const exempting = denies.filter((s) => broadExemption(s) && required.some((a) => coversAction(s, a)));
  return {
    missing,
    unknownContent,
    undecided,
    exempting: exempting.map((s) => `${s.sid ?? "(no Sid)"}: ${broadExemption(s)}`),
  };
}

/**
 * Reports what {@link undeniedActions} found: nothing when every action is denied; the engine's "can't run during
 * preview" when an attached SCP's content is unknown (it names resources that do not exist yet, so no program can
 * show it before deployment, and failing closed would stop every compliant first deployment); otherwise a violation,
 * which says so when some SCPs could not be verified as attached.
 */
function reportUndenied(found: UndeniedActions, report: (message: string) => void, message: string): void {
  if (found.missing.length === 0) return;
  if (found.unknownContent) deferToUpdate(found.unknownContent.props, "content");
  const exempt =
    found.exempting.length > 0 ? ` (not counted, because they exempt too much: ${found.exempting.join("; ")})` : "";
  const unsure =
    found.undecided.length > 0
      ? ` (cannot verify during preview whether ${found.undecided.map((p) => p.name).join(", ")} are attached SCPs: their attachment's policyId or their type is unknown; failing closed)`
      : "";
  report(`${message}${exempt}${unsure}.`);
}

interface TrailScpConfig {
  protectedTrailActions: string[];
}
const TRAIL_SCP_SCHEMA: RuleConfigSchema = {
  properties: {
    protectedTrailActions: {
      type: "array",
      items: { type: "string" },
      default: [
        "cloudtrail:StopLogging",
        "cloudtrail:DeleteTrail",
        "cloudtrail:UpdateTrail",
        "cloudtrail:PutEventSelectors",
      ],
      description: "Actions an attached SCP must deny so member accounts cannot blind the organisation trail.",
    },
  },
};

/** Rules that apply only once an organisation trail exists. */
function requireOrganizationTrail(args: StackValidationArgs): void {
  if (organizationTrails(args.resources).length === 0) args.notApplicable("The program creates no organisation trail.");
}

/** SCPs protect the organisation trail. */
export const scpProtectsOrganizationTrail: StackRule = stackRule({
  name: "scp-protects-organization-trail",
  description:
    "Checks whether, when the program creates an organisation trail, an attached service control policy denies stopping, deleting or changing trails.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps:
    "Create an aws.organizations.Policy (SERVICE_CONTROL_POLICY) denying the listed cloudtrail actions and attach it to the root or target OUs with aws.organizations.PolicyAttachment.",
  configSchema: TRAIL_SCP_SCHEMA,
  validateStack: (args, report) => {
    requireOrganizationTrail(args);
    const { protectedTrailActions } = configOf<TrailScpConfig>(args, TRAIL_SCP_SCHEMA);
    const found = undeniedActions(args.resources, protectedTrailActions);
    reportUndenied(
      found,
      report,
      `No attached SCP denies ${found.missing.join(", ")}: member accounts could blind the organisation trail`,
    );
  },
});

interface RoleScpConfig {
  protectedRoleActions: string[];
}
const ROLE_SCP_SCHEMA: RuleConfigSchema = {
  properties: {
    protectedRoleActions: {
      type: "array",
      items: { type: "string" },
      default: [
        "iam:DeleteRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:DeleteRolePolicy",
      ],
      description:
        "Actions an attached SCP must deny on the forensic roles so member accounts cannot lock responders out.",
    },
  },
};

/** SCPs protect the forensic roles in member accounts. */
export const scpProtectsForensicRoles: StackRule = stackRule({
  name: "scp-protects-forensic-roles",
  description:
    "Checks whether, when the program creates an organisation trail, an attached service control policy denies changing or deleting the forensic roles.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps:
    "Add a Deny statement for the listed iam actions on the forensic role ARNs (e.g. arn:aws:iam::*:role/flz-*) to an attached SCP, excepting the deployment role by aws:PrincipalArn.",
  configSchema: ROLE_SCP_SCHEMA,
  validateStack: (args, report) => {
    requireOrganizationTrail(args);
    const { protectedRoleActions } = configOf<RoleScpConfig>(args, ROLE_SCP_SCHEMA);
    const found = undeniedActions(args.resources, protectedRoleActions, (r) => r === "*" || /:role\//.test(r));
    reportUndenied(
      found,
      report,
      `No attached SCP denies ${found.missing.join(", ")} on role ARNs: member accounts could delete or rewrite the forensic roles`,
    );
  },
});

interface CompleteConfig extends StackKindConfig {
  purposeTagKey: string;
  evidenceComponentTypes: string[];
  minRetentionDays: number;
}
const COMPLETE_SCHEMA: RuleConfigSchema = {
  properties: {
    purposeTagKey: PURPOSE_TAG_SCHEMA,
    evidenceComponentTypes: EVIDENCE_COMPONENT_SCHEMA,
    ...STACK_KIND_SCHEMA,
    minRetentionDays: {
      type: "integer",
      minimum: 1,
      default: 365,
      description: "Shortest default retention for the locked buckets, in days.",
    },
  },
};

/** The parts of a forensic landing zone that a program lacks (a part a preview cannot verify counts as lacking). */
export function missingParts(resources: readonly PolicyResource[], config: CompleteConfig): string[] {
  const missing: string[] = [];
  const trails = organizationTrails(resources);
  if (trails.length === 0) missing.push("an organisation trail (aws.cloudtrail.Trail with isOrganizationTrail: true)");
  const locked = protectedBuckets(resources, config.purposeTagKey, config.evidenceComponentTypes).filter(
    ({ bucket }) => !objectLockProblem(bucket, resources, config.minRetentionDays),
  );
  const receives = (bucket: PolicyResource): boolean =>
    trails.some((t) => linkOf(t, "s3BucketName", bucket, TYPES.bucket) === "yes");
  if (!locked.some(({ bucket }) => receives(bucket)))
    missing.push("a trail bucket under Object Lock COMPLIANCE receiving the organisation trail");
  const isEvidence = (bucket: PolicyResource): boolean =>
    purposeOf(bucket.props as Props, config.purposeTagKey) === PURPOSE.evidenceBucket ||
    (isComponentPrimaryBucket(bucket, config.evidenceComponentTypes) &&
      !trails.some((t) => linkOf(t, "s3BucketName", bucket, TYPES.bucket) !== "no"));
  if (!locked.some(({ bucket }) => isEvidence(bucket))) {
    missing.push(
      `an evidence bucket (tagged ${config.purposeTagKey}=${PURPOSE.evidenceBucket}, or the primary bucket of an evidence component) under Object Lock COMPLIANCE`,
    );
  }
  const signing = ofTypes(resources, TYPES.key).some((k) => {
    const spec = read(k.props, "customerMasterKeySpec");
    return read(k.props, "keyUsage") === "SIGN_VERIFY" && typeof spec === "string" && spec.startsWith("ECC_");
  });
  if (!signing) missing.push("a custody signing key (aws.kms.Key, ECC, SIGN_VERIFY)");
  const stackSets = ofTypes(resources, TYPES.stackSet).filter(
    (s) =>
      read(s.props, "permissionModel") === "SERVICE_MANAGED" &&
      asBoolean(readPath(s.props, "autoDeployment", "enabled")) === true,
  );
  const deployed = stackSets.some((s) =>
    ofTypes(resources, TYPES.stackSetInstance).some((i) => linkOf(i, "stackSetName", s, TYPES.stackSet) === "yes"),
  );
  if (!deployed)
    missing.push(
      "a member-roles StackSet (SERVICE_MANAGED, autoDeployment enabled) with a StackSetInstance targeting OUs",
    );
  return missing;
}

/** A forensic landing zone contains all its parts. */
export const landingZoneComplete: StackRule = stackRule({
  name: "landing-zone-complete",
  description:
    "Checks whether a stack that declares itself a forensic landing zone (stack tag flz:stack-kind=landing-zone, or the ForensicLandingZone component) contains an organisation trail, a locked trail bucket, a locked evidence bucket, a custody signing key and an auto-deploying member-roles StackSet.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps: "Compose ForensicLandingZone, or add the missing parts named in the violation.",
  configSchema: COMPLETE_SCHEMA,
  validateStack: (args, report) => {
    const config = configOf<CompleteConfig>(args, COMPLETE_SCHEMA);
    // Declared, never guessed: an application that tags one bucket for evidence handling is no landing zone.
    if (!stackKindOf(args, config).landingZone)
      args.notApplicable(
        `The stack does not declare itself a landing zone (stack tag ${STACK_KIND_TAG}=${STACK_KIND.landingZone}, or a component of landingZoneComponentTypes).`,
      );
    const missing = missingParts(args.resources, config);
    if (missing.length > 0) report(`The landing zone lacks ${missing.join("; ")}.`);
  },
});

/** AWS's limit on the size of one SCP document, in characters. */
export const SCP_MAX_CHARACTERS = 5120;

/** SCPs fit AWS's size limit (otherwise the create or update fails at deploy time, leaving the old guardrail). */
export const scpSizeLimit: ResourceRule = resourceRule({
  name: "scp-size-limit",
  description: `Checks whether every service control policy's content fits AWS's limit of ${SCP_MAX_CHARACTERS} characters.`,
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "low",
  remediationSteps:
    "Merge statements that share an effect and condition, drop whitespace (AWS counts it), or split the guardrails into two SCPs (five may be attached per target).",
  configSchema: { properties: {} },
  validateResource: validateTypes(TYPES.scp, (props, args, report) => {
    if ((asString(props.type) ?? "SERVICE_CONTROL_POLICY") !== "SERVICE_CONTROL_POLICY")
      args.notApplicable("Not a service control policy.");
    const content = asString(props.content);
    if (content === undefined) return;
    if (content.length > SCP_MAX_CHARACTERS)
      report(
        `content is ${content.length} characters: AWS refuses SCPs over ${SCP_MAX_CHARACTERS}; shorten or split it.`,
      );
  }),
});

/** Every organisation rule. */
export const organizationRules: Array<StackRule | ResourceRule> = [
  scpProtectsOrganizationTrail,
  scpProtectsForensicRoles,
  scpSizeLimit,
  landingZoneComplete,
];
