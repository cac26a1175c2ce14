/**
 * The landing zone against the adversaries of docs/threat-model.md, decided by the IAM evaluator over the documents
 * the stack deploys, all layered together (identity policy, protection SCP, evidence RCP, bucket policy, key policy,
 * trust policy): a forensic-account administrator with `*:*` (and the account's root user), a member-account
 * administrator, a management-account principal (not bound by SCPs; shown to get through, which is why the alarms
 * exist), and the deployment principal (allowed, or the landing zone could never be updated).
 */
import { expect } from "chai";
import type { PolicyDocument } from "../../components/documents";
import {
  ADMIN,
  DEPLOYMENT,
  EVIDENCE,
  FORENSIC,
  KEYS,
  KEY_TAGS,
  MANAGEMENT,
  MEMBER,
  RESPONDER,
  TRAIL,
  administrator,
  decide,
  deployedDocuments,
  rootUser,
  type Attempt,
  type DeployedDocuments,
  type Principal,
} from "./landing-zone-documents";

const RECORD = `${EVIDENCE}/cases/IR-2026-001/custody/000000000003.json`;
const JOURNAL = `${EVIDENCE}/cases/IR-2026-001/custody-journal/000000000004.json`;
const EVIDENCE_OBJECT = `${EVIDENCE}/cases/IR-2026-001/evidence/memory/20261127T010203Z-host.lime`;
const TRAIL_LOG = `${TRAIL}/AWSLogs/o-exampleorg1/${MEMBER}/CloudTrail/us-east-1/2026/11/27/log.json.gz`;

const forensicAdmin = administrator(FORENSIC);
const memberAdmin = administrator(MEMBER);
const managementAdmin = administrator(MANAGEMENT, "OrganizationAdmin");
/** The deployment principal with the AdministratorAccess that Organizations gives OrganizationAccountAccessRole. */
const deployment: Principal = { arn: DEPLOYMENT, account: FORENSIC, policies: [ADMIN] };

let docs: DeployedDocuments;
let responder: Principal;
before(async function () {
  this.timeout(120_000);
  docs = await deployedDocuments();
  responder = { arn: RESPONDER, account: FORENSIC, policies: [docs.responderPolicy] };
});

/** An S3 object request against the evidence or trail bucket with its deployed policy. */
function object(principal: Principal, action: string, resource: string, context: Attempt["context"] = {}): Attempt {
  return {
    principal,
    action,
    resource,
    resourceAccount: FORENSIC,
    resourcePolicy: resource.startsWith(TRAIL) ? docs.trailBucketPolicy : docs.evidenceBucketPolicy,
    context,
  };
}
/** A bucket-level request. */
function bucket(principal: Principal, action: string, arn: string, withPolicy = true): Attempt {
  return {
    principal,
    action,
    resource: arn,
    resourceAccount: FORENSIC,
    ...(withPolicy ? { resourcePolicy: arn === TRAIL ? docs.trailBucketPolicy : docs.evidenceBucketPolicy } : {}),
  };
}
/** A request on a forensic key, carrying the key's purpose tag as KMS evaluates it. */
function key(
  principal: Principal,
  action: string,
  which: keyof typeof KEYS,
  context: Attempt["context"] = {},
): Attempt {
  return {
    principal,
    action,
    resource: KEYS[which],
    resourceAccount: FORENSIC,
    resourcePolicy: docs.keyPolicies[which],
    context: { "aws:ResourceTag/flz:purpose": KEY_TAGS[which], ...context },
  };
}
const conditional = { "s3:if-none-match": "*", "s3:ObjectCreationOperation": "true" };
const unconditional = { "s3:ObjectCreationOperation": "true" };
const none = { scps: [] as PolicyDocument[], rcps: [] as PolicyDocument[] };

const BUCKET_FREEZE = [
  "s3:PutBucketObjectLockConfiguration",
  "s3:PutBucketPolicy",
  "s3:DeleteBucketPolicy",
  "s3:PutLifecycleConfiguration",
  "s3:PutEncryptionConfiguration",
  "s3:PutBucketVersioning",
  "s3:PutBucketOwnershipControls",
  "s3:PutBucketPublicAccessBlock",
];
const KEY_TAMPERING = ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey"];

describe("adversary: forensic-account administrator (*:*)", () => {
  describe("erase, hide or roll back evidence and custody records", () => {
    for (const [what, resource] of [
      ["a custody record", RECORD],
      ["a journal", JOURNAL],
      ["an evidence object", EVIDENCE_OBJECT],
      ["a trail log", TRAIL_LOG],
    ]) {
      it(`cannot put a delete marker over ${what} (DeleteObject without a version ID)`, async () => {
        const decision = await decide(object(forensicAdmin, "s3:DeleteObject", resource));
        expect(decision.result).to.equal("ExplicitlyDenied");
        // Three layers refuse it: the bucket policy, the SCP and the RCP.
        expect(decision.deniedBy).to.include.members(["resource", "scp", "rcp"]);
      });
      it(`cannot delete a version of ${what}`, async () => {
        expect((await decide(object(forensicAdmin, "s3:DeleteObjectVersion", resource))).result).to.equal(
          "ExplicitlyDenied",
        );
      });
    }
    it("was able to before: the same admin without the landing zone's policies deletes freely (control)", async () => {
      const attempt = { ...object(forensicAdmin, "s3:DeleteObject", RECORD), organizationPolicies: none };
      expect((await decide({ ...attempt, resourcePolicy: undefined })).result).to.equal("Allowed");
    });
  });

  describe("overwrite or forge custody records", () => {
    it("cannot overwrite a record with a plain PutObject", async () => {
      expect((await decide(object(forensicAdmin, "s3:PutObject", RECORD, unconditional))).result).to.equal(
        "ExplicitlyDenied",
      );
    });
    it("cannot plant a journal or a record, even with If-None-Match (only the responder writes under cases/)", async () => {
      for (const resource of [JOURNAL, RECORD, EVIDENCE_OBJECT]) {
        const decision = await decide(object(forensicAdmin, "s3:PutObject", resource, conditional));
        expect(decision.result, resource).to.equal("ExplicitlyDenied");
        expect(decision.deniedBy, resource).to.include.members(["resource", "rcp"]);
      }
    });
    it("cannot get anything signed by the custody key, even with kms:* in its own policy", async () => {
      const decision = await decide(key(forensicAdmin, "kms:Sign", "signing"));
      expect(decision.result).to.equal("ExplicitlyDenied");
    });
    it("cannot hand itself signing through a grant", async () => {
      expect(
        (await decide(key(forensicAdmin, "kms:CreateGrant", "signing", { "kms:GrantIsForAWSResource": "false" })))
          .result,
      ).to.equal("ExplicitlyDenied");
    });
    it("cannot become the responder: the trust names only the configured principals", async () => {
      const decision = await decide({
        principal: forensicAdmin,
        action: "sts:AssumeRole",
        resource: RESPONDER,
        resourceAccount: FORENSIC,
        resourcePolicy: docs.responderTrust,
      });
      expect(decision.result).to.not.equal("Allowed");
    });
    for (const action of [
      "iam:UpdateAssumeRolePolicy",
      "iam:PutRolePolicy",
      "iam:AttachRolePolicy",
      "iam:DeleteRole",
    ]) {
      for (const role of ["FlzForensicResponder", "FlzForensicInvestigator", "FlzBreakGlass"]) {
        it(`cannot ${action} on ${role}`, async () => {
          const decision = await decide({
            principal: forensicAdmin,
            action,
            resource: `arn:aws:iam::${FORENSIC}:role/${role}`,
            resourceAccount: FORENSIC,
          });
          expect(decision.result).to.equal("ExplicitlyDenied");
          expect(decision.deniedBy).to.deep.equal(["scp"]);
        });
      }
    }
    it("cannot change the trust of the role the responder trusts in the forensic account (the way around)", async () => {
      const trusted = (docs.responderTrust.Statement[0].Principal as { AWS: string[] }).AWS[0];
      expect(trusted).to.match(/^arn:aws:iam::222222222222:role\//);
      const decision = await decide({
        principal: forensicAdmin,
        action: "iam:UpdateAssumeRolePolicy",
        resource: trusted,
        resourceAccount: FORENSIC,
      });
      // The SCP names the role by its exact ARN (path included). The evaluator reports the SCP as the blocker but an
      // implicit rather than explicit deny for this reserved path (iam-simulate 0.1.173); either way it is refused,
      // and an Identity Center role cannot be changed by the account's administrators at all.
      expect(decision.result).to.not.equal("Allowed");
      expect(decision.deniedBy).to.include("scp");
    });
  });

  describe("weaken retention, encryption, policies or keys", () => {
    for (const arn of [EVIDENCE, TRAIL]) {
      for (const action of BUCKET_FREEZE) {
        it(`cannot ${action} on ${arn.split(":::")[1]}`, async () => {
          const decision = await decide(bucket(forensicAdmin, action, arn));
          expect(decision.result).to.equal("ExplicitlyDenied");
          expect(decision.deniedBy).to.include.members(["scp", "rcp"]);
        });
      }
    }
    it("the account's root user, whom no bucket policy stops from replacing it, is stopped by the SCP and the RCP", async () => {
      // S3 lets the bucket owner's root user call PutBucketPolicy whatever the bucket policy says (S3 API reference,
      // PutBucketPolicy): evaluate without it, as AWS does.
      const attempt = bucket(rootUser(FORENSIC), "s3:PutBucketPolicy", EVIDENCE, false);
      const decision = await decide(attempt);
      expect(decision.result).to.equal("ExplicitlyDenied");
      expect(decision.deniedBy).to.include.members(["scp", "rcp"]);
      // Either organisation policy alone holds (defence in depth).
      const deployed = await deployedDocuments();
      expect((await decide({ ...attempt, organizationPolicies: { scps: [], rcps: [deployed.rcp] } })).result).to.equal(
        "ExplicitlyDenied",
      );
      expect(
        (await decide({ ...attempt, organizationPolicies: { scps: [deployed.protectionScp], rcps: [] } })).result,
      ).to.equal("ExplicitlyDenied");
      // And without both, the root user would replace the policy (control).
      expect((await decide({ ...attempt, organizationPolicies: none })).result).to.equal("Allowed");
    });
    for (const which of ["evidence", "trail", "signing"] as const) {
      for (const action of KEY_TAMPERING) {
        it(`cannot ${action} on the ${which} key`, async () => {
          const decision = await decide(key(forensicAdmin, action, which));
          expect(decision.result).to.equal("ExplicitlyDenied");
          expect(decision.deniedBy).to.include.members(["resource", "scp", "rcp"]);
        });
      }
      it(`cannot create a direct grant on the ${which} key`, async () => {
        expect(
          (await decide(key(forensicAdmin, "kms:CreateGrant", which, { "kms:GrantIsForAWSResource": "false" }))).result,
        ).to.equal("ExplicitlyDenied");
      });
    }
    it("cannot strip the purpose tag off the evidence key (which would take it out of the tag-scoped statements)", async () => {
      const decision = await decide(
        key(forensicAdmin, "kms:UntagResource", "evidence", { "aws:TagKeys": ["flz:purpose"] }),
      );
      expect(decision.result).to.equal("ExplicitlyDenied");
    });
  });

  it("keeps ordinary work possible: objects and keys of other buckets and keys are untouched (control)", async () => {
    const other = await decide({
      principal: forensicAdmin,
      action: "s3:DeleteObject",
      resource: "arn:aws:s3:::scratch-222222222222/tmp/file",
      resourceAccount: FORENSIC,
    });
    expect(other.result).to.equal("Allowed");
    const untaggedKey = await decide({
      principal: forensicAdmin,
      action: "kms:ScheduleKeyDeletion",
      resource: `arn:aws:kms:us-east-1:${FORENSIC}:key/00000000-1111-2222-3333-444444444444`,
      resourceAccount: FORENSIC,
      // The default key policy: the account's IAM policies decide.
      resourcePolicy: {
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${FORENSIC}:root` }, Action: "kms:*", Resource: "*" },
        ],
      },
    });
    expect(untaggedKey.result).to.equal("Allowed");
  });
});

describe("adversary: member-account administrator (*:*)", () => {
  it("cannot delete, overwrite or plant anything in the evidence bucket", async () => {
    for (const [action, resource, context] of [
      ["s3:DeleteObject", RECORD, {}],
      ["s3:DeleteObjectVersion", TRAIL_LOG, {}],
      ["s3:PutObject", RECORD, unconditional],
      ["s3:PutObject", JOURNAL, conditional],
    ] as const) {
      expect((await decide(object(memberAdmin, action, resource, context))).result, `${action} ${resource}`).to.equal(
        "ExplicitlyDenied",
      );
    }
  });
  it("cannot change the buckets' configuration or the forensic keys", async () => {
    expect((await decide(bucket(memberAdmin, "s3:PutBucketPolicy", EVIDENCE))).result).to.equal("ExplicitlyDenied");
    expect((await decide(key(memberAdmin, "kms:ScheduleKeyDeletion", "evidence"))).result).to.equal("ExplicitlyDenied");
  });
});

describe("adversary: management-account principal (no SCP binds it)", () => {
  it("is still refused a direct deletion: the RCP and the bucket policy bind every principal on a member account's bucket", async () => {
    const attempt = object(managementAdmin, "s3:DeleteObject", RECORD);
    expect((await decide(attempt)).result).to.equal("ExplicitlyDenied");
    // Each of the two refuses it alone; the SCP plays no part (it never binds the management account).
    expect((await decide({ ...attempt, resourcePolicy: undefined })).result).to.equal("ExplicitlyDenied");
    expect(
      (await decide({ ...attempt, organizationPolicies: { scps: [docs.protectionScp], rcps: [] } })).result,
    ).to.equal("ExplicitlyDenied");
    expect(
      (
        await decide({
          ...attempt,
          resourcePolicy: undefined,
          organizationPolicies: { scps: [docs.protectionScp], rcps: [] },
        })
      ).result,
    ).to.not.equal("ExplicitlyDenied");
  });
  it("but can detach the RCP and the SCP: nothing in AWS prevents it (detected by the guardrail-change alarm)", async () => {
    // A real policy ID (the mock engine's placeholder is not one the evaluator can type).
    const rcpId = "p-95ouxf2n8k";
    const decision = await decide({
      principal: managementAdmin,
      action: "organizations:DetachPolicy",
      resource: `arn:aws:organizations::${MANAGEMENT}:policy/o-exampleorg1/resource_control_policy/${rcpId}`,
      resourceAccount: MANAGEMENT,
    });
    expect(decision.result).to.equal("Allowed");
  });
  it("and can become the deployment principal, which the freezes exempt (detected by the deployment-role alarm)", async () => {
    // The trust policy Organizations gives OrganizationAccountAccessRole in the accounts it creates.
    const trust: PolicyDocument = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${MANAGEMENT}:root` }, Action: "sts:AssumeRole" }],
    };
    const assume = await decide({
      principal: managementAdmin,
      action: "sts:AssumeRole",
      resource: DEPLOYMENT,
      resourceAccount: FORENSIC,
      resourcePolicy: trust,
    });
    expect(assume.result).to.equal("Allowed");
    expect((await decide(bucket(deployment, "s3:PutBucketPolicy", EVIDENCE))).result).to.equal("Allowed");
  });
});

describe("the deployment principal", () => {
  it("may still update every bucket setting and key policy (or the next pulumi up would fail)", async () => {
    for (const arn of [EVIDENCE, TRAIL])
      for (const action of BUCKET_FREEZE)
        expect((await decide(bucket(deployment, action, arn))).result, `${action} ${arn}`).to.equal("Allowed");
    for (const which of ["evidence", "trail", "signing"] as const)
      expect((await decide(key(deployment, "kms:PutKeyPolicy", which))).result, which).to.equal("Allowed");
  });
  it("still cannot delete evidence or sign: nobody needs to", async () => {
    expect((await decide(object(deployment, "s3:DeleteObject", RECORD))).result).to.equal("ExplicitlyDenied");
    expect((await decide(key(deployment, "kms:Sign", "signing"))).result).to.equal("ExplicitlyDenied");
  });
});

describe("the forensic responder (the writer the controls are built around)", () => {
  it("writes a custody record with If-None-Match, and a multipart part without it", async () => {
    expect((await decide(object(responder, "s3:PutObject", RECORD, conditional))).result).to.equal("Allowed");
    // UploadPart carries no conditional header: exempted through s3:ObjectCreationOperation = false.
    expect(
      (await decide(object(responder, "s3:PutObject", EVIDENCE_OBJECT, { "s3:ObjectCreationOperation": "false" })))
        .result,
    ).to.equal("Allowed");
  });
  it("cannot overwrite a record without If-None-Match, nor delete one", async () => {
    expect((await decide(object(responder, "s3:PutObject", RECORD, unconditional))).result).to.equal(
      "ExplicitlyDenied",
    );
    expect((await decide(object(responder, "s3:DeleteObject", RECORD))).result).to.equal("ExplicitlyDenied");
  });
  it("signs with the custody key and creates grants for EBS on the evidence key", async () => {
    expect((await decide(key(responder, "kms:Sign", "signing"))).result).to.equal("Allowed");
    expect(
      (await decide(key(responder, "kms:CreateGrant", "evidence", { "kms:GrantIsForAWSResource": "true" }))).result,
    ).to.equal("Allowed");
  });
});
