import { expect } from "chai";
import {
  OrganizationTrail,
  OrganizationTrailArgs,
  LAMBDA_INVOKES,
  MANAGEMENT_EVENTS,
  S3_OBJECT_WRITES,
} from "../../components/organizationTrail";
import { placementOf, runProgram } from "../../scripts/plan/mock-engine";
import { allOf, one, statements } from "./helpers";

const KEY = "arn:aws:kms:us-east-1:222222222222:key/mrk-trail";
const TRAIL = "aws:cloudtrail/trail:Trail";

function trail(overrides: Partial<OrganizationTrailArgs> = {}) {
  return runProgram(() => {
    const t = new OrganizationTrail("trail", {
      trailName: "flz-organization-trail",
      bucketName: "flz-trail-bucket",
      kmsKeyArn: KEY,
      ...overrides,
    });
    return { arn: t.trailArn };
  });
}

describe("OrganizationTrail", () => {
  it("is an organisation trail in every region with global events, log-file validation and the trail key", async () => {
    const run = await trail();
    expect(one(run, TRAIL).inputs).to.include({
      name: "flz-organization-trail",
      s3BucketName: "flz-trail-bucket",
      kmsKeyId: KEY,
      isOrganizationTrail: true,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableLogFileValidation: true,
      enableLogging: true,
    });
    // Deployed through the default (management-account) provider.
    expect(placementOf(run, one(run, TRAIL)).account).to.equal("111111111111");
  });

  it("records management events read and write, and S3 object writes by default, not Lambda invocations", async () => {
    const run = await trail();
    const selectors = one(run, TRAIL).inputs.advancedEventSelectors as Array<{
      fieldSelectors: Array<{ field: string; equals?: string[] }>;
    }>;
    expect(selectors).to.deep.equal([MANAGEMENT_EVENTS, S3_OBJECT_WRITES]);
    // No readOnly filter on management events: reads and writes.
    expect(selectors[0].fieldSelectors.map((f) => f.field)).to.deep.equal(["eventCategory"]);
  });

  it("switches data events by configuration and appends arbitrary advanced selectors", async () => {
    const extra = {
      name: "DynamoDB writes",
      fieldSelectors: [
        { field: "eventCategory", equals: ["Data"] },
        { field: "resources.type", equals: ["AWS::DynamoDB::Table"] },
      ],
    };
    const run = await trail({ s3ObjectWrites: false, lambdaInvokes: true, additionalEventSelectors: [extra] });
    expect(one(run, TRAIL).inputs.advancedEventSelectors).to.deep.equal([MANAGEMENT_EVENTS, LAMBDA_INVOKES, extra]);
  });

  it("delivers to CloudWatch Logs only when asked, through a role trusted only for this trail", async () => {
    expect(allOf(await trail(), "aws:cloudwatch/logGroup:LogGroup")).to.have.length(0);
    const run = await trail({ cloudWatchLogs: { retentionDays: 90 } });
    const group = one(run, "aws:cloudwatch/logGroup:LogGroup");
    expect(group.inputs.retentionInDays).to.equal(90);
    const t = one(run, TRAIL);
    expect(t.inputs.cloudWatchLogsGroupArn).to.match(/:\*$/);
    const role = one(run, "aws:iam/role:Role");
    const [trust] = statements(role, "assumeRolePolicy");
    expect(trust.Principal).to.deep.equal({ Service: "cloudtrail.amazonaws.com" });
    expect((trust.Condition?.StringEquals as Record<string, string>)["aws:SourceArn"]).to.equal(
      "arn:aws:cloudtrail:us-east-1:111111111111:trail/flz-organization-trail",
    );
    // The trail is wired to that role, and the role may only write into that group.
    expect(t.inputs.cloudWatchLogsRoleArn).to.equal(`arn:aws:iam::111111111111:role/${role.name}`);
    const [write] = statements(one(run, "aws:iam/rolePolicy:RolePolicy"));
    expect(write.Action).to.deep.equal(["logs:CreateLogStream", "logs:PutLogEvents"]);
    expect(write.Resource).to.equal(t.inputs.cloudWatchLogsGroupArn);
  });
});
