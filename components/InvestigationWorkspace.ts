/**
 * Investigation over the organisation trail in the forensic account: an Athena workgroup, a Glue database and a
 * CloudTrail table with partition projection, and the named hunt queries.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  CLOUDTRAIL_COLUMNS,
  CLOUDTRAIL_PARTITION_KEYS,
  CLOUDTRAIL_SERDE,
  cloudTrailRoot,
  cloudTrailTableParameters,
  huntQueries,
} from "./documents/athena";

/** One TiB: at Athena's list price a runaway query then costs about 5 USD, and any real hunt over a month fits. */
export const DEFAULT_BYTES_SCANNED_CUTOFF = 1024 ** 4;

/** Arguments of {@link InvestigationWorkspace}. */
export interface InvestigationWorkspaceArgs {
  /** Provider for the forensic account in the home region. Required, so nothing lands in the management account. */
  readonly provider: aws.Provider;
  /** Evidence bucket (Object Lock): query results are evidence of what investigators looked at, so they go there. */
  readonly evidenceBucket: pulumi.Input<string>;
  /** Customer-managed key that encrypts query results (SSE-KMS). Required: results are never left under S3-managed keys. */
  readonly resultsKmsKeyArn: pulumi.Input<string>;
  /** Key prefix of query results inside the evidence bucket. Default `athena-results/`. */
  readonly resultsPrefix?: string;
  /** Bucket the organisation trail writes to. */
  readonly trailBucket: pulumi.Input<string>;
  /** Key prefix of the organisation trail (empty when it has none). Default empty. */
  readonly trailPrefix?: pulumi.Input<string>;
  /** Organisation ID (`o-...`): organisation trails write under `AWSLogs/<org id>/`. */
  readonly organizationId: pulumi.Input<string>;
  /** Governed regions: the "activity in unused regions" hunt looks everywhere else. */
  readonly governedRegions: string[];
  /** First day projected (`yyyy/MM/dd`). Default `2020/01/01`: a wide range costs nothing, queries prune by date. */
  readonly firstDay?: string;
  /**
   * Bytes one query may scan before Athena cancels it. Default 1 TiB ({@link DEFAULT_BYTES_SCANNED_CUTOFF}); the
   * workgroup enforces it, so a client cannot raise it.
   */
  readonly bytesScannedCutoffPerQuery?: number;
  /** Days back each hunt looks. Default 30. */
  readonly lookbackDays?: number;
  /** Glue database name. Default `flz_investigation`. */
  readonly databaseName?: string;
  /** CloudTrail table name. Default `organization_trail`. */
  readonly tableName?: string;
  /** Athena workgroup name. Default `flz-investigation`. */
  readonly workgroupName?: string;
}

/**
 * An Athena workgroup whose settings clients cannot override (results encrypted with SSE-KMS into the evidence
 * bucket, a bytes-scanned cutoff), a Glue table over the organisation trail with partition projection over
 * (account, region, date), and one named query per hunt.
 */
export class InvestigationWorkspace extends pulumi.ComponentResource {
  /** Athena workgroup name investigators select. */
  public readonly workgroupName: pulumi.Output<string>;
  /** Glue database name. */
  public readonly databaseName: pulumi.Output<string>;
  /** CloudTrail table name. */
  public readonly tableName: pulumi.Output<string>;
  /** Where query results land (`s3://<evidence bucket>/<prefix>`). */
  public readonly resultsLocation: pulumi.Output<string>;
  /** Named query IDs by hunt name. */
  public readonly huntQueryIds: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: InvestigationWorkspaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flz:investigation:InvestigationWorkspace", name, {}, opts);
    const opt = { parent: this, provider: args.provider };
    const databaseName = args.databaseName ?? "flz_investigation";
    const tableName = args.tableName ?? "organization_trail";
    const cutoff = args.bytesScannedCutoffPerQuery ?? DEFAULT_BYTES_SCANNED_CUTOFF;
    // Athena's own bounds for the cutoff: at least 10 MB.
    if (!Number.isInteger(cutoff) || cutoff < 10_000_000)
      throw new Error(
        `InvestigationWorkspace "${name}": bytesScannedCutoffPerQuery ${cutoff} is below Athena's minimum of 10000000 bytes`,
      );
    // Build the queries now so a bad region or name fails at preview, not at deploy.
    const hunts = huntQueries({
      database: databaseName,
      table: tableName,
      governedRegions: args.governedRegions,
      lookbackDays: args.lookbackDays,
    });
    const prefix = (args.resultsPrefix ?? "athena-results/").replace(/^\/+/, "");
    const resultsLocation = pulumi.interpolate`s3://${args.evidenceBucket}/${prefix.endsWith("/") ? prefix : `${prefix}/`}`;

    const workgroup = new aws.athena.Workgroup(
      `${name}-workgroup`,
      {
        name: args.workgroupName ?? "flz-investigation",
        description:
          "Forensic landing zone: hunts over the organisation trail; results encrypted into the evidence bucket.",
        state: "ENABLED",
        forceDestroy: false,
        configuration: {
          enforceWorkgroupConfiguration: true,
          publishCloudwatchMetricsEnabled: true,
          bytesScannedCutoffPerQuery: cutoff,
          engineVersion: { selectedEngineVersion: "Athena engine version 3" },
          resultConfiguration: {
            outputLocation: resultsLocation,
            encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: args.resultsKmsKeyArn },
            aclConfiguration: { s3AclOption: "BUCKET_OWNER_FULL_CONTROL" },
          },
        },
      },
      opt,
    );

    const database = new aws.glue.CatalogDatabase(
      `${name}-database`,
      { name: databaseName, description: "Forensic landing zone investigation." },
      opt,
    );

    const parameters = pulumi
      .all([args.trailBucket, args.trailPrefix ?? "", args.organizationId])
      .apply(([bucket, trailPrefix, organizationId]) =>
        cloudTrailTableParameters({
          bucket,
          prefix: trailPrefix,
          organizationId,
          firstDay: args.firstDay ?? "2020/01/01",
        }),
      );
    const location = pulumi
      .all([args.trailBucket, args.trailPrefix ?? "", args.organizationId])
      .apply(([bucket, trailPrefix, organizationId]) =>
        cloudTrailRoot({ bucket, prefix: trailPrefix, organizationId }),
      );
    const table = new aws.glue.CatalogTable(
      `${name}-trail-table`,
      {
        name: tableName,
        databaseName: database.name,
        description:
          "Organisation CloudTrail logs, partitioned by projection over account (injected: name it in every query), region and date.",
        tableType: "EXTERNAL_TABLE",
        parameters,
        partitionKeys: CLOUDTRAIL_PARTITION_KEYS.map((k) => ({ name: k.name, type: k.type })),
        storageDescriptor: {
          location,
          inputFormat: CLOUDTRAIL_SERDE.inputFormat,
          outputFormat: CLOUDTRAIL_SERDE.outputFormat,
          serDeInfo: {
            name: "CloudTrailSerde",
            serializationLibrary: CLOUDTRAIL_SERDE.serializationLibrary,
            parameters: { "serialization.format": "1" },
          },
          columns: CLOUDTRAIL_COLUMNS.map((c) => ({ name: c.name, type: c.type })),
        },
      },
      opt,
    );

    this.huntQueryIds = {};
    for (const hunt of hunts) {
      const query = new aws.athena.NamedQuery(
        `${name}-${hunt.name}`,
        {
          name: hunt.name,
          description: hunt.description,
          database: database.name,
          workgroup: workgroup.name,
          query: hunt.sql,
        },
        { ...opt, dependsOn: [table] },
      );
      this.huntQueryIds[hunt.name] = query.id;
    }

    this.workgroupName = workgroup.name;
    this.databaseName = database.name;
    this.tableName = table.name;
    this.resultsLocation = resultsLocation;
    this.registerOutputs({
      workgroupName: this.workgroupName,
      databaseName: this.databaseName,
      tableName: this.tableName,
      resultsLocation: this.resultsLocation,
      huntQueryIds: this.huntQueryIds,
    });
  }
}
