import type { RecordedResource } from "../../scripts/plan/mock-engine";
import { ebsEncryptionByDefault, ebsVolumesEncrypted, ec2Imdsv2Required } from "../../policies/compute";
import { expectNotApplicable, expectPass, expectViolation, provider, res } from "./helpers";

const east = provider("us-east-1", "333333333333");
const west = provider("eu-west-1", "333333333333");

function instance(overrides: Record<string, unknown> = {}): RecordedResource[] {
  return [
    east,
    res(
      "aws:ec2/instance:Instance",
      "workstation",
      {
        ami: "ami-1",
        instanceType: "t3.micro",
        metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
        rootBlockDevice: { encrypted: true },
        ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: true }],
        ...overrides,
      },
      { provider: east },
    ),
    res("aws:ebs/encryptionByDefault:EncryptionByDefault", "ebs-default-east", { enabled: true }, { provider: east }),
  ];
}

function launchTemplate(overrides: Record<string, unknown> = {}): RecordedResource[] {
  return [
    east,
    res(
      "aws:ec2/launchTemplate:LaunchTemplate",
      "lt",
      {
        metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
        blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true" } }],
        ...overrides,
      },
      { provider: east },
    ),
  ];
}

describe("policies/compute", () => {
  describe("ec2-imdsv2-required", () => {
    it("passes instances and launch templates requiring IMDSv2", async () => {
      await expectPass(ec2Imdsv2Required, instance());
      await expectPass(ec2Imdsv2Required, launchTemplate());
    });
    it("fails an IMDSv1 instance (tokens optional)", () =>
      expectViolation(ec2Imdsv2Required, instance({ metadataOptions: { httpTokens: "optional" } }), /optional/));
    it("fails an instance without metadata options (the default allows IMDSv1)", () =>
      expectViolation(ec2Imdsv2Required, instance({ metadataOptions: undefined }), /undefined/));
    it("fails a hop limit above the configured value, and passes it once configured", async () => {
      const twoHops = launchTemplate({ metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } });
      await expectViolation(ec2Imdsv2Required, twoHops, /hop/i);
      await expectPass(ec2Imdsv2Required, twoHops, { "ec2-imdsv2-required": { maxHopLimit: 2 } });
    });
    it("passes an instance with the metadata endpoint disabled", () =>
      expectPass(ec2Imdsv2Required, instance({ metadataOptions: { httpEndpoint: "disabled" } })));
    it("skips volumes", () =>
      expectNotApplicable(ec2Imdsv2Required, [
        east,
        res("aws:ebs/volume:Volume", "v", { encrypted: true }, { provider: east }),
      ]));
  });

  describe("ebs-volumes-encrypted", () => {
    it("passes encrypted disks", async () => {
      await expectPass(ebsVolumesEncrypted, instance());
      await expectPass(ebsVolumesEncrypted, launchTemplate());
      await expectPass(ebsVolumesEncrypted, [
        east,
        res("aws:ebs/volume:Volume", "v", { availabilityZone: "us-east-1a", encrypted: true }, { provider: east }),
      ]);
    });
    it("fails an unencrypted volume", () =>
      expectViolation(
        ebsVolumesEncrypted,
        [east, res("aws:ebs/volume:Volume", "v", { availabilityZone: "us-east-1a" }, { provider: east })],
        /the volume/,
      ));
    it("fails an unencrypted root device", () =>
      expectViolation(ebsVolumesEncrypted, instance({ rootBlockDevice: { encrypted: false } }), /root block device/));
    it("fails an unencrypted extra device", () =>
      expectViolation(ebsVolumesEncrypted, instance({ ebsBlockDevices: [{ deviceName: "/dev/sdg" }] }), /\/dev\/sdg/));
    it('fails a launch template mapping with encrypted "false"', () =>
      expectViolation(
        ebsVolumesEncrypted,
        launchTemplate({ blockDeviceMappings: [{ deviceName: "/dev/xvdb", ebs: { encrypted: "false" } }] }),
        /xvdb/,
      ));
  });

  describe("ebs-encryption-by-default", () => {
    it("passes when every region with resources has it on", () => expectPass(ebsEncryptionByDefault, instance()));
    it("fails a region without it (by provider region)", () =>
      expectViolation(
        ebsEncryptionByDefault,
        [
          ...instance(),
          west,
          res("aws:ec2/instance:Instance", "eu", { metadataOptions: { httpTokens: "required" } }, { provider: west }),
        ],
        /eu-west-1/,
      ));
    it("uses a resource's own region input over its provider's", () =>
      expectViolation(
        ebsEncryptionByDefault,
        [
          ...instance(),
          res("aws:ebs/volume:Volume", "ap", { region: "ap-southeast-2", encrypted: true }, { provider: east }),
        ],
        /ap-southeast-2/,
      ));
    it("fails when it is explicitly disabled", () =>
      expectViolation(
        ebsEncryptionByDefault,
        instance().map((r) =>
          r.type.startsWith("aws:ebs/encryptionByDefault") ? { ...r, inputs: { enabled: false } } : r,
        ),
        /us-east-1/,
      ));
    it("ignores global services such as IAM", () =>
      expectNotApplicable(ebsEncryptionByDefault, [east, res("aws:iam/role:Role", "r", {}, { provider: east })]));
  });
});
