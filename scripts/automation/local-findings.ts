/**
 * GuardDuty finding events in AWS's published format (GuardDuty user guide, "Finding format"), for the offline runs
 * of the response automation: the tests, `flz drill --scenario automated` and `bench/automation`.
 */
import { randomUUID } from "node:crypto";
/** A GuardDuty finding event for an instance, in AWS's published format (GuardDuty user guide, finding format). */
export function guardDutyInstanceFinding(args: {
  account: string;
  region: string;
  instanceId: string;
  findingId?: string;
  type?: string;
  severity?: number;
  adminAccount: string;
}): Record<string, unknown> {
  const findingId = args.findingId ?? "6cc7a3c0e1ed7b5e4c5e5bc7e1d7a3f2";
  const type = args.type ?? "UnauthorizedAccess:EC2/SSHBruteForce";
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "GuardDuty Finding",
    source: "aws.guardduty",
    account: args.adminAccount,
    time: new Date().toISOString(),
    region: args.region,
    resources: [],
    detail: {
      schemaVersion: "2.0",
      accountId: args.account,
      region: args.region,
      partition: "aws",
      id: findingId,
      arn: `arn:aws:guardduty:${args.region}:${args.account}:detector/12abc34d567e8fa901bc2d34e56789f0/finding/${findingId}`,
      type,
      resource: {
        resourceType: "Instance",
        instanceDetails: {
          instanceId: args.instanceId,
          instanceType: "t3.micro",
          instanceState: "running",
          availabilityZone: `${args.region}a`,
          imageId: "ami-12c6146b",
          networkInterfaces: [],
          tags: [],
        },
      },
      service: {
        serviceName: "guardduty",
        detectorId: "12abc34d567e8fa901bc2d34e56789f0",
        action: { actionType: "NETWORK_CONNECTION" },
        resourceRole: "TARGET",
        eventFirstSeen: new Date().toISOString(),
        eventLastSeen: new Date().toISOString(),
        archived: false,
        count: 1,
      },
      severity: args.severity ?? 8,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      title: `${args.instanceId} is performing SSH brute force attacks.`,
      description: `${args.instanceId} is performing SSH brute force attacks against a remote host.`,
    },
  };
}

/** A GuardDuty finding about a role's credentials (resource type AccessKey, user type AssumedRole). */
export function guardDutyRoleFinding(args: {
  account: string;
  region: string;
  roleName: string;
  adminAccount: string;
  findingId?: string;
}): Record<string, unknown> {
  const base = guardDutyInstanceFinding({
    ...args,
    instanceId: "i-0000000000000000a",
    type: "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
  });
  const detail = base.detail as Record<string, unknown>;
  return {
    ...base,
    detail: {
      ...detail,
      id: args.findingId ?? "8ac7a3c0e1ed7b5e4c5e5bc7e1d7a3f9",
      title: `Credentials of role ${args.roleName} used outside AWS.`,
      resource: {
        resourceType: "AccessKey",
        accessKeyDetails: {
          accessKeyId: "ASIAEXAMPLEEXAMPLE12",
          principalId: "AROAEXAMPLEEXAMPLE:i-0abc",
          userName: args.roleName,
          userType: "AssumedRole",
        },
      },
    },
  };
}
