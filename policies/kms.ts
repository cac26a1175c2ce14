/**
 * KMS rules. Keys that protect evidence, trail logs and custody signatures decide whether evidence stays readable and
 * provable: symmetric keys rotate, forensic keys get the longest deletion window (a scheduled deletion is the
 * quietest way to destroy encrypted evidence), no key policy opens the key to everyone, and custody records are
 * signed with an asymmetric SIGN_VERIFY key whose public half examiners can use offline.
 */
import { resourceRule, stackRule } from "./lib/rule";
import type { PolicyResource } from "@pulumi/policy";
import { configOf } from "./lib/config";
import { PURPOSE, PURPOSE_TAG_SCHEMA } from "./lib/purpose";
import { attachedTo, linkOf, ofTypes, purposeOf, TYPES, validateTypes, type Link } from "./lib/resources";
import { deferToUpdate, elements, read, readPath, UNKNOWN, type Maybe } from "./lib/unknowns";
import { EVIDENCE_COMPONENT_SCHEMA, protectedBuckets } from "./lib/buckets";
import { DEFAULT_ENFORCEMENT, type ResourceRule, type RuleConfigSchema, type StackRule } from "./lib/types";
import { asBoolean, asNumber, asString, stringList, type Props } from "./lib/values";

/** Whether a key is a symmetric encryption key (the provider's defaults when unset). */
export function isSymmetricEncryptionKey(props: Props): boolean {
  const spec = asString(props.customerMasterKeySpec) ?? "SYMMETRIC_DEFAULT";
  const usage = asString(props.keyUsage) ?? "ENCRYPT_DECRYPT";
  return spec === "SYMMETRIC_DEFAULT" && usage === "ENCRYPT_DECRYPT";
}

/** Symmetric keys rotate their key material. */
export const kmsSymmetricKeyRotation: ResourceRule = resourceRule({
  name: "kms-symmetric-key-rotation",
  description: "Checks whether symmetric customer-managed KMS keys rotate their key material automatically.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "medium",
  remediationSteps: "Set enableKeyRotation: true on every symmetric key (asymmetric and HMAC keys cannot rotate).",
  configSchema: { properties: {} },
  validateResource: validateTypes(TYPES.key, (key, args, report) => {
    if (!isSymmetricEncryptionKey(key)) args.notApplicable("Only symmetric encryption keys can rotate automatically.");
    if (asBoolean(key.enableKeyRotation) !== true) report("enableKeyRotation is off: set enableKeyRotation: true.");
  }),
});

interface DeletionConfig {
  purposeTagKey: string;
  minDeletionWindowDays: number;
  forensicKeyComponentTypes: string[];
  evidenceComponentTypes: string[];
}
const DELETION_SCHEMA: RuleConfigSchema = {
  properties: {
    purposeTagKey: PURPOSE_TAG_SCHEMA,
    evidenceComponentTypes: EVIDENCE_COMPONENT_SCHEMA,
    forensicKeyComponentTypes: {
      type: "array",
      items: { type: "string" },
      default: ["flz:kms:ForensicKeys"],
      description: "Component types whose KMS keys all protect forensic data.",
    },
    minDeletionWindowDays: {
      type: "integer",
      minimum: 7,
      maximum: 30,
      default: 30,
      description: "Shortest deletion window accepted for forensic keys (AWS allows 7 to 30).",
    },
  },
};
const FORENSIC_KEY_PURPOSES: string[] = [PURPOSE.evidenceKey, PURPOSE.trailKey, PURPOSE.signingKey];

/** Whether `owner`'s `property` (or `value`, nested inside it) refers to `key`: yes, or undecided during a preview. */
function keyLink(owner: PolicyResource, property: string, key: PolicyResource, value?: Maybe<unknown>): Link {
  return value === undefined ? linkOf(owner, property, key, KEY_KINDS) : linkOf(owner, property, key, KEY_KINDS, value);
}

const KEY_KINDS: readonly string[] = [...TYPES.key, ...TYPES.replicaKey];

/**
 * The keys (and replica keys) that protect forensic data, with why: tagged with a forensic purpose, used for
 * signing, used by a trail, used by a trail-log or evidence bucket, or a replica of any of these. During a preview a
 * key that may be one of these (its purpose tag or usage is unknown, or a trail's or bucket's key reference is unknown
 * and cannot be traced to one key) is included too: failing closed, it must meet the same bar.
 */
export function forensicKeys(
  resources: readonly PolicyResource[],
  config: Pick<DeletionConfig, "purposeTagKey" | "forensicKeyComponentTypes" | "evidenceComponentTypes">,
): Array<{ key: PolicyResource; reason: string }> {
  const { purposeTagKey, forensicKeyComponentTypes } = config;
  const trails = ofTypes(resources, TYPES.trail);
  // Each default-encryption key reference of a trail-log or evidence bucket, with the configuration it sits in.
  const bucketKeyRefs = protectedBuckets(resources, purposeTagKey, config.evidenceComponentTypes).flatMap(
    ({ bucket }) => {
      const joined = attachedTo(resources, TYPES.encryption, "bucket", bucket, TYPES.bucket);
      return [...joined.attached, ...joined.undecided].flatMap((c) =>
        elements(read(c.props, "rules")).map((rule) => ({
          owner: c,
          value: readPath(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId"),
        })),
      );
    },
  );
  const result: Array<{ key: PolicyResource; reason: string }> = [];
  for (const key of ofTypes(resources, TYPES.key)) {
    const props = key.props as Props;
    const purpose = purposeOf(props, purposeTagKey);
    const usage = read(props, "keyUsage");
    const trailLinks = trails.map((t) => keyLink(t, "kmsKeyId", key));
    const bucketLinks = bucketKeyRefs
      .filter((ref) => ref.value !== undefined)
      .map((ref) => keyLink(ref.owner, "rules", key, ref.value));
    let reason: string | undefined;
    if (typeof purpose === "string" && FORENSIC_KEY_PURPOSES.includes(purpose))
      reason = `tagged ${purposeTagKey}=${purpose}`;
    else if (usage === "SIGN_VERIFY") reason = "signing key";
    else if (trailLinks.includes("yes")) reason = "encrypts a trail";
    else if (bucketLinks.includes("yes")) reason = "encrypts a trail-log or evidence bucket";
    else if (key.parent && forensicKeyComponentTypes.includes(key.parent.type)) reason = `key of ${key.parent.type}`;
    else if (purpose === UNKNOWN || usage === UNKNOWN)
      reason = "its purpose tag or key usage is unknown during preview, so it may protect forensic data";
    else if (trailLinks.includes("undecided") || bucketLinks.includes("undecided"))
      reason = "may encrypt a trail or a forensic bucket whose key reference is unknown during preview";
    if (reason) result.push({ key, reason });
  }
  for (const replica of ofTypes(resources, TYPES.replicaKey)) {
    const props = replica.props as Props;
    const purpose = purposeOf(props, purposeTagKey);
    const links = result.map(({ key }) => ({ key, link: linkOf(replica, "primaryKeyArn", key, TYPES.key) }));
    const primary = links.find((l) => l.link === "yes")?.key;
    if (primary) result.push({ key: replica, reason: `replica of ${primary.name}` });
    else if (typeof purpose === "string" && FORENSIC_KEY_PURPOSES.includes(purpose))
      result.push({ key: replica, reason: `tagged ${purposeTagKey}=${purpose}` });
    else if (replica.parent && forensicKeyComponentTypes.includes(replica.parent.type))
      result.push({ key: replica, reason: `key of ${replica.parent.type}` });
    else if (purpose === UNKNOWN || links.some((l) => l.link === "undecided"))
      result.push({ key: replica, reason: "may replicate a forensic key (unknown during preview)" });
  }
  return result;
}

/** Evidence, trail and signing keys have the maximum deletion window. */
export const kmsForensicKeyDeletionWindow: StackRule = stackRule({
  name: "kms-forensic-key-deletion-window",
  description:
    "Checks whether KMS keys protecting evidence, trail logs or custody signatures (and their replicas) have the maximum 30-day deletion window.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "high",
  remediationSteps:
    "Set deletionWindowInDays: 30 (or remove it; 30 is the default) on evidence, trail and signing keys and their replica keys.",
  configSchema: DELETION_SCHEMA,
  validateStack: (args, report) => {
    const config = configOf<DeletionConfig>(args, DELETION_SCHEMA);
    const { minDeletionWindowDays } = config;
    const keys = forensicKeys(args.resources, config);
    if (keys.length === 0) args.notApplicable("No key protects evidence, trail logs or custody signatures.");
    for (const { key, reason } of keys) {
      const raw = read(key.props, "deletionWindowInDays");
      if (raw === UNKNOWN) {
        report(
          `Key ${key.name} (${reason}): cannot verify during preview: deletionWindowInDays is unknown until deployment; write it as a literal (failing closed).`,
          key.urn,
        );
        continue;
      }
      const window = asNumber(raw) ?? 30;
      if (window < minDeletionWindowDays) {
        report(
          `Key ${key.name} (${reason}) has a ${window}-day deletion window: set deletionWindowInDays to ${minDeletionWindowDays}.`,
          key.urn,
        );
      }
    }
  },
});

interface SigningConfig {
  purposeTagKey: string;
  allowedKeySpecs: string[];
}
const SIGNING_SCHEMA: RuleConfigSchema = {
  properties: {
    purposeTagKey: PURPOSE_TAG_SCHEMA,
    allowedKeySpecs: {
      type: "array",
      items: { type: "string" },
      default: ["ECC_NIST_P256"],
      description: "Key specs accepted for custody signing keys (the CLI verifies ECDSA P-256 signatures offline).",
    },
  },
};

/** Custody signing keys are asymmetric SIGN_VERIFY keys of an accepted spec. */
export const kmsCustodySigningKey: ResourceRule = resourceRule({
  name: "kms-custody-signing-key",
  description:
    "Checks whether keys tagged for custody signing are asymmetric SIGN_VERIFY keys of an accepted spec (ECC_NIST_P256 by default).",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "critical",
  remediationSteps:
    'Create the custody signing key with customerMasterKeySpec: "ECC_NIST_P256" and keyUsage: "SIGN_VERIFY".',
  configSchema: SIGNING_SCHEMA,
  validateResource: validateTypes(TYPES.key, (key, args, report) => {
    const { purposeTagKey, allowedKeySpecs } = configOf<SigningConfig>(args, SIGNING_SCHEMA);
    const purpose = purposeOf(key, purposeTagKey);
    // A resource rule runs again on the known inputs before the key is created: let the engine report it as
    // "can't run during preview" rather than skip a key that may be the signing key.
    if (purpose === UNKNOWN) deferToUpdate(key, "tags", purposeTagKey);
    if (purpose !== PURPOSE.signingKey) args.notApplicable(`Key is not tagged ${purposeTagKey}=${PURPOSE.signingKey}.`);
    const spec = asString(key.customerMasterKeySpec) ?? "SYMMETRIC_DEFAULT";
    const usage = asString(key.keyUsage) ?? "ENCRYPT_DECRYPT";
    if (usage !== "SIGN_VERIFY") report(`keyUsage is ${usage}: custody signing keys need keyUsage "SIGN_VERIFY".`);
    if (!stringList(allowedKeySpecs).includes(spec))
      report(`customerMasterKeySpec is ${spec}: use one of ${stringList(allowedKeySpecs).join(", ")}.`);
  }),
});

/** Every KMS rule. */
export const kmsRules: Array<ResourceRule | StackRule> = [
  kmsSymmetricKeyRotation,
  kmsForensicKeyDeletionWindow,
  kmsCustodySigningKey,
];
