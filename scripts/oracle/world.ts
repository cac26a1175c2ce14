/**
 * The authorization world of a landing zone: every policy document that would be in force on AWS for the emulator's
 * organisation (identity, trust, bucket, key, SCP and RCP documents), built with the same pure builders
 * (`components/documents/`) and the same arguments the stack's components pass them. The drill's seed attaches these
 * documents to the emulator, and the authorization oracle evaluates every recorded call against them; a test runs the
 * real stack program under the mock engine with a matching configuration and checks that it registers exactly these
 * documents (`test/support/oracle/world.test.ts`), so this file cannot drift from the stack unnoticed.
 *
 * Pure: no AWS calls, no Pulumi.
 */
import {
  AUTOMATION_FUNCTIONS,
  automationFunctionPermissions,
  serviceRoleTrust,
} from "../../components/documents/automation";
import {
  combineScps,
  custodySigningKeyPolicy,
  denyLeaveOrganizationScp,
  evidenceBucketPolicy,
  evidenceKeyPolicy,
  forensicInvestigatorPermissions,
  forensicResponderPermissions,
  forensicRoleTrust,
  KEY_PURPOSE,
  MEMBER_INVESTIGATOR_LOGICAL_ID,
  MEMBER_RESPONDER_LOGICAL_ID,
  memberRolesTemplate,
  protectForensicKeysScp,
  protectForensicResourcesRcp,
  protectForensicResourcesScp,
  protectAutomationScp,
  freezeOptOutTagScp,
  protectAlarmsScp,
  protectForensicRolesScp,
  protectTrailScp,
  quarantineDelegationPolicy,
  trailBucketPolicy,
  trailKeyPolicy,
  type ForensicResourceProtection,
} from "../../components/documents";

import type { OracleWorld, WorldArgs, WorldRole } from "./world-types";

export type { NamedDocument, OracleWorld, WorldArgs, WorldBucket, WorldOrgPolicies, WorldRole } from "./world-types";

const roleArn = (account: string, name: string): string => `arn:aws:iam::${account}:role/${name}`;
const bucketArn = (name: string): string => `arn:aws:s3:::${name}`;

/**
 * The roles of the response automation's acting functions as ResponseAutomation deploys them (default name prefix
 * `flz-automation`): Lambda's trust, and the function's own identity policy (assume the forensic responder, write
 * its log group). What each may do through the responder is narrowed further by its session policies
 * (automation-sessions.ts), which the oracle evaluates from the sessions themselves.
 */
function automationWorldRoles(forensic: string, region: string, responderArn: string): WorldRole[] {
  return AUTOMATION_FUNCTIONS.filter((fn) => fn !== "dispatch").map((fn) => {
    const name = `flz-automation-${fn}`;
    return {
      name,
      accounts: [forensic],
      trust: {
        name: "trust policy",
        builder: "serviceRoleTrust",
        document: serviceRoleTrust("lambda.amazonaws.com", forensic),
      },
      policies: [
        {
          name,
          builder: "automationFunctionPermissions",
          document: automationFunctionPermissions({
            fn,
            logGroupArn: `arn:aws:logs:${region}:${forensic}:log-group:/aws/lambda/${name}`,
            forensicResponderRoleArn: responderArn,
            stateMachineArn: `arn:aws:states:${region}:${forensic}:stateMachine:flz-automation-response`,
          }),
        },
      ],
      managedPolicyArns: [],
    };
  });
}

/** Builds the world from the organisation's names, with the arguments the stack's components give the builders. */
export function buildWorld(args: WorldArgs): OracleWorld {
  const forensic = args.forensicAccountId;
  const names = args.roleNames;
  const responderArn = roleArn(forensic, names.forensicResponder);
  const investigatorArn = roleArn(forensic, names.forensicInvestigator);
  const keysByTag = { accountId: forensic };
  const evidenceArn = bucketArn(args.evidenceBucket);
  const trailBucketArn = bucketArn(args.trailBucket);
  const trust = {
    name: "trust policy",
    builder: "forensicRoleTrust",
    document: forensicRoleTrust({ trustedPrincipalArns: [args.operatorArn], organizationId: args.organizationId }),
  };
  // The response automation's acting functions (ResponseAutomation, automation switched on): each its own role,
  // trusted by the forensic responder as the stack's memberRoles wiring adds them (`automationRoleArns`).
  const automation = args.automation ? automationWorldRoles(forensic, args.homeRegion, responderArn) : [];
  const responderTrust = {
    name: "trust policy",
    builder: "forensicRoleTrust",
    document: forensicRoleTrust({
      trustedPrincipalArns: [args.operatorArn, ...automation.map((r) => roleArn(forensic, r.name))],
      organizationId: args.organizationId,
    }),
  };
  // MemberRoles: the StackSet template with the keys named by tag (no evidenceKeyArns), as the stack deploys it.
  const template = memberRolesTemplate({
    forensicResponderRoleArn: responderArn,
    forensicInvestigatorRoleArn: investigatorArn,
    responderRoleName: names.memberResponder,
    investigatorRoleName: names.memberInvestigator,
    keysByTag,
    maxSessionSeconds: 3600,
    forensicAccountId: forensic,
  });
  const memberRole = (logicalId: string, name: string): WorldRole => {
    const properties = template.Resources[logicalId].Properties;
    return {
      name,
      accounts: args.memberAccountIds,
      trust: { name: "trust policy", builder: "memberRoleTrust", document: properties.AssumeRolePolicyDocument },
      policies: (properties.Policies ?? []).map((p) => ({
        name: p.PolicyName,
        builder:
          logicalId === MEMBER_RESPONDER_LOGICAL_ID ? "memberResponderPermissions" : "memberInvestigatorPermissions",
        document: p.PolicyDocument,
      })),
      managedPolicyArns: properties.ManagedPolicyArns ?? [],
    };
  };
  const deploymentRoleArn = `arn:aws:iam::*:role/${args.deploymentRoleName}`;
  // What ForensicLandingZone passes as `protection`: the deployment acts in the forensic account as its admin role,
  // and the access-log buckets are `<bucket>-logs`.
  const deploymentPrincipalArn = roleArn(forensic, args.deploymentRoleName);
  const protection: ForensicResourceProtection = {
    evidenceBucketArn: evidenceArn,
    trailBucketArn,
    accessLogBucketArns: [bucketArn(`${args.trailBucket}-logs`), bucketArn(`${args.evidenceBucket}-logs`)],
    deploymentPrincipalArn,
    caseWriterArns: [responderArn],
    keys: keysByTag,
  };
  return {
    organizationId: args.organizationId,
    rootId: args.rootId,
    managementAccountId: args.managementAccountId,
    forensicAccountId: forensic,
    memberAccountIds: args.memberAccountIds,
    homeRegion: args.homeRegion,
    regions: args.regions,
    operator: {
      arn: args.operatorArn,
      policies: [
        {
          name: "incident-response permission set",
          builder: "assumed",
          document: {
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "AssumeForensicRoles",
                Effect: "Allow",
                Action: ["sts:AssumeRole", "sts:TagSession"],
                Resource: [responderArn, investigatorArn],
              },
            ],
          },
        },
      ],
    },
    roles: [
      {
        name: names.forensicResponder,
        accounts: [forensic],
        trust: responderTrust,
        policies: [
          {
            name: "flz-forensic-responder",
            builder: "forensicResponderPermissions",
            document: forensicResponderPermissions({
              memberResponderRoleName: names.memberResponder,
              evidenceBucketArn: evidenceArn,
              keysByTag,
              organizationId: args.organizationId,
            }),
          },
        ],
        managedPolicyArns: [],
      },
      {
        name: names.forensicInvestigator,
        accounts: [forensic],
        trust,
        policies: [
          {
            name: "flz-forensic-investigator",
            builder: "forensicInvestigatorPermissions",
            document: forensicInvestigatorPermissions({
              memberInvestigatorRoleName: names.memberInvestigator,
              trailBucketArn,
              evidenceBucketArn: evidenceArn,
              keysByTag,
              organizationId: args.organizationId,
              athenaResultsBucketArn: evidenceArn,
              athenaResultsPrefix: args.athenaResultsPrefix,
            }),
          },
        ],
        managedPolicyArns: [],
      },
      memberRole(MEMBER_RESPONDER_LOGICAL_ID, names.memberResponder),
      memberRole(MEMBER_INVESTIGATOR_LOGICAL_ID, names.memberInvestigator),
      ...automation,
    ],
    buckets: [
      {
        name: args.evidenceBucket,
        account: forensic,
        policy: {
          name: "bucket policy",
          builder: "evidenceBucketPolicy",
          document: evidenceBucketPolicy({ bucketArn: evidenceArn, organizationId: args.organizationId, protection }),
        },
        keyPurpose: KEY_PURPOSE.evidence,
      },
      {
        name: args.trailBucket,
        account: forensic,
        policy: {
          name: "bucket policy",
          builder: "trailBucketPolicy",
          document: trailBucketPolicy({
            bucketArn: trailBucketArn,
            organizationId: args.organizationId,
            managementAccountId: args.managementAccountId,
            trailArn: args.trailArn,
            protection,
          }),
        },
        keyPurpose: KEY_PURPOSE.trail,
      },
    ],
    keyPolicies: {
      [KEY_PURPOSE.evidence]: {
        name: "key policy",
        builder: "evidenceKeyPolicy",
        document: evidenceKeyPolicy({
          keyAccountId: forensic,
          organizationId: args.organizationId,
          memberResponderRoleName: names.memberResponder,
          forensicRoleArns: [responderArn, investigatorArn],
          deploymentPrincipalArn,
        }),
      },
      [KEY_PURPOSE.trail]: {
        name: "key policy",
        builder: "trailKeyPolicy",
        document: trailKeyPolicy({
          keyAccountId: forensic,
          managementAccountId: args.managementAccountId,
          organizationId: args.organizationId,
          trailArn: args.trailArn,
          investigatorRoleArns: [investigatorArn],
          deploymentPrincipalArn,
        }),
      },
      [KEY_PURPOSE.signing]: {
        name: "key policy",
        builder: "custodySigningKeyPolicy",
        document: custodySigningKeyPolicy({
          keyAccountId: forensic,
          organizationId: args.organizationId,
          signerRoleArn: responderArn,
          deploymentPrincipalArn,
        }),
      },
    },
    serviceControlPolicies: [
      {
        target: args.rootId,
        policies: [
          {
            name: "flz-protect-forensics",
            builder:
              "protectTrailScp + protectForensicRolesScp + denyLeaveOrganizationScp + protectForensicKeysScp + protectForensicResourcesScp",
            document: combineScps("flz-protect-forensics", [
              protectTrailScp({ trailArn: args.trailArn, deploymentRoleArn }),
              protectForensicRolesScp({
                roleNames: [names.memberResponder, names.memberInvestigator],
                stackSetExecutionRoleName: "stacksets-exec-*",
                deploymentRoleArn,
                // The operator's role lives in the management account, so no trusted role of the forensic account
                // joins the three the stack always freezes.
                forensicRoleArns: [
                  responderArn,
                  investigatorArn,
                  roleArn(forensic, names.breakGlass),
                  ...automation.map((r) => roleArn(forensic, r.name)),
                ],
              }),
              denyLeaveOrganizationScp(),
              protectForensicKeysScp({ keysByTag, deploymentRoleArn }),
              protectForensicResourcesScp(protection),
            ]),
          },
          // The stack's default: no opt-out tag managers besides the deployment role.
          ...(args.automation
            ? [
                {
                  name: "flz-automation-opt-out",
                  builder: "freezeOptOutTagScp",
                  document: freezeOptOutTagScp({ deploymentRoleArn }),
                },
              ]
            : []),
        ],
      },
      {
        target: forensic,
        policies: [
          // The stack's default: alarms on, under the landing zone's name `flz`.
          {
            name: "flz-protect-alarms",
            builder: "protectAlarmsScp",
            document: protectAlarmsScp({ namePrefix: "flz-alarms-", deploymentRoleArn }),
          },
          ...(args.automation
            ? [
                {
                  name: "flz-protect-automation",
                  builder: "protectAutomationScp",
                  document: protectAutomationScp({
                    forensicAccountId: forensic,
                    namePrefix: "flz-automation",
                    deploymentRoleArn,
                  }),
                },
              ]
            : []),
        ],
      },
    ],
    resourceControlPolicies: [
      {
        target: args.rootId,
        policies: [
          {
            name: "flz-protect-evidence",
            builder: "protectForensicResourcesRcp",
            document: protectForensicResourcesRcp(protection),
          },
        ],
      },
    ],
    // QuarantineDelegation (on by default): the forensic responder manages the organisation's quarantine SCPs.
    organizationsResourcePolicy: {
      name: "organizations resource policy",
      builder: "quarantineDelegationPolicy",
      document: quarantineDelegationPolicy({
        organizationId: args.organizationId,
        managementAccountId: args.managementAccountId,
        responderRoleArn: responderArn,
      }),
    },
    outsideRoles: {
      [args.deploymentRoleName]:
        "the organisation's administrator role in each account: the tests and the drill use it to build what the " +
        "deployment (pulumi up, the StackSet), an account owner or the attacker would have built",
    },
  };
}
