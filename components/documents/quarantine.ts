/**
 * Organisation-level quarantine: service control policies, tagged `flz:purpose = quarantine`, that deny everything to
 * named principals' sessions issued before a cutoff. This is how `flz contain` revokes role sessions and the
 * temporary credentials of a leaked user key, instead of writing inline IAM policies:
 *
 * - IAM has no condition on the content of an inline policy, so a role that may `iam:PutRolePolicy` may grant anything
 *   to anyone; the member responder role therefore has no IAM write at all beyond `UpdateAccessKey`.
 * - An SCP sits above the member account: its administrator cannot detach, edit or delete it, so the window in which an
 *   intruder could remove a deny attached inside the account (IAM's propagation delay) does not exist.
 * - SCPs only ever restrict, so whatever a quarantine policy says, it cannot grant a permission.
 *
 * The forensic account manages these policies through Organizations' delegated policy management: the management
 * account's resource-based delegation policy (`quarantine-delegation.ts`) lets the forensic responder role, and no
 * other principal, create SCPs tagged as quarantine policies and update, attach, detach and delete only those, never
 * other policy types and never re-tag or untag an existing policy.
 *
 * Limits respected here (AWS Organizations quotas): a service control policy is at most 5,120 characters, and a target
 * (root, OU or account) has at most 5 SCPs attached directly. Statements of one case in one account are packed into as
 * few policies as fit; a further policy is made when one is full; placing more than the free slots allow is refused.
 */
import { createHash } from "node:crypto";
import { PURPOSE_TAG_KEY } from "./keys";
import { SCP_MAX_CHARACTERS } from "./scp";
import type { PolicyCondition, PolicyDocument, PolicyStatement } from "./types";
import { normalizeCutoff } from "./revoke";
import { DocumentInputError, requireAccountId } from "./validate";

/** Value of the purpose tag ({@link PURPOSE_TAG_KEY}) that marks a quarantine SCP. */
export const QUARANTINE_PURPOSE = "quarantine";
/** Value of the purpose tag that marks the guardrail SCPs: a policy with another purpose is never re-tagged. */
export const GUARDRAIL_PURPOSE = "guardrail";
/** Tag key naming the case a quarantine policy belongs to. */
export const QUARANTINE_CASE_TAG_KEY = "flz:case";
/** The only tag keys a quarantine policy is created with. */
export const QUARANTINE_TAG_KEYS: readonly string[] = [PURPOSE_TAG_KEY, QUARANTINE_CASE_TAG_KEY];
/** AWS Organizations: at most five SCPs attached directly to one root, OU or account. */
export const SCPS_PER_TARGET = 5;
/** Name prefix of every quarantine policy. */
export const QUARANTINE_POLICY_PREFIX = "flz-quarantine";

/** Who a quarantine statement denies. */
export type QuarantineSubject =
  /** A role or user, by ARN: every session of it issued before the cutoff (`aws:PrincipalArn` equals the ARN). */
  | { readonly kind: "principal"; readonly principalArn: string }
  /**
   * Every federated-user session (`sts:GetFederationToken`) of an account issued before the cutoff. Such a session's
   * `aws:PrincipalArn` is `arn:aws:sts::<account>:federated-user/<name>`, a name its creator chose: nothing in the
   * request context of those sessions names the IAM user whose key created them, so they cannot be attributed to one
   * user and are quarantined account-wide.
   */
  | { readonly kind: "federated-sessions"; readonly accountId: string };

/** A stable key for a subject: the same subject always gets the same statement ID within a case. */
export function quarantineSubjectKey(subject: QuarantineSubject): string {
  return subject.kind === "principal" ? `principal:${subject.principalArn}` : `federated-sessions:${subject.accountId}`;
}

/** The account a subject lives in. */
export function quarantineSubjectAccount(subject: QuarantineSubject): string {
  return subject.kind === "principal" ? subject.principalArn.split(":")[4] : subject.accountId;
}

/**
 * Statement ID of a subject's statement in a case: `FlzQ` and 24 hex digits of SHA-256 over case and subject. SCP
 * statement IDs allow letters and digits only; a hash keeps them short (the 5,120-character limit) and stable.
 *
 * @param caseId the case the statement belongs to.
 * @param subject who the statement denies.
 */
export function quarantineSid(caseId: string, subject: QuarantineSubject): string {
  const digest = createHash("sha256")
    .update(`${caseId}\n${quarantineSubjectKey(subject)}`)
    .digest("hex");
  return `FlzQ${digest.slice(0, 24)}`;
}

const PRINCIPAL_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):(role|user)\/[\w+=,.@/-]{1,512}$/;

function checkSubject(subject: QuarantineSubject): void {
  if (subject.kind === "principal") {
    if (!PRINCIPAL_ARN.test(subject.principalArn)) {
      throw new DocumentInputError(
        `principalArn: ${JSON.stringify(subject.principalArn)} is not an IAM role or user ARN (arn:aws:iam::<account>:role/<name> or :user/<name>).`,
      );
    }
  } else {
    requireAccountId("accountId", subject.accountId);
  }
}

/** Arguments of {@link quarantineStatement}. */
export interface QuarantineStatementArgs {
  /** The case the statement belongs to (it names the statement). */
  readonly caseId: string;
  /** Who is denied. */
  readonly subject: QuarantineSubject;
  /** Sessions issued before this instant are denied (ISO 8601 with a zone); later ones are not. */
  readonly cutoff: string;
  /** Partition of the ARNs. Default: the principal's partition, else `aws`. */
  readonly partition?: string;
}

/**
 * `Deny *` for the subject's sessions issued before the cutoff. `DateLessThan` is strict, so a session issued at or
 * after the cutoff (the owner signing in again once the intruder's way in is closed, or a responder) is unaffected.
 * Requests signed with long-term keys carry no `aws:TokenIssueTime`, so the condition does not match them: the key
 * itself is deactivated by `contain access-key`.
 */
export function quarantineStatement(args: QuarantineStatementArgs): PolicyStatement {
  checkSubject(args.subject);
  if (args.caseId.trim() === "") {
    throw new DocumentInputError(
      `caseId: ${JSON.stringify(args.caseId)} is empty; give the case ID (e.g. IR-2024-001).`,
    );
  }
  const cutoff = normalizeCutoff(args.cutoff);
  const principal: PolicyCondition =
    args.subject.kind === "principal"
      ? { ArnEquals: { "aws:PrincipalArn": args.subject.principalArn } }
      : {
          ArnLike: {
            "aws:PrincipalArn": `arn:${args.partition ?? "aws"}:sts::${args.subject.accountId}:federated-user/*`,
          },
        };
  return {
    Sid: quarantineSid(args.caseId, args.subject),
    Effect: "Deny",
    Action: "*",
    Resource: "*",
    Condition: { ...principal, DateLessThan: { "aws:TokenIssueTime": cutoff } },
  };
}

/** The `aws:TokenIssueTime` cutoff a quarantine statement carries, if it is one. */
export function quarantineCutoff(statement: PolicyStatement | undefined): string | undefined {
  const value = statement?.Effect === "Deny" ? statement.Condition?.DateLessThan?.["aws:TokenIssueTime"] : undefined;
  return typeof value === "string" ? value : undefined;
}

/** A quarantine SCP as this module sees it: its name and its statements (none: the policy is to be deleted). */
export interface QuarantinePolicyState {
  /** Policy name, unique in the organisation ({@link quarantinePolicyName}). */
  readonly name: string;
  /** Its statements, in order. */
  readonly statements: readonly PolicyStatement[];
}

/** The policy document of a set of statements. */
export function quarantineDocument(statements: readonly PolicyStatement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: [...statements] };
}

/** The policy text exactly as it is sent to Organizations (compact JSON: whitespace would count against the limit). */
export function quarantineText(statements: readonly PolicyStatement[]): string {
  return JSON.stringify(quarantineDocument(statements));
}

/** Characters an Organizations policy name may not usefully carry in ours; anything else becomes `-`. */
const NAME_CHAR = /[\w+=,.@-]/;

/**
 * Name of the `index`-th quarantine policy of a case in an account: `flz-quarantine-<account>-<case>-<index>`. Unique
 * in the organisation (Organizations refuses a second policy of the same name), so a rerun after a crash finds the
 * policy an earlier run created instead of making a second one. A long case ID is shortened with a hash of it.
 */
export function quarantinePolicyName(caseId: string, accountId: string, index: number): string {
  requireAccountId("accountId", accountId);
  if (!Number.isInteger(index) || index < 1) {
    throw new DocumentInputError(`index: ${index} is not a policy number (1, 2, ...).`);
  }
  let safe = Array.from(caseId, (c) => (NAME_CHAR.test(c) ? c : "-")).join("");
  if (safe !== caseId || safe.length > 80) {
    safe = `${safe.slice(0, 60)}-${createHash("sha256").update(caseId).digest("hex").slice(0, 12)}`;
  }
  return `${QUARANTINE_POLICY_PREFIX}-${accountId}-${safe}-${index}`;
}

/** The number of a quarantine policy name of this case and account, or undefined when the name is not one. */
export function quarantinePolicyIndex(name: string, caseId: string, accountId: string): number | undefined {
  const stem = quarantinePolicyName(caseId, accountId, 1).slice(0, -1);
  if (!name.startsWith(stem)) return undefined;
  const rest = name.slice(stem.length);
  return /^[1-9]\d*$/.test(rest) ? Number(rest) : undefined;
}

/** Raised when a statement cannot be placed: the account has no free SCP slot left. */
export class QuarantineCapacityError extends DocumentInputError {}

/** Where a case's quarantine policies of one account may grow. */
export interface QuarantinePlacement {
  /** The case. */
  readonly caseId: string;
  /** The account whose principals the policies quarantine (and that they are attached to). */
  readonly accountId: string;
  /**
   * How many quarantine policies this case may have attached to the account: {@link SCPS_PER_TARGET} minus the SCPs
   * attached directly to the account that are not this case's quarantine policies.
   */
  readonly maxPolicies: number;
}

const fits = (statements: readonly PolicyStatement[]): boolean =>
  quarantineText(statements).length <= SCP_MAX_CHARACTERS;

/**
 * Places (or replaces, by statement ID) a statement in a case's quarantine policies of one account: in place when the
 * policy that holds it still fits, else in the first policy with room, else in a new policy. Policies keep their
 * statements where they are, so adding one statement changes at most one policy (and moving one changes two).
 *
 * @throws QuarantineCapacityError when a new policy would exceed `maxPolicies`.
 */
export function placeQuarantineStatement(
  policies: readonly QuarantinePolicyState[],
  statement: PolicyStatement,
  placement: QuarantinePlacement,
): QuarantinePolicyState[] {
  if (!fits([statement])) {
    throw new DocumentInputError(`statement ${statement.Sid ?? ""} alone exceeds ${SCP_MAX_CHARACTERS} characters.`);
  }
  const holder = policies.findIndex((p) => p.statements.some((s) => s.Sid === statement.Sid));
  if (holder >= 0) {
    const replaced = policies[holder].statements.map((s) => (s.Sid === statement.Sid ? statement : s));
    if (fits(replaced)) return policies.map((p, i) => (i === holder ? { ...p, statements: replaced } : p));
  }
  const without = holder >= 0 ? removeQuarantineStatement(policies, statement.Sid ?? "") : [...policies];
  const room = without.findIndex((p) => p.statements.length > 0 && fits([...p.statements, statement]));
  if (room >= 0) {
    return without.map((p, i) => (i === room ? { ...p, statements: [...p.statements, statement] } : p));
  }
  const live = without.filter((p) => p.statements.length > 0).length;
  if (live + 1 > placement.maxPolicies) {
    throw new QuarantineCapacityError(
      `account ${placement.accountId} has no free service control policy slot for another quarantine policy of case ${placement.caseId} (${live} in use, ${placement.maxPolicies} allowed: AWS attaches at most ${SCPS_PER_TARGET} SCPs directly to an account).`,
    );
  }
  // Reuse an emptied policy's name before making a new one: its number is free and the policy may still exist.
  const empty = without.findIndex((p) => p.statements.length === 0);
  if (empty >= 0) return without.map((p, i) => (i === empty ? { ...p, statements: [statement] } : p));
  const used = new Set(without.map((p) => quarantinePolicyIndex(p.name, placement.caseId, placement.accountId)));
  let index = 1;
  while (used.has(index)) index += 1;
  return [
    ...without,
    { name: quarantinePolicyName(placement.caseId, placement.accountId, index), statements: [statement] },
  ];
}

/** Removes a statement (by ID) from whichever policy holds it; a policy left without statements is to be deleted. */
export function removeQuarantineStatement(
  policies: readonly QuarantinePolicyState[],
  sid: string,
): QuarantinePolicyState[] {
  return policies.map((p) => ({ ...p, statements: p.statements.filter((s) => s.Sid !== sid) }));
}

/** The statement with this ID in a case's policies, and the policy holding it. */
export function findQuarantineStatement(
  policies: readonly QuarantinePolicyState[],
  sid: string,
): { policy: string; statement: PolicyStatement } | undefined {
  for (const policy of policies) {
    const statement = policy.statements.find((s) => s.Sid === sid);
    if (statement) return { policy: policy.name, statement };
  }
  return undefined;
}
