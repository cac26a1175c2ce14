/**
 * Pure decisions of `flz capture memory` (issue 16): what a request may look like, how many parts of what size the
 * image is cut into, how one pre-signed URL per part becomes the document's two parameters, what the host printed,
 * and the verdict on the digest it reported. No AWS calls here; scripts/capture/memory.ts does the I/O.
 */
import {
  HOST_MARKERS,
  MEMORY_MAX_PARTS,
  PART_SIGNATURES_PATTERN,
  PRESIGNED_URL_PATTERN,
} from "../../components/documents/ssm-memory";
import { OperationError, UsageError } from "../errors";

/** What one `flz capture memory` run is asked to do, validated. */
export interface MemoryCaptureRequest {
  /** Case ID. */
  readonly caseId: string;
  /** Member account of the instance (12 digits). */
  readonly account: string;
  /** Region of the instance. */
  readonly region: string;
  /** EC2 instance ID. */
  readonly instanceId: string;
  /** Part size in MiB, when the operator chose one (5-1024). */
  readonly partSizeMiB?: number;
  /** Minutes the acquisition and upload may take before the command is cancelled (5-720). */
  readonly timeoutMinutes: number;
  /** Days the image stays under COMPLIANCE retention (1-36500). */
  readonly retainDays: number;
  /** Seconds between two looks at the command's status. */
  readonly pollSeconds: number;
  /** Abort an interrupted capture of the instance instead of capturing. */
  readonly abort: boolean;
}

/** Raw values as the CLI received them. */
export interface MemoryCaptureInput {
  readonly case?: string;
  readonly account?: string;
  readonly region?: string;
  readonly instance?: string;
  readonly partSizeMib?: string;
  readonly timeout?: string;
  readonly retainDays?: string;
  readonly abort?: boolean;
}

/**
 * Default timeout, minutes. The pre-signed URLs are signed with the responder's session, which lasts an hour at most
 * (the roles' maximum session, a deliberate limit): a capture must be sent within it.
 */
export const DEFAULT_MEMORY_TIMEOUT_MINUTES = 55;
/** Default retention of the image, days (the evidence bucket's default). */
export const DEFAULT_MEMORY_RETAIN_DAYS = 365;
/** Smallest part S3 accepts (but the last). */
export const MIN_PART_MIB = 5;
/** Default part size, MiB: one part at a time is held in the host's memory. */
export const DEFAULT_PART_MIB = 64;
/** Largest part the document accepts, MiB. */
export const MAX_PART_MIB = 1024;

const INSTANCE_ID = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;
const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const CASE_ID = /^[A-Za-z0-9][A-Za-z0-9._+=@-]{0,127}$/;

function wholeNumber(flag: string, value: string | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new UsageError(`${flag} ${value} is not a whole number from ${min} to ${max}`);
  return n;
}

/** Validates a request; throws {@link UsageError} naming the bad value and what would be valid. */
export function parseMemoryRequest(input: MemoryCaptureInput, pollSeconds = 5): MemoryCaptureRequest {
  const need = (flag: string, value: string | undefined, example: string): string => {
    if (!value) throw new UsageError(`${flag} is required, e.g. ${flag} ${example}`);
    return value;
  };
  const caseId = need("--case", input.case, "IR-2026-042");
  if (!CASE_ID.test(caseId))
    throw new UsageError(
      `--case ${JSON.stringify(caseId)} is not a case ID: letters, digits and . _ + = @ -, up to 128`,
    );
  const account = need("--account", input.account, "333333333333");
  if (!ACCOUNT_ID.test(account)) throw new UsageError(`--account ${account} is not a 12-digit account ID`);
  const region = need("--region", input.region, "eu-west-1");
  if (!REGION.test(region)) throw new UsageError(`--region ${region} is not a region name like eu-west-1`);
  const instanceId = need("--instance", input.instance, "i-0abc123def4567890");
  if (!INSTANCE_ID.test(instanceId))
    throw new UsageError(`--instance ${instanceId} is not an instance ID (i- and 8 or 17 hex digits)`);
  const partSizeMiB =
    input.partSizeMib === undefined
      ? undefined
      : wholeNumber("--part-size-mib", input.partSizeMib, MIN_PART_MIB, MAX_PART_MIB, DEFAULT_PART_MIB);
  return {
    caseId,
    account,
    region,
    instanceId,
    partSizeMiB,
    timeoutMinutes: wholeNumber("--timeout", input.timeout, 5, 720, DEFAULT_MEMORY_TIMEOUT_MINUTES),
    retainDays: wholeNumber("--retain-days", input.retainDays, 1, 36500, DEFAULT_MEMORY_RETAIN_DAYS),
    pollSeconds,
    abort: input.abort === true,
  };
}

/** How the image is cut: the part size and how many part URLs are prepared. */
export interface PartPlan {
  /** Bytes of every part but the last. */
  readonly partSizeMiB: number;
  /** Part URLs prepared (the image may use fewer). */
  readonly parts: number;
  /** Bytes the image is expected to be, about (memory size plus a margin for the tool's headers). */
  readonly expectedBytes: number;
}

/**
 * SSM's limit on a command: the document's content together with the parameter values given at run time may not
 * exceed 64 KB ("The content of the document must not exceed 64KB. This quota also includes the content specified for
 * input parameters at runtime": AWS Systems Manager API reference, CreateDocument `Content`; user guide, "Creating SSM
 * document content"). Read as 64,000 bytes, the smaller reading of "64 KB", so flz never sends a command SSM refuses.
 */
export const SSM_COMMAND_SIZE_LIMIT = 64_000;

/** Bytes each part adds to the `PartSignatures` parameter: 64 hex digits and the separating space. */
export const BYTES_PER_PART_SIGNATURE = 65;

/**
 * Bytes planned for each of the two pre-signed URLs (tool GET and UploadPart base) before they exist: a SigV4 query
 * string with an assumed-role session token is about 1,500 to 2,500 characters. The exact size is checked again,
 * with the real URLs, before SendCommand ({@link checkCommandSize}).
 */
export const PRESIGNED_URL_RESERVE = 4096;

/** The parameters of one memory-capture command, as SendCommand takes them. */
export type CommandParameters = Readonly<Record<string, readonly string[]>>;

/** Bytes SSM counts against {@link SSM_COMMAND_SIZE_LIMIT}: the document's content, every parameter name and value. */
export function commandSize(documentBytes: number, parameters: CommandParameters): number {
  let bytes = documentBytes;
  for (const [name, values] of Object.entries(parameters)) {
    bytes += Buffer.byteLength(name);
    for (const value of values) bytes += Buffer.byteLength(value);
  }
  return bytes;
}

/** Names of the document's parameters and the largest values of the two short ones (part size, timeout). */
const FIXED_PARAMETER_BYTES = commandSize(0, {
  ToolUrl: [],
  UploadUrl: [],
  PartSignatures: [],
  PartSizeMiB: ["1024"],
  ExecutionTimeout: ["999999"],
});

/**
 * How many part signatures fit beside a document of `documentBytes` and parameters other than the signatures of
 * `otherBytes` (default: the parameter names, the short values and {@link PRESIGNED_URL_RESERVE} for each URL), under
 * {@link SSM_COMMAND_SIZE_LIMIT} and the document's own {@link MEMORY_MAX_PARTS}.
 */
export function partsThatFit(
  documentBytes: number,
  otherBytes = FIXED_PARAMETER_BYTES + 2 * PRESIGNED_URL_RESERVE,
): number {
  const room = SSM_COMMAND_SIZE_LIMIT - documentBytes - otherBytes;
  // n signatures take 65n - 1 bytes (no space after the last).
  return Math.max(0, Math.min(MEMORY_MAX_PARTS, Math.floor((room + 1) / BYTES_PER_PART_SIGNATURE)));
}

/**
 * Parts for an instance of `memoryMiB`: the image is about the memory size (a LiME image adds a header per range), so
 * a quarter more, plus two parts, are prepared. Without a chosen size, the part size grows (from 64 MiB) until the
 * parts fit in `maxParts` (what SSM's size limit leaves room for: {@link partsThatFit}). A chosen size too small is bad
 * usage (the line names the smallest that fits); memory too large even for 1 GiB parts cannot be captured by one
 * command (the document's script holds one part at a time in the host's memory, so parts do not grow further).
 */
export function planParts(memoryMiB: number, chosenMiB?: number, maxParts: number = MEMORY_MAX_PARTS): PartPlan {
  const expectedMiB = Math.ceil(memoryMiB * 1.25) + 1;
  const limit = Math.min(MEMORY_MAX_PARTS, maxParts);
  const smallestMiB = limit > 2 ? Math.max(MIN_PART_MIB, Math.ceil(expectedMiB / (limit - 2))) : Infinity;
  if (smallestMiB > MAX_PART_MIB) {
    throw new OperationError(
      `${memoryMiB} MiB of memory would need more than ${limit} parts even of ${MAX_PART_MIB} MiB, and SSM's 64 KB limit on a command (document and parameters) leaves room for ${limit} part URLs: flz cannot capture this instance's memory in one command`,
    );
  }
  const partSizeMiB = chosenMiB ?? Math.min(MAX_PART_MIB, Math.max(DEFAULT_PART_MIB, smallestMiB));
  const parts = Math.ceil(expectedMiB / partSizeMiB) + 2;
  if (parts > limit) {
    throw new UsageError(
      `--part-size-mib ${partSizeMiB} would need ${parts} parts for ${memoryMiB} MiB of memory; SSM's 64 KB limit on a command leaves room for ${limit}: choose at least ${smallestMiB}`,
    );
  }
  return { partSizeMiB, parts, expectedBytes: memoryMiB * 2 ** 20 };
}

/**
 * The exact check before SendCommand, with the real URLs: throws {@link OperationError} (one line, naming the part
 * size that would fit) when the document and the parameters exceed {@link SSM_COMMAND_SIZE_LIMIT}.
 */
export function checkCommandSize(
  documentBytes: number,
  parameters: CommandParameters,
  plan: PartPlan,
  memoryMiB: number,
): void {
  const size = commandSize(documentBytes, parameters);
  if (size <= SSM_COMMAND_SIZE_LIMIT) return;
  const signatures = (parameters.PartSignatures ?? []).reduce((n, v) => n + Buffer.byteLength(v), 0);
  const fit = partsThatFit(documentBytes, size - signatures);
  const expectedMiB = Math.ceil(memoryMiB * 1.25) + 1;
  const advice =
    fit > 2 && Math.ceil(expectedMiB / (fit - 2)) <= MAX_PART_MIB
      ? `rerun with --part-size-mib ${Math.max(MIN_PART_MIB, Math.ceil(expectedMiB / (fit - 2)))}`
      : "the instance's memory is too large for one command";
  throw new OperationError(
    `the command would carry ${size} bytes of document and parameters (${plan.parts} parts of ${plan.partSizeMiB} MiB), over SSM's limit of ${SSM_COMMAND_SIZE_LIMIT}: ${advice}`,
  );
}

/**
 * The document's two upload parameters from one pre-signed URL per part (all signed at the same instant): the first
 * URL without `partNumber` and `X-Amz-Signature`, and the signatures in part order. Refuses URLs that differ in
 * anything else, or that the document's patterns would refuse (SSM would refuse the command).
 */
export function uploadParameters(urls: readonly string[]): { UploadUrl: string; PartSignatures: string } {
  const split = urls.map((raw, i) => {
    const url = new URL(raw);
    const signature = url.searchParams.get("X-Amz-Signature") ?? "";
    if (url.searchParams.get("partNumber") !== String(i + 1))
      throw new Error(`pre-signed URL ${i + 1} is not for part ${i + 1}`);
    url.searchParams.delete("X-Amz-Signature");
    url.searchParams.delete("partNumber");
    return { base: url.toString(), signature };
  });
  const base = split[0]?.base ?? "";
  if (split.some((s) => s.base !== base))
    throw new Error("the part URLs differ in more than their part number and signature: sign them at one instant");
  const PartSignatures = split.map((s) => s.signature).join(" ");
  if (!new RegExp(PRESIGNED_URL_PATTERN).test(base))
    throw new Error(`the upload URL does not match the document's pattern: ${base.slice(0, 80)}...`);
  if (!new RegExp(PART_SIGNATURES_PATTERN).test(PartSignatures))
    throw new Error("the part signatures do not match the document's pattern");
  return { UploadUrl: base, PartSignatures };
}

/** What the host printed (markers of the document's script), as far as it got. */
export interface HostReport {
  /** Kernel lockdown mode the host reported (`none`, `integrity`, `confidentiality`). */
  readonly lockdown?: string;
  /** SHA-256 of the tool the host downloaded and ran (it refuses one that is not the pinned hash). */
  readonly toolSha256?: string;
  /** Parts the host sent, and their bytes. */
  readonly parts?: { readonly count: number; readonly bytes: number };
  /** SHA-256 of the image as computed on the host: reported by the host, never the evidence hash. */
  readonly imageSha256?: string;
  /** The host's error lines. */
  readonly errors: string[];
}

/** Reads the markers out of the command's standard output. */
export function parseHostOutput(stdout: string): HostReport {
  const errors: string[] = [];
  let lockdown: string | undefined;
  let toolSha256: string | undefined;
  let imageSha256: string | undefined;
  let parts: { count: number; bytes: number } | undefined;
  for (const line of stdout.split("\n")) {
    const [marker, ...rest] = line.trim().split(" ");
    const value = rest.join(" ");
    if (marker === HOST_MARKERS.lockdown) lockdown = value;
    else if (marker === HOST_MARKERS.toolSha256 && /^[0-9a-f]{64}$/.test(value)) toolSha256 = value;
    else if (marker === HOST_MARKERS.imageSha256 && /^[0-9a-f]{64}$/.test(value)) imageSha256 = value;
    else if (marker === HOST_MARKERS.parts && /^\d+ \d+$/.test(value)) {
      const [count, bytes] = value.split(" ").map(Number);
      parts = { count, bytes };
    } else if (marker === HOST_MARKERS.error) errors.push(value);
  }
  return { lockdown, toolSha256, parts, imageSha256, errors };
}

/**
 * The verdict on the digest the host reported, against the one computed off the host from the stored object:
 * `MATCH`, `BROKEN` (they differ: the host, or what it sent, cannot be trusted) or `NOT REPORTED`.
 */
export function hostVerdict(
  offHostSha256: string,
  hostSha256: string | undefined,
): "MATCH" | "BROKEN" | "NOT REPORTED" {
  if (hostSha256 === undefined) return "NOT REPORTED";
  return hostSha256 === offHostSha256 ? "MATCH" : "BROKEN";
}

/** Object key of a memory image: `cases/<case>/evidence/memory/<UTC time>-<instance>.lime`. */
export function memoryImageKey(caseId: string, instanceId: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `cases/${caseId}/evidence/memory/${stamp}-${instanceId}.lime`;
}
