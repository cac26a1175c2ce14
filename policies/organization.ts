/**
 * Organisation rules (stack rules): once a program creates an organisation trail, service control policies must stop
 * member accounts from switching it off or tampering with the forensic roles; and a program that is a forensic
 * landing zone must contain every part an investigation depends on.
 */
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { configOf } from "./lib/config";
import { coversAction, statementsOf } from "./lib/documents";
import { PURPOSE, PURPOSE_TAG_SCHEMA } from "./lib/purpose";
import { ofTypes, purposeOf, refersTo, TYPES, validateTypes } from "./lib/resources";
import { EVIDENCE_COMPONENT_SCHEMA, isComponentPrimaryBucket, objectLockProblem, protectedBuckets } from "./storage";
import { DEFAULT_ENFORCEMENT, type ResourceRule, type RuleConfigSchema, type StackRule } from "./lib/types";
import { asBoolean, asRecord, asString, type Props } from "./lib/values";

/** The organisation trails of a stack. */
export function organizationTrails(resources: readonly PolicyResource[]): PolicyResource[] {
  return ofTypes(resources, TYPES.trail).filter((t) => asBoolean((t.props as Props).isOrganizationTrail) === true);
}

/** Service control policies that are attached to a target in the same program. */
export function attachedScps(resources: readonly PolicyResource[]): PolicyResource[] {
  const attachments = ofTypes(resources, TYPES.scpAttachment);
  return ofTypes(resources, TYPES.scp).filter(
    (p) =>
      (asString((p.props as Props).type) ?? "SERVICE_CONTROL_POLICY") === "SERVICE_CONTROL_POLICY" &&
      attachments.some((a) => refersTo((a.props as Props).policyId, p)),
  );
}

/** The actions in `required` that no attached SCP denies (optionally only on resources matching `resourceTest`). */
export function undeniedActions(
  resources: readonly PolicyResource[],
  required: readonly string[],
  resourceTest?: (resource: string) => boolean,
): string[] {
  const denies = attachedScps(resources)
    .flatMap((p) => statementsOf((p.props as Props).content) ?? [])
    .filter(
      (s) => s.effect === "Deny" && (!resourceTest || s.resources.some(resourceTest) || s.notResources.length > 0),
    );
  return required.filter((action) => !denies.some((s) => coversAction(s, action)));
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
export const scpProtectsOrganizationTrail: StackRule = {
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
    const missing = undeniedActions(args.resources, protectedTrailActions);
    if (missing.length > 0)
      report(`No attached SCP denies ${missing.join(", ")}: member accounts could blind the organisation trail.`);
  },
};

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
export const scpProtectsForensicRoles: StackRule = {
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
    const missing = undeniedActions(args.resources, protectedRoleActions, (r) => r === "*" || /:role\//.test(r));
    if (missing.length > 0)
      report(
        `No attached SCP denies ${missing.join(", ")} on role ARNs: member accounts could delete or rewrite the forensic roles.`,
      );
  },
};

interface CompleteConfig {
  purposeTagKey: string;
  evidenceComponentTypes: string[];
  componentTypePrefix: string;
  minRetentionDays: number;
}
const COMPLETE_SCHEMA: RuleConfigSchema = {
  properties: {
    purposeTagKey: PURPOSE_TAG_SCHEMA,
    evidenceComponentTypes: EVIDENCE_COMPONENT_SCHEMA,
    componentTypePrefix: {
      type: "string",
      default: "flz:",
      description: "Component type prefix that marks a program as a forensic landing zone.",
    },
    minRetentionDays: {
      type: "integer",
      minimum: 1,
      default: 365,
      description: "Shortest default retention for the locked buckets, in days.",
    },
  },
};

/** Whether the program is a forensic landing zone: it uses the landing zone's components or tags forensic resources. */
export function isLandingZone(resources: readonly PolicyResource[], config: CompleteConfig): boolean {
  return resources.some(
    (r) =>
      r.type.startsWith(config.componentTypePrefix) || purposeOf(r.props as Props, config.purposeTagKey) !== undefined,
  );
}

/** The parts of a forensic landing zone that a program lacks. */
export function missingParts(resources: readonly PolicyResource[], config: CompleteConfig): string[] {
  const missing: string[] = [];
  const trails = organizationTrails(resources);
  if (trails.length === 0) missing.push("an organisation trail (aws.cloudtrail.Trail with isOrganizationTrail: true)");
  const locked = protectedBuckets(resources, config.purposeTagKey, config.evidenceComponentTypes).filter(
    ({ bucket }) => !objectLockProblem(bucket, resources, config.minRetentionDays),
  );
  const trailBucketLocked = locked.some(({ bucket }) =>
    trails.some((t) => refersTo((t.props as Props).s3BucketName, bucket)),
  );
  if (!trailBucketLocked) missing.push("a trail bucket under Object Lock COMPLIANCE receiving the organisation trail");
  const isEvidence = (bucket: PolicyResource): boolean =>
    purposeOf(bucket.props as Props, config.purposeTagKey) === PURPOSE.evidenceBucket ||
    (isComponentPrimaryBucket(bucket, config.evidenceComponentTypes) &&
      !trails.some((t) => refersTo((t.props as Props).s3BucketName, bucket)));
  if (!locked.some(({ bucket }) => isEvidence(bucket))) {
    missing.push(
      `an evidence bucket (tagged ${config.purposeTagKey}=${PURPOSE.evidenceBucket}, or the primary bucket of an evidence component) under Object Lock COMPLIANCE`,
    );
  }
  const signing = ofTypes(resources, TYPES.key).some(
    (k) =>
      asString((k.props as Props).keyUsage) === "SIGN_VERIFY" &&
      asString((k.props as Props).customerMasterKeySpec)?.startsWith("ECC_"),
  );
  if (!signing) missing.push("a custody signing key (aws.kms.Key, ECC, SIGN_VERIFY)");
  const stackSets = ofTypes(resources, TYPES.stackSet).filter(
    (s) =>
      asString((s.props as Props).permissionModel) === "SERVICE_MANAGED" &&
      asBoolean(asRecord((s.props as Props).autoDeployment)?.enabled) === true,
  );
  const deployed = stackSets.some((s) =>
    ofTypes(resources, TYPES.stackSetInstance).some((i) => refersTo((i.props as Props).stackSetName, s)),
  );
  if (!deployed)
    missing.push(
      "a member-roles StackSet (SERVICE_MANAGED, autoDeployment enabled) with a StackSetInstance targeting OUs",
    );
  return missing;
}

/** A forensic landing zone contains all its parts. */
export const landingZoneComplete: StackRule = {
  name: "landing-zone-complete",
  description:
    "Checks whether a program that is a forensic landing zone (uses flz: components or purpose tags) contains an organisation trail, a locked trail bucket, a locked evidence bucket, a custody signing key and an auto-deploying member-roles StackSet.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps: "Compose ForensicLandingZone, or add the missing parts named in the violation.",
  configSchema: COMPLETE_SCHEMA,
  validateStack: (args, report) => {
    const config = configOf<CompleteConfig>(args, COMPLETE_SCHEMA);
    if (!isLandingZone(args.resources, config)) args.notApplicable("The program is not a forensic landing zone.");
    const missing = missingParts(args.resources, config);
    if (missing.length > 0) report(`The landing zone lacks ${missing.join("; ")}.`);
  },
};

/** AWS's limit on the size of one SCP document, in characters. */
export const SCP_MAX_CHARACTERS = 5120;

/** SCPs fit AWS's size limit (otherwise the create or update fails at deploy time, leaving the old guardrail). */
export const scpSizeLimit: ResourceRule = {
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
};

/** Every organisation rule. */
export const organizationRules: Array<StackRule | ResourceRule> = [
  scpProtectsOrganizationTrail,
  scpProtectsForensicRoles,
  scpSizeLimit,
  landingZoneComplete,
];
