/**
 * Shared facts of `flz capture memory` (issue 16): the ledger actions of a capture, its options and result, where the
 * image goes, and the read-only AWS looks every step takes (open uploads, parts received, the command's state). Kept
 * apart from the steps (memory.ts sends, memory-follow.ts follows and records) so each reads on its own.
 */
import {
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  S3Client,
  type Part,
} from "@aws-sdk/client-s3";
import { GetCommandInvocationCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { Sleep } from "../aws/backoff";
import type { ClientFactory } from "../aws/clients";
import type { LandingZone } from "../contract";
import { isMissingObject } from "../custody/ledger";
import { openIntents, type RecordedIntent } from "../custody/intent";
import type { CustodyLedger, CustodyRecord, EvidenceItem } from "../custody/types";
import type { Io } from "../output";
import type { MemoryCaptureRequest } from "./memory-plan";

/** Action of the intent record written before the upload is created. */
export const MEMORY_INTENT_ACTION = "capture.memory.intent";
/** Action of the record that says the command was sent (command ID, upload ID). */
export const MEMORY_SENT_ACTION = "capture.memory.sent";
/** Action of the record of the captured image. */
export const MEMORY_ACTION = "capture.memory";
/** Action of the record of an interrupted capture that was aborted. */
export const MEMORY_ABORTED_ACTION = "capture.memory.aborted";

/** SSM statuses after which a command does nothing more. */
export const TERMINAL = new Set(["Success", "Failed", "Cancelled", "TimedOut", "Cancelling"]);

/** Options of {@link captureMemory} and {@link abortMemoryCapture}. */
export interface MemoryCaptureOptions {
  /** Client factory of the forensic responder, for the case. */
  readonly factory: ClientFactory;
  /** The landing zone. */
  readonly lz: LandingZone;
  /** The validated request. */
  readonly request: MemoryCaptureRequest;
  /** The case's ledger. */
  readonly ledger: CustodyLedger;
  /** Where progress goes. */
  readonly io: Io;
  /** Sleep between polls (tests). */
  readonly sleep?: Sleep;
  /** The clock (tests). */
  readonly now?: () => Date;
  /** Time given to SSM beyond the command's own timeout before it is cancelled, ms (tests). Default 120 000. */
  readonly graceMs?: number;
}

/** What a capture recorded. */
export interface MemoryCaptureResult {
  /** The image's evidence item (off-host SHA-256, host-reported digest and verdict in its details). */
  readonly evidence: EvidenceItem;
  /** The ledger record. */
  readonly record: { readonly sequence: number; readonly hash: string };
  /** The host's digest against ours. */
  readonly verdict: "MATCH" | "BROKEN" | "NOT REPORTED";
  /** How this run came to it: a new capture, or an interrupted one it completed. */
  readonly how: "captured" | "completed-interrupted";
  /** Interrupted uploads aborted on the way (upload IDs). */
  readonly aborted: string[];
}

/** Where the image goes: bucket, key, and the two as an s3:// location. */
export interface Place {
  readonly bucket: string;
  readonly key: string;
  readonly location: string;
}

/** The value when it is a string (ledger details are JSON). */
export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** The place of an image key in the evidence bucket. */
export function placeOf(lz: LandingZone, key: string): Place {
  return { bucket: lz.evidenceBucket, key, location: `s3://${lz.evidenceBucket}/${key}` };
}

/** The open memory-capture intents of this instance. */
export function openMemoryIntents(records: readonly CustodyRecord[], request: MemoryCaptureRequest): RecordedIntent[] {
  return openIntents(records, MEMORY_INTENT_ACTION).filter(
    (i) => i.facts?.instanceId === request.instanceId && i.account === request.account && i.region === request.region,
  );
}

/** Upload IDs still open for exactly this key. */
export async function openUploads(s3: S3Client, place: Place): Promise<string[]> {
  const ids: string[] = [];
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: place.bucket, Prefix: place.key, KeyMarker, UploadIdMarker }),
    );
    for (const u of page.Uploads ?? []) if (u.Key === place.key && u.UploadId) ids.push(u.UploadId);
    if (!page.IsTruncated) return ids;
    KeyMarker = page.NextKeyMarker;
    UploadIdMarker = page.NextUploadIdMarker;
  }
}

/** Every part S3 holds for an upload, in order. */
export async function listParts(s3: S3Client, place: Place, uploadId: string): Promise<Part[]> {
  const parts: Part[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListPartsCommand({ Bucket: place.bucket, Key: place.key, UploadId: uploadId, PartNumberMarker: marker }),
    );
    parts.push(...(page.Parts ?? []));
    if (!page.IsTruncated) return parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    marker = page.NextPartNumberMarker;
  }
}

/** Whether the image object exists (a completed upload). */
export async function objectExists(s3: S3Client, place: Place): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: place.bucket, Key: place.key }));
    return true;
  } catch (err) {
    if (isMissingObject(err)) return false;
    throw err;
  }
}

/** The command's state on the instance, and what the script printed. */
export interface Invocation {
  readonly status: string;
  readonly stdout: string;
  readonly stderr: string;
}

/** The command's invocation on the instance (Pending until SSM knows it). */
export async function invocation(ssm: SSMClient, commandId: string, instanceId: string): Promise<Invocation> {
  try {
    const out = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));
    return {
      status: out.Status ?? "Pending",
      stdout: out.StandardOutputContent ?? "",
      stderr: out.StandardErrorContent ?? "",
    };
  } catch (err) {
    // Right after SendCommand the invocation may not exist yet.
    if ((err as { name?: string }).name === "InvocationDoesNotExist")
      return { status: "Pending", stdout: "", stderr: "" };
    throw err;
  }
}
