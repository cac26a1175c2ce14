/**
 * The recording mock engine: runs a Pulumi program under `pulumi.runtime.setMocks` and records every resource the
 * program registers (type, name, parent, provider, inputs), so tests, the policy harness and `npm run plan` can
 * inspect what `pulumi up` would create without the Pulumi CLI or AWS. Invokes the programs rely on answer as the
 * provider would (caller identity, partition, region, organisation, and `getPolicyDocument` computed in full).
 *
 * There is one mock monitor per process (REFERENCE.md), so this module installs it once; programs run one at a
 * time through {@link runProgram}, which clears the record first.
 */
import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { computePolicyDocument, type PolicyDocumentArgs } from "./policy-document";

/** Account ID the mock engine pretends to deploy from (the management account). */
export const MOCK_MANAGEMENT_ACCOUNT_ID = "111111111111";
/** Organisation ID returned by mocked `aws:organizations/getOrganization`. */
export const MOCK_ORGANIZATION_ID = "o-exampleorg1";
/** Root ID of the mocked organisation. */
export const MOCK_ROOT_ID = "r-exam";
/** Project and stack names of mocked runs. */
export const MOCK_PROJECT = "forensic-landing-zone";
export const MOCK_STACK = "example";

/** One resource as the engine saw it. */
export interface RecordedResource {
  /** Resource type token, e.g. `aws:s3/bucket:Bucket` or `flz:storage:EvidenceBucket`. */
  readonly type: string;
  /** Logical name given by the program. */
  readonly name: string;
  /** URN the mock engine assigned. */
  readonly urn: string;
  /** URN of the parent resource, or undefined for the stack's direct children. */
  readonly parent?: string;
  /** Provider reference (`<urn>::<id>`) for custom resources with an explicit provider. */
  readonly provider?: string;
  /** Whether this is a custom (cloud) resource rather than a component. */
  readonly custom: boolean;
  /** The inputs the program passed, fully resolved. */
  readonly inputs: Record<string, unknown>;
  /** Physical ID the mock assigned. */
  readonly id: string;
  /** Resource options the program set that matter for evidence: `protect`, `retainOnDelete`, explicit `dependsOn` URNs. */
  readonly options?: { readonly protect: boolean; readonly retainOnDelete: boolean; readonly dependsOn: string[] };
  /**
   * For each input property, the URNs of the resources its value came from (what the engine passes to policies as
   * `propertyDependencies`): how a rule can join a sub-resource to its bucket while the bucket's ID is still unknown.
   */
  readonly propertyDependencies?: Record<string, string[]>;
  /** The state the mock returned: inputs plus computed outputs such as ARNs (what a preview would know). */
  readonly outputs?: Record<string, unknown>;
}

/** One invoke (data-source call) the program made. */
export interface RecordedCall {
  readonly token: string;
  readonly inputs: Record<string, unknown>;
}

/** Result of running one program under mocks. */
export interface ProgramRun<T> {
  /** Every resource registered, in registration order. */
  readonly resources: RecordedResource[];
  /** Every invoke. */
  readonly calls: RecordedCall[];
  /** What the program function returned (its stack exports), resolved. */
  readonly outputs: T;
}

interface RegisterRequestLike {
  getParent(): string;
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void };
  getType(): string;
  getName(): string;
}
interface MonitorLike {
  registerResource(
    req: RegisterRequestLike,
    cb: (err: unknown, res: { getUrn(): string } | undefined) => void,
  ): Promise<void>;
}

const recorded: RecordedResource[] = [];
const calls: RecordedCall[] = [];
const parents = new Map<string, string>();
let installed: Promise<void> | undefined;
let queue: Promise<unknown> = Promise.resolve();

function physicalId(type: string, name: string, inputs: Record<string, unknown>): string {
  if (type === "aws:organizations/account:Account") return "222222222222";
  // A real bucket's ID is its name: keep them equal so sub-resources that reference `bucket.id` join to it.
  if (type === "aws:s3/bucket:Bucket" || type === "aws:s3/bucketV2:BucketV2") {
    return typeof inputs.bucket === "string" ? inputs.bucket : `${name}-bucket`;
  }
  return `${name}-id`;
}

/** Outputs a real provider would compute that programs commonly read (ARNs, IDs). */
function computedState(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  id: string,
): Record<string, unknown> {
  const region = "us-east-1";
  const account = MOCK_MANAGEMENT_ACCOUNT_ID;
  const state: Record<string, unknown> = { ...inputs };
  switch (type) {
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2":
      state.bucket = inputs.bucket ?? `${name}-bucket`;
      state.arn = `arn:aws:s3:::${state.bucket as string}`;
      break;
    case "aws:kms/key:Key":
      state.keyId = `mrk-${name}`;
      state.arn = `arn:aws:kms:${region}:${account}:key/mrk-${name}`;
      break;
    case "aws:kms/replicaKey:ReplicaKey":
      state.keyId = `mrk-${name}`;
      state.arn = `arn:aws:kms:${region}:${account}:key/mrk-${name}`;
      break;
    case "aws:iam/role:Role":
      state.arn = `arn:aws:iam::${account}:role/${(inputs.name as string | undefined) ?? name}`;
      state.name = inputs.name ?? name;
      break;
    case "aws:cloudtrail/trail:Trail":
      state.arn = `arn:aws:cloudtrail:${region}:${account}:trail/${(inputs.name as string | undefined) ?? name}`;
      break;
    case "aws:organizations/account:Account":
      state.arn = `arn:aws:organizations::${account}:account/${MOCK_ORGANIZATION_ID}/${id}`;
      break;
    case "aws:organizations/organizationalUnit:OrganizationalUnit":
      state.arn = `arn:aws:organizations::${account}:ou/${MOCK_ORGANIZATION_ID}/ou-exam-${name}`;
      break;
    default:
      state.arn = state.arn ?? `arn:aws:mock:${region}:${account}:${name}`;
  }
  return state;
}

function invokeResult(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return {
        accountId: MOCK_MANAGEMENT_ACCOUNT_ID,
        arn: `arn:aws:iam::${MOCK_MANAGEMENT_ACCOUNT_ID}:root`,
        userId: "AIDAMOCK",
        id: MOCK_MANAGEMENT_ACCOUNT_ID,
      };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
    case "aws:index/getRegion:getRegion":
      return { name: inputs.name ?? "us-east-1", region: inputs.region ?? "us-east-1", id: "us-east-1" };
    case "aws:organizations/getOrganization:getOrganization":
      return {
        id: MOCK_ORGANIZATION_ID,
        arn: `arn:aws:organizations::${MOCK_MANAGEMENT_ACCOUNT_ID}:organization/${MOCK_ORGANIZATION_ID}`,
        masterAccountId: MOCK_MANAGEMENT_ACCOUNT_ID,
        roots: [
          {
            id: MOCK_ROOT_ID,
            arn: `arn:aws:organizations::${MOCK_MANAGEMENT_ACCOUNT_ID}:root/${MOCK_ORGANIZATION_ID}/${MOCK_ROOT_ID}`,
            name: "Root",
            policyTypes: [],
          },
        ],
        awsServiceAccessPrincipals: [
          "cloudtrail.amazonaws.com",
          "member.org.stacksets.cloudformation.amazonaws.com",
          "guardduty.amazonaws.com",
          "malware-protection.guardduty.amazonaws.com",
          "securityhub.amazonaws.com",
          "detective.amazonaws.com",
        ],
        featureSet: "ALL",
      };
    case "aws:iam/getPolicyDocument:getPolicyDocument":
      // Computed as the provider computes it, so documents built this way are checked offline.
      return computePolicyDocument(inputs as PolicyDocumentArgs);
    default:
      return {};
  }
}

/** The provider resource a provider reference (`<urn>::<id>`) names. */
function referencedProvider(reference: string): RecordedResource | undefined {
  const urn = reference.split("::").slice(0, -1).join("::");
  return recorded.find((r) => r.urn === urn) ?? recorded.find((r) => reference.startsWith(`${r.urn}::`));
}

/**
 * The partition of a region, as the provider derives it for `getPartition` (GovCloud and China regions have their
 * own; every other region is in the commercial partition).
 */
function partitionOfRegion(region: string | undefined): { partition: string; dnsSuffix: string } {
  if (region?.startsWith("us-gov-")) return { partition: "aws-us-gov", dnsSuffix: "amazonaws.com" };
  if (region?.startsWith("cn-")) return { partition: "aws-cn", dnsSuffix: "amazonaws.com.cn" };
  return { partition: "aws", dnsSuffix: "amazonaws.com" };
}

/** The account a provider reference (`<urn>::<id>`) is pinned to: its `allowedAccountIds`, else its assumed role's. */
function providerAccount(reference: string): string | undefined {
  const provider = referencedProvider(reference);
  if (!provider) return undefined;
  const allowed = providerInput<string[]>(provider, "allowedAccountIds");
  const roles = providerInput<Array<{ roleArn?: string }>>(provider, "assumeRoles");
  return allowed?.[0] ?? roles?.[0]?.roleArn?.split(":")[4];
}

const mocks: pulumi.runtime.Mocks = {
  newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    const inputs = (args.inputs ?? {}) as Record<string, unknown>;
    const id = args.id && args.id !== "" ? args.id : physicalId(args.type, args.name, inputs);
    const state = computedState(args.type, args.name, inputs, id);
    recorded.push({
      type: args.type,
      name: args.name,
      urn: "",
      provider: args.provider && args.provider !== "" ? args.provider : undefined,
      custom: args.custom !== false,
      inputs,
      id,
      outputs: state,
    });
    return { id, state };
  },
  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    const inputs = (args.inputs ?? {}) as Record<string, unknown>;
    calls.push({ token: args.token, inputs });
    const result = invokeResult(args.token, inputs);
    // Through an explicit provider pinned to an account, the caller is in that account (as with real credentials).
    const account = args.provider ? providerAccount(args.provider) : undefined;
    if (account && args.token === "aws:index/getCallerIdentity:getCallerIdentity")
      return { ...result, accountId: account, arn: `arn:aws:iam::${account}:root`, id: account };
    if (args.provider && args.token === "aws:index/getPartition:getPartition") {
      const provider = referencedProvider(args.provider);
      const region = provider ? providerInput<string>(provider, "region") : undefined;
      const { partition, dnsSuffix } = partitionOfRegion(region);
      return { ...result, partition, dnsSuffix, id: partition };
    }
    return result;
  },
};

/**
 * Installs the mock monitor once per process. Wraps its `registerResource` to learn each resource's URN and parent,
 * which the Mocks interface does not pass on.
 */
export function installMockEngine(): Promise<void> {
  if (!installed) {
    installed = (async () => {
      await pulumi.runtime.setMocks(mocks, MOCK_PROJECT, MOCK_STACK, false);
      const monitor = pulumi.runtime.getMonitor() as unknown as MonitorLike;
      const original = monitor.registerResource.bind(monitor);
      monitor.registerResource = async (req, cb) => {
        const index = recorded.length;
        await original(req, (err, res) => {
          const entry = recorded[index];
          if (!err && res && entry) {
            const urn = res.getUrn();
            const parent = req.getParent();
            const propertyDependencies: Record<string, string[]> = {};
            req.getPropertydependenciesMap().forEach((deps, key) => {
              propertyDependencies[key] = deps.getUrnsList();
            });
            recorded[index] = {
              ...entry,
              propertyDependencies,
              urn,
              parent: parent && parent !== "" ? parent : undefined,
              options: {
                protect: req.getProtect() === true,
                retainOnDelete: req.getRetainondelete() === true,
                dependsOn: req.getDependenciesList(),
              },
            };
            parents.set(urn, parent);
          }
          cb(err, res);
        });
      };
    })();
  }
  return installed;
}

async function resolveDeep(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    return resolveDeep(await new Promise((resolve) => (value as pulumi.Output<unknown>).apply(resolve)));
  }
  if (value instanceof Promise) return resolveDeep(await value);
  if (Array.isArray(value)) return Promise.all(value.map(resolveDeep));
  if (value && typeof value === "object" && !(value instanceof pulumi.Resource)) {
    const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolveDeep(v)] as const));
    return Object.fromEntries(entries);
  }
  return value;
}

/**
 * Runs a program (a function that builds resources and returns its exports) as a stack under the mock engine, waits
 * for every resource, and returns what was recorded. Runs are serialised: the mock monitor is process-wide.
 *
 * @param program builds the resources; its return value is treated as the stack's exports.
 * @param config stack configuration as `project:key` → string value (Pulumi.yaml config is not read under mocks).
 */
export function runProgram<T>(
  program: () => T | Promise<T>,
  config: Record<string, string> = {},
): Promise<ProgramRun<Awaited<T>>> {
  const run = queue.then(async () => {
    await installMockEngine();
    recorded.length = 0;
    calls.length = 0;
    parents.clear();
    pulumi.runtime.setAllConfig(config);
    const exports = await pulumi.runtime.runInPulumiStack(async () => program());
    const outputs = (await resolveDeep(exports)) as Awaited<T>;
    // runInPulumiStack resolves with the exports, not when every registration has reached the monitor.
    await (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    return { resources: recorded.filter((r) => r.type !== "pulumi:pulumi:Stack"), calls: [...calls], outputs };
  });
  queue = run.catch(() => undefined);
  return run;
}

/** Resolves an output in a test. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** The provider resource a recorded resource is deployed through, if any. */
export function providerOf(
  run: { resources: RecordedResource[] },
  resource: RecordedResource,
): RecordedResource | undefined {
  if (!resource.provider) return undefined;
  const urn = resource.provider.split("::").slice(0, -1).join("::");
  return run.resources.find((r) => r.urn === urn);
}

/** Parses a provider input that arrives as JSON text under mocks (REFERENCE.md). */
export function providerInput<T>(provider: RecordedResource, key: string): T | undefined {
  const raw = provider.inputs[key];
  if (typeof raw === "string") {
    try {
      return JSON.parse(raw) as T;
    } catch {
      return raw as unknown as T;
    }
  }
  return raw as T | undefined;
}

/** Where a resource lands: the account and region its provider points at (undefined = the default provider). */
export function placementOf(
  run: { resources: RecordedResource[] },
  resource: RecordedResource,
): { account?: string; region?: string } {
  const provider = providerOf(run, resource);
  if (!provider) return { account: MOCK_MANAGEMENT_ACCOUNT_ID, region: undefined };
  const allowed = providerInput<string[]>(provider, "allowedAccountIds");
  const roles = providerInput<Array<{ roleArn?: string }>>(provider, "assumeRoles");
  const fromRole = roles?.[0]?.roleArn?.split(":")[4];
  return {
    account: allowed?.[0] ?? fromRole ?? MOCK_MANAGEMENT_ACCOUNT_ID,
    region: providerInput<string>(provider, "region"),
  };
}
