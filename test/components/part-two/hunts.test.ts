import { expect } from "chai";
import { Parser } from "node-sql-parser";
import {
  ALL_AWS_REGIONS,
  CLOUDTRAIL_COLUMNS,
  CLOUDTRAIL_PARTITION_KEYS,
  type TableColumn,
  cloudTrailTableParameters,
  huntQueries,
} from "../../../components/documents/athena";

const DATABASE = "flz_investigation";
const TABLE = "organization_trail";
const QUERIES = huntQueries({ database: DATABASE, table: TABLE, governedRegions: ["us-east-1", "eu-west-1"] });
const parser = new Parser();

/** The hunts the issue asks for, by the name an investigator looks for in the console. */
const REQUIRED_HUNTS = [
  "access-key-activity",
  "role-session-activity",
  "console-logins-without-mfa",
  "assume-role-chain",
  "access-keys-created",
  "activity-in-unused-regions",
  "denied-calls-by-principal",
  "s3-object-access-by-principal",
  "kms-decrypts-by-principal",
  "security-group-and-nacl-changes",
  "trail-and-logging-changes",
  "instance-credentials-used-outside-ec2",
];

const SQL_KEYWORDS = new Set([
  "cross",
  "join",
  "left",
  "right",
  "inner",
  "outer",
  "full",
  "on",
  "where",
  "group",
  "order",
  "unnest",
  "lateral",
]);

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null && !Array.isArray(v);

/** Flattens a (possibly dotted) name expression into its segments. */
function segments(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (!isNode(value)) return [];
  if (value.type === "binary_expr" && value.operator === ".")
    return [...segments(value.left), ...segments(value.right)];
  if ("expr" in value) return segments(value.expr);
  if (Array.isArray(value.name)) return value.name.flatMap(segments);
  if (typeof value.value === "string") return [value.value];
  return [];
}

/** The dotted path of a column reference: `ct.useridentity.sessioncontext.sessionissuer.arn` → five segments. */
function columnPath(ref: Node): string[] {
  const path: string[] = [];
  if (typeof ref.schema === "string") path.push(ref.schema);
  if (typeof ref.table === "string") path.push(ref.table);
  return [...path, ...segments(ref.column)];
}

/** Visits every node; `fn` returning false skips the node's children. */
function visit(value: unknown, fn: (node: Node) => boolean | void): void {
  if (Array.isArray(value)) value.forEach((v) => visit(v, fn));
  else if (isNode(value) && fn(value) !== false) Object.values(value).forEach((v) => visit(v, fn));
}

function resolve(fields: readonly TableColumn[], path: string[]): TableColumn | undefined {
  const [head, ...rest] = path;
  const column = fields.find((f) => f.name === head.toLowerCase());
  if (!column || rest.length === 0) return column;
  return column.fields ? resolve(column.fields, rest) : undefined;
}

/**
 * Checks a parsed query against the table definition: the only table is the CloudTrail table, every column reference is
 * qualified by a relation of the query (the table or an UNNEST of one of its arrays) and names a column or struct field
 * that exists, and unqualified names are only output aliases. Returns the problems found.
 */
function columnProblems(ast: unknown): string[] {
  const problems: string[] = [];
  const tableColumns = [...CLOUDTRAIL_COLUMNS, ...CLOUDTRAIL_PARTITION_KEYS];
  const relations = new Map<string, readonly TableColumn[]>();
  const outputAliases = new Set<string>();
  visit(ast, (node) => {
    if (Array.isArray(node.from)) {
      for (const item of node.from as Node[]) {
        if (typeof item.table === "string") {
          if (item.db !== DATABASE || item.table !== TABLE)
            problems.push(`reads table ${String(item.db)}.${item.table}, not ${DATABASE}.${TABLE}`);
          const alias = typeof item.as === "string" ? item.as : item.table;
          if (SQL_KEYWORDS.has(alias.toLowerCase()))
            problems.push(`table alias "${alias}" is a keyword: the parser misread a join`);
          relations.set(alias, tableColumns);
        } else if (
          isNode(item.expr) &&
          item.expr.type === "function" &&
          segments(item.expr.name).join(".").toUpperCase() === "UNNEST"
        ) {
          const alias = /^\w+\((\w+)\)$/.exec(String(item.as))?.[1];
          const args = (item.expr.args as Node).value as Node[];
          const source = args.length === 1 ? columnPath(args[0]) : [];
          const sourceColumns = relations.get(source[0] ?? "");
          const array = sourceColumns ? resolve(sourceColumns, source.slice(1)) : undefined;
          if (!alias || !array?.fields)
            problems.push(`UNNEST of ${source.join(".")} is not an array of structs of the table`);
          else relations.set(alias, array.fields);
        }
      }
    }
    if (Array.isArray(node.columns)) {
      for (const c of node.columns as Node[]) if (typeof c.as === "string") outputAliases.add(c.as);
    }
  });
  visit(ast, (node) => {
    if (node.type === "double_quote_string")
      problems.push(`bare "${String(node.value)}" is read as a string, not a column: qualify it`);
    if (node.type !== "column_ref") return true;
    const path = columnPath(node);
    if (path.length === 1 && path[0] === "*") return false;
    if (path.length === 1) {
      if (!outputAliases.has(path[0])) problems.push(`unqualified column "${path[0]}" is not an output alias`);
      return false;
    }
    const fields = relations.get(path[0]);
    if (!fields)
      problems.push(`"${path.join(".")}" is qualified by "${path[0]}", which is not a relation of the query`);
    else if (!resolve(fields, path.slice(1))) problems.push(`"${path.join(".")}" is not a column of the table`);
    return false;
  });
  return problems;
}

describe("hunt queries", () => {
  it("include every hunt the issue lists, each named once and described", () => {
    const names = QUERIES.map((q) => q.name);
    expect(names).to.include.members(REQUIRED_HUNTS);
    expect(new Set(names).size).to.equal(names.length);
    expect(QUERIES.length).to.be.at.least(12);
    for (const q of QUERIES) expect(q.description.length, q.name).to.be.greaterThan(20);
  });

  for (const query of QUERIES) {
    describe(query.name, () => {
      it("parses as Trino SQL", () => {
        expect(() => parser.astify(query.sql, { database: "trino" })).not.to.throw();
      });
      it("uses only columns of the CloudTrail table", () => {
        expect(columnProblems(parser.astify(query.sql, { database: "trino" }))).to.deep.equal([]);
      });
      it("prunes partitions by date", () => {
        expect(query.sql).to.match(/\b(ct|hop)\."date" >= date_format\(current_date - interval '30' day/);
      });
    });
  }

  it("look for activity outside exactly the governed regions", () => {
    const sql = QUERIES.find((q) => q.name === "activity-in-unused-regions")!.sql;
    expect(sql).to.contain("ct.region NOT IN ('us-east-1', 'eu-west-1')");
  });

  it("count parameters the description explains", () => {
    for (const q of QUERIES) {
      const placeholders = (q.sql.match(/\?/g) ?? []).length;
      if (placeholders > 0) expect(q.description, q.name).to.match(/Parameter/);
    }
  });

  describe("the checks themselves", () => {
    it("reject SQL that is not Trino", () => {
      expect(() =>
        parser.astify(`SELECT ct.eventname FROM ${DATABASE}.${TABLE} AS ct WHERE ct.eventname ==== 'x' ((`, {
          database: "trino",
        }),
      ).to.throw();
    });
    it("catch an unknown column, a wrong struct field, an unknown table and a bare quoted name", () => {
      const bad = `SELECT ct.eventnam, ct.useridentity.sessioncontext.sessionissuer.arnn FROM ${DATABASE}.other AS ct WHERE "date" > '2024'`;
      const problems = columnProblems(parser.astify(bad, { database: "trino" }));
      expect(problems.join("\n")).to.match(/ct\.eventnam" is not a column/);
      expect(problems.join("\n")).to.match(/arnn" is not a column/);
      expect(problems.join("\n")).to.match(/reads table flz_investigation\.other/);
      expect(problems.join("\n")).to.match(/bare "date" is read as a string/);
    });
    it("catch the join misread as a table alias", () => {
      const misread = `SELECT res.arn FROM ${DATABASE}.${TABLE} CROSS JOIN UNNEST(resources) AS t(res)`;
      expect(columnProblems(parser.astify(misread, { database: "trino" })).join("\n")).to.match(
        /alias "CROSS" is a keyword/,
      );
    });
  });

  it("refuse an unknown governed region and a bad name, naming the value", () => {
    expect(() => huntQueries({ database: DATABASE, table: TABLE, governedRegions: ["us-east-9"] })).to.throw(
      /"us-east-9" is not a known AWS region/,
    );
    expect(() => huntQueries({ database: "flz-db", table: TABLE, governedRegions: ["us-east-1"] })).to.throw(
      /database "flz-db" is not a valid Athena name/,
    );
  });
});

describe("CloudTrail table parameters", () => {
  const params = cloudTrailTableParameters({
    bucket: "flz-trail-logs",
    prefix: "org/",
    organizationId: "o-exampleorg1",
    firstDay: "2024/01/01",
  });

  it("project partitions by account, region and date over the organisation trail's path", () => {
    expect(params["projection.enabled"]).to.equal("true");
    // Injected, not an enum fixed at deployment: accounts created later are covered, nothing to keep in sync.
    expect(params["projection.account.type"]).to.equal("injected");
    expect(params).to.not.have.property("projection.account.values");
    expect(params["projection.date.format"]).to.equal("yyyy/MM/dd");
    expect(params["projection.date.range"]).to.equal("2024/01/01,NOW");
    expect(params["storage.location.template"]).to.equal(
      "s3://flz-trail-logs/org/AWSLogs/o-exampleorg1/${account}/CloudTrail/${region}/${date}",
    );
  });

  it("project every AWS region, so activity outside the governed ones stays visible", () => {
    expect(params["projection.region.values"].split(",")).to.deep.equal([...ALL_AWS_REGIONS]);
  });

  it("refuse a malformed organisation ID", () => {
    const base = { bucket: "b", prefix: "", organizationId: "o-exampleorg1", firstDay: "2024/01/01" };
    expect(() => cloudTrailTableParameters({ ...base, organizationId: "org1" })).to.throw(
      /"org1" is not an organisation ID/,
    );
  });
});
