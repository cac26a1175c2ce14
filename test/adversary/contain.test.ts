/**
 * Adversary suite, containment (docs/threat-model.md, "Containment"): each test plays an attacker with plain SDK calls
 * against the emulator (a member-account administrator, a management-account principal, a stolen responder session)
 * and asserts the defence; whether AWS would allow a call is decided by the IAM evaluator over the documents the stack
 * deploys, together (identity policies, the guardrail and quarantine SCPs, the Organizations delegation policy).
 */
import { expect } from "chai";
import { EC2Client, ModifyNetworkInterfaceAttributeCommand } from "@aws-sdk/client-ec2";
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import { DetachPolicyCommand, OrganizationsClient, UpdatePolicyCommand } from "@aws-sdk/client-organizations";
import {
  IAM_ESCALATION_ACTIONS,
  MEMBER_RESPONDER_LOGICAL_ID,
  combineScps,
  denyLeaveOrganizationScp,
  forensicResponderPermissions,
  memberRolesTemplate,
  protectForensicKeysScp,
  protectForensicRolesScp,
  protectTrailScp,
  quarantineDelegationPolicy,
  quarantineDocument,
  type PolicyDocument,
  type PolicyStatement,
} from "../../components/documents";
import { deactivateAccessKey } from "../../scripts/contain/access-key";
import { containInstance } from "../../scripts/contain/instance";
import { revokeSessions } from "../../scripts/contain/sessions";
import { containmentStatus } from "../../scripts/contain/status";
import { undoAction } from "../../scripts/contain/undo";
import { SEED_ACCOUNTS } from "../../scripts/emulator/seed";
import { UsageError } from "../../scripts/errors";
import { useEmulator } from "../support/emulator";
import { FULL_AWS_ACCESS, evaluate, roleSession, userCaller, type Principal } from "../scripts/contain/evaluator";
import {
  containWorld,
  instanceState,
  launch,
  MEMBER,
  network,
  quarantinePolicies,
  type ContainWorld,
} from "../scripts/contain/fixtures";

const { management: MANAGEMENT, forensic: FORENSIC } = SEED_ACCOUNTS;
const ORG = "o-exampleorg1";
const NOW = new Date("2026-03-02T00:00:00Z");
const BEFORE = "2026-03-01T09:00:00Z";
const TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});
const ADMIN: PolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
const RESPONDER_ARN = `arn:aws:iam::${FORENSIC}:role/FlzForensicResponder`;

/** The guardrail protection bundle as GuardrailPolicies attaches it at the root. */
const GUARDRAILS = combineScps("flz-protect-forensics", [
  protectTrailScp({
    trailArn: `arn:aws:cloudtrail:us-east-1:${MANAGEMENT}:trail/flz-organization-trail`,
    deploymentRoleArn: "arn:aws:iam::*:role/OrganizationAccountAccessRole",
  }),
  protectForensicRolesScp({
    roleNames: ["FlzMemberResponder", "FlzMemberInvestigator"],
    stackSetExecutionRoleName: "stacksets-exec-*",
    deploymentRoleArn: "arn:aws:iam::*:role/OrganizationAccountAccessRole",
  }),
  denyLeaveOrganizationScp(),
  protectForensicKeysScp({
    keysByTag: { accountId: FORENSIC },
    deploymentRoleArn: "arn:aws:iam::*:role/OrganizationAccountAccessRole",
  }),
]);
const SCPS = [[FULL_AWS_ACCESS, GUARDRAILS], [FULL_AWS_ACCESS]];

/** The member responder's policy exactly as the StackSet template deploys it. */
function memberResponderPolicy(): PolicyDocument {
  const template = memberRolesTemplate({
    forensicResponderRoleArn: RESPONDER_ARN,
    forensicInvestigatorRoleArn: `arn:aws:iam::${FORENSIC}:role/FlzForensicInvestigator`,
    responderRoleName: "FlzMemberResponder",
    investigatorRoleName: "FlzMemberInvestigator",
    evidenceKeyArns: [`arn:aws:kms:us-east-1:${FORENSIC}:key/mrk-0123456789abcdef0123456789abcdef`],
  });
  return template.Resources[MEMBER_RESPONDER_LOGICAL_ID].Properties.Policies[0].PolicyDocument as PolicyDocument;
}

const forensicResponder = (): Principal =>
  roleSession(
    FORENSIC,
    "FlzForensicResponder",
    "2026-03-01T11:00:00Z",
    forensicResponderPermissions({
      memberResponderRoleName: "FlzMemberResponder",
      evidenceBucketArn: "arn:aws:s3:::flz-evidence-222222222222",
      evidenceKeyArns: [`arn:aws:kms:us-east-1:${FORENSIC}:key/mrk-0123456789abcdef0123456789abcdef`],
      signingKeyArn: `arn:aws:kms:us-east-1:${FORENSIC}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      organizationId: ORG,
    }),
  );

describe("adversary: containment", function () {
  this.timeout(60000);

  describe("in the emulator", () => {
    useEmulator();
    let world: ContainWorld;
    beforeEach(async () => {
      world = await containWorld();
    });
    afterEach(() => world.close());
    const managementOrg = () => world.adminOf(OrganizationsClient, MANAGEMENT);

    it("neutered revocation: a statement rewritten to deny a non-existent action is reported, then restored", async () => {
      await world.owner(IAMClient).send(new CreateRoleCommand({ RoleName: "app", AssumeRolePolicyDocument: TRUST }));
      await revokeSessions(world.context(), { role: "app", before: BEFORE, now: NOW });
      const [policy] = await quarantinePolicies(world);
      const neutered = policy.statements.map((s) => ({ ...s, Action: "iam:NoSuchAction" }));
      // The attacker: a management-account principal (SCPs never bind it), keeping the cutoff so it looks in place.
      await managementOrg().send(
        new UpdatePolicyCommand({ PolicyId: policy.id, Content: JSON.stringify(quarantineDocument(neutered)) }),
      );
      // What the neutered policy let through, and what the restored one stops (evaluator).
      const stolen = roleSession(MEMBER, "app", "2026-03-01T08:00:00Z", ADMIN);
      const read = (scp: PolicyDocument) =>
        evaluate({
          caller: stolen,
          action: "s3:GetObject",
          resource: "arn:aws:s3:::payroll/x",
          resourceAccount: MEMBER,
          scps: [[FULL_AWS_ACCESS], [FULL_AWS_ACCESS, scp]],
        });
      expect(await read(quarantineDocument(neutered))).to.equal("Allowed");

      const status = await containmentStatus({ factory: world.context().factory, ledger: world.ledger });
      expect(status.containments[0].state).to.equal("drifted");
      expect(status.containments[0].findings[0]).to.match(
        /statement FlzQ[0-9a-f]{24} was altered \(now .*iam:NoSuchAction/,
      );

      const rerun = await revokeSessions(world.context(), { role: "app", before: BEFORE, now: NOW });
      expect(rerun.notes[0]).to.match(/^drift: .* was altered/);
      const [restored] = await quarantinePolicies(world);
      expect(await read(quarantineDocument(restored.statements))).to.equal("ExplicitlyDenied");
      expect(
        (await containmentStatus({ factory: world.context().factory, ledger: world.ledger })).containments[0].state,
      ).to.equal("in-effect");
    });

    it("a member administrator cannot detach the quarantine SCP (the account is not delegated)", async () => {
      await world.owner(IAMClient).send(new CreateRoleCommand({ RoleName: "app", AssumeRolePolicyDocument: TRUST }));
      await revokeSessions(world.context(), { role: "app", before: BEFORE, now: NOW });
      const [policy] = await quarantinePolicies(world);
      const refused = await world
        .owner(OrganizationsClient)
        .send(new DetachPolicyCommand({ PolicyId: policy.id, TargetId: MEMBER }))
        .catch((e: Error) => e.name);
      expect(refused).to.equal("AccessDeniedException");
      expect((await quarantinePolicies(world))[0].attached).to.equal(true);
    });

    it("re-activated key: reported by the drift check; the user's earlier sessions stay denied", async () => {
      const iam = world.owner(IAMClient);
      await iam.send(new CreateUserCommand({ UserName: "ci-bot" }));
      const key = (await iam.send(new CreateAccessKeyCommand({ UserName: "ci-bot" }))).AccessKey?.AccessKeyId ?? "";
      await deactivateAccessKey(world.context(), { user: "ci-bot", key, sessionsBefore: BEFORE, now: NOW });
      // The intruder, holding administrator rights in the member account, turns the key back on.
      await iam.send(new UpdateAccessKeyCommand({ UserName: "ci-bot", AccessKeyId: key, Status: "Active" }));
      const status = await containmentStatus({ factory: world.context().factory, ledger: world.ledger });
      expect(status.containments[0].findings).to.deep.equal([`access key ${key} of user ci-bot was re-activated`]);
      // A GetSessionToken session the intruder made with the key before the cutoff is still denied.
      const [policy] = await quarantinePolicies(world);
      const verdict = await evaluate({
        caller: userCaller(MEMBER, "ci-bot", "2026-03-01T08:00:00Z", ADMIN),
        action: "s3:GetObject",
        resource: "arn:aws:s3:::payroll/x",
        resourceAccount: MEMBER,
        scps: [[FULL_AWS_ACCESS], [FULL_AWS_ACCESS, quarantineDocument(policy.statements)]],
      });
      expect(verdict).to.equal("ExplicitlyDenied");
    });

    it("groups changed back: reported by the drift check, and a rerun isolates the interface again", async () => {
      const ec2 = world.owner(EC2Client);
      const net = await network(ec2);
      const id = await launch(ec2, net);
      await containInstance(world.context(), { instanceId: id, now: NOW });
      const eni = Object.keys((await instanceState(ec2, id)).interfaces)[0];
      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: [net.appGroup] }));
      const status = await containmentStatus({ factory: world.context().factory, ledger: world.ledger });
      expect(status.containments[0].findings).to.deep.equal([
        `interface ${eni} is no longer isolated: its groups are [${net.appGroup}]`,
      ]);
      await containInstance(world.context(), { instanceId: id, now: NOW });
      expect(
        (await containmentStatus({ factory: world.context().factory, ledger: world.ledger })).containments.map(
          (c) => c.state,
        ),
      ).to.deep.equal(["in-effect"]);
    });

    it("undo over a later containment of the same target is refused, naming the later record", async () => {
      await world.owner(IAMClient).send(new CreateRoleCommand({ RoleName: "app", AssumeRolePolicyDocument: TRUST }));
      const first = await revokeSessions(world.context(), { role: "app", before: "2026-03-01T08:00:00Z", now: NOW });
      const later = await revokeSessions(world.context(), { role: "app", before: BEFORE, now: NOW });
      const refused = await undoAction(world.context(), { sequence: first.record?.sequence ?? -1 }).catch(
        (e: unknown) => e,
      );
      expect(refused).to.be.instanceOf(UsageError);
      expect((refused as Error).message).to.match(
        new RegExp(`^record ${later.record?.sequence} \\(contain.sessions.revoked\\) changed`),
      );
      expect((await quarantinePolicies(world))[0].statements).to.have.length(1);
    });
  });

  describe("evaluated (IAM evaluator over the deployed documents)", () => {
    const memberResponder = () =>
      roleSession(MEMBER, "FlzMemberResponder", "2026-03-01T11:00:00Z", memberResponderPolicy());
    const iamTarget = (action: string, name: string): string =>
      action === "iam:AddUserToGroup"
        ? `arn:aws:iam::${MEMBER}:group/${name}`
        : /User|AccessKey|LoginProfile/.test(action)
          ? `arn:aws:iam::${MEMBER}:user/${name}`
          : action.includes("PolicyVersion")
            ? `arn:aws:iam::${MEMBER}:policy/${name}`
            : action === "iam:PutGroupPolicy" || action === "iam:AttachGroupPolicy"
              ? `arn:aws:iam::${MEMBER}:group/${name}`
              : `arn:aws:iam::${MEMBER}:role/${name}`;

    it("a stolen member responder session cannot grant itself or anyone a permission in the member account", async () => {
      for (const action of IAM_ESCALATION_ACTIONS) {
        for (const name of ["FlzMemberResponder", "WebAppRole", "admin"]) {
          const verdict = await evaluate({
            caller: memberResponder(),
            action,
            resource: iamTarget(action, name),
            resourceAccount: MEMBER,
            scps: SCPS,
          });
          expect(verdict, `${action} on ${name}`).to.not.equal("Allowed");
        }
      }
    });

    it("a stolen forensic responder session cannot lift, change or re-tag a guardrail SCP", async () => {
      const delegation = quarantineDelegationPolicy({
        organizationId: ORG,
        managementAccountId: MANAGEMENT,
        responderRoleArn: RESPONDER_ARN,
      });
      const guardrail = `arn:aws:organizations::${MANAGEMENT}:policy/${ORG}/service_control_policy/p-guardrail1`;
      const context = {
        "organizations:PolicyType": "SERVICE_CONTROL_POLICY",
        "aws:ResourceTag/flz:purpose": "guardrail",
      };
      const attempts: [string, Record<string, string | string[]>][] = [
        ["organizations:DetachPolicy", {}],
        ["organizations:UpdatePolicy", {}],
        ["organizations:DeletePolicy", {}],
        ["organizations:TagResource", { "aws:RequestTag/flz:purpose": "quarantine", "aws:TagKeys": ["flz:purpose"] }],
        ["organizations:UntagResource", { "aws:TagKeys": ["flz:purpose"] }],
      ];
      for (const [action, extra] of attempts) {
        const verdict = await evaluate({
          caller: forensicResponder(),
          action,
          resource: guardrail,
          resourceAccount: MANAGEMENT,
          resourcePolicy: delegation,
          context: { ...context, ...extra },
          scps: [[FULL_AWS_ACCESS, GUARDRAILS], [FULL_AWS_ACCESS]],
        });
        expect(verdict, action).to.equal("ExplicitlyDenied");
      }
    });

    it("a stolen forensic responder session cannot write IAM policies anywhere, its own role included", async () => {
      for (const action of [
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "iam:CreatePolicyVersion",
        "iam:UpdateAssumeRolePolicy",
      ]) {
        for (const [account, role] of [
          [FORENSIC, "FlzForensicResponder"],
          [MEMBER, "WebAppRole"],
        ]) {
          const verdict = await evaluate({
            caller: forensicResponder(),
            action,
            resource: action.includes("PolicyVersion")
              ? `arn:aws:iam::${account}:policy/x`
              : `arn:aws:iam::${account}:role/${role}`,
            resourceAccount: account,
            scps: SCPS,
          });
          expect(verdict, `${action} in ${account}`).to.not.equal("Allowed");
        }
      }
    });

    it("whatever a quarantine SCP says, it grants nothing: an Allow * in it leaves an unpermitted call denied", async () => {
      const allowAll: PolicyStatement = { Sid: "Sneaky", Effect: "Allow", Action: "*", Resource: "*" };
      const verdict = await evaluate({
        caller: roleSession(MEMBER, "ReadOnly", "2026-03-01T11:00:00Z", {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
        }),
        action: "iam:CreateUser",
        resource: `arn:aws:iam::${MEMBER}:user/backdoor`,
        resourceAccount: MEMBER,
        scps: [
          [FULL_AWS_ACCESS, GUARDRAILS],
          [FULL_AWS_ACCESS, quarantineDocument([allowAll])],
        ],
      });
      expect(verdict).to.equal("ImplicitlyDenied");
    });

    it("a member administrator cannot manage the organisation's SCPs: the delegation names the forensic responder only", async () => {
      const delegation = quarantineDelegationPolicy({
        organizationId: ORG,
        managementAccountId: MANAGEMENT,
        responderRoleArn: RESPONDER_ARN,
      });
      const quarantine = `arn:aws:organizations::${MANAGEMENT}:policy/${ORG}/service_control_policy/p-quarant1`;
      for (const action of ["organizations:DetachPolicy", "organizations:UpdatePolicy", "organizations:DeletePolicy"]) {
        const verdict = await evaluate({
          caller: roleSession(MEMBER, "Administrator", "2026-03-01T11:00:00Z", ADMIN),
          action,
          resource: quarantine,
          resourceAccount: MANAGEMENT,
          resourcePolicy: delegation,
          context: {
            "organizations:PolicyType": "SERVICE_CONTROL_POLICY",
            "aws:ResourceTag/flz:purpose": "quarantine",
          },
          scps: SCPS,
        });
        expect(verdict, action).to.not.equal("Allowed");
      }
    });
  });
});
