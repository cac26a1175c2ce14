/**
 * The instance's DescribeInstances record and console output, stored once per case and instance in the evidence
 * bucket, each under a write-ahead intent naming its object key and the SHA-256 of the bytes about to be written: a
 * run killed after the write and before the record leaves an object the next run finds by that key and records
 * (checking S3's SHA-256 of it), rather than a second, unrecorded copy.
 */
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { Instance } from "@aws-sdk/client-ec2";
import { isMissingObject } from "../custody/ledger";
import { describeError } from "../errors";
import { appendIntent, recordOnce, type Context } from "./context";
import { consoleOutput, sha256Hex, storeArtefact, type StoredArtefact } from "./steps";

/** An instance artefact's outcome. */
export interface ArtefactResult {
  /** `instance-record` or `console-output`. */
  readonly kind: string;
  /** `s3://bucket/key`, when stored. */
  readonly location?: string;
  /** Hex SHA-256 of the stored bytes, when stored. */
  readonly sha256?: string;
  /** The error line, when it could not be stored. */
  readonly error?: string;
}

/** The object an open intent names, when it was written: its size, version and S3's SHA-256 of it. */
async function storedObject(s3: S3Client, bucket: string, key: string): Promise<StoredArtefact | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }));
    const sha256 = head.ChecksumSHA256 ? Buffer.from(head.ChecksumSHA256, "base64").toString("hex") : undefined;
    if (!sha256) return undefined;
    return { location: `s3://${bucket}/${key}`, sha256, bytes: head.ContentLength ?? 0, versionId: head.VersionId };
  } catch (err) {
    if (isMissingObject(err)) return undefined;
    throw err;
  }
}

/** Stores the instance record and console output once per case and instance (a resumed run keeps the first ones). */
export async function storeInstanceArtefacts(ctx: Context, instance: Instance): Promise<ArtefactResult[]> {
  const { request, lz } = ctx;
  const s3 = ctx.options.factory.client(S3Client, { region: lz.homeRegion });
  const prefix = `cases/${request.caseId}/artefacts/${request.account}/${request.region}/${request.instanceId}`;
  const kmsKeyArn = lz.evidenceKeyArns[lz.homeRegion] ?? ctx.destination.kmsKeyArn;
  const items: { kind: string; file: string; contentType: string; body: () => Promise<string> }[] = [
    {
      kind: "instance-record",
      file: "describe-instances.json",
      contentType: "application/json",
      body: async () => `${JSON.stringify(instance, null, 2)}\n`,
    },
    {
      kind: "console-output",
      file: "console-output.txt",
      contentType: "text/plain; charset=utf-8",
      body: () => consoleOutput(ctx.memberSource, request.instanceId),
    },
  ];
  const stored: ArtefactResult[] = [];
  const record = (subject: string, artefact: StoredArtefact, kind: string, intentId: string, recovered: boolean) =>
    recordOnce(ctx, subject, {
      action: "capture.artefact.stored",
      subjects: [subject, request.instanceId],
      evidence: [
        {
          kind,
          location: artefact.location,
          sha256: artefact.sha256,
          bytes: artefact.bytes,
          details: artefact.versionId ? { versionId: artefact.versionId } : {},
        },
      ],
      details: { intentId, recoveredFromIntent: recovered },
    });
  for (const item of items) {
    const subject = `${item.kind}:${request.account}/${request.region}/${request.instanceId}`;
    const earlier = ctx.state.artefacts.get(subject);
    if (earlier) {
      stored.push(earlier);
      continue;
    }
    try {
      // An earlier run's write, made under an intent but never recorded: find it by its key, record it.
      let found: StoredArtefact | undefined;
      const open = ctx.state.openArtefacts.get(subject) ?? [];
      for (const intent of open) {
        if (intent.identifier.kind !== "object") continue;
        const candidate = await storedObject(s3, intent.identifier.bucket, intent.identifier.key);
        if (candidate && candidate.sha256 === intent.facts?.sha256) {
          await record(subject, candidate, item.kind, intent.id, true);
          found = candidate;
          break;
        }
      }
      if (found) {
        stored.push({ kind: item.kind, location: found.location, sha256: found.sha256 });
        continue;
      }
      const body = await item.body();
      const key = `${prefix}/${ctx.now().toISOString().replace(/[:.]/g, "-")}-${item.file}`;
      const sha256 = sha256Hex(Buffer.from(body, "utf8"));
      const { intent } = await appendIntent(ctx, {
        operation: "PutObject",
        step: item.kind,
        region: lz.homeRegion,
        identifier: { kind: "object", bucket: lz.evidenceBucket, key },
        before: { object: null },
        undo: "none: the object is kept under the bucket's COMPLIANCE retention",
        subjects: [subject, request.instanceId],
        facts: { subject, sha256, bytes: Buffer.byteLength(body) },
        supersedes: open.map((i) => i.id),
      });
      let artefact: StoredArtefact;
      try {
        artefact = await storeArtefact(s3, {
          bucket: lz.evidenceBucket,
          key,
          body,
          contentType: item.contentType,
          kmsKeyArn,
        });
      } catch (err) {
        // A lost answer of a write that landed: the key has our bytes.
        const landed = await storedObject(s3, lz.evidenceBucket, key).catch(() => undefined);
        if (!landed || landed.sha256 !== sha256) throw err;
        artefact = landed;
      }
      await record(subject, artefact, item.kind, intent.id, false);
      stored.push({ kind: item.kind, location: artefact.location, sha256: artefact.sha256 });
    } catch (err) {
      const line = `cannot store the ${item.kind} of ${request.instanceId}: ${describeError(err)}`;
      ctx.progress.note(line);
      await ctx.options.ledger.append({
        action: "capture.artefact.failed",
        subjects: [subject, request.instanceId],
        outcome: "failed",
        error: line,
      });
      stored.push({ kind: item.kind, error: line });
    }
  }
  return stored;
}
