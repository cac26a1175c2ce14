/**
 * The SSM Command document that acquires a Linux instance's memory from inside the guest (issue 16), deployed into
 * every member account with the member roles (StackSet template, {@link withMemoryCaptureDocument}), and rebuilt by
 * `flz capture memory` to check that the deployed one was not changed (its content is compared before SendCommand,
 * and SendCommand names the document's SHA-256 so SSM runs exactly that content).
 *
 * What runs on the suspect host holds no AWS credentials: it downloads the acquisition tool (AVML by default) through
 * a pre-signed GET URL of the tool staged in the evidence bucket, checks its SHA-256 against the hash pinned in this
 * document's content (not a parameter: whoever sends the command cannot swap the tool), runs it into a named pipe, and
 * sends the image part by part through pre-signed UploadPart URLs of one multipart upload, created by the forensic
 * responder for one object key. No 5 GB limit, and the image never touches the host's disks: each part is held in
 * `/dev/shm` (memory) just long enough to compute its Content-MD5, which S3 verifies.
 *
 * Parameters are substituted by SSM into the script text, so each is constrained by an `allowedPattern` that admits
 * no character the shell would interpret inside single quotes (no quote, no backslash, no space, no `$`); SSM refuses a
 * SendCommand whose value does not match (AWS Systems Manager user guide, "Data elements and parameters", allowedPattern).
 *
 * Part URLs: every part's URL differs from the first only in `partNumber` and `X-Amz-Signature` (the responder signs
 * them all at the same instant), so the document takes one URL without those two and the list of signatures: 65
 * characters a part instead of about 1,500.
 */
import type { PolicyStatement } from "./types";
import { DocumentInputError } from "./validate";

/** Name of the document in every member account. */
export const MEMORY_CAPTURE_DOCUMENT_NAME = "FLZ-CaptureMemory";

/** Logical ID of the document in the member-roles template. */
export const MEMORY_CAPTURE_DOCUMENT_LOGICAL_ID = "FlzMemoryCaptureDocument";

/** Key, in the evidence bucket, where the operator stages the acquisition tool (docs/memory.md). */
export const MEMORY_TOOL_KEY = "tools/avml";

/**
 * Most part signatures the document's pattern admits (S3 allows 10,000 parts). SSM's 64 KB limit on a command's
 * document and parameters admits fewer beside this document: `flz capture memory` plans parts against that limit
 * (`partsThatFit`, scripts/capture/memory-plan.ts), and checks the real command's size before sending it.
 */
export const MEMORY_MAX_PARTS = 2000;

/**
 * A pre-signed S3 URL: https to a host name (or, for the emulator, http to the loopback address), then only the
 * characters SigV4 leaves in a path and query (unreserved, `%`-escapes, `/ ? & =`, and `+`).
 */
export const PRESIGNED_URL_PATTERN =
  "^(https://[a-z0-9][a-z0-9.-]{0,252}(:[0-9]{1,5})?|http://127\\.0\\.0\\.1:[0-9]{1,5})/[A-Za-z0-9._~%/?&=+-]{1,8000}$";

/** Space-separated lower-case hex SigV4 signatures, one per part. */
export const PART_SIGNATURES_PATTERN = `^[0-9a-f]{64}( [0-9a-f]{64}){0,${MEMORY_MAX_PARTS - 1}}$`;

/** Part size in MiB: S3 takes 5 MiB to 5 GiB; held in the host's memory one at a time, so at most 1 GiB here. */
export const PART_SIZE_MIB_PATTERN = "^([5-9]|[1-9][0-9]{1,2}|10[01][0-9]|102[0-4])$";

/** Seconds the script may run. */
export const EXECUTION_TIMEOUT_PATTERN = "^[1-9][0-9]{1,5}$";

/** One parameter of a Command document. */
export interface SsmDocumentParameter {
  /** Always `String` here: every value is constrained by a pattern. */
  readonly type: "String";
  /** What it is. */
  readonly description: string;
  /** Pattern the value must match (SSM refuses the command otherwise). */
  readonly allowedPattern: string;
  /** Default value, when optional. */
  readonly default?: string;
}

/** An SSM Command document, schema 2.2. */
export interface SsmCommandDocument {
  /** Always `2.2`. */
  readonly schemaVersion: "2.2";
  /** What it does. */
  readonly description: string;
  /** The parameters, by name. */
  readonly parameters: Record<string, SsmDocumentParameter>;
  /** The steps: one `aws:runShellScript`, Linux only. */
  readonly mainSteps: {
    readonly action: "aws:runShellScript";
    readonly name: string;
    readonly precondition: { readonly StringEquals: [string, string] };
    readonly inputs: { readonly timeoutSeconds: string; readonly runCommand: string[] };
  }[];
}

/** Arguments of {@link memoryCaptureDocument}. */
export interface MemoryCaptureDocumentArgs {
  /**
   * SHA-256 (lower-case hex) of the acquisition tool staged at {@link MEMORY_TOOL_KEY}, pinned in the stack
   * configuration. The host refuses to run a tool with another hash.
   */
  readonly toolSha256: string;
}

/** Markers the script prints on its standard output, read back by `flz capture memory`. */
export const HOST_MARKERS = {
  lockdown: "FLZ-LOCKDOWN",
  toolSha256: "FLZ-TOOL-SHA256",
  parts: "FLZ-PARTS",
  imageSha256: "FLZ-HOST-SHA256",
  error: "FLZ-ERROR",
  note: "FLZ-NOTE",
} as const;

/**
 * The in-guest script (POSIX sh, GNU coreutils, curl, openssl), with SSM's `{{ Parameter }}` placeholders. Exported
 * for the test that runs it on this machine with the placeholders substituted as SSM does.
 */
export function memoryCaptureScript(toolSha256: string): string[] {
  const m = HOST_MARKERS;
  return [
    "#!/bin/sh",
    "# flz memory capture: no AWS credentials here; every URL below is pre-signed for one object by the forensic responder.",
    "set -u",
    "umask 077",
    `TOOL_SHA256='${toolSha256}'`,
    "TOOL_URL='{{ ToolUrl }}'",
    "UPLOAD_URL='{{ UploadUrl }}'",
    "SIGNATURES='{{ PartSignatures }}'",
    "PART_MIB='{{ PartSizeMiB }}'",
    `fail() { echo "${m.error} $*"; exit 1; }`,
    "for c in curl sha256sum openssl base64 head wc mkfifo mktemp tee timeout; do",
    '  command -v "$c" >/dev/null 2>&1 || fail "this host lacks $c, which the capture needs"',
    "done",
    "# Kernel lockdown: confidentiality mode refuses /proc/kcore, /dev/crash and /dev/mem to everyone, root included.",
    "LOCKDOWN=none",
    "if [ -r /sys/kernel/security/lockdown ]; then",
    "  LOCKDOWN=$(sed -n 's/.*\\[\\([a-z]*\\)\\].*/\\1/p' /sys/kernel/security/lockdown)",
    "fi",
    `echo "${m.lockdown} \${LOCKDOWN:-none}"`,
    'if [ "$LOCKDOWN" = confidentiality ]; then',
    '  fail "kernel lockdown is in confidentiality mode: no tool can read memory on this host (capture the disk instead)"',
    "fi",
    "# Scratch in memory (/dev/shm), so nothing is written to the host's disks.",
    'WORK=$(mktemp -d /dev/shm/flz-memory.XXXXXX 2>/dev/null || mktemp -d) || fail "no scratch directory"',
    "trap 'rm -rf \"$WORK\"' EXIT",
    "# The tool runs from memory too, unless /dev/shm forbids execution: then from a temporary directory on disk.",
    'TOOL="$WORK/tool"',
    'if grep -qs " /dev/shm .*noexec" /proc/mounts; then',
    '  TOOLDIR=$(mktemp -d) || fail "no directory for the tool"',
    '  TOOL="$TOOLDIR/tool"',
    '  trap \'rm -rf "$WORK" "$TOOLDIR"\' EXIT',
    `  echo "${m.note} /dev/shm is noexec: the tool (not the image) is staged on disk"`,
    "fi",
    'curl -sSf --retry 3 -o "$TOOL" "$TOOL_URL" || fail "the acquisition tool could not be downloaded"',
    'GOT=$(sha256sum "$TOOL" | cut -d" " -f1)',
    `echo "${m.toolSha256} $GOT"`,
    '[ "$GOT" = "$TOOL_SHA256" ] || fail "the acquisition tool hashes to $GOT, not the pinned $TOOL_SHA256: not run"',
    'chmod 700 "$TOOL"',
    'mkfifo "$WORK/image" "$WORK/whole" || fail "cannot make the named pipes"',
    "PART_BYTES=$((PART_MIB * 1048576))",
    "upload_parts() {",
    "  n=0",
    "  total=0",
    "  for sig in $SIGNATURES; do",
    '    head -c "$PART_BYTES" > "$WORK/part"',
    '    size=$(wc -c < "$WORK/part")',
    '    if [ "$size" -eq 0 ]; then break; fi',
    "    n=$((n + 1))",
    '    md5=$(openssl dgst -md5 -binary "$WORK/part" | base64)',
    '    curl -sSf --retry 5 -X PUT -H "Content-MD5: $md5" -H "Expect:" --upload-file "$WORK/part" \\',
    `      "$UPLOAD_URL&partNumber=$n&X-Amz-Signature=$sig" -o /dev/null || { echo "${m.error} part $n was not accepted"; return 1; }`,
    "    total=$((total + size))",
    '    if [ "$size" -lt "$PART_BYTES" ]; then break; fi',
    "  done",
    '  if [ "$(head -c 1 | wc -c)" -ne 0 ]; then',
    `    echo "${m.error} the image is larger than the $n parts prepared"`,
    "    return 1",
    "  fi",
    `  echo "${m.parts} $n $total"`,
    "}",
    'sha256sum < "$WORK/whole" > "$WORK/whole.sum" &',
    "SUM_PID=$!",
    "# The tool runs in a subshell that records its status; if it died before opening the pipe, opening the pipe for",
    "# writing once lets the reader see end-of-file instead of waiting for ever.",
    '( "$TOOL" "$WORK/image" > "$WORK/tool.log" 2>&1; echo $? > "$WORK/tool.status"',
    '  timeout 2 sh -c \': > "$0"\' "$WORK/image" 2>/dev/null ) &',
    "TOOL_PID=$!",
    'tee "$WORK/whole" < "$WORK/image" | upload_parts',
    "UPLOADED=$?",
    'wait "$TOOL_PID"',
    'TOOL_STATUS=$(cat "$WORK/tool.status" 2>/dev/null || echo 127)',
    'wait "$SUM_PID"',
    'tail -c 2000 "$WORK/tool.log"',
    '[ "$TOOL_STATUS" -eq 0 ] || fail "the acquisition tool exited with status $TOOL_STATUS"',
    '[ "$UPLOADED" -eq 0 ] || exit 1',
    `echo "${m.imageSha256} $(cut -d" " -f1 < "$WORK/whole.sum")"`,
  ];
}

/** The Command document (schema 2.2) with the tool's hash pinned; see the module comment. */
export function memoryCaptureDocument(args: MemoryCaptureDocumentArgs): SsmCommandDocument {
  if (!/^[0-9a-f]{64}$/.test(args.toolSha256)) {
    throw new DocumentInputError(
      `toolSha256: ${JSON.stringify(args.toolSha256)} is not a SHA-256 in lower-case hex (64 characters 0-9, a-f).`,
    );
  }
  return {
    schemaVersion: "2.2",
    description:
      "Forensic landing zone: acquire this Linux instance's memory with the pinned tool and send it to the evidence bucket through pre-signed part URLs (no credentials on the host).",
    parameters: {
      ToolUrl: {
        type: "String",
        description: "Pre-signed GET URL of the acquisition tool staged in the evidence bucket.",
        allowedPattern: PRESIGNED_URL_PATTERN,
      },
      UploadUrl: {
        type: "String",
        description:
          "Pre-signed UploadPart URL of the image's multipart upload, without partNumber and X-Amz-Signature.",
        allowedPattern: PRESIGNED_URL_PATTERN,
      },
      PartSignatures: {
        type: "String",
        description: "SigV4 signature of each part's URL, in part order, separated by spaces.",
        allowedPattern: PART_SIGNATURES_PATTERN,
      },
      PartSizeMiB: {
        type: "String",
        description: "Size of every part but the last, MiB (5 to 1024); one part at a time is held in /dev/shm.",
        allowedPattern: PART_SIZE_MIB_PATTERN,
        default: "64",
      },
      ExecutionTimeout: {
        type: "String",
        description: "Seconds the acquisition and upload may take.",
        allowedPattern: EXECUTION_TIMEOUT_PATTERN,
        default: "7200",
      },
    },
    mainSteps: [
      {
        action: "aws:runShellScript",
        name: "captureMemory",
        precondition: { StringEquals: ["platformType", "Linux"] },
        inputs: { timeoutSeconds: "{{ ExecutionTimeout }}", runCommand: memoryCaptureScript(args.toolSha256) },
      },
    ],
  };
}

/** The pinned tool hash in a document's content, as deployed (undefined when the content is not ours). */
export function pinnedToolSha256(content: string): string | undefined {
  try {
    const doc = JSON.parse(content) as Partial<SsmCommandDocument>;
    const line = doc.mainSteps?.[0]?.inputs?.runCommand?.find((l) => l.startsWith("TOOL_SHA256='"));
    return /^TOOL_SHA256='([0-9a-f]{64})'$/.exec(line ?? "")?.[1];
  } catch {
    return undefined;
  }
}

/** The `AWS::SSM::Document` resource of the member-roles template. */
export interface SsmDocumentResource {
  /** Always `AWS::SSM::Document`. */
  readonly Type: "AWS::SSM::Document";
  /** CloudFormation properties. */
  readonly Properties: {
    readonly Name: string;
    readonly DocumentType: "Command";
    readonly DocumentFormat: "JSON";
    readonly TargetType: string;
    readonly UpdateMethod: "NewVersion";
    readonly Content: SsmCommandDocument;
    readonly Tags: { readonly Key: string; readonly Value: string }[];
  };
}

/** The document as a template resource. */
export function memoryCaptureDocumentResource(args: MemoryCaptureDocumentArgs): SsmDocumentResource {
  return {
    Type: "AWS::SSM::Document",
    Properties: {
      Name: MEMORY_CAPTURE_DOCUMENT_NAME,
      DocumentType: "Command",
      DocumentFormat: "JSON",
      TargetType: "/AWS::EC2::Instance",
      // A new pinned hash updates the document in place (a new default version), keeping its name.
      UpdateMethod: "NewVersion",
      Content: memoryCaptureDocument(args),
      Tags: [
        { Key: "flz:component", Value: "member-roles" },
        { Key: "flz:purpose", Value: "memory-capture" },
      ],
    },
  };
}

/**
 * A CloudFormation template (the member-roles template) with the memory-capture document added. Kept apart from
 * `memberRolesTemplate` so the roles' typed view of the template stays what every consumer reads.
 */
export function withMemoryCaptureDocument<T extends { Resources: object; Outputs: object }>(
  template: T,
  args: MemoryCaptureDocumentArgs,
): T & { Resources: { [MEMORY_CAPTURE_DOCUMENT_LOGICAL_ID]: SsmDocumentResource } } {
  return {
    ...template,
    Resources: { ...template.Resources, [MEMORY_CAPTURE_DOCUMENT_LOGICAL_ID]: memoryCaptureDocumentResource(args) },
    Outputs: {
      ...template.Outputs,
      MemoryCaptureDocumentName: {
        Description: "Name of the SSM document flz capture memory runs.",
        Value: { Ref: MEMORY_CAPTURE_DOCUMENT_LOGICAL_ID },
      },
    },
  };
}

/**
 * Member responder statements for memory capture: run only this document (on instances), read its content and the
 * command's status, see which instances SSM manages, and cancel a command that overran.
 */
export function memoryCaptureStatements(partition = "aws"): PolicyStatement[] {
  const document = `arn:${partition}:ssm:*:*:document/${MEMORY_CAPTURE_DOCUMENT_NAME}`;
  return [
    {
      Sid: "CaptureMemoryWithTheFlzDocument",
      Effect: "Allow",
      Action: "ssm:SendCommand",
      // EC2 instances, and (as IAM also names them for SendCommand) SSM managed instances.
      Resource: [document, `arn:${partition}:ec2:*:*:instance/*`, `arn:${partition}:ssm:*:*:managed-instance/*`],
    },
    { Sid: "ReadTheFlzMemoryDocument", Effect: "Allow", Action: "ssm:GetDocument", Resource: document },
    {
      Sid: "FollowMemoryCaptureCommands",
      Effect: "Allow",
      // None of these supports resource-level permissions beyond the command and instance (Service Authorization
      // Reference, AWS Systems Manager): DescribeInstanceInformation and GetCommandInvocation take "*".
      Action: ["ssm:DescribeInstanceInformation", "ssm:GetCommandInvocation", "ssm:CancelCommand"],
      Resource: "*",
    },
  ];
}
