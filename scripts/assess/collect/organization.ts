/**
 * Reads from the management account (read-only): the organisation (accounts, each account's OUs, SCPs and RCPs with
 * their content and targets, trusted access, delegated administrators, the resource policy) and its trails.
 */
import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
  type GetEventSelectorsCommandOutput,
} from "@aws-sdk/client-cloudtrail";
import {
  DescribeOrganizationCommand,
  DescribePolicyCommand,
  DescribeResourcePolicyCommand,
  OrganizationsClient,
  paginateListAccounts,
  paginateListAWSServiceAccessForOrganization,
  paginateListDelegatedAdministrators,
  paginateListParents,
  paginateListPolicies,
  paginateListTargetsForPolicy,
} from "@aws-sdk/client-organizations";
import pLimit from "p-limit";
import type { ClientFactory } from "../../aws/clients";
import type { OrgPolicy, OrganizationFacts, TrailFacts, TrailSelectors } from "../facts";
import { allPages, attempt, isoTime } from "./read";

/**
 * Service principals whose delegated administrator the checks compare: GuardDuty (FLZ-DET-02). Security Hub and
 * Detective membership is read in each account instead, where it shows whether the account is actually covered.
 */
export const DELEGATED_PRINCIPALS = ["guardduty.amazonaws.com"];

/** Calls in flight at once inside one scope (ancestry, policies). */
const INNER_CONCURRENCY = 8;

/** Summarises basic or advanced event selectors into what the checks need. */
export function summariseSelectors(
  out: Pick<GetEventSelectorsCommandOutput, "EventSelectors" | "AdvancedEventSelectors">,
): TrailSelectors {
  const kinds = new Set<string>();
  const excluded = new Set<string>();
  let s3Data: TrailSelectors["s3Data"] = "none";
  const buckets = new Set<string>();
  for (const sel of out.EventSelectors ?? []) {
    if (sel.IncludeManagementEvents !== false) kinds.add(sel.ReadWriteType ?? "All");
    for (const source of sel.ExcludeManagementEventSources ?? []) excluded.add(source);
    for (const data of sel.DataResources ?? []) {
      if (data.Type !== "AWS::S3::Object") continue;
      const values = data.Values ?? [];
      if (values.some((v) => /^arn:aws[\w-]*:s3(:::)?$/.test(v))) s3Data = "all";
      else if (values.length > 0) {
        if (s3Data === "none") s3Data = "some";
        for (const v of values) buckets.add(v);
      }
    }
  }
  for (const sel of out.AdvancedEventSelectors ?? []) {
    const field = (name: string) => sel.FieldSelectors?.find((f) => f.Field === name);
    const category = field("eventCategory")?.Equals ?? [];
    if (category.includes("Management")) {
      const readOnly = field("readOnly")?.Equals;
      kinds.add(readOnly?.[0] === "true" ? "ReadOnly" : readOnly?.[0] === "false" ? "WriteOnly" : "All");
      for (const source of field("eventSource")?.NotEquals ?? []) excluded.add(source);
    }
    if (category.includes("Data") && (field("resources.type")?.Equals ?? []).includes("AWS::S3::Object")) {
      const prefixes = field("resources.ARN")?.StartsWith ?? field("resources.ARN")?.Equals ?? [];
      if (prefixes.length === 0) s3Data = "all";
      else if (s3Data !== "all") {
        s3Data = "some";
        for (const p of prefixes) buckets.add(p);
      }
    }
  }
  const management: TrailSelectors["management"] =
    kinds.has("All") || (kinds.has("ReadOnly") && kinds.has("WriteOnly"))
      ? "All"
      : kinds.has("ReadOnly")
        ? "ReadOnly"
        : kinds.has("WriteOnly")
          ? "WriteOnly"
          : "None";
  return {
    management,
    excludedSources: [...excluded].sort(),
    s3Data,
    s3Buckets: s3Data === "some" ? [...buckets].sort() : [],
  };
}

async function trails(factory: ClientFactory, region: string): Promise<TrailFacts[]> {
  const ct = factory.client(CloudTrailClient, { region });
  const list = (await ct.send(new DescribeTrailsCommand({ includeShadowTrails: false }))).trailList ?? [];
  return Promise.all(
    list.map(async (t) => {
      const arn = t.TrailARN ?? t.Name ?? "";
      const home = factory.client(CloudTrailClient, { region: t.HomeRegion ?? region });
      const [status, selectors] = await Promise.all([
        attempt(async () => {
          const s = await home.send(new GetTrailStatusCommand({ Name: arn }));
          return {
            isLogging: s.IsLogging === true,
            latestDeliveryTime: isoTime(s.LatestDeliveryTime),
            latestDeliveryError: s.LatestDeliveryError || undefined,
          };
        }),
        attempt(async () => summariseSelectors(await home.send(new GetEventSelectorsCommand({ TrailName: arn })))),
      ]);
      return {
        arn,
        name: t.Name ?? arn,
        homeRegion: t.HomeRegion ?? region,
        isOrganizationTrail: t.IsOrganizationTrail === true,
        isMultiRegionTrail: t.IsMultiRegionTrail === true,
        logFileValidationEnabled: t.LogFileValidationEnabled === true,
        includeGlobalServiceEvents: t.IncludeGlobalServiceEvents === true,
        kmsKeyId: t.KmsKeyId || undefined,
        s3BucketName: t.S3BucketName,
        cloudWatchLogsLogGroupArn: t.CloudWatchLogsLogGroupArn || undefined,
        status,
        selectors,
      };
    }),
  );
}

async function policies(org: OrganizationsClient): Promise<OrgPolicy[]> {
  const limit = pLimit(INNER_CONCURRENCY);
  const summaries = (
    await Promise.all(
      ["SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"].map((Filter) =>
        allPages(paginateListPolicies({ client: org }, { Filter: Filter as "SERVICE_CONTROL_POLICY" }), (p) =>
          (p.Policies ?? []).map((s) => ({ ...s, Type: Filter })),
        ),
      ),
    )
  ).flat();
  return Promise.all(
    summaries.map((s) =>
      limit(async () => {
        const [described, targets] = await Promise.all([
          org.send(new DescribePolicyCommand({ PolicyId: s.Id })),
          allPages(paginateListTargetsForPolicy({ client: org }, { PolicyId: s.Id }), (p) =>
            (p.Targets ?? []).map((t) => t.TargetId ?? ""),
          ),
        ]);
        return {
          id: s.Id ?? "",
          name: s.Name ?? "",
          type: s.Type,
          awsManaged: s.AwsManaged === true,
          content: described.Policy?.Content ?? "",
          targets,
        };
      }),
    ),
  );
}

async function ancestry(org: OrganizationsClient, accounts: readonly string[]): Promise<Record<string, string[]>> {
  const limit = pLimit(INNER_CONCURRENCY);
  const parentOf = new Map<string, Promise<{ id: string; type: string } | undefined>>();
  const parent = (child: string) => {
    let p = parentOf.get(child);
    if (!p) {
      p = limit(async () => {
        const parents = await allPages(
          paginateListParents({ client: org }, { ChildId: child }),
          (page) => page.Parents,
        );
        return parents[0] ? { id: parents[0].Id ?? "", type: parents[0].Type ?? "" } : undefined;
      });
      parentOf.set(child, p);
    }
    return p;
  };
  const entries = await Promise.all(
    accounts.map(async (account) => {
      const path: string[] = [];
      for (let child = account, depth = 0; depth < 8; depth++) {
        const up = await parent(child);
        if (!up) break;
        path.push(up.id);
        if (up.type === "ROOT") break;
        child = up.id;
      }
      return [account, path] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/**
 * Reads the organisation and its trails from the management account.
 *
 * @param factory clients acting in the management account (its own placement).
 * @param region the home region (where the organisation trail is managed).
 * @param accounts the accounts whose OU ancestry the guardrail checks need.
 */
export async function collectOrganization(
  factory: ClientFactory,
  region: string,
  accounts: readonly string[],
): Promise<OrganizationFacts> {
  // Organizations is a global service answered from us-east-1 (aws partition); the SDK resolves its endpoint.
  const org = factory.client(OrganizationsClient, { region });
  // The probe: if the management account cannot be read at all (no session, no permission), the whole scope is
  // unreadable with this reason, rather than every fact failing with it. The reads start with it, not after it (each
  // is a Read that keeps its own failure): waiting would put one more round trip before the trail, whose key the
  // forensic account's read waits for.
  const probe = org.send(new DescribeOrganizationCommand({}));
  const [described, accountList, ancestryRead, policyRead, serviceAccess, delegated, resourcePolicy, trailRead] =
    await Promise.all([
      probe,
      attempt(() =>
        allPages(paginateListAccounts({ client: org }, {}), (p) =>
          (p.Accounts ?? []).map((a) => ({ id: a.Id ?? "", name: a.Name ?? "", status: a.Status ?? "" })),
        ),
      ),
      attempt(() => ancestry(org, accounts)),
      attempt(() => policies(org)),
      attempt(() =>
        allPages(paginateListAWSServiceAccessForOrganization({ client: org }, {}), (p) =>
          (p.EnabledServicePrincipals ?? []).map((s) => s.ServicePrincipal ?? ""),
        ),
      ),
      attempt(async () =>
        Object.fromEntries(
          await Promise.all(
            DELEGATED_PRINCIPALS.map(async (ServicePrincipal) => [
              ServicePrincipal,
              await allPages(paginateListDelegatedAdministrators({ client: org }, { ServicePrincipal }), (p) =>
                (p.DelegatedAdministrators ?? []).map((d) => d.Id ?? ""),
              ),
            ]),
          ),
        ),
      ),
      attempt<string | null>(
        async () => (await org.send(new DescribeResourcePolicyCommand({}))).ResourcePolicy?.Content ?? null,
        { ResourcePolicyNotFoundException: null },
      ),
      attempt(() => trails(factory, region)),
    ]);
  const managementAccountId = { ok: true as const, value: described.Organization?.MasterAccountId ?? "" };
  return {
    managementAccountId,
    accounts: accountList,
    ancestry: ancestryRead,
    policies: policyRead,
    serviceAccess,
    delegatedAdministrators: delegated,
    resourcePolicy,
    trails: trailRead,
  };
}
