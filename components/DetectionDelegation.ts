/**
 * Delegated administration of GuardDuty, Security Hub and Detective to the forensic (or a named security) account,
 * with every member auto-enabled, in every governed region.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Arguments of {@link DetectionDelegation}. */
export interface DetectionDelegationArgs {
  /** Governed regions. Each needs an entry in both provider maps: detection services are regional. */
  readonly regions: string[];
  /**
   * Management-account providers, one per governed region: delegated administrators can only be registered from the
   * management account, region by region. Required, so nothing lands in the default provider's account.
   */
  readonly managementProviders: Record<string, aws.Provider>;
  /**
   * Providers for the delegated administrator account, one per governed region: the organisation-wide configuration
   * (auto-enable) can only be made from there.
   */
  readonly adminProviders: Record<string, aws.Provider>;
  /** Account ID of the delegated administrator: the forensic account, or a named security account. */
  readonly adminAccountId: pulumi.Input<string>;
  /** Delegate GuardDuty and auto-enable it for all members. Default true: it produces the findings the alarms page on. */
  readonly guardDuty?: boolean;
  /**
   * GuardDuty protection plans auto-enabled for all members. Default `S3_DATA_EVENTS` and `EBS_MALWARE_PROTECTION`: the
   * second scans a compromised instance's volumes from snapshots, without touching the instance, which is what a
   * responder wants. Each plan has its own price.
   */
  readonly guardDutyFeatures?: string[];
  /**
   * Delegate Security Hub and enable it in every account, existing and future, through central configuration: a
   * finding aggregator in the home region linking the governed regions, an organisation configuration of type CENTRAL,
   * and a configuration policy (Security Hub on, AWS Foundational Security Best Practices) associated with the
   * organisation root. `autoEnable` alone covers only accounts that join later (Security Hub user guide, "Central
   * configuration"). Default true.
   */
  readonly securityHub?: boolean;
  /**
   * Delegate Detective, auto-enable accounts that join later, and make every account that exists now a member of the
   * behaviour graph (`autoEnable` does not cover them: Detective user guide, "Managing organization accounts").
   * Default true.
   */
  readonly detective?: boolean;
  /**
   * Adopt the GuardDuty detector that already exists in the administrator account (one per account and region) instead
   * of creating one, which would fail. Default false.
   */
  readonly adoptGuardDutyDetector?: boolean;
  /** Adopt Security Hub already enabled in the administrator account instead of enabling it, which would fail. Default false. */
  readonly adoptSecurityHub?: boolean;
  /**
   * Adopt the existing Detective behaviour graph of the administrator account, per region (its ARN, from
   * `aws detective list-graphs`), instead of creating one, which would fail. Default none (a graph is created).
   */
  readonly detectiveGraphArns?: Readonly<Record<string, string>>;
  /** Home region: Security Hub's aggregation and central configuration live there. Default: the first of `regions`. */
  readonly homeRegion?: string;
  /** The organisation root ID (`r-...`): the Security Hub configuration policy is associated with it. Required with Security Hub. */
  readonly organizationRootId?: pulumi.Input<string>;
  /**
   * The accounts of the organisation now (ID and e-mail, from `getOrganization`): each becomes a Detective member. The
   * administrator account itself is skipped. Default none.
   */
  readonly existingAccounts?: pulumi.Input<Array<{ id: string; email: string }>>;
}

/** The AWS Foundational Security Best Practices standard in a region (the configuration policy enables it). */
export function foundationalStandardArn(region: string): string {
  return `arn:aws:securityhub:${region}::standards/aws-foundational-security-best-practices/v/1.0.0`;
}

/** Default GuardDuty protection plans enabled organisation-wide. */
export const DEFAULT_GUARDDUTY_FEATURES: readonly string[] = ["S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION"];

/** Per region: the administrator-side resource IDs a caller may need (detector, behaviour graph). */
export interface DetectionRegionOutputs {
  /** GuardDuty detector ID in the administrator account (empty when GuardDuty is off). */
  readonly guardDutyDetectorId: pulumi.Output<string>;
  /** Detective behaviour graph ARN in the administrator account (empty when Detective is off). */
  readonly detectiveGraphArn: pulumi.Output<string>;
}

/**
 * Registers the delegated administrator for each enabled service in each region (from the management account), enables
 * the service in the administrator account first (so the registration does not race with AWS enabling it), then turns
 * on auto-enable for all members from the administrator account. Prerequisite: trusted access for
 * `guardduty.amazonaws.com`, `securityhub.amazonaws.com` and `detective.amazonaws.com` in the organisation.
 */
export class DetectionDelegation extends pulumi.ComponentResource {
  /** Account ID of the delegated administrator. */
  public readonly adminAccountId: pulumi.Output<string>;
  /** Per governed region, the administrator-side detector and graph. */
  public readonly byRegion: Record<string, DetectionRegionOutputs>;

  constructor(name: string, args: DetectionDelegationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flz:detection:DetectionDelegation", name, {}, opts);
    if (args.regions.length === 0)
      throw new Error(`DetectionDelegation "${name}": regions is empty: give the governed regions, e.g. ["us-east-1"]`);
    for (const region of args.regions) {
      if (!args.managementProviders[region])
        throw new Error(
          `DetectionDelegation "${name}": no management provider for region "${region}": add one to managementProviders`,
        );
      if (!args.adminProviders[region])
        throw new Error(
          `DetectionDelegation "${name}": no administrator provider for region "${region}": add one to adminProviders`,
        );
    }
    const features = args.guardDutyFeatures ?? DEFAULT_GUARDDUTY_FEATURES;
    const home = args.homeRegion ?? args.regions[0];
    if ((args.securityHub ?? true) && args.organizationRootId === undefined)
      throw new Error(
        `DetectionDelegation "${name}": Security Hub central configuration needs organizationRootId (r-...), to associate its configuration policy with every account`,
      );
    this.byRegion = {};
    for (const region of args.regions) {
      const management = { parent: this, provider: args.managementProviders[region] };
      const admin = { parent: this, provider: args.adminProviders[region] };
      let detectorId: pulumi.Output<string> = pulumi.output("");
      let graphArn: pulumi.Output<string> = pulumi.output("");

      if (args.guardDuty ?? true) {
        // One detector per account and region: an existing one is read (getDetector returns it), never re-created.
        const detector = args.adoptGuardDutyDetector
          ? undefined
          : new aws.guardduty.Detector(
              `${name}-guardduty-${region}`,
              { enable: true, findingPublishingFrequency: "FIFTEEN_MINUTES" },
              admin,
            );
        const id = detector ? detector.id : aws.guardduty.getDetectorOutput({}, admin).id;
        const registration = new aws.guardduty.OrganizationAdminAccount(
          `${name}-guardduty-admin-${region}`,
          { adminAccountId: args.adminAccountId },
          { ...management, dependsOn: detector ? [detector] : [] },
        );
        // ALL: every account of the organisation, those that exist now included (GuardDuty user guide, "Managing
        // accounts with AWS Organizations", auto-enable preferences); NEW would leave today's accounts out.
        new aws.guardduty.OrganizationConfiguration(
          `${name}-guardduty-org-${region}`,
          { detectorId: id, autoEnableOrganizationMembers: "ALL" },
          { ...admin, dependsOn: [registration] },
        );
        for (const feature of features) {
          new aws.guardduty.OrganizationConfigurationFeature(
            `${name}-guardduty-${feature.toLowerCase().replace(/_/g, "-")}-${region}`,
            { detectorId: id, name: feature, autoEnable: "ALL" },
            { ...admin, dependsOn: [registration] },
          );
        }
        detectorId = id;
      }

      if ((args.securityHub ?? true) && region === home) this.securityHubCentral(name, args, region, management, admin);

      if (args.detective ?? true) {
        const adopted = args.detectiveGraphArns?.[region];
        const graph =
          adopted === undefined ? new aws.detective.Graph(`${name}-detective-${region}`, {}, admin) : undefined;
        const arn = graph ? graph.graphArn : pulumi.output(adopted as string);
        const registration = new aws.detective.OrganizationAdminAccount(
          `${name}-detective-admin-${region}`,
          { accountId: args.adminAccountId },
          { ...management, dependsOn: graph ? [graph] : [] },
        );
        const configuration = new aws.detective.OrganizationConfiguration(
          `${name}-detective-org-${region}`,
          { autoEnable: true, graphArn: arn },
          { ...admin, dependsOn: [registration] },
        );
        // Accounts that exist now: autoEnable covers only accounts that join later. Members are made from the
        // organisation's account list as Organizations reports it at deployment (a data source, known at preview).
        if (args.existingAccounts !== undefined) {
          pulumi.all([args.existingAccounts, args.adminAccountId]).apply(([accounts, adminId]) => {
            for (const account of accounts.filter((a) => a.id !== adminId)) {
              new aws.detective.Member(
                `${name}-detective-member-${account.id}-${region}`,
                { accountId: account.id, emailAddress: account.email, graphArn: arn, disableEmailNotification: true },
                { ...admin, dependsOn: [configuration] },
              );
            }
            return accounts.length;
          });
        }
        graphArn = arn;
      }

      this.byRegion[region] = { guardDutyDetectorId: detectorId, detectiveGraphArn: graphArn };
    }
    this.adminAccountId = pulumi.output(args.adminAccountId);
    this.registerOutputs({ adminAccountId: this.adminAccountId, byRegion: this.byRegion });
  }

  /**
   * Security Hub for every account of the organisation, existing and future, in every governed region, through
   * central configuration (Security Hub user guide, "Start using central configuration"): the administrator is
   * registered in the home region (Security Hub designates it in the linked regions), a finding aggregator links the
   * other governed regions, the organisation configuration becomes CENTRAL (auto-enable off: the policy decides), and a
   * configuration policy that turns Security Hub on with AWS Foundational Security Best Practices is associated with
   * the root. Follows the @pulumi/aws example of `securityhub.ConfigurationPolicy` (same resources, same order).
   */
  private securityHubCentral(
    name: string,
    args: DetectionDelegationArgs,
    region: string,
    management: pulumi.CustomResourceOptions,
    admin: pulumi.CustomResourceOptions,
  ): void {
    const account = args.adoptSecurityHub
      ? undefined
      : new aws.securityhub.Account(
          `${name}-securityhub-${region}`,
          { enableDefaultStandards: false, autoEnableControls: true },
          admin,
        );
    const registration = new aws.securityhub.OrganizationAdminAccount(
      `${name}-securityhub-admin-${region}`,
      { adminAccountId: args.adminAccountId },
      { ...management, dependsOn: account ? [account] : [] },
    );
    const linked = args.regions.filter((r) => r !== region);
    const aggregator = new aws.securityhub.FindingAggregator(
      `${name}-securityhub-aggregator`,
      linked.length > 0
        ? { linkingMode: "SPECIFIED_REGIONS", specifiedRegions: linked }
        : { linkingMode: "NO_REGIONS" },
      { ...admin, dependsOn: [registration] },
    );
    const central = new aws.securityhub.OrganizationConfiguration(
      `${name}-securityhub-org-${region}`,
      { autoEnable: false, autoEnableStandards: "NONE", organizationConfiguration: { configurationType: "CENTRAL" } },
      { ...admin, dependsOn: [aggregator] },
    );
    const policy = new aws.securityhub.ConfigurationPolicy(
      `${name}-securityhub-policy`,
      {
        name: "flz-security-hub",
        description:
          "Forensic landing zone: Security Hub on in every account, AWS Foundational Security Best Practices",
        configurationPolicy: {
          serviceEnabled: true,
          enabledStandardArns: [foundationalStandardArn(region)],
          securityControlsConfiguration: { disabledControlIdentifiers: [] },
        },
      },
      { ...admin, dependsOn: [central] },
    );
    new aws.securityhub.ConfigurationPolicyAssociation(
      `${name}-securityhub-policy-root`,
      { targetId: args.organizationRootId as pulumi.Input<string>, policyId: policy.id },
      admin,
    );
  }
}
