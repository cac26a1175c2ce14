/**
 * `contain bucket`: destination containment of an S3 bucket (AWS: "filtering and routing to prevent access to a target
 * resource"): deny statements added to the bucket's policy (for given principals, for given address ranges, or for
 * everyone but the forensic roles), and the bucket's public access block turned fully on. The bucket's own statements
 * stay; undo takes out exactly the statements of this action (whatever else changed in the policy since stays) and
 * puts the public access block back as it was. The forensic roles are never denied, so undo stays possible.
 */
import {
  DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetPublicAccessBlockCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  type PublicAccessBlockConfiguration,
} from "@aws-sdk/client-s3";
import type { PolicyStatement } from "../../components/documents";
import type { ClientFactory } from "../aws/clients";
import type { JsonValue } from "../custody/types";
import { UsageError } from "../errors";
import { awsErrorName, partitionOf, type ContainContext, type ContainResult } from "./common";
import { containSid, missing, parsePolicy, withoutStatements, withStatements } from "./bucket-policy";
import { findOpenIntent, recordCompletion, recordIntent, toJsonObject } from "./intent";

/** Ledger action of a bucket containment. */
export const BUCKET_ACTION = "contain.bucket.restricted";

const FULL_BLOCK: PublicAccessBlockConfiguration = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

/** Undo information of `contain bucket`. */
export interface BucketUndo {
  readonly kind: "bucket-policy";
  readonly account: string;
  readonly region: string;
  readonly bucket: string;
  /** The statements this action put (undo removes these Sids; the drift check compares them). */
  readonly statements: PolicyStatement[];
  /** Whether the bucket had a policy before (none: undo deletes the policy when nothing else is left in it). */
  readonly hadPolicy: boolean;
  /** The public access block before, null when there was none; absent when this action did not touch it. */
  readonly publicAccessBlock?: PublicAccessBlockConfiguration | null;
}

/** Type guard for recorded bucket undo information. */
export function isBucketUndo(value: unknown): value is BucketUndo {
  const v = value as Partial<BucketUndo> | undefined;
  return v?.kind === "bucket-policy" && typeof v.bucket === "string" && Array.isArray(v.statements);
}

/** What to deny on the bucket. */
export interface BucketDenial {
  /** Role or user ARNs denied every S3 action on the bucket. */
  readonly principals: readonly string[];
  /** Address ranges (aws:SourceIp) denied every S3 action on the bucket. */
  readonly cidrs: readonly string[];
  /** Everyone but the forensic roles denied every S3 action on the bucket. */
  readonly everyone: boolean;
}

/** The deny statements of a denial (pure). `exempt`: role ARNs never denied (the forensic roles). */
export function bucketStatements(
  caseId: string,
  bucketArn: string,
  denial: BucketDenial,
  exempt: readonly string[],
): PolicyStatement[] {
  const base = {
    Effect: "Deny" as const,
    Principal: "*" as const,
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
  };
  const spare = { ArnNotLike: { "aws:PrincipalArn": [...exempt].sort() } };
  const out: PolicyStatement[] = [];
  if (denial.everyone) out.push({ Sid: containSid(caseId, "everyone", bucketArn), ...base, Condition: spare });
  if (denial.principals.length > 0) {
    out.push({
      Sid: containSid(caseId, "principals", bucketArn),
      ...base,
      Condition: { ArnEquals: { "aws:PrincipalArn": [...denial.principals].sort() } },
    });
  }
  if (denial.cidrs.length > 0) {
    out.push({
      Sid: containSid(caseId, "cidrs", bucketArn),
      ...base,
      Condition: { IpAddress: { "aws:SourceIp": [...denial.cidrs].sort() }, ...spare },
    });
  }
  return out;
}

async function readPolicy(s3: S3Client, bucket: string): Promise<string | undefined> {
  try {
    return (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
  } catch (err) {
    if (awsErrorName(err) === "NoSuchBucketPolicy") return undefined;
    if (awsErrorName(err) === "NoSuchBucket")
      throw new UsageError(`bucket ${bucket} does not exist: give a bucket name of the account`);
    throw err;
  }
}

async function readBlock(s3: S3Client, bucket: string): Promise<PublicAccessBlockConfiguration | null> {
  try {
    return (await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration ?? null;
  } catch (err) {
    if (awsErrorName(err) === "NoSuchPublicAccessBlockConfiguration") return null;
    throw err;
  }
}

const fullyBlocked = (c: PublicAccessBlockConfiguration | null): boolean =>
  c !== null && Object.keys(FULL_BLOCK).every((k) => c[k as keyof PublicAccessBlockConfiguration] === true);

/** Arguments of {@link containBucket}. */
export interface ContainBucketArgs {
  /** `--bucket`. */
  readonly bucket: string;
  /** What to deny. */
  readonly denial: BucketDenial;
  /** Turn the public access block fully on (default). */
  readonly blockPublicAccess: boolean;
  /** Role ARNs never denied: the forensic roles (forensic account's and the member account's). */
  readonly exempt: readonly string[];
}

/** Restricts the bucket (see the module comment). */
export async function containBucket(given: ContainContext, args: ContainBucketArgs): Promise<ContainResult> {
  // S3 answers a bucket's configuration calls only in the bucket's own region (elsewhere: 301 PermanentRedirect),
  // and `--region` names the incident's region, not necessarily the bucket's: act, record and undo where it lives.
  const ctx = { ...given, region: await bucketRegion(given, args.bucket) };
  const s3 = ctx.factory.client(S3Client, { account: ctx.account, region: ctx.region });
  const bucketArn = `arn:${partitionOf(ctx.region)}:s3:::${args.bucket}`;
  const before = await readPolicy(s3, args.bucket);
  const policy = parsePolicy(before, `bucket ${args.bucket}`);
  const block = await readBlock(s3, args.bucket);
  const statements = bucketStatements(ctx.ledger.caseId, bucketArn, args.denial, args.exempt);
  const putPolicy = missing(policy, statements).length > 0;
  const putBlock = args.blockPublicAccess && !fullyBlocked(block);
  const targets = [`bucket:${ctx.account}:${args.bucket}`];
  const open = findOpenIntent(await ctx.ledger.records(), BUCKET_ACTION, targets);
  const changes = [
    ...statements
      .filter((s) => missing(policy, [s]).length > 0)
      .map((s) => ({
        target: bucketArn,
        description: `add ${s.Sid ?? ""} to the policy of bucket ${args.bucket}: ${denialLine(s)}`,
      })),
    ...(putBlock
      ? [{ target: bucketArn, description: `turn the public access block of bucket ${args.bucket} fully on` }]
      : []),
  ];
  const details: { [key: string]: JsonValue } = {
    bucket: args.bucket,
    statements: statements.map((s) => s.Sid ?? ""),
    publicAccessBlocked: args.blockPublicAccess,
  };
  const notes = [
    ...(args.denial.cidrs.length > 0
      ? ["requests through a VPC endpoint carry private addresses: an address-range deny does not match them"]
      : []),
    ...(open ? [`completing record ${open.sequence}, an interrupted containment of this bucket`] : []),
  ];
  if (!putPolicy && !putBlock && !open) {
    return { action: BUCKET_ACTION, dryRun: ctx.dryRun, changes: [], notes: [...notes, "already in effect"], details };
  }
  if (ctx.dryRun) return { action: BUCKET_ACTION, dryRun: true, changes, notes, details };
  const undo: BucketUndo = (open?.undo as unknown as BucketUndo | undefined) ?? {
    kind: "bucket-policy",
    account: ctx.account,
    region: ctx.region,
    bucket: args.bucket,
    statements,
    hadPolicy: before !== undefined,
    ...(args.blockPublicAccess ? { publicAccessBlock: block } : {}),
  };
  const intent =
    open ??
    (await recordIntent(ctx.ledger, {
      action: BUCKET_ACTION,
      subjects: [bucketArn],
      targets,
      account: ctx.account,
      region: ctx.region,
      before: toJsonObject({ policy: before ?? null, publicAccessBlock: block }),
      plan: toJsonObject({ statements, publicAccessBlock: putBlock }),
      identifiers: { sids: statements.map((s) => s.Sid ?? "") },
      undo: toJsonObject(undo),
    }));
  // The policy first: with BlockPublicPolicy on, S3 refuses to store a policy it deems public (the bucket's own).
  if (putPolicy) {
    await s3.send(
      new PutBucketPolicyCommand({ Bucket: args.bucket, Policy: JSON.stringify(withStatements(policy, statements)) }),
    );
  }
  if (putBlock) {
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: args.bucket, PublicAccessBlockConfiguration: FULL_BLOCK }));
  }
  const record = await recordCompletion(ctx.ledger, intent, {
    action: BUCKET_ACTION,
    subjects: [bucketArn],
    details,
    undo: intent.undo,
  });
  return { action: BUCKET_ACTION, dryRun: false, changes, notes, details, record };
}

/**
 * The region a bucket is in, from GetBucketLocation. In the `aws` partition it is asked in us-east-1, which answers it
 * for a bucket of any region; elsewhere, in the region given. `null` is us-east-1 and the legacy `EU` is eu-west-1.
 * @param ctx Where the containment acts (the account, and the region asked from outside the `aws` partition).
 * @param bucket The bucket's name.
 */
export async function bucketRegion(ctx: ContainContext, bucket: string): Promise<string> {
  const asked = partitionOf(ctx.region) === "aws" ? "us-east-1" : ctx.region;
  const s3 = ctx.factory.client(S3Client, { account: ctx.account, region: asked });
  let constraint: string | undefined;
  try {
    constraint = (await s3.send(new GetBucketLocationCommand({ Bucket: bucket }))).LocationConstraint;
  } catch (err) {
    const name = awsErrorName(err);
    if (name === "NoSuchBucket")
      throw new UsageError(
        `--bucket ${bucket}: no such bucket in account ${ctx.account} (check the name and --account)`,
      );
    throw err;
  }
  if (!constraint) return "us-east-1";
  return constraint === "EU" ? "eu-west-1" : constraint;
}

function denialLine(s: PolicyStatement): string {
  const c = s.Condition ?? {};
  if (c.ArnEquals) return `deny s3:* to ${String(c.ArnEquals["aws:PrincipalArn"])}`;
  if (c.IpAddress) return `deny s3:* from ${String(c.IpAddress["aws:SourceIp"])}`;
  return "deny s3:* to everyone but the forensic roles";
}

/** Takes the action's statements out of the policy and puts the public access block back. */
export async function undoBucket(ctx: ContainContext, undo: BucketUndo): Promise<string[]> {
  const s3 = ctx.factory.client(S3Client, { account: undo.account, region: undo.region });
  const lines: string[] = [];
  if (undo.publicAccessBlock !== undefined) {
    lines.push(`put the public access block of bucket ${undo.bucket} back as it was`);
    if (!ctx.dryRun) {
      if (undo.publicAccessBlock === null) await s3.send(new DeletePublicAccessBlockCommand({ Bucket: undo.bucket }));
      else {
        await s3.send(
          new PutPublicAccessBlockCommand({
            Bucket: undo.bucket,
            PublicAccessBlockConfiguration: undo.publicAccessBlock,
          }),
        );
      }
    }
  }
  const sids = undo.statements.map((s) => s.Sid ?? "");
  const policy = parsePolicy(await readPolicy(s3, undo.bucket), `bucket ${undo.bucket}`);
  const left = withoutStatements(policy, sids);
  if (left.Statement.length === policy.Statement.length)
    return [...lines, `bucket ${undo.bucket}: no statement of this action left in its policy`];
  lines.push(`remove ${sids.join(", ")} from the policy of bucket ${undo.bucket}`);
  if (!ctx.dryRun) {
    if (left.Statement.length === 0 && !undo.hadPolicy)
      await s3.send(new DeleteBucketPolicyCommand({ Bucket: undo.bucket }));
    else await s3.send(new PutBucketPolicyCommand({ Bucket: undo.bucket, Policy: JSON.stringify(left) }));
  }
  return lines;
}

/** The drift check of a bucket containment. */
export async function bucketFindings(factory: ClientFactory, undo: BucketUndo): Promise<string[]> {
  const s3 = factory.client(S3Client, { account: undo.account, region: undo.region });
  const policy = parsePolicy(await readPolicy(s3, undo.bucket), `bucket ${undo.bucket}`);
  const findings = missing(policy, undo.statements).map(
    (sid) => `bucket ${undo.bucket}: statement ${sid} was removed from its policy or changed`,
  );
  if (undo.publicAccessBlock !== undefined && !fullyBlocked(await readBlock(s3, undo.bucket))) {
    findings.push(`bucket ${undo.bucket}: its public access block is no longer fully on`);
  }
  return findings;
}
