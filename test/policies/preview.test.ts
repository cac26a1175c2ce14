/**
 * The pack on a FIRST `pulumi preview`: every resource is to be created, so the IDs and ARNs the cloud assigns, and
 * every input built from them, are unknown. Covers how the harness delivers unknowns (the policy SDK's own proxy),
 * how rules join through the engine's property dependencies, and where they fail closed.
 */
import { expect } from "chai";
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { forensicBucketKmsEncryption, forensicBucketObjectLock, forensicBucketTlsOnly } from "../../policies/storage";
import { kmsForensicKeyDeletionWindow } from "../../policies/kms";
import { forensicVpcNoInternet } from "../../policies/network";
import { scpProtectsOrganizationTrail } from "../../policies/organization";
import { trailKmsEncrypted } from "../../policies/trail";
import { linkOf } from "../../policies/lib/resources";
import { containsUnknown, read, UNKNOWN, UNKNOWN_SENTINELS } from "../../policies/lib/unknowns";
import type { Rule, StackRule } from "../../policies/lib/types";
import type { RecordedResource } from "../../scripts/plan/mock-engine";
import { asAnalyzerDelivers, previewCreateProps } from "../../scripts/plan/delivery";
import { doc, evaluateBoth, res } from "./helpers";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sdkProxy = require("@pulumi/policy/proxy") as { unknownStringValue: string };
const PREVIEW = { preview: "create" as const };

/** The resource with the property dependencies a program's `input: other.output` records. */
function from(resource: RecordedResource, deps: Record<string, RecordedResource[]>): RecordedResource {
  return {
    ...resource,
    propertyDependencies: Object.fromEntries(Object.entries(deps).map(([k, v]) => [k, v.map((d) => d.urn)])),
  };
}

const BUCKET = "aws:s3/bucket:Bucket";
const LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration";
const ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
const POLICY = "aws:s3/bucketPolicy:BucketPolicy";
const TRAIL = "aws:cloudtrail/trail:Trail";
const KEY = "aws:kms/key:Key";

const evidenceBucket = (name = "evidence", tags: Record<string, string> = { "flz:purpose": "evidence" }) =>
  res(BUCKET, name, { bucket: `flz-${name}`, objectLockEnabled: true, tags });

/** A lock configuration that names its bucket by `bucket.id`, as EvidenceBucket does. */
const lockOf = (bucket: RecordedResource, mode = "COMPLIANCE", days = 365) =>
  from(
    res(LOCK, `${bucket.name}-lock`, {
      bucket: bucket.id,
      objectLockEnabled: "Enabled",
      rule: { defaultRetention: { mode, days } },
    }),
    { bucket: [bucket] },
  );

async function verdict(rule: Rule, resources: RecordedResource[], preview = true) {
  const v = await evaluateBoth(resources, { rules: [rule], ...(preview ? PREVIEW : {}) });
  const only = v.policies[0];
  if (!only) throw new Error("no verdict");
  return only;
}

describe('first preview (preview: "create")', () => {
  describe("what the harness delivers", () => {
    it("uses the policy SDK's sentinels, and reading through its proxy never trips on a known value", () => {
      expect(UNKNOWN_SENTINELS.has(sdkProxy.unknownStringValue)).to.equal(true);
      const props = asAnalyzerDelivers({ id: sdkProxy.unknownStringValue, name: "x", nested: { a: 1 } });
      expect(read(props, "id")).to.equal(UNKNOWN);
      expect(read(props, "name")).to.equal("x");
      expect(read(read(props, "nested"), "a")).to.equal(1);
      expect(containsUnknown(props)).to.equal(true);
      expect(() => props.id).to.throw(/string value at \.id can't be known during preview/);
    });

    it("makes computed outputs unknown and carries unknowns into inputs built from them, through property dependencies", () => {
      const bucket = evidenceBucket();
      const lock = lockOf(bucket);
      const policy = from(
        res(POLICY, "evidence-policy", {
          bucket: bucket.id,
          policy: doc({ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: `arn:aws:s3:::${bucket.id}/*` }),
        }),
        { bucket: [bucket], policy: [bucket] },
      );
      const encryption = from(
        res(ENCRYPTION, "evidence-encryption", {
          bucket: bucket.id,
          rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "key-id" } }],
        }),
        { bucket: [bucket] },
      );
      const literal = res(LOCK, "literal-lock", { bucket: "flz-evidence", rule: {} });
      const planned = previewCreateProps([bucket, lock, policy, encryption, literal]);
      const unknown = sdkProxy.unknownStringValue;
      expect(planned.get(bucket.urn)?.outputs.id).to.equal(unknown);
      expect(planned.get(bucket.urn)?.outputs.bucket, "an explicit name is known").to.equal("flz-evidence");
      expect(planned.get(lock.urn)?.inputs.bucket, "bucket: bucket.id").to.equal(unknown);
      expect(planned.get(lock.urn)?.inputs.rule, "literal settings stay known").to.deep.equal({
        defaultRetention: { mode: "COMPLIANCE", days: 365 },
      });
      expect(planned.get(policy.urn)?.inputs.policy, "a document built from the bucket").to.equal(unknown);
      expect(planned.get(encryption.urn)?.inputs.rules, "without a dependency nothing is unknown").to.deep.equal(
        encryption.inputs.rules,
      );
      expect(planned.get(literal.urn)?.inputs.bucket, "a literal with no dependency is known").to.equal("flz-evidence");
    });

    it("reports a rule that reads an unknown value as the engine does: advisory can't-run, violations before it kept", async () => {
      const bucket = evidenceBucket();
      const readsId: StackValidationPolicy & StackRule = {
        ...forensicBucketObjectLock,
        name: "reads-ids",
        validateStack: (args, report) => {
          report("reported before the unknown read");
          for (const r of args.resources) void (r.props as Record<string, unknown>).id;
        },
      };
      const atPreview = await verdict(readsId, [bucket]);
      expect(atPreview.status).to.equal("fail");
      expect(atPreview.violations.map((v) => v.message)).to.deep.equal(["reported before the unknown read"]);
      expect(atPreview.previewUnknowns?.[0]?.message).to.match(
        /^can't run policy 'reads-ids' from policy pack 'forensic-landing-zone@v[\d.]+' during preview: string value at \.id can't be known during preview$/,
      );
      expect((await verdict(readsId, [bucket], false)).previewUnknowns).to.deep.equal([]);
    });
  });

  describe("joins through property dependencies", () => {
    it("catches a brand-new evidence bucket locked in GOVERNANCE mode (its lock names it by an unknown bucket.id)", async () => {
      const bucket = evidenceBucket();
      const v = await verdict(forensicBucketObjectLock, [bucket, lockOf(bucket, "GOVERNANCE")]);
      expect(v.status).to.equal("fail");
      expect(v.violations[0]?.message).to.match(/Bucket evidence .*mode is GOVERNANCE/);
    });

    it("passes the same bucket in COMPLIANCE mode, and does not take another bucket's lock for its own", async () => {
      const bucket = evidenceBucket();
      const other = evidenceBucket("scratch", {});
      const v = await verdict(forensicBucketObjectLock, [
        bucket,
        other,
        lockOf(bucket),
        lockOf(other, "GOVERNANCE", 1),
      ]);
      expect(v.violations).to.deep.equal([]);
      expect(v.status).to.equal("pass");
    });

    it("finds a trail's target bucket while the trail's s3BucketName is unknown", async () => {
      const bucket = evidenceBucket("trail-logs", {});
      const trail = from(res(TRAIL, "trail", { s3BucketName: bucket.id, isMultiRegionTrail: true }), {
        s3BucketName: [bucket],
      });
      const v = await verdict(forensicBucketObjectLock, [bucket, trail, lockOf(bucket, "COMPLIANCE", 1)]);
      expect(v.violations[0]?.message).to.match(
        /Bucket trail-logs \(target of trail trail\): default retention is 1 days/,
      );
    });

    it("finds a trail's key while its ARN is unknown, and holds it to the forensic deletion window", async () => {
      const key = res(KEY, "trail-key", { deletionWindowInDays: 7 });
      const trail = from(res(TRAIL, "trail", { kmsKeyId: `arn:aws:kms:us-east-1:1:key/${key.id}` }), {
        kmsKeyId: [key],
      });
      const v = await verdict(kmsForensicKeyDeletionWindow, [key, trail]);
      expect(v.violations[0]?.message).to.match(/Key trail-key \(encrypts a trail\) has a 7-day deletion window/);
      expect(
        (await verdict(trailKmsEncrypted, [key, trail])).status,
        "an unknown key ARN is a key of this program",
      ).to.equal("pass");
    });

    it("accepts an unknown kmsMasterKeyId that comes from a KMS key of the program, fails closed otherwise", async () => {
      const bucket = evidenceBucket();
      const key = res(KEY, "evidence-key", {});
      const role = res("aws:iam/role:Role", "some-role", {});
      const encryption = (source: RecordedResource) =>
        from(
          res(ENCRYPTION, "evidence-encryption", {
            bucket: bucket.id,
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: source.id } }],
          }),
          { bucket: [bucket], rules: [source] },
        );
      expect((await verdict(forensicBucketKmsEncryption, [bucket, key, encryption(key)])).status).to.equal("pass");
      const v = await verdict(forensicBucketKmsEncryption, [bucket, role, encryption(role)]);
      expect(v.violations[0]?.message).to.match(/cannot verify during preview: kmsMasterKeyId .* may be AWS-managed/);
    });

    it("joins an internet gateway to the forensic VPC through its vpcId dependency", async () => {
      const vpc = res("aws:ec2/vpc:Vpc", "analysis", { tags: { "flz:purpose": "forensic-network" } });
      const igw = from(res("aws:ec2/internetGateway:InternetGateway", "igw", { vpcId: vpc.id }), { vpcId: [vpc] });
      const v = await verdict(forensicVpcNoInternet, [vpc, igw]);
      expect(v.violations[0]?.message).to.match(/igw .* gives it an internet path/);
    });

    it("decides a link yes, no or undecided (property dependencies first, then known values)", () => {
      const view = (r: RecordedResource, props: Record<string, unknown>, deps: Record<string, PolicyResource[]> = {}) =>
        ({
          type: r.type,
          name: r.name,
          urn: r.urn,
          props: asAnalyzerDelivers(props),
          propertyDependencies: deps,
        }) as unknown as PolicyResource;
      const a = view(evidenceBucket("a"), { bucket: "flz-a", id: sdkProxy.unknownStringValue });
      const b = view(evidenceBucket("b"), { bucket: "flz-b", id: sdkProxy.unknownStringValue });
      const unknownRef = { bucket: sdkProxy.unknownStringValue };
      const lock = res(LOCK, "l", {});
      expect(linkOf(view(lock, unknownRef, { bucket: [a] }), "bucket", a)).to.equal("yes");
      expect(linkOf(view(lock, unknownRef, { bucket: [a] }), "bucket", b)).to.equal("no");
      expect(linkOf(view(lock, { bucket: "flz-b" }), "bucket", b), "known name, no dependency").to.equal("yes");
      expect(linkOf(view(lock, unknownRef, { bucket: [a, b] }), "bucket", a)).to.equal("undecided");
      expect(linkOf(view(lock, unknownRef), "bucket", a), "unknown and from no bucket").to.equal("undecided");
      expect(linkOf(view(lock, {}), "bucket", a)).to.equal("no");
    });
  });

  describe("fails closed where a preview cannot decide", () => {
    it("flags a protected bucket whose only lock configuration cannot be traced to one bucket", async () => {
      const bucket = evidenceBucket();
      const other = evidenceBucket("other", {});
      const ambiguous = from(
        res(LOCK, "ambiguous-lock", {
          bucket: bucket.id,
          rule: { defaultRetention: { mode: "COMPLIANCE", days: 365 } },
        }),
        { bucket: [bucket, other] },
      );
      const v = await verdict(forensicBucketObjectLock, [bucket, other, ambiguous]);
      expect(v.violations[0]?.message).to.match(/Bucket evidence .*cannot verify during preview: ambiguous-lock/);
      expect(
        (await verdict(forensicBucketObjectLock, [bucket, other, ambiguous], false)).status,
        "known at up",
      ).to.equal("pass");
    });

    it("flags a retention mode that is itself unknown (computed from a resource being created)", async () => {
      const bucket = evidenceBucket();
      const source = res("aws:ssm/parameter:Parameter", "mode", { value: "x" });
      const lock = from(
        res(LOCK, "evidence-lock", { bucket: bucket.id, rule: { defaultRetention: { mode: source.id, days: 365 } } }),
        { bucket: [bucket], rule: [source] },
      );
      const v = await verdict(forensicBucketObjectLock, [bucket, source, lock]);
      expect(v.violations[0]?.message).to.match(/cannot verify during preview: the retention mode of evidence-lock/);
    });

    it("guards every bucket a trail may target when the trail's bucket cannot be traced", async () => {
      const bucket = res(BUCKET, "plain", { bucket: "plain" });
      const namer = res("random:index/randomPet:RandomPet", "name", {});
      const trail = from(res(TRAIL, "trail", { s3BucketName: `${namer.id}-logs` }), { s3BucketName: [namer] });
      const v = await verdict(forensicBucketObjectLock, [bucket, namer, trail]);
      expect(v.violations[0]?.message).to.match(
        /Bucket plain \(may be the target of trail trail.*Object Lock is not enabled/,
      );
    });
  });

  describe("defers what no program can know before deployment", () => {
    it("reports an unknown bucket policy as can't-run, yet still reports a known missing TLS deny", async () => {
      const unknownDoc = evidenceBucket("new");
      const knownDoc = evidenceBucket("known");
      const built = from(res(POLICY, "new-policy", { bucket: unknownDoc.id, policy: doc({ Sid: unknownDoc.id }) }), {
        bucket: [unknownDoc],
        policy: [unknownDoc],
      });
      const literal = from(res(POLICY, "known-policy", { bucket: knownDoc.id, policy: doc({ Effect: "Allow" }) }), {
        bucket: [knownDoc],
      });
      const v = await verdict(forensicBucketTlsOnly, [unknownDoc, knownDoc, built, literal]);
      expect(v.violations.map((x) => x.message)).to.deep.equal([
        'Bucket known (tagged flz:purpose=evidence): the bucket policy does not deny requests without TLS: add Deny s3:* to "*" with Bool aws:SecureTransport "false".',
      ]);
      expect(v.previewUnknowns?.[0]?.message).to.match(/string value at \.policy can't be known during preview/);
    });

    it("checks SCPs joined through the attachment's dependency; an unknown SCP document is deferred", async () => {
      const orgTrail = res(TRAIL, "org", { isOrganizationTrail: true });
      const content = doc({
        Effect: "Deny",
        Action: [
          "cloudtrail:StopLogging",
          "cloudtrail:DeleteTrail",
          "cloudtrail:UpdateTrail",
          "cloudtrail:PutEventSelectors",
        ],
        Resource: "*",
      });
      const scp = res("aws:organizations/policy:Policy", "protect", { content, type: "SERVICE_CONTROL_POLICY" });
      const attach = from(
        res("aws:organizations/policyAttachment:PolicyAttachment", "attach", { policyId: scp.id, targetId: "r-1" }),
        {
          policyId: [scp],
        },
      );
      expect((await verdict(scpProtectsOrganizationTrail, [orgTrail, scp, attach])).status).to.equal("pass");
      const key = res(KEY, "k", {});
      const builtFromKey = from(
        { ...scp, inputs: { ...scp.inputs, content: `${content} ${key.id}` } },
        { content: [key] },
      );
      const v = await verdict(scpProtectsOrganizationTrail, [orgTrail, key, builtFromKey, attach]);
      expect(v.status).to.equal("cannot-run");
      const detached = await verdict(scpProtectsOrganizationTrail, [orgTrail, key, builtFromKey]);
      expect(detached.status, "no attached SCP at all is a violation even at preview").to.equal("fail");
    });
  });
});
