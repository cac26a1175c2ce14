/**
 * The organisation-level quarantine behind `contain sessions` and `contain access-key`: a case's quarantine SCPs in
 * one member account, read from Organizations (`quarantine-state.ts`), compared with what the case's ledger says they
 * hold, changed as decided (`quarantine-plan.ts`) through the forensic account's delegated policy management
 * (`components/documents/quarantine.ts` has the documents and why), and undone.
 */
import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  DeletePolicyCommand,
  DetachPolicyCommand,
  ListPoliciesCommand,
  OrganizationsClient,
  UpdatePolicyCommand,
} from "@aws-sdk/client-organizations";
import {
  PURPOSE_TAG_KEY,
  QUARANTINE_CASE_TAG_KEY,
  QUARANTINE_PURPOSE,
  QuarantineCapacityError,
  quarantineCutoff,
  quarantineText,
  type PolicyStatement,
} from "../../components/documents";
import type { CustodyRecord } from "../custody/types";
import { OperationError } from "../errors";
import { awsErrorName } from "./common";
import type { JsonObject } from "./intent";
import {
  decideQuarantine,
  describeSteps,
  quarantineDetails,
  type PlanQuarantineArgs,
  type QuarantinePlan,
} from "./quarantine-plan";
import { listAll, organizationsError, readQuarantine } from "./quarantine-state";

export * from "./quarantine-plan";
export * from "./quarantine-state";

/** Reads the organisation and decides (see {@link decideQuarantine}). */
export async function planQuarantine(org: OrganizationsClient, args: PlanQuarantineArgs): Promise<QuarantinePlan> {
  const state = await readQuarantine(org, args.caseId, args.account);
  try {
    return decideQuarantine(state, args);
  } catch (err) {
    if (err instanceof QuarantineCapacityError) {
      const others = state.otherAttached.map((p) => p.name).join(", ") || "none";
      throw new OperationError(`${err.message} Other SCPs attached to it: ${others}.`, { cause: err });
    }
    throw err;
  }
}

async function findByName(org: OrganizationsClient, name: string): Promise<string | undefined> {
  const all = await listAll(async (token) => {
    const out = await org.send(new ListPoliciesCommand({ Filter: "SERVICE_CONTROL_POLICY", NextToken: token }));
    return { items: out.Policies ?? [], next: out.NextToken };
  });
  return all.find((p) => p.Name === name)?.Id;
}

/**
 * Makes the calls of a plan, in order. Idempotent: a policy already created under its name (an earlier run's, whose
 * answer was lost) is found and updated instead of created twice; attaching what is attached and detaching what is
 * not are no-ops.
 */
export async function applyQuarantine(org: OrganizationsClient, plan: QuarantinePlan): Promise<void> {
  for (const step of plan.steps) {
    try {
      if (step.kind === "create") {
        let id: string | undefined;
        try {
          const created = await org.send(
            new CreatePolicyCommand({
              Name: step.name,
              Description:
                `flz quarantine of case ${plan.caseId} in account ${plan.account}: denies listed principals' sessions issued before their cutoff`.slice(
                  0,
                  512,
                ),
              Type: "SERVICE_CONTROL_POLICY",
              Content: quarantineText(step.statements),
              Tags: [
                { Key: PURPOSE_TAG_KEY, Value: QUARANTINE_PURPOSE },
                { Key: QUARANTINE_CASE_TAG_KEY, Value: plan.caseId.slice(0, 256) },
              ],
            }),
          );
          id = created.Policy?.PolicySummary?.Id;
        } catch (err) {
          if (awsErrorName(err) !== "DuplicatePolicyException") throw err;
          id = await findByName(org, step.name);
          if (!id) throw err;
          await org.send(new UpdatePolicyCommand({ PolicyId: id, Content: quarantineText(step.statements) }));
        }
        await attach(org, id ?? "", plan.account);
      } else if (step.kind === "update") {
        await org.send(new UpdatePolicyCommand({ PolicyId: step.id, Content: quarantineText(step.statements) }));
      } else if (step.kind === "attach") {
        await attach(org, step.id, plan.account);
      } else if (step.kind === "detach") {
        await org.send(new DetachPolicyCommand({ PolicyId: step.id, TargetId: plan.account })).catch((err: unknown) => {
          if (awsErrorName(err) !== "PolicyNotAttachedException") throw err;
        });
      } else {
        await org.send(new DeletePolicyCommand({ PolicyId: step.id })).catch((err: unknown) => {
          if (awsErrorName(err) !== "PolicyNotFoundException") throw err;
        });
      }
    } catch (err) {
      throw organizationsError(err, describeSteps({ ...plan, steps: [step] })[0]);
    }
  }
}

async function attach(org: OrganizationsClient, id: string, account: string): Promise<void> {
  await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: account })).catch((err: unknown) => {
    if (awsErrorName(err) !== "DuplicatePolicyAttachmentException") throw err;
  });
}

/** Undo information of quarantine statements: each statement as it was before (null: absent). */
export interface QuarantineUndo {
  /** The member account whose quarantine policies hold the statements. */
  readonly account: string;
  /** Statement ID and its previous content. */
  readonly entries: { readonly sid: string; readonly previous: PolicyStatement | null }[];
}

/** Type guard for recorded quarantine undo information. */
export function isQuarantineUndo(value: unknown): value is QuarantineUndo {
  const v = value as Partial<QuarantineUndo> | undefined;
  return (
    typeof v?.account === "string" && Array.isArray(v.entries) && v.entries.every((e) => typeof e?.sid === "string")
  );
}

/** The undo information of a plan's decisions (what each statement was before). */
export function quarantineUndo(plan: QuarantinePlan): QuarantineUndo {
  return {
    account: plan.account,
    entries: plan.decisions.map((d) => ({ sid: d.sid, previous: d.previous })),
  };
}

/** Arguments of {@link undoQuarantine}. */
export interface UndoQuarantineArgs {
  /** Organizations client of the forensic account. */
  readonly org: OrganizationsClient;
  /** The case. */
  readonly caseId: string;
  /** The case's records. */
  readonly records: readonly CustodyRecord[];
  /** What to restore. */
  readonly undo: QuarantineUndo;
  /** Plan only. */
  readonly dryRun: boolean;
}

/** Restores each statement to its recorded previous content; returns the lines done and the content left. */
export async function undoQuarantine(args: UndoQuarantineArgs): Promise<{ lines: string[]; quarantine: JsonObject }> {
  const plan = await planQuarantine(args.org, {
    caseId: args.caseId,
    account: args.undo.account,
    records: args.records,
    restore: args.undo.entries.map((e) => ({ sid: e.sid, statement: e.previous })),
  });
  if (!args.dryRun) await applyQuarantine(args.org, plan);
  const lines = args.undo.entries.map((e) =>
    e.previous
      ? `restore quarantine statement ${e.sid} (cutoff ${quarantineCutoff(e.previous) ?? "?"}) for account ${args.undo.account}`
      : `remove quarantine statement ${e.sid} from account ${args.undo.account}`,
  );
  return { lines: [...lines, ...describeSteps(plan)], quarantine: quarantineDetails(plan) };
}
