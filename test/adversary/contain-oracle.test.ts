/**
 * The quarantine's delegation as the authorization oracle sees it: the forensic responder's Organizations calls are
 * evaluated against its own permissions, the guardrail SCP of its account AND the organisation's resource policy
 * (`quarantineDelegationPolicy`, deployed by `QuarantineDelegation`), so a test fails on a quarantine call AWS would
 * refuse; and what a stolen responder session tries beyond quarantine is refused, naming the deciding statement.
 */
import { expect } from "chai";
import type { CallIdentity, ObservedCall } from "../../scripts/aws/observer";
import { SEED_ACCOUNTS, SEED_ORGANIZATION } from "../../scripts/emulator/seed";
import { emulatorWorld, loadOracle, problemsOf, type CallRecord } from "../../scripts/oracle";
import { PURPOSE_TAG_KEY, QUARANTINE_CASE_TAG_KEY, QUARANTINE_PURPOSE } from "../../components/documents";

const FORENSIC = SEED_ACCOUNTS.forensic;
const MEMBER = SEED_ACCOUNTS.members[0];
const base: CallIdentity = { kind: "base" };
const role = (account: string, name: string, assumedBy: CallIdentity = base): CallIdentity => ({
  kind: "role",
  roleArn: `arn:aws:iam::${account}:role/${name}`,
  sessionName: "flz-IR-1",
  sessionTags: account === FORENSIC ? {} : { "flz-case": "IR-1" },
  assumedBy,
});
const responder = role(FORENSIC, "FlzForensicResponder");
const investigator = role(FORENSIC, "FlzForensicInvestigator");
const memberResponder = role(MEMBER, "FlzMemberResponder", responder);

const QUARANTINE = "p-quarantine1";
const GUARDRAIL = "p-guardrail01";
const quarantineTags = [
  { Key: PURPOSE_TAG_KEY, Value: QUARANTINE_PURPOSE },
  { Key: QUARANTINE_CASE_TAG_KEY, Value: "IR-1" },
];

function call(
  signingName: string,
  operation: string,
  input: Record<string, unknown>,
  identity: CallIdentity,
  output: Record<string, unknown> = {},
): ObservedCall {
  return {
    signingName,
    serviceId: signingName,
    operation,
    input,
    identity,
    region: "us-east-1",
    startedAt: new Date(),
    output,
  };
}

/** What the quarantine engine reads first (readQuarantine): the SCPs with their types, and their tags. */
function reads(identity: CallIdentity): ObservedCall[] {
  const summary = (id: string, name: string) => ({ Id: id, Name: name, Type: "SERVICE_CONTROL_POLICY" });
  return [
    call("organizations", "DescribeOrganization", {}, identity, { Organization: { Id: SEED_ORGANIZATION.id } }),
    call("organizations", "ListPolicies", { Filter: "SERVICE_CONTROL_POLICY" }, identity, {
      Policies: [summary(QUARANTINE, `flz-quarantine-IR-1-${MEMBER}-1`), summary(GUARDRAIL, "flz-protect-forensics")],
    }),
    call("organizations", "ListTagsForResource", { ResourceId: QUARANTINE }, identity, { Tags: quarantineTags }),
    call("organizations", "ListTagsForResource", { ResourceId: GUARDRAIL }, identity, {
      Tags: [{ Key: PURPOSE_TAG_KEY, Value: "guardrail" }],
    }),
  ];
}

async function evaluate(...calls: ObservedCall[]): Promise<CallRecord[]> {
  const loaded = loadOracle(emulatorWorld());
  if ("unavailable" in loaded) throw new Error(loaded.unavailable);
  for (const c of calls) loaded.oracle.observer(c);
  return loaded.oracle.evaluatePending();
}

const decisionsOf = (records: CallRecord[], operation: string) =>
  records.filter((r) => r.call.operation === operation).flatMap((r) => r.decisions);

describe("adversary: the quarantine delegation under the authorization oracle", () => {
  it("the oracle's world holds the delegation the stack deploys, naming the forensic responder only", () => {
    const policy = emulatorWorld().organizationsResourcePolicy;
    expect(policy?.builder).to.equal("quarantineDelegationPolicy");
    const principals = new Set(policy?.document.Statement.map((s) => JSON.stringify(s.Principal)));
    expect([...principals]).to.deep.equal([
      JSON.stringify({ AWS: `arn:aws:iam::${FORENSIC}:role/FlzForensicResponder` }),
    ]);
  });

  it("authorizes the responder's quarantine through its permissions and the organisation's resource policy", async () => {
    const records = await evaluate(
      ...reads(responder),
      call(
        "organizations",
        "CreatePolicy",
        {
          Name: `flz-quarantine-IR-1-${MEMBER}-2`,
          Type: "SERVICE_CONTROL_POLICY",
          Content: "{}",
          Tags: quarantineTags,
        },
        responder,
        { Policy: { PolicySummary: { Id: "p-quarantine2", Type: "SERVICE_CONTROL_POLICY" } } },
      ),
      call("organizations", "AttachPolicy", { PolicyId: "p-quarantine2", TargetId: MEMBER }, responder),
      call("organizations", "UpdatePolicy", { PolicyId: QUARANTINE, Content: "{}" }, responder),
      call("organizations", "DetachPolicy", { PolicyId: QUARANTINE, TargetId: MEMBER }, responder),
      call("organizations", "DeletePolicy", { PolicyId: QUARANTINE }, responder),
    );
    expect(problemsOf(records)).to.deep.equal([]);
    // Evaluated, not waved through: the resource policy granted the writes, on the organisation's policy ARNs.
    const update = decisionsOf(records, "UpdatePolicy");
    expect(update.map((d) => d.request.resource)).to.deep.equal([
      `arn:aws:organizations::${SEED_ACCOUNTS.management}:policy/${SEED_ORGANIZATION.id}/service_control_policy/${QUARANTINE}`,
    ]);
    expect(update[0].grants.map((g) => `${g.kind} ${g.sid}`)).to.include("resource FlzQuarantineManage");
    // CreatePolicy with tags is also TagResource on the new policy, which only the quarantine tags satisfy.
    expect(decisionsOf(records, "CreatePolicy").map((d) => d.request.action)).to.deep.equal([
      "organizations:CreatePolicy",
      "organizations:TagResource",
    ]);
  });

  it("refuses a stolen responder session that rewrites, detaches or untags the guardrail SCP", async () => {
    const records = await evaluate(
      ...reads(responder),
      call("organizations", "UpdatePolicy", { PolicyId: GUARDRAIL, Content: "{}" }, responder),
      call("organizations", "DetachPolicy", { PolicyId: GUARDRAIL, TargetId: MEMBER }, responder),
      call("organizations", "UntagResource", { ResourceId: GUARDRAIL, TagKeys: [PURPOSE_TAG_KEY] }, responder),
    );
    const problems = problemsOf(records);
    expect(problems.filter((p) => p.includes("UpdatePolicy"))).to.have.length(1);
    expect(problems.filter((p) => p.includes("DetachPolicy"))).to.have.length.greaterThan(0);
    expect(problems.filter((p) => p.includes("UntagResource"))).to.have.length(1);
    expect(problems.join("\n"))
      .to.include("FlzQuarantineOnlyQuarantinePolicies")
      .and.include("FlzQuarantineNeverUntag");
  });

  it("refuses an SCP created without the quarantine tags, and a quarantine on the forensic account itself", async () => {
    const records = await evaluate(
      ...reads(responder),
      call(
        "organizations",
        "CreatePolicy",
        { Name: "allow-all", Type: "SERVICE_CONTROL_POLICY", Content: "{}" },
        responder,
        { Policy: { PolicySummary: { Id: "p-untagged01", Type: "SERVICE_CONTROL_POLICY" } } },
      ),
      call("organizations", "AttachPolicy", { PolicyId: QUARANTINE, TargetId: FORENSIC }, responder),
    );
    const problems = problemsOf(records);
    expect(problems.filter((p) => p.includes("CreatePolicy"))).to.have.length(1);
    expect(problems.filter((p) => p.includes("AttachPolicy")).join("\n")).to.include("FlzQuarantineNeverOwnAccount");
  });

  it("refuses quarantine calls by any other forensic principal: the delegation names the responder role alone", async () => {
    const records = await evaluate(
      ...reads(investigator),
      call("organizations", "UpdatePolicy", { PolicyId: QUARANTINE, Content: "{}" }, investigator),
    );
    expect(problemsOf(records).filter((p) => p.includes("UpdatePolicy"))).to.have.length(1);
  });

  it("refuses the member responder any IAM policy write (no iam:PutRolePolicy / DeleteRolePolicy at all)", async () => {
    const records = await evaluate(
      call("iam", "PutRolePolicy", { RoleName: "WebAppRole", PolicyName: "x", PolicyDocument: "{}" }, memberResponder),
      call("iam", "DeleteRolePolicy", { RoleName: "WebAppRole", PolicyName: "x" }, memberResponder),
    );
    const problems = problemsOf(records);
    expect(problems).to.have.length(2);
    for (const p of problems) expect(p).to.include("NeverWriteIamPolicies");
  });
});
