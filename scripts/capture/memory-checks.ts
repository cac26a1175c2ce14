/**
 * What `flz capture memory` checks before it sends anything (issue 16): the instance is running, managed by Systems
 * Manager, online and Linux; the member account's FLZ-CaptureMemory document is exactly the one flz deploys (so a
 * member-account administrator cannot have swapped what runs); and the acquisition tool staged in the evidence bucket,
 * hashed here off the host, is the one the document pins. Each failure is one line saying what to do.
 */
import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import {
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  EC2Client,
  type _InstanceType,
} from "@aws-sdk/client-ec2";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DescribeInstanceInformationCommand, GetDocumentCommand, SSMClient } from "@aws-sdk/client-ssm";
import {
  MEMORY_CAPTURE_DOCUMENT_NAME,
  MEMORY_TOOL_KEY,
  memoryCaptureDocument,
  pinnedToolSha256,
} from "../../components/documents/ssm-memory";
import type { ClientFactory } from "../aws/clients";
import type { LandingZone } from "../contract";
import { describeError, OperationError } from "../errors";
import { hashStream } from "../hash/stream";
import { partsThatFit, planParts, type MemoryCaptureRequest, type PartPlan } from "./memory-plan";

/** What the checks found: everything the capture needs to go ahead. */
export interface MemoryCaptureFacts {
  /** Instance type, e.g. `m6i.large`. */
  readonly instanceType: string;
  /** Memory of the instance type, MiB. */
  readonly memoryMiB: number;
  /** SSM's view of the instance. */
  readonly ssm: { readonly pingStatus: string; readonly platform: string; readonly agentVersion?: string };
  /** The document version whose content was checked (SendCommand names it, so SSM runs exactly that content). */
  readonly documentVersion: string;
  /** SHA-256 of the document content as read. */
  readonly documentSha256: string;
  /** Bytes of the document content as read (counted, with the parameters, against SSM's 64 KB command limit). */
  readonly documentBytes: number;
  /** The tool hash the document pins. */
  readonly pinnedToolSha256: string;
  /** SHA-256 of the staged tool, computed here from the object, off the host. */
  readonly toolSha256: string;
  /** Bytes of the staged tool. */
  readonly toolBytes: number;
  /** How the image will be cut. */
  readonly plan: PartPlan;
}

function refuse(request: MemoryCaptureRequest, why: string): never {
  throw new OperationError(
    `cannot capture the memory of ${request.instanceId} (account ${request.account}, ${request.region}): ${why}`,
  );
}

/** Runs every check; throws {@link OperationError} with one line on the first that fails. */
export async function checkMemoryCapture(
  factory: ClientFactory,
  lz: LandingZone,
  request: MemoryCaptureRequest,
): Promise<MemoryCaptureFacts> {
  const place = { account: request.account, region: request.region };
  const ec2 = factory.client(EC2Client, place);
  const ssm = factory.client(SSMClient, place);
  const s3 = factory.client(S3Client, { region: lz.homeRegion });

  const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [request.instanceId] })).catch((err) => {
    if ((err as { name?: string }).name === "InvalidInstanceID.NotFound")
      refuse(request, "no such instance in that account and region");
    throw err;
  });
  const instance = described.Reservations?.[0]?.Instances?.[0];
  if (!instance) refuse(request, "no such instance in that account and region");
  if (instance.State?.Name !== "running")
    refuse(
      request,
      `the instance is ${instance.State?.Name ?? "in an unknown state"}, not running: memory exists only while it runs`,
    );
  const instanceType = instance.InstanceType ?? "";
  const types = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType as _InstanceType] }));
  const memoryMiB = types.InstanceTypes?.[0]?.MemoryInfo?.SizeInMiB;
  if (!memoryMiB) refuse(request, `the memory size of instance type ${instanceType} is unknown`);

  const info = await ssm.send(
    new DescribeInstanceInformationCommand({ Filters: [{ Key: "InstanceIds", Values: [request.instanceId] }] }),
  );
  const managed = info.InstanceInformationList?.find((i) => i.InstanceId === request.instanceId);
  if (!managed)
    refuse(
      request,
      "Systems Manager does not manage it (no SSM agent registered, or no instance profile allowing SSM)",
    );
  if (managed.PingStatus !== "Online")
    refuse(
      request,
      `its SSM agent is ${managed.PingStatus ?? "not reporting"}, not Online: the command would never run`,
    );
  if (managed.PlatformType !== "Linux")
    refuse(
      request,
      `it runs ${managed.PlatformType ?? "an unknown platform"}; flz captures memory of Linux instances only`,
    );

  const document = await ssm
    .send(new GetDocumentCommand({ Name: MEMORY_CAPTURE_DOCUMENT_NAME, DocumentFormat: "JSON" }))
    .catch((err) => {
      if ((err as { name?: string }).name === "InvalidDocument")
        refuse(
          request,
          `the account has no ${MEMORY_CAPTURE_DOCUMENT_NAME} document: set memoryToolSha256 in the stack configuration and deploy (docs/memory.md)`,
        );
      throw err;
    });
  const content = document.Content ?? "";
  const pinned = pinnedToolSha256(content);
  let asDeployed: unknown;
  try {
    asDeployed = JSON.parse(content);
  } catch {
    asDeployed = undefined;
  }
  if (
    !pinned ||
    !isDeepStrictEqual(asDeployed, JSON.parse(JSON.stringify(memoryCaptureDocument({ toolSha256: pinned }))))
  ) {
    refuse(
      request,
      `its ${MEMORY_CAPTURE_DOCUMENT_NAME} document (version ${document.DocumentVersion ?? "?"}) is not the one flz deploys: it may have been changed in the member account; redeploy the member roles StackSet`,
    );
  }

  let tool: { sha256: string; bytes: number };
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: lz.evidenceBucket, Key: MEMORY_TOOL_KEY }));
    tool = await hashStream(object.Body as AsyncIterable<Uint8Array>);
  } catch (err) {
    refuse(
      request,
      `the acquisition tool s3://${lz.evidenceBucket}/${MEMORY_TOOL_KEY} cannot be read (${describeError(err)}): stage it first (docs/memory.md)`,
    );
  }
  if (tool.sha256 !== pinned)
    refuse(
      request,
      `the staged tool s3://${lz.evidenceBucket}/${MEMORY_TOOL_KEY} hashes to ${tool.sha256}, but the document pins ${pinned}: stage the pinned build, or pin this one in memoryToolSha256`,
    );
  return {
    instanceType,
    memoryMiB,
    ssm: { pingStatus: managed.PingStatus, platform: managed.PlatformType, agentVersion: managed.AgentVersion },
    documentVersion: document.DocumentVersion ?? "$DEFAULT",
    documentSha256: createHash("sha256").update(content).digest("hex"),
    documentBytes: Buffer.byteLength(content),
    pinnedToolSha256: pinned,
    toolSha256: tool.sha256,
    toolBytes: tool.bytes,
    // As many parts as SSM's command size limit leaves room for beside this document (larger parts when needed).
    plan: planParts(memoryMiB, request.partSizeMiB, partsThatFit(Buffer.byteLength(content))),
  };
}
