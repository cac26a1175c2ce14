import type { RecordedResource } from "../../scripts/plan/mock-engine";
import { athenaWorkgroupEnforcedEncrypted, snsTopicEncrypted } from "../../policies/investigation";
import { forensicVpcNoInternet } from "../../policies/network";
import { scpSizeLimit } from "../../policies/organization";
import { expectNotApplicable, expectPass, expectViolation, provider, res } from "./helpers";

const forensic = provider("us-east-1", "222222222222");

/** A compliant workgroup; `configuration` replaces parts of its configuration. */
function workgroup(configuration: Record<string, unknown> = {}): RecordedResource[] {
  return [
    forensic,
    res(
      "aws:athena/workgroup:Workgroup",
      "hunts",
      {
        configuration: {
          enforceWorkgroupConfiguration: true,
          resultConfiguration: {
            outputLocation: "s3://evidence/athena-results/",
            encryptionConfiguration: {
              encryptionOption: "SSE_KMS",
              kmsKeyArn: "arn:aws:kms:us-east-1:222222222222:key/k",
            },
          },
          ...configuration,
        },
      },
      { provider: forensic },
    ),
  ];
}

describe("athena-workgroup-enforced-encrypted", () => {
  const rule = athenaWorkgroupEnforcedEncrypted;
  it("passes a workgroup that enforces SSE-KMS results", () => expectPass(rule, workgroup()));
  it("fails a workgroup clients can override", () =>
    expectViolation(
      rule,
      workgroup({ enforceWorkgroupConfiguration: false }),
      /enforceWorkgroupConfiguration is false/,
    ));
  it("fails unencrypted results", () =>
    expectViolation(rule, workgroup({ resultConfiguration: { outputLocation: "s3://x/" } }), /not encrypted/));
  it("fails SSE-S3 results", () =>
    expectViolation(
      rule,
      workgroup({ resultConfiguration: { encryptionConfiguration: { encryptionOption: "SSE_S3" } } }),
      /SSE_S3: use SSE_KMS/,
    ));
  it("fails SSE-KMS without a named key", () =>
    expectViolation(
      rule,
      workgroup({ resultConfiguration: { encryptionConfiguration: { encryptionOption: "SSE_KMS" } } }),
      /without kmsKeyArn/,
    ));
  it("skips other resources", () => expectNotApplicable(rule, [res("aws:sns/topic:Topic", "t", {})]));
});

describe("sns-topic-encrypted", () => {
  const topic = (inputs: Record<string, unknown>) => [
    forensic,
    res("aws:sns/topic:Topic", "alarms", inputs, { provider: forensic }),
  ];
  it("passes a topic with a KMS key", () =>
    expectPass(snsTopicEncrypted, topic({ kmsMasterKeyId: "arn:aws:kms:us-east-1:222222222222:key/k" })));
  it("fails a topic without one", () =>
    expectViolation(snsTopicEncrypted, topic({ name: "alarms" }), /kmsMasterKeyId is not set/));
});

describe("forensic-vpc-no-internet", () => {
  const rule = forensicVpcNoInternet;
  const vpc = (tags: Record<string, string>) =>
    res("aws:ec2/vpc:Vpc", "analysis", { cidrBlock: "10.77.0.0/16", tags }, { provider: forensic });
  const tagged = vpc({ "flz:purpose": "forensic-network" });
  const subnet = res(
    "aws:ec2/subnet:Subnet",
    "analysis-a",
    { vpcId: tagged.id, cidrBlock: "10.77.0.0/24" },
    { provider: forensic },
  );
  const isolated = [forensic, tagged, subnet];

  it("passes an isolated forensic VPC", () => expectPass(rule, isolated));
  it("fails an internet gateway in it", () =>
    expectViolation(
      rule,
      [
        ...isolated,
        res("aws:ec2/internetGateway:InternetGateway", "igw", { vpcId: tagged.id }, { provider: forensic }),
      ],
      /VPC analysis is for forensic analysis but igw \(aws:ec2\/internetGateway:InternetGateway\)/,
    ));
  it("fails an egress-only gateway in it", () =>
    expectViolation(
      rule,
      [
        ...isolated,
        res(
          "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
          "eigw",
          { vpcId: tagged.id },
          { provider: forensic },
        ),
      ],
      /eigw/,
    ));
  it("fails a NAT gateway in one of its subnets", () =>
    expectViolation(
      rule,
      [...isolated, res("aws:ec2/natGateway:NatGateway", "nat", { subnetId: subnet.id }, { provider: forensic })],
      /nat \(aws:ec2\/natGateway:NatGateway\)/,
    ));
  it("leaves VPCs not tagged for forensics alone", () =>
    expectNotApplicable(rule, [
      forensic,
      vpc({ Name: "web" }),
      res("aws:ec2/internetGateway:InternetGateway", "igw", { vpcId: "analysis-id" }, { provider: forensic }),
    ]));
});

describe("scp-size-limit", () => {
  const scp = (content: string, type = "SERVICE_CONTROL_POLICY") => [
    res("aws:organizations/policy:Policy", "guardrails", { name: "g", type, content }),
  ];
  it("passes an SCP of 5120 characters", () => expectPass(scpSizeLimit, scp("x".repeat(5120))));
  it("fails an SCP of 5121 characters", () =>
    expectViolation(scpSizeLimit, scp("x".repeat(5121)), /content is 5121 characters: AWS refuses SCPs over 5120/));
  it("skips other policy types", () => expectNotApplicable(scpSizeLimit, scp("x".repeat(9000), "TAG_POLICY")));
});
