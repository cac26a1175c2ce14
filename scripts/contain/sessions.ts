/**
 * `contain sessions`: deny every session of a role issued before a cutoff, with a quarantine statement in a service
 * control policy of the case (organisation level, managed from the forensic account: `quarantine.ts`). No inline IAM
 * policy is written: a member-account administrator cannot lift an SCP, and the responder needs no IAM write.
 * Long-term user keys are not affected: that is `contain access-key`.
 *
 * Rerunning compares the whole of the case's quarantine policies with what the ledger says they hold, and restores
 * them when they differ (a statement rewritten to deny a non-existent action while keeping the cutoff is noticed).
 */
import { GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { normalizeCutoff } from "../../components/documents/revoke";
import type { QuarantineSubject } from "../../components/documents/quarantine";
import { quarantineCutoff } from "../../components/documents/quarantine";
import { UsageError } from "../errors";
import { awsErrorName, quarantineTarget, type ContainContext, type ContainResult } from "./common";
import { findOpenIntent, recordCompletion, recordIntent, toJsonObject } from "./intent";
import {
  applyQuarantine,
  describeSteps,
  organizationsClient,
  refuseManagementAccount,
  planQuarantine,
  quarantineDetails,
  quarantineUndo,
} from "./quarantine";

/** Ledger action of a session revocation. */
export const SESSIONS_ACTION = "contain.sessions.revoked";

/** How far in the future a cutoff may be (clock skew between the operator's machine and AWS). */
const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;

/**
 * Parses `--before`: `now` or an ISO 8601 date-time with an explicit zone. A cutoff far in the future is refused:
 * it would also deny every session issued after containment (the responders' own included) until that time, and it
 * is almost always a typo in the year.
 */
export function parseCutoff(input: string | undefined, now: Date, flag = "--before"): string {
  if (input === undefined || input === "now") return normalizeCutoff(now.toISOString());
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
  const ms = iso.test(input) ? Date.parse(input) : NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(
      `${flag} ${input} is not a time: give "now" or an ISO 8601 time with a zone, such as 2026-03-01T14:30:00Z`,
    );
  }
  if (ms > now.getTime() + FUTURE_TOLERANCE_MS) {
    throw new UsageError(
      `${flag} ${input} is in the future: it would also deny sessions issued after containment; give "now" or a past time`,
    );
  }
  // IAM compares at second precision: the cutoff is stored as the policy document will carry it.
  return normalizeCutoff(new Date(ms).toISOString());
}

/** Whether a role path marks a service-linked role, which SCPs do not restrict. */
export function isServiceLinkedPath(path: string | undefined): boolean {
  return (path ?? "").startsWith("/aws-service-role/");
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

/**
 * Denies every session of the role issued before the cutoff. A later cutoff already in place is kept (moving it
 * earlier would let sessions back in: that is what `contain undo` is for). Records an intent before changing
 * anything and the completion after, each with what the statement was before.
 */
export async function revokeSessions(ctx: ContainContext, args: RevokeSessionsArgs): Promise<ContainResult> {
  const cutoff = parseCutoff(args.before, args.now ?? new Date());
  if (!/^[\w+=,.@-]{1,64}$/.test(args.role)) {
    throw new UsageError(
      `--role ${args.role} is not a role name: give the name (not the ARN) of a role in account ${ctx.account}`,
    );
  }
  const caseId = ctx.ledger.caseId;
  const org = organizationsClient(ctx.factory, ctx.region);
  await refuseManagementAccount(org, ctx.account);
  const iam = ctx.factory.client(IAMClient, { account: ctx.account, region: ctx.region });
  const role = await iam.send(new GetRoleCommand({ RoleName: args.role })).catch((err: unknown) => {
    if (awsErrorName(err) === "NoSuchEntityException" || awsErrorName(err) === "NoSuchEntity") {
      throw new UsageError(
        `role ${args.role} does not exist in account ${ctx.account}: give the name of an existing IAM role`,
      );
    }
    throw err;
  });
  if (isServiceLinkedPath(role.Role?.Path)) {
    throw new UsageError(
      `role ${args.role} is a service-linked role (path ${role.Role?.Path}): service control policies do not restrict it; contain the service or the principals that use it instead`,
    );
  }
  const roleArn = role.Role?.Arn ?? `arn:aws:iam::${ctx.account}:role/${args.role}`;
  const subject: QuarantineSubject = { kind: "principal", principalArn: roleArn };
  const targets = [quarantineTarget(subject)];

  const records = await ctx.ledger.records();
  const open = findOpenIntent(records, SESSIONS_ACTION, targets);
  const plan = await planQuarantine(org, { caseId, account: ctx.account, records, put: [{ subject, cutoff }] });
  const decision = plan.decisions[0];
  const effectiveCutoff = quarantineCutoff(decision.next ?? undefined) ?? cutoff;
  const previousCutoff = quarantineCutoff(decision.previous ?? undefined) ?? null;
  const notes = [
    ...plan.drift.map((line) => `drift: ${line}; restoring what the ledger holds`),
    ...(decision.kind === "keep"
      ? [
          effectiveCutoff === cutoff
            ? `sessions of ${roleArn} issued before ${effectiveCutoff} are already denied`
            : `sessions of ${roleArn} issued before ${effectiveCutoff} (later than ${cutoff}) are already denied; use contain undo to move the cutoff back`,
        ]
      : []),
    ...(open ? [`completing record ${open.sequence}, an interrupted revocation of this role`] : []),
  ];
  const details = {
    role: args.role,
    roleArn,
    cutoff: effectiveCutoff,
    requestedCutoff: cutoff,
    policies: plan.desired.filter((p) => p.statements.length > 0).map((p) => p.name),
  };
  const changes = [
    ...(decision.kind === "put"
      ? [
          {
            target: roleArn,
            description: previousCutoff
              ? `move the quarantine cutoff of ${roleArn} from ${previousCutoff} to ${effectiveCutoff}`
              : `quarantine ${roleArn}: deny every action to its sessions issued before ${effectiveCutoff}`,
          },
        ]
      : []),
    ...describeSteps(plan).map((description) => ({ target: roleArn, description })),
  ];
  if (plan.steps.length === 0 && !open) {
    return { action: SESSIONS_ACTION, dryRun: ctx.dryRun, changes: [], notes, details };
  }
  if (ctx.dryRun) return { action: SESSIONS_ACTION, dryRun: true, changes, notes, details };

  const undo = open?.undo ?? { kind: "quarantine", region: ctx.region, ...quarantineUndo(plan) };
  const intent =
    open ??
    (await recordIntent(ctx.ledger, {
      action: SESSIONS_ACTION,
      subjects: [roleArn],
      targets,
      account: ctx.account,
      region: ctx.region,
      before: toJsonObject({ statement: decision.previous }),
      plan: { cutoff: effectiveCutoff, steps: describeSteps(plan), drift: plan.drift },
      identifiers: { policies: plan.desired.map((p) => p.name) },
      undo: toJsonObject(undo),
    }));
  await applyQuarantine(org, plan);
  const record = await recordCompletion(ctx.ledger, intent, {
    action: SESSIONS_ACTION,
    subjects: [roleArn],
    details: {
      ...details,
      account: ctx.account,
      previousCutoff,
      restored: plan.drift,
      quarantine: quarantineDetails(plan),
    },
    undo: intent.undo,
  });
  return { action: SESSIONS_ACTION, dryRun: false, changes, notes, details, record };
}
