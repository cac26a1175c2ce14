/**
 * The arguments of {@link ForensicLandingZone} and the outputs contract it exports, apart from the component so that
 * the stack configuration (`stacks/config.ts`) and the tests can name them without the component's imports.
 */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { AdvancedEventSelector } from "./organizationTrail";
import type { ForensicAccountSource } from "./forensicAccount";
import type { RoleNames } from "./memberRoles";
import type { AlarmSubscription } from "./IncidentAlarms";
import type { AutomationGuardrailSettings } from "./documents/automation";

/** Guardrail SCPs (see `GuardrailPolicies`). */
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

/** Detection delegation (see `DetectionDelegation`); every governed region. */
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

/** Investigation workspace (see `InvestigationWorkspace`). */
export interface InvestigationSettings {
  /** Create the Athena workgroup, Glue table and hunts. Default true. */
  readonly enabled?: boolean;
  /** Bytes one query may scan. Default 1 TiB. */
  readonly bytesScannedCutoffPerQuery?: number;
}

/** Forensic VPC (see `ForensicVpc`), in the home region. */
export interface ForensicVpcSettings {
  /** Create the isolated analysis VPC. Default true: it has no internet path, so it costs only its endpoints. */
  readonly enabled?: boolean;
  /** CIDR block. Default `10.77.0.0/16`. */
  readonly cidrBlock?: string;
  /** Two or more zones of the home region. Default `<home>a`, `<home>b`. */
  readonly availabilityZones?: readonly string[];
}

/** Incident alarms (see `IncidentAlarms`), one set per governed region. */
export interface AlarmSettings {
  /** Create the alarm rules and topic. Default true. */
  readonly enabled?: boolean;
  /** Subscriptions to every region's alarm topic. Default none: subscribe the on-call channel before relying on it. */
  readonly subscriptions?: readonly AlarmSubscription[];
}

/** Response automation (see `ResponseAutomation`), in the forensic account's home region. */
export interface AutomationSettings extends AutomationGuardrailSettings {
  /**
   * Deploy the response automation. Default false: automation changes production without a person at the keyboard,
   * so an organisation turns it on once it has chosen its modes (and even then every finding type defaults to observe).
   */
  readonly enabled?: boolean;
  /**
   * Roles (patterns allowed, such as `arn:aws:iam::*:role/PlatformOwner`) that may set or remove the opt-out tag
   * `flz:automation` besides the deployment role. The guardrail SCP denies it to everyone else, a member account's
   * administrator included: whoever holds that tag switches the automation off for a resource. Default none.
   */
  readonly optOutTagManagerRoleArns?: readonly string[];
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

/** Arguments of `ForensicLandingZone`: the validated stack configuration (see `stacks/config.ts`). */
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
  /**
   * Roles of the forensic account that write and sign custody records besides the forensic responder (response
   * automation, DESIGN.md §12). They join the responder in the evidence bucket's and RCP's case-writer rule and in the
   * signing rule. Default none: only the responder writes under `cases/` and signs.
   */
  readonly caseAutomationRoleArns?: readonly string[];
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
   * SHA-256 of the memory acquisition tool staged at `tools/avml` in the evidence bucket (docs/memory.md). When given,
   * every member account gets the `FLZ-CaptureMemory` SSM document with this hash pinned. Default: none.
   */
  readonly memoryToolSha256?: string;
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
  /** Response automation (issue 15). Default off. */
  readonly automation?: AutomationSettings;
  /**
   * Publish the organisation's delegation policy that lets the forensic responder role manage quarantine SCPs (see
   * `QuarantineDelegation`). Default true: `flz contain sessions` and `access-key` revoke sessions through it. Turn it
   * off only when the organisation already has a resource policy, and merge the quarantine statements into it.
   */
  readonly quarantineDelegation?: boolean;
}

/** Key prefix of Athena query results in the evidence bucket (the only place investigators may write). */
export const ATHENA_RESULTS_PREFIX = "athena-results/";

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
