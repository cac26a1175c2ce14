import { expect } from "chai";
import { validateResourceControlPolicy, validateServiceControlPolicy } from "@cloud-copilot/iam-policy";
import {
  DocumentInputError,
  RCP_MAX_CHARACTERS,
  forensicResourceScpStatements,
  protectForensicResourcesRcp,
  protectedBucketStatements,
  protectedKeyStatements,
  type PolicyStatement,
} from "../../../components/documents";
import { DEPLOYMENT_ARN, EVIDENCE_BUCKET_ARN, FORENSIC_RESPONDER_ARN, PROTECTION, TRAIL_BUCKET_ARN } from "./simulate";

const bySid = (statements: PolicyStatement[], sid: string): PolicyStatement => {
  const found = statements.find((s) => s.Sid === sid);
  expect(found, sid).to.not.equal(undefined);
  return found as PolicyStatement;
};

describe("documents/rcp: the evidence-protection RCP", () => {
  const rcp = protectForensicResourcesRcp(PROTECTION);

  it("is a valid RCP (Deny only, Principal *, no Action *) within AWS's 5,120 characters", () => {
    expect(validateResourceControlPolicy(rcp)).to.deep.equal([]);
    expect(JSON.stringify(rcp).length).to.be.at.most(RCP_MAX_CHARACTERS);
    expect(rcp.Statement.every((s) => s.Effect === "Deny" && s.Principal === "*")).to.equal(true);
  });

  it("denies deletion and delete markers in every forensic bucket, to everyone", () => {
    const deletion = bySid(rcp.Statement, "FlzDenyEvidenceDeletion");
    expect(deletion.Action).to.include.members(["s3:DeleteObject", "s3:DeleteObjectVersion"]);
    expect(deletion.Resource).to.include.members([`${EVIDENCE_BUCKET_ARN}/*`, `${TRAIL_BUCKET_ARN}/*`]);
    expect(deletion.Condition).to.equal(undefined);
  });

  it("requires If-None-Match on custody keys but exempts multipart parts, and lets only the writers write cases/", () => {
    const once = bySid(rcp.Statement, "FlzCustodyWriteOnce");
    expect(once.Resource).to.deep.equal([
      `${EVIDENCE_BUCKET_ARN}/cases/*/custody/*`,
      `${EVIDENCE_BUCKET_ARN}/cases/*/custody-journal/*`,
    ]);
    expect(once.Condition).to.deep.equal({
      Null: { "s3:if-none-match": "true" },
      Bool: { "s3:ObjectCreationOperation": "true" },
    });
    const writers = bySid(rcp.Statement, "FlzCaseWritesByWritersOnly");
    expect(writers.Condition).to.deep.equal({ ArnNotLike: { "aws:PrincipalArn": FORENSIC_RESPONDER_ARN } });
  });

  it("freezes bucket settings and the forensic keys for all but the deployment principal", () => {
    expect(bySid(rcp.Statement, "FlzFreezeForensicBuckets").Condition).to.deep.equal({
      ArnNotLike: { "aws:PrincipalArn": DEPLOYMENT_ARN },
    });
    const keys = bySid(rcp.Statement, "FlzProtectForensicKeys");
    expect(keys.Resource).to.equal("arn:aws:kms:*:222222222222:key/*");
    expect(keys.Condition?.StringEquals).to.deep.equal({
      "aws:ResourceTag/flz:purpose": ["evidence-key", "trail-key", "custody-signing"],
    });
    expect(bySid(rcp.Statement, "FlzNoForensicKeyGrants").Condition?.BoolIfExists).to.deep.equal({
      "kms:GrantIsForAWSResource": "false",
    });
  });

  it("refuses one that would exceed the limit, naming the size", () => {
    const writers = Array.from({ length: 80 }, (_, i) => `arn:aws:iam::222222222222:role/automation-writer-${i}`);
    expect(() => protectForensicResourcesRcp({ ...PROTECTION, caseWriterArns: writers })).to.throw(
      DocumentInputError,
      /RCP flz-protect-evidence is \d+ characters: AWS Organizations accepts at most 5120/,
    );
  });

  it("refuses a deployment principal that is not a role, and an empty list of writers", () => {
    expect(() =>
      protectForensicResourcesRcp({ ...PROTECTION, deploymentPrincipalArn: "arn:aws:iam::222222222222:user/deployer" }),
    ).to.throw(DocumentInputError, /deploymentPrincipalArn: .* is not a role ARN/);
    expect(() => protectForensicResourcesRcp({ ...PROTECTION, caseWriterArns: [] })).to.throw(
      DocumentInputError,
      /caseWriterArns: the list is empty/,
    );
  });
});

describe("documents/rcp: the same statements in the SCP, bucket and key policies", () => {
  it("gives the SCP valid statements (no Principal) with their own IDs", () => {
    const statements = forensicResourceScpStatements(PROTECTION);
    expect(validateServiceControlPolicy({ Version: "2012-10-17", Statement: statements })).to.deep.equal([]);
    expect(statements.map((s) => s.Sid)).to.deep.equal([
      "FlzDenyEvidenceDeletionScp",
      "FlzFreezeForensicBucketsScp",
      "FlzProtectForensicKeysScp",
      "FlzNoForensicKeyGrantsScp",
    ]);
  });

  it("gives a trail or log bucket only the deletion and freeze statements, and the evidence bucket the write rules too", () => {
    expect(protectedBucketStatements(PROTECTION, "trail", TRAIL_BUCKET_ARN).map((s) => s.Sid)).to.deep.equal([
      "FlzDenyEvidenceDeletion",
      "FlzFreezeForensicBuckets",
    ]);
    const evidence = protectedBucketStatements(PROTECTION, "evidence", EVIDENCE_BUCKET_ARN);
    expect(evidence.map((s) => s.Sid)).to.deep.equal([
      "FlzDenyEvidenceDeletion",
      "FlzCustodyWriteOnce",
      "FlzCaseWritesByWritersOnly",
      "FlzFreezeForensicBuckets",
    ]);
    expect(bySid(evidence, "FlzDenyEvidenceDeletion").Resource).to.equal(`${EVIDENCE_BUCKET_ARN}/*`);
  });

  it("adds a signing deny to a key policy only when signers are named", () => {
    expect(protectedKeyStatements(DEPLOYMENT_ARN).map((s) => s.Sid)).to.deep.equal([
      "DenyKeyTamperingExceptDeployment",
      "DenyDirectGrantsExceptDeployment",
    ]);
    const signing = protectedKeyStatements(DEPLOYMENT_ARN, { signerArns: [FORENSIC_RESPONDER_ARN] });
    expect(bySid(signing, "DenySigningExceptSigners").Condition).to.deep.equal({
      ArnNotLike: { "aws:PrincipalArn": FORENSIC_RESPONDER_ARN },
    });
  });
});
