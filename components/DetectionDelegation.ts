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
  /** Delegate Security Hub and auto-enable it for new members with the default standards. Default true. */
  readonly securityHub?: boolean;
  /** Delegate Detective and auto-enable new members into the behaviour graph. Default true. */
  readonly detective?: boolean;
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
    this.byRegion = {};
    for (const region of args.regions) {
      const management = { parent: this, provider: args.managementProviders[region] };
      const admin = { parent: this, provider: args.adminProviders[region] };
      let detectorId: pulumi.Output<string> = pulumi.output("");
      let graphArn: pulumi.Output<string> = pulumi.output("");

      if (args.guardDuty ?? true) {
        const detector = new aws.guardduty.Detector(
          `${name}-guardduty-${region}`,
          { enable: true, findingPublishingFrequency: "FIFTEEN_MINUTES" },
          admin,
        );
        const registration = new aws.guardduty.OrganizationAdminAccount(
          `${name}-guardduty-admin-${region}`,
          { adminAccountId: args.adminAccountId },
          { ...management, dependsOn: [detector] },
        );
        new aws.guardduty.OrganizationConfiguration(
          `${name}-guardduty-org-${region}`,
          { detectorId: detector.id, autoEnableOrganizationMembers: "ALL" },
          { ...admin, dependsOn: [registration] },
        );
        for (const feature of features) {
          new aws.guardduty.OrganizationConfigurationFeature(
            `${name}-guardduty-${feature.toLowerCase().replace(/_/g, "-")}-${region}`,
            { detectorId: detector.id, name: feature, autoEnable: "ALL" },
            { ...admin, dependsOn: [registration] },
          );
        }
        detectorId = detector.id;
      }

      if (args.securityHub ?? true) {
        const account = new aws.securityhub.Account(
          `${name}-securityhub-${region}`,
          { enableDefaultStandards: true, autoEnableControls: true },
          admin,
        );
        const registration = new aws.securityhub.OrganizationAdminAccount(
          `${name}-securityhub-admin-${region}`,
          { adminAccountId: args.adminAccountId },
          { ...management, dependsOn: [account] },
        );
        new aws.securityhub.OrganizationConfiguration(
          `${name}-securityhub-org-${region}`,
          { autoEnable: true, autoEnableStandards: "DEFAULT" },
          { ...admin, dependsOn: [registration] },
        );
      }

      if (args.detective ?? true) {
        const graph = new aws.detective.Graph(`${name}-detective-${region}`, {}, admin);
        const registration = new aws.detective.OrganizationAdminAccount(
          `${name}-detective-admin-${region}`,
          { accountId: args.adminAccountId },
          { ...management, dependsOn: [graph] },
        );
        new aws.detective.OrganizationConfiguration(
          `${name}-detective-org-${region}`,
          { autoEnable: true, graphArn: graph.graphArn },
          { ...admin, dependsOn: [registration] },
        );
        graphArn = graph.graphArn;
      }

      this.byRegion[region] = { guardDutyDetectorId: detectorId, detectiveGraphArn: graphArn };
    }
    this.adminAccountId = pulumi.output(args.adminAccountId);
    this.registerOutputs({ adminAccountId: this.adminAccountId, byRegion: this.byRegion });
  }
}
