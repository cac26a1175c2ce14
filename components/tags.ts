/**
 * The purpose tag: how the landing zone tells the policy pack (and people browsing the console) which bucket holds
 * evidence, which key signs custody records, which role is break-glass. The pack's rules are written for any
 * program and cannot guess intent from names; the same key and values are defined in `policies/lib/purpose.ts`
 * (the tests check that they agree).
 */

import { KEY_PURPOSE, PURPOSE_TAG_KEY as DOCUMENTS_TAG_KEY } from "./documents/keys";

/**
 * Tag key whose value names a resource's forensic purpose. The documents name the forensic keys by it
 * (`documents/keys.ts`), so it is defined there once.
 */
export const PURPOSE_TAG_KEY = DOCUMENTS_TAG_KEY;

/** Purpose values the components set. */
export const PURPOSE = {
  /** Bucket holding evidence (custody ledgers, memory images, exported artefacts). */
  evidenceBucket: "evidence",
  /** Bucket receiving the organisation trail's logs. */
  trailBucket: "trail-logs",
  /** KMS key encrypting evidence, and its multi-region replicas. */
  evidenceKey: KEY_PURPOSE.evidence,
  /** KMS key encrypting trail logs. */
  trailKey: KEY_PURPOSE.trail,
  /** KMS asymmetric key signing custody records. */
  signingKey: KEY_PURPOSE.signing,
  /** IAM role used by responders or investigators. */
  forensicRole: "forensic-role",
  /** IAM role for emergency access (MFA). */
  breakGlassRole: "break-glass",
  /** VPC for forensic analysis: isolated, no path to or from the internet. */
  forensicNetwork: "forensic-network",
} as const;

/** The tags of a resource with a forensic purpose. */
export function purposeTags(purpose: (typeof PURPOSE)[keyof typeof PURPOSE]): Record<string, string> {
  return { [PURPOSE_TAG_KEY]: purpose };
}
