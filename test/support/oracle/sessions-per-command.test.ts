/**
 * The permission reference lists, under each command, the role assumptions it needs when run on its own, although a
 * client factory shared by several commands (the drill, the tour) assumes each role once, under the first command.
 */
import { expect } from "chai";
import type { CallRecord, Principal } from "../../../scripts/oracle/decisions";
import { withSessionsPerCommand } from "../../../scripts/oracle/permissions-doc";

const OPERATOR: Principal = {
  arn: "arn:aws:iam::111111111111:user/op",
  account: "111111111111",
  name: "op",
  sessionTags: {},
  operator: true,
};
const FORENSIC: Principal = {
  arn: "arn:aws:iam::222222222222:role/FlzForensicResponder",
  account: "222222222222",
  name: "FlzForensicResponder",
  sessionTags: {},
  operator: false,
};
const MEMBER: Principal = {
  arn: "arn:aws:iam::333333333333:role/FlzMemberResponder",
  account: "333333333333",
  name: "FlzMemberResponder",
  sessionTags: {},
  operator: false,
};

let sequence = 0;
function record(label: string, principal: Principal, action: string, resource: string): CallRecord {
  sequence += 1;
  return {
    sequence,
    principal,
    gaps: [],
    call: {
      signingName: action.split(":")[0],
      serviceId: action.split(":")[0],
      operation: action.split(":")[1],
      input: {},
      identity: { kind: "base" },
      startedAt: new Date(0),
      label,
    },
    decisions: [
      {
        request: { action, resource, resourceAccount: resource.split(":")[4] ?? "", context: {} },
        verdict: "Allowed",
        deciding: [],
        grants: [],
      },
    ],
  } as CallRecord;
}

describe("permission reference: role sessions per command", () => {
  const first = [
    record("flz contain instance", OPERATOR, "sts:AssumeRole", FORENSIC.arn),
    record("flz contain instance", FORENSIC, "sts:AssumeRole", MEMBER.arn),
    record(
      "flz contain instance",
      MEMBER,
      "ec2:ModifyInstanceAttribute",
      "arn:aws:ec2:us-east-1:333333333333:instance/i-1",
    ),
  ];
  const later = record("flz capture", MEMBER, "ec2:CreateSnapshot", "arn:aws:ec2:us-east-1:333333333333:volume/vol-1");
  const forensicOnly = record("flz custody verify", FORENSIC, "s3:GetObject", "arn:aws:s3:::flz-evidence/cases/x");

  const assumptionsOf = (records: CallRecord[], label: string): string[] =>
    records
      .filter((r) => r.call.label === label && r.decisions[0].request.action === "sts:AssumeRole")
      .map((r) => `${r.principal?.name} -> ${r.decisions[0].request.resource}`)
      .sort();

  it("a later command acting as a member role gets both assumptions of the chain, under its own label", () => {
    const out = withSessionsPerCommand([...first, later, forensicOnly]);
    expect(assumptionsOf(out, "flz capture")).to.deep.equal([
      `FlzForensicResponder -> ${MEMBER.arn}`,
      `op -> ${FORENSIC.arn}`,
    ]);
    expect(assumptionsOf(out, "flz custody verify")).to.deep.equal([`op -> ${FORENSIC.arn}`]);
  });

  it("a command that assumed its roles itself gets no copies; the records given are all kept", () => {
    const out = withSessionsPerCommand([...first, later]);
    expect(assumptionsOf(out, "flz contain instance")).to.have.length(2);
    expect(out.slice(0, 4)).to.deep.equal([...first, later]);
  });
});
