/**
 * The forensic roles on both sides: in the forensic account, the responder and investigator roles (and a
 * break-glass role behind MFA); in every member account, now and future, the matching member roles, delivered by a
 * service-managed CloudFormation StackSet with auto-deployment so accounts created tomorrow get them without anyone
 * running anything.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { accountRootArn, roleArn } from "./arns";
import {
  breakGlassTrust,
  forensicInvestigatorPermissions,
  forensicResponderPermissions,
  forensicRoleTrust,
  memberRolesTemplate,
  withMemoryCaptureDocument,
} from "./documents";
import { PURPOSE, purposeTags } from "./tags";

/** Service principal that must have trusted access in Organizations for service-managed StackSets. */
export const STACKSETS_SERVICE_PRINCIPAL = "member.org.stacksets.cloudformation.amazonaws.com";

/** Role names, the same defaults as the CLI's and the emulator seed's. */
export const DEFAULT_ROLE_NAMES = {
  forensicResponder: "FlzForensicResponder",
  forensicInvestigator: "FlzForensicInvestigator",
  memberResponder: "FlzMemberResponder",
  memberInvestigator: "FlzMemberInvestigator",
  breakGlass: "FlzBreakGlass",
} as const;

/** Names of the five roles. */
export interface RoleNames {
  /** Forensic-account role that captures evidence and contains; assumes the member responder roles. */
  readonly forensicResponder: string;
  /** Forensic-account role that reads trail logs and evidence; assumes the member investigator roles. */
  readonly forensicInvestigator: string;
  /** Member-account role for capture and containment; the same name in every account. */
  readonly memberResponder: string;
  /** Member-account read-only role; the same name in every account. */
  readonly memberInvestigator: string;
  /** Forensic-account role for when everything else fails; MFA required. */
  readonly breakGlass: string;
}

/** Arguments of {@link MemberRoles}. */
export interface MemberRolesArgs {
  /** Provider that reaches the forensic account (any region: IAM is global). Required. */
  readonly forensicProvider: aws.Provider;
  /** The forensic account's ID. Required. */
  readonly forensicAccountId: pulumi.Input<string>;
  /** The organisation: forensic roles may be assumed only by its principals. Required. */
  readonly organizationId: pulumi.Input<string>;
  /**
   * OUs (or the root `r-...`) whose accounts get the member roles, including accounts added later. Required: an
   * empty list would silently leave every member account without roles.
   */
  readonly targetOrganizationalUnitIds: readonly string[];
  /** Region of the single StackSet instance (IAM is global, so one region suffices): the home region. Required. */
  readonly stackSetRegion: string;
  /** Role names. Default {@link DEFAULT_ROLE_NAMES}, which the CLI assumes unless told otherwise. */
  readonly roleNames?: Partial<RoleNames>;
  /**
   * Principals that may assume the forensic responder role, named (roles or users). Required and non-empty: the
   * responder alone writes and signs custody records, so "any principal of the forensic account" (its root) would make
   * every administrator of that account a possible signer (docs/threat-model.md).
   */
  readonly responderPrincipalArns: readonly string[];
  /**
   * Roles of the forensic account's response automation (`ResponseAutomation`) that act as the responder, as `flz`
   * does. Given as the roles' outputs, so the responder's trust is written after they exist (IAM refuses unknown
   * principals). Default none.
   */
  readonly automationRoleArns?: pulumi.Input<string[]>;
  /** Principals that may assume the forensic investigator role. Default: the forensic account's root (as above). */
  readonly investigatorPrincipalArns?: readonly string[];
  /** Principals that may assume the break-glass role, with MFA. Default: the forensic account's root (as above). */
  readonly breakGlassPrincipalArns?: readonly string[];
  /** Oldest MFA sign-in the break-glass role accepts, seconds. Default 3600. */
  readonly breakGlassMaxMfaAgeSeconds?: number;
  /** Permissions of the break-glass role. Default `AdministratorAccess` in the forensic account only: it exists to repair the other roles. */
  readonly breakGlassPolicyArns?: readonly string[];
  /** Longest session of every role, seconds. Default 3600 (the IAM minimum): a stolen session is good for an hour at most. */
  readonly maxSessionSeconds?: number;
  /**
   * Evidence key ARNs per governed region: member responders copy snapshots under them. Default: every key of the
   * forensic account tagged `flz:purpose=evidence-key` (the tag {@link ForensicKeys} sets), which is known before the
   * keys exist, so the role policies and the StackSet template are checked at a first `pulumi preview`. The guardrail
   * SCP freezes that tag (see `documents/keys.ts` for why the pattern is as tight as the ARNs).
   */
  readonly evidenceKeyArns?: pulumi.Input<Record<string, string>>;
  /** The custody signing key: only the forensic responder signs. Default: the forensic account's key tagged `custody-signing`. */
  readonly signingKeyArn?: pulumi.Input<string>;
  /** The evidence bucket (responder writes, investigator reads). Required. */
  readonly evidenceBucketArn: pulumi.Input<string>;
  /** The trail bucket (investigator reads). Required. */
  readonly trailBucketArn: pulumi.Input<string>;
  /** The trail key (investigator decrypts trail logs). Default: the forensic account's key tagged `trail-key`. */
  readonly trailKeyArn?: pulumi.Input<string>;
  /**
   * The organisation's enabled service-access principals (from `getOrganization`). When given, deployment stops
   * with a clear error if trusted access for StackSets is off, instead of a StackSet that never deploys.
   */
  readonly enabledServicePrincipals?: pulumi.Input<string[]>;
  /**
   * Bucket ARN where the investigation workspace writes Athena query results; the forensic investigator may write
   * there (under `athenaResultsPrefix`) and nowhere else. Default: none (no Athena results are written).
   */
  readonly athenaResultsBucketArn?: pulumi.Input<string>;
  /** Key prefix of Athena results in `athenaResultsBucketArn`. Default: the whole bucket. */
  readonly athenaResultsPrefix?: string;
  /**
   * SHA-256 (lower-case hex) of the memory acquisition tool (AVML by default) staged at `tools/avml` in the evidence
   * bucket. When given, the StackSet also deploys the `FLZ-CaptureMemory` SSM document, with this hash pinned in its
   * content, that `flz capture memory` runs (docs/memory.md). Default: none, and no memory capture.
   */
  readonly memoryToolSha256?: string;
  /** Name of the StackSet. Default `flz-member-roles`. */
  readonly stackSetName?: string;
  /**
   * How the StackSet instance operation rolls out to the accounts of the target OUs. Default
   * {@link DEFAULT_INSTANCE_OPERATION_PREFERENCES}: a quarter of the accounts at a time, in parallel regions, tolerating
   * 10% failed accounts, with soft failure tolerance so one slow account does not hold back the rest.
   */
  readonly instanceOperationPreferences?: aws.types.input.cloudformation.StackSetInstanceOperationPreferences;
  /**
   * Create/update/delete timeout of the StackSet instance operation. Default `2h`: the provider's own default is 30
   * minutes (Terraform AWS provider, `aws_cloudformation_stack_set_instance`, Timeouts), too short for an organisation
   * of hundreds of accounts, and a timed-out operation leaves the Pulumi state unsure of what was deployed.
   */
  readonly instanceTimeout?: string;
}

/**
 * Default rollout of the member-role StackSet instance (CloudFormation `StackSetOperationPreferences`): 25% of the
 * accounts at a time, up to 10% of them allowed to fail, regions in parallel, `SOFT_FAILURE_TOLERANCE` (concurrency is
 * kept even as failures accumulate, within the tolerance; CloudFormation user guide, "Concurrency mode").
 */
export const DEFAULT_INSTANCE_OPERATION_PREFERENCES: aws.types.input.cloudformation.StackSetInstanceOperationPreferences =
  {
    failureTolerancePercentage: 10,
    maxConcurrentPercentage: 25,
    regionConcurrencyType: "PARALLEL",
    concurrencyMode: "SOFT_FAILURE_TOLERANCE",
  };

/** Key ARNs given, or `undefined` (the builders then name the keys by purpose tag). */
function optionalOutput<T>(value: pulumi.Input<T> | undefined): pulumi.Output<pulumi.Unwrap<T> | undefined> {
  return value === undefined ? pulumi.output(undefined) : pulumi.output(value);
}

/** Throws a one-line error if trusted access for service-managed StackSets is not enabled (a pure check). */
export function assertStackSetsTrustedAccess(enabledServicePrincipals: readonly string[]): void {
  if (!enabledServicePrincipals.includes(STACKSETS_SERVICE_PRINCIPAL)) {
    throw new Error(
      `trusted access for CloudFormation StackSets is not enabled in the organisation (${STACKSETS_SERVICE_PRINCIPAL} missing): ` +
        "run `aws organizations enable-aws-service-access --service-principal " +
        `${STACKSETS_SERVICE_PRINCIPAL}\` from the management account, or enable it in the CloudFormation console`,
    );
  }
}

/** The forensic roles and the member-role StackSet. */
export class MemberRoles extends pulumi.ComponentResource {
  /** ARN of the forensic responder role. */
  public readonly forensicResponderRoleArn: pulumi.Output<string>;
  /** ARN of the forensic investigator role. */
  public readonly forensicInvestigatorRoleArn: pulumi.Output<string>;
  /** ARN of the break-glass role. */
  public readonly breakGlassRoleArn: pulumi.Output<string>;
  /** Name of the member responder role (the same in every member account). */
  public readonly memberResponderRoleName: pulumi.Output<string>;
  /** Name of the member investigator role. */
  public readonly memberInvestigatorRoleName: pulumi.Output<string>;
  /** Name of the StackSet. */
  public readonly stackSetName: pulumi.Output<string>;
  /**
   * The forensic responder and investigator roles, for `dependsOn`: policies that name them by an ARN built from their
   * names (known at preview) must still be created after them (KMS and IAM reject principals that do not exist).
   */
  public readonly forensicRoles: readonly aws.iam.Role[];

  constructor(name: string, args: MemberRolesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flz:iam:MemberRoles", name, {}, opts);
    if (args.responderPrincipalArns.length === 0) {
      throw new Error(
        "MemberRoles: responderPrincipalArns is empty; name the roles or users that may act as the forensic responder",
      );
    }
    if (args.targetOrganizationalUnitIds.length === 0) {
      throw new Error(
        "MemberRoles: targetOrganizationalUnitIds is empty; name at least one OU (ou-...) or the root (r-...)",
      );
    }
    const names: RoleNames = { ...DEFAULT_ROLE_NAMES, ...args.roleNames };
    const maxSessionSeconds = args.maxSessionSeconds ?? 3600;
    const forensic = { parent: this, provider: args.forensicProvider };
    const principals = (given: readonly string[] | undefined): pulumi.Output<string[]> =>
      given && given.length > 0
        ? pulumi.output([...given])
        : pulumi.output(args.forensicAccountId).apply((id) => [accountRootArn(id)]);
    const responderPrincipals = (given: readonly string[]): pulumi.Output<string[]> =>
      pulumi
        .all([principals(given), args.automationRoleArns ?? []])
        .apply(([named, automation]) => [...named, ...automation]);

    // The responder and the investigator differ only in name, purpose and who may assume them.
    const forensicRole = (
      suffix: string,
      roleName: string,
      description: string,
      trusted: pulumi.Output<string[]>,
    ): aws.iam.Role =>
      new aws.iam.Role(
        `${name}-${suffix}`,
        {
          name: roleName,
          description,
          tags: purposeTags(PURPOSE.forensicRole),
          maxSessionDuration: maxSessionSeconds,
          assumeRolePolicy: pulumi
            .all([trusted, args.organizationId])
            .apply(([trustedPrincipalArns, organizationId]) =>
              JSON.stringify(forensicRoleTrust({ trustedPrincipalArns, organizationId })),
            ),
        },
        forensic,
      );
    const responder = forensicRole(
      "forensic-responder",
      names.forensicResponder,
      "flz: captures evidence and contains incidents through the member responder roles",
      responderPrincipals(args.responderPrincipalArns),
    );
    const investigator = forensicRole(
      "forensic-investigator",
      names.forensicInvestigator,
      "flz: reads trail logs and evidence, and the member accounts read-only",
      principals(args.investigatorPrincipalArns),
    );
    const breakGlass = new aws.iam.Role(
      `${name}-break-glass`,
      {
        name: names.breakGlass,
        description: "flz: break-glass access to the forensic account; MFA required",
        tags: purposeTags(PURPOSE.breakGlassRole),
        maxSessionDuration: maxSessionSeconds,
        assumeRolePolicy: pulumi
          .all([principals(args.breakGlassPrincipalArns), args.organizationId])
          .apply(([trustedPrincipalArns, organizationId]) =>
            JSON.stringify(
              breakGlassTrust({
                trustedPrincipalArns,
                maxMfaAgeSeconds: args.breakGlassMaxMfaAgeSeconds ?? 3600,
                organizationId,
              }),
            ),
          ),
      },
      forensic,
    );
    for (const [index, policyArn] of (
      args.breakGlassPolicyArns ?? ["arn:aws:iam::aws:policy/AdministratorAccess"]
    ).entries()) {
      new aws.iam.RolePolicyAttachment(`${name}-break-glass-${index}`, { role: breakGlass.name, policyArn }, forensic);
    }

    const evidenceKeyList = optionalOutput(args.evidenceKeyArns).apply((arns) =>
      arns === undefined ? undefined : Object.values(arns),
    );
    const keysByTag = pulumi.output(args.forensicAccountId).apply((accountId) => ({ accountId }));
    new aws.iam.RolePolicy(
      `${name}-forensic-responder`,
      {
        role: responder.name,
        name: "flz-forensic-responder",
        policy: pulumi
          .all([
            args.evidenceBucketArn,
            evidenceKeyList,
            optionalOutput(args.signingKeyArn),
            args.organizationId,
            keysByTag,
          ])
          .apply(([evidenceBucketArn, evidenceKeyArns, signingKeyArn, organizationId, byTag]) =>
            JSON.stringify(
              forensicResponderPermissions({
                memberResponderRoleName: names.memberResponder,
                evidenceBucketArn,
                evidenceKeyArns,
                signingKeyArn,
                keysByTag: byTag,
                organizationId,
              }),
            ),
          ),
      },
      forensic,
    );
    new aws.iam.RolePolicy(
      `${name}-forensic-investigator`,
      {
        role: investigator.name,
        name: "flz-forensic-investigator",
        policy: pulumi
          .all([
            args.trailBucketArn,
            args.evidenceBucketArn,
            optionalOutput(args.trailKeyArn),
            evidenceKeyList,
            args.organizationId,
            args.athenaResultsBucketArn,
            keysByTag,
          ])
          .apply(
            ([trailBucketArn, evidenceBucketArn, trailKeyArn, evidenceKeyArns, organizationId, resultsArn, byTag]) =>
              JSON.stringify(
                forensicInvestigatorPermissions({
                  memberInvestigatorRoleName: names.memberInvestigator,
                  trailBucketArn,
                  evidenceBucketArn,
                  trailKeyArn,
                  evidenceKeyArns,
                  // Keys not given by ARN are named by tag; the investigator always decrypts evidence.
                  keysByTag: trailKeyArn === undefined || evidenceKeyArns === undefined ? byTag : undefined,
                  organizationId,
                  athenaResultsBucketArn: resultsArn,
                  athenaResultsPrefix: resultsArn === undefined ? undefined : args.athenaResultsPrefix,
                }),
              ),
          ),
      },
      forensic,
    );

    // The member roles trust the forensic roles by ARN. The template builds those ARNs from the forensic account and
    // the role names, so it is known at a first preview (and the pack checks the member roles then); `dependsOn` keeps
    // the StackSet after the roles it trusts (IAM rejects a trust policy naming a role that does not exist).
    const templateBody = pulumi
      .all([evidenceKeyList, args.forensicAccountId, args.enabledServicePrincipals ?? [STACKSETS_SERVICE_PRINCIPAL]])
      .apply(([evidenceKeyArns, forensicAccountId, enabled]) => {
        assertStackSetsTrustedAccess(enabled);
        const template = memberRolesTemplate({
          forensicResponderRoleArn: roleArn(forensicAccountId, names.forensicResponder),
          forensicInvestigatorRoleArn: roleArn(forensicAccountId, names.forensicInvestigator),
          responderRoleName: names.memberResponder,
          investigatorRoleName: names.memberInvestigator,
          evidenceKeyArns,
          keysByTag: evidenceKeyArns === undefined ? { accountId: forensicAccountId } : undefined,
          maxSessionSeconds,
          forensicAccountId,
        });
        const memoryToolSha256 = args.memoryToolSha256;
        return JSON.stringify(
          memoryToolSha256 ? withMemoryCaptureDocument(template, { toolSha256: memoryToolSha256 }) : template,
        );
      });
    const stackSet = new aws.cloudformation.StackSet(
      `${name}-stackset`,
      {
        name: args.stackSetName ?? "flz-member-roles",
        description: "flz member roles (responder, investigator), trusted only by the forensic account's roles",
        permissionModel: "SERVICE_MANAGED",
        // Accounts that join a target OU get the roles automatically; accounts that leave lose them.
        autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
        capabilities: ["CAPABILITY_NAMED_IAM"],
        managedExecution: { active: true },
        operationPreferences: {
          failureTolerancePercentage: 10,
          maxConcurrentPercentage: 25,
          regionConcurrencyType: "PARALLEL",
        },
        templateBody,
      },
      {
        parent: this,
        ignoreChanges: ["administrationRoleArn"],
        dependsOn: [responder, investigator],
        // Updating the template rolls out to every account: the provider's 30-minute default is too short at scale.
        customTimeouts: { update: args.instanceTimeout ?? "2h" },
      },
    );
    new aws.cloudformation.StackSetInstance(
      `${name}-instances`,
      {
        stackSetName: stackSet.name,
        stackSetInstanceRegion: args.stackSetRegion,
        deploymentTargets: { organizationalUnitIds: [...args.targetOrganizationalUnitIds] },
        // Removing the instances removes the member roles: nothing is left trusting a forensic account that is gone.
        retainStack: false,
        operationPreferences: args.instanceOperationPreferences ?? DEFAULT_INSTANCE_OPERATION_PREFERENCES,
      },
      {
        parent: this,
        customTimeouts: {
          create: args.instanceTimeout ?? "2h",
          update: args.instanceTimeout ?? "2h",
          delete: args.instanceTimeout ?? "2h",
        },
      },
    );

    this.forensicResponderRoleArn = responder.arn;
    this.forensicInvestigatorRoleArn = investigator.arn;
    this.breakGlassRoleArn = breakGlass.arn;
    this.memberResponderRoleName = pulumi.output(names.memberResponder);
    this.memberInvestigatorRoleName = pulumi.output(names.memberInvestigator);
    this.stackSetName = stackSet.name;
    this.forensicRoles = [responder, investigator];
    this.registerOutputs({
      forensicResponderRoleArn: this.forensicResponderRoleArn,
      forensicInvestigatorRoleArn: this.forensicInvestigatorRoleArn,
      breakGlassRoleArn: this.breakGlassRoleArn,
      memberResponderRoleName: this.memberResponderRoleName,
      memberInvestigatorRoleName: this.memberInvestigatorRoleName,
      stackSetName: this.stackSetName,
    });
  }
}
