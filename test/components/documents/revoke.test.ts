import { expect } from "chai";
import {
  DocumentInputError,
  REVOKE_SESSIONS_POLICY_PREFIX,
  normalizeCutoff,
  revokeSessionsPolicy,
  revokeSessionsPolicyName,
} from "../../../components/documents";
import { ADMIN, MEMBER, ORG, decide, role, withContext, type Caller, type Target } from "./simulate";

const CUTOFF = "2024-05-01T10:00:00Z";
const bucket: Target = { resource: "arn:aws:s3:::payroll-exports/2024/05.csv", account: MEMBER };

/** The compromised application role: administrator, with the revocation policy attached inline. */
const sessionIssuedAt = (issued: string, cutoff = CUTOFF): Caller =>
  withContext(role(MEMBER, "WebAppRole", ORG, ADMIN, revokeSessionsPolicy(cutoff)), { "aws:TokenIssueTime": issued });

describe("documents/revoke: session revocation policy", () => {
  it("denies every action to a session issued before the cutoff, whatever else the role allows", async () => {
    expect(await decide(sessionIssuedAt("2024-05-01T09:59:59Z"), "s3:GetObject", bucket)).to.equal("ExplicitlyDenied");
    expect(
      await decide(sessionIssuedAt("2024-04-30T22:00:00Z"), "iam:CreateUser", {
        resource: `arn:aws:iam::${MEMBER}:user/backdoor`,
        account: MEMBER,
      }),
    ).to.equal("ExplicitlyDenied");
  });
  it("leaves a session issued after the cutoff working", async () => {
    expect(await decide(sessionIssuedAt("2024-05-01T10:00:01Z"), "s3:GetObject", bucket)).to.equal("Allowed");
  });
  it("leaves a session issued exactly at the cutoff working (DateLessThan is strict)", async () => {
    expect(await decide(sessionIssuedAt(CUTOFF), "s3:GetObject", bucket)).to.equal("Allowed");
  });
  it("compares instants, not strings: a cutoff given with an offset is normalised to UTC", async () => {
    expect(revokeSessionsPolicy("2024-05-01T12:00:00+02:00").Statement[0].Condition).to.deep.equal({
      DateLessThan: { "aws:TokenIssueTime": CUTOFF },
    });
    expect(
      await decide(sessionIssuedAt("2024-05-01T09:30:00Z", "2024-05-01T12:00:00+02:00"), "s3:GetObject", bucket),
    ).to.equal("ExplicitlyDenied");
  });
  it("refuses a cutoff without a zone or that is not a timestamp, naming it", () => {
    expect(() => revokeSessionsPolicy("2024-05-01T10:00:00")).to.throw(
      DocumentInputError,
      /cutoff: "2024-05-01T10:00:00" is not an ISO 8601 timestamp with a zone/,
    );
    expect(() => revokeSessionsPolicy("yesterday")).to.throw(DocumentInputError, /"yesterday"/);
    expect(() => normalizeCutoff("2024-02-30T10:00:00Z")).to.throw(DocumentInputError);
  });
});

describe("documents/revoke: policy name", () => {
  it("names the policy after the case", () => {
    expect(revokeSessionsPolicyName("IR-2024-001")).to.equal(`${REVOKE_SESSIONS_POLICY_PREFIX}-IR-2024-001`);
  });
  it("replaces characters IAM does not allow and stays within 128 characters", () => {
    const name = revokeSessionsPolicyName(`case #42/ünïcode ${"x".repeat(200)}`);
    expect(name).to.match(/^[\w+=,.@-]{1,128}$/);
    expect(name.startsWith(`${REVOKE_SESSIONS_POLICY_PREFIX}-case--42--n-code-`)).to.equal(true);
  });
  it("refuses an empty case ID", () => {
    expect(() => revokeSessionsPolicyName("  ")).to.throw(DocumentInputError, /caseId/);
  });
});
