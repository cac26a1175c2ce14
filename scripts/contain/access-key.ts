/**
 * `contain access-key`: deactivate one long-term access key of an IAM user (never delete it: deletion destroys the
 * key ID's link to CloudTrail history and cannot be undone), deny the temporary sessions obtained with it (they survive
 * the key's deactivation) through the organisation-level quarantine, and show the user's other keys with their last
 * use, so the responder sees at once whether the attacker holds a second key.
 */
import {
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import type { JsonValue } from "../custody/types";
import { UsageError } from "../errors";
import type { QuarantineSubject } from "../../components/documents/quarantine";
import { accessKeyTarget, awsErrorName, quarantineTarget, type ContainContext, type ContainResult } from "./common";
import { findOpenIntent, recordCompletion, recordIntent, toJsonObject } from "./intent";
import {
  applyQuarantine,
  describeSteps,
  isQuarantineUndo,
  organizationsClient,
  refuseManagementAccount,
  planQuarantine,
  quarantineDetails,
  quarantineUndo,
  type QuarantineUndo,
} from "./quarantine";
import { parseCutoff } from "./sessions";

/** Ledger action of a key deactivation. */
export const ACCESS_KEY_ACTION = "contain.access-key.deactivated";

/** Validates `--key`: a long-term key ID. Temporary (ASIA) keys belong to sessions, contained by `contain sessions`. */
export function requireAccessKeyId(value: string | undefined): string {
  if (value && /^ASIA[A-Z0-9]{12,124}$/.test(value)) {
    throw new UsageError(
      `--key ${value} is a temporary session key (ASIA...): revoke the role's sessions with flz contain sessions`,
    );
  }
  if (!value || !/^AKIA[A-Z0-9]{12,124}$/.test(value)) {
    throw new UsageError(
      `--key ${value ?? "(missing)"} is not an access key ID: give a long-term key ID such as AKIAIOSFODNN7EXAMPLE`,
    );
  }
  return value;
}

/** One of the user's keys, as reported next to the deactivation. */
export interface KeyReport {
  /** Key ID. */
  readonly accessKeyId: string;
  /** `Active` or `Inactive` after this action. */
  readonly status: string;
  /** Creation time, ISO 8601. */
  readonly created?: string;
  /** Last use (ISO 8601), or undefined when never used. */
  readonly lastUsed?: string;
  /** Service and region of the last use, e.g. `s3 in eu-west-1`. */
  readonly lastUsedWhere?: string;
}

/** Undo information of a key deactivation: the status the key had, and the quarantine statements as they were. */
export interface AccessKeyUndo {
  readonly kind: "access-key";
  readonly account: string;
  readonly region: string;
  readonly user: string;
  readonly accessKeyId: string;
  /** Status before this action (`Active` or `Inactive`). */
  readonly previousStatus: string;
  /** The user's (and federated sessions') quarantine statements before this action; absent in older records. */
  readonly quarantine?: QuarantineUndo;
}

/** Type guard for recorded undo information. */
export function isAccessKeyUndo(value: unknown): value is AccessKeyUndo {
  const v = value as Partial<AccessKeyUndo> | undefined;
  return (
    v?.kind === "access-key" &&
    typeof v.user === "string" &&
    typeof v.accessKeyId === "string" &&
    typeof v.previousStatus === "string" &&
    (v.quarantine === undefined || isQuarantineUndo(v.quarantine))
  );
}

/** One line per key for people. */
export function describeKey(key: KeyReport): string {
  const used = key.lastUsed
    ? `last used ${key.lastUsed}${key.lastUsedWhere ? ` (${key.lastUsedWhere})` : ""}`
    : "never used";
  return `${key.accessKeyId} ${key.status}, ${used}`;
}

/** Arguments of {@link deactivateAccessKey}. */
export interface DeactivateAccessKeyArgs {
  /** IAM user name. */
  readonly user: string;
  /** Long-term key ID (AKIA...). */
  readonly key: string;
  /**
   * `--sessions-before`: sessions the user obtained with the key (GetSessionToken) issued before this are denied.
   * `now` or an ISO time. Default `now`.
   */
  readonly sessionsBefore?: string;
  /**
   * Also deny every federated-user session (GetFederationToken) of the account issued before the cutoff. Default true:
   * such a session carries a name its creator chose and nothing that links it to the user, so it cannot be denied for
   * this user alone (`--keep-federated-sessions` turns it off).
   */
  readonly federatedSessions?: boolean;
  /** Clock, for tests. */
  readonly now?: Date;
}

/** What the notes say about federated sessions, so the operator knows exactly what was and was not attributed. */
export const FEDERATED_SESSIONS_NOTE =
  "GetFederationToken sessions are named by their creator and carry nothing that names the user whose key made them, so the quarantine cannot deny them for this user alone";

/**
 * Deactivates the key (never deletes it), quarantines the user's sessions issued before the cutoff (GetSessionToken
 * sessions survive a key's deactivation) and, unless told not to, every federated-user session of the account issued
 * before it; reports every key of the user with its last use. Intent first, then the changes, then the completion.
 */
export async function deactivateAccessKey(ctx: ContainContext, args: DeactivateAccessKeyArgs): Promise<ContainResult> {
  const key = requireAccessKeyId(args.key);
  if (!/^[\w+=,.@-]{1,64}$/.test(args.user)) {
    throw new UsageError(
      `--user ${args.user} is not an IAM user name: give the name (not the ARN) of a user in account ${ctx.account}`,
    );
  }
  const cutoff = parseCutoff(args.sessionsBefore, args.now ?? new Date(), "--sessions-before");
  const iam = ctx.factory.client(IAMClient, { account: ctx.account, region: ctx.region });
  const missing = (err: unknown): never => {
    if (awsErrorName(err) === "NoSuchEntityException" || awsErrorName(err) === "NoSuchEntity") {
      throw new UsageError(
        `user ${args.user} does not exist in account ${ctx.account}: give the name of an existing IAM user`,
      );
    }
    throw err;
  };
  const org = organizationsClient(ctx.factory, ctx.region);
  await refuseManagementAccount(org, ctx.account);
  const [listed, found] = await Promise.all([
    iam.send(new ListAccessKeysCommand({ UserName: args.user })).catch(missing),
    iam.send(new GetUserCommand({ UserName: args.user })).catch(missing),
  ]);
  const keys = listed.AccessKeyMetadata ?? [];
  const target = keys.find((k) => k.AccessKeyId === key);
  if (!target) {
    const known = keys.map((k) => k.AccessKeyId).join(", ") || "none";
    throw new UsageError(
      `access key ${key} is not a key of user ${args.user} in account ${ctx.account} (the user's keys: ${known})`,
    );
  }
  const userArn = found.User?.Arn ?? `arn:aws:iam::${ctx.account}:user/${args.user}`;
  const subjects: QuarantineSubject[] = [
    { kind: "principal", principalArn: userArn },
    ...(args.federatedSessions === false ? [] : [{ kind: "federated-sessions" as const, accountId: ctx.account }]),
  ];
  const targets = [accessKeyTarget(ctx.account, key), ...subjects.map(quarantineTarget)];
  const records = await ctx.ledger.records();
  const open = findOpenIntent(records, ACCESS_KEY_ACTION, targets);
  const plan = await planQuarantine(org, {
    caseId: ctx.ledger.caseId,
    account: ctx.account,
    records,
    put: subjects.map((subject) => ({ subject, cutoff })),
  });
  const currentStatus = target.Status ?? "Active";
  // On a rerun after a crash, the status before is the intent's (the key may already be inactive by our own hand).
  const openBefore = open?.details?.before as { keyStatus?: JsonValue } | undefined;
  const previousStatus = typeof openBefore?.keyStatus === "string" ? openBefore.keyStatus : currentStatus;
  const deactivate = currentStatus !== "Inactive";

  const changes = [
    ...(deactivate
      ? [
          {
            target: key,
            description: `deactivate access key ${key} of user ${args.user} (Active -> Inactive; the key is kept)`,
          },
        ]
      : []),
    ...plan.decisions
      .filter((d) => d.kind === "put")
      .map((d) => ({
        target: userArn,
        description:
          d.subject?.kind === "federated-sessions"
            ? `quarantine every federated-user session (GetFederationToken) of account ${ctx.account} issued before ${cutoff}`
            : `quarantine ${userArn}: deny its sessions (GetSessionToken) issued before ${cutoff}`,
      })),
    ...describeSteps(plan).map((description) => ({ target: userArn, description })),
  ];

  // The last-use look-ups and the deactivation do not depend on each other.
  const reports = await Promise.all(
    keys.map(async (k): Promise<KeyReport> => {
      const id = k.AccessKeyId ?? "";
      const used = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id }));
      const last = used.AccessKeyLastUsed;
      const where =
        last?.ServiceName && last.ServiceName !== "N/A" ? `${last.ServiceName} in ${last.Region ?? "?"}` : undefined;
      return {
        accessKeyId: id,
        status: id === key && !ctx.dryRun ? "Inactive" : (k.Status ?? "Active"),
        created: k.CreateDate?.toISOString(),
        lastUsed: last?.LastUsedDate?.toISOString(),
        lastUsedWhere: where,
      };
    }),
  );
  const others = reports.filter((r) => r.accessKeyId !== key);
  const notes = [
    ...plan.drift.map((line) => `drift: ${line}; restoring what the ledger holds`),
    ...(deactivate ? [] : [`access key ${key} is already inactive`]),
    ...(args.federatedSessions === false
      ? [
          `${FEDERATED_SESSIONS_NOTE}; they were left alone (--keep-federated-sessions): find them in CloudTrail (GetFederationToken by ${args.user})`,
        ]
      : [
          `${FEDERATED_SESSIONS_NOTE}: every federated-user session of account ${ctx.account} issued before ${cutoff} is denied`,
        ]),
    ...(open ? [`completing record ${open.sequence}, an interrupted containment of this key`] : []),
    others.length === 0 ? `user ${args.user} has no other access key` : `other keys of user ${args.user}:`,
    ...others.map((r) => `  ${describeKey(r)}`),
  ];
  const details: { [k: string]: JsonValue } = {
    user: args.user,
    userArn,
    accessKeyId: key,
    previousStatus,
    sessionsBefore: cutoff,
    federatedSessions: args.federatedSessions !== false,
    keys: reports.map((r) => ({
      ...r,
      created: r.created ?? null,
      lastUsed: r.lastUsed ?? null,
      lastUsedWhere: r.lastUsedWhere ?? null,
    })),
  };
  if (!open && !deactivate && plan.steps.length === 0) {
    return { action: ACCESS_KEY_ACTION, dryRun: ctx.dryRun, changes: [], notes, details };
  }
  if (ctx.dryRun) return { action: ACCESS_KEY_ACTION, dryRun: true, changes, notes, details };

  const undo: AccessKeyUndo = {
    kind: "access-key",
    account: ctx.account,
    region: ctx.region,
    user: args.user,
    accessKeyId: key,
    previousStatus,
    quarantine: quarantineUndo(plan),
  };
  const intent =
    open ??
    (await recordIntent(ctx.ledger, {
      action: ACCESS_KEY_ACTION,
      subjects: [userArn, key],
      targets,
      account: ctx.account,
      region: ctx.region,
      before: toJsonObject({ keyStatus: currentStatus, statements: plan.decisions.map((d) => d.previous) }),
      plan: { deactivate, cutoff, steps: describeSteps(plan) },
      identifiers: { policies: plan.desired.map((p) => p.name) },
      undo: toJsonObject(undo),
    }));
  if (deactivate) {
    await iam.send(new UpdateAccessKeyCommand({ UserName: args.user, AccessKeyId: key, Status: "Inactive" }));
  }
  await applyQuarantine(org, plan);
  const record = await recordCompletion(ctx.ledger, intent, {
    action: ACCESS_KEY_ACTION,
    subjects: [userArn, key],
    details: { ...details, account: ctx.account, restored: plan.drift, quarantine: quarantineDetails(plan) },
    undo: intent.undo,
  });
  return { action: ACCESS_KEY_ACTION, dryRun: false, changes, notes, details, record };
}

/** Puts the key back in the status recorded in an {@link AccessKeyUndo} (the quarantine is undone by the caller). */
export async function undoAccessKey(ctx: ContainContext, undo: AccessKeyUndo): Promise<string[]> {
  if (!ctx.dryRun) {
    const iam = ctx.factory.client(IAMClient, { account: undo.account, region: undo.region });
    await iam.send(
      new UpdateAccessKeyCommand({
        UserName: undo.user,
        AccessKeyId: undo.accessKeyId,
        Status: undo.previousStatus === "Inactive" ? "Inactive" : "Active",
      }),
    );
  }
  return [`set access key ${undo.accessKeyId} of user ${undo.user} back to ${undo.previousStatus}`];
}
