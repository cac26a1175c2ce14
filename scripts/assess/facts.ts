/**
 * What the assessment reads, as plain data: the collectors (`collect/`) fill these from AWS, the checks (`checks/`)
 * decide from them. Every field that comes from one API call is a {@link Read}, so a refused or failed call is kept
 * with its reason and the checks that needed it say "unknown", never "pass".
 */
import type { Read } from "./types";

/** An organisation account, as Organizations lists it. */
export interface OrgAccount {
  /** 12-digit account ID. */
  readonly id: string;
  /** Display name. */
  readonly name: string;
  /** `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`. */
  readonly status: string;
}

/** A service control or resource control policy, with its content and where it is attached. */
export interface OrgPolicy {
  /** Policy ID (`p-...`). */
  readonly id: string;
  /** Name. */
  readonly name: string;
  /** `SERVICE_CONTROL_POLICY` or `RESOURCE_CONTROL_POLICY`. */
  readonly type: string;
  /** Whether AWS manages it (FullAWSAccess, RCPFullAWSAccess). */
  readonly awsManaged: boolean;
  /** The policy document (JSON text). */
  readonly content: string;
  /** Root, OU and account IDs it is attached to. */
  readonly targets: readonly string[];
}

/** Event selectors of a trail, summarised for the checks. */
export interface TrailSelectors {
  /** Management events recorded: `All`, `ReadOnly`, `WriteOnly`, or `None`. */
  readonly management: "All" | "ReadOnly" | "WriteOnly" | "None";
  /** Management event sources excluded (e.g. `kms.amazonaws.com`). */
  readonly excludedSources: readonly string[];
  /** S3 data events: every bucket, some buckets (named), or none. */
  readonly s3Data: "all" | "some" | "none";
  /** Buckets (ARN prefixes) whose data events are recorded when `s3Data` is `some`. */
  readonly s3Buckets: readonly string[];
}

/** Delivery status of a trail. */
export interface TrailStatusFacts {
  /** Whether it is logging. */
  readonly isLogging: boolean;
  /** Last successful delivery to S3, ISO time. */
  readonly latestDeliveryTime?: string;
  /** Last delivery error, if any (e.g. `AccessDenied`). */
  readonly latestDeliveryError?: string;
}

/** A trail as the management account sees it. */
export interface TrailFacts {
  /** Trail ARN. */
  readonly arn: string;
  /** Trail name. */
  readonly name: string;
  /** Region it is managed in. */
  readonly homeRegion: string;
  /** Organisation trail. */
  readonly isOrganizationTrail: boolean;
  /** Records every region. */
  readonly isMultiRegionTrail: boolean;
  /** Writes signed digest files. */
  readonly logFileValidationEnabled: boolean;
  /** Includes IAM, STS and other global service events. */
  readonly includeGlobalServiceEvents: boolean;
  /** KMS key ARN of SSE-KMS, if any. */
  readonly kmsKeyId?: string;
  /** Destination bucket. */
  readonly s3BucketName?: string;
  /** CloudWatch Logs group ARN, if delivered there too. */
  readonly cloudWatchLogsLogGroupArn?: string;
  /** GetTrailStatus. */
  readonly status: Read<TrailStatusFacts>;
  /** GetEventSelectors. */
  readonly selectors: Read<TrailSelectors>;
}

/** What the management account told about the organisation and its trail. */
export interface OrganizationFacts {
  /** Management account ID (DescribeOrganization). */
  readonly managementAccountId: Read<string>;
  /** Accounts (ListAccounts). */
  readonly accounts: Read<OrgAccount[]>;
  /** Each account's ancestry, nearest parent first, up to the root (ListParents). */
  readonly ancestry: Read<Record<string, string[]>>;
  /** SCPs and RCPs with content and targets. */
  readonly policies: Read<OrgPolicy[]>;
  /** Service principals with trusted access (ListAWSServiceAccessForOrganization). */
  readonly serviceAccess: Read<string[]>;
  /** Delegated administrator accounts per service principal (ListDelegatedAdministrators). */
  readonly delegatedAdministrators: Read<Record<string, string[]>>;
  /** The Organizations resource policy (DescribeResourcePolicy), JSON text; null when there is none. */
  readonly resourcePolicy: Read<string | null>;
  /** Trails visible from the management account's home region (DescribeTrails), each with status and selectors. */
  readonly trails: Read<TrailFacts[]>;
}

/** Object Lock configuration of a bucket. */
export interface ObjectLockFacts {
  /** Object Lock enabled on the bucket. */
  readonly enabled: boolean;
  /** Default retention mode, if any. */
  readonly mode?: string;
  /** Default retention in days (years converted at 365 days). */
  readonly days?: number;
}

/** The four public-access-block flags. */
export interface PublicAccessBlockFacts {
  readonly blockPublicAcls: boolean;
  readonly ignorePublicAcls: boolean;
  readonly blockPublicPolicy: boolean;
  readonly restrictPublicBuckets: boolean;
}

/** One forensic bucket. */
export interface BucketFacts {
  /** Bucket name. */
  readonly name: string;
  /** What it holds. */
  readonly purpose: "trail" | "evidence";
  /** Object Lock; null when not configured. */
  readonly objectLock: Read<ObjectLockFacts | null>;
  /** Versioning status (`Enabled`, `Suspended`) or null when never set. */
  readonly versioning: Read<string | null>;
  /** Public access block; null when none is set. */
  readonly publicAccessBlock: Read<PublicAccessBlockFacts | null>;
  /** Bucket policy (JSON text); null when none. */
  readonly policy: Read<string | null>;
}

/** DescribeKey, summarised. */
export interface KeyMetadataFacts {
  /** `Enabled`, `Disabled`, `PendingDeletion`, ... */
  readonly state: string;
  /** `AWS` or `CUSTOMER`. */
  readonly manager: string;
  /** e.g. `SYMMETRIC_DEFAULT`, `ECC_NIST_P256`. */
  readonly spec: string;
}

/** One forensic key. */
export interface KeyFacts {
  /** Key ARN. */
  readonly arn: string;
  /** What it is for. */
  readonly purpose: "evidence" | "signing" | "trail";
  /** Region. */
  readonly region: string;
  /** DescribeKey. */
  readonly metadata: Read<KeyMetadataFacts>;
  /** GetKeyRotationStatus; null for asymmetric keys (rotation does not apply). */
  readonly rotation: Read<boolean | null>;
  /** GetKeyPolicy (JSON text). */
  readonly policy: Read<string>;
}

/** An IAM role's trust and session settings. */
export interface RoleFacts {
  /** Role ARN. */
  readonly arn: string;
  /** Trust policy (JSON text). */
  readonly trust: string;
}

/** An EventBridge rule and its targets. */
export interface RuleFacts {
  /** Rule name. */
  readonly name: string;
  /** `ENABLED` or `DISABLED`. */
  readonly state: string;
  /** Event pattern (JSON text), if any. */
  readonly pattern?: string;
  /** Target ARNs. */
  readonly targets: readonly string[];
}

/** Alarms of one region of the forensic account. */
export interface AlarmFacts {
  /** Rules of the default bus. */
  readonly rules: Read<RuleFacts[]>;
  /** Confirmed subscriptions per SNS topic that a rule targets. */
  readonly subscriptions: Read<Record<string, number>>;
}

/** What the forensic investigator read in the forensic account. */
export interface ForensicFacts {
  /** The trail and evidence buckets. */
  readonly buckets: readonly BucketFacts[];
  /** Evidence keys (one per governed region), the custody signing key, the trail key. */
  readonly keys: readonly KeyFacts[];
  /** The break-glass role; null when it does not exist. */
  readonly breakGlass: Read<RoleFacts | null>;
  /** Alarms in the home region (where break-glass assumptions are recorded). */
  readonly alarms: AlarmFacts;
}

/** What the member investigator read in one account, region-independent. */
export interface AccountFacts {
  /** The assumed identity's ARN (as STS named the member investigator session in its AssumeRole answer). */
  readonly identity: Read<string>;
  /** The member responder role; null when it does not exist. */
  readonly responderRole: Read<RoleFacts | null>;
}

/** GuardDuty in one account and region. */
export interface GuardDutyFacts {
  /** Detector ID. */
  readonly detectorId: string;
  /** `ENABLED` or `DISABLED`. */
  readonly status: string;
  /** Feature name → `ENABLED` / `DISABLED`. */
  readonly features: Record<string, string>;
  /** Administrator account, if the account is a member. */
  readonly administrator?: string;
}

/** A VPC and its logging. */
export interface VpcFacts {
  /** VPC ID. */
  readonly id: string;
  /** The default VPC. */
  readonly isDefault: boolean;
}

/** A flow log. */
export interface FlowLogFacts {
  /** The VPC, subnet or interface it covers. */
  readonly resourceId: string;
  /** `ACTIVE` when delivering. */
  readonly status: string;
  /** `cloud-watch-logs`, `s3`, `kinesis-data-firehose`. */
  readonly destinationType: string;
  /** Log group name when delivered to CloudWatch Logs. */
  readonly logGroup?: string;
}

/** A Resolver query logging association. */
export interface QueryLogAssociationFacts {
  /** VPC ID. */
  readonly resourceId: string;
  /** `ACTIVE`, `CREATING`, `FAILED`, ... */
  readonly status: string;
  /** Query log configuration ID. */
  readonly configId: string;
}

/** A running or stopped instance. */
export interface InstanceFacts {
  /** Instance ID. */
  readonly id: string;
  /** `running`, `stopped`, ... */
  readonly state: string;
  /** `required` or `optional`. */
  readonly httpTokens: string;
  /** Attached EBS volume IDs. */
  readonly volumeIds: readonly string[];
}

/** A launch template's default version. */
export interface LaunchTemplateFacts {
  /** Template ID. */
  readonly id: string;
  /** Name. */
  readonly name: string;
  /** HttpTokens of the default version (undefined when the version sets no metadata options: IMDSv1 allowed). */
  readonly httpTokens?: string;
}

/** A volume and its key. */
export interface VolumeFacts {
  /** Volume ID. */
  readonly id: string;
  /** Encrypted. */
  readonly encrypted: boolean;
  /** KMS key ARN when encrypted. */
  readonly kmsKeyId?: string;
}

/** A log group's retention. */
export interface LogGroupFacts {
  /** Name. */
  readonly name: string;
  /** Retention in days; undefined = never expire. */
  readonly retentionDays?: number;
}

/** What the member investigator read in one region of one account. */
export interface RegionFacts {
  /** GuardDuty; null when there is no detector. */
  readonly guardDuty: Read<GuardDutyFacts | null>;
  /** Security Hub: enabled, and its administrator. */
  readonly securityHub: Read<{ readonly enabled: boolean; readonly administrator?: string }>;
  /** Detective: graphs the account administers and graphs it is a member of (ENABLED only). */
  readonly detective: Read<{ readonly graphs: readonly string[]; readonly memberships: readonly string[] }>;
  /** VPCs. */
  readonly vpcs: Read<VpcFacts[]>;
  /** Flow logs. */
  readonly flowLogs: Read<FlowLogFacts[]>;
  /** Resolver query logging associations. */
  readonly queryLogs: Read<QueryLogAssociationFacts[]>;
  /** Destination log group of each query logging configuration (by config ID). */
  readonly queryLogGroups: Read<Record<string, string>>;
  /** Log groups that hold flow or query logs. */
  readonly logGroups: Read<LogGroupFacts[]>;
  /** Instances (not terminated). */
  readonly instances: Read<InstanceFacts[]>;
  /** Launch templates with their default version's metadata options. */
  readonly launchTemplates: Read<LaunchTemplateFacts[]>;
  /** Instance IDs whose SSM agent is online. */
  readonly ssmOnline: Read<string[]>;
  /** EBS encryption by default. */
  readonly ebsDefault: Read<{ readonly enabled: boolean; readonly kmsKeyId?: string }>;
  /** Volumes. */
  readonly volumes: Read<VolumeFacts[]>;
  /** Key manager (`AWS` / `CUSTOMER`) and whether the key policy lets the account's IAM policies use it, per key ARN. */
  readonly volumeKeys: Read<Record<string, { readonly manager: string; readonly accountMayUse: boolean }>>;
  /** Concurrent snapshot copies per destination region; null when Service Quotas does not list it. */
  readonly snapshotCopyQuota: Read<number | null>;
}
