/**
 * What the oracle learns from the calls it sees, so a later request carries the context AWS would give it: the tags
 * of keys, snapshots, instances and groups (`aws:ResourceTag/...`), which key encrypts a snapshot and who owns it (for
 * the KMS calls EC2 makes on the caller's behalf), full key ARNs behind key IDs, Auto Scaling group ARNs (their UUID
 * is part of the ARN), and when each role session was issued (`aws:TokenIssueTime`).
 */
import type { ObservedCall } from "../aws/observer";

/** A snapshot as the oracle knows it. */
export interface KnownSnapshot {
  readonly region: string;
  readonly owner?: string;
  readonly encrypted?: boolean;
  readonly kmsKeyId?: string;
}

type Tags = Record<string, string>;

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const rec = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === "object" ? (v as Record<string, unknown>) : {};

/** Tags in either SDK shape (`{Key, Value}` or KMS's `{TagKey, TagValue}`). */
export function tagsOf(value: unknown): Tags {
  const tags: Tags = {};
  for (const t of list(value)) {
    const r = rec(t);
    const key = str(r.Key) ?? str(r.TagKey);
    if (key !== undefined) tags[key] = String(r.Value ?? r.TagValue ?? "");
  }
  return tags;
}

/** Tags of `TagSpecifications` for one resource type (all types when `type` is undefined). */
export function specTags(input: Readonly<Record<string, unknown>>, type?: string): Tags {
  const tags: Tags = {};
  for (const spec of list(input.TagSpecifications)) {
    const r = rec(spec);
    if (type === undefined || r.ResourceType === type) Object.assign(tags, tagsOf(r.Tags));
  }
  return tags;
}

/** Facts learned from observed calls. */
export class OracleState {
  /** Tags by resource ID (EC2 IDs, ASG names) or ARN (KMS keys). */
  readonly tags = new Map<string, Tags>();
  /** Snapshots by ID. */
  readonly snapshots = new Map<string, KnownSnapshot>();
  /** Key ARNs by key ID. */
  readonly keyArns = new Map<string, string>();
  /** Auto Scaling group ARNs by `account|region|name`. */
  readonly groupArns = new Map<string, string>();
  /** The user of each access key, by `account|key ID` (IAM authorizes key operations on the user). */
  readonly keyUsers = new Map<string, string>();
  /** When each role session was issued, by `roleArn|sessionName`. */
  readonly sessions = new Map<string, Date>();
  /** The subnet of each network ACL association (`aclassoc-...`), by association ID. */
  readonly aclAssociations = new Map<string, string>();
  /** Type of each Organizations policy (`SERVICE_CONTROL_POLICY`), by policy ID; its tags are in {@link tags}. */
  readonly policyTypes = new Map<string, string>();

  private addTags(id: string, tags: Tags): void {
    if (Object.keys(tags).length === 0) return;
    this.tags.set(id, { ...(this.tags.get(id) ?? {}), ...tags });
  }

  private removeTags(id: string, keys: string[]): void {
    const current = this.tags.get(id);
    if (!current) return;
    for (const k of keys) delete current[k];
  }

  private snapshot(id: string | undefined, known: Partial<KnownSnapshot> & { region: string }): void {
    if (id === undefined) return;
    const previous = this.snapshots.get(id);
    const merged: KnownSnapshot = {
      ...previous,
      ...Object.fromEntries(Object.entries(known).filter(([, v]) => v !== undefined)),
    } as KnownSnapshot;
    this.snapshots.set(id, merged);
  }

  /** Full ARN of a key ID, key ARN or alias, when known. */
  keyArn(keyId: string | undefined, region: string, account: string): string | undefined {
    if (keyId === undefined) return undefined;
    if (keyId.startsWith("arn:")) return keyId;
    return (
      this.keyArns.get(keyId) ??
      (keyId.startsWith("alias/") ? undefined : `arn:aws:kms:${region}:${account}:key/${keyId}`)
    );
  }

  /** Learns from one call that succeeded. `account` is the account the call acted in. */
  learn(call: ObservedCall, account: string): void {
    if (call.error || !call.output) return;
    const input = call.input;
    const output = call.output;
    const region = call.region ?? "us-east-1";
    const op = `${call.signingName}:${call.operation}`;
    switch (op) {
      case "kms:CreateKey": {
        const meta = rec(output.KeyMetadata);
        const arn = str(meta.Arn);
        const id = str(meta.KeyId);
        if (arn && id) this.keyArns.set(id, arn);
        if (arn) this.addTags(arn, tagsOf(input.Tags));
        break;
      }
      case "kms:TagResource": {
        const arn = this.keyArn(str(input.KeyId), region, account);
        if (arn) this.addTags(arn, tagsOf(input.Tags));
        break;
      }
      case "kms:DescribeKey": {
        const meta = rec(output.KeyMetadata);
        const arn = str(meta.Arn);
        const id = str(meta.KeyId);
        if (arn && id) this.keyArns.set(id, arn);
        break;
      }
      case "ec2:CreateSnapshot":
        this.snapshot(str(output.SnapshotId), {
          region,
          owner: str(output.OwnerId) ?? account,
          encrypted: output.Encrypted === true,
          kmsKeyId: str(output.KmsKeyId),
        });
        this.addTags(str(output.SnapshotId) ?? "", specTags(input, "snapshot"));
        break;
      case "ec2:CopySnapshot":
        this.snapshot(str(output.SnapshotId), {
          region,
          owner: account,
          encrypted: input.Encrypted === true || input.KmsKeyId !== undefined ? true : undefined,
          kmsKeyId: str(input.KmsKeyId),
        });
        this.addTags(str(output.SnapshotId) ?? "", specTags(input, "snapshot"));
        break;
      case "ec2:DescribeSnapshots":
        for (const s of list(output.Snapshots)) {
          const r = rec(s);
          this.snapshot(str(r.SnapshotId), {
            region,
            owner: str(r.OwnerId),
            encrypted: r.Encrypted === true,
            kmsKeyId: str(r.KmsKeyId),
          });
          this.addTags(str(r.SnapshotId) ?? "", tagsOf(r.Tags));
        }
        break;
      case "ec2:DescribeInstances":
        for (const reservation of list(output.Reservations))
          for (const i of list(rec(reservation).Instances)) {
            const r = rec(i);
            this.addTags(str(r.InstanceId) ?? "", tagsOf(r.Tags));
          }
        break;
      case "ec2:CreateTags":
        for (const id of list(input.Resources)) this.addTags(String(id), tagsOf(input.Tags));
        break;
      case "ec2:DeleteTags":
        for (const id of list(input.Resources))
          this.removeTags(
            String(id),
            list(input.Tags).map((t) => String(rec(t).Key)),
          );
        break;
      case "ec2:DescribeNetworkAcls":
        for (const acl of list(output.NetworkAcls)) {
          const r = rec(acl);
          this.addTags(str(r.NetworkAclId) ?? "", tagsOf(r.Tags));
          for (const a of list(r.Associations)) {
            const assoc = rec(a);
            if (str(assoc.NetworkAclAssociationId) && str(assoc.SubnetId))
              this.aclAssociations.set(str(assoc.NetworkAclAssociationId) as string, str(assoc.SubnetId) as string);
          }
        }
        break;
      case "ec2:ReplaceNetworkAclAssociation": {
        // The new association is of the same subnet.
        const subnet = this.aclAssociations.get(str(input.AssociationId) ?? "");
        if (subnet && str(output.NewAssociationId))
          this.aclAssociations.set(str(output.NewAssociationId) as string, subnet);
        break;
      }
      case "ec2:CreateNetworkAcl":
        this.addTags(str(rec(output.NetworkAcl).NetworkAclId) ?? "", specTags(input, "network-acl"));
        break;
      case "ec2:CreateSecurityGroup":
        this.addTags(str(output.GroupId) ?? "", specTags(input, "security-group"));
        break;
      case "autoscaling:DescribeAutoScalingGroups":
        for (const g of list(output.AutoScalingGroups)) {
          const r = rec(g);
          const name = str(r.AutoScalingGroupName);
          const arn = str(r.AutoScalingGroupARN);
          if (name && arn) this.groupArns.set(`${account}|${region}|${name}`, arn);
          if (name) this.addTags(`asg:${account}|${region}|${name}`, tagsOf(r.Tags));
        }
        break;
      case "iam:ListAccessKeys":
        for (const k of list(output.AccessKeyMetadata)) {
          const r = rec(k);
          if (str(r.AccessKeyId) && str(r.UserName))
            this.keyUsers.set(`${account}|${str(r.AccessKeyId)}`, str(r.UserName) as string);
        }
        break;
      case "iam:CreateAccessKey": {
        const key = rec(output.AccessKey);
        if (str(key.AccessKeyId) && str(key.UserName))
          this.keyUsers.set(`${account}|${str(key.AccessKeyId)}`, str(key.UserName) as string);
        break;
      }
      case "organizations:CreatePolicy": {
        const summary = rec(rec(output.Policy).PolicySummary);
        const id = str(summary.Id);
        if (id) this.policyTypes.set(id, str(summary.Type) ?? str(input.Type) ?? "");
        this.addTags(id ?? "", tagsOf(input.Tags));
        break;
      }
      case "organizations:DescribePolicy": {
        const summary = rec(rec(output.Policy).PolicySummary);
        if (str(summary.Id) && str(summary.Type))
          this.policyTypes.set(str(summary.Id) as string, str(summary.Type) as string);
        break;
      }
      case "organizations:ListPolicies":
      case "organizations:ListPoliciesForTarget":
        for (const p of list(output.Policies)) {
          const r = rec(p);
          if (str(r.Id) && str(r.Type)) this.policyTypes.set(str(r.Id) as string, str(r.Type) as string);
        }
        break;
      case "organizations:ListTagsForResource":
        // The whole tag set of the resource, as the answer gives it.
        if (str(input.ResourceId)) this.tags.set(str(input.ResourceId) as string, tagsOf(output.Tags));
        break;
      case "organizations:TagResource":
        this.addTags(str(input.ResourceId) ?? "", tagsOf(input.Tags));
        break;
      case "organizations:UntagResource":
        this.removeTags(str(input.ResourceId) ?? "", list(input.TagKeys).map(String));
        break;
      case "sts:AssumeRole":
        this.sessions.set(`${str(input.RoleArn)}|${str(input.RoleSessionName)}`, call.startedAt);
        break;
      default:
        break;
    }
  }
}
