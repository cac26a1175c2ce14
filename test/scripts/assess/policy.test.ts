// How `flz assess` reads a guardrail's deny (scripts/assess/policy.ts): when it binds an account's administrators, and
// whom it exempts. Each case is a rewrite an administrator of the management account could make to keep a guardrail
// attached while escaping it; the assessment must not count such a deny.
import { expect } from "chai";
import { deniesAll, exemptedPrincipals } from "../../../scripts/assess/policy";

const A = "333333333333";
const TRAIL = `arn:aws:cloudtrail:us-east-1:${A}:trail/org`;
const STOP = ["cloudtrail:StopLogging"];
const DEPLOY = "arn:aws:iam::*:role/FlzDeployment";

/** A policy condition block: operator, then key, then values. */
type Condition = Record<string, Record<string, string | string[]>>;

/** One deny of StopLogging on every trail, with `condition`. */
const deny = (condition?: Condition, effect = "Deny") =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: effect,
        Action: "cloudtrail:StopLogging",
        Resource: "arn:aws:cloudtrail:*:*:trail/*",
        Condition: condition,
      },
    ],
  });

describe("flz assess: which denies bind an account's administrators (deniesAll)", () => {
  it("counts an unconditioned deny, and one that exempts only the deployment role", () => {
    expect(deniesAll([deny()], STOP, TRAIL, A)).to.equal(true);
    expect(deniesAll([deny({ ArnNotLike: { "aws:PrincipalArn": DEPLOY } })], STOP, TRAIL, A)).to.equal(true);
  });

  it("does not count an Allow, whatever it names", () => {
    expect(deniesAll([deny(undefined, "Allow")], STOP, TRAIL, A)).to.equal(false);
  });

  it("needs every action denied, each by some statement", () => {
    const both = ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"];
    expect(deniesAll([deny()], both, TRAIL, A)).to.equal(false);
    const deleting = JSON.stringify({
      Statement: [{ Effect: "Deny", Action: "cloudtrail:DeleteTrail", Resource: "*" }],
    });
    expect(deniesAll([deny(), deleting], both, TRAIL, A)).to.equal(true);
  });

  it("needs the resource covered: a deny of another trail, or one whose NotResource excludes it, does not count", () => {
    const other = JSON.stringify({
      Statement: [{ Effect: "Deny", Action: "cloudtrail:*", Resource: [`arn:aws:cloudtrail:*:*:trail/other`] }],
    });
    expect(deniesAll([other], STOP, TRAIL, A)).to.equal(false);
    const listed = JSON.stringify({
      Statement: [{ Effect: "Deny", Action: "cloudtrail:*", Resource: ["arn:aws:s3:::x", TRAIL] }],
    });
    expect(deniesAll([listed], STOP, TRAIL, A)).to.equal(true);
    const notResource = JSON.stringify({
      Statement: [{ Effect: "Deny", Action: "cloudtrail:*", NotResource: TRAIL }],
    });
    expect(deniesAll([notResource], STOP, TRAIL, A)).to.equal(false);
  });

  it("does not count an exemption that names no principal, even beside the deployment role", () => {
    // every IAM user of every account: root and the administrator roles stay bound, but it is not a named principal
    expect(deniesAll([deny({ ArnNotLike: { "aws:PrincipalArn": "arn:aws:iam::*:user/*" } })], STOP, TRAIL, A)).to.equal(
      false,
    );
    expect(
      deniesAll([deny({ ArnNotLike: { "aws:PrincipalArn": [DEPLOY, "arn:aws:iam::*:user/*"] } })], STOP, TRAIL, A),
    ).to.equal(false);
  });

  it("reads ARN operators with wildcards and String*Equals literally, as IAM does", () => {
    const admins = "arn:aws:iam::*:role/Admin*";
    // ArnNotEquals matches wildcards like ArnNotLike: the administrators are exempted
    expect(deniesAll([deny({ ArnNotEquals: { "aws:PrincipalArn": admins } })], STOP, TRAIL, A)).to.equal(false);
    expect(deniesAll([deny({ StringNotLike: { "aws:PrincipalArn": admins } })], STOP, TRAIL, A)).to.equal(false);
    // StringNotEquals compares the text: no principal's ARN is "…role/Admin*", so nobody is exempted
    expect(deniesAll([deny({ StringNotEquals: { "aws:PrincipalArn": admins } })], STOP, TRAIL, A)).to.equal(true);
    // a positive test must match every administrator: literally, "…:*:*" matches none
    const everyone = [`arn:aws:iam::${A}:root`, `arn:aws:iam::${A}:role/*`];
    expect(deniesAll([deny({ ArnLike: { "aws:PrincipalArn": everyone } })], STOP, TRAIL, A)).to.equal(true);
    expect(deniesAll([deny({ StringEquals: { "aws:PrincipalArn": everyone } })], STOP, TRAIL, A)).to.equal(false);
  });

  it("does not count a deny limited by a condition an intruder can step outside", () => {
    const limited: Condition[] = [
      { Bool: { "aws:MultiFactorAuthPresent": "true" } },
      // a resource tag narrows what is protected only under a positive test; a negated one lets the tagged escape
      { StringNotEquals: { "aws:ResourceTag/flz:purpose": "trail" } },
      // a multi-valued operator on the principal is not an exemption the pack would accept
      { "ForAllValues:ArnNotLike": { "aws:PrincipalArn": DEPLOY } },
    ];
    for (const condition of limited)
      expect(deniesAll([deny(condition)], STOP, TRAIL, A), JSON.stringify(condition)).to.equal(false);
    expect(deniesAll([deny({ StringLike: { "aws:ResourceTag/flz:purpose": "trail*" } })], STOP, TRAIL, A)).to.equal(
      true,
    );
  });
});

describe("flz assess: whom a guardrail's denies exempt (exemptedPrincipals)", () => {
  const exempting = (
    principals: string[],
    action = "cloudtrail:StopLogging",
    effect = "Deny",
    operator = "ArnNotLike",
  ) =>
    JSON.stringify({
      Statement: [
        {
          Effect: effect,
          Action: action,
          Resource: "arn:aws:cloudtrail:*:*:trail/*",
          Condition: { [operator]: { "aws:PrincipalArn": principals }, StringEquals: { "aws:PrincipalTag/team": "x" } },
        },
      ],
    });

  it("names the exempted principals of every deny covering any of the actions on the resource, once each, sorted", () => {
    const docs = [
      exempting([DEPLOY, "arn:aws:iam::*:role/B"]),
      exempting([DEPLOY], "cloudtrail:DeleteTrail"),
      exempting(["arn:aws:iam::*:role/A"], "cloudtrail:StopLogging", "Deny", "StringNotEqualsIfExists"),
    ];
    expect(exemptedPrincipals(docs, STOP, TRAIL)).to.deep.equal([
      "arn:aws:iam::*:role/A",
      "arn:aws:iam::*:role/B",
      DEPLOY,
    ]);
    expect(exemptedPrincipals(docs, ["cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail"], TRAIL)).to.deep.equal([
      DEPLOY,
    ]);
  });

  it("ignores Allows, other resources, other actions, positive tests and other keys", () => {
    expect(exemptedPrincipals([exempting([DEPLOY], "cloudtrail:StopLogging", "Allow")], STOP, TRAIL)).to.deep.equal([]);
    expect(exemptedPrincipals([exempting([DEPLOY])], STOP, "arn:aws:s3:::bucket")).to.deep.equal([]);
    expect(exemptedPrincipals([exempting([DEPLOY])], ["cloudtrail:UpdateTrail"], TRAIL)).to.deep.equal([]);
    expect(
      exemptedPrincipals([exempting([DEPLOY], "cloudtrail:StopLogging", "Deny", "ArnLike")], STOP, TRAIL),
    ).to.deep.equal([]);
    expect(
      exemptedPrincipals(
        [exempting([DEPLOY], "cloudtrail:StopLogging", "Deny", "ForAnyValue:ArnNotLike")],
        STOP,
        TRAIL,
      ),
    ).to.deep.equal([]);
  });
});
