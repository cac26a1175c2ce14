import { expect } from "chai";
import {
  ForensicLandingZone,
  ForensicLandingZoneArgs,
  missingDetectionTrustedAccess,
} from "../../components/forensicLandingZone";
import type { RecordedResource } from "../../scripts/plan/mock-engine";
import { PURPOSE as PACK_PURPOSE, PURPOSE_TAG_KEY as PACK_TAG_KEY } from "../../policies/lib/purpose";
import { PURPOSE, PURPOSE_TAG_KEY } from "../../components/tags";
import { placementOf, runProgram } from "../../scripts/plan/mock-engine";
import { previewCreateProps } from "../../scripts/plan/delivery";
import { allOf, covers, one, statements } from "./helpers";

const ARGS: ForensicLandingZoneArgs = {
  forensicAccount: { kind: "adopt", accountId: "222222222222" },
  managementAccountId: "111111111111",
  homeRegion: "eu-west-1",
  regions: ["eu-west-1", "eu-central-1", "us-east-1"],
  targetOrganizationalUnitIds: ["r-exam"],
  responderPrincipalArns: ["arn:aws:iam::222222222222:role/IncidentResponder"],
  deploymentRoleArn: "arn:aws:iam::*:role/OrganizationAccountAccessRole",
};

let defaultRun: ReturnType<typeof runOnce> | undefined;
function runOnce(args: ForensicLandingZoneArgs) {
  return runProgram(() => new ForensicLandingZone("lz", args).contract());
}
/** A run of the landing zone; the default configuration's run is shared (tests only read it). */
function landingZone(args: ForensicLandingZoneArgs = ARGS) {
  if (args !== ARGS) return runOnce(args);
  defaultRun ??= runOnce(ARGS);
  return defaultRun;
}

describe("ForensicLandingZone", () => {
  it("names the organisation trail's ARN, computed from its name, in the trail key and trail bucket policies", async () => {
    const run = await landingZone();
    const trailArn = "arn:aws:cloudtrail:eu-west-1:111111111111:trail/flz-organization-trail";
    // (The exported trailArn is read back from the trail; under mocks that is the engine's placeholder.)
    expect(JSON.stringify(statements(one(run, "aws:kms/key:Key", "-trail")))).to.include(trailArn);
    const trailBucketPolicy = allOf(run, "aws:s3/bucketPolicy:BucketPolicy").find(
      (p) => p.name === "lz-trail-bucket-policy",
    )!;
    expect(JSON.stringify(statements(trailBucketPolicy))).to.include(trailArn);
  });

  it("hands the forensic roles to the key policies: the responder alone signs, investigators decrypt trail logs", async () => {
    const run = await landingZone();
    // Built from the forensic account and the role names (known at a first preview), not read back from the roles.
    const responder = "arn:aws:iam::222222222222:role/FlzForensicResponder";
    const investigator = "arn:aws:iam::222222222222:role/FlzForensicInvestigator";
    expect(run.outputs.forensicResponderRoleArn).to.match(/role\/FlzForensicResponder$/);
    const signers = statements(one(run, "aws:kms/key:Key", "-custody-signing")).filter(
      (s) => s.Effect === "Allow" && covers(s, "kms:Sign"),
    );
    expect(signers.map((s) => s.Principal)).to.deep.equal([{ AWS: responder }]);
    // Beyond the account's own administration (`kms:*` for the key account), only investigators may decrypt.
    const roleDecrypt = statements(one(run, "aws:kms/key:Key", "-trail")).filter(
      (s) => covers(s, "kms:Decrypt") && JSON.stringify(s.Principal).includes(":role/"),
    );
    expect(roleDecrypt.map((s) => JSON.stringify(s.Principal))).to.deep.equal([
      JSON.stringify({ AWS: [investigator] }),
    ]);
  });

  it("replicates the evidence key into every governed region and exports one ARN per region", async () => {
    const run = await landingZone();
    expect(allOf(run, "aws:kms/replicaKey:ReplicaKey")).to.have.length(2);
    expect(Object.keys(run.outputs.evidenceKeyArns)).to.have.members(ARGS.regions);
  });

  it("creates the trail in the home region of the management account, in the trail bucket, with the trail key", async () => {
    const run = await landingZone();
    const trail = one(run, "aws:cloudtrail/trail:Trail");
    expect(placementOf(run, trail)).to.deep.equal({ account: "111111111111", region: "eu-west-1" });
    expect(trail.inputs.s3BucketName).to.equal("flz-trail-222222222222-eu-west-1");
    // The mock engine's ARN of the trail key (it places every ARN in us-east-1 of 111111111111).
    expect(trail.inputs.kmsKeyId).to.equal("arn:aws:kms:us-east-1:111111111111:key/mrk-lz-keys-trail");
  });

  it("refuses a home region outside the governed regions", async () => {
    let error: unknown;
    await runProgram(() => {
      try {
        new ForensicLandingZone("bad", { ...ARGS, homeRegion: "ap-south-1" });
      } catch (err) {
        error = err;
      }
      return {};
    });
    expect(String(error)).to.include(
      "home region ap-south-1 is not one of the governed regions [eu-west-1, eu-central-1, us-east-1]",
    );
  });

  it("tags what the policy pack must recognise with the pack's own purpose tag", async () => {
    expect(PURPOSE_TAG_KEY).to.equal(PACK_TAG_KEY);
    expect(PURPOSE).to.deep.equal(PACK_PURPOSE);
    const run = await landingZone();
    const purposes = run.resources
      .filter((r) => r.custom && (r.inputs.tags as Record<string, string> | undefined)?.[PURPOSE_TAG_KEY])
      .map((r) => `${r.type} ${(r.inputs.tags as Record<string, string>)[PURPOSE_TAG_KEY]}`);
    expect(purposes).to.have.members([
      "aws:kms/key:Key trail-key",
      "aws:kms/key:Key evidence-key",
      "aws:kms/replicaKey:ReplicaKey evidence-key",
      "aws:kms/replicaKey:ReplicaKey evidence-key",
      "aws:kms/key:Key custody-signing",
      "aws:s3/bucket:Bucket trail-logs",
      "aws:s3/bucket:Bucket evidence",
      "aws:iam/role:Role forensic-role",
      "aws:iam/role:Role forensic-role",
      "aws:iam/role:Role break-glass",
      "aws:ec2/vpc:Vpc forensic-network",
      // Not read by the pack either: the alarm topics' keys, which the alarm-protection SCP freezes by this tag.
      ...ARGS.regions.map(() => "aws:kms/key:Key alarm-topic"),
      // Not read by the pack: what keeps the forensic responder from re-tagging or detaching the guardrails, and the
      // delegation that lets it manage quarantine SCPs (documents/quarantine.ts).
      "aws:organizations/policy:Policy guardrail",
      "aws:organizations/policy:Policy guardrail", // flz-protect-alarms
      "aws:organizations/resourcePolicy:ResourcePolicy quarantine-delegation",
    ]);
  });

  describe("part-two parts", () => {
    const PART_TYPES = [
      "flz:guardrails:GuardrailPolicies",
      "flz:detection:DetectionDelegation",
      "flz:investigation:InvestigationWorkspace",
      "flz:network:ForensicVpc",
      "flz:alarms:IncidentAlarms",
    ];
    const typesOf = (run: { resources: RecordedResource[] }) => new Set(run.resources.map((r) => r.type));

    it("contains every part by default, alarms in each governed region, and nothing of the workload baseline", async () => {
      const run = await landingZone();
      for (const type of PART_TYPES) expect(typesOf(run).has(type), type).to.equal(true);
      const alarms = allOf(run, "flz:alarms:IncidentAlarms").map((r) => r.name);
      expect(alarms).to.have.members(ARGS.regions.map((r) => `lz-alarms-${r}`));
      expect(
        allOf(run, "aws:organizations/policy:Policy").map((p) => [p.inputs.name, p.inputs.type]),
      ).to.have.deep.members([
        ["flz-protect-forensics", "SERVICE_CONTROL_POLICY"],
        ["flz-protect-evidence", "RESOURCE_CONTROL_POLICY"],
        ["flz-protect-alarms", "SERVICE_CONTROL_POLICY"],
      ]);
    });

    it("freezes every alarm rule, topic and topic key it declares, on the forensic account, for all but the deployment role", async () => {
      const run = await landingZone();
      const scp = one(run, "aws:organizations/policy:Policy", "-protect-alarms");
      const attachments = allOf(run, "aws:organizations/policyAttachment:PolicyAttachment")
        .filter((a) => a.name.includes("protect-alarms"))
        .map((a) => a.inputs.targetId);
      expect(attachments).to.deep.equal(["222222222222"]);
      const statements = JSON.parse(String(scp.inputs.content)).Statement as Array<{
        Sid: string;
        Resource: string | string[];
        Condition: Record<string, Record<string, unknown>>;
      }>;
      const [rulesAndTopics, keys] = statements;
      expect(rulesAndTopics.Condition).to.deep.equal({
        ArnNotLike: { "aws:PrincipalARN": ARGS.deploymentRoleArn },
      });
      // Every rule and topic the alarms declare (by the name AWS will give it) matches one of the statement's patterns.
      const patterns = ([] as string[])
        .concat(rulesAndTopics.Resource)
        .map((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`));
      const named = [
        ...allOf(run, "aws:cloudwatch/eventRule:EventRule")
          .filter((r) => placementOf(run, r).account === "222222222222")
          .map((r) => `arn:aws:events:${placementOf(run, r).region}:222222222222:rule/${String(r.inputs.name)}`),
        ...allOf(run, "aws:sns/topic:Topic").map(
          (t) => `arn:aws:sns:${placementOf(run, t).region}:222222222222:${String(t.inputs.name)}`,
        ),
      ];
      expect(named.length).to.be.greaterThan(ARGS.regions.length * 2);
      for (const arn of named)
        expect(
          patterns.some((p) => p.test(arn)),
          arn,
        ).to.equal(true);
      // A subscription's ARN is its topic's with an ID after it: covered by the same pattern.
      expect(patterns.some((p) => p.test(`${named.at(-1)}:0b1c2d3e-aaaa-bbbb-cccc-0123456789ab`))).to.equal(true);
      expect(keys.Condition.StringEquals).to.deep.equal({ "aws:ResourceTag/flz:purpose": "alarm-topic" });
    });

    it("leaves each part out when switched off", async () => {
      const run = await landingZone({
        ...ARGS,
        guardrails: { enabled: false },
        detection: false,
        investigation: { enabled: false },
        forensicVpc: { enabled: false },
        alarms: { enabled: false },
      });
      for (const type of PART_TYPES) expect(typesOf(run).has(type), type).to.equal(false);
      // Without the workspace, investigators get no write access to the evidence bucket.
      const investigator = one(run, "aws:iam/rolePolicy:RolePolicy", "-forensic-investigator");
      expect(statements(investigator).map((s) => s.Sid)).to.not.include("WriteAthenaResults");
    });

    it("turns EBS encryption by default on in every governed region of the forensic account", async () => {
      const run = await landingZone();
      const ebs = allOf(run, "aws:ebs/encryptionByDefault:EncryptionByDefault");
      expect(ebs.map((r) => r.inputs.enabled)).to.deep.equal([true, true, true]);
      expect(ebs.map((r) => placementOf(run, r))).to.have.deep.members(
        ARGS.regions.map((region) => ({ account: "222222222222", region })),
      );
    });

    it("attaches the protection SCP to the organisation root by default, exempting the forensic admin role", async () => {
      const run = await landingZone();
      const attachment = one(run, "aws:organizations/policyAttachment:PolicyAttachment", "protect-forensics-target-0");
      expect(attachment.inputs.targetId).to.equal("r-exam");
      const scp = one(run, "aws:organizations/policy:Policy", "-protect-forensics");
      const text = String(scp.inputs.content);
      expect(text.length).to.be.at.most(5120);
      expect(text).to.include("arn:aws:iam::*:role/OrganizationAccountAccessRole");
      expect(text).to.include("arn:aws:cloudtrail:eu-west-1:111111111111:trail/flz-organization-trail");
      // The keys by owner and purpose tag (known at a first preview), and the tag frozen.
      const keys = JSON.parse(text).Statement.find((s: { Sid?: string }) => s.Sid === "FlzProtectForensicKeys");
      expect(keys.Resource).to.equal("arn:aws:kms:*:222222222222:key/*");
      expect(keys.Condition.StringEquals).to.deep.equal({
        "aws:ResourceTag/flz:purpose": ["evidence-key", "trail-key", "custody-signing"],
      });
      expect(text).to.include("FlzProtectForensicKeyTag");
      expect(text).to.include("FlzMemberResponder");
    });

    it("attaches the workload baseline to the configured targets when asked", async () => {
      const run = await landingZone({
        ...ARGS,
        guardrails: { targetIds: ["ou-exam-workloads1"], workloadBaseline: true },
      });
      const targets = allOf(run, "aws:organizations/policyAttachment:PolicyAttachment").map((a) => [
        a.name,
        a.inputs.targetId,
      ]);
      expect(targets).to.have.deep.members([
        ["lz-guardrails-protect-forensics-ou-exam-workloads1", "ou-exam-workloads1"],
        ["lz-guardrails-protect-evidence-ou-exam-workloads1", "ou-exam-workloads1"],
        ["lz-guardrails-workload-baseline-ou-exam-workloads1", "ou-exam-workloads1"],
        ["lz-guardrails-protect-alarms-target-0", "222222222222"],
      ]);
    });

    it("delegates detection to the forensic account in every region, or to a named account through its own providers", async () => {
      const run = await landingZone();
      const guardDuty = allOf(run, "aws:guardduty/organizationAdminAccount:OrganizationAdminAccount");
      expect(guardDuty.map((g) => g.inputs.adminAccountId)).to.deep.equal([
        "222222222222",
        "222222222222",
        "222222222222",
      ]);
      const detectors = allOf(run, "aws:guardduty/detector:Detector");
      expect(detectors.map((d) => placementOf(run, d).account)).to.deep.equal([
        "222222222222",
        "222222222222",
        "222222222222",
      ]);

      const named = await landingZone({ ...ARGS, detection: { adminAccountId: "333333333333", detective: false } });
      expect(allOf(named, "aws:detective/graph:Graph")).to.have.length(0);
      const namedDetectors = allOf(named, "aws:guardduty/detector:Detector");
      expect(namedDetectors.map((d) => placementOf(named, d))).to.have.deep.members(
        ARGS.regions.map((region) => ({ account: "333333333333", region })),
      );
      // GuardDuty's administrator gets the alarm guardrail too: its GuardDuty statement binds that account
      const alarmTargets = (r: typeof run) =>
        allOf(r, "aws:organizations/policyAttachment:PolicyAttachment")
          .filter((a) => a.name.includes("protect-alarms"))
          .map((a) => a.inputs.targetId);
      expect(alarmTargets(named)).to.deep.equal(["222222222222", "333333333333"]);
      expect(alarmTargets(run)).to.deep.equal(["222222222222"]);
      // naming the (adopted) forensic account itself attaches nothing twice
      const same = await landingZone({ ...ARGS, detection: { adminAccountId: "222222222222" } });
      expect(alarmTargets(same)).to.deep.equal(["222222222222"]);
    });

    it("names the trusted-access principals the enabled detection services still lack", () => {
      expect(missingDetectionTrustedAccess({}, ["guardduty.amazonaws.com"])).to.deep.equal([
        "malware-protection.guardduty.amazonaws.com",
        "securityhub.amazonaws.com",
        "detective.amazonaws.com",
      ]);
      expect(
        missingDetectionTrustedAccess({ securityHub: false, detective: false }, [
          "guardduty.amazonaws.com",
          "malware-protection.guardduty.amazonaws.com",
        ]),
      ).to.deep.equal([]);
    });

    it("writes Athena results into the evidence bucket under the evidence key, and lets investigators write only there", async () => {
      const run = await landingZone();
      const workgroup = one(run, "aws:athena/workgroup:Workgroup");
      const result = (workgroup.inputs.configuration as { resultConfiguration: Record<string, unknown> })
        .resultConfiguration;
      expect(result.outputLocation).to.equal("s3://flz-evidence-222222222222-eu-west-1/athena-results/");
      expect(result.encryptionConfiguration).to.deep.equal({
        encryptionOption: "SSE_KMS",
        kmsKeyArn: "arn:aws:kms:us-east-1:111111111111:key/mrk-lz-keys-evidence",
      });
      expect(placementOf(run, workgroup)).to.deep.equal({ account: "222222222222", region: "eu-west-1" });
      const write = statements(one(run, "aws:iam/rolePolicy:RolePolicy", "-forensic-investigator")).find(
        (s) => s.Sid === "WriteAthenaResults",
      );
      expect(write?.Resource).to.equal("arn:aws:s3:::flz-evidence-222222222222-eu-west-1/athena-results/*");
      const table = one(run, "aws:glue/catalogTable:CatalogTable");
      // Injected: accounts created after deployment are queryable; no account list to keep up to date.
      expect((table.inputs.parameters as Record<string, string>)["projection.account.type"]).to.equal("injected");
    });

    it("forwards trail changes from the management account in the home region only, and alarms on the break-glass role", async () => {
      const run = await landingZone();
      const forwarders = allOf(run, "aws:cloudwatch/eventRule:EventRule").filter((r) =>
        r.name.endsWith("-forward-trail-change"),
      );
      expect(forwarders.map((r) => placementOf(run, r))).to.deep.equal([
        { account: "111111111111", region: "eu-west-1" },
      ]);
      const breakGlass = allOf(run, "aws:cloudwatch/eventRule:EventRule").filter((r) =>
        r.name.endsWith("-break-glass"),
      );
      expect(breakGlass).to.have.length(3);
      for (const rule of breakGlass) expect(String(rule.inputs.eventPattern)).to.include("role/FlzBreakGlass");
    });
  });

  describe("on a first pulumi preview (every resource to be created)", () => {
    /** Inputs holding policy documents and templates, by resource type. */
    const DOCUMENTS: Record<string, string> = {
      "aws:s3/bucketPolicy:BucketPolicy": "policy",
      "aws:kms/key:Key": "policy",
      "aws:kms/replicaKey:ReplicaKey": "policy",
      "aws:iam/role:Role": "assumeRolePolicy",
      "aws:iam/rolePolicy:RolePolicy": "policy",
      "aws:cloudformation/stackSet:StackSet": "templateBody",
      "aws:organizations/policy:Policy": "content",
    };
    /** `type name.input` of every document a first preview cannot know. */
    function unknownDocuments(resources: RecordedResource[]): string[] {
      const planned = previewCreateProps(resources);
      return resources
        .filter((r) => DOCUMENTS[r.type] !== undefined && r.inputs[DOCUMENTS[r.type]] !== undefined)
        .filter((r) => planned.get(r.urn)?.inputs[DOCUMENTS[r.type]] !== r.inputs[DOCUMENTS[r.type]])
        .map((r) => `${r.type} ${r.name}.${DOCUMENTS[r.type]}`);
    }

    it("knows every policy document and the StackSet template when the forensic account is adopted", async () => {
      const run = await landingZone();
      const documents = run.resources.filter((r) => DOCUMENTS[r.type] !== undefined);
      expect(documents.length).to.be.at.least(20);
      expect(unknownDocuments(run.resources)).to.deep.equal([]);
    });

    it("cannot know those naming a forensic account that is being created (its ID comes from Organizations)", async () => {
      const run = await landingZone({
        ...ARGS,
        forensicAccount: {
          kind: "create",
          email: "f@example.com",
          accountName: "F",
          organizationalUnitName: "Forensics",
        },
      });
      const unknown = unknownDocuments(run.resources);
      for (const expected of [
        "aws:s3/bucketPolicy:BucketPolicy lz-evidence-bucket-policy.policy",
        "aws:kms/key:Key lz-keys-evidence.policy",
        "aws:organizations/policy:Policy lz-guardrails-protect-forensics.content",
        "aws:cloudformation/stackSet:StackSet lz-roles-stackset.templateBody",
      ])
        expect(unknown).to.include(expected);
    });
  });

  describe("deploy-time prerequisites", () => {
    const urnOf = (r: RecordedResource) => r.urn;

    it("creates the trail only after the trail bucket's policy and the trail key exist", async () => {
      const run = await landingZone();
      const trail = one(run, "aws:cloudtrail/trail:Trail");
      const bucketPolicy = allOf(run, "aws:s3/bucketPolicy:BucketPolicy").find(
        (p) => p.name === "lz-trail-bucket-policy",
      )!;
      const trailKey = one(run, "aws:kms/key:Key", "-keys-trail");
      expect(trail.options?.dependsOn).to.include.members([urnOf(bucketPolicy), urnOf(trailKey)]);
    });

    it("creates every forensic key after the forensic roles its policy names (KMS rejects unknown principals)", async () => {
      const run = await landingZone();
      const roleUrns = ["-forensic-responder", "-forensic-investigator"].map((suffix) =>
        urnOf(one(run, "aws:iam/role:Role", suffix)),
      );
      const keys = [...allOf(run, "aws:kms/key:Key"), ...allOf(run, "aws:kms/replicaKey:ReplicaKey")].filter((k) =>
        k.name.startsWith("lz-keys-"),
      );
      expect(keys).to.have.length(5);
      for (const k of keys) expect(k.options?.dependsOn, k.name).to.include.members(roleUrns);
    });

    it("deploys the member-roles StackSet after the forensic roles its template trusts", async () => {
      const run = await landingZone();
      const stackSet = one(run, "aws:cloudformation/stackSet:StackSet");
      for (const suffix of ["-forensic-responder", "-forensic-investigator"])
        expect(stackSet.options?.dependsOn).to.include(urnOf(one(run, "aws:iam/role:Role", suffix)));
    });

    it("still applies each bucket policy after its bucket, through the bucket reference", async () => {
      const run = await landingZone();
      for (const policy of allOf(run, "aws:s3/bucketPolicy:BucketPolicy")) {
        const bucket = one(run, "aws:s3/bucket:Bucket", policy.name.replace(/-policy$/, ""));
        expect(policy.propertyDependencies?.bucket, policy.name).to.deep.equal([urnOf(bucket)]);
        expect(policy.propertyDependencies?.policy ?? [], policy.name).to.not.include(urnOf(bucket));
      }
    });

    it("protects and retains the locked buckets, their settings and the forensic keys", async () => {
      const run = await landingZone();
      const buckets = allOf(run, "aws:s3/bucket:Bucket");
      expect(buckets).to.have.length(4);
      for (const b of buckets) expect(b.options, b.name).to.deep.include({ protect: true, retainOnDelete: true });
      for (const lock of allOf(run, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"))
        expect(lock.options?.retainOnDelete, lock.name).to.equal(true);
      const forensicKeys = [...allOf(run, "aws:kms/key:Key"), ...allOf(run, "aws:kms/replicaKey:ReplicaKey")].filter(
        (k) => k.name.startsWith("lz-keys-"),
      );
      expect(forensicKeys).to.have.length(5);
      for (const k of forensicKeys) expect(k.options, k.name).to.deep.include({ protect: true, retainOnDelete: true });
    });

    it("protects the organisation trail from deletion by a stray `pulumi destroy`", async () => {
      const run = await landingZone();
      expect(one(run, "aws:cloudtrail/trail:Trail").options?.protect).to.equal(true);
    });

    it("registers each delegated administrator only after the service is on in the administrator account", async () => {
      const run = await landingZone();
      for (const [registration, prerequisite] of [
        ["aws:guardduty/organizationAdminAccount:OrganizationAdminAccount", "aws:guardduty/detector:Detector"],
        ["aws:securityhub/organizationAdminAccount:OrganizationAdminAccount", "aws:securityhub/account:Account"],
        ["aws:detective/organizationAdminAccount:OrganizationAdminAccount", "aws:detective/graph:Graph"],
      ] as const) {
        for (const r of allOf(run, registration)) {
          const region = placementOf(run, r).region;
          const enabled = allOf(run, prerequisite).find((p) => placementOf(run, p).region === region)!;
          expect(r.options?.dependsOn, r.name).to.include(enabled.urn);
        }
      }
    });
  });
});

describe("ForensicLandingZone: deploy fixes", () => {
  it("creates the trail only after the trail bucket's Object Lock configuration, policy and key", async () => {
    const run = await landingZone();
    const trail = one(run, "aws:cloudtrail/trail:Trail");
    const lock = allOf(run, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").find(
      (l) => l.name === "lz-trail-bucket-lock",
    );
    const policy = one(run, "aws:s3/bucketPolicy:BucketPolicy", "lz-trail-bucket-policy");
    expect(trail.options?.dependsOn).to.include.members([lock?.urn, policy.urn]);
  });

  it("logs S3 object writes everywhere but in the trail bucket and the access-log buckets (the evidence bucket stays logged)", async () => {
    const run = await landingZone();
    const selectors = one(run, "aws:cloudtrail/trail:Trail").inputs.advancedEventSelectors as Array<{
      name: string;
      fieldSelectors: Array<{ field: string; notStartsWiths?: string[] }>;
    }>;
    const writes = selectors.find((s) => s.name === "S3 object writes");
    const excluded = writes?.fieldSelectors.find((f) => f.field === "resources.ARN")?.notStartsWiths;
    expect(excluded).to.have.members([
      "arn:aws:s3:::flz-trail-222222222222-eu-west-1/",
      "arn:aws:s3:::flz-trail-222222222222-eu-west-1-logs/",
      "arn:aws:s3:::flz-evidence-222222222222-eu-west-1-logs/",
    ]);
  });

  it("lets the management account, which creates the trail, decrypt CloudTrail ciphertext under the trail key (S3 Bucket Key)", async () => {
    const run = await landingZone();
    const creator = statements(one(run, "aws:kms/key:Key", "-trail")).find((s) => s.Sid === "AllowTrailCreatorDecrypt");
    expect(creator).to.deep.include({
      Principal: { AWS: "arn:aws:iam::111111111111:root" },
      Action: "kms:Decrypt",
      Condition: { Null: { "kms:EncryptionContext:aws:cloudtrail:arn": "false" } },
    });
  });

  it("freezes the buckets and keys for all but the deployment role, in their own policies and in an RCP on the root", async () => {
    const run = await landingZone();
    const deployment = "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole";
    for (const name of ["lz-evidence-bucket-policy", "lz-trail-bucket-policy"]) {
      const freeze = statements(one(run, "aws:s3/bucketPolicy:BucketPolicy", name)).find(
        (s) => s.Sid === "FlzFreezeForensicBuckets",
      );
      expect(freeze?.Condition, name).to.deep.equal({ ArnNotLike: { "aws:PrincipalArn": deployment } });
    }
    for (const suffix of ["-trail", "-evidence", "-custody-signing"]) {
      const deny = statements(one(run, "aws:kms/key:Key", suffix)).find(
        (s) => s.Sid === "DenyKeyTamperingExceptDeployment",
      );
      expect(deny?.Condition, suffix).to.deep.equal({ ArnNotLike: { "aws:PrincipalArn": deployment } });
    }
    const rcp = one(run, "aws:organizations/policy:Policy", "-protect-evidence");
    expect(rcp.inputs.type).to.equal("RESOURCE_CONTROL_POLICY");
    expect(
      one(run, "aws:organizations/policyAttachment:PolicyAttachment", "protect-evidence-target-0").inputs.targetId,
    ).to.equal("r-exam");
    // The protection SCP freezes the forensic account's own roles, and the responder's trusted role there.
    const roles = JSON.parse(
      String(one(run, "aws:organizations/policy:Policy", "-protect-forensics").inputs.content),
    ).Statement.find((s: { Sid: string }) => s.Sid === "FlzProtectForensicRoles");
    expect(roles.Resource).to.include.members([
      "arn:aws:iam::222222222222:role/FlzForensicResponder",
      "arn:aws:iam::222222222222:role/FlzForensicInvestigator",
      "arn:aws:iam::222222222222:role/FlzBreakGlass",
      "arn:aws:iam::222222222222:role/IncidentResponder",
    ]);
  });

  it("waits for a created forensic account's admin role before any provider uses it", async () => {
    const run = await landingZone({
      ...ARGS,
      forensicAccount: {
        kind: "create",
        email: "f@example.com",
        accountName: "Forensics",
        organizationalUnitName: "Forensics",
      },
    });
    const check = one(run, "pulumi-nodejs:dynamic/flz-readiness:Resource");
    expect(check.inputs).to.deep.include({ roleArn: "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole" });
    const providers = allOf(run, "pulumi:providers:aws").filter((p) => p.name.startsWith("lz-forensic-account-"));
    expect(providers).to.have.length(ARGS.regions.length);
    // Each provider's role comes from the check's output: it is configured only once the role is assumable.
    for (const provider of providers)
      expect(provider.propertyDependencies?.assumeRoles, provider.name).to.include(check.urn);
    // The OU, like the account, outlives a destroy (Organizations refuses to delete an OU that holds an account).
    expect(one(run, "aws:organizations/organizationalUnit:OrganizationalUnit").options).to.deep.include({
      protect: true,
      retainOnDelete: true,
    });
  });

  it("puts the IAM and Organizations alarms in us-east-1 even when it is not governed, with the forwarding from the management account there", async () => {
    const run = await landingZone({ ...ARGS, regions: ["eu-west-1", "eu-central-1"] });
    const rules = allOf(run, "aws:cloudwatch/eventRule:EventRule");
    const where = (suffix: string) => rules.filter((r) => r.name.endsWith(suffix)).map((r) => placementOf(run, r));
    expect(where("-forensic-role-change")).to.deep.equal([{ account: "222222222222", region: "us-east-1" }]);
    expect(where("alarms-us-east-1-organization-guardrail-change")).to.deep.equal([
      { account: "222222222222", region: "us-east-1" },
    ]);
    expect(where("-forward-organization-guardrail-change")).to.deep.equal([
      { account: "111111111111", region: "us-east-1" },
    ]);
    // No evidence key replica in the ungoverned region.
    expect(allOf(run, "aws:kms/replicaKey:ReplicaKey").map((r) => placementOf(run, r).region)).to.deep.equal([
      "eu-central-1",
    ]);
  });

  it("lets EventBridge use the alarm topic's key only for that topic (the SNS encryption context), not on an unproven aws:SourceAccount", async () => {
    const run = await landingZone();
    const key = allOf(run, "aws:kms/key:Key").find((k) => k.name === "lz-alarms-eu-west-1-topic");
    const statement = statements(key!).find((s) => s.Sid === "EventBridgePublishesEncrypted");
    // The topic is the key's own account's (the forensic account, as the pinned provider's getCallerIdentity says);
    // the mock engine answers getRegion with us-east-1 whatever the provider.
    expect(placementOf(run, key!).account).to.equal("222222222222");
    expect(statement?.Condition).to.deep.equal({
      StringEquals: {
        "kms:EncryptionContext:aws:sns:topicArn":
          "arn:aws:sns:us-east-1:222222222222:lz-alarms-eu-west-1-incident-alarms",
      },
    });
  });
});
