/**
 * Type tokens (@pulumi/aws v7, with the deprecated `*V2` tokens older programs still register), the dispatch helper
 * resource rules use to skip other types the way `validateResourceOfType` does, and the joins stack rules need
 * (sub-resource → bucket, resource → region, resource → purpose tag).
 */
import type { PolicyResource, ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import { containsUnknown, isUnknown, read, readPath, UNKNOWN, type Maybe } from "./unknowns";
import { asRecord, asString, type Props } from "./values";

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
  spotInstanceRequest: ["aws:ec2/spotInstanceRequest:SpotInstanceRequest"],
  launchConfiguration: ["aws:ec2/launchConfiguration:LaunchConfiguration"],
  kmsGrant: ["aws:kms/grant:Grant"],
  user: ["aws:iam/user:User"],
  group: ["aws:iam/group:Group"],
  userPolicy: ["aws:iam/userPolicy:UserPolicy"],
  groupPolicy: ["aws:iam/groupPolicy:GroupPolicy"],
  userPolicyAttachment: ["aws:iam/userPolicyAttachment:UserPolicyAttachment"],
  groupPolicyAttachment: ["aws:iam/groupPolicyAttachment:GroupPolicyAttachment"],
  policyAttachment: ["aws:iam/policyAttachment:PolicyAttachment"],
  flowLog: ["aws:ec2/flowLog:FlowLog"],
  logGroup: ["aws:cloudwatch/logGroup:LogGroup"],
  guardDutyDetector: ["aws:guardduty/detector:Detector"],
  snapshotPermission: ["aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission"],
  amiLaunchPermission: ["aws:ec2/amiLaunchPermission:AmiLaunchPermission"],
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
 * The known strings other resources may use to refer to this one: its ID, ARN, name-like outputs (`bucket`, `keyId`,
 * `name`). Stack props are outputs, which carry the ID for bridged AWS resources. Values unknown during a preview
 * (a new resource's ID and ARN) are left out, never read.
 */
export function referencesOf(resource: PolicyResource): Set<string> {
  const refs = new Set<string>();
  for (const key of ["id", "arn", "bucket", "keyId", "name"]) {
    const value = read(resource.props, key);
    if (typeof value === "string" && value !== "") refs.add(value);
  }
  return refs;
}

/** Whether a known `reference` (an input such as a sub-resource's `bucket`) names `target` by one of its known references. */
export function refersTo(reference: unknown, target: PolicyResource): boolean {
  if (isUnknown(reference)) return false;
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

/**
 * Whether a join holds: `yes`, `no`, or `undecided` (the value is unknown during this preview and the engine's
 * property dependencies do not single out one resource it came from).
 */
export type Link = "yes" | "no" | "undecided";

/**
 * Whether `resource`'s `property` refers to `target`, whose kind is one of `kinds` (e.g. every bucket token).
 *
 * First through the property dependencies the engine records (input property → resources its value came from): a
 * sub-resource whose `bucket` input came from exactly one bucket belongs to that bucket, known value or not, which is
 * how a first preview (every new bucket's ID unknown) can still join. Then by a known value against the target's
 * known references. A value unknown during the preview that came from several, or no, resources of that kind is
 * `undecided`; the caller decides how to fail closed. `value` defaults to the property itself; pass a value nested
 * inside it (e.g. one rule's key ID) to judge that value with the property's dependencies.
 */
export function linkOf(
  resource: PolicyResource,
  property: string,
  target: PolicyResource,
  kinds: readonly string[] = [target.type],
  value: Maybe<unknown> = read(resource.props, property),
): Link {
  if (value === undefined || value === null) return "no";
  const sources = (resource.propertyDependencies?.[property] ?? []).filter((d) => d && isOneOf(d.type, kinds));
  const only = sources.length === 1 ? sources[0] : undefined;
  if (only) return only.urn === target.urn ? "yes" : "no";
  if (value !== UNKNOWN) return refersTo(value, target) ? "yes" : "no";
  if (sources.length > 1 && !sources.some((d) => d.urn === target.urn)) return "no";
  return "undecided";
}

/** The resources of some types joined to a target through one property, split by how sure the join is. */
export interface Attached {
  /** Resources that refer to the target. */
  readonly attached: PolicyResource[];
  /** Resources that may refer to it: their reference is unknown during this preview and cannot be traced. */
  readonly undecided: PolicyResource[];
}

/** The resources of `tokens` whose `property` refers to `target` (e.g. the versioning configs of a bucket). */
export function attachedTo(
  resources: readonly PolicyResource[],
  tokens: readonly string[],
  property: string,
  target: PolicyResource,
  kinds: readonly string[] = [target.type],
): Attached {
  const attached: PolicyResource[] = [];
  const undecided: PolicyResource[] = [];
  for (const r of ofTypes(resources, tokens)) {
    const link = linkOf(r, property, target, kinds);
    if (link === "yes") attached.push(r);
    else if (link === "undecided") undecided.push(r);
  }
  return { attached, undecided };
}

/** A short "could not verify" explanation for resources whose join is undecided during a preview. */
export function undecidedJoin(undecided: readonly PolicyResource[], property: string): string {
  const names = undecided.map((r) => r.name).join(", ");
  return `cannot verify during preview: ${names} name their ${property} by a value unknown until deployment that does not come from exactly one resource, so the pack cannot tell which one they configure; pass the resource's own output (e.g. bucket.id) directly`;
}

/** The region a resource lands in: its own `region` input, else its provider's, else "the default provider". */
export function regionOf(resource: {
  props: Record<string, unknown>;
  provider?: { props: Record<string, unknown> };
}): string {
  const own = read(resource.props, "region");
  if (own === UNKNOWN) return UNKNOWN_REGION;
  const fromProvider = read(resource.provider?.props, "region");
  if (asString(own) === undefined && fromProvider === UNKNOWN) return UNKNOWN_REGION;
  return asString(own) ?? asString(fromProvider) ?? "(default provider region)";
}

/** What {@link regionOf} returns for a region unknown during a preview. */
export const UNKNOWN_REGION = "(region unknown during preview)";

/** The account a resource lands in, as far as its provider says (`allowedAccountIds`, else the assumed role's account). */
export function accountOf(resource: { provider?: { props: Record<string, unknown> } }): string {
  const props = resource.provider?.props ?? {};
  const allowedRaw = read(props, "allowedAccountIds");
  const rolesRaw = read(props, "assumeRoles");
  if (containsUnknown(allowedRaw) || containsUnknown(rolesRaw)) return "(account unknown during preview)";
  const allowed = parseMaybeJson(allowedRaw);
  if (Array.isArray(allowed) && typeof allowed[0] === "string") return allowed[0];
  const roles = parseMaybeJson(rolesRaw);
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

/**
 * The value of the purpose tag (config `purposeTagKey`) of a resource, lower-cased; {@link UNKNOWN} when the tag (or
 * the whole tag map) is unknown during a preview. Other tags are never read, so an unknown unrelated tag is harmless.
 */
export function purposeOf(props: Props, tagKey: string): Maybe<string | undefined> {
  const value = readPath(props, "tags", tagKey);
  if (value === UNKNOWN) return UNKNOWN;
  return asString(value)?.toLowerCase();
}

/** A short, readable reference to a resource for messages: its logical name and type. */
export function describe(resource: { name: string; type: string }): string {
  return `${resource.name} (${resource.type})`;
}
