import { expect } from "chai";
import * as aws from "@pulumi/aws";
import { type RecordedResource, placementOf, runProgram } from "../../../scripts/plan/mock-engine";
import { GuardrailPolicies } from "../../../components/GuardrailPolicies";
import { DetectionDelegation } from "../../../components/DetectionDelegation";
import { InvestigationWorkspace } from "../../../components/InvestigationWorkspace";
import { ForensicVpc } from "../../../components/ForensicVpc";
import { IncidentAlarms } from "../../../components/IncidentAlarms";
import type { PolicyDocument } from "../../../components/documents/types";

const MANAGEMENT = "111111111111";
const FORENSIC = "222222222222";
const REGIONS = ["us-east-1", "eu-west-1"];

function providerIn(name: string, account: string, region: string): aws.Provider {
  return new aws.Provider(name, { region: region as aws.Region, allowedAccountIds: [account] });
}
const ofType = (resources: RecordedResource[], type: string) => resources.filter((r) => r.type === type);
const parse = <T>(value: unknown): T => JSON.parse(String(value)) as T;

describe("GuardrailPolicies", () => {
  const program =
    (overrides: Partial<ConstructorParameters<typeof GuardrailPolicies>[1]> = {}) =>
    () => {
      const guardrails = new GuardrailPolicies("guardrails", {
        managementProvider: providerIn("management", MANAGEMENT, "us-east-1"),
        targetIds: ["r-exam"],
        trailArn: `arn:aws:cloudtrail:us-east-1:${MANAGEMENT}:trail/flz-organization-trail`,
        deploymentRoleArn: "arn:aws:iam::*:role/FlzDeployment",
        memberRoleNames: ["FlzMemberResponder", "FlzMemberInvestigator"],
        forensicKeyArns: [`arn:aws:kms:us-east-1:${FORENSIC}:key/mrk-0123456789abcdef0123456789abcdef`],
        ...overrides,
      });
      return { protection: guardrails.protectionPolicyId, workload: guardrails.workloadPolicyId };
    };

  it("creates both SCP bundles in the management account and attaches each to the root", async () => {
    const run = await runProgram(program());
    const policies = ofType(run.resources, "aws:organizations/policy:Policy");
    expect(policies.map((p) => p.inputs.name)).to.have.members(["flz-protect-forensics", "flz-workload-baseline"]);
    for (const p of policies) {
      expect(p.inputs.type).to.equal("SERVICE_CONTROL_POLICY");
      expect(placementOf(run, p).account).to.equal(MANAGEMENT);
    }
    const attachments = ofType(run.resources, "aws:organizations/policyAttachment:PolicyAttachment");
    expect(attachments.map((a) => a.inputs.targetId)).to.deep.equal(["r-exam", "r-exam"]);
    const attachedIds = attachments.map((a) => a.inputs.policyId);
    expect(attachedIds).to.have.members(policies.map((p) => p.id));
  });

  it("puts the trail, role, organisation and key guardrails in the protection bundle, with the given ARNs", async () => {
    const run = await runProgram(program());
    const protection = ofType(run.resources, "aws:organizations/policy:Policy").find(
      (p) => p.inputs.name === "flz-protect-forensics",
    )!;
    const doc = parse<PolicyDocument>(protection.inputs.content);
    expect(doc.Statement.map((s) => s.Sid)).to.deep.equal([
      "FlzProtectOrganizationTrail",
      "FlzProtectForensicRoles",
      "FlzDenyLeaveOrganization",
      "FlzProtectForensicKeys",
    ]);
    expect(doc.Statement[0].Resource).to.equal(
      `arn:aws:cloudtrail:us-east-1:${MANAGEMENT}:trail/flz-organization-trail`,
    );
    expect(doc.Statement[1].Resource).to.include("arn:aws:iam::*:role/FlzMemberResponder");
    expect(doc.Statement[3].Resource).to.equal(`arn:aws:kms:*:${FORENSIC}:key/mrk-0123456789abcdef0123456789abcdef`);
    expect(String(protection.inputs.content).length).to.be.at.most(5120);
  });

  it("attaches the workload baseline to its own targets when given, and leaves out a bundle that is switched off", async () => {
    const run = await runProgram(program({ workloadTargetIds: ["ou-exam-workload1"], protectForensics: false }));
    const policies = ofType(run.resources, "aws:organizations/policy:Policy");
    expect(policies.map((p) => p.inputs.name)).to.deep.equal(["flz-workload-baseline"]);
    expect(
      ofType(run.resources, "aws:organizations/policyAttachment:PolicyAttachment").map((a) => a.inputs.targetId),
    ).to.deep.equal(["ou-exam-workload1"]);
  });

  for (const region of ["us-gov-west-1", "cn-north-1"])
    it(`creates no guardrail at all through a management provider in ${region}, whose partition the ARNs do not name`, async () => {
      // Organizations would accept the documents, and their arn:aws: resources would match nothing there.
      const error = await runProgram(
        program({
          managementProvider: providerIn("management", MANAGEMENT, region),
          alarmNamePrefix: "flz-",
          forensicAccountId: FORENSIC,
        }),
      ).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).to.match(/GuardrailPolicies "guardrails": the provider is in partition "aws-(us-gov|cn)"/);
    });

  it("attaches the alarm guardrail to a separate GuardDuty administrator too, and refuses one it cannot protect", async () => {
    const run = await runProgram(
      program({ alarmNamePrefix: "flz-alarms-", forensicAccountId: FORENSIC, detectionAdminAccountId: "444444444444" }),
    );
    const alarms = ofType(run.resources, "aws:organizations/policy:Policy").find(
      (p) => p.inputs.name === "flz-protect-alarms",
    )!;
    expect(
      ofType(run.resources, "aws:organizations/policyAttachment:PolicyAttachment")
        .filter((a) => a.inputs.policyId === alarms.id)
        .map((a) => a.inputs.targetId),
    ).to.deep.equal([FORENSIC, "444444444444"]);
    for (const [overrides, message] of [
      [{ detectionAdminAccountId: "444444444444" }, /detectionAdminAccountId needs alarmNamePrefix/],
      [
        { alarmNamePrefix: "flz-alarms-", forensicAccountId: FORENSIC, detectionAdminAccountId: "ou-exam-x" },
        /detectionAdminAccountId "ou-exam-x" is not a 12-digit account ID/,
      ],
    ] as const) {
      const error = await runProgram(program(overrides)).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).to.match(message);
    }
  });

  it("checks the management provider's partition before creating any guardrail", async () => {
    const run = await runProgram(program());
    const partitionCalls = run.calls.filter((c) => c.token === "aws:index/getPartition:getPartition");
    expect(partitionCalls).to.have.length(1);
    expect(ofType(run.resources, "aws:organizations/policy:Policy")).to.have.length(2);
  });

  it("refuses a target that is not a root, OU or account ID", async () => {
    const error = await runProgram(program({ targetIds: ["Root"] })).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).to.match(/target "Root" is not a root/);
  });
});

describe("DetectionDelegation", () => {
  const program =
    (overrides: Partial<ConstructorParameters<typeof DetectionDelegation>[1]> = {}) =>
    () => {
      const managementProviders = Object.fromEntries(
        REGIONS.map((r) => [r, providerIn(`management-${r}`, MANAGEMENT, r)]),
      );
      const adminProviders = Object.fromEntries(REGIONS.map((r) => [r, providerIn(`forensic-${r}`, FORENSIC, r)]));
      const detection = new DetectionDelegation("detection", {
        regions: REGIONS,
        managementProviders,
        adminProviders,
        adminAccountId: FORENSIC,
        organizationRootId: "r-exam",
        existingAccounts: [
          { id: MANAGEMENT, email: "management@example.com" },
          { id: FORENSIC, email: "forensics@example.com" },
          { id: "333333333333", email: "workload@example.com" },
        ],
        ...overrides,
      });
      return { admin: detection.adminAccountId };
    };

  it("registers the forensic account as delegated administrator of each service, in every region, from the management account", async () => {
    const run = await runProgram(program());
    // Security Hub is registered in the home region only: with central configuration the administrator designated
    // there is the administrator of every linked region.
    const hub = ofType(run.resources, "aws:securityhub/organizationAdminAccount:OrganizationAdminAccount");
    expect(hub.map((r) => [r.inputs.adminAccountId, placementOf(run, r)])).to.deep.equal([
      [FORENSIC, { account: MANAGEMENT, region: REGIONS[0] }],
    ]);
    for (const [type, key] of [
      ["aws:guardduty/organizationAdminAccount:OrganizationAdminAccount", "adminAccountId"],
      ["aws:detective/organizationAdminAccount:OrganizationAdminAccount", "accountId"],
    ]) {
      const registrations = ofType(run.resources, type);
      expect(
        registrations.map((r) => r.inputs[key]),
        type,
      ).to.deep.equal([FORENSIC, FORENSIC]);
      expect(
        registrations.map((r) => placementOf(run, r)),
        type,
      ).to.have.deep.members(REGIONS.map((region) => ({ account: MANAGEMENT, region })));
    }
  });

  it("auto-enables every member in every region through the administrator account's provider in that region", async () => {
    const run = await runProgram(program());
    const guardduty = ofType(run.resources, "aws:guardduty/organizationConfiguration:OrganizationConfiguration");
    expect(guardduty.map((r) => r.inputs.autoEnableOrganizationMembers)).to.deep.equal(["ALL", "ALL"]);
    const detective = ofType(run.resources, "aws:detective/organizationConfiguration:OrganizationConfiguration");
    expect(detective.map((r) => r.inputs.autoEnable)).to.deep.equal([true, true]);
    for (const r of [...guardduty, ...detective]) expect(placementOf(run, r).account, r.name).to.equal(FORENSIC);
    for (const list of [guardduty, detective])
      expect(list.map((r) => placementOf(run, r).region)).to.have.members(REGIONS);
    const features = ofType(
      run.resources,
      "aws:guardduty/organizationConfigurationFeature:OrganizationConfigurationFeature",
    );
    expect(features.map((f) => `${String(f.inputs.name)}:${String(f.inputs.autoEnable)}`)).to.have.members([
      "S3_DATA_EVENTS:ALL",
      "EBS_MALWARE_PROTECTION:ALL",
      "S3_DATA_EVENTS:ALL",
      "EBS_MALWARE_PROTECTION:ALL",
    ]);
  });

  it("covers today's accounts too: Security Hub by a central configuration policy on the root, Detective by members", async () => {
    const run = await runProgram(program());
    const [central] = ofType(run.resources, "aws:securityhub/organizationConfiguration:OrganizationConfiguration");
    expect(central.inputs).to.deep.include({
      autoEnable: false,
      autoEnableStandards: "NONE",
      organizationConfiguration: { configurationType: "CENTRAL" },
    });
    const [aggregator] = ofType(run.resources, "aws:securityhub/findingAggregator:FindingAggregator");
    expect(aggregator.inputs).to.deep.equal({ linkingMode: "SPECIFIED_REGIONS", specifiedRegions: REGIONS.slice(1) });
    const [policy] = ofType(run.resources, "aws:securityhub/configurationPolicy:ConfigurationPolicy");
    expect(policy.inputs.configurationPolicy).to.deep.include({
      serviceEnabled: true,
      enabledStandardArns: [
        `arn:aws:securityhub:${REGIONS[0]}::standards/aws-foundational-security-best-practices/v/1.0.0`,
      ],
    });
    const [association] = ofType(
      run.resources,
      "aws:securityhub/configurationPolicyAssociation:ConfigurationPolicyAssociation",
    );
    expect(association.inputs.targetId).to.equal("r-exam");
    for (const r of [central, aggregator, policy, association])
      expect(placementOf(run, r), r.name).to.deep.equal({ account: FORENSIC, region: REGIONS[0] });
    // Every existing account but the administrator itself becomes a member of each region's graph.
    const members = ofType(run.resources, "aws:detective/member:Member");
    expect(members.map((m) => `${String(m.inputs.accountId)}@${placementOf(run, m).region}`)).to.have.members(
      REGIONS.flatMap((r) => [`${MANAGEMENT}@${r}`, `333333333333@${r}`]),
    );
    expect(members.every((m) => m.inputs.disableEmailNotification === true)).to.equal(true);
  });

  it("adopts an existing detector, Security Hub and graph instead of creating them (creating again would fail)", async () => {
    const graph = `arn:aws:detective:${REGIONS[0]}:${FORENSIC}:graph:0123abcd`;
    const run = await runProgram(
      program({ adoptGuardDutyDetector: true, adoptSecurityHub: true, detectiveGraphArns: { [REGIONS[0]]: graph } }),
    );
    expect(ofType(run.resources, "aws:guardduty/detector:Detector")).to.have.length(0);
    expect(ofType(run.resources, "aws:securityhub/account:Account")).to.have.length(0);
    // Only the region without an adopted graph gets one.
    expect(ofType(run.resources, "aws:detective/graph:Graph").map((g) => placementOf(run, g).region)).to.deep.equal(
      REGIONS.slice(1),
    );
    const configs = ofType(run.resources, "aws:detective/organizationConfiguration:OrganizationConfiguration");
    expect(configs.find((c) => placementOf(run, c).region === REGIONS[0])?.inputs.graphArn).to.equal(graph);
    // The detector is read from the account (getDetector), one per region, through the administrator's provider.
    expect(run.calls.filter((c) => c.token === "aws:guardduty/getDetector:getDetector")).to.have.length(REGIONS.length);
  });

  it("points each organisation configuration at the administrator's own detector and graph", async () => {
    const run = await runProgram(program());
    const detectors = ofType(run.resources, "aws:guardduty/detector:Detector").map((d) => d.id);
    expect(
      ofType(run.resources, "aws:guardduty/organizationConfiguration:OrganizationConfiguration").map(
        (c) => c.inputs.detectorId,
      ),
    ).to.have.members(detectors);
  });

  it("leaves out a service that is switched off", async () => {
    const run = await runProgram(program({ securityHub: false, detective: false }));
    expect(
      run.resources.filter((r) => r.type.startsWith("aws:securityhub") || r.type.startsWith("aws:detective")),
    ).to.have.length(0);
    expect(ofType(run.resources, "aws:guardduty/organizationAdminAccount:OrganizationAdminAccount")).to.have.length(2);
  });

  it("names a region without a provider", async () => {
    const error = await runProgram(program({ regions: ["ap-south-1"] })).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).to.match(/no management provider for region "ap-south-1"/);
  });
});

describe("InvestigationWorkspace", () => {
  const program = () => () => {
    const ws = new InvestigationWorkspace("investigation", {
      provider: providerIn("forensic", FORENSIC, "us-east-1"),
      evidenceBucket: "flz-evidence-222222222222",
      resultsKmsKeyArn: `arn:aws:kms:us-east-1:${FORENSIC}:key/mrk-evidence`,
      trailBucket: "flz-trail-222222222222",
      organizationId: "o-exampleorg1",
      governedRegions: REGIONS,
    });
    return { workgroup: ws.workgroupName, results: ws.resultsLocation };
  };

  it("encrypts results with SSE-KMS into the evidence bucket, enforces the workgroup settings and caps bytes scanned", async () => {
    const run = await runProgram(program());
    const [workgroup] = ofType(run.resources, "aws:athena/workgroup:Workgroup");
    const config = workgroup.inputs.configuration as Record<string, unknown> & {
      resultConfiguration: Record<string, Record<string, unknown>>;
    };
    expect(config.enforceWorkgroupConfiguration).to.equal(true);
    expect(config.bytesScannedCutoffPerQuery).to.equal(1024 ** 4);
    expect(config.resultConfiguration.outputLocation).to.equal("s3://flz-evidence-222222222222/athena-results/");
    expect(config.resultConfiguration.encryptionConfiguration).to.deep.equal({
      encryptionOption: "SSE_KMS",
      kmsKeyArn: `arn:aws:kms:us-east-1:${FORENSIC}:key/mrk-evidence`,
    });
    expect(placementOf(run, workgroup).account).to.equal(FORENSIC);
  });

  it("defines the trail table with the CloudTrail SerDe and partition projection over account, region and date", async () => {
    const run = await runProgram(program());
    const [table] = ofType(run.resources, "aws:glue/catalogTable:CatalogTable");
    const params = table.inputs.parameters as Record<string, string>;
    expect(params["projection.enabled"]).to.equal("true");
    // Injected: an account created after deployment is queryable without touching the table.
    expect(params["projection.account.type"]).to.equal("injected");
    expect(params).to.not.have.property("projection.account.values");
    expect(params["storage.location.template"]).to.equal(
      "s3://flz-trail-222222222222/AWSLogs/o-exampleorg1/${account}/CloudTrail/${region}/${date}",
    );
    expect((table.inputs.partitionKeys as Array<{ name: string }>).map((k) => k.name)).to.deep.equal([
      "account",
      "region",
      "date",
    ]);
    const storage = table.inputs.storageDescriptor as {
      serDeInfo: { serializationLibrary: string };
      inputFormat: string;
      columns: Array<{ name: string }>;
    };
    expect(storage.serDeInfo.serializationLibrary).to.equal("com.amazon.emr.hive.serde.CloudTrailSerde");
    expect(storage.inputFormat).to.equal("com.amazon.emr.cloudtrail.CloudTrailInputFormat");
    expect(storage.columns.map((c) => c.name)).to.include.members([
      "useridentity",
      "eventname",
      "requestparameters",
      "resources",
    ]);
  });

  it("saves every hunt as a named query in the workgroup and database", async () => {
    const run = await runProgram(program());
    const queries = ofType(run.resources, "aws:athena/namedQuery:NamedQuery");
    expect(queries.length).to.be.at.least(12);
    for (const q of queries) {
      expect(q.inputs.workgroup).to.equal("flz-investigation");
      expect(q.inputs.database).to.equal("flz_investigation");
      expect(String(q.inputs.query)).to.match(/FROM flz_investigation\.organization_trail AS ct/);
    }
  });
});

describe("ForensicVpc", () => {
  const program = () => () => {
    const vpc = new ForensicVpc("forensic", {
      provider: providerIn("forensic", FORENSIC, "us-east-1"),
      region: "us-east-1",
      availabilityZones: ["us-east-1a", "us-east-1b"],
    });
    return { vpcId: vpc.vpcId };
  };

  it("has no internet or NAT gateway, no egress-only gateway and no routes out", async () => {
    const run = await runProgram(program());
    for (const type of [
      "aws:ec2/internetGateway:InternetGateway",
      "aws:ec2/natGateway:NatGateway",
      "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
      "aws:ec2/route:Route",
    ]) {
      expect(ofType(run.resources, type), type).to.have.length(0);
    }
    for (const table of ofType(run.resources, "aws:ec2/routeTable:RouteTable"))
      expect(table.inputs.routes ?? []).to.deep.equal([]);
    const subnets = ofType(run.resources, "aws:ec2/subnet:Subnet");
    expect(subnets.map((s) => s.inputs.availabilityZone)).to.deep.equal(["us-east-1a", "us-east-1b"]);
    for (const s of subnets) expect(s.inputs.mapPublicIpOnLaunch).to.equal(false);
  });

  it("has interface endpoints with private DNS for EC2, EBS, KMS, STS, SSM and CloudWatch Logs, and an S3 gateway endpoint", async () => {
    const run = await runProgram(program());
    const endpoints = ofType(run.resources, "aws:ec2/vpcEndpoint:VpcEndpoint");
    const interfaces = endpoints.filter((e) => e.inputs.vpcEndpointType === "Interface");
    expect(interfaces.map((e) => e.inputs.serviceName)).to.include.members(
      ["ec2", "ebs", "kms", "sts", "ssm", "logs"].map((s) => `com.amazonaws.us-east-1.${s}`),
    );
    for (const e of interfaces) expect(e.inputs.privateDnsEnabled, String(e.inputs.serviceName)).to.equal(true);
    const gateway = endpoints.filter((e) => e.inputs.vpcEndpointType === "Gateway");
    expect(gateway.map((e) => e.inputs.serviceName)).to.deep.equal(["com.amazonaws.us-east-1.s3"]);
  });

  it("admits only HTTPS from the VPC to the endpoints, and nothing at all to analysis instances", async () => {
    const run = await runProgram(program());
    const groups = ofType(run.resources, "aws:ec2/securityGroup:SecurityGroup");
    const endpointGroup = groups.find((g) => g.name === "forensic-endpoints")!;
    expect(endpointGroup.inputs.ingress).to.deep.equal([
      { description: "HTTPS from the VPC", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.77.0.0/16"] },
    ]);
    const analysis = groups.find((g) => g.name === "forensic-analysis")!;
    expect(analysis.inputs.ingress ?? []).to.deep.equal([]);
    const egress = analysis.inputs.egress as Array<{
      fromPort: number;
      toPort: number;
      cidrBlocks?: string[];
      securityGroups?: string[];
    }>;
    expect(egress.length).to.be.greaterThan(0);
    for (const rule of egress) {
      expect([rule.fromPort, rule.toPort]).to.deep.equal([443, 443]);
      expect(rule.cidrBlocks ?? []).to.deep.equal([]);
    }
    expect(egress[0].securityGroups).to.deep.equal([endpointGroup.id]);
  });

  it("logs all traffic to a KMS-encrypted log group through a role only VPC Flow Logs can assume", async () => {
    const run = await runProgram(program());
    const [flowLog] = ofType(run.resources, "aws:ec2/flowLog:FlowLog");
    expect(flowLog.inputs.trafficType).to.equal("ALL");
    expect(flowLog.inputs.logDestinationType).to.equal("cloud-watch-logs");
    const [logGroup] = ofType(run.resources, "aws:cloudwatch/logGroup:LogGroup");
    expect(flowLog.inputs.logDestination).to.match(/forensic-flow-logs$/);
    expect(logGroup.inputs.kmsKeyId).to.match(/^arn:aws:kms:/);
    const [role] = ofType(run.resources, "aws:iam/role:Role");
    const trust = parse<PolicyDocument>(role.inputs.assumeRolePolicy);
    expect(trust.Statement[0].Principal).to.deep.equal({ Service: "vpc-flow-logs.amazonaws.com" });
  });
});

describe("IncidentAlarms", () => {
  const BREAK_GLASS = `arn:aws:iam::${FORENSIC}:role/FlzBreakGlass`;
  const program =
    (withManagement = false) =>
    () => {
      const alarms = new IncidentAlarms("alarms", {
        provider: providerIn("forensic", FORENSIC, "us-east-1"),
        breakGlassRoleArn: BREAK_GLASS,
        subscriptions: [{ protocol: "email", endpoint: "soc@example.com" }],
        ...(withManagement
          ? { managementProvider: providerIn("management", MANAGEMENT, "us-east-1"), managementAccountId: MANAGEMENT }
          : {}),
      });
      return { topic: alarms.topicArn };
    };
  const rule = (run: { resources: RecordedResource[] }, name: string) =>
    ofType(run.resources, "aws:cloudwatch/eventRule:EventRule").find((r) => r.name === name)!;

  it("alarms on assumption of the break-glass role, by its ARN", async () => {
    const run = await runProgram(program());
    expect(parse(rule(run, "alarms-break-glass").inputs.eventPattern)).to.deep.equal({
      source: ["aws.sts"],
      "detail-type": ["AWS API Call via CloudTrail"],
      detail: {
        eventSource: ["sts.amazonaws.com"],
        eventName: ["AssumeRole"],
        requestParameters: { roleArn: [BREAK_GLASS] },
      },
    });
  });

  it("alarms on every call that stops, deletes or narrows a trail", async () => {
    const run = await runProgram(program());
    const pattern = parse<{ detail: { eventName: string[] } }>(rule(run, "alarms-trail-change").inputs.eventPattern);
    expect(pattern.detail.eventName).to.have.members([
      "StopLogging",
      "DeleteTrail",
      "UpdateTrail",
      "PutEventSelectors",
      "PutInsightSelectors",
    ]);
  });

  it("alarms on GuardDuty findings of severity 7 and above", async () => {
    const run = await runProgram(program());
    expect(parse(rule(run, "alarms-guardduty-high").inputs.eventPattern)).to.deep.equal({
      source: ["aws.guardduty"],
      "detail-type": ["GuardDuty Finding"],
      detail: { severity: [{ numeric: [">=", 7] }] },
    });
  });

  it("delivers to a topic encrypted with its own key, which EventBridge may use and only the rules may publish to", async () => {
    const run = await runProgram(program());
    const [topic] = ofType(run.resources, "aws:sns/topic:Topic");
    const [key] = ofType(run.resources, "aws:kms/key:Key");
    expect(topic.inputs.kmsMasterKeyId).to.equal(`arn:aws:kms:us-east-1:${MANAGEMENT}:key/mrk-${key.name}`);
    const keyPolicy = parse<PolicyDocument>(key.inputs.policy);
    const events = keyPolicy.Statement.find(
      (s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: "events.amazonaws.com" }),
    )!;
    expect(events.Action).to.include("kms:GenerateDataKey*");
    const targets = ofType(run.resources, "aws:cloudwatch/eventTarget:EventTarget");
    expect(targets).to.have.length(3);
    const [policy] = ofType(run.resources, "aws:sns/topicPolicy:TopicPolicy");
    const publish = parse<PolicyDocument>(policy.inputs.policy).Statement.filter((s) =>
      ([] as string[]).concat(s.Action ?? []).includes("sns:Publish"),
    );
    expect(publish).to.have.length(1);
    const ruleArns = ofType(run.resources, "aws:cloudwatch/eventRule:EventRule").map(
      (r) => `arn:aws:mock:us-east-1:${MANAGEMENT}:${r.name}`,
    );
    expect(
      (publish[0].Condition as { ArnEquals: Record<string, string[]> }).ArnEquals["aws:SourceArn"],
    ).to.have.members(ruleArns);
    const [sub] = ofType(run.resources, "aws:sns/topicSubscription:TopicSubscription");
    expect([sub.inputs.protocol, sub.inputs.endpoint]).to.deep.equal(["email", "soc@example.com"]);
  });

  it("forwards trail changes from the management account to the forensic account's bus when asked", async () => {
    const run = await runProgram(program(true));
    const forward = rule(run, "alarms-forward-trail-change");
    expect(placementOf(run, forward).account).to.equal(MANAGEMENT);
    const [target] = ofType(run.resources, "aws:cloudwatch/eventTarget:EventTarget").filter(
      (t) => t.name === "alarms-forward-trail-change",
    );
    expect(target.inputs.arn).to.match(/:event-bus\/default$/);
    const [busPolicy] = ofType(run.resources, "aws:cloudwatch/eventBusPolicy:EventBusPolicy");
    expect(parse<PolicyDocument>(busPolicy.inputs.policy).Statement[0].Principal).to.deep.equal({
      AWS: `arn:aws:iam::${MANAGEMENT}:root`,
    });
    expect(placementOf(run, busPolicy).account).to.equal(FORENSIC);
  });
});
