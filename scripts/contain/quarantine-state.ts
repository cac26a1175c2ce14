/**
 * What the organisation holds for a case's quarantine, and what the ledger says it should hold. The ledger is the
 * reference: every completion or undo that changed a quarantine policy records the whole content of that policy
 * afterwards (`details.quarantine`), so anything else found in AWS (a statement rewritten to deny a non-existent
 * action, a policy detached or deleted by a management-account principal) is drift.
 */
import {
  DescribeOrganizationCommand,
  DescribePolicyCommand,
  ListPoliciesCommand,
  ListPoliciesForTargetCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import { canonicalize } from "json-canonicalize";
import {
  PURPOSE_TAG_KEY,
  QUARANTINE_PURPOSE,
  SCPS_PER_TARGET,
  quarantinePolicyIndex,
  type PolicyStatement,
  type QuarantinePolicyState,
} from "../../components/documents";
import type { ClientFactory } from "../aws/clients";
import type { CustodyRecord, JsonValue } from "../custody/types";
import { OperationError, UsageError } from "../errors";
import { awsErrorName } from "./common";
import { INTENT_ACTION } from "./intent";

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

export async function listAll<T>(page: (token?: string) => Promise<{ items: T[]; next?: string }>): Promise<T[]> {
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

/** The refusal for the management account, which no SCP binds (and where no member responder role exists). */
export function managementAccountRefusal(account: string): UsageError {
  return new UsageError(
    `account ${account} is the organisation's management account: service control policies never apply there, so its sessions cannot be quarantined; contain them from the management account itself`,
  );
}

/**
 * Refuses the management account before anything enters it: the member responder role is deployed to member
 * accounts only, so on AWS entering the management account would fail with an AccessDenied that says nothing useful.
 */
export async function refuseManagementAccount(org: OrganizationsClient, account: string): Promise<void> {
  try {
    const described = (await org.send(new DescribeOrganizationCommand({}))).Organization;
    if (described?.MasterAccountId === account) throw managementAccountRefusal(account);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw organizationsError(err, "read the organisation");
  }
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
export const canonical = (statements: readonly PolicyStatement[] | undefined): string =>
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
