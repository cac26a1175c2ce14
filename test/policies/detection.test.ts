import { ebsSnapshotNotPublic, guardDutyDetectorEnabled, logGroupRetention } from "../../policies/detection";
import { vpcFlowLogsEnabled } from "../../policies/network";
import { expectNotApplicable, expectPass, expectViolation, provider, res } from "./helpers";

const east = provider("us-east-1", "333333333333");
const vpc = res("aws:ec2/vpc:Vpc", "app", { cidrBlock: "10.0.0.0/16" }, { provider: east });
const flowLog = (inputs: Record<string, unknown>, name = "app-flow") => ({
  ...res(
    "aws:ec2/flowLog:FlowLog",
    name,
    { vpcId: vpc.id, logDestinationType: "s3", logDestination: "arn:aws:s3:::logs", ...inputs },
    { provider: east },
  ),
  propertyDependencies: { vpcId: [vpc.urn] },
});

describe("policies/detection and flow logs", () => {
  describe("vpc-flow-logs-enabled", () => {
    it("passes a VPC with a flow log of all traffic", () =>
      expectPass(vpcFlowLogsEnabled, [east, vpc, flowLog({ trafficType: "ALL" })]));
    it("fails a VPC without a flow log", () => expectViolation(vpcFlowLogsEnabled, [east, vpc], /has no flow log/));
    it("fails a flow log of rejected traffic only", () =>
      expectViolation(vpcFlowLogsEnabled, [east, vpc, flowLog({ trafficType: "REJECT" })], /logs only REJECT/));
    it("does not count another VPC's flow log", () =>
      expectViolation(
        vpcFlowLogsEnabled,
        [
          east,
          vpc,
          res("aws:ec2/vpc:Vpc", "other", { cidrBlock: "10.1.0.0/16" }, { provider: east }),
          { ...flowLog({ trafficType: "ALL", vpcId: "other-id" }, "other-flow"), propertyDependencies: {} },
        ],
        /VPC app has no flow log/,
      ));
    it("skips programs without a VPC", () => expectNotApplicable(vpcFlowLogsEnabled, [east]));
  });

  describe("guardduty-detector-enabled", () => {
    it("passes an enabled detector (and one that leaves enable at its default)", async () => {
      await expectPass(guardDutyDetectorEnabled, [res("aws:guardduty/detector:Detector", "d", { enable: true })]);
      await expectPass(guardDutyDetectorEnabled, [res("aws:guardduty/detector:Detector", "d", {})]);
    });
    it("fails a disabled detector", () =>
      expectViolation(
        guardDutyDetectorEnabled,
        [res("aws:guardduty/detector:Detector", "d", { enable: false })],
        /disabled/,
      ));
  });

  describe("log-group-retention", () => {
    const group = (retentionInDays?: number) => [
      res("aws:cloudwatch/logGroup:LogGroup", "app", retentionInDays === undefined ? {} : { retentionInDays }),
    ];
    it("passes a year's retention, and a group that never expires", async () => {
      await expectPass(logGroupRetention, group(365));
      await expectPass(logGroupRetention, group());
    });
    it("fails a group that expires its events after 14 days", () =>
      expectViolation(logGroupRetention, group(14), /retentionInDays is 14/));
    it("takes the minimum from the config", () =>
      expectPass(logGroupRetention, group(90), { "log-group-retention": { minRetentionDays: 90 } }));
  });

  describe("ebs-snapshot-not-public", () => {
    it("passes a snapshot shared with a named account", () =>
      expectPass(ebsSnapshotNotPublic, [
        res("aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission", "share", {
          snapshotId: "snap-1",
          accountId: "444444444444",
        }),
      ]));
    it('fails a snapshot shared with "all"', () =>
      expectViolation(
        ebsSnapshotNotPublic,
        [
          res("aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission", "share", {
            snapshotId: "snap-1",
            accountId: "all",
          }),
        ],
        /group "all"/,
      ));
    it('fails an AMI launch permission for the group "all"', () =>
      expectViolation(
        ebsSnapshotNotPublic,
        [res("aws:ec2/amiLaunchPermission:AmiLaunchPermission", "ami", { imageId: "ami-1", group: "all" })],
        /group "all"/,
      ));
  });
});
