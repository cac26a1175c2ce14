import { expect } from "chai";
import * as aws from "@pulumi/aws";
import { runProgram } from "../../../scripts/plan/mock-engine";
import { computePolicyDocument } from "../../../scripts/plan/policy-document";
import { evaluatePack } from "../../../scripts/plan/evaluate";
import { s3NoPublicPolicy } from "../../../policies/storage";

const parse = (r: Record<string, unknown>) => JSON.parse(r.json as string) as Record<string, unknown>;

describe("getPolicyDocument, computed as the provider does", () => {
  it("renders statements, single values as strings, principals, conditions and &{} variables", () => {
    const out = computePolicyDocument({
      policyId: "p1",
      statements: [
        {
          sid: "Read",
          actions: ["s3:GetObject"],
          resources: ["arn:aws:s3:::b/home/&{aws:username}/*", "arn:aws:s3:::b"],
          principals: [
            { type: "AWS", identifiers: ["arn:aws:iam::111111111111:root"] },
            { type: "AWS", identifiers: ["arn:aws:iam::222222222222:root"] },
            { type: "Service", identifiers: ["lambda.amazonaws.com"] },
          ],
          conditions: [
            { test: "StringEquals", variable: "aws:PrincipalOrgID", values: ["o-1"] },
            { test: "StringEquals", variable: "aws:SourceVpc", values: ["vpc-1", "vpc-2"] },
          ],
        },
        { effect: "Deny", notActions: ["iam:*"], notResources: ["arn:aws:iam::*:role/x"] },
      ],
    });
    expect(parse(out)).to.deep.equal({
      Version: "2012-10-17",
      Id: "p1",
      Statement: [
        {
          Sid: "Read",
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: ["arn:aws:s3:::b/home/${aws:username}/*", "arn:aws:s3:::b"],
          Principal: {
            AWS: ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"],
            Service: "lambda.amazonaws.com",
          },
          Condition: { StringEquals: { "aws:PrincipalOrgID": "o-1", "aws:SourceVpc": ["vpc-1", "vpc-2"] } },
        },
        { Effect: "Deny", NotAction: "iam:*", NotResource: "arn:aws:iam::*:role/x" },
      ],
    });
    expect(out.minifiedJson).to.equal(JSON.stringify(parse(out)));
  });

  it('renders { type: "*", identifiers: ["*"] } as Principal "*" and keeps { AWS: "*" } as it is', () => {
    const star = parse(
      computePolicyDocument({ statements: [{ actions: ["s3:*"], principals: [{ type: "*", identifiers: ["*"] }] }] }),
    );
    const aws = parse(
      computePolicyDocument({ statements: [{ actions: ["s3:*"], principals: [{ type: "AWS", identifiers: ["*"] }] }] }),
    );
    expect((star.Statement as Array<Record<string, unknown>>)[0]?.Principal).to.equal("*");
    expect((aws.Statement as Array<Record<string, unknown>>)[0]?.Principal).to.deep.equal({ AWS: "*" });
  });

  it("merges source documents, then statements (a same sid replaces in place), then override documents in order", () => {
    const source = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Sid: "A", Effect: "Allow", Action: "s3:GetObject", Resource: "*" },
        { Sid: "B", Effect: "Allow", Action: "s3:PutObject", Resource: "*" },
      ],
    });
    const override1 = JSON.stringify({
      Statement: [
        { Sid: "B", Effect: "Deny", Action: "s3:PutObject", Resource: "*" },
        { Effect: "Allow", Action: "sqs:*", Resource: "*" },
      ],
    });
    const override2 = JSON.stringify({
      Statement: [{ Sid: "B", Effect: "Allow", Action: "s3:ListBucket", Resource: "*" }],
    });
    const out = parse(
      computePolicyDocument({
        sourcePolicyDocuments: [source],
        statements: [
          { sid: "A", actions: ["kms:Decrypt"], resources: ["*"] },
          { actions: ["sns:Publish"], resources: ["*"] },
        ],
        overridePolicyDocuments: [override1, override2],
      }),
    );
    expect(out.Statement).to.deep.equal([
      { Sid: "A", Effect: "Allow", Action: "kms:Decrypt", Resource: "*" },
      { Sid: "B", Effect: "Allow", Action: "s3:ListBucket", Resource: "*" },
      { Effect: "Allow", Action: "sns:Publish", Resource: "*" },
      { Effect: "Allow", Action: "sqs:*", Resource: "*" },
    ]);
  });

  it("fails the invoke on a sid repeated across source documents or among the statements, as the provider does", () => {
    const one = JSON.stringify({ Statement: [{ Sid: "S", Effect: "Allow", Action: "s3:*", Resource: "*" }] });
    expect(() => computePolicyDocument({ sourcePolicyDocuments: [one, one] })).to.throw(/duplicate Sid \(S\)/);
    expect(() =>
      computePolicyDocument({
        statements: [
          { sid: "X", actions: ["a:b"] },
          { sid: "X", actions: ["a:c"] },
        ],
      }),
    ).to.throw(/duplicate sid \(X\)/);
  });

  it("answers the invoke under the mock engine, so a public policy built with getPolicyDocument is caught offline", async () => {
    const run = await runProgram(async () => {
      const document = await aws.iam.getPolicyDocument({
        statements: [
          {
            actions: ["s3:GetObject"],
            resources: ["arn:aws:s3:::site/*"],
            principals: [{ type: "*", identifiers: ["*"] }],
          },
        ],
      });
      new aws.s3.BucketPolicy("site", { bucket: "site", policy: document.json });
      const output = aws.iam.getPolicyDocumentOutput({
        statements: [
          {
            actions: ["s3:GetObject"],
            resources: ["arn:aws:s3:::other/*"],
            principals: [{ type: "AWS", identifiers: ["*"] }],
          },
        ],
      });
      new aws.s3.BucketPolicy("other", { bucket: "other", policy: output.json });
      return {};
    });
    const verdict = await evaluatePack(run.resources, { rules: [s3NoPublicPolicy] });
    expect(verdict.policies[0]?.violations.map((v) => v.name).sort()).to.deep.equal(["other", "site"]);
  });
});
