/**
 * How a policy document names the forensic KMS keys. A key's ARN holds a random key ID that exists only once KMS has
 * created the key, so a document that lists key ARNs is unknown on a first `pulumi preview` and the policy pack cannot
 * check it before deployment. The alternative, known in advance and still precise, names the keys by owner and purpose:
 * every key of the forensic account (`arn:<partition>:kms:*:<forensic account>:key/*`) whose purpose tag
 * (`flz:purpose`) has the key's purpose value.
 *
 * Why that is as tight as the ARNs in practice:
 * - the account is pinned, so keys of member accounts never match, whatever their tags (an intruder in a member
 *   account cannot make a key of their own match);
 * - the guardrail SCP ({@link protectForensicKeysScp} in `scp.ts`) denies adding, changing or removing the purpose tag
 *   on any key, and creating or replicating a key that carries it, to everyone but the deployment role, so nobody in
 *   the forensic account can either strip a forensic key of its protection or dress up a key of their own as one;
 * - the keys' own key policies still decide who may use them: a tag condition in an identity policy only narrows.
 *
 * KMS evaluates `aws:ResourceTag/<key>` for every operation on a key, in IAM policies and SCPs (KMS "ABAC"); tag
 * changes take up to five minutes to affect authorisation.
 */
import type { PolicyCondition } from "./types";
import { DocumentInputError, requireAccountId, requireArn, requireArns } from "./validate";

/** Tag key whose value names a resource's forensic purpose (the same key as `components/tags.ts` and the pack's). */
export const PURPOSE_TAG_KEY = "flz:purpose";

/** Purpose tag values of the forensic keys. */
export const KEY_PURPOSE = {
  /** The evidence key and its multi-region replicas. */
  evidence: "evidence-key",
  /** The organisation trail's key. */
  trail: "trail-key",
  /** The custody signing key. */
  signing: "custody-signing",
} as const;

/**
 * Purpose tag value of each incident-alarm topic's key (`IncidentAlarms`). Not one of the forensic keys of
 * {@link KEY_PURPOSE} (no evidence depends on it), but frozen like them against the forensic account's administrators
 * (`scp-alarms.ts`): a disabled topic key silences every alarm.
 */
export const ALARM_KEY_PURPOSE = "alarm-topic";

/** One of {@link KEY_PURPOSE}'s values. */
export type KeyPurpose = (typeof KEY_PURPOSE)[keyof typeof KEY_PURPOSE];

/** Names the forensic keys by owner account and purpose tag instead of by ARN (see the module comment). */
export interface ForensicKeysByTag {
  /** The forensic account: only its keys match. */
  readonly accountId: string;
  /** ARN partition. Default `aws`. */
  readonly partition?: string;
  /** Tag key holding the purpose. Default {@link PURPOSE_TAG_KEY}. */
  readonly tagKey?: string;
}

/** The `Resource` and (when named by tag) the `Condition` that select the forensic keys of one purpose. */
export interface KeyScope {
  /** Exact key ARNs, or the forensic account's key pattern. */
  readonly Resource: string | string[];
  /** The purpose-tag condition; absent when the keys are named by ARN. */
  readonly Condition?: PolicyCondition;
}

/** `arn:<partition>:kms:*:<account>:key/*`: every key of the account, in every region (replicas included). */
export function accountKeyPattern(byTag: ForensicKeysByTag): string {
  const accountId = requireAccountId("keysByTag.accountId", byTag.accountId);
  return `arn:${byTag.partition ?? "aws"}:kms:*:${accountId}:key/*`;
}

/**
 * The statement scope for the keys of `purpose`: their ARN or ARNs when given (as given: one string or a list), else the forensic account's keys carrying the
 * purpose tag. Throws naming `argument` when neither is given.
 */
export function keyScope(
  argument: string,
  arns: readonly string[] | string | undefined,
  byTag: ForensicKeysByTag | undefined,
  purpose: KeyPurpose,
): KeyScope {
  if (typeof arns === "string") return { Resource: requireArn(argument, arns, "kms") };
  if (arns !== undefined) return { Resource: requireArns(argument, arns, "kms") };
  if (byTag === undefined) {
    throw new DocumentInputError(
      `${argument}: missing; give the key ARNs, or keysByTag ({ accountId }) to name the forensic keys by purpose tag.`,
    );
  }
  return {
    Resource: accountKeyPattern(byTag),
    Condition: { StringEquals: { [`aws:ResourceTag/${byTag.tagKey ?? PURPOSE_TAG_KEY}`]: purpose } },
  };
}

/** Merges two condition blocks (operators of both; keys of the same operator combined). */
export function mergeConditions(a: PolicyCondition | undefined, b: PolicyCondition | undefined): PolicyCondition {
  const merged: PolicyCondition = {};
  for (const block of [a ?? {}, b ?? {}]) {
    for (const [operator, keys] of Object.entries(block)) merged[operator] = { ...(merged[operator] ?? {}), ...keys };
  }
  return merged;
}
