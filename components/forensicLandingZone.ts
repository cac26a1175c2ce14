/**
 * The whole forensic landing zone from one typed configuration: the forensic account, its keys, the trail and
 * evidence buckets, the forensic and member roles, the organisation trail, EBS encryption by default, and the
 * switchable part-two parts (guardrail SCPs, detection delegation, investigation workspace, forensic VPC, alarms),
 * wired in the order AWS requires.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { bucketArn, roleArn, trailArn } from "./arns";
import { EvidenceBucket } from "./evidenceBucket";
import { ForensicAccount, ForensicAccountSource } from "./forensicAccount";
import { ForensicKeys } from "./forensicKeys";
import { DEFAULT_ROLE_NAMES, MemberRoles, RoleNames } from "./memberRoles";
import { AdvancedEventSelector, OrganizationTrail } from "./organizationTrail";
import { DetectionDelegation } from "./DetectionDelegation";
import { ForensicVpc } from "./ForensicVpc";
import { GuardrailPolicies } from "./GuardrailPolicies";
import { AlarmSubscription, IncidentAlarms } from "./IncidentAlarms";
import { InvestigationWorkspace } from "./InvestigationWorkspace";
import type { ForensicResourceProtection } from "./documents/rcp";
import { deploymentPrincipalIn, GLOBAL_EVENTS_REGION, trustedRoleNames, trustedRolesIn } from "./landingZoneSettings";

/** Guardrail SCPs (see {@link GuardrailPolicies}). */
export interface GuardrailSettings {
  /** Create and attach the forensic protection SCP. Default true: without it a member administrator can blind the trail or lock responders out. */
  readonly enabled?: boolean;
  /** Root or OU IDs the protection SCP is attached to. Default: the organisation root, so the forensic account and accounts moved between OUs stay covered. */
  readonly targetIds?: readonly string[];
  /**
   * Also attach the workload baseline (IMDSv2 on launch, no IMDSv1 credentials, no unencrypted volumes). Default
   * false: it changes what every workload may do, so an organisation opts in once its workloads meet it.
   */
  readonly workloadBaseline?: boolean;
  /** Root or OU IDs of the workload baseline. Default: `targetIds`. */
  readonly workloadTargetIds?: readonly string[];
  /**
   * Root or OU IDs the evidence-protection RCP (`flz-protect-evidence`) is attached to. Default: `targetIds`. It must
   * sit above the forensic account; the RESOURCE_CONTROL_POLICY type must be enabled on the root.
   */
  readonly resourceControlTargetIds?: readonly string[];
}

/** Detection delegation (see {@link DetectionDelegation}); every governed region. */
export interface DetectionSettings {
  /** Delegate GuardDuty, auto-enable for all members. Default true (its findings drive the alarms). */
  readonly guardDuty?: boolean;
  /** Delegate Security Hub, auto-enable with the default standards. Default true. */
  readonly securityHub?: boolean;
  /** Delegate Detective, auto-enable members into the graph. Default true. */
  readonly detective?: boolean;
  /** Delegated administrator account. Default: the forensic account. Another account is reached through `forensicAccountAdminRoleName` there. */
  readonly adminAccountId?: string;
  /** Adopt the GuardDuty detector that already exists in the administrator account. Default false (one is created). */
  readonly adoptGuardDutyDetector?: boolean;
  /** Adopt Security Hub already enabled in the administrator account. Default false (it is enabled). */
  readonly adoptSecurityHub?: boolean;
  /** Existing Detective behaviour graphs of the administrator account, by region, to adopt. Default none (created). */
  readonly detectiveGraphArns?: Readonly<Record<string, string>>;
}

/** Investigation workspace (see {@link InvestigationWorkspace}). */
export interface InvestigationSettings {
  /** Create the Athena workgroup, Glue table and hunts. Default true. */
  readonly enabled?: boolean;
  /** Bytes one query may scan. Default 1 TiB. */
  readonly bytesScannedCutoffPerQuery?: number;
}

/** Forensic VPC (see {@link ForensicVpc}), in the home region. */
export interface ForensicVpcSettings {
  /** Create the isolated analysis VPC. Default true: it has no internet path, so it costs only its endpoints. */
  readonly enabled?: boolean;
  /** CIDR block. Default `10.77.0.0/16`. */
  readonly cidrBlock?: string;
  /** Two or more zones of the home region. Default `<home>a`, `<home>b`. */
  readonly availabilityZones?: readonly string[];
}

/** Incident alarms (see {@link IncidentAlarms}), one set per governed region. */
export interface AlarmSettings {
  /** Create the alarm rules and topic. Default true. */
  readonly enabled?: boolean;
  /** Subscriptions to every region's alarm topic. Default none: subscribe the on-call channel before relying on it. */
  readonly subscriptions?: readonly AlarmSubscription[];
}

/** Organisations service principals each detection service needs trusted access for. */
export const DETECTION_SERVICE_PRINCIPALS = {
  guardDuty: ["guardduty.amazonaws.com", "malware-protection.guardduty.amazonaws.com"],
  securityHub: ["securityhub.amazonaws.com"],
  detective: ["detective.amazonaws.com"],
} as const;

/** The service principals the enabled detection services need that the organisation has not enabled (a pure check). */
export function missingDetectionTrustedAccess(
  detection: DetectionSettings,
  enabledServicePrincipals: readonly string[],
): string[] {
  const needed = (Object.keys(DETECTION_SERVICE_PRINCIPALS) as Array<keyof typeof DETECTION_SERVICE_PRINCIPALS>)
    .filter((service) => detection[service] ?? true)
    .flatMap((service) => [...DETECTION_SERVICE_PRINCIPALS[service]]);
  return needed.filter((principal) => !enabledServicePrincipals.includes(principal));
}

/** Arguments of {@link ForensicLandingZone}: the validated stack configuration (see `stacks/config.ts`). */
export interface ForensicLandingZoneArgs {
  /** The forensic account: created in a `Forensics` OU, or adopted by ID. Required. */
  readonly forensicAccount: ForensicAccountSource;
  /** Role the deployment assumes in the forensic account. Default `OrganizationAccountAccessRole`. */
  readonly forensicAccountAdminRoleName?: string;
  /**
   * The management account (where the trail and the StackSet live). Default: the organisation's management
   * account, read from Organizations. Setting it pins the management provider to it, so running with credentials
   * of any other account fails before anything changes.
   */
  readonly managementAccountId?: string;
  /** Home region: the trail, the buckets, the keys' primaries and the StackSet live here. Must be governed. Required. */
  readonly homeRegion: string;
  /** Governed regions: each gets the evidence key (a replica outside the home region). Required. */
  readonly regions: readonly string[];
  /** OUs (or the root) whose accounts, now and future, get the member roles. Required. */
  readonly targetOrganizationalUnitIds: readonly string[];
  /** COMPLIANCE retention of the trail bucket, days. Default 365. */
  readonly trailRetentionDays?: number;
  /** COMPLIANCE retention of the evidence bucket, days. Default 365. */
  readonly evidenceRetentionDays?: number;
  /** Name of the organisation trail. Default `flz-organization-trail`. */
  readonly trailName?: string;
  /** Log S3 object writes organisation-wide. Default true. */
  readonly s3ObjectWrites?: boolean;
  /** Log Lambda invocations organisation-wide. Default false. */
  readonly lambdaInvokes?: boolean;
  /** Further advanced event selectors for the trail. Default none. */
  readonly additionalEventSelectors?: readonly AdvancedEventSelector[];
  /** When set, the trail is also delivered to CloudWatch Logs, kept this many days. Default: not delivered. */
  readonly cloudWatchLogsRetentionDays?: number;
  /**
   * Who may assume the forensic responder role (the only role that writes custody records and signs them). Required
   * and named: the account root would let every administrator of the forensic account become the signer.
   */
  readonly responderPrincipalArns: readonly string[];
  /**
   * The deployment principal: the role the deployment acts as inside governed accounts, the role this program's
   * providers assume in the forensic account (`forensicAccountAdminRoleName`). Required and explicit, because every
   * freeze (bucket and key policies, the RCP and SCPs) says "everyone except the deployment role", and needs its name.
   * `arn:aws:iam::*:role/<name>` (any account) or `arn:aws:iam::<forensic account>:role/<name>`; its name must be the
   * admin role name, or the next `pulumi up` would be refused by the policies it deployed.
   */
  readonly deploymentRoleArn: string;
  /** Who may assume the forensic investigator role. Default: the forensic account's root. */
  readonly investigatorPrincipalArns?: readonly string[];
  /** Who may assume the break-glass role (with MFA). Default: the forensic account's root. */
  readonly breakGlassPrincipalArns?: readonly string[];
  /** Role names. Default `FlzForensicResponder`, `FlzForensicInvestigator`, `FlzMemberResponder`, `FlzMemberInvestigator`, `FlzBreakGlass`. */
  readonly roleNames?: Partial<RoleNames>;
  /** Prefix of the bucket names (`<prefix>-trail-<account>-<region>`, `<prefix>-evidence-...`). Default `flz`. */
  readonly bucketPrefix?: string;
  /** KMS deletion window of every key, days (7 to 30). Default 30. */
  readonly keyDeletionWindowDays?: number;
  /**
   * Provider for the management account in the home region. Default: one made here, pinned to
   * `managementAccountId` when given. Other governed regions get providers made here, pinned the same way.
   */
  readonly managementProvider?: aws.Provider;
  /** Guardrail SCPs. Default: the protection SCP on the root; no workload baseline. */
  readonly guardrails?: GuardrailSettings;
  /** Detection delegation. Default: GuardDuty, Security Hub and Detective to the forensic account. Pass `false` to leave it out. */
  readonly detection?: DetectionSettings | false;
  /** Investigation workspace over the trail. Default on. */
  readonly investigation?: InvestigationSettings;
  /** Isolated analysis VPC in the forensic account. Default on. */
  readonly forensicVpc?: ForensicVpcSettings;
  /** Incident alarms in every governed region. Default on, no subscriptions. */
  readonly alarms?: AlarmSettings;
}

/** Key prefix of Athena query results in the evidence bucket (the only place investigators may write). */
export const ATHENA_RESULTS_PREFIX = "athena-results/";

/** Every piece of the forensic landing zone, and the outputs contract the CLI reads (DESIGN.md §4). */
export class ForensicLandingZone extends pulumi.ComponentResource {
  /** Organisation ID. */
  public readonly organizationId: pulumi.Output<string>;
  /** The forensic account's ID. */
  public readonly forensicAccountId: pulumi.Output<string>;
  /** Home region. */
  public readonly homeRegion: pulumi.Output<string>;
  /** Governed regions. */
  public readonly regions: pulumi.Output<string[]>;
  /** Evidence key ARN per governed region. */
  public readonly evidenceKeyArns: pulumi.Output<Record<string, string>>;
  /** Custody signing key ARN. */
  public readonly custodySigningKeyArn: pulumi.Output<string>;
  /** Evidence bucket name. */
  public readonly evidenceBucket: pulumi.Output<string>;
  /** Trail bucket name. */
  public readonly trailBucket: pulumi.Output<string>;
  /** Organisation trail ARN. */
  public readonly trailArn: pulumi.Output<string>;
  /** Forensic responder role ARN. */
  public readonly forensicResponderRoleArn: pulumi.Output<string>;
  /** Forensic investigator role ARN. */
  public readonly forensicInvestigatorRoleArn: pulumi.Output<string>;
  /** Member responder role name. */
  public readonly memberResponderRoleName: pulumi.Output<string>;
  /** Member investigator role name. */
  public readonly memberInvestigatorRoleName: pulumi.Output<string>;
  /** Break-glass role ARN. */
  public readonly breakGlassRoleArn: pulumi.Output<string>;
  /** The part-two parts this landing zone contains (absent when switched off). */
  public readonly parts: {
    /** Guardrail SCPs. */
    readonly guardrails?: GuardrailPolicies;
    /** Detection delegation. */
    readonly detection?: DetectionDelegation;
    /** Investigation workspace. */
    readonly investigation?: InvestigationWorkspace;
    /** Forensic VPC. */
    readonly forensicVpc?: ForensicVpc;
    /** Incident alarms by region. */
    readonly alarms: Readonly<Record<string, IncidentAlarms>>;
  };

  constructor(name: string, args: ForensicLandingZoneArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flz:landingzone:ForensicLandingZone", name, {}, opts);
    if (!args.regions.includes(args.homeRegion)) {
      throw new Error(
        `ForensicLandingZone: home region ${args.homeRegion} is not one of the governed regions [${args.regions.join(", ")}]`,
      );
    }
    const management =
      args.managementProvider ??
      new aws.Provider(
        `${name}-management`,
        {
          region: args.homeRegion,
          allowedAccountIds: args.managementAccountId ? [args.managementAccountId] : undefined,
        },
        { parent: this },
      );
    const inManagement = { parent: this, provider: management };
    const organization = aws.organizations.getOrganizationOutput({}, inManagement);
    const managementAccountId = args.managementAccountId
      ? pulumi.output(args.managementAccountId)
      : organization.masterAccountId;
    const names: RoleNames = { ...DEFAULT_ROLE_NAMES, ...args.roleNames };
    const adminRoleName = args.forensicAccountAdminRoleName ?? "OrganizationAccountAccessRole";
    const trailName = args.trailName ?? "flz-organization-trail";
    // Known before the trail exists: both the trail key's and the trail bucket's policies name it.
    const organizationTrailArn = managementAccountId.apply((id) => trailArn(args.homeRegion, id, trailName));

    // IAM and Organizations deliver their events to EventBridge in us-east-1 only: the alarms need a provider there.
    const alarmsOn = args.alarms?.enabled ?? true;
    const globalRegionExtra = alarmsOn && !args.regions.includes(GLOBAL_EVENTS_REGION) ? [GLOBAL_EVENTS_REGION] : [];
    const account = new ForensicAccount(
      `${name}-forensic-account`,
      {
        source: args.forensicAccount,
        adminRoleName: args.forensicAccountAdminRoleName,
        regions: args.regions,
        additionalProviderRegions: globalRegionExtra,
      },
      inManagement,
    );
    // The deployment principal as the forensic account sees it: the admin role the providers assume there (checked to
    // be the configured deploymentRoleArn's role).
    const deploymentPrincipal = account.accountId.apply((id) =>
      deploymentPrincipalIn(args.deploymentRoleArn, adminRoleName, id),
    );
    const home = account.providerFor(args.homeRegion);
    const prefix = args.bucketPrefix ?? "flz";
    const trailBucketName = pulumi.interpolate`${prefix}-trail-${account.accountId}-${args.homeRegion}`;
    const evidenceBucketName = pulumi.interpolate`${prefix}-evidence-${account.accountId}-${args.homeRegion}`;
    // Every ARN a policy document names is built from the forensic account and a name, never read back from the
    // resource: the documents are then known at a first `pulumi preview` (when the forensic account is adopted), so
    // the policy pack checks them before anything exists. Keys are named by purpose tag (documents/keys.ts), since
    // their ARNs hold random IDs. Creation order comes from `dependsOn` where a policy names a principal.
    const forensicRole = (roleName: string): pulumi.Output<string> =>
      account.accountId.apply((id) => roleArn(id, roleName));
    const responderArn = forensicRole(names.forensicResponder);
    const investigatorArn = forensicRole(names.forensicInvestigator);

    const roles = new MemberRoles(
      `${name}-roles`,
      {
        forensicProvider: home,
        forensicAccountId: account.accountId,
        organizationId: organization.id,
        targetOrganizationalUnitIds: args.targetOrganizationalUnitIds,
        stackSetRegion: args.homeRegion,
        roleNames: names,
        responderPrincipalArns: args.responderPrincipalArns,
        investigatorPrincipalArns: args.investigatorPrincipalArns,
        breakGlassPrincipalArns: args.breakGlassPrincipalArns,
        evidenceBucketArn: evidenceBucketName.apply(bucketArn),
        trailBucketArn: trailBucketName.apply(bucketArn),
        athenaResultsBucketArn: args.investigation?.enabled === false ? undefined : evidenceBucketName.apply(bucketArn),
        athenaResultsPrefix: ATHENA_RESULTS_PREFIX,
        enabledServicePrincipals: organization.awsServiceAccessPrincipals,
      },
      inManagement,
    );

    // The key policies name the forensic roles: KMS rejects principals that do not exist yet, so the keys wait for
    // the roles (`namedPrincipals`), which in turn name the keys only by tag and so need nothing from them.
    const keys = new ForensicKeys(
      `${name}-keys`,
      {
        homeRegion: args.homeRegion,
        providers: account.providers,
        keyAccountId: account.accountId,
        organizationId: organization.id,
        managementAccountId,
        trailArn: organizationTrailArn,
        investigatorRoleArns: [investigatorArn],
        memberResponderRoleName: names.memberResponder,
        forensicRoleArns: [responderArn, investigatorArn],
        signerRoleArn: responderArn,
        deploymentPrincipalArn: deploymentPrincipal,
        deletionWindowInDays: args.keyDeletionWindowDays,
        namedPrincipals: roles.forensicRoles,
      },
      { parent: this },
    );

    // The preventive controls of docs/threat-model.md, in the bucket and key policies, the protection SCP and the RCP.
    const accessLogBucketArns = [trailBucketName, evidenceBucketName].map((n) =>
      n.apply((b) => bucketArn(`${b}-logs`)),
    );
    const protection: pulumi.Output<ForensicResourceProtection> = pulumi
      .all([
        evidenceBucketName,
        trailBucketName,
        ...accessLogBucketArns,
        deploymentPrincipal,
        responderArn,
        account.accountId,
      ])
      .apply(([evidence, trail, trailLogs, evidenceLogs, deployment, responder, accountId]) => ({
        evidenceBucketArn: bucketArn(evidence),
        trailBucketArn: bucketArn(trail),
        accessLogBucketArns: [trailLogs, evidenceLogs],
        deploymentPrincipalArn: deployment,
        caseWriterArns: [responder],
        keys: { accountId },
      }));

    const trailBucket = new EvidenceBucket(
      `${name}-trail-bucket`,
      {
        bucketName: trailBucketName,
        retentionDays: args.trailRetentionDays,
        kmsKeyArn: keys.trailKeyArn,
        organizationId: organization.id,
        accountId: account.accountId,
        cloudTrailWriter: { managementAccountId, trailArn: organizationTrailArn },
        protection,
      },
      { parent: this, provider: home },
    );
    const evidenceBucket = new EvidenceBucket(
      `${name}-evidence-bucket`,
      {
        bucketName: evidenceBucketName,
        retentionDays: args.evidenceRetentionDays,
        kmsKeyArn: keys.evidenceKeyArn,
        organizationId: organization.id,
        accountId: account.accountId,
        protection,
      },
      { parent: this, provider: home },
    );

    const trail = new OrganizationTrail(
      `${name}-trail`,
      {
        trailName,
        bucketName: trailBucket.bucketName,
        kmsKeyArn: keys.trailKeyArn,
        s3ObjectWrites: args.s3ObjectWrites,
        lambdaInvokes: args.lambdaInvokes,
        additionalEventSelectors: args.additionalEventSelectors,
        cloudWatchLogs: args.cloudWatchLogsRetentionDays
          ? { retentionDays: args.cloudWatchLogsRetentionDays }
          : undefined,
        // CloudTrail checks the bucket policy and the key at creation; the lock configuration must be in place before
        // the first log file is delivered, or early logs land without a default retention.
        prerequisites: [trailBucket.bucketPolicy, trailBucket.objectLock, keys.trailKey],
        excludedDataEventBucketArns: [trailBucketName.apply(bucketArn), ...accessLogBucketArns],
      },
      inManagement,
    );

    // EBS encryption by default in every governed region of the forensic account: analysis volumes restored there
    // are never left in plaintext. The default key stays aws/ebs: making the evidence key the default would put every
    // ordinary volume under a key member responders may use.
    for (const region of args.regions) {
      new aws.ebs.EncryptionByDefault(
        `${name}-ebs-encryption-${region}`,
        { enabled: true },
        { parent: this, provider: account.providerFor(region) },
      );
    }

    // Management-account providers per governed region (detection registrations are regional), and in us-east-1 for
    // forwarding Organizations events.
    const managementProviders: Record<string, aws.Provider> = { [args.homeRegion]: management };
    for (const region of [...args.regions, ...globalRegionExtra].filter((r) => r !== args.homeRegion)) {
      managementProviders[region] = new aws.Provider(
        `${name}-management-${region}`,
        { region, allowedAccountIds: args.managementAccountId ? [args.managementAccountId] : undefined },
        { parent: this },
      );
    }
    let guardrails: GuardrailPolicies | undefined;
    const guardrailSettings = args.guardrails ?? {};
    if (guardrailSettings.enabled ?? true) {
      const root = organization.roots.apply((roots) => {
        const id = roots[0]?.id;
        if (!id) throw new Error("ForensicLandingZone: Organizations returned no root; set guardrailTargetIds");
        return id;
      });
      const targetIds: Array<pulumi.Input<string>> = guardrailSettings.targetIds
        ? [...guardrailSettings.targetIds]
        : [root];
      guardrails = new GuardrailPolicies(
        `${name}-guardrails`,
        {
          managementProvider: management,
          targetIds,
          workloadTargetIds: guardrailSettings.workloadTargetIds ? [...guardrailSettings.workloadTargetIds] : undefined,
          protectForensics: true,
          workloadBaseline: guardrailSettings.workloadBaseline ?? false,
          trailArn: organizationTrailArn,
          deploymentRoleArn: args.deploymentRoleArn,
          memberRoleNames: [names.memberResponder, names.memberInvestigator],
          // By purpose tag (the tag ForensicKeys sets), so the SCP is known at a first preview.
          forensicAccountId: account.accountId,
          forensicRoleArns: pulumi
            .all([account.accountId, responderArn, investigatorArn, forensicRole(names.breakGlass)])
            .apply(([id, ...own]) => [...own, ...trustedRolesIn(id, args)]),
          forensicResources: protection,
          resourceControlTargetIds: guardrailSettings.resourceControlTargetIds
            ? [...guardrailSettings.resourceControlTargetIds]
            : undefined,
        },
        { parent: this },
      );
    }

    let detection: DetectionDelegation | undefined;
    if (args.detection !== false) {
      const settings = args.detection ?? {};
      const adminAccountId = settings.adminAccountId;
      const adminProviders: Record<string, aws.Provider> = {};
      for (const region of args.regions) {
        adminProviders[region] =
          adminAccountId === undefined
            ? account.providerFor(region)
            : new aws.Provider(
                `${name}-detection-admin-${region}`,
                {
                  region,
                  allowedAccountIds: [adminAccountId],
                  assumeRoles: [
                    { roleArn: `arn:aws:iam::${adminAccountId}:role/${adminRoleName}`, sessionName: "flz-deploy" },
                  ],
                },
                { parent: this },
              );
      }
      organization.awsServiceAccessPrincipals.apply((enabled) => {
        const missing = missingDetectionTrustedAccess(settings, enabled ?? []);
        // The services' own delegation APIs enable trusted access when the deployment may call
        // organizations:EnableAWSServiceAccess; say so up front rather than fail half-way through a deployment.
        if (missing.length > 0)
          void pulumi.log.warn(
            `trusted access is not enabled for ${missing.join(", ")}: the detection delegation needs it; run \`aws organizations enable-aws-service-access --service-principal <principal>\` for each from the management account, or let the deployment role call organizations:EnableAWSServiceAccess`,
            this,
          );
        return missing;
      });
      detection = new DetectionDelegation(
        `${name}-detection`,
        {
          regions: [...args.regions],
          homeRegion: args.homeRegion,
          managementProviders,
          adminProviders,
          adminAccountId: adminAccountId ?? account.accountId,
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
        { parent: this },
      );
    }

    let investigation: InvestigationWorkspace | undefined;
    if (args.investigation?.enabled ?? true) {
      investigation = new InvestigationWorkspace(
        `${name}-investigation`,
        {
          provider: home,
          evidenceBucket: evidenceBucket.bucketName,
          resultsKmsKeyArn: keys.evidenceKeyArn,
          resultsPrefix: ATHENA_RESULTS_PREFIX,
          trailBucket: trailBucket.bucketName,
          organizationId: organization.id,
          governedRegions: [...args.regions],
          bytesScannedCutoffPerQuery: args.investigation?.bytesScannedCutoffPerQuery,
        },
        { parent: this },
      );
    }

    let forensicVpc: ForensicVpc | undefined;
    if (args.forensicVpc?.enabled ?? true) {
      forensicVpc = new ForensicVpc(
        `${name}-vpc`,
        {
          provider: home,
          region: args.homeRegion,
          availabilityZones: [
            ...(args.forensicVpc?.availabilityZones ?? [`${args.homeRegion}a`, `${args.homeRegion}b`]),
          ],
          cidrBlock: args.forensicVpc?.cidrBlock,
        },
        { parent: this },
      );
    }

    const alarms: Record<string, IncidentAlarms> = {};
    if (alarmsOn) {
      // What AWS cannot prevent (the management account, which no SCP or RCP binds), the alarms detect: every change to
      // the forensic buckets, keys and roles, every use of the deployment role, and every Organizations change of the
      // guardrails or the forensic account (docs/threat-model.md, "Detective controls").
      const policyIds = guardrails
        ? pulumi
            .all([guardrails.protectionPolicyId, guardrails.workloadPolicyId, guardrails.resourceControlPolicyId])
            .apply((ids) => ids.filter((id) => id !== ""))
        : pulumi.output([] as string[]);
      const protectedRoleNames = [
        names.forensicResponder,
        names.forensicInvestigator,
        names.breakGlass,
        adminRoleName,
        ...trustedRoleNames(args),
      ];
      for (const region of [...args.regions, ...globalRegionExtra]) {
        const atHome = region === args.homeRegion;
        const global = region === GLOBAL_EVENTS_REGION;
        alarms[region] = new IncidentAlarms(
          `${name}-alarms-${region}`,
          {
            provider: account.providerFor(region),
            // Built from the name: the rule's event pattern is known at a first preview, and needs no role to exist.
            breakGlassRoleArn: forensicRole(names.breakGlass),
            watchedRoleArns: [deploymentPrincipal],
            // The trail is managed in the home region: forward its changes from the management account there; the
            // Organizations events arrive in us-east-1: forward those there.
            trailChanges: atHome,
            managementProvider: atHome || global ? managementProviders[region] : undefined,
            managementAccountId: atHome || global ? managementAccountId : undefined,
            protectedBucketNames: atHome
              ? [
                  evidenceBucketName,
                  trailBucketName,
                  evidenceBucketName.apply((b) => `${b}-logs`),
                  trailBucketName.apply((b) => `${b}-logs`),
                ]
              : undefined,
            protectedKeys: true,
            globalServiceEvents: global,
            protectedRoleNames: global ? [...new Set(protectedRoleNames)] : undefined,
            organizationGuardrails: global
              ? pulumi.all([policyIds, account.accountId]).apply(([ids, forensicAccountId]) => ({
                  policyIds: ids,
                  forensicAccountId,
                }))
              : undefined,
            subscriptions: args.alarms?.subscriptions ? [...args.alarms.subscriptions] : undefined,
          },
          { parent: this },
        );
      }
    }
    this.parts = { guardrails, detection, investigation, forensicVpc, alarms };

    this.organizationId = organization.id;
    this.forensicAccountId = account.accountId;
    this.homeRegion = pulumi.output(args.homeRegion);
    this.regions = pulumi.output([...args.regions]);
    this.evidenceKeyArns = keys.evidenceKeyArns;
    this.custodySigningKeyArn = keys.custodySigningKeyArn;
    this.evidenceBucket = evidenceBucket.bucketName;
    this.trailBucket = trailBucket.bucketName;
    this.trailArn = trail.trailArn;
    this.forensicResponderRoleArn = roles.forensicResponderRoleArn;
    this.forensicInvestigatorRoleArn = roles.forensicInvestigatorRoleArn;
    this.memberResponderRoleName = roles.memberResponderRoleName;
    this.memberInvestigatorRoleName = roles.memberInvestigatorRoleName;
    this.breakGlassRoleArn = roles.breakGlassRoleArn;
    this.registerOutputs({ ...this.contract(), breakGlassRoleArn: this.breakGlassRoleArn });
  }

  /** The outputs contract of DESIGN.md §4, exactly: what `stacks/index.ts` exports and the CLI validates. */
  public contract(): LandingZoneOutputs {
    return {
      organizationId: this.organizationId,
      forensicAccountId: this.forensicAccountId,
      homeRegion: this.homeRegion,
      regions: this.regions,
      evidenceKeyArns: this.evidenceKeyArns,
      custodySigningKeyArn: this.custodySigningKeyArn,
      evidenceBucket: this.evidenceBucket,
      trailBucket: this.trailBucket,
      trailArn: this.trailArn,
      forensicResponderRoleArn: this.forensicResponderRoleArn,
      forensicInvestigatorRoleArn: this.forensicInvestigatorRoleArn,
      memberResponderRoleName: this.memberResponderRoleName,
      memberInvestigatorRoleName: this.memberInvestigatorRoleName,
    };
  }
}

/** The outputs contract as Pulumi outputs. */
export interface LandingZoneOutputs {
  /** Organisation ID. */
  readonly organizationId: pulumi.Output<string>;
  /** The forensic account's ID. */
  readonly forensicAccountId: pulumi.Output<string>;
  /** Home region. */
  readonly homeRegion: pulumi.Output<string>;
  /** Governed regions. */
  readonly regions: pulumi.Output<string[]>;
  /** Evidence key ARN per governed region. */
  readonly evidenceKeyArns: pulumi.Output<Record<string, string>>;
  /** Custody signing key ARN. */
  readonly custodySigningKeyArn: pulumi.Output<string>;
  /** Evidence bucket name. */
  readonly evidenceBucket: pulumi.Output<string>;
  /** Trail bucket name. */
  readonly trailBucket: pulumi.Output<string>;
  /** Organisation trail ARN. */
  readonly trailArn: pulumi.Output<string>;
  /** Forensic responder role ARN. */
  readonly forensicResponderRoleArn: pulumi.Output<string>;
  /** Forensic investigator role ARN. */
  readonly forensicInvestigatorRoleArn: pulumi.Output<string>;
  /** Member responder role name. */
  readonly memberResponderRoleName: pulumi.Output<string>;
  /** Member investigator role name. */
  readonly memberInvestigatorRoleName: pulumi.Output<string>;
}
