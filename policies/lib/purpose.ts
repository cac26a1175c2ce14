/**
 * The purpose tag: how a program says which bucket holds evidence, which key signs custody records, which role is
 * break-glass. Rules written for any program cannot guess intent from names alone, so the landing zone's components
 * tag what they create, and other programs can opt in by tagging theirs the same way.
 */

/** Default tag key (each rule's config `purposeTagKey` can change it). */
export const PURPOSE_TAG_KEY = "flz:purpose";

/** Purpose values the pack understands. */
export const PURPOSE = {
  /** Bucket holding evidence (custody ledgers, memory images, exported artefacts). */
  evidenceBucket: "evidence",
  /** Bucket receiving CloudTrail logs (trail targets are found without the tag too). */
  trailBucket: "trail-logs",
  /** KMS key encrypting evidence (and its multi-region replicas). */
  evidenceKey: "evidence-key",
  /** KMS key encrypting trail logs. */
  trailKey: "trail-key",
  /** KMS asymmetric key signing custody records. */
  signingKey: "custody-signing",
  /** IAM role used by responders or investigators. */
  forensicRole: "forensic-role",
  /** IAM role for emergency access (MFA, alarmed). */
  breakGlassRole: "break-glass",
  /** VPC for forensic analysis: isolated, no path to or from the internet. */
  forensicNetwork: "forensic-network",
} as const;

/** Config schema entry shared by rules that read the purpose tag. */
export const PURPOSE_TAG_SCHEMA = {
  type: "string" as const,
  default: PURPOSE_TAG_KEY,
  description:
    "Tag key whose value names a resource's forensic purpose (evidence, trail-logs, evidence-key, trail-key, custody-signing, forensic-role, break-glass, forensic-network).",
};
