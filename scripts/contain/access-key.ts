/**
 * `contain access-key`: deactivate one long-term access key of an IAM user (never delete it: deletion destroys the
 * key ID's link to CloudTrail history and cannot be undone), and show the user's other keys with their last use, so
 * the responder sees at once whether the attacker holds a second key.
 */
import {
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import type { JsonValue } from "../custody/types";
import { UsageError } from "../errors";
import { awsErrorName, type ContainContext, type ContainResult, recordChanges } from "./common";

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

/** Undo information of a key deactivation: the status the key had. */
export interface AccessKeyUndo {
  readonly kind: "access-key";
  readonly account: string;
  readonly region: string;
  readonly user: string;
  readonly accessKeyId: string;
  /** Status before this action (`Active` or `Inactive`). */
  readonly previousStatus: string;
}

/** Type guard for recorded undo information. */
export function isAccessKeyUndo(value: unknown): value is AccessKeyUndo {
  const v = value as Partial<AccessKeyUndo> | undefined;
  return (
    v?.kind === "access-key" &&
    typeof v.user === "string" &&
    typeof v.accessKeyId === "string" &&
    typeof v.previousStatus === "string"
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
}

/** Deactivates the key, reports every key of the user with its last use, records the previous status for undo. */
export async function deactivateAccessKey(ctx: ContainContext, args: DeactivateAccessKeyArgs): Promise<ContainResult> {
  const key = requireAccessKeyId(args.key);
  if (!/^[\w+=,.@-]{1,64}$/.test(args.user)) {
    throw new UsageError(
      `--user ${args.user} is not an IAM user name: give the name (not the ARN) of a user in account ${ctx.account}`,
    );
  }
  const iam = ctx.factory.client(IAMClient, { account: ctx.account, region: ctx.region });
  const listed = await iam.send(new ListAccessKeysCommand({ UserName: args.user })).catch((err: unknown) => {
    if (awsErrorName(err) === "NoSuchEntityException" || awsErrorName(err) === "NoSuchEntity") {
      throw new UsageError(
        `user ${args.user} does not exist in account ${ctx.account}: give the name of an existing IAM user`,
      );
    }
    throw err;
  });
  const keys = listed.AccessKeyMetadata ?? [];
  const target = keys.find((k) => k.AccessKeyId === key);
  if (!target) {
    const known = keys.map((k) => k.AccessKeyId).join(", ") || "none";
    throw new UsageError(
      `access key ${key} is not a key of user ${args.user} in account ${ctx.account} (the user's keys: ${known})`,
    );
  }
  const previousStatus = target.Status ?? "Active";
  const userArn = `arn:aws:iam::${ctx.account}:user/${args.user}`;
  const changes =
    previousStatus === "Inactive"
      ? []
      : [
          {
            target: key,
            description: `deactivate access key ${key} of user ${args.user} (Active -> Inactive; the key is kept)`,
          },
        ];

  // The deactivation and the last-use look-ups do not depend on each other.
  const [reports] = await Promise.all([
    Promise.all(
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
    ),
    changes.length > 0 && !ctx.dryRun
      ? iam.send(new UpdateAccessKeyCommand({ UserName: args.user, AccessKeyId: key, Status: "Inactive" }))
      : Promise.resolve(undefined),
  ]);

  const others = reports.filter((r) => r.accessKeyId !== key);
  const notes = [
    ...(changes.length === 0 ? [`access key ${key} is already inactive`] : []),
    others.length === 0 ? `user ${args.user} has no other access key` : `other keys of user ${args.user}:`,
    ...others.map((r) => `  ${describeKey(r)}`),
  ];
  const details: { [k: string]: JsonValue } = {
    user: args.user,
    userArn,
    accessKeyId: key,
    previousStatus,
    keys: reports.map((r) => ({
      ...r,
      created: r.created ?? null,
      lastUsed: r.lastUsed ?? null,
      lastUsedWhere: r.lastUsedWhere ?? null,
    })),
  };
  if (ctx.dryRun || changes.length === 0)
    return { action: ACCESS_KEY_ACTION, dryRun: ctx.dryRun, changes, notes, details };

  const undo: AccessKeyUndo = {
    kind: "access-key",
    account: ctx.account,
    region: ctx.region,
    user: args.user,
    accessKeyId: key,
    previousStatus,
  };
  const record = await recordChanges(ctx.ledger, {
    action: ACCESS_KEY_ACTION,
    subjects: [userArn, key],
    details: { ...details, account: ctx.account },
    undo: { ...undo },
  });
  return { action: ACCESS_KEY_ACTION, dryRun: false, changes, notes, details, record };
}

/** Puts the key back in the status recorded in an {@link AccessKeyUndo}. */
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
