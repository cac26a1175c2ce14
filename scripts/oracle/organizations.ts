/**
 * Organizations requests, for the calls a delegated administrator makes (the forensic responder managing quarantine
 * SCPs through the organisation's resource policy, `components/documents/quarantine-delegation.ts`).
 *
 * By hand, because the reference's ARN formats cannot be bound from the request alone: every Organizations ARN names
 * the management account and the organisation (`arn:aws:organizations::<management>:policy/o-<org>/<type>/p-<id>`,
 * Service Authorization Reference, "Resource types defined by AWS Organizations"), neither of which is in the request;
 * the policy type is in the ARN and in `organizations:PolicyType` but only CreatePolicy carries it; and `TargetId` /
 * `ResourceId` name an account, a root or a policy by their ID's shape. The organisation is the world's (the
 * emulator's organisation has IDs of its own; the documents name the world's). The policy type and tags come from what
 * the oracle learned (`state.ts`), the calls the code makes before acting (ListPolicies, ListTagsForResource).
 */
import type { ObservedCall } from "../aws/observer";
import type { OracleState } from "./state";
import { tagsOf } from "./state";

/** The organisation whose ARNs the requests name. */
export interface OrganizationIds {
  /** `o-...`. */
  readonly organizationId: string;
  /** The management account: the account of every Organizations ARN. */
  readonly managementAccountId: string;
}

/** One Organizations request: resource, owner and the context only Organizations knows. */
export interface OrganizationsResource {
  readonly arn: string;
  readonly account: string;
  readonly context: Record<string, string | string[]>;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const rec = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === "object" ? (v as Record<string, unknown>) : {};

/** The policy a call acts on: its ID (`p-...`), from the input or, for CreatePolicy, from the answer. */
function policyIdOf(call: ObservedCall): string | undefined {
  const fromInput = str(call.input.PolicyId) ?? str(call.input.ResourceId);
  if (fromInput?.startsWith("p-")) return fromInput;
  if (call.operation === "CreatePolicy") return str(rec(rec(call.output?.Policy).PolicySummary).Id);
  return undefined;
}

/** The policy type a call carries or acts on (`SERVICE_CONTROL_POLICY`), when known. */
function policyTypeOf(call: ObservedCall, state: OracleState): string | undefined {
  const id = policyIdOf(call);
  return (
    str(call.input.Type) ??
    str(call.input.Filter) ??
    (id ? state.policyTypes.get(id) : undefined) ??
    (call.operation === "CreatePolicy" ? str(rec(rec(call.output?.Policy).PolicySummary).Type) : undefined)
  );
}

/** The request's own condition keys: the policy type, and the tags a create or tag request sets or removes. */
function contextOf(call: ObservedCall, type: string | undefined): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = {};
  if (type) context["organizations:PolicyType"] = type;
  if (call.operation === "CreatePolicy" || call.operation === "TagResource") {
    const tags = tagsOf(call.input.Tags);
    for (const [k, v] of Object.entries(tags)) context[`aws:RequestTag/${k}`] = v;
    if (Object.keys(tags).length > 0) context["aws:TagKeys"] = Object.keys(tags);
  }
  if (call.operation === "UntagResource" && Array.isArray(call.input.TagKeys))
    context["aws:TagKeys"] = call.input.TagKeys.map(String);
  return context;
}

/**
 * Resources of an Organizations call: the policy it names (with its type), the account or root it targets. Actions
 * without a resource type (DescribeOrganization, ListPolicies) are authorized on `*`, owned by the management account.
 * Returns a string when a required policy cannot be named (for example a policy ID whose type was never seen).
 */
export function organizationsResources(
  call: ObservedCall,
  org: OrganizationIds,
  state: OracleState,
): OrganizationsResource[] | string {
  const management = org.managementAccountId;
  const base = `arn:aws:organizations::${management}`;
  const type = policyTypeOf(call, state);
  const context = contextOf(call, type);
  const resources: OrganizationsResource[] = [];
  const policyId = policyIdOf(call);
  if (policyId) {
    if (!type)
      return `the type of Organizations policy ${policyId} is unknown to the oracle (no ListPolicies, DescribePolicy or CreatePolicy of it was seen)`;
    resources.push({
      arn: `${base}:policy/${org.organizationId}/${type.toLowerCase()}/${policyId}`,
      account: management,
      context,
    });
  } else if (call.operation === "CreatePolicy") {
    // A refused create has no ID: AWS authorizes it before anything exists.
    resources.push({
      arn: `${base}:policy/${org.organizationId}/${(type ?? "*").toLowerCase()}/*`,
      account: management,
      context,
    });
  }
  const target = str(call.input.TargetId) ?? str(call.input.ResourceId);
  if (target && /^\d{12}$/.test(target))
    resources.push({ arn: `${base}:account/${org.organizationId}/${target}`, account: management, context });
  else if (target?.startsWith("r-"))
    resources.push({ arn: `${base}:root/${org.organizationId}/${target}`, account: management, context });
  if (resources.length === 0) resources.push({ arn: "*", account: management, context });
  return resources;
}

/**
 * CreatePolicy with tags is also authorized as `organizations:TagResource` on the new policy (Organizations API
 * reference, CreatePolicy: "If the request includes tags, then the requester must have the
 * organizations:TagResource permission").
 */
export function organizationsImplicit(
  call: ObservedCall,
  org: OrganizationIds,
  state: OracleState,
): OrganizationsResource[] {
  if (call.operation !== "CreatePolicy" || !Array.isArray(call.input.Tags) || call.input.Tags.length === 0) return [];
  const resources = organizationsResources(call, org, state);
  return typeof resources === "string" ? [] : resources;
}
