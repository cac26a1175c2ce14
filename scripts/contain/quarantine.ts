/**
 * The organisation-level quarantine behind `contain sessions` and `contain access-key`: a case's quarantine SCPs in
 * one member account, read from Organizations, compared with what the case's ledger says they hold, and changed
 * through the forensic account's delegated policy management (`components/documents/quarantine.ts` has the documents
 * and why). The ledger is the reference: every completion or undo that changed a quarantine policy records the whole
 * content of that policy afterwards (`details.quarantine`), so anything else found in AWS (a statement rewritten to
 * deny a non-existent action, a policy detached or deleted by a management-account principal) is drift, reported and
 * restored.
 */
import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  DeletePolicyCommand,
  DescribeOrganizationCommand,
  DescribePolicyCommand,
  DetachPolicyCommand,
  ListPoliciesCommand,
  ListPoliciesForTargetCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
  UpdatePolicyCommand,
} from "@aws-sdk/client-organizations";
import {
  PURPOSE_TAG_KEY,
  QUARANTINE_CASE_TAG_KEY,
  QUARANTINE_PURPOSE,
  SCPS_PER_TARGET,
  QuarantineCapacityError,
  placeQuarantineStatement,
  quarantineCutoff,
  quarantinePolicyIndex,
  quarantineSid,
  quarantineStatement,
  quarantineText,
  removeQuarantineStatement,
  type PolicyStatement,
  type QuarantinePolicyState,
  type QuarantineSubject,
} from "../../components/documents";
import { canonicalize } from "json-canonicalize";
import type { ClientFactory } from "../aws/clients";
import type { CustodyRecord, JsonValue } from "../custody/types";
import { OperationError, UsageError } from "../errors";
import { awsErrorName } from "./common";
import { INTENT_ACTION, type JsonObject } from "./intent";

/** Organizations is a global service with one endpoint per partition. */
export function organizationsRegion(region: string): string {
  if (region.startsWith("cn-")) return "cn-northwest-1";
  if (region.startsWith("us-gov-")) return "us-gov-west-1";
  return "us-east-1";
}

/** The Organizations client of the forensic account (the delegated administrator of quarantine policies). */
export function organizationsClient(factory: ClientFactory, region: string): OrganizationsClient {
  return factory.client(OrganizationsClient, { region: organizationsRegion(region) });
}

/** One of the case's quarantine policies as found in the organisation. */
export interface FoundPolicy {
  /** Policy ID (`p-...`). */
  readonly id: string;
  /** Policy name. */
  readonly name: string;
  /** Its statements, or undefined when the content is not a policy document. */
  readonly statements: PolicyStatement[] | undefined;
  /** Its tags. */
  readonly tags: Record<string, string>;
  /** Whether it is attached directly to the account. */
  readonly attached: boolean;
}

/** What the organisation holds for a case's quarantine in one account. */
export interface QuarantineState {
  /** The organisation. */
  readonly organizationId: string;
  /** Its management account (SCPs never apply there). */
  readonly managementAccountId: string;
  /** The case's quarantine policies of the account. */
  readonly found: FoundPolicy[];
  /** The other SCPs attached directly to the account (they take slots of the five). */
  readonly otherAttached: { readonly id: string; readonly name: string }[];
}

async function listAll<T>(page: (token?: string) => Promise<{ items: T[]; next?: string }>): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const out = await page(token);
    all.push(...out.items);
    token = out.next;
  } while (token);
  return all;
}

function parseStatements(content: string | undefined): PolicyStatement[] | undefined {
  try {
    const doc = JSON.parse(content ?? "") as { Statement?: unknown };
    if (!Array.isArray(doc.Statement)) return undefined;
    return doc.Statement as PolicyStatement[];
  } catch {
    return undefined;
  }
}

/** Turns Organizations' refusals into one line that says what to check. */
export function organizationsError(err: unknown, doing: string): Error {
  const name = awsErrorName(err) ?? "";
  if (name === "AccessDeniedException") {
    return new OperationError(
      `Organizations refused to ${doing} (AccessDeniedException): the landing zone's quarantine delegation (QuarantineDelegation, switch quarantineDelegation) must be deployed and the forensic responder's policy must carry the FlzQuarantine statements`,
      { cause: err },
    );
  }
  if (name === "AWSOrganizationsNotInUseException") {
    return new OperationError(`cannot ${doing}: the forensic account is not in an organisation`, { cause: err });
  }
  if (name === "ConstraintViolationException") {
    return new OperationError(
      `Organizations refused to ${doing} (${(err as Error).message}): an account holds at most ${SCPS_PER_TARGET} directly attached SCPs and an SCP at most 5,120 characters`,
      { cause: err },
    );
  }
  if (name === "AccountNotFoundException" || name === "TargetNotFoundException") {
    return new UsageError(`cannot ${doing}: the account is not a member of the organisation`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Reads the organisation, the case's quarantine policies of the account (by name) and what else is attached to it. */
export async function readQuarantine(
  org: OrganizationsClient,
  caseId: string,
  account: string,
): Promise<QuarantineState> {
  try {
    const described = (await org.send(new DescribeOrganizationCommand({}))).Organization;
    const [summaries, attachedSummaries] = await Promise.all([
      listAll(async (token) => {
        const out = await org.send(new ListPoliciesCommand({ Filter: "SERVICE_CONTROL_POLICY", NextToken: token }));
        return { items: out.Policies ?? [], next: out.NextToken };
      }),
      listAll(async (token) => {
        const out = await org.send(
          new ListPoliciesForTargetCommand({ TargetId: account, Filter: "SERVICE_CONTROL_POLICY", NextToken: token }),
        );
        return { items: out.Policies ?? [], next: out.NextToken };
      }),
    ]);
    const attachedIds = new Set(attachedSummaries.map((p) => p.Id));
    const ours = summaries.filter((p) => quarantinePolicyIndex(p.Name ?? "", caseId, account) !== undefined);
    const found = await Promise.all(
      ours.map(async (summary): Promise<FoundPolicy> => {
        const id = summary.Id ?? "";
        const [policy, tags] = await Promise.all([
          org.send(new DescribePolicyCommand({ PolicyId: id })),
          org.send(new ListTagsForResourceCommand({ ResourceId: id })),
        ]);
        return {
          id,
          name: summary.Name ?? "",
          statements: parseStatements(policy.Policy?.Content),
          tags: Object.fromEntries((tags.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])),
          attached: attachedIds.has(id),
        };
      }),
    );
    const ourIds = new Set(found.map((f) => f.id));
    return {
      organizationId: described?.Id ?? "",
      managementAccountId: described?.MasterAccountId ?? "",
      found: found.sort((a, b) => a.name.localeCompare(b.name)),
      otherAttached: attachedSummaries
        .filter((p) => !ourIds.has(p.Id ?? ""))
        .map((p) => ({ id: p.Id ?? "", name: p.Name ?? "" })),
    };
  } catch (err) {
    throw organizationsError(err, `read the quarantine policies of account ${account}`);
  }
}

/** The quarantine content a record says it left in an account, if it changed any. */
export function recordedQuarantine(record: CustodyRecord, account: string): QuarantinePolicyState[] | undefined {
  const q = record.details?.quarantine as { account?: JsonValue; policies?: JsonValue } | undefined;
  if (!q || q.account !== account || !Array.isArray(q.policies)) return undefined;
  return q.policies.map((p) => {
    const entry = p as { name?: JsonValue; statements?: JsonValue };
    return {
      name: String(entry.name ?? ""),
      statements: (Array.isArray(entry.statements) ? entry.statements : []) as unknown as PolicyStatement[],
    };
  });
}

/**
 * What the case's quarantine policies of an account should hold according to the ledger: the content the latest
 * completion or undo recorded for each policy (intents are not facts yet). Policies left empty are omitted.
 */
export function expectedQuarantine(records: readonly CustodyRecord[], account: string): QuarantinePolicyState[] {
  const byName = new Map<string, QuarantinePolicyState>();
  for (const record of records) {
    if (record.action === INTENT_ACTION) continue;
    for (const policy of recordedQuarantine(record, account) ?? []) byName.set(policy.name, policy);
  }
  return [...byName.values()].filter((p) => p.statements.length > 0).sort((a, b) => a.name.localeCompare(b.name));
}

/** Every account the case's ledger has quarantine content for. */
export function quarantinedAccounts(records: readonly CustodyRecord[]): string[] {
  const accounts = new Set<string>();
  for (const record of records) {
    const account = (record.details?.quarantine as { account?: JsonValue } | undefined)?.account;
    if (typeof account === "string") accounts.add(account);
  }
  return [...accounts].sort();
}

/**
 * Statements compared by meaning, not by key order: the ledger stores records in canonical JSON (keys sorted), AWS
 * returns the text as it was sent.
 */
const canonical = (statements: readonly PolicyStatement[] | undefined): string =>
  statements === undefined ? "<not a policy document>" : canonicalize(statements);

/** One line per difference between what the ledger expects and what the organisation holds (empty: no drift). */
export function describeQuarantineDrift(
  expected: readonly QuarantinePolicyState[],
  found: readonly FoundPolicy[],
): string[] {
  const lines: string[] = [];
  for (const policy of expected) {
    const actual = found.find((f) => f.name === policy.name);
    if (!actual) {
      lines.push(`quarantine policy ${policy.name} is gone (deleted outside flz)`);
      continue;
    }
    if (canonical(actual.statements) !== canonical(policy.statements)) {
      for (const statement of policy.statements) {
        const now = actual.statements?.find((s) => s.Sid === statement.Sid);
        if (!now) lines.push(`quarantine policy ${policy.name}: statement ${statement.Sid ?? "?"} was removed`);
        else if (canonicalize(now) !== canonicalize(statement)) {
          lines.push(
            `quarantine policy ${policy.name}: statement ${statement.Sid ?? "?"} was altered (now ${JSON.stringify(now)})`,
          );
        }
      }
      const known = new Set(policy.statements.map((s) => s.Sid));
      for (const extra of actual.statements?.filter((s) => !known.has(s.Sid)) ?? []) {
        lines.push(`quarantine policy ${policy.name}: statement ${extra.Sid ?? "(no Sid)"} was added outside flz`);
      }
      if (actual.statements === undefined)
        lines.push(`quarantine policy ${policy.name} no longer holds a policy document`);
    }
    if (!actual.attached) lines.push(`quarantine policy ${policy.name} was detached from the account`);
    if (actual.tags[PURPOSE_TAG_KEY] !== QUARANTINE_PURPOSE) {
      lines.push(`quarantine policy ${policy.name} lost its ${PURPOSE_TAG_KEY}=${QUARANTINE_PURPOSE} tag`);
    }
  }
  return lines;
}

/** One statement to put (or keep, when a later cutoff is already in place). */
export interface QuarantineEntry {
  /** Who. */
  readonly subject: QuarantineSubject;
  /** Sessions issued before this are denied. */
  readonly cutoff: string;
}

/** What happens to one subject's statement. */
export interface QuarantineDecision {
  /** The subject (absent for a restore by statement ID). */
  readonly subject?: QuarantineSubject;
  /** Its statement ID. */
  readonly sid: string;
  /** Its statement before (per the ledger), or null. */
  readonly previous: PolicyStatement | null;
  /** Its statement after, or null when removed. */
  readonly next: PolicyStatement | null;
  /** `put` (new or moved cutoff), `keep` (a later cutoff already denies at least as much), `remove`. */
  readonly kind: "put" | "keep" | "remove";
}

/** One Organizations call of a plan. */
export type QuarantineStep =
  | { readonly kind: "create"; readonly name: string; readonly statements: PolicyStatement[] }
  | { readonly kind: "update"; readonly name: string; readonly id: string; readonly statements: PolicyStatement[] }
  | { readonly kind: "attach"; readonly name: string; readonly id: string }
  | { readonly kind: "detach"; readonly name: string; readonly id: string }
  | { readonly kind: "delete"; readonly name: string; readonly id: string };

/** A quarantine change, decided before anything is called. */
export interface QuarantinePlan {
  /** The case. */
  readonly caseId: string;
  /** The member account. */
  readonly account: string;
  /** What the organisation held. */
  readonly state: QuarantineState;
  /** What the ledger says it should hold. */
  readonly expected: QuarantinePolicyState[];
  /** What it will hold: every policy of the case in the account (empty statements: deleted). */
  readonly desired: QuarantinePolicyState[];
  /** Per subject, what happens. */
  readonly decisions: QuarantineDecision[];
  /** Drift found (what differed from the ledger); the steps restore it. */
  readonly drift: string[];
  /** The calls, in a safe order (nothing is ever left unprotected between two calls). */
  readonly steps: QuarantineStep[];
}

/** Arguments of {@link planQuarantine}. */
export interface PlanQuarantineArgs {
  /** The case. */
  readonly caseId: string;
  /** The member account (of every subject). */
  readonly account: string;
  /** The case's records (the reference for what should be there). */
  readonly records: readonly CustodyRecord[];
  /** Statements to put. A later cutoff already recorded for a subject is kept (undo moves cutoffs back). */
  readonly put?: readonly QuarantineEntry[];
  /** Statements to restore to a recorded previous state (undo): the statement, or null to remove it. */
  readonly restore?: readonly { readonly sid: string; readonly statement: PolicyStatement | null }[];
}

const sameStatements = (a: readonly PolicyStatement[] | undefined, b: readonly PolicyStatement[]): boolean =>
  canonical(a) === canonical(b);

/** The calls that take the organisation from `state` to `desired` (and repair drift of the other expected policies). */
export function quarantineSteps(state: QuarantineState, desired: readonly QuarantinePolicyState[]): QuarantineStep[] {
  const creates: QuarantineStep[] = [];
  const attaches: QuarantineStep[] = [];
  const gaining: QuarantineStep[] = [];
  const losing: QuarantineStep[] = [];
  const detaches: QuarantineStep[] = [];
  const deletes: QuarantineStep[] = [];
  for (const policy of desired) {
    const found = state.found.find((f) => f.name === policy.name);
    if (policy.statements.length === 0) {
      if (found?.attached) detaches.push({ kind: "detach", name: found.name, id: found.id });
      if (found) deletes.push({ kind: "delete", name: found.name, id: found.id });
      continue;
    }
    if (!found) {
      creates.push({ kind: "create", name: policy.name, statements: [...policy.statements] });
      continue;
    }
    if (!sameStatements(found.statements, policy.statements)) {
      const before = new Set((found.statements ?? []).map((s) => canonicalize(s)));
      const gains = policy.statements.some((s) => !before.has(canonicalize(s)));
      (gains ? gaining : losing).push({
        kind: "update",
        name: found.name,
        id: found.id,
        statements: [...policy.statements],
      });
    }
    if (!found.attached) attaches.push({ kind: "attach", name: found.name, id: found.id });
  }
  // Denies are added before any is taken away, so a statement moving between policies is never absent.
  return [...creates, ...gaining, ...attaches, ...losing, ...detaches, ...deletes];
}

/**
 * Decides a quarantine change: the ledger's expected content, with drift repaired, and the requested statements put
 * (or restored) on top; the calls that get there. Pure apart from the state it is given.
 */
export function decideQuarantine(state: QuarantineState, args: PlanQuarantineArgs): QuarantinePlan {
  if (args.account === state.managementAccountId) {
    throw new UsageError(
      `account ${args.account} is the organisation's management account: service control policies never apply there, so its sessions cannot be quarantined; contain them from the management account itself`,
    );
  }
  const expected = expectedQuarantine(args.records, args.account);
  const drift = describeQuarantineDrift(expected, state.found);
  // Policies of this case found in AWS that the ledger does not hold (a crashed run's creation) are part of the plan.
  let desired: QuarantinePolicyState[] = [
    ...expected,
    ...state.found
      .filter((f) => !expected.some((e) => e.name === f.name))
      .map((f) => ({ name: f.name, statements: [] })),
  ];
  const placement = {
    caseId: args.caseId,
    accountId: args.account,
    maxPolicies: SCPS_PER_TARGET - state.otherAttached.length,
  };
  const decisions: QuarantineDecision[] = [];
  const current = (sid: string) => desired.flatMap((p) => p.statements).find((s) => s.Sid === sid) ?? null;
  for (const entry of args.put ?? []) {
    const next = quarantineStatement({ caseId: args.caseId, subject: entry.subject, cutoff: entry.cutoff });
    const sid = next.Sid ?? quarantineSid(args.caseId, entry.subject);
    const previous = current(sid);
    const previousCutoff = quarantineCutoff(previous ?? undefined);
    if (previous && previousCutoff !== undefined && Date.parse(previousCutoff) >= Date.parse(entry.cutoff)) {
      decisions.push({ subject: entry.subject, sid, previous, next: previous, kind: "keep" });
      continue;
    }
    desired = placeQuarantineStatement(desired, next, placement);
    decisions.push({ subject: entry.subject, sid, previous, next, kind: "put" });
  }
  for (const entry of args.restore ?? []) {
    const previous = current(entry.sid);
    desired = entry.statement
      ? placeQuarantineStatement(desired, entry.statement, placement)
      : removeQuarantineStatement(desired, entry.sid);
    decisions.push({
      sid: entry.sid,
      previous,
      next: entry.statement,
      kind: entry.statement ? "put" : "remove",
    });
  }
  return {
    caseId: args.caseId,
    account: args.account,
    state,
    expected,
    desired,
    decisions,
    drift,
    steps: quarantineSteps(state, desired),
  };
}

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

/** One line per step, for people (and dry runs). */
export function describeSteps(plan: QuarantinePlan): string[] {
  return plan.steps.map((step) => {
    switch (step.kind) {
      case "create":
        return `create quarantine SCP ${step.name} (${step.statements.length} statement(s)) and attach it to account ${plan.account}`;
      case "update":
        return `update quarantine SCP ${step.name} to ${step.statements.length} statement(s)`;
      case "attach":
        return `attach quarantine SCP ${step.name} to account ${plan.account}`;
      case "detach":
        return `detach quarantine SCP ${step.name} from account ${plan.account}`;
      case "delete":
        return `delete quarantine SCP ${step.name}`;
    }
  });
}

/**
 * The quarantine content a plan leaves (every policy of the case in the account, emptied ones with no statements),
 * for `details.quarantine` of the completion or undo record: the ledger's reference for the drift check.
 */
export function quarantineDetails(plan: QuarantinePlan): JsonObject {
  return {
    account: plan.account,
    policies: plan.desired.map((p) => ({
      name: p.name,
      statements: JSON.parse(JSON.stringify(p.statements)) as JsonValue,
    })),
  };
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
