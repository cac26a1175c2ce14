/**
 * The whole forensic landing zone from one typed configuration: the forensic account, its keys, the trail and
 * evidence buckets, the forensic and member roles, and the organisation trail, wired in the order AWS requires.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { trailArn } from "./arns";
import { EvidenceBucket } from "./evidenceBucket";
import { ForensicAccount, ForensicAccountSource } from "./forensicAccount";
import { ForensicKeys } from "./forensicKeys";
import { DEFAULT_ROLE_NAMES, MemberRoles, RoleNames } from "./memberRoles";
import { AdvancedEventSelector, OrganizationTrail } from "./organizationTrail";

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
  /** Who may assume the forensic responder role. Default: the forensic account's root. */
  readonly responderPrincipalArns?: readonly string[];
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
   * Provider for the management account. Default: one made here in the home region, pinned to
   * `managementAccountId` when given.
   */
  readonly managementProvider?: aws.Provider;
}

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
    const trailName = args.trailName ?? "flz-organization-trail";
    // Known before the trail exists: both the trail key's and the trail bucket's policies name it.
    const organizationTrailArn = managementAccountId.apply((id) => trailArn(args.homeRegion, id, trailName));

    const account = new ForensicAccount(
      `${name}-forensic-account`,
      { source: args.forensicAccount, adminRoleName: args.forensicAccountAdminRoleName, regions: args.regions },
      inManagement,
    );
    const home = account.providerFor(args.homeRegion);
    const prefix = args.bucketPrefix ?? "flz";

    // Key policies name the forensic roles (KMS rejects principals that do not exist yet) and the roles' permissions
    // name the keys: the role ARNs are handed to the keys before the roles are constructed, and resolve once they
    // exist, so the engine creates roles, then keys, then the roles' permission policies.
    const [responderArn, resolveResponderArn] = pulumi.deferredOutput<string>();
    const [investigatorArn, resolveInvestigatorArn] = pulumi.deferredOutput<string>();
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
        deletionWindowInDays: args.keyDeletionWindowDays,
      },
      { parent: this },
    );

    const trailBucket = new EvidenceBucket(
      `${name}-trail-bucket`,
      {
        bucketName: pulumi.interpolate`${prefix}-trail-${account.accountId}-${args.homeRegion}`,
        retentionDays: args.trailRetentionDays,
        kmsKeyArn: keys.trailKeyArn,
        organizationId: organization.id,
        accountId: account.accountId,
        cloudTrailWriter: { managementAccountId, trailArn: organizationTrailArn },
      },
      { parent: this, provider: home },
    );
    const evidenceBucket = new EvidenceBucket(
      `${name}-evidence-bucket`,
      {
        bucketName: pulumi.interpolate`${prefix}-evidence-${account.accountId}-${args.homeRegion}`,
        retentionDays: args.evidenceRetentionDays,
        kmsKeyArn: keys.evidenceKeyArn,
        organizationId: organization.id,
        accountId: account.accountId,
      },
      { parent: this, provider: home },
    );

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
        evidenceKeyArns: keys.evidenceKeyArns,
        signingKeyArn: keys.custodySigningKeyArn,
        evidenceBucketArn: evidenceBucket.bucketArn,
        trailBucketArn: trailBucket.bucketArn,
        trailKeyArn: keys.trailKeyArn,
        enabledServicePrincipals: organization.awsServiceAccessPrincipals,
      },
      inManagement,
    );
    resolveResponderArn(roles.forensicResponderRoleArn);
    resolveInvestigatorArn(roles.forensicInvestigatorRoleArn);

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
        prerequisites: [trailBucket.bucketPolicy, keys.trailKey],
      },
      inManagement,
    );

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
