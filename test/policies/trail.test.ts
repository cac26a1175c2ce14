import type { RecordedResource } from "../../scripts/plan/mock-engine";
import {
  trailEnabled,
  trailGlobalServiceEvents,
  trailKmsEncrypted,
  trailLogFileValidation,
  trailManagementEvents,
  trailMultiRegion,
  trailRules,
} from "../../policies/trail";
import { expectNotApplicable, expectPass, expectViolation, provider, res } from "./helpers";

const aws = provider("us-east-1", "111111111111");
const TRAIL = "aws:cloudtrail/trail:Trail";

/** A compliant organisation trail; each failing case changes one input. */
function trail(overrides: Record<string, unknown> = {}): RecordedResource[] {
  return [
    aws,
    res(
      TRAIL,
      "org-trail",
      {
        s3BucketName: "trail-bucket",
        isOrganizationTrail: true,
        isMultiRegionTrail: true,
        enableLogFileValidation: true,
        includeGlobalServiceEvents: true,
        kmsKeyId: "arn:aws:kms:us-east-1:222222222222:key/1234",
        ...overrides,
      },
      { provider: aws },
    ),
  ];
}

describe("policies/trail", () => {
  it("every trail rule skips resources that are not trails", async () => {
    for (const rule of trailRules)
      await expectNotApplicable(rule, [aws, res("aws:s3/bucket:Bucket", "b", {}, { provider: aws })]);
  });

  describe("trail-multi-region", () => {
    it("passes a trail that logs all regions", () => expectPass(trailMultiRegion, trail()));
    it("fails a single-region trail", () =>
      expectViolation(trailMultiRegion, trail({ isMultiRegionTrail: false }), /isMultiRegionTrail/));
    it("fails a trail that leaves the region setting unset (the provider default is single-region)", () =>
      expectViolation(trailMultiRegion, trail({ isMultiRegionTrail: undefined }), /isMultiRegionTrail/));
  });

  describe("trail-log-file-validation", () => {
    it("passes a trail that validates its logs", () => expectPass(trailLogFileValidation, trail()));
    it("fails a trail without validation", () =>
      expectViolation(trailLogFileValidation, trail({ enableLogFileValidation: false }), /enableLogFileValidation/));
  });

  describe("trail-kms-encrypted", () => {
    it("passes a trail with a customer key", () => expectPass(trailKmsEncrypted, trail()));
    it("fails a trail without a key", () =>
      expectViolation(trailKmsEncrypted, trail({ kmsKeyId: undefined }), /kmsKeyId is not set/));
    it("fails a trail under an AWS-managed alias", () =>
      expectViolation(trailKmsEncrypted, trail({ kmsKeyId: "alias/aws/cloudtrail" }), /AWS-managed/));
  });

  describe("trail-global-service-events", () => {
    it("passes when global events are included (explicitly or by default)", async () => {
      await expectPass(trailGlobalServiceEvents, trail());
      await expectPass(trailGlobalServiceEvents, trail({ includeGlobalServiceEvents: undefined }));
    });
    it("fails when global events are excluded", () =>
      expectViolation(trailGlobalServiceEvents, trail({ includeGlobalServiceEvents: false }), /IAM and STS/));
  });

  describe("trail-logging-enabled", () => {
    it("passes a logging trail", () => expectPass(trailEnabled, trail()));
    it("fails a stopped trail", () =>
      expectViolation(trailEnabled, trail({ enableLogging: false }), /enableLogging is false/));
  });

  describe("trail-management-events", () => {
    it("passes a trail without selectors (all management events by default)", () =>
      expectPass(trailManagementEvents, trail()));
    it("passes an advanced selector recording every management event", () =>
      expectPass(
        trailManagementEvents,
        trail({
          advancedEventSelectors: [
            { name: "mgmt", fieldSelectors: [{ field: "eventCategory", equals: ["Management"] }] },
          ],
        }),
      ));
    it("fails a basic selector that excludes management events", () =>
      expectViolation(
        trailManagementEvents,
        trail({ eventSelectors: [{ includeManagementEvents: false, readWriteType: "All" }] }),
        /no event selector/,
      ));
    it("fails a write-only selector", () =>
      expectViolation(
        trailManagementEvents,
        trail({ eventSelectors: [{ includeManagementEvents: true, readWriteType: "WriteOnly" }] }),
        /no event selector/,
      ));
    it("fails excluded management event sources", () =>
      expectViolation(
        trailManagementEvents,
        trail({ eventSelectors: [{ excludeManagementEventSources: ["kms.amazonaws.com"] }] }),
        /kms.amazonaws.com/,
      ));
    it("fails an advanced selector narrowed to writes", () =>
      expectViolation(
        trailManagementEvents,
        trail({
          advancedEventSelectors: [
            {
              fieldSelectors: [
                { field: "eventCategory", equals: ["Management"] },
                { field: "readOnly", equals: ["false"] },
              ],
            },
          ],
        }),
        /readOnly/,
      ));
  });
});
