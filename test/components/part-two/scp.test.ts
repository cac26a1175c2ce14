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
import type { PolicyDocument } from "../../../components/documents/types";

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
  TRAIL_KEY,
  workload,
  evaluate,
  type Request,
} from "./scp-evaluator";

/** The default key policy statement that lets IAM policies of the key's account grant use of the key. */
function keyPolicyOf(account: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
    ],
  };
}

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

/**
 * The key protection as the landing zone builds it since keys are named by purpose tag (known at a first preview):
 * every key of the forensic account whose `flz:purpose` names a forensic key, and the tag itself frozen.
 */
function protectionByTag(): PolicyDocument {
  return combineScps("flz-protect-forensics", [
    protectTrailScp({ trailArn: TRAIL, deploymentRoleArn: DEPLOY }),
    protectForensicRolesScp({
      roleNames: ["FlzMemberResponder", "FlzMemberInvestigator"],
      stackSetExecutionRoleName: "stacksets-exec-*",
      deploymentRoleArn: DEPLOY,
    }),
    denyLeaveOrganizationScp(),
    protectForensicKeysScp({ keysByTag: { accountId: FORENSIC }, deploymentRoleArn: DEPLOY }),
  ]);
}

describe("guardrail SCPs with the forensic keys named by purpose tag (IAM evaluator)", () => {
  const FORENSIC_ADMIN = `arn:aws:iam::${FORENSIC}:role/Administrator`;
  const BREAK_GLASS = `arn:aws:iam::${FORENSIC}:role/FlzBreakGlass`;
  const REPLICA = EVIDENCE_KEY.replace("us-east-1", "eu-west-1");
  const tagged = (purpose: string) => ({ "aws:ResourceTag/flz:purpose": purpose });
  const byTag = (req: Omit<Request, "guardrails">) =>
    evaluate({ resourcePolicy: keyPolicyOf(req.resource.split(":")[4]), ...req, guardrails: [protectionByTag()] });

  for (const action of [
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:ReplicateKey",
  ]) {
    it(`denies ${action} on every forensic key, replicas included, to administrators and break-glass`, async () => {
      for (const [principal, resource, purpose] of [
        [FORENSIC_ADMIN, EVIDENCE_KEY, "evidence-key"],
        [FORENSIC_ADMIN, REPLICA, "evidence-key"],
        [BREAK_GLASS, SIGNING_KEY, "custody-signing"],
        [FORENSIC_ADMIN, TRAIL_KEY, "trail-key"],
      ]) {
        expect(
          await byTag({ principal, action, resource, context: tagged(purpose) }),
          `${principal} ${resource}`,
        ).to.equal("ExplicitlyDenied");
      }
    });
  }

  it("denies stripping or rewriting the purpose tag, which would take a key out of the protection", async () => {
    for (const action of ["kms:UntagResource", "kms:TagResource"]) {
      expect(
        await byTag({
          principal: FORENSIC_ADMIN,
          action,
          resource: EVIDENCE_KEY,
          context: { ...tagged("evidence-key"), "aws:TagKeys": "flz:purpose" },
        }),
        action,
      ).to.equal("ExplicitlyDenied");
    }
  });

  it("denies dressing up a key as a forensic key: tagging one, or creating one with the tag, in any account", async () => {
    const ownKey = `arn:aws:kms:us-east-1:${FORENSIC}:key/5555eeee-12ab-34cd-56ef-1234567890ab`;
    expect(
      await byTag({
        principal: FORENSIC_ADMIN,
        action: "kms:TagResource",
        resource: ownKey,
        context: { "aws:TagKeys": "flz:purpose", "aws:RequestTag/flz:purpose": "evidence-key" },
      }),
    ).to.equal("ExplicitlyDenied");
    expect(
      await byTag({
        principal: MEMBER_ADMIN,
        action: "kms:CreateKey",
        resource: "*",
        resourceAccount: MEMBER,
        context: { "aws:TagKeys": "flz:purpose", "aws:RequestTag/flz:purpose": "evidence-key" },
      }),
    ).to.equal("ExplicitlyDenied");
  });

  it("lets the deployment role manage, tag and untag the forensic keys", async () => {
    const deploy = `arn:aws:iam::${FORENSIC}:role/FlzDeployment`;
    for (const action of ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:ReplicateKey"]) {
      expect(
        await byTag({ principal: deploy, action, resource: EVIDENCE_KEY, context: tagged("evidence-key") }),
      ).to.equal("Allowed");
    }
    expect(
      await byTag({
        principal: deploy,
        action: "kms:TagResource",
        resource: EVIDENCE_KEY,
        context: { ...tagged("evidence-key"), "aws:TagKeys": "flz:purpose" },
      }),
    ).to.equal("Allowed");
  });

  it("leaves other keys and other tags alone: a member's key of the same tag, an untagged key, another tag key", async () => {
    const memberKey = `arn:aws:kms:us-east-1:${MEMBER}:key/1111aaaa-12ab-34cd-56ef-1234567890ab`;
    // A key of a member account is never a forensic key, whatever its tag says.
    expect(
      await byTag({
        principal: MEMBER_ADMIN,
        action: "kms:ScheduleKeyDeletion",
        resource: memberKey,
        context: tagged("evidence-key"),
      }),
    ).to.equal("Allowed");
    const scratch = `arn:aws:kms:us-east-1:${FORENSIC}:key/6666ffff-12ab-34cd-56ef-1234567890ab`;
    expect(await byTag({ principal: FORENSIC_ADMIN, action: "kms:ScheduleKeyDeletion", resource: scratch })).to.equal(
      "Allowed",
    );
    expect(
      await byTag({
        principal: FORENSIC_ADMIN,
        action: "kms:TagResource",
        resource: EVIDENCE_KEY,
        context: { ...tagged("evidence-key"), "aws:TagKeys": "cost-centre" },
      }),
    ).to.equal("Allowed");
    expect(
      await byTag({
        principal: FORENSIC_ADMIN,
        action: "kms:Decrypt",
        resource: EVIDENCE_KEY,
        context: tagged("evidence-key"),
      }),
    ).to.equal("Allowed");
  });

  it("fits the 5,120-character limit whatever the number of keys and regions (the text no longer lists keys)", () => {
    expect(scpText(protectionByTag()).length).to.be.at.most(SCP_MAX_CHARACTERS);
  });

  it("refuses a key protection given neither key ARNs nor the forensic account", () => {
    expect(() => protectForensicKeysScp({ deploymentRoleArn: DEPLOY })).to.throw(/keyArns is empty: .* or keysByTag/);
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
