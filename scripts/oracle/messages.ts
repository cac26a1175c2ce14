/**
 * The oracle's messages: one actionable paragraph per denied request, naming the call, who made it, the statement or
 * document that decided it and the request context, so a failing test says which document to fix.
 */
import type { ObservedCall } from "../aws/observer";
import type { AuthorizationRequest } from "./requests";
import type { CallRecord, Decision, DenialReason, Grant, GrantReason, Principal, Verdict } from "./decisions";
import type { NamedDocument } from "./world";

/** `operation of service` for messages. */
function callName(call: ObservedCall): string {
  return `${call.serviceId || call.signingName} ${call.operation}`;
}

/** Describes a principal for a message. */
export function describePrincipal(p: Principal): string {
  const tags = Object.entries(p.sessionTags)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
  return `${p.operator ? "the operator" : p.name} (${p.arn}${p.sessionName ? `, session ${p.sessionName}` : ""}${tags ? `, tags ${tags}` : ""})`;
}

/** The one-paragraph, actionable message for a denied request. */
export function denialMessage(record: CallRecord, decision: Decision): string {
  const r = decision.request;
  const who = record.principal ? describePrincipal(record.principal) : "an unknown principal";
  const label = record.call.label ? ` [${record.call.label}]` : "";
  const why = r.onBehalf ? ` (${r.onBehalf}, for ${callName(record.call)})` : ` (${callName(record.call)})`;
  const context = Object.entries(r.context)
    .filter(([k]) => !k.startsWith("aws:Principal") && k !== "aws:CurrentTime" && k !== "aws:EpochTime")
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(",")}]` : v}`)
    .join(" ");
  return (
    `${r.action} on ${r.resource}${why}${label} as ${who}: ${decision.verdict === "ExplicitlyDenied" ? "explicitly denied by" : "implicitly denied:"} ` +
    `${decision.deciding.join("; ")}${context ? `. Request context: ${context}` : ""}`
  );
}

/** What to do about a denial, said once above the list. */
export const DENIAL_ADVICE =
  "Grant each call in the policy document named (least privilege: the narrowest action, resource and condition that " +
  "fits); never exempt the call.";

/** Every denied decision and every gap of `records`, as messages. */
export function problemsOf(records: readonly CallRecord[]): string[] {
  const problems: string[] = [];
  for (const record of records) {
    for (const gap of record.gaps)
      problems.push(
        `cannot evaluate ${callName(record.call)}${record.call.label ? ` [${record.call.label}]` : ""}: ${gap}`,
      );
    for (const decision of record.decisions)
      if (decision.verdict !== "Allowed") problems.push(denialMessage(record, decision));
  }
  return problems;
}

/**
 * The grant an allowing statement makes, named for the permission reference.
 * @param g The evaluator's reason.
 * @param identity The caller's identity policies.
 * @param resource The resource's policy, when it has one.
 */
export function grantOf(g: GrantReason, identity: NamedDocument[], resource: NamedDocument | undefined): Grant {
  if (g.policyType === "identity") {
    const doc = identity.find((p) => p.name === g.policyIdentifier);
    return {
      kind: "identity",
      policy: g.policyIdentifier ?? "?",
      builder: doc?.builder ?? "?",
      sid: g.statementId,
      document: documentName("identity", g.policyIdentifier, identity, resource),
    };
  }
  if (g.policyType === "resource")
    return {
      kind: "resource",
      policy: resource?.name ?? "resource policy",
      builder: resource?.builder ?? "?",
      sid: g.statementId,
      document: documentName("resource", undefined, identity, resource),
    };
  return {
    kind: g.policyType,
    policy: g.policyIdentifier ?? "?",
    builder: "?",
    sid: g.statementId,
    document: documentName(g.policyType, g.policyIdentifier, identity, resource),
  };
}

/**
 * The name of a document for a message: its policy name and the builder that made it.
 * @param kind The evaluator's policy type.
 * @param id The evaluator's policy identifier.
 * @param identity The caller's identity policies.
 * @param resource The resource's policy, when it has one.
 */
export function documentName(
  kind: string,
  id: string | undefined,
  identity: NamedDocument[],
  resource: NamedDocument | undefined,
): string {
  if (kind === "identity") {
    const doc = identity.find((p) => p.name === id);
    return `identity policy ${id ?? "?"}${doc ? ` (${doc.builder})` : ""}`;
  }
  if (kind === "resource") return resource ? `${resource.name} (${resource.builder})` : "the resource's policy";
  if (kind === "scp") return `service control policy ${id ?? "?"}`;
  if (kind === "rcp") return `resource control policy ${id ?? "?"}`;
  return `${kind} policy ${id ?? ""}`.trim();
}

/**
 * Why a request was denied, naming the statement or the documents that did not allow it.
 * @param d The evaluator's reason.
 * @param identity The caller's identity policies.
 * @param resource The resource's policy, when it has one.
 * @param principal Who made the call.
 * @param request The request denied.
 */
export function describeDenial(
  d: DenialReason,
  identity: NamedDocument[],
  resource: NamedDocument | undefined,
  principal: Principal,
  request: AuthorizationRequest,
): string {
  if (d.denialType === "Explicit") {
    const statement = d.statementId ? `statement ${d.statementId}` : `statement #${d.statementIndex ?? "?"}`;
    return `${statement} of ${documentName(d.policyType, d.policyIdentifier, identity, resource)}`;
  }
  if (d.policyType === "identity")
    return `no statement of ${identity.map((p) => documentName("identity", p.name, identity, resource)).join(" or ")} allows it`;
  if (d.policyType === "resource")
    return principal.account === request.resourceAccount
      ? `no statement of ${documentName("resource", undefined, identity, resource)} allows it`
      : `cross-account: ${documentName("resource", undefined, identity, resource)} of account ${request.resourceAccount} does not allow it`;
  return `no ${d.policyType} statement allows it${d.identifier ? ` at ${d.identifier}` : ""}`;
}

/**
 * The documents that decided a request the evaluator names no statement for (encryption-context requests).
 * @param identity The caller's identity policies.
 * @param resource The resource's policy, when it has one.
 * @param verdict The verdict.
 */
export function describeDocuments(
  identity: NamedDocument[],
  resource: NamedDocument | undefined,
  verdict: Verdict,
): string {
  const docs = [
    ...identity.map((p) => `identity policy ${p.name} (${p.builder})`),
    ...(resource ? [`${resource.name} (${resource.builder})`] : []),
  ];
  return `${verdict === "Allowed" ? "allowed" : "denied"} by ${docs.join(" with ")} (encryption-context request: the evaluator names no statement)`;
}
