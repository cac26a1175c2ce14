/**
 * Printing the offline plan for people: the resource tree with each resource's account, region and the settings
 * a security reviewer looks for, then the outputs. Pure functions of the {@link PlanResult}.
 */
import type { PackVerdict, PolicyVerdict } from "./evaluate";
import type { PlanResult, PlannedResource } from "./plan";

type Inputs = Record<string, unknown>;

/** Parses a value that may be JSON text (policies, provider blocks under mocks). */
function parsed(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

const list = (value: unknown): unknown[] => {
  const v = parsed(value);
  return Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
};

const show = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

/** One line per statement of a policy document: effect, Sid, actions (shortened). */
export function summarisePolicy(value: unknown): string[] {
  const doc = parsed(value) as { Statement?: unknown } | undefined;
  const statements = list(doc?.Statement) as Array<Record<string, unknown>>;
  return statements.map((s) => {
    const actions = list(s.Action ?? s.NotAction).map(show);
    const shown = actions.length > 3 ? `${actions.slice(0, 3).join(",")},+${actions.length - 3}` : actions.join(",");
    const conditions = s.Condition ? ` if ${Object.keys(s.Condition as object).join("+")}` : "";
    return `${String(s.Effect)} ${s.Sid ? `${String(s.Sid)} ` : ""}[${s.NotAction ? "not " : ""}${shown}]${conditions}`;
  });
}

/** The security-relevant settings of a resource, as short `key=value` strings (empty for types without any). */
export function securitySettings(type: string, inputs: Inputs): string[] {
  const pick = (...keys: string[]) =>
    keys.filter((k) => inputs[k] !== undefined).map((k) => `${k}=${show(parsed(inputs[k]))}`);
  switch (type) {
    case "pulumi:providers:aws": {
      const roles = list(inputs.assumeRoles) as Array<{ roleArn?: string }>;
      return [...pick("region", "allowedAccountIds"), ...roles.map((r) => `assumeRole=${r.roleArn ?? "?"}`)];
    }
    case "aws:organizations/account:Account":
      return pick("email", "name", "roleName", "closeOnDeletion", "iamUserAccessToBilling");
    case "aws:organizations/organizationalUnit:OrganizationalUnit":
      return pick("name", "parentId");
    case "aws:s3/bucket:Bucket":
      return pick("bucket", "objectLockEnabled", "forceDestroy");
    case "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": {
      const retention = (
        inputs.rule as { defaultRetention?: { mode?: string; days?: number; years?: number } } | undefined
      )?.defaultRetention;
      return [`lock=${retention?.mode ?? "none"}`, `days=${retention?.days ?? retention?.years ?? "-"}`];
    }
    case "aws:s3/bucketVersioning:BucketVersioning":
      return [`status=${(inputs.versioningConfiguration as { status?: string } | undefined)?.status ?? "?"}`];
    case "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
      return (
        list(inputs.rules) as Array<{
          applyServerSideEncryptionByDefault?: { sseAlgorithm?: string; kmsMasterKeyId?: string };
          bucketKeyEnabled?: boolean;
        }>
      ).map(
        (r) =>
          `sse=${r.applyServerSideEncryptionByDefault?.sseAlgorithm ?? "?"}` +
          (r.applyServerSideEncryptionByDefault?.kmsMasterKeyId
            ? ` key=${r.applyServerSideEncryptionByDefault.kmsMasterKeyId}`
            : "") +
          (r.bucketKeyEnabled ? " bucketKey" : ""),
      );
    case "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
      return pick("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets");
    case "aws:s3/bucketOwnershipControls:BucketOwnershipControls":
      return [`ownership=${(inputs.rule as { objectOwnership?: string } | undefined)?.objectOwnership ?? "?"}`];
    case "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration":
      return (
        list(inputs.rules) as Array<{
          id?: string;
          transitions?: Array<{ days?: number; storageClass?: string }>;
          expiration?: unknown;
        }>
      ).map(
        (r) =>
          `${r.id ?? "rule"}: ${(r.transitions ?? []).map((t) => `${t.days}d→${t.storageClass}`).join(", ")}${r.expiration ? " expires" : " never expires"}`,
      );
    case "aws:s3/bucketLogging:BucketLogging":
      return pick("targetBucket", "targetPrefix");
    case "aws:s3/bucketPolicy:BucketPolicy":
    case "aws:iam/rolePolicy:RolePolicy":
      return summarisePolicy(inputs.policy);
    case "aws:kms/key:Key":
      return [
        ...pick("customerMasterKeySpec", "keyUsage", "multiRegion", "enableKeyRotation", "deletionWindowInDays"),
        ...summarisePolicy(inputs.policy),
      ];
    case "aws:kms/replicaKey:ReplicaKey":
      return [...pick("primaryKeyArn", "deletionWindowInDays"), ...summarisePolicy(inputs.policy)];
    case "aws:cloudtrail/trail:Trail": {
      const selectors = (list(inputs.advancedEventSelectors) as Array<{ name?: string }>).map(
        (s) => s.name ?? "(unnamed)",
      );
      return [
        ...pick(
          "name",
          "isOrganizationTrail",
          "isMultiRegionTrail",
          "includeGlobalServiceEvents",
          "enableLogFileValidation",
          "kmsKeyId",
          "s3BucketName",
        ),
        `selectors=${selectors.join("; ")}`,
        ...pick("cloudWatchLogsGroupArn"),
      ];
    }
    case "aws:cloudformation/stackSet:StackSet":
      return pick("name", "permissionModel", "autoDeployment", "capabilities");
    case "aws:cloudformation/stackSetInstance:StackSetInstance":
      return pick("stackSetInstanceRegion", "deploymentTargets", "retainStack");
    case "aws:iam/role:Role":
      return [
        ...pick("name", "maxSessionDuration"),
        ...summarisePolicy(inputs.assumeRolePolicy).map((s) => `trust: ${s}`),
      ];
    case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
      return pick("policyArn");
    case "aws:cloudwatch/logGroup:LogGroup":
      return pick("name", "retentionInDays", "kmsKeyId");
    default:
      return [];
  }
}

/** Depth-first order of the tree (children after their parent, registration order among siblings). */
function treeOrder(resources: readonly PlannedResource[]): Array<{ resource: PlannedResource; depth: number }> {
  const names = new Set(resources.map((r) => r.name));
  const children = new Map<string | null, PlannedResource[]>();
  for (const r of resources) {
    const parent = r.parent !== null && names.has(r.parent) ? r.parent : null;
    children.set(parent, [...(children.get(parent) ?? []), r]);
  }
  const ordered: Array<{ resource: PlannedResource; depth: number }> = [];
  const visit = (parent: string | null, depth: number) => {
    for (const r of children.get(parent) ?? []) {
      ordered.push({ resource: r, depth });
      if (!r.custom) visit(r.name, depth + 1);
    }
  };
  visit(null, 0);
  return ordered;
}

/** The plan as text: a tree of resources with placement and settings, then the outputs. */
export function formatPlan(result: PlanResult): string {
  const lines: string[] = [];
  const custom = result.resources.filter((r) => r.custom).length;
  lines.push(`Resources: ${custom} cloud resources in ${result.resources.length - custom} components`);
  for (const { resource, depth } of treeOrder(result.resources)) {
    const indent = "  ".repeat(depth + 1);
    const placement = resource.custom
      ? `  [account ${resource.account ?? "?"}, region ${resource.region ?? "provider default"}]`
      : "";
    const via = resource.provider ? ` via ${resource.provider}` : "";
    lines.push(`${indent}${resource.custom ? "+" : "▸"} ${resource.type}  ${resource.name}${placement}${via}`);
    for (const setting of securitySettings(resource.type, resource.inputs)) lines.push(`${indent}    · ${setting}`);
  }
  lines.push("", "Outputs:");
  lines.push(
    "  (IDs and ARNs that AWS assigns on creation are the mock engine's placeholders; placement comes from the providers)",
  );
  for (const [key, value] of Object.entries(result.outputs)) lines.push(`  ${key}: ${show(value)}`);
  return lines.join("\n");
}

const STATUS_LABEL: Record<PolicyVerdict["status"], string> = {
  pass: "pass",
  fail: "FAIL",
  "cannot-run": "skip",
  "not-applicable": "n/a ",
  disabled: "off ",
};

/** A people-readable report: one line per rule, violations under it, and a summary line. */
export function formatVerdicts(verdict: PackVerdict): string {
  const lines: string[] = [];
  for (const p of verdict.policies) {
    const label = p.status === "fail" && p.enforcementLevel === "advisory" ? "warn" : STATUS_LABEL[p.status];
    lines.push(`  ${label}  ${p.name} (${p.enforcementLevel}${p.severity ? `, ${p.severity}` : ""})`);
    for (const v of p.violations) lines.push(`          - ${v.name ?? "(stack)"}: ${v.message}`);
    for (const u of p.previewUnknowns ?? []) lines.push(`          ~ ${u.name ?? "(stack)"}: ${u.message}`);
  }
  const summary = verdict.passed
    ? `Policy pack ${verdict.pack}: passed (${verdict.advisoryViolations} advisory violation(s)${(verdict.previewUnknowns ?? 0) > 0 ? `, ${verdict.previewUnknowns} rule run(s) that can't run during preview` : ""}).`
    : `Policy pack ${verdict.pack}: FAILED with ${verdict.mandatoryViolations} mandatory violation(s) and ${verdict.advisoryViolations} advisory.`;
  return [`Policy pack ${verdict.pack}: ${verdict.policies.length} rules`, ...lines, summary].join("\n");
}
