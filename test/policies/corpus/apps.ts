/**
 * Ordinary application programs: a web service, a static site behind CloudFront, a queue worker, a serverless API, a
 * container cluster. Well configured, and none of them owns account-wide settings.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  appKey,
  lambdaCode,
  logGroup,
  networkWithFlowLogs,
  privateBucket,
  serviceRole,
  tlsOnlyPolicy,
  type CorpusProgram,
} from "./common";

export const webService: CorpusProgram = {
  name: "web service (VPC, load balancer, auto-scaling group from a launch template)",
  program: () => {
    const { vpc, subnets } = networkWithFlowLogs("web");
    const sg = new aws.ec2.SecurityGroup("web", {
      vpcId: vpc.id,
      ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }],
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
    });
    const role = serviceRole("web-instance", "ec2.amazonaws.com");
    new aws.iam.RolePolicyAttachment("web-ssm", {
      role: role.name,
      policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    });
    const profile = new aws.iam.InstanceProfile("web", { role: role.name });
    const template = new aws.ec2.LaunchTemplate("web", {
      imageId: "ami-0abcdef1234567890",
      instanceType: "t3.small",
      iamInstanceProfile: { arn: profile.arn },
      vpcSecurityGroupIds: [sg.id],
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 20, encrypted: "true" } }],
    });
    const lb = new aws.lb.LoadBalancer("web", {
      loadBalancerType: "application",
      subnets: subnets.map((s) => s.id),
      securityGroups: [sg.id],
    });
    const target = new aws.lb.TargetGroup("web", { port: 80, protocol: "HTTP", vpcId: vpc.id });
    new aws.autoscaling.Group("web", {
      minSize: 2,
      maxSize: 4,
      vpcZoneIdentifiers: subnets.map((s) => s.id),
      launchTemplate: { id: template.id, version: "$Latest" },
      targetGroupArns: [target.arn],
    });
    logGroup("web-app");
    return { url: lb.dnsName };
  },
};

export const staticSite: CorpusProgram = {
  name: "static site (private bucket, CloudFront with origin access control)",
  program: () => {
    const key = appKey("site");
    const oac = new aws.cloudfront.OriginAccessControl("site", {
      originAccessControlOriginType: "s3",
      signingBehavior: "always",
      signingProtocol: "sigv4",
    });
    const bucket = privateBucket("site", key, undefined, { policy: false });
    const distribution = new aws.cloudfront.Distribution("site", {
      enabled: true,
      defaultRootObject: "index.html",
      origins: [{ originId: "s3", domainName: bucket.bucketRegionalDomainName, originAccessControlId: oac.id }],
      defaultCacheBehavior: {
        targetOriginId: "s3",
        viewerProtocolPolicy: "redirect-to-https",
        allowedMethods: ["GET", "HEAD"],
        cachedMethods: ["GET", "HEAD"],
        cachePolicyId: "658327ea-f89d-4fab-a63d-7e88639e58f6",
      },
      restrictions: { geoRestriction: { restrictionType: "none" } },
      viewerCertificate: { cloudfrontDefaultCertificate: true },
    });
    // CloudFront reads through its origin access control, and only for this distribution (aws:SourceArn).
    tlsOnlyPolicy("site", bucket, [
      {
        Sid: "CloudFrontReads",
        Effect: "Allow",
        Principal: { Service: "cloudfront.amazonaws.com" },
        Action: "s3:GetObject",
        Resource: pulumi.interpolate`${bucket.arn}/*`,
        Condition: { StringEquals: { "aws:SourceArn": distribution.arn } },
      },
    ]);
    return { domain: distribution.domainName };
  },
};

export const queueWorker: CorpusProgram = {
  name: "queue worker (SQS with a dead-letter queue, Lambda consumer)",
  program: () => {
    const dlq = new aws.sqs.Queue("jobs-dlq", { sqsManagedSseEnabled: true, messageRetentionSeconds: 1209600 });
    const queue = new aws.sqs.Queue("jobs", {
      sqsManagedSseEnabled: true,
      redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 5 }),
    });
    const role = serviceRole("worker", "lambda.amazonaws.com");
    new aws.iam.RolePolicyAttachment("worker-logs", {
      role: role.name,
      policyArn: "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    });
    new aws.iam.RolePolicy("worker-queue", {
      role: role.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            Resource: queue.arn,
          },
        ],
      }),
    });
    const fn = new aws.lambda.Function("worker", {
      runtime: "nodejs20.x",
      handler: "index.handler",
      role: role.arn,
      code: lambdaCode(),
    });
    logGroup("worker-logs");
    new aws.lambda.EventSourceMapping("worker", { eventSourceArn: queue.arn, functionName: fn.name, batchSize: 10 });
    return { queueUrl: queue.url };
  },
};

export const serverlessApi: CorpusProgram = {
  name: "serverless API (HTTP API, Lambda, DynamoDB)",
  program: () => {
    const table = new aws.dynamodb.Table("items", {
      billingMode: "PAY_PER_REQUEST",
      hashKey: "id",
      attributes: [{ name: "id", type: "S" }],
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
    });
    const role = serviceRole("api", "lambda.amazonaws.com");
    new aws.iam.RolePolicy("api-table", {
      role: role.id,
      policy: table.arn.apply(
        (arn) =>
          aws.iam.getPolicyDocumentOutput({
            statements: [{ actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"], resources: [arn] }],
          }).json,
      ),
    });
    const fn = new aws.lambda.Function("api", {
      runtime: "nodejs20.x",
      handler: "index.handler",
      role: role.arn,
      code: lambdaCode(),
    });
    const api = new aws.apigatewayv2.Api("api", { protocolType: "HTTP" });
    const integration = new aws.apigatewayv2.Integration("api", {
      apiId: api.id,
      integrationType: "AWS_PROXY",
      integrationUri: fn.arn,
      payloadFormatVersion: "2.0",
    });
    new aws.apigatewayv2.Route("api", {
      apiId: api.id,
      routeKey: "GET /items",
      target: pulumi.interpolate`integrations/${integration.id}`,
    });
    const access = logGroup("api-access");
    new aws.apigatewayv2.Stage("api", {
      apiId: api.id,
      name: "$default",
      autoDeploy: true,
      accessLogSettings: { destinationArn: access.arn, format: '{"requestId":"$context.requestId"}' },
    });
    new aws.lambda.Permission("api", {
      action: "lambda:InvokeFunction",
      function: fn.name,
      principal: "apigateway.amazonaws.com",
      sourceArn: pulumi.interpolate`${api.executionArn}/*/*`,
    });
    return { endpoint: api.apiEndpoint };
  },
};

export const containerCluster: CorpusProgram = {
  name: "container cluster (ECS on Fargate in a VPC with flow logs)",
  program: () => {
    const { vpc, subnets } = networkWithFlowLogs("svc");
    const cluster = new aws.ecs.Cluster("svc", { settings: [{ name: "containerInsights", value: "enabled" }] });
    const execution = serviceRole("svc-execution", "ecs-tasks.amazonaws.com");
    new aws.iam.RolePolicyAttachment("svc-execution", {
      role: execution.name,
      policyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    });
    const task = serviceRole("svc-task", "ecs-tasks.amazonaws.com");
    const logs = logGroup("svc");
    const definition = new aws.ecs.TaskDefinition("svc", {
      family: "svc",
      cpu: "256",
      memory: "512",
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      executionRoleArn: execution.arn,
      taskRoleArn: task.arn,
      containerDefinitions: pulumi.jsonStringify([
        {
          name: "app",
          image: "public.ecr.aws/nginx/nginx:stable",
          portMappings: [{ containerPort: 80 }],
          logConfiguration: {
            logDriver: "awslogs",
            options: { "awslogs-group": logs.name, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app" },
          },
        },
      ]),
    });
    const sg = new aws.ec2.SecurityGroup("svc", {
      vpcId: vpc.id,
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
    });
    new aws.ecs.Service("svc", {
      cluster: cluster.arn,
      taskDefinition: definition.arn,
      desiredCount: 2,
      launchType: "FARGATE",
      networkConfiguration: { subnets: subnets.map((s) => s.id), securityGroups: [sg.id] },
    });
    return { cluster: cluster.name };
  },
};

export const dataPipeline: CorpusProgram = {
  name: "data pipeline (KMS-encrypted lake bucket, Glue crawler, Athena workgroup, encrypted topic)",
  program: () => {
    const key = appKey("lake");
    const lake = privateBucket("lake", key);
    const results = privateBucket("lake-results", key);
    const database = new aws.glue.CatalogDatabase("lake", { name: "lake" });
    const crawlerRole = serviceRole("lake-crawler", "glue.amazonaws.com");
    new aws.iam.RolePolicyAttachment("lake-crawler", {
      role: crawlerRole.name,
      policyArn: "arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole",
    });
    new aws.iam.RolePolicy("lake-crawler-read", {
      role: crawlerRole.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:ListBucket"],
            Resource: [lake.arn, pulumi.interpolate`${lake.arn}/*`],
          },
          { Effect: "Allow", Action: ["kms:Decrypt"], Resource: key.arn },
        ],
      }),
    });
    new aws.glue.Crawler("lake", {
      databaseName: database.name,
      role: crawlerRole.arn,
      s3Targets: [{ path: pulumi.interpolate`s3://${lake.bucket}/raw/` }],
    });
    new aws.athena.Workgroup("lake", {
      configuration: {
        enforceWorkgroupConfiguration: true,
        resultConfiguration: {
          outputLocation: pulumi.interpolate`s3://${results.bucket}/`,
          encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: key.arn },
        },
      },
    });
    new aws.sns.Topic("lake-events", { kmsMasterKeyId: key.id });
    return { lake: lake.bucket };
  },
};
