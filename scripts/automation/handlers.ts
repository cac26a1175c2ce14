/**
 * The response automation's Lambda handlers (issue 15): the other front end of the same modules the `flz` CLI runs.
 * Each handler acts as the forensic responder through `responderFactory` and the case gate (`withCaseLedger`), opens
 * cases with the `case.opened` event of `flz case open`, contains with the functions of `flz contain`, captures with
 * `captureInstance` of `flz capture`, and verifies with `flz custody verify`'s own `runVerify`: no second
 * implementation. What is new here is only the glue: reading the event, the guardrails' decision, and its record.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetRoleCommand, IAMClient, ListUserTagsCommand } from "@aws-sdk/client-iam";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { ClientFactory } from "../aws/clients";
import { captureInstance, failureLines } from "../capture/capture";
import { caseOpenedEvent } from "../cases/opened";
import { checkCase } from "../cases/gate";
import { caseStore } from "../cases/with-case";
import type { EvidenceBucketLedger } from "../custody/ledger";
import { runVerify } from "../commands/custody";
import type { ContainContext, ContainResult } from "../contain/common";
import { deactivateAccessKey } from "../contain/access-key";
import { containInstance } from "../contain/instance";
import { revokeSessions } from "../contain/sessions";
import type { LandingZone } from "../contract";
import { openLedger } from "../custody/ledger";
import type { CustodyRecord, JsonValue } from "../custody/types";
import { describeError } from "../errors";
import { decide, gate, type Decision, type DecisionRecord, type IntakeGuardrails } from "./decide";
import {
  caseIdOf,
  executionNameOf,
  incidentOf,
  UnsupportedEventError,
  type Incident,
  type IncidentTarget,
} from "./incident";
import { CAPTURE_INCOMPLETE_ERROR, CONTAINMENT_INCOMPLETE_ERROR } from "../../components/documents/automation-asl";

/** Ledger action of every guardrail decision, "skipped because" included. */
export const DECISION_ACTION = "automation.decision";

/** What the handlers need. */
export interface AutomationDeps {
  /** The landing-zone contract (in Lambda: the `FLZ_LANDING_ZONE_JSON` environment variable). */
  readonly landingZone: LandingZone;
  /** The response state machine (the dispatcher's only target). */
  readonly stateMachineArn?: string;
  /** Clock (tests). */
  readonly now?: () => Date;
  /** Minutes a capture invocation waits for copies before handing back to the state machine's retry. Default 12 (Lambda stops at 15). */
  readonly captureWaitMinutes?: number;
  /** Milliseconds between snapshot polls. Default the capture's own. */
  readonly pollIntervalMs?: number;
  /** Milliseconds added before every AWS request (benchmarks against the emulator). Default 0. */
  readonly injectedLatencyMs?: number;
}

/** Input of the intake (the state machine's Parameters). */
export interface IntakeInput {
  readonly event: unknown;
  readonly killSwitch: string;
  readonly executionName: string;
  readonly guardrails: IntakeGuardrails;
}

/** One instance to capture (an item of the Map state). */
export interface CaptureItem {
  readonly caseId: string;
  readonly account: string;
  readonly region: string;
  readonly instanceId: string;
  readonly lockDays: number;
}

/** What the intake hands to the rest of the state machine. */
export interface IntakeOutput {
  readonly caseId: string;
  readonly executionName: string;
  readonly findingId: string;
  readonly findingType: string;
  readonly account: string;
  readonly region: string;
  readonly target: IncidentTarget;
  readonly decision: Decision;
  readonly reason: string;
  readonly summary: string;
  readonly approvalTimeoutSeconds: number;
  readonly instances: CaptureItem[];
  /** The rate-limit window (clock hour, UTC) a containment claims a slot in. */
  readonly rateWindow: string;
  /** Sequence of the decision record. */
  readonly decisionRecord: number;
}

/** Input of the record function. */
export interface RecordInput {
  readonly intake: IntakeOutput;
  readonly stage: string;
  readonly detail?: {
    readonly approved?: unknown;
    readonly by?: unknown;
    readonly Error?: unknown;
    readonly Cause?: unknown;
  };
}

/** The handlers, bound to a landing zone. */
export interface AutomationHandlers {
  dispatch(
    event: unknown,
  ): Promise<{ readonly started?: string; readonly duplicate?: string; readonly ignored?: string }>;
  intake(input: IntakeInput): Promise<IntakeOutput>;
  record(input: RecordInput): Promise<DecisionRecord & { readonly sequence: number }>;
  contain(input: { readonly intake: IntakeOutput }): Promise<{ [key: string]: JsonValue }>;
  capture(item: CaptureItem): Promise<{ [key: string]: JsonValue }>;
  verify(input: { readonly intake: IntakeOutput }): Promise<{ [key: string]: JsonValue }>;
}

function targetId(target: IncidentTarget): string {
  return target.kind === "instance" ? target.instanceId : target.kind === "role" ? target.roleName : target.accessKeyId;
}

/** Tags of the target in the member account; undefined when it does not exist. */
async function targetTags(factory: ClientFactory, incident: Incident): Promise<Record<string, string> | undefined> {
  const placement = { account: incident.account, region: incident.region };
  const toMap = (tags: Array<{ Key?: string; Value?: string }> | undefined): Record<string, string> =>
    Object.fromEntries((tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
  const missing = (err: unknown): undefined => {
    const name = (err as { name?: string }).name ?? "";
    if (/NotFound|Malformed|NoSuchEntity/.test(name)) return undefined;
    throw err;
  };
  const t = incident.target;
  if (t.kind === "instance") {
    const out = await factory
      .client(EC2Client, placement)
      .send(new DescribeInstancesCommand({ InstanceIds: [t.instanceId] }))
      .catch(missing);
    const instance = out?.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === t.instanceId);
    return instance ? toMap(instance.Tags) : undefined;
  }
  const iam = factory.client(IAMClient, placement);
  if (t.kind === "role") {
    const out = await iam.send(new GetRoleCommand({ RoleName: t.roleName })).catch(missing);
    return out?.Role ? toMap(out.Role.Tags) : undefined;
  }
  const out = await iam.send(new ListUserTagsCommand({ UserName: t.userName })).catch(missing);
  return out ? toMap(out.Tags) : undefined;
}

/** A decision record's event. */
function decisionEvent(
  intake: Pick<IntakeOutput, "findingId" | "target" | "executionName">,
  stage: string,
  d: DecisionRecord,
  extra: { [key: string]: JsonValue } = {},
) {
  return {
    action: DECISION_ACTION,
    subjects: [targetId(intake.target)],
    details: {
      stage,
      findingId: intake.findingId,
      executionName: intake.executionName,
      decision: d.decision,
      reason: d.reason,
      ...extra,
    },
  };
}

/** The contract as a file, for the CLI functions that read it from `--landing-zone`. */
function contractFile(lz: LandingZone): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "flz-automation-")), "landing-zone.json");
  writeFileSync(file, JSON.stringify(lz));
  return file;
}

/** A stream pair that keeps what the CLI functions print (the Lambda log gets the summary instead). */
function quietIo(): { out: PassThrough; err: PassThrough; isTty: false } {
  const out = new PassThrough();
  const err = new PassThrough();
  out.resume();
  err.resume();
  return { out, err, isTty: false };
}

/** Builds the handlers for a landing zone. */
export function automationHandlers(deps: AutomationDeps): AutomationHandlers {
  const lz = deps.landingZone;
  const now = deps.now ?? (() => new Date());
  let contract: string | undefined;
  // The factory `flz` builds (responderFactory): forensic calls as the forensic responder, members through the member
  // responder role, the case in every member session; plus the benchmarks' injected latency.
  const factoryFor = (caseId: string): ClientFactory =>
    new ClientFactory({
      caseId,
      forensicRoleArn: lz.forensicResponderRoleArn,
      memberRoleName: lz.memberResponderRoleName,
      injectedLatencyMs: deps.injectedLatencyMs,
    });
  // What `withCaseLedger` does for every command: the case gate first (record 0 must be case.opened), then the ledger.
  const withCaseLedger = async <T>(
    caseId: string,
    fn: (ledger: EvidenceBucketLedger, factory: ClientFactory) => Promise<T>,
  ): Promise<T> => {
    const factory = factoryFor(caseId);
    try {
      await checkCase(caseStore(factory, lz), caseId, "act");
      return await fn(await openLedger({ factory, landingZone: lz, caseId }), factory);
    } finally {
      factory.destroy();
    }
  };

  const intake = async (input: IntakeInput): Promise<IntakeOutput> => {
    const incident = incidentOf(input.event, lz.forensicAccountId);
    const caseId = caseIdOf(input.executionName);
    const factory = factoryFor(caseId);
    try {
      const ledger = await openLedger({ factory, landingZone: lz, caseId });
      const records = await ledger.records();
      if (records.length === 0) {
        await ledger.append(
          caseOpenedEvent({
            caseId,
            title: incident.title,
            awarenessTime: now().toISOString(),
            openedBy: `flz response automation (execution ${input.executionName})`,
          }),
        );
      }
      const earlier = records.find(
        (r: CustodyRecord) =>
          r.action === DECISION_ACTION &&
          (r.details as { stage?: string; findingId?: string } | undefined)?.stage === "intake" &&
          (r.details as { findingId?: string }).findingId === incident.findingId,
      );
      const facts = { killSwitch: input.killSwitch, earlierDecision: earlier?.sequence };
      // The kill switch, a duplicate and an excluded account stop the response before anything in a member account is read.
      const stopped = gate(incident, input.guardrails, facts);
      const decision =
        stopped ?? decide(incident, input.guardrails, { ...facts, targetTags: await targetTags(factory, incident) });
      const base = { findingId: incident.findingId, target: incident.target, executionName: input.executionName };
      const record = await ledger.append(
        decisionEvent(base, "intake", decision, {
          source: incident.source,
          findingType: incident.findingType,
          severity: incident.severity,
          account: incident.account,
          region: incident.region,
        }),
      );
      const acting = decision.decision !== "skip";
      return {
        caseId,
        ...base,
        findingType: incident.findingType,
        account: incident.account,
        region: incident.region,
        decision: decision.decision,
        reason: decision.reason,
        summary: `${incident.title}: ${decision.reason}`,
        approvalTimeoutSeconds: input.guardrails.approvalTimeoutSeconds,
        instances:
          acting && incident.target.kind === "instance"
            ? [
                {
                  caseId,
                  account: incident.account,
                  region: incident.region,
                  instanceId: incident.target.instanceId,
                  lockDays: input.guardrails.lockDays,
                },
              ]
            : [],
        rateWindow: now().toISOString().slice(0, 13),
        decisionRecord: record.sequence,
      };
    } finally {
      factory.destroy();
    }
  };

  const record = async (input: RecordInput): Promise<DecisionRecord & { sequence: number }> => {
    const d = stageDecision(input);
    return withCaseLedger(input.intake.caseId, async (ledger) => {
      const r = await ledger.append(decisionEvent(input.intake, input.stage, d));
      return { ...d, sequence: r.sequence };
    });
  };

  const contain = async (input: { intake: IntakeOutput }): Promise<{ [key: string]: JsonValue }> => {
    const i = input.intake;
    return withCaseLedger(i.caseId, async (ledger, factory) => {
      const ctx: ContainContext = { factory, ledger, account: i.account, region: i.region, dryRun: false };
      const t = i.target;
      let result: ContainResult;
      if (t.kind === "instance") result = await containInstance(ctx, { instanceId: t.instanceId });
      else if (t.kind === "role") result = await revokeSessions(ctx, { role: t.roleName, before: "now" });
      else result = await deactivateAccessKey(ctx, { user: t.userName, key: t.accessKeyId });
      if ((result.failures ?? []).length > 0)
        throw Object.assign(new Error(`containment incomplete: ${(result.failures ?? []).join("; ")}`), {
          name: CONTAINMENT_INCOMPLETE_ERROR,
        });
      return { action: result.action, changes: result.changes.length, record: result.record?.sequence ?? null };
    });
  };

  const capture = async (item: CaptureItem): Promise<{ [key: string]: JsonValue }> =>
    withCaseLedger(item.caseId, async (ledger, factory) => {
      const result = await captureInstance({
        factory,
        landingZone: lz,
        ledger,
        request: {
          caseId: item.caseId,
          instanceId: item.instanceId,
          account: item.account,
          region: item.region,
          volumeIds: [],
          lockDays: item.lockDays,
          maxWaitMinutes: deps.captureWaitMinutes ?? 12,
        },
        pollIntervalMs: deps.pollIntervalMs,
      });
      const failures = failureLines(result);
      // Still copying (or a step to redo): the state machine retries, and the capture resumes from its tags.
      if (failures.length > 0) throw Object.assign(new Error(failures.join("; ")), { name: CAPTURE_INCOMPLETE_ERROR });
      return {
        instanceId: item.instanceId,
        snapshots: result.snapshots.map((s) => ({
          volumeId: s.volumeId,
          forensicSnapshotId: s.forensicSnapshotId ?? null,
          locked: s.locked,
        })),
      };
    });

  const verify = async (input: { intake: IntakeOutput }): Promise<{ [key: string]: JsonValue }> => {
    contract ??= contractFile(lz);
    try {
      const verdict = await runVerify({ case: input.intake.caseId, landingZone: contract, json: true }, quietIo());
      return {
        caseId: input.intake.caseId,
        ok: verdict.ok,
        verified: verdict.verified,
        total: verdict.total,
        verdict: verdict.verdict,
      };
    } catch (err) {
      return { caseId: input.intake.caseId, ok: false, verdict: describeError(err) };
    }
  };

  const dispatch = async (event: unknown) => {
    let incident: Incident;
    try {
      incident = incidentOf(event, lz.forensicAccountId);
    } catch (err) {
      if (err instanceof UnsupportedEventError) return { ignored: err.message };
      throw err;
    }
    const name = executionNameOf(incident);
    if (!deps.stateMachineArn) throw new Error("the dispatcher has no state machine: set FLZ_STATE_MACHINE_ARN");
    const factory = new ClientFactory({});
    try {
      await factory
        .client(SFNClient, { region: lz.homeRegion })
        .send(
          new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name, input: JSON.stringify({ event }) }),
        );
      return { started: name };
    } catch (err) {
      // The same finding again (GuardDuty re-publishes updates of a finding): one execution per finding.
      if ((err as { name?: string }).name === "ExecutionAlreadyExists") return { duplicate: name };
      throw err;
    } finally {
      factory.destroy();
    }
  };

  return { dispatch, intake, record, contain, capture, verify };
}

/** The decision a later stage records (approval answered or timed out, rate limit, failed containment). */
export function stageDecision(input: RecordInput): DecisionRecord {
  const d = input.detail ?? {};
  switch (input.stage) {
    case "approval": {
      const by = typeof d.by === "string" && d.by ? d.by : "an unnamed approver";
      return d.approved === true
        ? { decision: "contain", reason: `containment approved by ${by}` }
        : { decision: "observe", reason: `containment refused by ${by}: capture only` };
    }
    case "approval-timeout":
      return {
        decision: "observe",
        reason: `no approval within ${input.intake.approvalTimeoutSeconds} s: capture only (the default when nobody answers)`,
      };
    case "approval-failed":
      return { decision: "observe", reason: `approval request failed (${String(d.Error ?? "error")}): capture only` };
    case "rate-limited":
      return {
        decision: "observe",
        reason: `containment rate limit reached for ${input.intake.rateWindow}h UTC: capture only`,
      };
    case "rate-unknown":
      return {
        decision: "observe",
        reason: `rate limit could not be checked (${String(d.Error ?? "error")}): capture only (fail closed)`,
      };
    case "contain-failed":
      return {
        decision: "observe",
        reason: `containment failed (${String(d.Error ?? "error")}: ${String(d.Cause ?? "").slice(0, 300)}); capture continues`,
      };
    default:
      throw new Error(`unknown decision stage ${JSON.stringify(input.stage)}`);
  }
}
