/**
 * An isolated analysis network in the forensic account: no internet path at all, AWS APIs through VPC endpoints,
 * every flow logged.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { flowLogKeyPolicy, flowLogTrustPolicy, flowLogWritePolicy } from "./documents/network";
import { PURPOSE, purposeTags } from "./tags";

/**
 * Interface endpoints created by default: the APIs an analysis instance needs (EC2 and EBS to attach evidence volumes,
 * KMS to decrypt them, STS for credentials, SSM plus its message channels for Session Manager access without SSH,
 * CloudWatch Logs for flow and session logs).
 */
export const DEFAULT_INTERFACE_ENDPOINTS: readonly string[] = [
  "ec2",
  "ebs",
  "kms",
  "sts",
  "ssm",
  "ssmmessages",
  "ec2messages",
  "logs",
];

/** Arguments of {@link ForensicVpc}. */
export interface ForensicVpcArgs {
  /** Provider for the forensic account in `region`. Required, so the VPC never lands in another account. */
  readonly provider: aws.Provider;
  /** Region of `provider`; endpoint service names are regional (`com.amazonaws.<region>.<service>`). */
  readonly region: string;
  /** Two (or more) availability zones for the private subnets, e.g. `["us-east-1a", "us-east-1b"]`. */
  readonly availabilityZones: string[];
  /** VPC CIDR block. Default `10.77.0.0/16`; choose one that does not overlap networks you may peer for analysis. */
  readonly cidrBlock?: string;
  /** Interface endpoint services (short names). Default {@link DEFAULT_INTERFACE_ENDPOINTS}. */
  readonly interfaceEndpoints?: string[];
  /** Days flow logs are kept. Default 365: long enough for an investigation that starts months after the fact. */
  readonly flowLogRetentionDays?: number;
}

/** Splits a /16 (or larger) block into /24 subnets: the i-th subnet. Pure, so the plan is predictable. */
export function subnetCidr(vpcCidr: string, index: number): string {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(vpcCidr);
  if (!match || Number(match[5]) > 22)
    throw new Error(`cidrBlock "${vpcCidr}" is not an IPv4 block of /22 or larger, e.g. 10.77.0.0/16`);
  const [a, b, c] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return `${a}.${b}.${c + index}.0/24`;
}

/**
 * A VPC with private subnets only (no internet or NAT gateway, no route out), interface endpoints with private DNS
 * behind a group that admits HTTPS from the VPC only, an S3 gateway endpoint, flow logs for all traffic into a
 * KMS-encrypted log group, and an analysis security group with no ingress whose only egress is HTTPS to the endpoints.
 */
export class ForensicVpc extends pulumi.ComponentResource {
  /** VPC ID. */
  public readonly vpcId: pulumi.Output<string>;
  /** Private subnet IDs, one per availability zone. */
  public readonly subnetIds: pulumi.Output<string[]>;
  /** Security group for analysis instances: no ingress, HTTPS egress to the endpoints and S3 only. */
  public readonly analysisSecurityGroupId: pulumi.Output<string>;
  /** Security group of the interface endpoints. */
  public readonly endpointSecurityGroupId: pulumi.Output<string>;
  /** Log group that receives the VPC flow logs. */
  public readonly flowLogGroupName: pulumi.Output<string>;

  constructor(name: string, args: ForensicVpcArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flz:network:ForensicVpc", name, {}, opts);
    if (args.availabilityZones.length < 2) {
      throw new Error(
        `ForensicVpc "${name}": availabilityZones has ${args.availabilityZones.length}: give at least two, e.g. ["${args.region}a", "${args.region}b"]`,
      );
    }
    const wrongZone = args.availabilityZones.find((z) => !z.startsWith(args.region));
    if (wrongZone) throw new Error(`ForensicVpc "${name}": zone "${wrongZone}" is not in region ${args.region}`);
    const cidr = args.cidrBlock ?? "10.77.0.0/16";
    const opt = { parent: this, provider: args.provider };
    const identity = aws.getCallerIdentityOutput({}, { parent: this, provider: args.provider });
    const partition = aws.getPartitionOutput({}, { parent: this, provider: args.provider });

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: cidr,
        enableDnsSupport: true,
        enableDnsHostnames: true,
        tags: { Name: `${name}-forensic`, ...purposeTags(PURPOSE.forensicNetwork) },
      },
      opt,
    );
    // The default group allows all traffic between its members; take every rule away so nothing can use it by accident.
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, ingress: [], egress: [] }, opt);

    const routeTable = new aws.ec2.RouteTable(
      `${name}-private`,
      { vpcId: vpc.id, tags: { Name: `${name}-private` } },
      opt,
    );
    const subnets = args.availabilityZones.map((zone, i) => {
      const subnet = new aws.ec2.Subnet(
        `${name}-private-${zone}`,
        {
          vpcId: vpc.id,
          cidrBlock: subnetCidr(cidr, i),
          availabilityZone: zone,
          mapPublicIpOnLaunch: false,
          tags: { Name: `${name}-private-${zone}` },
        },
        opt,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-private-${zone}`,
        { subnetId: subnet.id, routeTableId: routeTable.id },
        opt,
      );
      return subnet;
    });

    const endpointGroup = new aws.ec2.SecurityGroup(
      `${name}-endpoints`,
      {
        vpcId: vpc.id,
        description: "VPC interface endpoints: HTTPS from inside the forensic VPC only",
        ingress: [
          { description: "HTTPS from the VPC", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [cidr] },
        ],
        egress: [],
      },
      opt,
    );

    const s3 = new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${args.region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: [routeTable.id],
      },
      opt,
    );
    for (const service of args.interfaceEndpoints ?? DEFAULT_INTERFACE_ENDPOINTS) {
      new aws.ec2.VpcEndpoint(
        `${name}-${service}`,
        {
          vpcId: vpc.id,
          serviceName: `com.amazonaws.${args.region}.${service}`,
          vpcEndpointType: "Interface",
          privateDnsEnabled: true,
          subnetIds: subnets.map((s) => s.id),
          securityGroupIds: [endpointGroup.id],
        },
        opt,
      );
    }

    const analysisGroup = new aws.ec2.SecurityGroup(
      `${name}-analysis`,
      {
        vpcId: vpc.id,
        description: "Forensic analysis instances: no ingress; HTTPS to the VPC endpoints and S3 only",
        ingress: [],
        egress: [
          {
            description: "HTTPS to the interface endpoints",
            protocol: "tcp",
            fromPort: 443,
            toPort: 443,
            securityGroups: [endpointGroup.id],
          },
          {
            description: "HTTPS to S3 through the gateway endpoint",
            protocol: "tcp",
            fromPort: 443,
            toPort: 443,
            prefixListIds: [s3.prefixListId],
          },
        ],
      },
      opt,
    );

    const key = new aws.kms.Key(
      `${name}-flow-logs`,
      {
        description: "Forensic VPC flow logs",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi
          .all([identity.accountId, partition.partition])
          .apply(([account, part]) => JSON.stringify(flowLogKeyPolicy(account, args.region, part))),
      },
      opt,
    );
    const logGroupName = `/flz/forensic-vpc/${name}/flow-logs`;
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      {
        name: logGroupName,
        retentionInDays: args.flowLogRetentionDays ?? 365,
        kmsKeyId: key.arn,
      },
      opt,
    );
    const role = new aws.iam.Role(
      `${name}-flow-logs`,
      {
        assumeRolePolicy: identity.accountId.apply((account) => JSON.stringify(flowLogTrustPolicy(account))),
        description: "Delivers forensic VPC flow logs",
      },
      opt,
    );
    new aws.iam.RolePolicy(
      `${name}-flow-logs`,
      {
        role: role.id,
        // Built from the log group's name, so the policy pack checks it at a first preview; the role only needs the
        // group to exist when flow logs are delivered, and the flow log below waits for the group.
        policy: pulumi
          .all([partition.partition, identity.accountId])
          .apply(([part, account]) =>
            JSON.stringify(flowLogWritePolicy(`arn:${part}:logs:${args.region}:${account}:log-group:${logGroupName}`)),
          ),
      },
      opt,
    );
    new aws.ec2.FlowLog(
      `${name}-flow-log`,
      {
        vpcId: vpc.id,
        trafficType: "ALL",
        logDestinationType: "cloud-watch-logs",
        logDestination: logGroup.arn,
        iamRoleArn: role.arn,
        maxAggregationInterval: 60,
      },
      opt,
    );

    this.vpcId = vpc.id;
    this.subnetIds = pulumi.all(subnets.map((s) => s.id));
    this.analysisSecurityGroupId = analysisGroup.id;
    this.endpointSecurityGroupId = endpointGroup.id;
    this.flowLogGroupName = logGroup.name;
    this.registerOutputs({
      vpcId: this.vpcId,
      subnetIds: this.subnetIds,
      analysisSecurityGroupId: this.analysisSecurityGroupId,
      endpointSecurityGroupId: this.endpointSecurityGroupId,
      flowLogGroupName: this.flowLogGroupName,
    });
  }
}
