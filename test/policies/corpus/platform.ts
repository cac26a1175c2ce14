/**
 * Ordinary platform programs: a CI deploy role trusted through OIDC, an account baseline that declares itself and
 * owns the account-wide settings, an application that opts one bucket into evidence handling, a multi-region stack
 * with explicit providers (and the deprecated `*V2` bucket types older programs still use), and a partner role.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { appKey, logGroup, privateBucket, tlsOnlyPolicy, type CorpusProgram } from "./common";

const ACCOUNT = "333333333333";

export const oidcDeployRole: CorpusProgram = {
  name: "OIDC deploy role (GitHub Actions, one repository, scoped permissions)",
  program: () => {
    const provider = new aws.iam.OpenIdConnectProvider("github", {
      url: "https://token.actions.githubusercontent.com",
      clientIdLists: ["sts.amazonaws.com"],
    });
    const trust = provider.arn.apply((arn) =>
      aws.iam.getPolicyDocumentOutput({
        statements: [
          {
            actions: ["sts:AssumeRoleWithWebIdentity"],
            principals: [{ type: "Federated", identifiers: [arn] }],
            conditions: [
              {
                test: "StringEquals",
                variable: "token.actions.githubusercontent.com:aud",
                values: ["sts.amazonaws.com"],
              },
              {
                test: "StringLike",
                variable: "token.actions.githubusercontent.com:sub",
                values: ["repo:example/web:ref:refs/heads/main"],
              },
            ],
          },
        ],
      }),
    );
    const role = new aws.iam.Role("deploy", { assumeRolePolicy: trust.json, maxSessionDuration: 3600 });
    new aws.iam.RolePolicy("deploy", {
      role: role.id,
      policy: aws.iam.getPolicyDocumentOutput({
        statements: [
          {
            sid: "Site",
            actions: ["s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
            resources: ["arn:aws:s3:::example-web", "arn:aws:s3:::example-web/*"],
          },
          {
            sid: "Invalidate",
            actions: ["cloudfront:CreateInvalidation"],
            resources: [`arn:aws:cloudfront::${ACCOUNT}:distribution/*`],
          },
          {
            sid: "PassAppRole",
            actions: ["iam:PassRole"],
            resources: [`arn:aws:iam::${ACCOUNT}:role/example-web-app`],
          },
        ],
      }).json,
    });
    return { roleArn: role.arn };
  },
};

export const accountBaseline: CorpusProgram = {
  name: "account baseline (declared by stack tag; EBS defaults, GuardDuty, account trail, public-access block)",
  stackTags: { "flz:stack-kind": "account-baseline" },
  program: () => {
    const regions = ["us-east-1", "eu-west-1"];
    const providers = regions.map((region) => new aws.Provider(region, { region, allowedAccountIds: [ACCOUNT] }));
    for (const [i, provider] of providers.entries()) {
      new aws.ebs.EncryptionByDefault(`ebs-default-${regions[i]}`, { enabled: true }, { provider });
      new aws.guardduty.Detector(`guardduty-${regions[i]}`, { enable: true }, { provider });
    }
    const home = { provider: providers[0] };
    new aws.s3.AccountPublicAccessBlock(
      "account-pab",
      { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      home,
    );
    const trailKey = new aws.kms.Key(
      "trail",
      {
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "Account",
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
              Action: "kms:*",
              Resource: "*",
            },
            {
              Sid: "CloudTrailEncrypts",
              Effect: "Allow",
              Principal: { Service: "cloudtrail.amazonaws.com" },
              Action: ["kms:GenerateDataKey*", "kms:DescribeKey"],
              Resource: "*",
              Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
            },
          ],
        }),
      },
      home,
    );
    const logs = privateBucket("trail-logs", trailKey, home, {
      policy: false,
      bucketArgs: { objectLockEnabled: true },
    });
    new aws.s3.BucketObjectLockConfiguration(
      "trail-logs-lock",
      { bucket: logs.id, rule: { defaultRetention: { mode: "COMPLIANCE", days: 365 } } },
      home,
    );
    const policy = tlsOnlyPolicy(
      "trail-logs",
      logs,
      [
        {
          Sid: "AclCheck",
          Effect: "Allow",
          Principal: { Service: "cloudtrail.amazonaws.com" },
          Action: "s3:GetBucketAcl",
          Resource: logs.arn,
          Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
        },
        {
          Sid: "Write",
          Effect: "Allow",
          Principal: { Service: "cloudtrail.amazonaws.com" },
          Action: "s3:PutObject",
          Resource: pulumi.interpolate`${logs.arn}/AWSLogs/${ACCOUNT}/*`,
          Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT, "s3:x-amz-acl": "bucket-owner-full-control" } },
        },
      ],
      home,
    );
    new aws.cloudtrail.Trail(
      "account",
      {
        s3BucketName: logs.id,
        kmsKeyId: trailKey.arn,
        isMultiRegionTrail: true,
        includeGlobalServiceEvents: true,
        enableLogFileValidation: true,
        enableLogging: true,
      },
      { ...home, dependsOn: [policy] },
    );
    new aws.iam.AccountPasswordPolicy(
      "passwords",
      { minimumPasswordLength: 16, requireSymbols: true, passwordReusePrevention: 24 },
      home,
    );
    return {};
  },
};

export const evidenceOptIn: CorpusProgram = {
  name: "application that opts one bucket into evidence handling (purpose tag, locked, KMS, TLS-only)",
  program: () => {
    const key = new aws.kms.Key("exports", {
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      tags: { "flz:purpose": "evidence-key" },
    });
    const bucket = privateBucket("incident-exports", key, undefined, {
      bucketArgs: { objectLockEnabled: true, tags: { "flz:purpose": "evidence" } },
    });
    new aws.s3.BucketObjectLockConfiguration("incident-exports-lock", {
      bucket: bucket.id,
      rule: { defaultRetention: { mode: "COMPLIANCE", days: 400 } },
    });
    // The rest of the application: an ordinary, untagged bucket and a queue.
    privateBucket("uploads", appKey("uploads"));
    new aws.sqs.Queue("uploads", { sqsManagedSseEnabled: true });
    return { exports: bucket.bucket };
  },
};

export const multiRegion: CorpusProgram = {
  name: "multi-region stack with explicit providers (BucketV2 types, encrypted topics, replicated tables)",
  program: () => {
    const regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
    for (const region of regions) {
      const provider = new aws.Provider(`aws-${region}`, { region, allowedAccountIds: [ACCOUNT] });
      const opts = { provider };
      const key = appKey(`data-${region}`, opts);
      const bucket = new aws.s3.BucketV2(`assets-${region}`, {}, opts);
      new aws.s3.BucketServerSideEncryptionConfigurationV2(
        `assets-${region}-sse`,
        {
          bucket: bucket.id,
          rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn } }],
        },
        opts,
      );
      new aws.s3.BucketPublicAccessBlock(
        `assets-${region}-pab`,
        {
          bucket: bucket.id,
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        },
        opts,
      );
      new aws.sns.Topic(`alerts-${region}`, { kmsMasterKeyId: key.id }, opts);
      new aws.dynamodb.Table(
        `sessions-${region}`,
        {
          billingMode: "PAY_PER_REQUEST",
          hashKey: "id",
          attributes: [{ name: "id", type: "S" }],
          serverSideEncryption: { enabled: true, kmsKeyArn: key.arn },
        },
        opts,
      );
      logGroup(`app-${region}`, opts);
    }
    return {};
  },
};

export const partnerAccess: CorpusProgram = {
  name: "partner access role (another account's root, pinned by an external ID)",
  program: () => {
    const provider = new aws.Provider("app", { region: "us-east-1", allowedAccountIds: [ACCOUNT] });
    const role = new aws.iam.Role(
      "vendor-read",
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: "arn:aws:iam::444455556666:root" },
              Action: "sts:AssumeRole",
              Condition: { StringEquals: { "sts:ExternalId": "vendor-7f3a9c" } },
            },
          ],
        }),
        managedPolicyArns: ["arn:aws:iam::aws:policy/SecurityAudit"],
      },
      { provider },
    );
    return { roleArn: role.arn };
  },
};
