/**
 * The subnet step of `contain instance --network-acl`: the subnet's network ACL association is swapped for a
 * quarantine ACL with no allow rule, so every flow into or out of the subnet stops at once, tracked or not. Network
 * ACLs are stateless: "adding a network ACL that blocks traffic in either direction breaks existing connections" (EC2
 * user guide, "Security group connection tracking"). That is also its cost: it cuts every host of the subnet, not
 * only the contained instance (an ACL rule matches addresses, and inside its own subnet the instance's traffic never
 * crosses the ACL), so it is a separate, explicit choice.
 *
 * The quarantine ACL is one per VPC, tagged at creation (`flz:containment = subnet-quarantine`), so a rerun finds it
 * instead of making another; one that has gained an allow rule is not trusted and a new one is made.
 */
import {
  CreateNetworkAclCommand,
  DescribeNetworkAclsCommand,
  ReplaceNetworkAclAssociationCommand,
  type EC2Client,
  type NetworkAcl,
} from "@aws-sdk/client-ec2";
import { CASE_TAG, CONTAINMENT_TAG } from "./instance-plan";

/** Tag value that marks a VPC's quarantine network ACL. */
export const SUBNET_QUARANTINE = "subnet-quarantine";

/** Whether an ACL lets anything through (any allow entry). */
export function allowsAnything(acl: NetworkAcl): boolean {
  return (acl.Entries ?? []).some((e) => e.RuleAction === "allow");
}

/** Whether an ACL is a usable quarantine ACL of ours: tagged, and without a single allow entry. */
export function isQuarantineAcl(acl: NetworkAcl): boolean {
  return (
    (acl.Tags ?? []).some((t) => t.Key === CONTAINMENT_TAG && t.Value === SUBNET_QUARANTINE) && !allowsAnything(acl)
  );
}

/** The ACL each subnet is associated with now, and its association ID. */
export async function describeSubnetAcls(
  ec2: EC2Client,
  subnetIds: readonly string[],
): Promise<Map<string, { networkAclId: string; associationId: string; acl: NetworkAcl }>> {
  const result = new Map<string, { networkAclId: string; associationId: string; acl: NetworkAcl }>();
  if (subnetIds.length === 0) return result;
  const out = await ec2.send(
    new DescribeNetworkAclsCommand({ Filters: [{ Name: "association.subnet-id", Values: [...subnetIds] }] }),
  );
  for (const acl of out.NetworkAcls ?? []) {
    for (const association of acl.Associations ?? []) {
      if (association.SubnetId && subnetIds.includes(association.SubnetId)) {
        result.set(association.SubnetId, {
          networkAclId: acl.NetworkAclId ?? "",
          associationId: association.NetworkAclAssociationId ?? "",
          acl,
        });
      }
    }
  }
  return result;
}

/** The VPC's quarantine ACL, created (tagged at creation) when there is none that can be trusted. */
export async function quarantineAcl(ec2: EC2Client, vpcId: string, caseId: string): Promise<string> {
  const found = await ec2.send(
    new DescribeNetworkAclsCommand({
      Filters: [
        { Name: "vpc-id", Values: [vpcId] },
        { Name: `tag:${CONTAINMENT_TAG}`, Values: [SUBNET_QUARANTINE] },
      ],
    }),
  );
  const usable = (found.NetworkAcls ?? [])
    .filter(isQuarantineAcl)
    .sort((a, b) => (a.NetworkAclId ?? "").localeCompare(b.NetworkAclId ?? ""))[0];
  if (usable?.NetworkAclId) return usable.NetworkAclId;
  const created = await ec2.send(
    new CreateNetworkAclCommand({
      VpcId: vpcId,
      TagSpecifications: [
        {
          ResourceType: "network-acl",
          Tags: [
            { Key: CONTAINMENT_TAG, Value: SUBNET_QUARANTINE },
            { Key: CASE_TAG, Value: caseId },
            { Key: "Name", Value: "flz-subnet-quarantine" },
          ],
        },
      ],
    }),
  );
  return created.NetworkAcl?.NetworkAclId ?? "";
}

/** Associates a subnet with an ACL (whatever it is associated with now). */
export async function associateAcl(ec2: EC2Client, subnetId: string, networkAclId: string): Promise<void> {
  const current = (await describeSubnetAcls(ec2, [subnetId])).get(subnetId);
  if (!current) throw new Error(`subnet ${subnetId} has no network ACL association`);
  if (current.networkAclId === networkAclId) return;
  await ec2.send(
    new ReplaceNetworkAclAssociationCommand({ AssociationId: current.associationId, NetworkAclId: networkAclId }),
  );
}
