/**
 * `contain sessions`: deny every session of a role issued before a cutoff, with an inline policy on
 * `aws:TokenIssueTime` named after the case (what the console calls "revoke active sessions"). Long-term user keys
 * are not affected: that is `contain access-key`.
 */
import {
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { normalizeCutoff, revokeSessionsPolicy, revokeSessionsPolicyName } from "../../components/documents/revoke";
import type { PolicyDocument } from "../../components/documents/types";
import { UsageError } from "../errors";
import { awsErrorName, type ContainContext, type ContainResult, recordChanges } from "./common";

/** Ledger action of a session revocation. */
export const SESSIONS_ACTION = "contain.sessions.revoked";

/** How far in the future a cutoff may be (clock skew between the operator's machine and AWS). */
const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;

/**
 * Parses `--before`: `now` or an ISO 8601 date-time with an explicit zone. A cutoff far in the future is refused:
 * it would also deny every session issued after containment (the responders' own included) until that time, and it
 * is almost always a typo in the year.
 */
export function parseCutoff(input: string | undefined, now: Date): string {
  if (input === undefined || input === "now") return normalizeCutoff(now.toISOString());
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
  const ms = iso.test(input) ? Date.parse(input) : NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(
      `--before ${input} is not a time: give "now" or an ISO 8601 time with a zone, such as 2026-03-01T14:30:00Z`,
    );
  }
  if (ms > now.getTime() + FUTURE_TOLERANCE_MS) {
    throw new UsageError(
      `--before ${input} is in the future: it would also deny sessions issued after containment; give "now" or a past time`,
    );
  }
  // IAM compares at second precision: the cutoff is stored as the policy document will carry it.
  return normalizeCutoff(new Date(ms).toISOString());
}

/** Whether a role path marks a service-linked role, which IAM does not let anyone change. */
export function isServiceLinkedPath(path: string | undefined): boolean {
  return (path ?? "").startsWith("/aws-service-role/");
}

/** The `aws:TokenIssueTime` cutoff of a revocation policy document, if it is one. */
export function cutoffOf(document: PolicyDocument | undefined): string | undefined {
  for (const statement of document?.Statement ?? []) {
    const value = statement.Effect === "Deny" ? statement.Condition?.DateLessThan?.["aws:TokenIssueTime"] : undefined;
    if (typeof value === "string") return value;
  }
  return undefined;
}

/** What a revocation run does with the role's inline policy. */
export type SessionsDecision =
  | { readonly kind: "put"; readonly cutoff: string; readonly previousCutoff?: string }
  | { readonly kind: "keep"; readonly cutoff: string; readonly reason: string };

/**
 * Decides whether to write the policy. An existing policy with the same or a later cutoff already denies at least as
 * much, so it is kept: moving the cutoff earlier would let sessions back in, and that is what `contain undo` is for.
 */
export function decideSessions(requestedCutoff: string, existing: PolicyDocument | undefined): SessionsDecision {
  const previousCutoff = cutoffOf(existing);
  if (previousCutoff !== undefined && Date.parse(previousCutoff) >= Date.parse(requestedCutoff)) {
    const reason =
      previousCutoff === requestedCutoff
        ? `sessions issued before ${previousCutoff} are already denied`
        : `sessions issued before ${previousCutoff} (later than ${requestedCutoff}) are already denied; use contain undo to move the cutoff back`;
    return { kind: "keep", cutoff: previousCutoff, reason };
  }
  return { kind: "put", cutoff: requestedCutoff, previousCutoff };
}

/** Undo information of a session revocation: the inline policy as it was, or none. */
export interface SessionsUndo {
  readonly kind: "sessions";
  readonly account: string;
  readonly region: string;
  readonly role: string;
  readonly policyName: string;
  /** The policy document before this action (JSON text), or null when there was none: undo then deletes it. */
  readonly previousDocument: string | null;
}

/** Decodes an inline policy document as IAM returns it (URL-encoded JSON). */
export function decodePolicyDocument(text: string | undefined): PolicyDocument | undefined {
  if (!text) return undefined;
  const json = text.trimStart().startsWith("{") ? text : decodeURIComponent(text);
  return JSON.parse(json) as PolicyDocument;
}

/** Arguments of {@link revokeSessions}. */
export interface RevokeSessionsArgs {
  /** Role name in the member account. */
  readonly role: string;
  /** `--before`: `now` or an ISO time. */
  readonly before?: string;
  /** Clock, for tests. Default: the current time. */
  readonly now?: Date;
}

/** Denies every session of the role issued before the cutoff; records the previous inline policy for undo. */
export async function revokeSessions(ctx: ContainContext, args: RevokeSessionsArgs): Promise<ContainResult> {
  const cutoff = parseCutoff(args.before, args.now ?? new Date());
  if (!/^[\w+=,.@-]{1,64}$/.test(args.role)) {
    throw new UsageError(
      `--role ${args.role} is not a role name: give the name (not the ARN) of a role in account ${ctx.account}`,
    );
  }
  const caseId = ctx.ledger.caseId;
  const policyName = revokeSessionsPolicyName(caseId);
  const iam = ctx.factory.client(IAMClient, { account: ctx.account, region: ctx.region });

  const [role, existing] = await Promise.all([
    iam.send(new GetRoleCommand({ RoleName: args.role })).catch((err: unknown) => {
      if (awsErrorName(err) === "NoSuchEntityException" || awsErrorName(err) === "NoSuchEntity") {
        throw new UsageError(
          `role ${args.role} does not exist in account ${ctx.account}: give the name of an existing IAM role`,
        );
      }
      throw err;
    }),
    iam.send(new GetRolePolicyCommand({ RoleName: args.role, PolicyName: policyName })).then(
      (r) => r.PolicyDocument,
      (err: unknown) => {
        if (awsErrorName(err) === "NoSuchEntityException" || awsErrorName(err) === "NoSuchEntity") return undefined;
        throw err;
      },
    ),
  ]);
  const roleArn = role.Role?.Arn ?? `arn:aws:iam::${ctx.account}:role/${args.role}`;
  if (isServiceLinkedPath(role.Role?.Path)) {
    throw new UsageError(
      `role ${args.role} is a service-linked role (path ${role.Role?.Path}): IAM does not allow inline policies on it; contain the service or the principals that use it instead`,
    );
  }

  const previous = decodePolicyDocument(existing);
  const decision = decideSessions(cutoff, previous);
  const details = { role: args.role, roleArn, policyName, cutoff: decision.cutoff, requestedCutoff: cutoff };
  if (decision.kind === "keep") {
    return { action: SESSIONS_ACTION, dryRun: ctx.dryRun, changes: [], notes: [decision.reason], details };
  }
  const document = revokeSessionsPolicy(decision.cutoff);
  const change = {
    target: roleArn,
    description: decision.previousCutoff
      ? `move the cutoff of inline policy ${policyName} from ${decision.previousCutoff} to ${decision.cutoff}`
      : `add inline policy ${policyName}: deny every action to sessions issued before ${decision.cutoff}`,
  };
  if (ctx.dryRun) return { action: SESSIONS_ACTION, dryRun: true, changes: [change], notes: [], details };

  await iam.send(
    new PutRolePolicyCommand({ RoleName: args.role, PolicyName: policyName, PolicyDocument: JSON.stringify(document) }),
  );
  const undo: SessionsUndo = {
    kind: "sessions",
    account: ctx.account,
    region: ctx.region,
    role: args.role,
    policyName,
    previousDocument: previous ? JSON.stringify(previous) : null,
  };
  const record = await recordChanges(ctx.ledger, {
    action: SESSIONS_ACTION,
    subjects: [roleArn],
    details: { ...details, previousCutoff: decision.previousCutoff ?? null, account: ctx.account },
    undo: { ...undo },
  });
  return { action: SESSIONS_ACTION, dryRun: false, changes: [change], notes: [], details, record };
}

/** Restores the inline policy recorded in a {@link SessionsUndo}: the previous document, or no policy at all. */
export async function undoSessions(ctx: ContainContext, undo: SessionsUndo): Promise<string[]> {
  const iam = ctx.factory.client(IAMClient, { account: undo.account, region: undo.region });
  if (undo.previousDocument === null) {
    if (!ctx.dryRun) {
      await iam
        .send(new DeleteRolePolicyCommand({ RoleName: undo.role, PolicyName: undo.policyName }))
        .catch((err: unknown) => {
          // Already gone is the state undo wants.
          if (awsErrorName(err) !== "NoSuchEntityException" && awsErrorName(err) !== "NoSuchEntity") throw err;
        });
    }
    return [`delete inline policy ${undo.policyName} from role ${undo.role}`];
  }
  if (!ctx.dryRun) {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: undo.role,
        PolicyName: undo.policyName,
        PolicyDocument: undo.previousDocument,
      }),
    );
  }
  const cutoff = cutoffOf(JSON.parse(undo.previousDocument) as PolicyDocument);
  return [`restore inline policy ${undo.policyName} on role ${undo.role}${cutoff ? ` (cutoff ${cutoff})` : ""}`];
}

/** Type guard for recorded undo information. */
export function isSessionsUndo(value: unknown): value is SessionsUndo {
  const v = value as Partial<SessionsUndo> | undefined;
  return v?.kind === "sessions" && typeof v.role === "string" && typeof v.policyName === "string";
}
