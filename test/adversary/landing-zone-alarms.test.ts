/**
 * What AWS cannot prevent, the alarms detect (docs/threat-model.md, "Detective controls"). The alarm rules' event
 * patterns, harvested from the stack program, are installed on an EventBridge bus of the emulator with a queue as their
 * target; each attack of the adversary suite is then replayed as the CloudTrail event AWS would emit for it (plain
 * EventBridge PutEvents), and the test asserts that the right rule delivers it, and that ordinary events do not.
 * The emulator matches patterns (including `$or`, `exists` and nested fields); it does not emit CloudTrail events by
 * itself, hence the replay.
 */
import { expect } from "chai";
import { EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { useEmulator } from "../support/emulator";
import {
  DEPLOYMENT,
  EVIDENCE_BUCKET,
  FORENSIC,
  MANAGEMENT,
  TRAIL_BUCKET,
  deployedDocuments,
  type DeployedDocuments,
} from "./landing-zone-documents";

/** A CloudTrail management event as EventBridge delivers it. */
function cloudTrailEvent(source: string, detail: Record<string, unknown>) {
  return {
    Source: source,
    DetailType: "AWS API Call via CloudTrail",
    Detail: JSON.stringify({ eventVersion: "1.09", awsRegion: "us-east-1", ...detail }),
  };
}

describe("adversary: the alarms catch what the management account can do", function () {
  this.timeout(120_000);
  useEmulator();
  let docs: DeployedDocuments;
  let events: EventBridgeClient;
  let sqs: SQSClient;

  before(async () => {
    docs = await deployedDocuments();
  });
  beforeEach(() => {
    events = new EventBridgeClient({ region: "us-east-1" });
    sqs = new SQSClient({ region: "us-east-1" });
  });
  afterEach(() => {
    events.destroy();
    sqs.destroy();
  });

  /** Installs one deployed rule (by name) on the emulator's default bus, delivering to a fresh queue. */
  async function install(ruleName: string): Promise<string> {
    const pattern = docs.eventRules[ruleName];
    expect(pattern, `the stack declares ${ruleName}`).to.be.a("string");
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: ruleName }));
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    await events.send(new PutRuleCommand({ Name: ruleName, EventPattern: pattern, State: "ENABLED" }));
    await events.send(
      new PutTargetsCommand({ Rule: ruleName, Targets: [{ Id: "queue", Arn: attributes.Attributes?.QueueArn }] }),
    );
    return queue.QueueUrl as string;
  }

  /** Puts the events and returns how many reached the queue. */
  async function delivered(queueUrl: string, entries: ReturnType<typeof cloudTrailEvent>[]): Promise<number> {
    await events.send(new PutEventsCommand({ Entries: entries }));
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    return received.Messages?.length ?? 0;
  }

  it("detaching the RCP or an SCP, or removing the forensic account, alarms (forwarded from the management account)", async () => {
    const forward = await install("flz-alarms-us-east-1-forward-organization-guardrail-change");
    const detached: Array<[string, string]> = [
      [docs.policyIds["flz-protect-evidence"], "r-exam"],
      [docs.policyIds["flz-protect-forensics"], "r-exam"],
      // The alarm-protection SCP, on the forensic account: detached, the alarms could then be silenced there.
      [docs.policyIds["flz-protect-alarms"], FORENSIC],
    ];
    expect(detached.every(([policyId]) => typeof policyId === "string" && policyId !== "")).to.equal(true);
    const attacks = [
      ...detached.map(([policyId, targetId]) =>
        cloudTrailEvent("aws.organizations", {
          eventSource: "organizations.amazonaws.com",
          eventName: "DetachPolicy",
          recipientAccountId: MANAGEMENT,
          requestParameters: { policyId, targetId },
        }),
      ),
      cloudTrailEvent("aws.organizations", {
        eventSource: "organizations.amazonaws.com",
        eventName: "DisablePolicyType",
        requestParameters: { rootId: "r-exam", policyType: "RESOURCE_CONTROL_POLICY" },
      }),
      cloudTrailEvent("aws.organizations", {
        eventSource: "organizations.amazonaws.com",
        eventName: "RemoveAccountFromOrganization",
        requestParameters: { accountId: FORENSIC },
      }),
    ];
    expect(await delivered(forward, attacks)).to.equal(attacks.length);
    // Ordinary organisation work (another policy, another account) stays quiet.
    const ordinary = [
      cloudTrailEvent("aws.organizations", {
        eventSource: "organizations.amazonaws.com",
        eventName: "DetachPolicy",
        requestParameters: { policyId: "p-quarantine1", targetId: "333333333333" },
      }),
      cloudTrailEvent("aws.organizations", {
        eventSource: "organizations.amazonaws.com",
        eventName: "MoveAccount",
        requestParameters: { accountId: "333333333333" },
      }),
    ];
    expect(await delivered(forward, ordinary)).to.equal(0);
  });

  it("assuming the deployment role alarms in the forensic account (the management account's way past every freeze)", async () => {
    const queue = await install("flz-alarms-us-east-1-watched-role-assumed");
    const assume = (roleArn: string) =>
      cloudTrailEvent("aws.sts", {
        eventSource: "sts.amazonaws.com",
        eventName: "AssumeRole",
        recipientAccountId: FORENSIC,
        requestParameters: { roleArn, roleSessionName: "console" },
      });
    expect(await delivered(queue, [assume(DEPLOYMENT)])).to.equal(1);
    expect(await delivered(queue, [assume(`arn:aws:iam::${FORENSIC}:role/FlzForensicResponder`)])).to.equal(0);
  });

  it("every change, or attempted deletion, on a forensic bucket alarms; other buckets stay quiet", async () => {
    const queue = await install("flz-alarms-us-east-1-forensic-bucket-change");
    const s3 = (eventName: string, bucketName: string, errorCode?: string) =>
      cloudTrailEvent("aws.s3", {
        eventSource: "s3.amazonaws.com",
        eventName,
        requestParameters: { bucketName },
        ...(errorCode ? { errorCode } : {}),
      });
    const changes = [
      s3("PutBucketPolicy", EVIDENCE_BUCKET),
      s3("PutObjectLockConfiguration", TRAIL_BUCKET),
      s3("DeleteBucketLifecycle", EVIDENCE_BUCKET),
      s3("PutBucketPublicAccessBlock", `${EVIDENCE_BUCKET}-logs`),
      // Refused by the policies, still an alarm: somebody tried.
      s3("DeleteObject", EVIDENCE_BUCKET, "AccessDenied"),
    ];
    expect(await delivered(queue, changes)).to.equal(changes.length);
    expect(
      await delivered(queue, [s3("PutBucketPolicy", "someone-elses-bucket"), s3("GetBucketPolicy", EVIDENCE_BUCKET)]),
    ).to.equal(0);
  });

  it("a key policy change or a direct grant alarms; the grants EBS makes during a capture do not", async () => {
    const queue = await install("flz-alarms-us-east-1-key-change");
    const kms = (eventName: string, userIdentity: Record<string, unknown> = { type: "AssumedRole" }) =>
      cloudTrailEvent("aws.kms", { eventSource: "kms.amazonaws.com", eventName, userIdentity });
    expect(await delivered(queue, [kms("PutKeyPolicy"), kms("ScheduleKeyDeletion"), kms("CreateGrant")])).to.equal(3);
    expect(
      await delivered(queue, [
        kms("CreateGrant", { type: "AssumedRole", invokedBy: "ec2.amazonaws.com" }),
        kms("Decrypt"),
      ]),
    ).to.equal(0);
  });

  it("changing a forensic role's trust or permissions alarms (IAM events, us-east-1)", async () => {
    const queue = await install("flz-alarms-us-east-1-forensic-role-change");
    const iam = (eventName: string, roleName: string) =>
      cloudTrailEvent("aws.iam", { eventSource: "iam.amazonaws.com", eventName, requestParameters: { roleName } });
    expect(
      await delivered(queue, [
        iam("UpdateAssumeRolePolicy", "FlzForensicResponder"),
        iam("PutRolePolicy", "FlzBreakGlass"),
        iam("AttachRolePolicy", "OrganizationAccountAccessRole"),
      ]),
    ).to.equal(3);
    expect(await delivered(queue, [iam("UpdateAssumeRolePolicy", "SomeWorkloadRole")])).to.equal(0);
  });
});
