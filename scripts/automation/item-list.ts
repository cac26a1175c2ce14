/**
 * The item lists of an incident too large for the state's payload (Step Functions limits a state's input and output
 * to 256 KiB): the intake writes the targets to contain and the instances to capture as JSON arrays into the case's
 * folder of the evidence bucket, where the Distributed Maps' ItemReader (`s3:getObject`, InputType JSON) reads them.
 * Written once (If-None-Match, as every custody object) with their SHA-256, which the intake's decision record names
 * as evidence: the lists are part of the case, not loose objects in it.
 */
import { createHash } from "node:crypto";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { ClientFactory } from "../aws/clients";
import type { EvidenceItem } from "../custody/types";
import type { CaptureItem, ContainItem, ItemLists } from "./types";

/** Key of a list in the case's folder. */
export function itemListKey(caseId: string, name: "contain" | "capture"): string {
  return `cases/${caseId}/automation/${name}-items.json`;
}

/**
 * Writes both lists (an existing one, from an earlier delivery of the same execution, is kept: If-None-Match) and
 * returns where they are, with the evidence items the decision record names.
 */
export async function writeItemList(
  factory: ClientFactory,
  placement: { bucket: string; region: string },
  caseId: string,
  items: { contain: ContainItem[]; capture: CaptureItem[] },
): Promise<{ lists: ItemLists; evidence: EvidenceItem[] }> {
  const s3 = factory.client(S3Client, { region: placement.region });
  const write = async (name: "contain" | "capture", list: unknown[]): Promise<EvidenceItem> => {
    const key = itemListKey(caseId, name);
    const body = Buffer.from(JSON.stringify(list));
    const sha = createHash("sha256").update(body);
    const sha256 = sha.digest("hex");
    await s3
      .send(
        new PutObjectCommand({
          Bucket: placement.bucket,
          Key: key,
          Body: body,
          ContentType: "application/json",
          IfNoneMatch: "*",
          // The bucket's default retention (Object Lock) needs a checksum header on every upload.
          ChecksumAlgorithm: "SHA256",
          ChecksumSHA256: Buffer.from(sha256, "hex").toString("base64"),
        }),
      )
      .catch((err: { name?: string; $metadata?: { httpStatusCode?: number } }) => {
        // Already written by an earlier attempt of this intake: the same execution, the same list.
        if (err.name !== "PreconditionFailed" && err.$metadata?.httpStatusCode !== 412) throw err;
      });
    return { kind: "automation-items", location: `s3://${placement.bucket}/${key}`, sha256, bytes: body.length };
  };
  const [contain, capture] = await Promise.all([write("contain", items.contain), write("capture", items.capture)]);
  return {
    lists: {
      bucket: placement.bucket,
      containKey: itemListKey(caseId, "contain"),
      captureKey: itemListKey(caseId, "capture"),
    },
    evidence: [contain, capture],
  };
}
