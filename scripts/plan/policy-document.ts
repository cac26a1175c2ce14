/**
 * The `aws:iam/getPolicyDocument:getPolicyDocument` invoke, computed as the provider computes it, so that `npm run
 * plan` and the policy pack see the documents programs build with `aws.iam.getPolicyDocument` (the mock engine
 * answered `{}` before, and a policy built that way was invisible offline).
 *
 * Semantics followed (the provider's documentation, shipped in `@pulumi/aws/iam/getPolicyDocument.d.ts` and
 * `types/input.d.ts`, and the Terraform AWS provider's data source it bridges, `aws_iam_policy_document`):
 * - `version` defaults to `2012-10-17`; `policyId` becomes `Id`; a statement's `effect` defaults to `Allow`;
 * - `actions`, `notActions`, `resources`, `notResources`, principal `identifiers` and condition `values` render as a
 *   string when they hold one element, else as a list; `&{` is the escape for an IAM policy variable and renders as
 *   `${` ("home/&{aws:username}/" in the provider's example);
 * - principal blocks of the same `type` merge their identifiers; a single block `{ type: "*", identifiers: ["*"] }`
 *   renders as `"Principal": "*"`; `notPrincipals` likewise;
 * - condition blocks render as `{ <test>: { <variable>: <values> } }`; blocks with the same `test` and different
 *   `variable`s share the operator ("Example Multiple Condition Keys and Values"); the same test and variable twice
 *   accumulate their values;
 * - merging: "Statements defined in `sourcePolicyDocuments` must have unique `sid`s" (a duplicate fails the invoke);
 *   the source documents are merged in order, then this document's `statements` (whose sids must be unique among
 *   themselves), then the `overridePolicyDocuments` in order, where "statements with non-blank `sid`s will override
 *   statements with the same `sid` from earlier documents in the list ... [and] from `sourcePolicyDocuments`.
 *   Non-overriding statements will be added to the exported document." An overriding statement takes the place of
 *   the one it overrides; a statement without a sid is always appended. The deprecated `sourceJson` is merged first
 *   and `overrideJson` just before the override documents, as the provider kept them for compatibility.
 * - `json` is the document indented by two spaces, `minifiedJson` the same without whitespace.
 */
import { createHash } from "node:crypto";

/** A statement as the invoke receives it (`inputs.iam.GetPolicyDocumentStatement`). */
interface StatementInput {
  sid?: string;
  effect?: string;
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
  principals?: Array<{ type: string; identifiers: string[] }>;
  notPrincipals?: Array<{ type: string; identifiers: string[] }>;
  conditions?: Array<{ test: string; variable: string; values: string[] }>;
}

/** The invoke's arguments (`GetPolicyDocumentArgs`). */
export interface PolicyDocumentArgs {
  /** Statements of this document. */
  readonly statements?: StatementInput[];
  /** JSON documents merged first, in order; their sids must be unique. */
  readonly sourcePolicyDocuments?: string[];
  /** JSON documents merged last, in order; their sids override earlier statements. */
  readonly overridePolicyDocuments?: string[];
  /** Deprecated single source document. */
  readonly sourceJson?: string;
  /** Deprecated single override document. */
  readonly overrideJson?: string;
  /** The document's `Id`. */
  readonly policyId?: string;
  /** `2008-10-17` or `2012-10-17` (default). */
  readonly version?: string;
}

type Json = Record<string, unknown>;
interface Document {
  Version: string;
  Id?: string;
  Statement: Json[];
}

const interpolate = (value: string): string => value.replace(/&\{/g, "${");

/** One element renders as a string, several as a list (the provider's set marshalling). */
function scalarOrList(values: readonly string[] | undefined): string | string[] | undefined {
  if (!values || values.length === 0) return undefined;
  const rendered = values.map(interpolate);
  return rendered.length === 1 ? rendered[0] : rendered;
}

function principalBlock(blocks: StatementInput["principals"]): unknown {
  if (!blocks || blocks.length === 0) return undefined;
  const only = blocks[0];
  if (blocks.length === 1 && only?.type === "*" && only.identifiers.length === 1 && only.identifiers[0] === "*")
    return "*";
  const merged: Record<string, string[]> = {};
  for (const block of blocks) merged[block.type] = [...(merged[block.type] ?? []), ...block.identifiers];
  return Object.fromEntries(Object.entries(merged).map(([type, ids]) => [type, scalarOrList(ids)]));
}

function conditionBlock(blocks: StatementInput["conditions"]): Json | undefined {
  if (!blocks || blocks.length === 0) return undefined;
  const merged: Record<string, Record<string, string[]>> = {};
  for (const c of blocks) {
    const byVariable = (merged[c.test] ??= {});
    byVariable[c.variable] = [...(byVariable[c.variable] ?? []), ...c.values];
  }
  return Object.fromEntries(
    Object.entries(merged).map(([test, vars]) => [
      test,
      Object.fromEntries(Object.entries(vars).map(([v, values]) => [v, scalarOrList(values)])),
    ]),
  );
}

/** A statement in the provider's key order (Sid, Effect, Action, NotAction, Resource, NotResource, Principal, ...). */
function renderStatement(s: StatementInput): Json {
  const out: Json = {
    Sid: s.sid || undefined,
    Effect: s.effect || "Allow",
    Action: scalarOrList(s.actions),
    NotAction: scalarOrList(s.notActions),
    Resource: scalarOrList(s.resources),
    NotResource: scalarOrList(s.notResources),
    Principal: principalBlock(s.principals),
    NotPrincipal: principalBlock(s.notPrincipals),
    Condition: conditionBlock(s.conditions),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

function parseDocument(text: string, what: string): Document {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`getPolicyDocument: ${what} is not JSON: ${(error as Error).message}`);
  }
  const doc = parsed as Partial<Document> & { Statement?: unknown };
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  return { Version: doc.Version ?? "", Id: doc.Id, Statement: statements as Json[] };
}

/** Merges `next` into `into`: the provider's `IAMPolicyDoc.Merge` (same sid replaces in place, else appends). */
function merge(into: Document, next: Document): void {
  if (next.Id) into.Id = next.Id;
  if (next.Version > into.Version) into.Version = next.Version;
  for (const statement of next.Statement) {
    const sid = typeof statement.Sid === "string" ? statement.Sid : "";
    const at = sid === "" ? -1 : into.Statement.findIndex((s) => s.Sid === sid);
    if (at >= 0) into.Statement[at] = statement;
    else into.Statement.push(statement);
  }
}

/**
 * The invoke's result: `json`, `minifiedJson` and an `id`, with the arguments echoed as the provider does.
 *
 * @param args the invoke's inputs.
 * @throws Error when a source document repeats a sid, a statement sid repeats, or a document is not JSON (the
 *   provider fails the invoke in these cases).
 */
export function computePolicyDocument(args: PolicyDocumentArgs): Record<string, unknown> {
  const merged: Document = { Version: "", Statement: [] };
  if (args.sourceJson) merge(merged, parseDocument(args.sourceJson, "sourceJson"));
  const sids = new Set(merged.Statement.map((s) => s.Sid).filter((s): s is string => typeof s === "string" && !!s));
  (args.sourcePolicyDocuments ?? []).forEach((text, index) => {
    const doc = parseDocument(text, `sourcePolicyDocuments[${index}]`);
    doc.Statement.forEach((s, statementIndex) => {
      if (typeof s.Sid !== "string" || s.Sid === "") return;
      if (sids.has(s.Sid))
        throw new Error(
          `getPolicyDocument: duplicate Sid (${s.Sid}) in sourcePolicyDocuments (item ${index}; statement ${statementIndex}); remove the Sid or make Sids unique`,
        );
      sids.add(s.Sid);
    });
    merge(merged, doc);
  });
  const own = new Set<string>();
  const current: Document = { Version: args.version ?? "2012-10-17", Id: args.policyId, Statement: [] };
  for (const s of args.statements ?? []) {
    if (s.sid) {
      if (own.has(s.sid))
        throw new Error(
          `getPolicyDocument: duplicate sid (${s.sid}); remove the sid or make it unique across all statements`,
        );
      own.add(s.sid);
    }
    current.Statement.push(renderStatement(s));
  }
  merge(merged, current);
  if (args.overrideJson) merge(merged, parseDocument(args.overrideJson, "overrideJson"));
  (args.overridePolicyDocuments ?? []).forEach((text, index) =>
    merge(merged, parseDocument(text, `overridePolicyDocuments[${index}]`)),
  );
  const document: Json = { Version: merged.Version || "2012-10-17" };
  if (merged.Id) document.Id = merged.Id;
  document.Statement = merged.Statement;
  const json = JSON.stringify(document, null, 2);
  const minifiedJson = JSON.stringify(document);
  const id = createHash("sha256").update(json).digest("hex").slice(0, 10);
  return { ...args, json, minifiedJson, id };
}
