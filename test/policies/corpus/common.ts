/**
 * Building blocks the ordinary programs of the corpus share, written the way a careful team writes them (not the
 * landing zone's components: the corpus is "any program", and must not lean on this project's code).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** One program of the corpus. */
export interface CorpusProgram {
  /** What kind of program it is. */
  readonly name: string;
  /** Stack tags it runs with (an account baseline declares itself). */
  readonly stackTags?: Record<string, string>;
  /** The program: registers resources, returns its exports. */
  readonly program: () => unknown;
}

/** A role a service assumes. */
export function serviceRole(name: string, service: string, opts?: pulumi.CustomResourceOptions): aws.iam.Role {
  return new aws.iam.Role(
    name,
    {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
      }),
    },
    opts,
  );
}

/** A log group that keeps a year of events. */
export function logGroup(name: string, opts?: pulumi.CustomResourceOptions): aws.cloudwatch.LogGroup {
  return new aws.cloudwatch.LogGroup(name, { retentionInDays: 365 }, opts);
}

/** A VPC with two private subnets and a flow log of all traffic into a log group. */
export function networkWithFlowLogs(
  name: string,
  opts?: pulumi.CustomResourceOptions,
): { vpc: aws.ec2.Vpc; subnets: aws.ec2.Subnet[] } {
  const vpc = new aws.ec2.Vpc(name, { cidrBlock: "10.20.0.0/16", enableDnsHostnames: true }, opts);
  const subnets = ["a", "b"].map(
    (az, i) =>
      new aws.ec2.Subnet(
        `${name}-${az}`,
        { vpcId: vpc.id, cidrBlock: `10.20.${i}.0/24`, availabilityZone: `us-east-1${az}` },
        opts,
      ),
  );
  const group = logGroup(`${name}-flow`, opts);
  const role = serviceRole(`${name}-flow-role`, "vpc-flow-logs.amazonaws.com", opts);
  new aws.iam.RolePolicy(
    `${name}-flow-write`,
    {
      role: role.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            Resource: pulumi.interpolate`${group.arn}:*`,
          },
        ],
      }),
    },
    opts,
  );
  new aws.ec2.FlowLog(
    `${name}-flow`,
    { vpcId: vpc.id, trafficType: "ALL", logDestination: group.arn, iamRoleArn: role.arn },
    opts,
  );
  return { vpc, subnets };
}

/** A customer-managed key that rotates, administered by its own account only (policy from getPolicyDocument). */
export function appKey(name: string, opts?: pulumi.CustomResourceOptions): aws.kms.Key {
  const policy = aws.getCallerIdentityOutput({}, opts).accountId.apply((account) =>
    aws.iam.getPolicyDocumentOutput({
      statements: [
        {
          sid: "AccountAdministers",
          principals: [{ type: "AWS", identifiers: [`arn:aws:iam::${account}:root`] }],
          actions: ["kms:*"],
          resources: ["*"],
        },
      ],
    }),
  );
  return new aws.kms.Key(
    name,
    { description: `${name} data key`, enableKeyRotation: true, deletionWindowInDays: 30, policy: policy.json },
    opts,
  );
}

/** A bucket policy that refuses requests without TLS, plus `extra` statements. */
export function tlsOnlyPolicy(
  name: string,
  bucket: aws.s3.Bucket,
  extra: unknown[] = [],
  opts?: pulumi.CustomResourceOptions,
): aws.s3.BucketPolicy {
  return new aws.s3.BucketPolicy(
    `${name}-policy`,
    {
      bucket: bucket.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "TlsOnly",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
          ...extra,
        ],
      }),
    },
    opts,
  );
}

/** A private bucket: encrypted under `key`, public access blocked, versioned, TLS-only unless `policy` is false. */
export function privateBucket(
  name: string,
  key: aws.kms.Key,
  opts?: pulumi.CustomResourceOptions,
  options: { policy?: boolean; bucketArgs?: aws.s3.BucketArgs } = {},
): aws.s3.Bucket {
  const bucket = new aws.s3.Bucket(name, options.bucketArgs ?? {}, opts);
  new aws.s3.BucketPublicAccessBlock(
    `${name}-pab`,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    opts,
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-sse`,
    {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn } }],
    },
    opts,
  );
  new aws.s3.BucketVersioning(
    `${name}-versioning`,
    { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
    opts,
  );
  if (options.policy !== false) tlsOnlyPolicy(name, bucket, [], opts);
  return bucket;
}

/** A trivial Lambda bundle (the corpus checks configuration, not code). */
export function lambdaCode(): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive({
    "index.js": new pulumi.asset.StringAsset("exports.handler = async () => ({});"),
  });
}
