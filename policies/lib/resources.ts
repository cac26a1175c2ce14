/**
 * Type tokens (@pulumi/aws v7, with the deprecated `*V2` tokens older programs still register), the dispatch helper
 * resource rules use to skip other types the way `validateResourceOfType` does, and the joins stack rules need
 * (sub-resource → bucket, resource → region, resource → purpose tag).
 */
import type { PolicyResource, ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import { asRecord, asString, tagsOf, type Props } from "./values";

/** Type tokens the pack inspects. Each entry lists the current token first, then deprecated aliases. */
export const TYPES = {
  bucket: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
  objectLock: [
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
  ],
  versioning: ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
  encryption: [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  ],
  publicAccessBlock: ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
  bucketPolicy: ["aws:s3/bucketPolicy:BucketPolicy"],
  bucketAcl: ["aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"],
  trail: ["aws:cloudtrail/trail:Trail"],
  key: ["aws:kms/key:Key"],
  replicaKey: ["aws:kms/replicaKey:ReplicaKey"],
  keyPolicy: ["aws:kms/keyPolicy:KeyPolicy"],
  role: ["aws:iam/role:Role"],
  rolePolicy: ["aws:iam/rolePolicy:RolePolicy"],
  managedPolicy: ["aws:iam/policy:Policy"],
  rolePolicyAttachment: ["aws:iam/rolePolicyAttachment:RolePolicyAttachment"],
  instance: ["aws:ec2/instance:Instance"],
  launchTemplate: ["aws:ec2/launchTemplate:LaunchTemplate"],
  volume: ["aws:ebs/volume:Volume"],
  encryptionByDefault: ["aws:ebs/encryptionByDefault:EncryptionByDefault"],
  scp: ["aws:organizations/policy:Policy"],
  scpAttachment: ["aws:organizations/policyAttachment:PolicyAttachment"],
  stackSet: ["aws:cloudformation/stackSet:StackSet"],
  stackSetInstance: ["aws:cloudformation/stackSetInstance:StackSetInstance"],
  workgroup: ["aws:athena/workgroup:Workgroup"],
  topic: ["aws:sns/topic:Topic"],
  vpc: ["aws:ec2/vpc:Vpc"],
  subnet: ["aws:ec2/subnet:Subnet"],
  internetGateway: ["aws:ec2/internetGateway:InternetGateway"],
  internetGatewayAttachment: ["aws:ec2/internetGatewayAttachment:InternetGatewayAttachment"],
  egressOnlyInternetGateway: ["aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway"],
  natGateway: ["aws:ec2/natGateway:NatGateway"],
} as const;

/** Whether `type` is one of `tokens`. */
export function isOneOf(type: string, tokens: readonly string[]): boolean {
  return tokens.includes(type);
}

/**
 * A resource validation that runs `validate` for the listed types and marks the rule not applicable for every other
 * type, as `validateResourceOfType` does (it takes one class; rules here must also match the deprecated aliases).
 */
export function validateTypes(
  tokens: readonly string[],
  validate: (props: Props, args: ResourceValidationArgs, report: ReportViolation) => void,
): ResourceValidation {
  return (args, report) => {
    if (!isOneOf(args.type, tokens)) {
      args.notApplicable(`Policy only applies to resources of type ${tokens.map((t) => `'${t}'`).join(", ")}`);
    }
    validate(args.props as Props, args, report);
  };
}

/** The stack's resources of the listed types. */
export function ofTypes(resources: readonly PolicyResource[], tokens: readonly string[]): PolicyResource[] {
  return resources.filter((r) => isOneOf(r.type, tokens));
}

/**
 * The strings other resources may use to refer to this one: its ID, ARN, name-like outputs (`bucket`, `keyId`,
 * `name`). Stack props are outputs, which carry the ID for bridged AWS resources.
 */
export function referencesOf(resource: PolicyResource): Set<string> {
  const p = resource.props as Props;
  const refs = new Set<string>();
  for (const key of ["id", "arn", "bucket", "keyId", "name"]) {
    const value = asString(p[key]);
    if (value) refs.add(value);
  }
  return refs;
}

/** Whether `reference` (an input such as a sub-resource's `bucket`) points at `target`. */
export function refersTo(reference: unknown, target: PolicyResource): boolean {
  const ref = asString(reference);
  if (!ref) return false;
  const refs = referencesOf(target);
  if (refs.has(ref)) return true;
  // A KMS reference may be the key ARN while the key's outputs give only its key ID (or the reverse).
  for (const r of refs) {
    if (ref.endsWith(`:key/${r}`) || r.endsWith(`:key/${ref}`)) return true;
  }
  return false;
}

/** The resources of `tokens` whose `property` refers to `target` (e.g. the versioning configs of a bucket). */
export function attachedTo(
  resources: readonly PolicyResource[],
  tokens: readonly string[],
  property: string,
  target: PolicyResource,
): PolicyResource[] {
  return ofTypes(resources, tokens).filter((r) => refersTo((r.props as Props)[property], target));
}

/** The region a resource lands in: its own `region` input, else its provider's, else "the default provider". */
export function regionOf(resource: {
  props: Record<string, unknown>;
  provider?: { props: Record<string, unknown> };
}): string {
  return asString(resource.props.region) ?? asString(resource.provider?.props.region) ?? "(default provider region)";
}

/** The account a resource lands in, as far as its provider says (`allowedAccountIds`, else the assumed role's account). */
export function accountOf(resource: { provider?: { props: Record<string, unknown> } }): string {
  const props = resource.provider?.props ?? {};
  const allowed = parseMaybeJson(props.allowedAccountIds);
  if (Array.isArray(allowed) && typeof allowed[0] === "string") return allowed[0];
  const roles = parseMaybeJson(props.assumeRoles);
  const roleArn = Array.isArray(roles) ? asString(asRecord(roles[0])?.roleArn) : undefined;
  return roleArn?.split(":")[4] ?? "(default provider account)";
}

/** Provider inputs may arrive as JSON text (complex inputs of provider resources are serialised). */
function parseMaybeJson(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The value of the purpose tag (config `purposeTagKey`) of a resource, lower-cased. */
export function purposeOf(props: Props, tagKey: string): string | undefined {
  return tagsOf(props)[tagKey]?.toLowerCase();
}

/** A short, readable reference to a resource for messages: its logical name and type. */
export function describe(resource: { name: string; type: string }): string {
  return `${resource.name} (${resource.type})`;
}
