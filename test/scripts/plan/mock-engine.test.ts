import { expect } from "chai";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { placementOf, runProgram } from "../../../scripts/plan/mock-engine";

class Box extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("flz:test:Box", name, {}, opts);
    const provider = new aws.Provider(
      `${name}-eu`,
      { region: "eu-west-1", allowedAccountIds: ["222222222222"] },
      { parent: this },
    );
    new aws.s3.Bucket(`${name}-bucket`, { objectLockEnabled: true }, { parent: this, provider });
    this.registerOutputs({});
  }
}

describe("recording mock engine", () => {
  it("records resources with their parent, provider placement and inputs", async () => {
    const run = await runProgram(() => {
      const box = new Box("box");
      return { urn: box.urn };
    });
    const bucket = run.resources.find((r) => r.type === "aws:s3/bucket:Bucket");
    expect(bucket?.inputs.objectLockEnabled).to.equal(true);
    const parent = run.resources.find((r) => r.urn === bucket?.parent);
    expect(parent?.type).to.equal("flz:test:Box");
    expect(placementOf(run, bucket!)).to.deep.equal({ account: "222222222222", region: "eu-west-1" });
    expect(run.outputs.urn).to.match(/flz:test:Box::box$/);
  });

  it("starts each run with an empty record", async () => {
    const run = await runProgram(() => ({}));
    expect(run.resources).to.have.length(0);
  });
});

describe("recording mock engine options", () => {
  it("records protect, retainOnDelete and explicit dependencies", async () => {
    const run = await runProgram(() => {
      const key = new aws.kms.Key("k", {}, { protect: true, retainOnDelete: true });
      new aws.s3.Bucket("b", {}, { dependsOn: [key] });
      return {};
    });
    const key = run.resources.find((r) => r.name === "k");
    const bucket = run.resources.find((r) => r.name === "b");
    expect(key?.options).to.include({ protect: true, retainOnDelete: true });
    expect(bucket?.options?.protect).to.equal(false);
    expect(bucket?.options?.dependsOn).to.include(key?.urn);
  });
});

describe("recording mock engine property dependencies", () => {
  it("records which resource each input came from", async () => {
    const run = await runProgram(() => {
      const bucket = new aws.s3.Bucket("pd-bucket", {});
      new aws.s3.BucketVersioning("pd-versioning", {
        bucket: bucket.id,
        versioningConfiguration: { status: "Enabled" },
      });
      return {};
    });
    const bucket = run.resources.find((r) => r.name === "pd-bucket");
    const versioning = run.resources.find((r) => r.name === "pd-versioning");
    expect(versioning?.propertyDependencies?.bucket).to.deep.equal([bucket?.urn]);
  });
});
