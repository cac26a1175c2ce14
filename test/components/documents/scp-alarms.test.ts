/**
 * The builder of `flz-protect-alarms` on its own: what it refuses to build, and that what it builds always leaves the
 * deployment role free (or the next `pulumi up` could not change the alarms) and always fits an SCP's 5,120 characters.
 * What it denies to whom is evaluated against the deployed stack in test/adversary/landing-zone-silence.test.ts.
 */
import { expect } from "chai";
import {
  ALARM_SILENCING_ACTIONS,
  GUARDDUTY_SILENCING_ACTIONS,
  protectAlarmsScp,
} from "../../../components/documents/scp-alarms";
import { scpText } from "../../../components/documents/scp";

const DEPLOYMENT = "arn:aws:iam::*:role/OrganizationAccountAccessRole";

describe("protectAlarmsScp (flz-protect-alarms)", () => {
  it("refuses a name prefix EventBridge would not accept in a rule name, naming it", () => {
    for (const prefix of ["", "flz alarms-", "flz/alarms-", "x".repeat(64)])
      expect(() => protectAlarmsScp({ namePrefix: prefix, deploymentRoleArn: DEPLOYMENT }), prefix).to.throw(
        `alarm name prefix "${prefix}" is not 1 to 63 letters, digits, ".", "-" or "_"`,
      );
    expect(() => protectAlarmsScp({ namePrefix: "x".repeat(63), deploymentRoleArn: DEPLOYMENT })).not.to.throw();
  });

  it("refuses a deployment principal that is not a role ARN", () => {
    expect(() =>
      protectAlarmsScp({ namePrefix: "flz-alarms-", deploymentRoleArn: "OrganizationAccountAccessRole" }),
    ).to.throw(/deploymentRoleArn/);
  });

  it("exempts the deployment role, and only it, from every statement", () => {
    const doc = protectAlarmsScp({ namePrefix: "flz-alarms-", deploymentRoleArn: DEPLOYMENT });
    expect(doc.Statement.map((s) => s.Sid)).to.deep.equal([
      "FlzProtectAlarms",
      "FlzProtectAlarmKeys",
      "FlzProtectGuardDutyFindings",
    ]);
    for (const s of doc.Statement) {
      expect(s.Effect, s.Sid).to.equal("Deny");
      expect(s.Condition?.ArnNotLike, s.Sid).to.deep.equal({ "aws:PrincipalARN": DEPLOYMENT });
    }
    expect(doc.Statement[2].Action).to.deep.equal([...GUARDDUTY_SILENCING_ACTIONS]);
    expect(doc.Statement[2].Resource).to.equal("*");
  });

  it("fits an SCP's 5,120 characters with the longest prefix and a long deployment role name", () => {
    const text = scpText(
      protectAlarmsScp({
        namePrefix: "x".repeat(63),
        deploymentRoleArn: `arn:aws:iam::*:role/${"d".repeat(64)}`,
      }),
    );
    expect(text.length).to.be.at.most(5120);
    // and the statements stay whole: every silencing action is still named
    for (const action of [...ALARM_SILENCING_ACTIONS, ...GUARDDUTY_SILENCING_ACTIONS]) expect(text).to.contain(action);
  });
});
