/**
 * Investigation over the organisation trail, as pure data: the CloudTrail table (columns, partition projection,
 * SerDe) and the named hunt queries. No Pulumi inside, so the `InvestigationWorkspace` component and the tests (which
 * parse every query and check it uses only columns of this table) share exactly the same text.
 */

import { COMMERCIAL_REGIONS } from "./regions";

/** One column of a Hive/Glue table, with its fields when it is a struct (or an array of structs). */
export interface TableColumn {
  /** Column or field name, lower case as Athena shows it. */
  readonly name: string;
  /** Hive type text as Glue stores it, e.g. `string` or `struct<arn:string,...>`. */
  readonly type: string;
  /** Fields of a struct (or of the elements of an array of structs), for queries that dereference them. */
  readonly fields?: readonly TableColumn[];
}

const s = (name: string): TableColumn => ({ name, type: "string" });
function struct(name: string, fields: TableColumn[]): TableColumn {
  return { name, type: `struct<${fields.map((f) => `${f.name}:${f.type}`).join(",")}>`, fields };
}
function arrayOf(name: string, element: TableColumn): TableColumn {
  return { name, type: `array<${element.type}>`, fields: element.fields };
}

/**
 * Columns of a CloudTrail log table, as in AWS's documented `CREATE TABLE` for CloudTrail logs (Athena user guide,
 * "Create a table for CloudTrail logs using partition projection"). JSON-shaped payloads (`requestparameters`,
 * `responseelements`, `additionaleventdata`) stay strings and are read with `json_extract_scalar`.
 */
export const CLOUDTRAIL_COLUMNS: readonly TableColumn[] = [
  s("eventversion"),
  struct("useridentity", [
    s("type"),
    s("principalid"),
    s("arn"),
    s("accountid"),
    s("invokedby"),
    s("accesskeyid"),
    s("username"),
    struct("onbehalfof", [s("userid"), s("identitystorearn")]),
    struct("sessioncontext", [
      struct("attributes", [s("mfaauthenticated"), s("creationdate")]),
      struct("sessionissuer", [s("type"), s("principalid"), s("arn"), s("accountid"), s("username")]),
      s("ec2roledelivery"),
      s("sourceidentity"),
    ]),
  ]),
  s("eventtime"),
  s("eventsource"),
  s("eventname"),
  s("awsregion"),
  s("sourceipaddress"),
  s("useragent"),
  s("errorcode"),
  s("errormessage"),
  s("requestparameters"),
  s("responseelements"),
  s("additionaleventdata"),
  s("requestid"),
  s("eventid"),
  s("readonly"),
  arrayOf("resources", struct("resource", [s("arn"), s("accountid"), s("type")])),
  s("eventtype"),
  s("apiversion"),
  s("recipientaccountid"),
  s("serviceeventdetails"),
  s("sharedeventid"),
  s("vpcendpointid"),
  s("vpcendpointaccountid"),
  s("eventcategory"),
  struct("addendum", [s("reason"), s("updatedfields"), s("originalrequestid"), s("originaleventid")]),
  s("sessioncredentialfromconsole"),
  s("edgedevicedetails"),
  struct("tlsdetails", [s("tlsversion"), s("ciphersuite"), s("clientprovidedhostheader")]),
];

/** Partition keys, in the order of the S3 path `AWSLogs/<org>/<account>/CloudTrail/<region>/<yyyy/MM/dd>`. */
export const CLOUDTRAIL_PARTITION_KEYS: readonly TableColumn[] = [s("account"), s("region"), s("date")];

/**
 * Every commercial AWS region. The `region` partition must project all of them, not only the governed ones: a
 * projected table cannot see a partition outside its enum, and activity in a region the organisation does not use is
 * exactly what one hunt looks for.
 */
export const ALL_AWS_REGIONS: readonly string[] = COMMERCIAL_REGIONS;

/** The CloudTrail SerDe and input format AWS documents for CloudTrail logs: they read the `Records` arrays of the log files directly. */
export const CLOUDTRAIL_SERDE = {
  serializationLibrary: "com.amazon.emr.hive.serde.CloudTrailSerde",
  inputFormat: "com.amazon.emr.cloudtrail.CloudTrailInputFormat",
  outputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
} as const;

/** Arguments of {@link cloudTrailTableParameters}. */
export interface CloudTrailTableLocation {
  /** Bucket the organisation trail writes to. */
  readonly bucket: string;
  /** Key prefix of the trail (empty when the trail has none). */
  readonly prefix: string;
  /** Organisation ID (`o-...`): organisation trails write under `AWSLogs/<org id>/`. */
  readonly organizationId: string;
  /** First day to project, `yyyy/MM/dd`; earlier days are invisible to queries. */
  readonly firstDay: string;
}

/** S3 location of the organisation trail's logs, without the partition part. */
export function cloudTrailRoot(loc: Pick<CloudTrailTableLocation, "bucket" | "prefix" | "organizationId">): string {
  const prefix = loc.prefix.replace(/^\/+|\/+$/g, "");
  return `s3://${loc.bucket}/${prefix === "" ? "" : `${prefix}/`}AWSLogs/${loc.organizationId}/`;
}

/**
 * Table parameters for partition projection over (account, region, date): Athena computes partitions from these
 * instead of a crawler or `MSCK REPAIR`, so a new day, account or region is queryable at once and nothing writes to
 * the catalog during an incident. The account is injected: a query must name it (`WHERE ct.account = '...'`).
 */
export function cloudTrailTableParameters(loc: CloudTrailTableLocation): Record<string, string> {
  if (!/^o-[a-z0-9]{10,32}$/.test(loc.organizationId))
    throw new Error(
      `organizationId "${loc.organizationId}" is not an organisation ID: expected o-<10 to 32 letters or digits>`,
    );
  if (!/^\d{4}\/\d{2}\/\d{2}$/.test(loc.firstDay))
    throw new Error(`firstDay "${loc.firstDay}" is not a day: expected yyyy/MM/dd`);
  return {
    classification: "cloudtrail",
    EXTERNAL: "TRUE",
    "projection.enabled": "true",
    // Injected, not an enum: any account ID works, including accounts created after deployment, with nothing to keep
    // up to date; the price is that every query names the account(s) it reads (`ct.account = ?`). Athena user guide,
    // "Use dynamic ID partitioning" (injected projection type); an enum of thousands of accounts would also exceed what
    // Athena recommends ("a few dozen") and make every unfiltered query plan accounts x regions x days partitions.
    "projection.account.type": "injected",
    "projection.region.type": "enum",
    "projection.region.values": ALL_AWS_REGIONS.join(","),
    "projection.date.type": "date",
    "projection.date.format": "yyyy/MM/dd",
    "projection.date.range": `${loc.firstDay},NOW`,
    "projection.date.interval": "1",
    "projection.date.interval.unit": "DAYS",
    "storage.location.template": `${cloudTrailRoot(loc)}\${account}/CloudTrail/\${region}/\${date}`,
  };
}

/** One named hunt query. */
export interface HuntQuery {
  /** Name as shown in the Athena console (kebab case, unique). */
  readonly name: string;
  /** What it finds and what to fill in for each `?` placeholder, in order. */
  readonly description: string;
  /** Trino SQL. `?` placeholders are filled in when the query runs (Athena parameterised queries). */
  readonly sql: string;
}

/** Arguments of {@link huntQueries}. */
export interface HuntQueryArgs {
  /** Glue database of the table. */
  readonly database: string;
  /** CloudTrail table name. */
  readonly table: string;
  /** Regions the organisation uses: activity anywhere else is suspicious. */
  readonly governedRegions: readonly string[];
  /** Days back each hunt looks (partition pruning keeps scans bounded). Default 30. */
  readonly lookbackDays?: number;
}

function identifier(value: string, what: string): string {
  if (!/^[a-z_][a-z0-9_]{0,254}$/.test(value))
    throw new Error(`${what} "${value}" is not a valid Athena name: lower-case letters, digits and _`);
  return value;
}

/**
 * The named hunt queries. Every column is qualified (`ct.`), because Trino reads a bare `"date"` as an identifier but
 * some tools read it as a string; qualification keeps the meaning unambiguous for people and parsers alike.
 */
export function huntQueries(args: HuntQueryArgs): HuntQuery[] {
  const from = `${identifier(args.database, "database")}.${identifier(args.table, "table")} AS ct`;
  const days = args.lookbackDays ?? 30;
  if (!Number.isInteger(days) || days < 1 || days > 3650)
    throw new Error(`lookbackDays ${days} is out of range: give a whole number of days from 1 to 3650`);
  if (args.governedRegions.length === 0)
    throw new Error("governedRegions is empty: give the regions the organisation uses");
  const unknown = args.governedRegions.find((r) => !ALL_AWS_REGIONS.includes(r));
  if (unknown !== undefined)
    throw new Error(`governed region "${unknown}" is not a known AWS region: one of ${ALL_AWS_REGIONS.join(", ")}`);
  // The account partition is injected (cloudTrailTableParameters): every hunt names the account it reads, as its first
  // parameter, which also keeps each hunt's scan to one account.
  const window = `ct.account = ? AND ct."date" >= date_format(current_date - interval '${days}' day, '%Y/%m/%d')`;
  const regions = args.governedRegions.map((r) => `'${r}'`).join(", ");
  const who = "ct.useridentity.arn AS principal_arn, ct.useridentity.accountid AS principal_account";
  const where = "ct.eventtime, ct.account, ct.awsregion, ct.sourceipaddress, ct.useragent";

  return [
    {
      name: "access-key-activity",
      description: `Everything one access key did in the last ${days} days. Parameters: the account ID, the access key ID (AKIA... or ASIA...).`,
      sql: `SELECT ${where}, ${who}, ct.eventsource, ct.eventname, ct.errorcode, ct.requestparameters
FROM ${from}
WHERE ${window} AND ct.useridentity.accesskeyid = ?
ORDER BY ct.eventtime`,
    },
    {
      name: "role-session-activity",
      description: `Everything one role session did in the last ${days} days. Parameters: the account ID, the session ARN (arn:aws:sts::<account>:assumed-role/<role>/<session>).`,
      sql: `SELECT ${where}, ct.useridentity.accesskeyid AS access_key_id, ct.eventsource, ct.eventname, ct.errorcode, ct.requestparameters
FROM ${from}
WHERE ${window} AND ct.useridentity.arn = ?
ORDER BY ct.eventtime`,
    },
    {
      name: "console-logins-without-mfa",
      description: `Successful console sign-ins without MFA in the last ${days} days. Parameter: the account ID.`,
      sql: `SELECT ${where}, ${who}, ct.useridentity.type AS identity_type
FROM ${from}
WHERE ${window} AND ct.eventname = 'ConsoleLogin'
  AND json_extract_scalar(ct.responseelements, '$.ConsoleLogin') = 'Success'
  AND json_extract_scalar(ct.additionaleventdata, '$.MFAUsed') = 'No'
ORDER BY ct.eventtime`,
    },
    {
      name: "assume-role-chain",
      description: `Roles a principal assumed and, one hop further (in the same account), the roles those sessions assumed, in the last ${days} days. Parameters: the account ID, the principal ARN (user, role or session), the same ARN again.`,
      sql: `SELECT ${where}, ct.useridentity.arn AS caller_arn,
  json_extract_scalar(ct.requestparameters, '$.roleArn') AS assumed_role_arn,
  json_extract_scalar(ct.responseelements, '$.assumedRoleUser.arn') AS session_arn,
  json_extract_scalar(ct.responseelements, '$.credentials.accessKeyId') AS session_key_id,
  hop.eventtime AS next_hop_time,
  json_extract_scalar(hop.requestparameters, '$.roleArn') AS next_hop_role_arn,
  json_extract_scalar(hop.responseelements, '$.assumedRoleUser.arn') AS next_hop_session_arn
FROM ${from}
LEFT JOIN ${from.replace(" AS ct", " AS hop")}
  ON hop.useridentity.accesskeyid = json_extract_scalar(ct.responseelements, '$.credentials.accessKeyId')
  AND hop.eventname IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity')
  AND ${window.replace(/ct\./g, "hop.").replace("hop.account = ?", "hop.account = ct.account")}
WHERE ${window} AND ct.eventname IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity')
  AND (ct.useridentity.arn = ? OR ct.useridentity.sessioncontext.sessionissuer.arn = ?)
ORDER BY ct.eventtime`,
    },
    {
      name: "access-keys-created",
      description: `Access keys created in the last ${days} days, by whom and for which user. Parameter: the account ID.`,
      sql: `SELECT ${where}, ${who},
  json_extract_scalar(ct.requestparameters, '$.userName') AS for_user,
  json_extract_scalar(ct.responseelements, '$.accessKey.accessKeyId') AS new_access_key_id
FROM ${from}
WHERE ${window} AND ct.eventsource = 'iam.amazonaws.com' AND ct.eventname = 'CreateAccessKey' AND ct.errorcode IS NULL
ORDER BY ct.eventtime`,
    },
    {
      name: "activity-in-unused-regions",
      description: `Calls in regions outside the governed ones (${args.governedRegions.join(", ")}) in the last ${days} days, by principal and region. Parameter: the account ID.`,
      sql: `SELECT ct.region, ${who}, ct.eventsource, ct.eventname, count(*) AS calls, min(ct.eventtime) AS first_seen, max(ct.eventtime) AS last_seen
FROM ${from}
WHERE ${window} AND ct.region NOT IN (${regions})
GROUP BY ct.region, ct.useridentity.arn, ct.useridentity.accountid, ct.eventsource, ct.eventname
ORDER BY calls DESC`,
    },
    {
      name: "denied-calls-by-principal",
      description: `Calls refused for lack of permission in the last ${days} days, by principal: reconnaissance with stolen credentials shows up here first. Parameter: the account ID.`,
      sql: `SELECT ${who}, ct.eventsource, ct.eventname, ct.errorcode, count(*) AS denied, min(ct.eventtime) AS first_seen, max(ct.eventtime) AS last_seen
FROM ${from}
WHERE ${window} AND (ct.errorcode IN ('AccessDenied', 'AccessDeniedException', 'Client.UnauthorizedOperation', 'UnauthorizedOperation')
  OR ct.errorcode LIKE '%Unauthorized%')
GROUP BY ct.useridentity.arn, ct.useridentity.accountid, ct.eventsource, ct.eventname, ct.errorcode
ORDER BY denied DESC`,
    },
    {
      name: "s3-object-access-by-principal",
      description: `S3 object reads, writes and deletes by one principal in the last ${days} days (needs S3 data events in the trail). Parameters: the account ID, the principal or session ARN, the same ARN again.`,
      sql: `SELECT ${where}, ct.eventname,
  json_extract_scalar(ct.requestparameters, '$.bucketName') AS bucket,
  json_extract_scalar(ct.requestparameters, '$.key') AS object_key,
  ct.errorcode
FROM ${from}
WHERE ${window} AND ct.eventsource = 's3.amazonaws.com'
  AND ct.eventname IN ('GetObject', 'PutObject', 'CopyObject', 'DeleteObject', 'DeleteObjects', 'RestoreObject', 'SelectObjectContent')
  AND (ct.useridentity.arn = ? OR ct.useridentity.sessioncontext.sessionissuer.arn = ?)
ORDER BY ct.eventtime`,
    },
    {
      name: "kms-decrypts-by-principal",
      description: `KMS decryptions in the last ${days} days, by principal and key: who could read what. Parameter: the account ID.`,
      sql: `SELECT ${who}, res.arn AS key_arn, count(*) AS decrypts, min(ct.eventtime) AS first_seen, max(ct.eventtime) AS last_seen
FROM ${from}
CROSS JOIN UNNEST(ct.resources) AS t(res)
WHERE ${window} AND ct.eventsource = 'kms.amazonaws.com' AND ct.eventname = 'Decrypt' AND res.type = 'AWS::KMS::Key'
GROUP BY ct.useridentity.arn, ct.useridentity.accountid, res.arn
ORDER BY decrypts DESC`,
    },
    {
      name: "security-group-and-nacl-changes",
      description: `Security group and network ACL changes in the last ${days} days. Parameter: the account ID.`,
      sql: `SELECT ${where}, ${who}, ct.eventname, ct.requestparameters, ct.errorcode
FROM ${from}
WHERE ${window} AND ct.eventsource = 'ec2.amazonaws.com' AND ct.eventname IN (
  'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress', 'RevokeSecurityGroupIngress', 'RevokeSecurityGroupEgress',
  'ModifySecurityGroupRules', 'CreateSecurityGroup', 'DeleteSecurityGroup',
  'CreateNetworkAcl', 'DeleteNetworkAcl', 'CreateNetworkAclEntry', 'DeleteNetworkAclEntry', 'ReplaceNetworkAclEntry', 'ReplaceNetworkAclAssociation')
ORDER BY ct.eventtime`,
    },
    {
      name: "trail-and-logging-changes",
      description: `Changes that reduce what is logged or detected (CloudTrail, CloudWatch Logs, Config, flow logs, GuardDuty, Security Hub) in the last ${days} days. Parameter: the account ID.`,
      sql: `SELECT ${where}, ${who}, ct.eventsource, ct.eventname, ct.requestparameters, ct.errorcode
FROM ${from}
WHERE ${window} AND ct.eventname IN (
  'StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors',
  'DeleteLogGroup', 'DeleteLogStream', 'PutRetentionPolicy', 'DeleteFlowLogs',
  'StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel',
  'DeleteDetector', 'UpdateDetector', 'DisassociateFromMasterAccount', 'DisableSecurityHub', 'DeleteMembers')
ORDER BY ct.eventtime`,
    },
    {
      name: "instance-credentials-used-outside-ec2",
      description: `Instance-role sessions (credentials from the instance metadata service) used from more than one source address or from outside AWS in the last ${days} days: the mark of stolen instance credentials. Parameter: the account ID.`,
      sql: `SELECT ct.useridentity.arn AS session_arn, ct.useridentity.accountid AS principal_account,
  count(DISTINCT ct.sourceipaddress) AS source_addresses,
  array_join(array_distinct(array_agg(ct.sourceipaddress)), ', ') AS addresses,
  count(*) AS calls, min(ct.eventtime) AS first_seen, max(ct.eventtime) AS last_seen
FROM ${from}
WHERE ${window} AND ct.useridentity.type = 'AssumedRole'
  AND (ct.useridentity.sessioncontext.ec2roledelivery IS NOT NULL OR regexp_like(ct.useridentity.principalid, ':i-[0-9a-f]{8,17}$'))
  AND NOT regexp_like(ct.sourceipaddress, '\\.amazonaws\\.com$')
GROUP BY ct.useridentity.arn, ct.useridentity.accountid
HAVING count(DISTINCT ct.sourceipaddress) > 1
ORDER BY source_addresses DESC`,
    },
  ];
}
