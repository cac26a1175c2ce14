/**
 * Two part-two parts of {@link ForensicLandingZone} whose wiring is long enough to read on its own: detection
 * delegation (with its administrator providers and the trusted-access warning) and the incident alarms (one set per
 * region, the global-event region included). Plain functions that create components under the landing zone.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DetectionDelegation } from "./DetectionDelegation";
import type { ForensicAccount } from "./forensicAccount";
import type { GuardrailPolicies } from "./GuardrailPolicies";
import { IncidentAlarms, type AlarmSubscription } from "./IncidentAlarms";
import { missingDetectionTrustedAccess, type DetectionSettings } from "./landingZoneArgs";
import { GLOBAL_EVENTS_REGION } from "./landingZoneSettings";

/** What the detection part needs from the landing zone. */
export interface DetectionContext {
  /** The detection settings. */
  readonly settings: DetectionSettings;
  /** Governed regions. */
  readonly regions: readonly string[];
  /** Home region (Security Hub's central configuration). */
  readonly homeRegion: string;
  /** Admin role name the deployment assumes in a named administrator account. */
  readonly adminRoleName: string;
  /** Management-account providers by region. */
  readonly managementProviders: Readonly<Record<string, aws.Provider>>;
  /** The forensic account (default administrator). */
  readonly forensicAccount: ForensicAccount;
  /** The organisation, as read from Organizations. */
  readonly organization: pulumi.Output<aws.organizations.GetOrganizationResult>;
}

/** Detection delegation to the forensic account or a named security account, in every governed region. */
export function detectionPart(parent: pulumi.Resource, name: string, ctx: DetectionContext): DetectionDelegation {
  const { settings, organization } = ctx;
  const adminAccountId = settings.adminAccountId;
  const adminProviders: Record<string, aws.Provider> = {};
  for (const region of ctx.regions) {
    adminProviders[region] =
      adminAccountId === undefined
        ? ctx.forensicAccount.providerFor(region)
        : new aws.Provider(
            `${name}-detection-admin-${region}`,
            {
              region,
              allowedAccountIds: [adminAccountId],
              assumeRoles: [
                { roleArn: `arn:aws:iam::${adminAccountId}:role/${ctx.adminRoleName}`, sessionName: "flz-deploy" },
              ],
            },
            { parent },
          );
  }
  organization.awsServiceAccessPrincipals.apply((enabled) => {
    const missing = missingDetectionTrustedAccess(settings, enabled ?? []);
    // The services' own delegation APIs enable trusted access when the deployment may call
    // organizations:EnableAWSServiceAccess; say so up front rather than fail half-way through a deployment.
    if (missing.length > 0)
      void pulumi.log.warn(
        `trusted access is not enabled for ${missing.join(", ")}: the detection delegation needs it; run \`aws organizations enable-aws-service-access --service-principal <principal>\` for each from the management account, or let the deployment role call organizations:EnableAWSServiceAccess`,
        parent,
      );
    return missing;
  });
  return new DetectionDelegation(
    `${name}-detection`,
    {
      regions: [...ctx.regions],
      homeRegion: ctx.homeRegion,
      managementProviders: { ...ctx.managementProviders },
      adminProviders,
      adminAccountId: adminAccountId ?? ctx.forensicAccount.accountId,
      guardDuty: settings.guardDuty,
      securityHub: settings.securityHub,
      detective: settings.detective,
      adoptGuardDutyDetector: settings.adoptGuardDutyDetector,
      adoptSecurityHub: settings.adoptSecurityHub,
      detectiveGraphArns: settings.detectiveGraphArns,
      organizationRootId: organization.roots.apply((roots) => roots[0]?.id ?? ""),
      existingAccounts: organization.accounts.apply((accounts) =>
        (accounts ?? []).map((a) => ({ id: a.id, email: a.email })),
      ),
    },
    { parent },
  );
}

/** What the alarms part needs from the landing zone. */
export interface AlarmsContext {
  /** Regions that get alarms: the governed ones, and us-east-1 for the global services. */
  readonly regions: readonly string[];
  /** Home region (the buckets and the trail are there). */
  readonly homeRegion: string;
  /** The forensic account and its providers. */
  readonly forensicAccount: ForensicAccount;
  /** Management-account providers by region (forwarding). */
  readonly managementProviders: Readonly<Record<string, aws.Provider>>;
  /** The management account. */
  readonly managementAccountId: pulumi.Input<string>;
  /** The break-glass role. */
  readonly breakGlassRoleArn: pulumi.Input<string>;
  /** The deployment principal in the forensic account: every assumption alarms. */
  readonly deploymentPrincipalArn: pulumi.Input<string>;
  /** The evidence and trail buckets (their access-log buckets are added). */
  readonly protectedBucketNames: readonly pulumi.Output<string>[];
  /** The roles whose changes alarm. */
  readonly protectedRoleNames: readonly string[];
  /** The guardrail policies whose detachment alarms, when they exist. */
  readonly guardrails?: GuardrailPolicies;
  /** Subscriptions to every topic. */
  readonly subscriptions?: readonly AlarmSubscription[];
}

/**
 * The prefix of every alarm component's name, and so of its rules' and topic's names (`IncidentAlarms`): the
 * alarm-protection SCP names them by it (`GuardrailPolicies`' `alarmNamePrefix`).
 */
export function alarmNamePrefix(name: string): string {
  return `${name}-alarms-`;
}

/**
 * The incident alarms: what AWS cannot prevent (the management account, which no SCP or RCP binds), they detect:
 * every change to the forensic buckets, keys and roles, every use of the deployment role, and every Organizations
 * change of the guardrails or the forensic account (docs/threat-model.md, "Detective controls").
 */
export function alarmsPart(parent: pulumi.Resource, name: string, ctx: AlarmsContext): Record<string, IncidentAlarms> {
  const guardrails = ctx.guardrails;
  const policyIds = guardrails
    ? pulumi
        .all([
          guardrails.protectionPolicyId,
          guardrails.workloadPolicyId,
          guardrails.resourceControlPolicyId,
          guardrails.alarmsPolicyId,
          guardrails.automationPolicyIds,
        ])
        .apply(([protection, workload, rcp, alarms, automation]) =>
          [protection, workload, rcp, alarms, ...automation].filter((id) => id !== ""),
        )
    : pulumi.output([] as string[]);
  const alarms: Record<string, IncidentAlarms> = {};
  for (const region of ctx.regions) {
    const atHome = region === ctx.homeRegion;
    const global = region === GLOBAL_EVENTS_REGION;
    alarms[region] = new IncidentAlarms(
      `${alarmNamePrefix(name)}${region}`,
      {
        provider: ctx.forensicAccount.providerFor(region),
        // Built from the name: the rule's event pattern is known at a first preview, and needs no role to exist.
        breakGlassRoleArn: ctx.breakGlassRoleArn,
        watchedRoleArns: [ctx.deploymentPrincipalArn],
        // The trail is managed in the home region: forward its changes from the management account there; the
        // Organizations events arrive in us-east-1: forward those there.
        trailChanges: atHome,
        managementProvider: atHome || global ? ctx.managementProviders[region] : undefined,
        managementAccountId: atHome || global ? ctx.managementAccountId : undefined,
        protectedBucketNames: atHome
          ? [...ctx.protectedBucketNames, ...ctx.protectedBucketNames.map((b) => b.apply((n) => `${n}-logs`))]
          : undefined,
        protectedKeys: true,
        globalServiceEvents: global,
        protectedRoleNames: global ? [...new Set(ctx.protectedRoleNames)] : undefined,
        organizationGuardrails: global
          ? pulumi
              .all([policyIds, ctx.forensicAccount.accountId])
              .apply(([ids, forensicAccountId]) => ({ policyIds: ids, forensicAccountId }))
          : undefined,
        subscriptions: ctx.subscriptions ? [...ctx.subscriptions] : undefined,
      },
      { parent },
    );
  }
  return alarms;
}
