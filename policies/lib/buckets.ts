/**
 * Which buckets the forensic storage rules guard (trail targets, buckets tagged as holding evidence or trail logs, the
 * primary bucket of an evidence component), and the walk every bucket rule shares: one finding per guarded bucket,
 * failing closed on what a preview cannot know. Shared by the storage, key and organisation rules, which must agree on
 * what counts as an evidence bucket.
 */
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { configOf } from "./config";
import { PURPOSE, PURPOSE_TAG_SCHEMA } from "./purpose";
import { linkOf, ofTypes, purposeOf, TYPES, undecidedJoin, type Attached } from "./resources";
import { deferToUpdate, UNKNOWN } from "./unknowns";
import type { RuleConfigSchema } from "./types";
import type { Props } from "./values";

/** Config schema entry naming the components whose primary bucket holds evidence or trail logs. */
export const EVIDENCE_COMPONENT_SCHEMA = {
  type: "array" as const,
  items: { type: "string" as const },
  default: ["flz:storage:EvidenceBucket"],
  description:
    "Component types whose primary bucket (the child with the component's own name) holds evidence or trail logs.",
};

/** Config schema of every rule that walks the guarded buckets. */
export const PROTECTED_SCHEMA: RuleConfigSchema = {
  properties: { purposeTagKey: PURPOSE_TAG_SCHEMA, evidenceComponentTypes: EVIDENCE_COMPONENT_SCHEMA },
};

interface ProtectedConfig {
  purposeTagKey: string;
  evidenceComponentTypes: string[];
}

/** Whether a bucket is the primary bucket of an evidence component (a child named like its parent component). */
export function isComponentPrimaryBucket(bucket: PolicyResource, componentTypes: readonly string[]): boolean {
  return !!bucket.parent && componentTypes.includes(bucket.parent.type) && bucket.parent.name === bucket.name;
}

/** A bucket the forensic rules guard, and why. */
export interface ProtectedBucket {
  /** The bucket resource. */
  readonly bucket: PolicyResource;
  /** "target of trail X", "tagged ...", or why it may hold evidence when a preview cannot tell, for messages. */
  readonly reason: string;
}

/** Resource types that are a bucket (what a configuration's `bucket` input may point at). */
export const BUCKET_KINDS: readonly string[] = TYPES.bucket;

/**
 * Buckets that hold trail logs or evidence: trail targets, buckets whose purpose tag says so, and the primary bucket
 * of an evidence component (how a program built from components shows intent without tags). During a preview, a
 * bucket that may be a trail's target (the trail's `s3BucketName` is unknown and cannot be traced to one bucket) or
 * whose purpose tag is unknown is guarded too: failing closed, it must meet the same bar.
 */
export function protectedBuckets(
  resources: readonly PolicyResource[],
  purposeTagKey: string,
  evidenceComponentTypes: readonly string[] = EVIDENCE_COMPONENT_SCHEMA.default,
): ProtectedBucket[] {
  const trails = ofTypes(resources, TYPES.trail);
  const result: ProtectedBucket[] = [];
  for (const bucket of ofTypes(resources, TYPES.bucket)) {
    const purpose = purposeOf(bucket.props as Props, purposeTagKey);
    const links = trails.map((t) => ({ trail: t, link: linkOf(t, "s3BucketName", bucket, BUCKET_KINDS) }));
    const target = links.find((l) => l.link === "yes")?.trail;
    const maybeTarget = links.find((l) => l.link === "undecided")?.trail;
    if (target) result.push({ bucket, reason: `target of trail ${target.name}` });
    else if (purpose === PURPOSE.evidenceBucket || purpose === PURPOSE.trailBucket)
      result.push({ bucket, reason: `tagged ${purposeTagKey}=${purpose}` });
    else if (isComponentPrimaryBucket(bucket, evidenceComponentTypes))
      result.push({ bucket, reason: `primary bucket of ${bucket.parent?.type ?? "a component"}` });
    else if (maybeTarget)
      result.push({
        bucket,
        reason: `may be the target of trail ${maybeTarget.name}, whose s3BucketName is unknown during preview and names no single bucket`,
      });
    else if (purpose === UNKNOWN)
      result.push({ bucket, reason: `its ${purposeTagKey} tag is unknown during preview, so it may hold evidence` });
  }
  return result;
}

/**
 * What a bucket check found: a problem to report, or a value no program can know before deployment that the check
 * needs (a policy document built from the new bucket's ARN): the rule then ends as the engine's "can't run during
 * preview" advisory, after reporting everything else.
 */
export type BucketFinding =
  string | { readonly deferred: { readonly holder: unknown; readonly key: string } } | undefined;

/** Runs `check` on every protected bucket; not applicable when the program has none. */
export function forEachProtectedBucket(
  args: StackValidationArgs,
  report: (message: string, urn?: string) => void,
  check: (bucket: ProtectedBucket, resources: readonly PolicyResource[]) => BucketFinding,
): void {
  const { purposeTagKey, evidenceComponentTypes } = configOf<ProtectedConfig>(args, PROTECTED_SCHEMA);
  const buckets = protectedBuckets(args.resources, purposeTagKey, evidenceComponentTypes);
  if (buckets.length === 0)
    args.notApplicable("No bucket is a trail target or tagged as holding evidence or trail logs.");
  let deferred: { holder: unknown; key: string } | undefined;
  for (const entry of buckets) {
    const finding = check(entry, args.resources);
    if (typeof finding === "string")
      report(`Bucket ${entry.bucket.name} (${entry.reason}): ${finding}`, entry.bucket.urn);
    else if (finding) deferred = deferred ?? finding.deferred;
  }
  if (deferred) deferToUpdate(deferred.holder, deferred.key);
}

/** "cannot verify" message for a setting that is unknown during preview although programs write it as a literal. */
export function unknownSetting(what: string, where: string): string {
  return `cannot verify during preview: ${what} of ${where} is unknown until deployment; write it as a literal (failing closed).`;
}

/**
 * The problem of the configurations joined to a bucket: the first problem of an attached one; else, when none is
 * attached but some may be (their bucket cannot be traced during preview), a fail-closed "cannot verify"; else the
 * problem of an undecided one (it may be this bucket's and would weaken it). `missing` when there is none at all.
 */
export function joinedProblem(
  joined: Attached,
  problemOf: (config: PolicyResource) => string | undefined,
  missing: string | undefined,
): string | undefined {
  for (const config of joined.attached) {
    const problem = problemOf(config);
    if (problem) return problem;
  }
  if (joined.attached.length === 0 && joined.undecided.length > 0)
    return `${undecidedJoin(joined.undecided, "bucket")}.`;
  for (const config of joined.undecided) {
    const problem = problemOf(config);
    if (problem) return `${undecidedJoin([config], "bucket")}, and it would set: ${problem}`;
  }
  return joined.attached.length === 0 ? missing : undefined;
}
