/**
 * `contain key`: destination containment of a KMS key: one statement added to the key policy denying the given
 * principals every use of the key (`kms:*`). The key is never disabled, scheduled for deletion or re-keyed: data
 * encrypted under it stays readable by everyone else, and evidence stays decryptable. The key policy's own statements
 * stay; undo takes out exactly this action's statement. The forensic roles cannot be named, and KMS's lockout check
 * (`BypassPolicyLockoutSafetyCheck` false) stays on.
 */
import { GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand } from "@aws-sdk/client-kms";
import type { PolicyStatement } from "../../components/documents";
import type { ClientFactory } from "../aws/clients";
import type { JsonValue } from "../custody/types";
import { UsageError } from "../errors";
import { awsErrorName, type ContainContext, type ContainResult } from "./common";
import { containSid, missing, parsePolicy, withoutStatements, withStatements } from "./bucket-policy";
import { findOpenIntent, recordCompletion, recordIntent, toJsonObject } from "./intent";

/** Ledger action of a key containment. */
export const KEY_ACTION = "contain.key.restricted";

/** Undo information of `contain key`. */
export interface KeyUndo {
  readonly kind: "key-policy";
  readonly account: string;
  readonly region: string;
  readonly keyArn: string;
  /** The statement this action put. */
  readonly statements: PolicyStatement[];
}

/** Type guard for recorded key undo information. */
export function isKeyUndo(value: unknown): value is KeyUndo {
  const v = value as Partial<KeyUndo> | undefined;
  return v?.kind === "key-policy" && typeof v.keyArn === "string" && Array.isArray(v.statements);
}

const KEY_ARN = /^arn:(aws|aws-cn|aws-us-gov):kms:([a-z0-9-]+):(\d{12}):key\/(mrk-)?[0-9a-f-]{32,36}$/;

/** Validates `--key`: a key ARN (an alias could be repointed between reading and writing). */
export function parseKeyArn(text: string | undefined): { arn: string; region: string; account: string } {
  const m = KEY_ARN.exec((text ?? "").trim());
  if (!m) {
    throw new UsageError(
      `--key ${text ?? "(missing)"} is not a KMS key ARN: give arn:aws:kms:<region>:<account>:key/<key ID> (not an alias)`,
    );
  }
  return { arn: m[0], region: m[2], account: m[3] };
}

/** The deny statement (pure). */
export function keyStatement(caseId: string, keyArn: string, principals: readonly string[]): PolicyStatement {
  return {
    Sid: containSid(caseId, "key-principals", keyArn),
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: "kms:*",
    Resource: "*",
    Condition: { ArnEquals: { "aws:PrincipalArn": [...principals].sort() } },
  };
}

async function readKeyPolicy(kms: KMSClient, keyArn: string): Promise<string | undefined> {
  try {
    return (await kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: "default" }))).Policy;
  } catch (err) {
    if (awsErrorName(err) === "NotFoundException")
      throw new UsageError(`key ${keyArn} does not exist: give the ARN of a key of the account`);
    throw err;
  }
}

/** Arguments of {@link containKey}. */
export interface ContainKeyArgs {
  /** `--key`, parsed. */
  readonly keyArn: string;
  /** `--deny-principal`: role or user ARNs. */
  readonly principals: readonly string[];
}

/** Denies the principals every use of the key (see the module comment). */
export async function containKey(ctx: ContainContext, args: ContainKeyArgs): Promise<ContainResult> {
  const kms = ctx.factory.client(KMSClient, { account: ctx.account, region: ctx.region });
  const before = await readKeyPolicy(kms, args.keyArn);
  const policy = parsePolicy(before, `key ${args.keyArn}`);
  const statement = keyStatement(ctx.ledger.caseId, args.keyArn, args.principals);
  const targets = [`key:${args.keyArn}`];
  const open = findOpenIntent(await ctx.ledger.records(), KEY_ACTION, targets);
  const needed = missing(policy, [statement]).length > 0;
  const details: { [key: string]: JsonValue } = {
    keyArn: args.keyArn,
    principals: [...args.principals].sort(),
    statement: statement.Sid ?? "",
  };
  const changes = needed
    ? [
        {
          target: args.keyArn,
          description: `add ${statement.Sid ?? ""} to the policy of key ${args.keyArn}: deny kms:* to ${args.principals.join(", ")}`,
        },
      ]
    : [];
  const notes = [
    "the key stays enabled: everyone else keeps using it, and data encrypted under it stays readable",
    ...(open ? [`completing record ${open.sequence}, an interrupted containment of this key`] : []),
  ];
  if (!needed && !open)
    return { action: KEY_ACTION, dryRun: ctx.dryRun, changes, notes: [...notes, "already in effect"], details };
  if (ctx.dryRun) return { action: KEY_ACTION, dryRun: true, changes, notes, details };
  const undo: KeyUndo = {
    kind: "key-policy",
    account: ctx.account,
    region: ctx.region,
    keyArn: args.keyArn,
    statements: [statement],
  };
  const intent =
    open ??
    (await recordIntent(ctx.ledger, {
      action: KEY_ACTION,
      subjects: [args.keyArn],
      targets,
      account: ctx.account,
      region: ctx.region,
      before: { policy: before ?? null },
      plan: toJsonObject({ statement }),
      identifiers: { sid: statement.Sid ?? "" },
      undo: toJsonObject(undo),
    }));
  if (needed) {
    await kms.send(
      new PutKeyPolicyCommand({
        KeyId: args.keyArn,
        PolicyName: "default",
        Policy: JSON.stringify(withStatements(policy, [statement])),
        BypassPolicyLockoutSafetyCheck: false,
      }),
    );
  }
  const record = await recordCompletion(ctx.ledger, intent, {
    action: KEY_ACTION,
    subjects: [args.keyArn],
    details,
    undo: intent.undo,
  });
  return { action: KEY_ACTION, dryRun: false, changes, notes, details, record };
}

/** Takes the action's statement out of the key policy. */
export async function undoKey(ctx: ContainContext, undo: KeyUndo): Promise<string[]> {
  const kms = ctx.factory.client(KMSClient, { account: undo.account, region: undo.region });
  const policy = parsePolicy(await readKeyPolicy(kms, undo.keyArn), `key ${undo.keyArn}`);
  const sids = undo.statements.map((s) => s.Sid ?? "");
  const left = withoutStatements(policy, sids);
  if (left.Statement.length === policy.Statement.length)
    return [`key ${undo.keyArn}: no statement of this action left in its policy`];
  if (!ctx.dryRun) {
    await kms.send(
      new PutKeyPolicyCommand({
        KeyId: undo.keyArn,
        PolicyName: "default",
        Policy: JSON.stringify(left),
        BypassPolicyLockoutSafetyCheck: false,
      }),
    );
  }
  return [`remove ${sids.join(", ")} from the policy of key ${undo.keyArn}`];
}

/** The drift check of a key containment. */
export async function keyFindings(factory: ClientFactory, undo: KeyUndo): Promise<string[]> {
  const kms = factory.client(KMSClient, { account: undo.account, region: undo.region });
  const policy = parsePolicy(await readKeyPolicy(kms, undo.keyArn), `key ${undo.keyArn}`);
  return missing(policy, undo.statements).map(
    (sid) => `key ${undo.keyArn}: statement ${sid} was removed from its policy or changed`,
  );
}
