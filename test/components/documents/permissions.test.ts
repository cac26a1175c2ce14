import { expect } from "chai";
import {
  DocumentInputError,
  INSTANCE_CONTAINMENT_TAG_KEYS,
  MEMBER_INVESTIGATOR_LOGICAL_ID,
  custodySigningKeyPolicy,
  trailKeyPolicy,
  MEMBER_RESPONDER_LOGICAL_ID,
  forensicInvestigatorPermissions,
  memberInvestigatorManagedPolicyArns,
  memberInvestigatorPermissions,
  memberResponderPermissions,
  memberRolesTemplate,
  type PolicyDocument,
} from "../../../components/documents";
import { CASE_TAG, CONTAINED_AT_TAG } from "../../../scripts/contain/instance-plan";
import {
  EVIDENCE_BUCKET_ARN,
  EVIDENCE_KEY_ARNS,
  FORENSIC,
  FORENSIC_INVESTIGATOR_ARN,
  FORENSIC_RESPONDER_ARN,
  MEMBER,
  MEMBER_INVESTIGATOR_NAME,
  MEMBER_RESPONDER_NAME,
  ORG,
  SIGNING_KEY_ARN,
  TRAIL_BUCKET_ARN,
  TRAIL_KEY_ARN,
  decide,
  role,
  type Caller,
  type RequestOptions,
  type Target,
  forensicResponder,
  forensicInvestigator as sharedInvestigator,
  DEPLOYMENT_ARN,
} from "./simulate";

/** The member-roles template exactly as the StackSet deploys it. */
const template = () =>
  memberRolesTemplate({
    forensicResponderRoleArn: FORENSIC_RESPONDER_ARN,
    forensicInvestigatorRoleArn: FORENSIC_INVESTIGATOR_ARN,
    responderRoleName: MEMBER_RESPONDER_NAME,
    investigatorRoleName: MEMBER_INVESTIGATOR_NAME,
    evidenceKeyArns: EVIDENCE_KEY_ARNS,
  });
const inlinePolicy = (logicalId: string): PolicyDocument =>
  template().Resources[logicalId].Properties.Policies[0].PolicyDocument;
/** The member responder role of a member account with the permissions the StackSet gives it. */
const memberResponder = (): Caller =>
  role(MEMBER, MEMBER_RESPONDER_NAME, ORG, inlinePolicy(MEMBER_RESPONDER_LOGICAL_ID));
const forensicInvestigator = (): Caller => sharedInvestigator({ organizationId: ORG });

/** Resources of the member account, by type. */
const inMember = (resource: string): Target => ({
  resource: `arn:aws:ec2:us-east-1:${MEMBER}:${resource}`,
  account: MEMBER,
});
const snapshot = (id = "snap-0123456789abcdef0"): Target => ({
  resource: `arn:aws:ec2:us-east-1::snapshot/${id}`,
  account: MEMBER,
});
const iamRole = (name: string): Target => ({ resource: `arn:aws:iam::${MEMBER}:role/${name}`, account: MEMBER });
const iamUser = (name: string): Target => ({ resource: `arn:aws:iam::${MEMBER}:user/${name}`, account: MEMBER });
const shareWith = (account: string): RequestOptions => ({ context: { "ec2:Add/userId": account } });

describe("documents/permissions: member responder (capture and containment only)", () => {
  const allowedCases: [string, Target, RequestOptions?][] = [
    ["ec2:CreateSnapshot", inMember("volume/vol-0123456789abcdef0")],
    ["ec2:CopySnapshot", snapshot()],
    ["ec2:CreateTags", snapshot()],
    ["ec2:GetConsoleOutput", inMember("instance/i-0123456789abcdef0")],
    ["ec2:ModifyInstanceAttribute", inMember("instance/i-0123456789abcdef0")],
    ["ec2:ModifyInstanceMetadataOptions", inMember("instance/i-0123456789abcdef0")],
    ["ec2:ModifyNetworkInterfaceAttribute", inMember("network-interface/eni-0123456789abcdef0")],
    ["ec2:CreateSecurityGroup", inMember("security-group/sg-0123456789abcdef0")],
    ["ec2:RevokeSecurityGroupEgress", inMember("security-group/sg-0123456789abcdef0")],
    ["ec2:AuthorizeSecurityGroupIngress", inMember("security-group/sg-0123456789abcdef0")],
    [
      "autoscaling:EnterStandby",
      {
        resource: `arn:aws:autoscaling:us-east-1:${MEMBER}:autoScalingGroup:11111111-2222-3333-4444-555555555555:autoScalingGroupName/web`,
        account: MEMBER,
      },
    ],
    ["iam:GetRole", iamRole("WebAppRole")],
    ["iam:UpdateAccessKey", iamUser("alice")],
    ["iam:ListAccessKeys", iamUser("alice")],
    ["ebs:GetSnapshotBlock", snapshot()],
    ["ebs:ListSnapshotBlocks", snapshot()],
  ];
  for (const [action, target, options] of allowedCases) {
    it(`may ${action} on ${target.resource.split(":").slice(5).join(":")}`, async () => {
      expect(await decide(memberResponder(), action, target, options)).to.equal("Allowed");
    });
  }
  it("may share a snapshot with the forensic account only", async () => {
    expect(await decide(memberResponder(), "ec2:ModifySnapshotAttribute", snapshot(), shareWith(FORENSIC))).to.equal(
      "Allowed",
    );
    expect(
      await decide(memberResponder(), "ec2:ModifySnapshotAttribute", snapshot(), shareWith("999999999999")),
    ).to.not.equal("Allowed");
  });
  it("may mark a contained instance with the containment tags and remove them on undo, and touch no other tag", async () => {
    const instance = inMember("instance/i-0123456789abcdef0");
    const keys = (tags: string[]) => ({
      context: { "aws:TagKeys": tags, ...Object.fromEntries(tags.map((k) => [`aws:RequestTag/${k}`, "x"])) },
    });
    expect(INSTANCE_CONTAINMENT_TAG_KEYS).to.deep.equal([CASE_TAG, CONTAINED_AT_TAG]);
    for (const action of ["ec2:CreateTags", "ec2:DeleteTags"]) {
      expect(await decide(memberResponder(), action, instance, keys([CASE_TAG, CONTAINED_AT_TAG])), action).to.equal(
        "Allowed",
      );
      expect(await decide(memberResponder(), action, instance, keys([CASE_TAG, "Owner"])), action).to.not.equal(
        "Allowed",
      );
    }
    // DeleteTags without tags removes every tag of the instance: refused.
    expect(await decide(memberResponder(), "ec2:DeleteTags", instance)).to.not.equal("Allowed");
  });
  it("may put a detached instance back into its Auto Scaling group (undo of a detach)", async () => {
    const group: Target = {
      resource: `arn:aws:autoscaling:us-east-1:${MEMBER}:autoScalingGroup:11111111-2222-3333-4444-555555555555:autoScalingGroupName/web`,
      account: MEMBER,
    };
    expect(await decide(memberResponder(), "autoscaling:AttachInstances", group)).to.equal("Allowed");
  });
  it("may never make a snapshot public", async () => {
    expect(
      await decide(memberResponder(), "ec2:ModifySnapshotAttribute", snapshot(), {
        context: { "ec2:Add/group": "all" },
      }),
    ).to.equal("ExplicitlyDenied");
  });
  it("may not write an IAM policy on any role, its own and the investigator's included", async () => {
    for (const name of [MEMBER_RESPONDER_NAME, MEMBER_INVESTIGATOR_NAME, "WebAppRole"]) {
      expect(await decide(memberResponder(), "iam:PutRolePolicy", iamRole(name)), name).to.equal("ExplicitlyDenied");
      expect(await decide(memberResponder(), "iam:DeleteRolePolicy", iamRole(name)), name).to.equal("ExplicitlyDenied");
    }
  });
  const forbidden: [string, Target][] = [
    ["iam:CreateUser", iamUser("backdoor")],
    ["iam:CreateAccessKey", iamUser("alice")],
    ["iam:DeleteUser", iamUser("alice")],
    ["iam:CreateRole", iamRole("backdoor")],
    ["iam:AttachRolePolicy", iamRole("WebAppRole")],
    ["iam:UpdateAssumeRolePolicy", iamRole("WebAppRole")],
    ["ec2:TerminateInstances", inMember("instance/i-0123456789abcdef0")],
    ["ec2:DeleteSnapshot", snapshot()],
    ["ec2:DeleteVolume", inMember("volume/vol-0123456789abcdef0")],
    ["ec2:RunInstances", inMember("instance/*")],
    ["s3:GetObject", { resource: "arn:aws:s3:::payroll-exports/2024/05.csv", account: MEMBER }],
    ["sts:AssumeRole", iamRole("OrganizationAccountAccessRole")],
    // Least privilege: the capture snapshots volumes one by one, never a whole instance.
    ["ec2:CreateSnapshots", inMember("instance/i-0123456789abcdef0")],
  ];
  for (const [action, target] of forbidden) {
    it(`may not ${action}`, async () => {
      expect(await decide(memberResponder(), action, target)).to.not.equal("Allowed");
    });
  }
  it("may use the member account's own volume keys through EC2 only (to copy snapshots encrypted under them)", async () => {
    // A customer-managed volume key with the default key policy: IAM policies of the account decide.
    const volumeKey: Target = {
      resource: `arn:aws:kms:us-east-1:${MEMBER}:key/0000aaaa-1111-2222-3333-444455556666`,
      account: MEMBER,
      policy: {
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${MEMBER}:root` }, Action: "kms:*", Resource: "*" },
        ],
      },
    };
    expect(
      await decide(memberResponder(), "kms:Decrypt", volumeKey, {
        context: { "kms:ViaService": "ec2.us-east-1.amazonaws.com" },
      }),
    ).to.equal("Allowed");
    expect(await decide(memberResponder(), "kms:Decrypt", volumeKey)).to.not.equal("Allowed");
  });
});

describe("documents/permissions: investigators (read only)", () => {
  it("gives the member investigator only reads in its inline policy", () => {
    const actions = memberInvestigatorPermissions().Statement.flatMap((s) => [s.Action ?? []].flat());
    for (const action of actions) {
      expect(action.split(":")[1], action).to.match(/^(Get|List|Describe|Lookup|Filter|StartQuery)/);
    }
  });
  it("attaches SecurityAudit and ViewOnlyAccess in the deployment's partition", () => {
    expect(memberInvestigatorManagedPolicyArns("aws-us-gov")).to.deep.equal([
      "arn:aws-us-gov:iam::aws:policy/SecurityAudit",
      "arn:aws-us-gov:iam::aws:policy/job-function/ViewOnlyAccess",
    ]);
  });
  it("lets the forensic investigator enter member accounts as the member investigator only", async () => {
    const options = { context: { "aws:ResourceOrgID": ORG } };
    const deployed = (logicalId: string): Target => {
      const properties = template().Resources[logicalId].Properties;
      return { ...iamRole(properties.RoleName), policy: properties.AssumeRolePolicyDocument };
    };
    expect(
      await decide(forensicInvestigator(), "sts:AssumeRole", deployed(MEMBER_INVESTIGATOR_LOGICAL_ID), options),
    ).to.equal("Allowed");
    expect(
      await decide(forensicInvestigator(), "sts:AssumeRole", deployed(MEMBER_RESPONDER_LOGICAL_ID), options),
    ).to.not.equal("Allowed");
  });
  it("does not let the forensic investigator write logs or sign custody records", async () => {
    expect(
      await decide(forensicInvestigator(), "s3:PutObject", {
        resource: `${TRAIL_BUCKET_ARN}/AWSLogs/x`,
        account: FORENSIC,
      }),
    ).to.not.equal("Allowed");
    expect(
      await decide(forensicInvestigator(), "s3:DeleteObject", {
        resource: `${TRAIL_BUCKET_ARN}/AWSLogs/x`,
        account: FORENSIC,
      }),
    ).to.equal("ExplicitlyDenied");
    expect(
      await decide(forensicInvestigator(), "kms:Sign", { resource: SIGNING_KEY_ARN, account: FORENSIC }),
    ).to.not.equal("Allowed");
  });
  it("lets the forensic investigator write Athena results under their prefix of the evidence bucket, nowhere else in it", async () => {
    const withResults = role(
      FORENSIC,
      "FlzForensicInvestigator",
      ORG,
      forensicInvestigatorPermissions({
        memberInvestigatorRoleName: MEMBER_INVESTIGATOR_NAME,
        trailBucketArn: TRAIL_BUCKET_ARN,
        evidenceBucketArn: EVIDENCE_BUCKET_ARN,
        trailKeyArn: TRAIL_KEY_ARN,
        organizationId: ORG,
        athenaResultsBucketArn: EVIDENCE_BUCKET_ARN,
        athenaResultsPrefix: "/athena-results",
      }),
    );
    const put = (key: string) =>
      decide(withResults, "s3:PutObject", { resource: `${EVIDENCE_BUCKET_ARN}/${key}`, account: FORENSIC });
    expect(await put("athena-results/q1.csv")).to.equal("Allowed");
    expect(await put("ledgers/case-1/000001.json")).to.not.equal("Allowed");
    expect(await put("athena-results-other/q1.csv")).to.not.equal("Allowed");
    expect(
      await decide(withResults, "s3:DeleteObject", {
        resource: `${EVIDENCE_BUCKET_ARN}/athena-results/q1.csv`,
        account: FORENSIC,
      }),
    ).to.equal("ExplicitlyDenied");
  });
  it("refuses an Athena results prefix with a wildcard", () => {
    expect(() =>
      forensicInvestigatorPermissions({
        memberInvestigatorRoleName: MEMBER_INVESTIGATOR_NAME,
        trailBucketArn: TRAIL_BUCKET_ARN,
        evidenceBucketArn: EVIDENCE_BUCKET_ARN,
        trailKeyArn: TRAIL_KEY_ARN,
        athenaResultsBucketArn: EVIDENCE_BUCKET_ARN,
        athenaResultsPrefix: "*",
      }),
    ).to.throw(DocumentInputError, /athenaResultsPrefix "\*" contains a wildcard/);
  });
});

describe("documents/permissions: forensic responder", () => {
  const forensicSnapshot: Target = {
    resource: "arn:aws:ec2:us-east-1::snapshot/snap-0fedcba9876543210",
    account: FORENSIC,
  };
  it("may copy, lock and read the blocks of snapshots in the forensic account", async () => {
    for (const action of ["ec2:CopySnapshot", "ec2:LockSnapshot", "ebs:GetSnapshotBlock", "ebs:ListSnapshotBlocks"]) {
      expect(await decide(forensicResponder(), action, forensicSnapshot), action).to.equal("Allowed");
    }
  });
  it("may sign with the custody key and nothing else", async () => {
    const signingKey = {
      resource: SIGNING_KEY_ARN,
      account: FORENSIC,
      policy: custodySigningKeyPolicy({
        deploymentPrincipalArn: DEPLOYMENT_ARN,
        keyAccountId: FORENSIC,
        organizationId: ORG,
        signerRoleArn: FORENSIC_RESPONDER_ARN,
      }),
    };
    const trailKey = {
      resource: TRAIL_KEY_ARN,
      account: FORENSIC,
      policy: trailKeyPolicy({
        deploymentPrincipalArn: DEPLOYMENT_ARN,
        keyAccountId: FORENSIC,
        managementAccountId: "111111111111",
        organizationId: ORG,
        trailArn: "arn:aws:cloudtrail:us-east-1:111111111111:trail/t",
        investigatorRoleArns: [],
      }),
    };
    expect(await decide(forensicResponder(), "kms:Sign", signingKey)).to.equal("Allowed");
    expect(await decide(forensicResponder(), "kms:Sign", trailKey)).to.not.equal("Allowed");
  });
  it("may not delete snapshots or touch IAM", async () => {
    expect(await decide(forensicResponder(), "ec2:DeleteSnapshot", forensicSnapshot)).to.not.equal("Allowed");
    expect(
      await decide(forensicResponder(), "iam:CreateUser", {
        resource: `arn:aws:iam::${FORENSIC}:user/x`,
        account: FORENSIC,
      }),
    ).to.not.equal("Allowed");
  });
});

describe("documents/permissions: shape of every permission policy", () => {
  const documents: [string, PolicyDocument][] = [
    ["member responder", inlinePolicy(MEMBER_RESPONDER_LOGICAL_ID)],
    ["member investigator", inlinePolicy(MEMBER_INVESTIGATOR_LOGICAL_ID)],
    ["forensic responder", forensicResponder().policies[0]],
    ["forensic investigator", forensicInvestigator().policies[0]],
  ];
  for (const [name, document] of documents) {
    it(`${name}: allows no wildcard action, no NotAction and no principal creation or deletion`, () => {
      for (const statement of document.Statement.filter((s) => s.Effect === "Allow")) {
        expect(statement.NotAction, statement.Sid).to.equal(undefined);
        for (const action of [statement.Action ?? []].flat()) {
          expect(action, statement.Sid).to.not.match(/^(\*|[a-z0-9-]+:\*)$/);
          expect(action, statement.Sid).to.not.match(
            /^iam:(Create|Delete)(User|Role|AccessKey|LoginProfile|Group|ServiceLinkedRole)$/,
          );
        }
      }
    });
  }
  it("keeps each member role's inline policy under IAM's 10,240-character limit per role", () => {
    for (const logicalId of [MEMBER_RESPONDER_LOGICAL_ID, MEMBER_INVESTIGATOR_LOGICAL_ID]) {
      expect(JSON.stringify(inlinePolicy(logicalId)).length, logicalId).to.be.lessThan(10240);
    }
  });
  it("refuses a responder without evidence keys (it could not copy anything)", () => {
    expect(() => memberResponderPermissions({ evidenceKeyArns: [] })).to.throw(
      DocumentInputError,
      /evidenceKeyArns: the list is empty/,
    );
  });
});
