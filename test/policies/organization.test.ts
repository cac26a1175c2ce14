import type { RecordedResource } from "../../scripts/plan/mock-engine";
import {
  landingZoneComplete,
  scpProtectsForensicRoles,
  scpProtectsOrganizationTrail,
} from "../../policies/organization";
import { doc, expectNotApplicable, expectPass, expectViolation, provider, res } from "./helpers";

const management = provider("us-east-1", "111111111111");
const forensic = provider("us-east-1", "222222222222");

const TRAIL_GUARD = {
  Sid: "ProtectTrail",
  Effect: "Deny",
  Action: [
    "cloudtrail:StopLogging",
    "cloudtrail:DeleteTrail",
    "cloudtrail:UpdateTrail",
    "cloudtrail:PutEventSelectors",
  ],
  Resource: "*",
};
const ROLE_GUARD = {
  Sid: "ProtectRoles",
  Effect: "Deny",
  Action: [
    "iam:DeleteRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRolePolicy",
  ],
  Resource: "arn:aws:iam::*:role/flz-*",
};

interface OrgChanges {
  scp?: Record<string, unknown>;
  attach?: boolean;
  drop?: string[];
}

/** A complete, landing-zone-shaped program: org trail into a locked bucket, evidence bucket, signing key, StackSet, SCP. */
function landingZone(changes: OrgChanges = {}): RecordedResource[] {
  const zone = res("flz:landingzone:ForensicLandingZone", "flz", {});
  const lockedBucket = (name: string, purpose: string): RecordedResource[] => {
    const bucket = res(
      "aws:s3/bucket:Bucket",
      name,
      { bucket: name, objectLockEnabled: true, tags: { "flz:purpose": purpose } },
      { provider: forensic, parent: zone },
    );
    return [
      bucket,
      res(
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        `${name}-lock`,
        { bucket: name, rule: { defaultRetention: { mode: "COMPLIANCE", days: 365 } } },
        { provider: forensic },
      ),
    ];
  };
  const scp = res(
    "aws:organizations/policy:Policy",
    "guardrails",
    { content: doc(TRAIL_GUARD, ROLE_GUARD), type: "SERVICE_CONTROL_POLICY", ...changes.scp },
    { provider: management },
  );
  const all: RecordedResource[] = [
    management,
    forensic,
    zone,
    res(
      "aws:cloudtrail/trail:Trail",
      "org-trail",
      { isOrganizationTrail: true, isMultiRegionTrail: true, s3BucketName: "trail-logs" },
      { provider: management },
    ),
    ...lockedBucket("trail-logs", "trail-logs"),
    ...lockedBucket("evidence", "evidence"),
    res(
      "aws:kms/key:Key",
      "signing",
      { customerMasterKeySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY" },
      { provider: forensic },
    ),
    res(
      "aws:cloudformation/stackSet:StackSet",
      "member-roles",
      { name: "flz-member-roles", permissionModel: "SERVICE_MANAGED", autoDeployment: { enabled: true } },
      { provider: management },
    ),
    res(
      "aws:cloudformation/stackSetInstance:StackSetInstance",
      "member-roles-ous",
      { stackSetName: "flz-member-roles", deploymentTargets: { organizationalUnitIds: ["ou-1"] } },
      { provider: management },
    ),
    scp,
  ];
  if (changes.attach !== false)
    all.push(
      res(
        "aws:organizations/policyAttachment:PolicyAttachment",
        "guardrails-root",
        { policyId: scp.id, targetId: "r-exam" },
        { provider: management },
      ),
    );
  return all.filter((r) => !(changes.drop ?? []).includes(r.name));
}

describe("policies/organization", () => {
  describe("scp-protects-organization-trail", () => {
    it("passes an attached SCP denying trail tampering", () => expectPass(scpProtectsOrganizationTrail, landingZone()));
    it("fails when the SCP is not attached", () =>
      expectViolation(scpProtectsOrganizationTrail, landingZone({ attach: false }), /StopLogging/));
    it("fails when the SCP misses an action", () =>
      expectViolation(
        scpProtectsOrganizationTrail,
        landingZone({ scp: { content: doc({ ...TRAIL_GUARD, Action: ["cloudtrail:DeleteTrail"] }, ROLE_GUARD) } }),
        /StopLogging/,
      ));
    it("does not count a tag policy as an SCP", () =>
      expectViolation(scpProtectsOrganizationTrail, landingZone({ scp: { type: "TAG_POLICY" } }), /No attached SCP/));
    it("does not apply without an organisation trail", () =>
      expectNotApplicable(scpProtectsOrganizationTrail, landingZone({ drop: ["org-trail"] })));
  });

  describe("SCP denies that exempt too much", () => {
    const exempting = (condition: Record<string, unknown>) =>
      landingZone({ scp: { content: doc({ ...TRAIL_GUARD, Condition: condition }, ROLE_GUARD) } });
    it("passes a deny that exempts only the deployment role by name", () =>
      expectPass(
        scpProtectsOrganizationTrail,
        exempting({
          ArnNotLike: {
            "aws:PrincipalArn": ["arn:aws:iam::*:role/FlzDeployment", "arn:aws:iam::*:role/stacksets-exec-*"],
          },
        }),
      ));
    it("fails a deny that exempts every role (ArnNotLike aws:PrincipalArn arn:aws:iam::*:role/*)", () =>
      expectViolation(
        scpProtectsOrganizationTrail,
        exempting({ ArnNotLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/*" } }),
        /exempt too much: ProtectTrail: it exempts every principal matching arn:aws:iam::\*:role\/\*/,
      ));
    it("fails a deny whose condition limits when it applies (a region, a principal tag)", async () => {
      await expectViolation(
        scpProtectsOrganizationTrail,
        exempting({ StringEquals: { "aws:RequestedRegion": "us-east-1" } }),
        /limits when it applies/,
      );
      await expectViolation(
        scpProtectsForensicRoles,
        landingZone({
          scp: {
            content: doc(TRAIL_GUARD, {
              ...ROLE_GUARD,
              Condition: { StringNotEquals: { "aws:PrincipalTag/team": "platform" } },
            }),
          },
        }),
        /limits when it applies/,
      );
    });
  });

  describe("scp-protects-forensic-roles", () => {
    it("passes an attached SCP denying changes to roles", () => expectPass(scpProtectsForensicRoles, landingZone()));
    it("fails when role changes are not denied", () =>
      expectViolation(scpProtectsForensicRoles, landingZone({ scp: { content: doc(TRAIL_GUARD) } }), /iam:DeleteRole/));
    it("fails when the deny targets something other than roles", () =>
      expectViolation(
        scpProtectsForensicRoles,
        landingZone({ scp: { content: doc(TRAIL_GUARD, { ...ROLE_GUARD, Resource: "arn:aws:iam::*:user/*" }) } }),
        /iam:DeleteRole/,
      ));
  });

  describe("landing-zone-complete", () => {
    it("passes a program with every part", () => expectPass(landingZoneComplete, landingZone()));
    it("fails without the StackSet", () =>
      expectViolation(landingZoneComplete, landingZone({ drop: ["member-roles"] }), /member-roles StackSet/));
    it("fails without the signing key", () =>
      expectViolation(landingZoneComplete, landingZone({ drop: ["signing"] }), /custody signing key/));
    it("fails without the evidence bucket's lock", () =>
      expectViolation(landingZoneComplete, landingZone({ drop: ["evidence-lock"] }), /evidence bucket/));
    it("fails without the organisation trail", () =>
      expectViolation(landingZoneComplete, landingZone({ drop: ["org-trail"] }), /organisation trail/));
    it("does not apply to an application that opts one bucket into evidence handling (a purpose tag is no landing zone)", () =>
      expectNotApplicable(landingZoneComplete, [
        forensic,
        res(
          "aws:s3/bucket:Bucket",
          "exports",
          { bucket: "exports", objectLockEnabled: true, tags: { "flz:purpose": "evidence" } },
          { provider: forensic },
        ),
      ]));
    it("applies to a stack that declares itself a landing zone by its stack tag", () =>
      expectViolation(
        landingZoneComplete,
        [forensic, res("aws:s3/bucket:Bucket", "site", { bucket: "site" }, { provider: forensic })],
        /organisation trail/,
        undefined,
        { "flz:stack-kind": "landing-zone" },
      ));
    it("does not apply to a program that is not a landing zone", () =>
      expectNotApplicable(landingZoneComplete, [
        forensic,
        res("aws:s3/bucket:Bucket", "site", { bucket: "site" }, { provider: forensic }),
      ]));
  });
});
