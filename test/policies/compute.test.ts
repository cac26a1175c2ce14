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

  describe("ec2-imdsv2-required on spot requests and launch configurations", () => {
    const spot = (metadataOptions?: Record<string, unknown>) => [
      east,
      res(
        "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
        "spot",
        { ami: "ami-1", metadataOptions },
        { provider: east },
      ),
    ];
    const launchConfiguration = (metadataOptions?: Record<string, unknown>) => [
      east,
      res(
        "aws:ec2/launchConfiguration:LaunchConfiguration",
        "lc",
        { imageId: "ami-1", instanceType: "t3.micro", metadataOptions },
        { provider: east },
      ),
    ];
    it("passes a spot request and a launch configuration requiring IMDSv2", async () => {
      await expectPass(ec2Imdsv2Required, spot({ httpTokens: "required" }));
      await expectPass(ec2Imdsv2Required, launchConfiguration({ httpTokens: "required", httpPutResponseHopLimit: 1 }));
    });
    it("fails a spot request allowing IMDSv1", () => expectViolation(ec2Imdsv2Required, spot(), /httpTokens/));
    it("fails a launch configuration allowing IMDSv1", () =>
      expectViolation(ec2Imdsv2Required, launchConfiguration({ httpTokens: "optional" }), /optional/));
  });

  describe("ebs-volumes-encrypted", () => {
    /** The same disks without the stack's EBS encryption by default. */
    const alone = (resources: RecordedResource[]) =>
      resources.filter((r) => !r.type.startsWith("aws:ebs/encryptionByDefault"));
    it("passes encrypted disks", async () => {
      await expectPass(ebsVolumesEncrypted, alone(instance()));
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
      expectViolation(
        ebsVolumesEncrypted,
        alone(instance({ rootBlockDevice: { encrypted: false } })),
        /root block device/,
      ));
    it("fails an unencrypted extra device", () =>
      expectViolation(
        ebsVolumesEncrypted,
        alone(instance({ ebsBlockDevices: [{ deviceName: "/dev/sdg" }] })),
        /\/dev\/sdg/,
      ));
    it('fails a launch template mapping with encrypted "false"', () =>
      expectViolation(
        ebsVolumesEncrypted,
        launchTemplate({ blockDeviceMappings: [{ deviceName: "/dev/xvdb", ebs: { encrypted: "false" } }] }),
        /xvdb/,
      ));
    it("fails an unencrypted spot request and launch configuration", async () => {
      await expectViolation(
        ebsVolumesEncrypted,
        [east, res("aws:ec2/spotInstanceRequest:SpotInstanceRequest", "spot", { ami: "ami-1" }, { provider: east })],
        /spot: unencrypted root block device/,
      );
      await expectViolation(
        ebsVolumesEncrypted,
        [
          east,
          res(
            "aws:ec2/launchConfiguration:LaunchConfiguration",
            "lc",
            { imageId: "ami-1", rootBlockDevice: { encrypted: true }, ebsBlockDevices: [{ deviceName: "/dev/sdh" }] },
            { provider: east },
          ),
        ],
        /\/dev\/sdh/,
      );
    });
    it("passes unencrypted disks where the same stack turns on EBS encryption by default (same account and region)", () =>
      expectPass(
        ebsVolumesEncrypted,
        instance({ rootBlockDevice: { encrypted: false }, ebsBlockDevices: [{ deviceName: "/dev/sdg" }] }),
      ));
    it("still fails disks in another region, or where encryption by default is off", async () => {
      await expectViolation(
        ebsVolumesEncrypted,
        [
          ...instance(),
          west,
          res("aws:ebs/volume:Volume", "eu", { availabilityZone: "eu-west-1a" }, { provider: west }),
        ],
        /eu: unencrypted the volume/,
      );
      await expectViolation(
        ebsVolumesEncrypted,
        instance({ rootBlockDevice: {} }).map((r) =>
          r.type.startsWith("aws:ebs/encryptionByDefault") ? { ...r, inputs: { enabled: false } } : r,
        ),
        /root block device/,
      );
    });
  });

  describe("ebs-encryption-by-default", () => {
    const BASELINE = { "flz:stack-kind": "account-baseline" };
    it("passes when every region with resources has it on", () =>
      expectPass(ebsEncryptionByDefault, instance(), undefined, BASELINE));
    it("fails a region without it (by provider region)", () =>
      expectViolation(
        ebsEncryptionByDefault,
        [
          ...instance(),
          west,
          res("aws:ec2/instance:Instance", "eu", { metadataOptions: { httpTokens: "required" } }, { provider: west }),
        ],
        /eu-west-1/,
        undefined,
        BASELINE,
      ));
    it("uses a resource's own region input over its provider's", () =>
      expectViolation(
        ebsEncryptionByDefault,
        [
          ...instance(),
          res("aws:ebs/volume:Volume", "ap", { region: "ap-southeast-2", encrypted: true }, { provider: east }),
        ],
        /ap-southeast-2/,
        undefined,
        { "flz:stack-kind": "landing-zone" },
      ));
    it("fails when it is explicitly disabled", () =>
      expectViolation(
        ebsEncryptionByDefault,
        instance().map((r) =>
          r.type.startsWith("aws:ebs/encryptionByDefault") ? { ...r, inputs: { enabled: false } } : r,
        ),
        /us-east-1/,
        undefined,
        BASELINE,
      ));
    it("is demanded of a stack that composes the landing-zone component, without any stack tag", () =>
      expectViolation(
        ebsEncryptionByDefault,
        [
          res("flz:landingzone:ForensicLandingZone", "lz", {}),
          east,
          res("aws:sqs/queue:Queue", "q", {}, { provider: east }),
        ],
        /us-east-1/,
      ));
    it("is not demanded of an application stack that declares nothing (a queue worker owns no account defaults)", () =>
      expectNotApplicable(ebsEncryptionByDefault, [east, res("aws:sqs/queue:Queue", "jobs", {}, { provider: east })]));
    it("ignores global services such as IAM", () =>
      expectNotApplicable(
        ebsEncryptionByDefault,
        [east, res("aws:iam/role:Role", "r", {}, { provider: east })],
        BASELINE,
      ));
  });
});
