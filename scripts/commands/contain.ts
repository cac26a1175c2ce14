/**
 * `flz contain`: precise, reversible containment in a member account (DESIGN.md §7). Subcommands `sessions`,
 * `access-key`, `instance`, `undo` and `status`; each change is recorded in the case's ledger before it is made (an
 * intent with the state before and the undo) and after (the completion).
 */
import { Command } from "commander";
import { deactivateAccessKey } from "../contain/access-key";
import {
  requireAccountId,
  requireCaseId,
  requireRegion,
  type ContainContext,
  type ContainResult,
} from "../contain/common";
import { containInstance, requireInstanceId } from "../contain/instance";
import { parseCutoff, revokeSessions } from "../contain/sessions";
import { parseSequence, undoAction } from "../contain/undo";
import { containmentStatus, formatStatus } from "../contain/status";
import { captureInstance } from "../capture/capture";
import { parseCaptureRequest } from "../capture/plan";
import { barProgress, lineProgress } from "../capture/progress";
import { loadLandingZone, type LandingZone } from "../contract";
import { withCaseLedger } from "./case";
import { describeError, OperationError, UsageError } from "../errors";
import type { JsonValue } from "../custody/types";
import { note, printJson, printLine, processIo, type Io } from "../output";
import { registerContainAccount } from "./contain-account";
import { registerContainBucket } from "./contain-bucket";
import { registerContainFunction } from "./contain-function";
import { registerContainKey } from "./contain-key";
import { registerContainNetwork } from "./contain-network";
import { registerContainPrincipal } from "./contain-principal";
import { registerContainTechnique } from "./contain-technique";

/** Options every `contain` subcommand takes, as commander parses them. */
export interface ContainCommonOptions {
  /** `--case`: the case ID; names the ledger, the session and the tags. */
  readonly case?: string;
  /** `--account`: the member account to act in. */
  readonly account?: string;
  /** `--region`: default the landing zone's home region. */
  readonly region?: string;
  /** `--landing-zone`: the contract file (default `FLZ_LANDING_ZONE`). */
  readonly landingZone?: string;
  /** `--dry-run`: print what would change, change nothing, record nothing. */
  readonly dryRun?: boolean;
  /** `--json`: one JSON document on stdout. */
  readonly json?: boolean;
}

/** Everything a subcommand needs once the flags are checked and the ledger is open. */
export type Runner = (ctx: ContainContext, lz: LandingZone, io: Io) => Promise<ContainResult>;

/** Prints a result for people or as JSON. */
export function printResult(
  io: Io,
  result: ContainResult,
  json: boolean,
  caseId: string,
  capture: JsonValue = null,
): void {
  if (json) {
    printJson(io, {
      case: caseId,
      action: result.action,
      dryRun: result.dryRun,
      changes: result.changes,
      notes: result.notes,
      failures: result.failures ?? [],
      details: result.details,
      recordedAs: result.record?.sequence ?? null,
      capture,
    });
    return;
  }
  if (result.changes.length === 0) printLine(io, "nothing to change");
  for (const change of result.changes) printLine(io, `${result.dryRun ? "would " : ""}${change.description}`);
  for (const line of result.notes) printLine(io, line);
  for (const failure of result.failures ?? []) printLine(io, `FAILED ${failure}`);
  if (result.dryRun) note(io, `dry run: nothing changed, nothing recorded in case ${caseId}`);
  else if (result.record) {
    const undo =
      result.action === "contain.undone"
        ? ""
        : `; undo with: flz contain undo --case ${caseId} --action ${result.record.sequence}`;
    note(io, `recorded in case ${caseId} as record ${result.record.sequence} (${result.record.action})${undo}`);
  }
}

/** Checks the common flags, opens the case's ledger, runs, prints, and turns failed steps into exit 1. */
export async function run(options: ContainCommonOptions, needAccount: boolean, runner: Runner): Promise<void> {
  const io = processIo();
  const caseId = requireCaseId(options.case);
  const account = needAccount || options.account !== undefined ? requireAccountId(options.account) : "";
  if (options.region !== undefined) requireRegion(options.region);
  const lz = loadLandingZone(options.landingZone);
  const region = requireRegion(options.region ?? lz.homeRegion);
  await withCaseLedger(lz, caseId, async (ledger, factory) => {
    const result = await runner({ factory, ledger, account, region, dryRun: Boolean(options.dryRun) }, lz, io);
    const json = Boolean(options.json);
    // People see the containment at once; a JSON document waits for the capture so it can include its outcome.
    if (!json) printResult(io, result, false, caseId);
    const failures = [...(result.failures ?? [])];
    let capture: JsonValue = null;
    if (result.pending) {
      note(
        io,
        "containment recorded; waiting for the capture to finish (flz capture resumes it if this is interrupted)",
      );
      capture = await result.pending.then(
        (summary) => summary,
        (err: unknown) => {
          failures.push(`capture: ${describeError(err)}`);
          return { error: describeError(err) };
        },
      );
      if (!json) printLine(io, `capture: ${JSON.stringify(capture)}`);
    }
    if (json) printResult(io, { ...result, failures }, true, caseId, capture);
    if (failures.length > 0) {
      throw new OperationError(
        `${failures.length} step(s) failed (the others were applied and recorded): ${failures.join("; ")}`,
      );
    }
  });
}

export function common(cmd: Command, accountRequired = true): Command {
  return cmd
    .option(
      "--case <id>",
      "case ID, opened with flz case open: names the ledger, the role session and the tags (required)",
    )
    .option(
      "--account <id>",
      accountRequired
        ? "member account to act in, 12 digits (required)"
        : "member account (optional: the record says where)",
    )
    .option("--region <region>", "region to act in (default: the landing zone's home region)")
    .option(
      "--landing-zone <file>",
      "landing-zone contract, the JSON of `pulumi stack output --json` (default: FLZ_LANDING_ZONE)",
    )
    .option("--dry-run", "print exactly what would change; change nothing, record nothing")
    .option("--json", "print one JSON document");
}

/** Starts the capture engine's capture of the instance (`--capture`); resolves with a summary of its snapshots. */
async function startCapture(
  ctx: ContainContext,
  lz: LandingZone,
  io: Io,
  instanceId: string,
): Promise<{ [key: string]: JsonValue }> {
  const request = parseCaptureRequest({
    case: ctx.ledger.caseId,
    instance: instanceId,
    account: ctx.account,
    region: ctx.region,
  });
  const progress = io.isTty ? barProgress(io.err) : lineProgress((line) => note(io, line));
  const result = await captureInstance({
    factory: ctx.factory,
    landingZone: lz,
    request,
    ledger: ctx.ledger,
    progress,
  });
  return {
    snapshots: result.snapshots.map((s) => ({
      volumeId: s.volumeId,
      forensicSnapshotId: s.forensicSnapshotId ?? null,
      state: s.state,
      locked: s.locked,
    })),
  };
}

/** Adds `flz contain` and its subcommands. */
export function register(program: Command): void {
  const contain = program
    .command("contain")
    .summary(
      "Precise, reversible containment: role sessions, access keys, instances; every action recorded with its undo; drift check.",
    )
    .description(
      "Contains a compromised principal or instance in a member account, through the member responder role (the session " +
        "carries the case ID). Every change is recorded in the case's custody ledger with what is needed to reverse it: " +
        "`flz contain undo --case <id> --action <sequence>` reverses one record. Re-running is safe: what is already " +
        "contained is left as it is.",
    );

  common(
    contain
      .command("sessions")
      .summary("Deny every session of a role issued before a cutoff.")
      .description(
        "Quarantines the role at the organisation level: a statement Deny * for aws:PrincipalArn = the role when " +
          "aws:TokenIssueTime is before the cutoff, in the case's quarantine service control policy attached to the " +
          "account (flz-quarantine-<account>-<case>-<n>, tagged flz:purpose=quarantine, managed from the forensic account " +
          "through the landing zone's delegation). No IAM policy is written, and no administrator of the account can lift " +
          "it. Stolen temporary credentials stop working; whoever assumes the role again afterwards is not affected. " +
          "Re-running with a later cutoff moves it; an earlier cutoff leaves the later one in place (undo moves it back). " +
          "Re-running also compares the case's quarantine policies with the ledger and restores them if they were changed. " +
          "Service-linked roles (not restricted by SCPs) and the management account (never restricted) are refused. " +
          "Long-term access keys are not affected: use `contain access-key`.",
      )
      .option("--role <name>", "role name in the member account (required)")
      .option("--before <time>", 'cutoff: "now" or an ISO 8601 time with a zone, such as 2026-03-01T14:30:00Z', "now"),
  )
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  flz contain sessions --case IR-2026-0042 --account 333333333333 --role app-deployer --before now\n" +
        "  flz contain sessions --case IR-2026-0042 --account 333333333333 --role app-deployer --before 2026-03-01T14:30:00Z --dry-run\n",
    )
    .action(async (options: ContainCommonOptions & { role?: string; before?: string }) => {
      if (!options.role) throw new UsageError("--role is required: give the name of the role whose sessions to revoke");
      parseCutoff(options.before, new Date()); // a bad time fails before any AWS call
      const role = options.role;
      await run(options, true, (ctx) => revokeSessions(ctx, { role, before: options.before }));
    });

  common(
    contain
      .command("access-key")
      .summary("Deactivate a user's access key (never deleted) and list the user's other keys.")
      .description(
        "Sets the key Inactive (reversible; the key ID stays in the account, so CloudTrail history keeps its meaning), " +
          "quarantines the user's sessions issued before --sessions-before (GetSessionToken sessions survive the key's " +
          "deactivation), and lists every other key of the user with its last use, so a second stolen key is seen at once. " +
          "GetFederationToken sessions carry a name their creator chose and nothing that names the user, so they cannot be " +
          "denied for this user alone: by default every federated-user session of the account issued before the cutoff is " +
          "denied too (--keep-federated-sessions leaves them; find them in CloudTrail).",
      )
      .option("--user <name>", "IAM user name (required)")
      .option("--key <id>", "access key ID, AKIA... (required)")
      .option(
        "--sessions-before <time>",
        'deny the user\'s sessions issued before this: "now" or an ISO 8601 time with a zone (default: now)',
      )
      .option("--keep-federated-sessions", "do not deny the account's federated-user (GetFederationToken) sessions"),
  )
    .addHelpText(
      "after",
      "\nExamples:\n  flz contain access-key --case IR-2026-0042 --account 333333333333 --user ci-bot --key AKIAIOSFODNN7EXAMPLE\n",
    )
    .action(
      async (
        options: ContainCommonOptions & {
          user?: string;
          key?: string;
          sessionsBefore?: string;
          keepFederatedSessions?: boolean;
        },
      ) => {
        if (!options.user) throw new UsageError("--user is required: give the IAM user who owns the key");
        if (!options.key) throw new UsageError("--key is required: give the access key ID (AKIA...)");
        parseCutoff(options.sessionsBefore, new Date(), "--sessions-before"); // a bad time fails before any AWS call
        const { user, key } = options;
        await run(options, true, (ctx) =>
          deactivateAccessKey(ctx, {
            user,
            key,
            sessionsBefore: options.sessionsBefore,
            federatedSessions: options.keepFederatedSessions !== true,
          }),
        );
      },
    );

  common(
    contain
      .command("instance")
      .summary("Protect and isolate an instance: protections, Auto Scaling Standby, network quarantine, IMDSv2.")
      .description(
        "At once and independently: termination and stop protection; volumes kept on termination; Standby in its Auto " +
          "Scaling group (detach when Standby would breach the minimum size); IMDSv2 required; case tags. Network isolation " +
          "saves every interface's groups and connection-tracking timeouts, sets the timeouts to the minimum (TCP 60 s, UDP " +
          "stream 60 s, UDP 30 s), moves each interface to the VPC's allow-all group (tracked flows become untracked) and then " +
          "to its no-rule isolation group (untracked flows end at once). Both groups are created once per VPC (tag " +
          "flz:containment) and reused. What stays: flows that remain tracked (ICMP; through NAT gateways, load balancers, " +
          "VPC endpoints) continue until idle for the timeout. --network-acl also swaps each subnet's network ACL for a " +
          "deny-everything one, which cuts every flow at once, for every host in the subnet.",
      )
      .option("--instance <id>", "instance ID (required)")
      .option(
        "--capture",
        "also start a snapshot capture of every volume (as flz capture does), beside the containment",
      )
      .option(
        "--network-acl",
        "also put the instance's subnets behind a deny-everything network ACL (cuts tracked flows too; affects every host in the subnet)",
      ),
  )
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  flz contain instance --case IR-2026-0042 --account 333333333333 --region eu-west-1 --instance i-0123456789abcdef0 --dry-run\n" +
        "  flz contain instance --case IR-2026-0042 --account 333333333333 --region eu-west-1 --instance i-0123456789abcdef0\n",
    )
    .action(async (options: ContainCommonOptions & { instance?: string; capture?: boolean; networkAcl?: boolean }) => {
      const instanceId = requireInstanceId(options.instance);
      await run(options, true, (ctx, lz, io) =>
        containInstance(ctx, {
          instanceId,
          networkAcl: options.networkAcl === true,
          startCapture: options.capture ? () => startCapture(ctx, lz, io, instanceId) : undefined,
        }),
      );
    });

  registerContainPrincipal(contain);
  registerContainAccount(contain);
  registerContainTechnique(contain);
  registerContainNetwork(contain);
  registerContainBucket(contain);
  registerContainKey(contain);
  registerContainFunction(contain);

  common(
    contain
      .command("undo")
      .summary("Reverse one recorded containment action, and record the reversal.")
      .description(
        "Reads the record at --action from the case's ledger and restores the state from before it: security groups, " +
          "connection-tracking timeouts, network ACLs, instance attributes, IMDS setting, tags, Auto Scaling Standby (or " +
          "attachment), quarantine statements, the key status. An interrupted containment (its intent, with no completion) " +
          "is undone to the state before it began. Refused when a later record changed the same target and is still in " +
          "effect (it names that record): undo the later one first, or give --force. The account and region come from the record.",
      )
      .option(
        "--action <sequence>",
        "sequence number of the record to reverse, printed by the contain command (required)",
      )
      .option("--force", "undo even though a later record changed the same target (its change is discarded)"),
    false,
  )
    .addHelpText("after", "\nExamples:\n  flz contain undo --case IR-2026-0042 --action 3 --dry-run\n")
    .action(async (options: ContainCommonOptions & { action?: string; force?: boolean }) => {
      const sequence = parseSequence(options.action);
      await run(options, false, (ctx) =>
        undoAction(
          { factory: ctx.factory, ledger: ctx.ledger, dryRun: ctx.dryRun },
          { sequence, account: options.account, region: options.region, force: options.force === true },
        ),
      );
    });

  contain
    .command("status")
    .summary("Re-read every containment of a case from AWS and report what is no longer in effect.")
    .description(
      "The drift check: for every containment of the case that is meant to be in effect (completed, not undone, not " +
        "superseded), reads AWS and reports what changed since: quarantine policies removed, detached or altered (compared " +
        "whole with what the ledger recorded), access keys re-activated, interfaces out of the isolation group, rules added " +
        "to it, protections or IMDSv2 turned off, Standby left, a subnet's quarantine ACL swapped out; and containments " +
        "interrupted before they completed. Changes nothing. Exit 0 when everything is in effect, 1 when something is not.",
    )
    .option("--case <id>", "case ID, opened with flz case open (required)")
    .option(
      "--landing-zone <file>",
      "landing-zone contract, the JSON of `pulumi stack output --json` (default: FLZ_LANDING_ZONE)",
    )
    .option("--json", "print one JSON document")
    .addHelpText(
      "after",
      "\nExamples:\n  flz contain status --case IR-2026-0042\n  flz contain status --case IR-2026-0042 --json\n",
    )
    .action(async (options: { case?: string; landingZone?: string; json?: boolean }) => {
      const io = processIo();
      const caseId = requireCaseId(options.case);
      const lz = loadLandingZone(options.landingZone);
      await withCaseLedger(
        lz,
        caseId,
        async (ledger, factory) => {
          const status = await containmentStatus({ factory, ledger, region: lz.homeRegion });
          if (options.json) printJson(io, status as unknown as JsonValue);
          else for (const line of formatStatus(status)) printLine(io, line);
          const bad = status.containments.filter((c) => c.state !== "in-effect").length + status.interrupted.length;
          if (bad > 0) {
            throw new OperationError(
              `${bad} containment(s) of case ${caseId} are not in effect as recorded (see above)`,
            );
          }
        },
        { access: "read" },
      );
    });
}
