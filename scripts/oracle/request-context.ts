/**
 * The condition context a request carries (members of the input that AWS exposes as condition keys) and the requests
 * AWS makes on the caller's behalf for a call (dependent actions, service-made calls). Split from `requests.ts`, which
 * names the action and resources of a call; each entry says which documentation it follows.
 */
import type { ObservedCall } from "../aws/observer";
import { specTags, tagsOf } from "./state";
import { arnAccount, CREATED, rec, str, strings, type AuthorizationRequest, type MappingContext } from "./requests";

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
