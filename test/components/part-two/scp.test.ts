import { expect } from "chai";
import {
  SCP_MAX_CHARACTERS,
  combineScps,
  denyLeaveOrganizationScp,
  keyArnPattern,
  protectForensicKeysScp,
  protectForensicRolesScp,
  protectTrailScp,
  scpText,
} from "../../../components/documents/scp";

import {
  MEMBER,
  MANAGEMENT,
  FORENSIC,
  DEPLOY,
  DEPLOY_IN_MEMBER,
  MEMBER_ADMIN,
  TRAIL,
  EVIDENCE_KEY,
  SIGNING_KEY,
  workload,
  evaluate,
  keyPolicyOf,
} from "./scp-evaluator";

describe("guardrail SCPs (IAM evaluator)", () => {
  describe("organisation trail", () => {
    for (const action of [
      "cloudtrail:StopLogging",
      "cloudtrail:DeleteTrail",
      "cloudtrail:UpdateTrail",
      "cloudtrail:PutEventSelectors",
      "cloudtrail:PutInsightSelectors",
    ]) {
      it(`denies ${action} to a member account administrator`, async () => {
        expect(await evaluate({ principal: MEMBER_ADMIN, action, resource: TRAIL, resourceAccount: MEMBER })).to.equal(
          "ExplicitlyDenied",
        );
      });
    }
    it("lets the deployment role update the trail", async () => {
      expect(
        await evaluate({
          principal: DEPLOY_IN_MEMBER,
          action: "cloudtrail:UpdateTrail",
          resource: TRAIL,
          resourceAccount: MEMBER,
        }),
      ).to.equal("Allowed");
    });
    it("is what stops the administrator: without the guardrails the same call is allowed", async () => {
      expect(
        await evaluate({
          principal: MEMBER_ADMIN,
          action: "cloudtrail:StopLogging",
          resource: TRAIL,
          resourceAccount: MEMBER,
          guardrails: [],
        }),
      ).to.equal("Allowed");
    });
    it("leaves reading the trail alone", async () => {
      expect(
        await evaluate({
          principal: MEMBER_ADMIN,
          action: "cloudtrail:GetTrailStatus",
          resource: TRAIL,
          resourceAccount: MEMBER,
        }),
      ).to.equal("Allowed");
    });
  });

  describe("forensic member roles", () => {
    const responder = `arn:aws:iam::${MEMBER}:role/FlzMemberResponder`;
    for (const action of [
      "iam:UpdateAssumeRolePolicy",
      "iam:DeleteRole",
      "iam:AttachRolePolicy",
      "iam:PutRolePolicy",
      "iam:CreateRole",
    ]) {
      it(`denies ${action} on the responder role to a member account administrator`, async () => {
        expect(await evaluate({ principal: MEMBER_ADMIN, action, resource: responder })).to.equal("ExplicitlyDenied");
      });
    }
    it("denies changing the StackSet execution role to a member account administrator", async () => {
      expect(
        await evaluate({
          principal: MEMBER_ADMIN,
          action: "iam:UpdateAssumeRolePolicy",
          resource: `arn:aws:iam::${MEMBER}:role/stacksets-exec-abc123`,
        }),
      ).to.equal("ExplicitlyDenied");
    });
    it("lets the deployment role and the StackSet execution role change the forensic roles", async () => {
      for (const principal of [DEPLOY_IN_MEMBER, `arn:aws:iam::${MEMBER}:role/stacksets-exec-abc123`]) {
        expect(
          await evaluate({ principal, action: "iam:UpdateAssumeRolePolicy", resource: responder }),
          principal,
        ).to.equal("Allowed");
      }
    });
    it("stops an administrator from planting a role with the deployment role's name to inherit its exemption", async () => {
      expect(
        await evaluate({ principal: MEMBER_ADMIN, action: "iam:CreateRole", resource: DEPLOY_IN_MEMBER }),
      ).to.equal("ExplicitlyDenied");
    });
    it("leaves the administrator's other roles alone", async () => {
      expect(
        await evaluate({
          principal: MEMBER_ADMIN,
          action: "iam:PutRolePolicy",
          resource: `arn:aws:iam::${MEMBER}:role/app-server`,
        }),
      ).to.equal("Allowed");
    });
  });

  describe("organisation membership", () => {
    it("denies leaving the organisation to a member account administrator", async () => {
      expect(
        await evaluate({ principal: MEMBER_ADMIN, action: "organizations:LeaveOrganization", resource: "*" }),
      ).to.equal("ExplicitlyDenied");
    });
  });

  describe("forensic keys", () => {
    it("denies scheduling deletion of the evidence key, and of its replica in another region", async () => {
      expect(
        await evaluate({ principal: MEMBER_ADMIN, action: "kms:ScheduleKeyDeletion", resource: EVIDENCE_KEY }),
      ).to.equal("ExplicitlyDenied");
      const replica = EVIDENCE_KEY.replace("us-east-1", "eu-west-1");
      expect(
        await evaluate({ principal: MEMBER_ADMIN, action: "kms:ScheduleKeyDeletion", resource: replica }),
      ).to.equal("ExplicitlyDenied");
    });
    it("denies disabling the custody signing key", async () => {
      expect(
        await evaluate({
          principal: `arn:aws:iam::${FORENSIC}:role/Administrator`,
          action: "kms:DisableKey",
          resource: SIGNING_KEY,
        }),
      ).to.equal("ExplicitlyDenied");
    });
    it("lets the deployment role manage the keys", async () => {
      const deploy = `arn:aws:iam::${FORENSIC}:role/FlzDeployment`;
      expect(
        await evaluate({
          principal: deploy,
          action: "kms:PutKeyPolicy",
          resource: SIGNING_KEY,
          resourcePolicy: keyPolicyOf(FORENSIC),
        }),
      ).to.equal("Allowed");
      expect(
        await evaluate({
          principal: deploy,
          action: "kms:ScheduleKeyDeletion",
          resource: EVIDENCE_KEY,
          resourcePolicy: keyPolicyOf(FORENSIC),
        }),
      ).to.equal("Allowed");
    });
    it("leaves the use of the keys and other keys alone", async () => {
      const forensicAdmin = `arn:aws:iam::${FORENSIC}:role/Administrator`;
      expect(
        await evaluate({
          principal: forensicAdmin,
          action: "kms:Decrypt",
          resource: EVIDENCE_KEY,
          resourcePolicy: keyPolicyOf(FORENSIC),
        }),
      ).to.equal("Allowed");
      const otherKey = `arn:aws:kms:us-east-1:${MEMBER}:key/1111aaaa-12ab-34cd-56ef-1234567890ab`;
      expect(
        await evaluate({
          principal: MEMBER_ADMIN,
          action: "kms:ScheduleKeyDeletion",
          resource: otherKey,
          resourcePolicy: keyPolicyOf(MEMBER),
        }),
      ).to.equal("Allowed");
    });
  });

  describe("ordinary workloads", () => {
    const instance = `arn:aws:ec2:us-east-1:${MEMBER}:instance/i-0abc1234def567890`;
    const volume = `arn:aws:ec2:us-east-1:${MEMBER}:volume/vol-0abc1234def567890`;
    it("allows RunInstances with IMDSv2 required and encrypted volumes", async () => {
      expect(
        await evaluate({
          principal: MEMBER_ADMIN,
          action: "ec2:RunInstances",
          resource: instance,
          context: { "ec2:MetadataHttpTokens": "required" },
        }),
      ).to.equal("Allowed");
      expect(
        await evaluate({
          principal: MEMBER_ADMIN,
          action: "ec2:RunInstances",
          resource: volume,
          context: { "ec2:Encrypted": "true" },
        }),
      ).to.equal("Allowed");
      expect(
        await evaluate({
          principal: MEMBER_ADMIN,
          action: "ec2:CreateVolume",
          resource: volume,
          context: { "ec2:Encrypted": "true" },
        }),
      ).to.equal("Allowed");
    });
    it("denies RunInstances with IMDSv1 allowed", async () => {
      expect(
        await evaluate({
          principal: MEMBER_ADMIN,
          action: "ec2:RunInstances",
          resource: instance,
          context: { "ec2:MetadataHttpTokens": "optional" },
        }),
      ).to.equal("ExplicitlyDenied");
    });
    it("denies unencrypted volumes at launch and on their own", async () => {
      expect(
        await evaluate({
          principal: MEMBER_ADMIN,
          action: "ec2:RunInstances",
          resource: volume,
          context: { "ec2:Encrypted": "false" },
        }),
      ).to.equal("ExplicitlyDenied");
      expect(
        await evaluate({
          principal: MEMBER_ADMIN,
          action: "ec2:CreateVolume",
          resource: volume,
          context: { "ec2:Encrypted": "false" },
        }),
      ).to.equal("ExplicitlyDenied");
    });
    it("denies calls made with credentials delivered through IMDSv1, not through IMDSv2", async () => {
      const role = `arn:aws:iam::${MEMBER}:role/app-server`;
      const object = "arn:aws:s3:::app-data/report.csv";
      expect(
        await evaluate({
          principal: role,
          action: "s3:GetObject",
          resource: object,
          context: { "ec2:RoleDelivery": "1.0" },
        }),
      ).to.equal("ExplicitlyDenied");
      expect(
        await evaluate({
          principal: role,
          action: "s3:GetObject",
          resource: object,
          context: { "ec2:RoleDelivery": "2.0" },
        }),
      ).to.equal("Allowed");
    });
    it("leaves unrelated work alone", async () => {
      expect(
        await evaluate({
          principal: MEMBER_ADMIN,
          action: "s3:PutObject",
          resource: "arn:aws:s3:::app-data/report.csv",
        }),
      ).to.equal("Allowed");
      expect(
        await evaluate({
          principal: MEMBER_ADMIN,
          action: "lambda:InvokeFunction",
          resource: `arn:aws:lambda:us-east-1:${MEMBER}:function:app`,
        }),
      ).to.equal("Allowed");
    });
  });
});

describe("guardrail SCP documents", () => {
  it("fit the 5,120-character SCP limit with realistic, long ARNs and every evidence key replica", () => {
    const longDeploy = `arn:aws:iam::${MANAGEMENT}:role/organization/security/forensic-landing-zone-deployment-role`;
    const regions = [
      "us-east-1",
      "us-east-2",
      "us-west-1",
      "us-west-2",
      "eu-west-1",
      "eu-west-2",
      "eu-central-1",
      "ap-southeast-2",
    ];
    const keys = [
      ...regions.map((r, i) => `arn:aws:kms:${r}:${FORENSIC}:key/1234abcd-12ab-34cd-56ef-12345678900${i}`),
      `arn:aws:kms:us-east-1:${FORENSIC}:key/mrk-0123456789abcdef0123456789abcdef`,
    ];
    const doc = combineScps("flz-protect-forensics", [
      protectTrailScp({
        trailArn: `arn:aws:cloudtrail:us-east-1:${MANAGEMENT}:trail/forensic-landing-zone-organization-trail`,
        deploymentRoleArn: longDeploy,
      }),
      protectForensicRolesScp({
        roleNames: ["forensic-landing-zone-member-responder", "forensic-landing-zone-member-investigator"],
        stackSetExecutionRoleName: "stacksets-exec-*",
        deploymentRoleArn: longDeploy,
      }),
      denyLeaveOrganizationScp(),
      protectForensicKeysScp({ keyArns: keys, deploymentRoleArn: longDeploy }),
    ]);
    expect(scpText(doc).length).to.be.at.most(SCP_MAX_CHARACTERS);
    expect(scpText(workload()).length).to.be.at.most(SCP_MAX_CHARACTERS);
  });

  it("refuses a bundle over the limit, naming its size", () => {
    const keys = Array.from(
      { length: 80 },
      (_, i) => `arn:aws:kms:us-east-1:${FORENSIC}:key/1234abcd-12ab-34cd-56ef-1234567${String(i).padStart(5, "0")}`,
    );
    expect(() =>
      combineScps("too-big", [protectForensicKeysScp({ keyArns: keys, deploymentRoleArn: DEPLOY })]),
    ).to.throw(/too-big" is \d+ characters: .* at most 5120/);
  });

  it("refuses duplicate statement IDs", () => {
    expect(() => combineScps("dup", [denyLeaveOrganizationScp(), denyLeaveOrganizationScp()])).to.throw(
      /FlzDenyLeaveOrganization" twice/,
    );
  });

  it("widens a multi-region key to its replicas and keeps a single-region key in its region", () => {
    expect(keyArnPattern(EVIDENCE_KEY)).to.equal(`arn:aws:kms:*:${FORENSIC}:key/mrk-0123456789abcdef0123456789abcdef`);
    expect(keyArnPattern(SIGNING_KEY)).to.equal(SIGNING_KEY);
  });

  it("rejects malformed ARNs with a message naming the value", () => {
    expect(() => protectTrailScp({ trailArn: "flz-trail", deploymentRoleArn: DEPLOY })).to.throw(
      /"flz-trail" is not a CloudTrail trail ARN/,
    );
    expect(() => protectTrailScp({ trailArn: TRAIL, deploymentRoleArn: "FlzDeployment" })).to.throw(
      /"FlzDeployment" is not an IAM role ARN/,
    );
    expect(() => protectForensicKeysScp({ keyArns: ["alias/flz"], deploymentRoleArn: DEPLOY })).to.throw(
      /"alias\/flz" is not a KMS key ARN/,
    );
  });
});
