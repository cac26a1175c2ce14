/**
 * The oracle's world must be the documents the stack deploys, not a hand-kept copy: this runs the real stack program
 * under the recording mock engine, configured for the emulator's organisation, and compares every identity, trust,
 * bucket, key and organisation policy it registers with the world the oracle evaluates calls against.
 */
import { expect } from "chai";
import * as path from "node:path";
import type { PolicyDocument } from "../../../components/documents";
import { ATHENA_RESULTS_PREFIX } from "../../../components/forensicLandingZone";
import { readStackConfig } from "../../../scripts/plan/plan";
import { EMULATOR_OPERATOR_ARN, emulatorWorldArgs } from "../../../scripts/oracle/emulator-world";
import { ATHENA_RESULTS_PREFIX_DEFAULT, DEPLOYMENT_ROLE_DEFAULT } from "../../../scripts/oracle/defaults";
import { buildWorld, type OracleWorld } from "../../../scripts/oracle/world";
import { SEED_ACCOUNTS } from "../../../scripts/emulator/seed";
import {
  MOCK_ORGANIZATION_ID,
  MOCK_ROOT_ID,
  runProgram,
  type RecordedResource,
} from "../../../scripts/plan/mock-engine";

const STACK = path.resolve(__dirname, "../../../stacks/index.ts");
const EXAMPLE = path.resolve(__dirname, "../../../stacks/Pulumi.example.yaml");

/** The stack configured as the emulator's organisation (the mock engine's organisation and root IDs). */
async function stackForEmulator() {
  const config: Record<string, string> = {
    ...readStackConfig(EXAMPLE),
    "forensic-landing-zone:forensicAccountId": SEED_ACCOUNTS.forensic,
    "forensic-landing-zone:managementAccountId": SEED_ACCOUNTS.management,
    "forensic-landing-zone:homeRegion": "us-east-1",
    "forensic-landing-zone:regions": JSON.stringify(["us-east-1", "eu-west-1"]),
    "forensic-landing-zone:targetOuIds": JSON.stringify([MOCK_ROOT_ID]),
    "forensic-landing-zone:responderPrincipals": JSON.stringify([EMULATOR_OPERATOR_ARN]),
    "forensic-landing-zone:investigatorPrincipals": JSON.stringify([EMULATOR_OPERATOR_ARN]),
    // The emulator's world holds the response automation (its offline runs act as its functions).
    "forensic-landing-zone:automation": "true",
  };
  return runProgram(() => {
    delete require.cache[require.resolve(STACK)];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { ...(require(STACK) as Record<string, unknown>) };
  }, config);
}

const parse = (text: unknown): PolicyDocument => JSON.parse(String(text)) as PolicyDocument;
const ofType = (resources: RecordedResource[], type: string) => resources.filter((r) => r.type === type);

/** Every document of the world, keyed by where it lives. */
function worldDocuments(world: OracleWorld): Record<string, PolicyDocument> {
  const docs: Record<string, PolicyDocument> = {};
  for (const role of world.roles) {
    docs[`role ${role.name} trust`] = role.trust.document;
    for (const p of role.policies) docs[`role ${role.name} inline ${p.name}`] = p.document;
    role.managedPolicyArns.forEach(
      (arn, i) =>
        (docs[`role ${role.name} managed ${i}`] = {
          Version: "2012-10-17",
          Statement: [],
          arn,
        } as unknown as PolicyDocument),
    );
  }
  for (const b of world.buckets) docs[`bucket ${b.name}`] = b.policy.document;
  for (const [purpose, p] of Object.entries(world.keyPolicies)) docs[`key ${purpose}`] = p.document;
  for (const level of world.serviceControlPolicies)
    for (const p of level.policies) docs[`scp ${p.name} on ${level.target}`] = p.document;
  for (const level of world.resourceControlPolicies)
    for (const p of level.policies) docs[`rcp ${p.name} on ${level.target}`] = p.document;
  if (world.organizationsResourcePolicy)
    docs["organizations resource policy"] = world.organizationsResourcePolicy.document;
  return docs;
}

/** Every document the stack registers for the same places. */
function stackDocuments(resources: RecordedResource[], world: OracleWorld): Record<string, PolicyDocument> {
  const docs: Record<string, PolicyDocument> = {};
  for (const role of ofType(resources, "aws:iam/role:Role")) {
    const name = String(role.inputs.name);
    if (!world.roles.some((r) => r.name === name)) continue;
    docs[`role ${name} trust`] = parse(role.inputs.assumeRolePolicy);
  }
  for (const policy of ofType(resources, "aws:iam/rolePolicy:RolePolicy")) {
    const role = String(policy.inputs.role);
    if (world.roles.some((r) => r.name === role))
      docs[`role ${role} inline ${String(policy.inputs.name)}`] = parse(policy.inputs.policy);
  }
  for (const stackSet of ofType(resources, "aws:cloudformation/stackSet:StackSet")) {
    const template = JSON.parse(String(stackSet.inputs.templateBody)) as {
      Resources: Record<
        string,
        {
          Type: string;
          Properties: {
            RoleName: string;
            AssumeRolePolicyDocument: PolicyDocument;
            ManagedPolicyArns?: string[];
            Policies?: { PolicyName: string; PolicyDocument: PolicyDocument }[];
          };
        }
      >;
    };
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== "AWS::IAM::Role") continue;
      const p = resource.Properties;
      docs[`role ${p.RoleName} trust`] = p.AssumeRolePolicyDocument;
      for (const inline of p.Policies ?? [])
        docs[`role ${p.RoleName} inline ${inline.PolicyName}`] = inline.PolicyDocument;
      (p.ManagedPolicyArns ?? []).forEach(
        (arn, i) =>
          (docs[`role ${p.RoleName} managed ${i}`] = {
            Version: "2012-10-17",
            Statement: [],
            arn,
          } as unknown as PolicyDocument),
      );
    }
  }
  for (const policy of ofType(resources, "aws:s3/bucketPolicy:BucketPolicy")) {
    const bucket = world.buckets.find((b) => JSON.stringify(policy.inputs.policy).includes(`arn:aws:s3:::${b.name}/`));
    const document = parse(policy.inputs.policy);
    // The access-log buckets' policies name their source bucket too: only the two buckets' own policies count.
    if (bucket && document.Statement.some((s) => JSON.stringify(s.Resource).includes(`arn:aws:s3:::${bucket.name}"`)))
      docs[`bucket ${bucket.name}`] = document;
  }
  for (const key of [...ofType(resources, "aws:kms/key:Key"), ...ofType(resources, "aws:kms/replicaKey:ReplicaKey")]) {
    const purpose = (key.inputs.tags as Record<string, string> | undefined)?.["flz:purpose"];
    if (purpose === undefined || !(purpose in world.keyPolicies)) continue;
    const document = parse(key.inputs.policy);
    const slot = `key ${purpose}`;
    // Replicas must carry their primary's policy: a second, different document for one purpose is a drift too.
    if (docs[slot] !== undefined)
      expect(document, `${key.name}: every ${purpose} key carries one policy`).to.deep.equal(docs[slot]);
    docs[slot] = document;
  }
  for (const policy of ofType(resources, "aws:organizations/resourcePolicy:ResourcePolicy"))
    docs["organizations resource policy"] = parse(policy.inputs.content);
  const attachments = ofType(resources, "aws:organizations/policyAttachment:PolicyAttachment");
  for (const policy of ofType(resources, "aws:organizations/policy:Policy")) {
    const kind =
      policy.inputs.type === "SERVICE_CONTROL_POLICY"
        ? "scp"
        : policy.inputs.type === "RESOURCE_CONTROL_POLICY"
          ? "rcp"
          : undefined;
    if (!kind) continue;
    for (const a of attachments.filter((x) => x.inputs.policyId === policy.id))
      docs[`${kind} ${String(policy.inputs.name)} on ${String(a.inputs.targetId)}`] = parse(policy.inputs.content);
  }
  return docs;
}

describe("oracle world: the documents the oracle evaluates are the ones the stack deploys", () => {
  it("the stack's defaults the world restates are the stack's", () => {
    expect(ATHENA_RESULTS_PREFIX_DEFAULT).to.equal(ATHENA_RESULTS_PREFIX);
    expect(DEPLOYMENT_ROLE_DEFAULT).to.equal("OrganizationAccountAccessRole");
  });

  it("the stack, configured as the emulator's organisation, registers exactly the world's documents", async function () {
    this.timeout(120000);
    const run = await stackForEmulator();
    const world = buildWorld({ ...emulatorWorldArgs(), organizationId: MOCK_ORGANIZATION_ID, rootId: MOCK_ROOT_ID });
    const expected = worldDocuments(world);
    const actual = stackDocuments(run.resources, world);
    expect(Object.keys(actual).sort(), "where the documents live").to.deep.equal(Object.keys(expected).sort());
    for (const place of Object.keys(expected)) expect(actual[place], place).to.deep.equal(expected[place]);
  });
});
