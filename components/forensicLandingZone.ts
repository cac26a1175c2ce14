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
import { ForensicAccount } from "./forensicAccount";
import { ForensicKeys } from "./forensicKeys";
import { DEFAULT_ROLE_NAMES, MemberRoles, RoleNames } from "./memberRoles";
import { OrganizationTrail } from "./organizationTrail";
import { ForensicVpc } from "./ForensicVpc";
import type { GuardrailPolicies } from "./GuardrailPolicies";
import { guardrailsPart } from "./guardrailsPart";
import type { IncidentAlarms } from "./IncidentAlarms";
import { InvestigationWorkspace } from "./InvestigationWorkspace";
import { automationPart } from "./automationPart";
import { QuarantineDelegation } from "./QuarantineDelegation";
import type { ForensicResourceProtection } from "./documents/rcp";
import { deploymentPrincipalIn, GLOBAL_EVENTS_REGION, trustedRoleNames } from "./landingZoneSettings";
import type { DetectionDelegation } from "./DetectionDelegation";
import { alarmNamePrefix, alarmsPart, detectionPart } from "./landingZoneParts";
import { ATHENA_RESULTS_PREFIX, type ForensicLandingZoneArgs, type LandingZoneOutputs } from "./landingZoneArgs";

export * from "./landingZoneArgs";

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
    /** Delegated management of quarantine SCPs. */
    readonly quarantineDelegation?: QuarantineDelegation;
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

    // Response automation (off by default): before the roles, whose responder trusts its acting functions.
    const { automation, resolveContract } = automationPart(this, name, {
      settings: args.automation,
      detection: args.detection,
      regions: args.regions,
      homeRegion: args.homeRegion,
      forensicAccount: account,
      organizationId: organization.id,
      forensicResponderRoleArn: responderArn,
      evidenceBucket: evidenceBucketName,
    });

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
        memoryToolSha256: args.memoryToolSha256,
        automationRoleArns: automation?.actingRoleArns,
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
        caseWriterArns: [responder, ...(args.caseAutomationRoleArns ?? [])],
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
    const guardrails = guardrailsPart(this, name, {
      args,
      management,
      organization,
      forensicAccount: account,
      trailArn: organizationTrailArn,
      memberRoleNames: [names.memberResponder, names.memberInvestigator],
      forensicRoleArns: [responderArn, investigatorArn, forensicRole(names.breakGlass)],
      protection,
      automation: automation !== undefined,
      alarmNamePrefix: alarmsOn ? alarmNamePrefix(name) : undefined,
    });

    const detection =
      args.detection === false
        ? undefined
        : detectionPart(this, name, {
            settings: args.detection ?? {},
            regions: args.regions,
            homeRegion: args.homeRegion,
            adminRoleName,
            managementProviders,
            forensicAccount: account,
            organization,
          });

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

    const alarms = alarmsOn
      ? alarmsPart(this, name, {
          regions: [...args.regions, ...globalRegionExtra],
          homeRegion: args.homeRegion,
          forensicAccount: account,
          managementProviders,
          managementAccountId,
          breakGlassRoleArn: forensicRole(names.breakGlass),
          deploymentPrincipalArn: deploymentPrincipal,
          protectedBucketNames: [evidenceBucketName, trailBucketName],
          protectedRoleNames: [
            names.forensicResponder,
            names.forensicInvestigator,
            names.breakGlass,
            adminRoleName,
            ...trustedRoleNames(args),
          ],
          guardrails,
          subscriptions: args.alarms?.subscriptions,
        })
      : {};
    const quarantineDelegation =
      args.quarantineDelegation === false
        ? undefined
        : new QuarantineDelegation(
            `${name}-quarantine-delegation`,
            {
              managementProvider: management,
              organizationId: organization.id,
              managementAccountId,
              responderRoleArn: responderArn,
            },
            { parent: this },
          );
    this.parts = { guardrails, detection, investigation, forensicVpc, alarms, quarantineDelegation };

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
    resolveContract(pulumi.jsonStringify(pulumi.output(this.contract())));
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
