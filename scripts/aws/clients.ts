/**
 * The AWS layer of the `flz` CLI: one factory that hands out SDK v3 clients for the forensic account (the operator's
 * own credentials, from the standard chain) and for member accounts (the member responder role, assumed from the
 * forensic responder role with the case ID in the session name and as a session tag).
 *
 * `AWS_ENDPOINT_URL` (and the per-service `AWS_ENDPOINT_URL_<SERVICE>`) is honoured by the SDK itself, which is
 * how the tests and `flz drill` point every client at the emulator.
 *
 * Every client is time-bounded and retries faults the same way (attempts.ts, timeouts.ts): connection, attempt and
 * idle timeouts, a stalled request retried like any transient fault, no SDK retry of a non-idempotent creation, one
 * line naming the operation and the resource when the attempts run out, and every attempt reported to observers.
 */
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from "@smithy/core";
import type {
  AwsCredentialIdentityProvider,
  DeserializeMiddleware,
  InitializeMiddleware,
  MetadataBearer,
  MiddlewareStack,
  Pluggable,
  RetryStrategyV2,
} from "@smithy/types";
import {
  attemptMiddleware,
  FlzRetryStrategy,
  giveUpMiddleware,
  sharedAgents,
  TimedHttpHandler,
  type AttemptEvent,
  type AttemptObserver,
} from "./attempts";
import { sharedClientSettings, type SharedClientSettings } from "./settings";
import { timeoutsFromEnvironment, type TimeoutPolicy } from "./timeouts";
import { observeClient, observingPlugin, type CallIdentity } from "./observer";

/** Version string sent in the user agent, so CloudTrail shows which calls the tool made. */
export const FLZ_USER_AGENT: [string, string] = ["flz", "0.1.0"];

/** Session tag key that carries the case ID into member-account sessions (CloudTrail records it). */
export const CASE_SESSION_TAG = "flz-case";

/** The part of an SDK v3 client the factory configures. */
export interface ConfigurableClient {
  // Deliberately opaque: each client's stack is typed by its own service's inputs and outputs, and the overloaded
  // `add` makes no common supertype assignable from every client class (EBS's, for one). The factory only adds a
  // middleware that ignores inputs and outputs, so it narrows at that one place.
  readonly middlewareStack: object;
  destroy(): void;
}

/** The constructor options the factory passes to every client. */
export interface FactoryClientConfig extends SharedClientSettings {
  region: string;
  credentials?: AwsCredentialIdentityProvider;
  maxAttempts: number;
  retryStrategy: RetryStrategyV2;
  requestHandler: TimedHttpHandler;
  customUserAgent: [string, string][];
}

/** An SDK v3 client class (`EC2Client`, `KMSClient`, ...). */
export type ClientClass<C extends ConfigurableClient> = new (config: FactoryClientConfig) => C;

/** Options of {@link ClientFactory}. */
export interface ClientFactoryOptions {
  /** Case ID: goes into the member-account session name and session tag. */
  readonly caseId?: string;
  /** Name of the responder role in every member account (the landing zone's `memberResponderRoleName`). */
  readonly memberRoleName?: string;
  /**
   * Role to assume first in the forensic account (the landing zone's `forensicResponderRoleArn`). Default: none, the
   * operator's own credentials are the forensic responder (e.g. an SSO session into that role).
   */
  readonly forensicRoleArn?: string;
  /** Attempts per call under the standard retry strategy (exponential backoff with jitter). Default 8. */
  readonly maxAttempts?: number;
  /** Base credentials. Default: the SDK's standard provider chain. */
  readonly credentials?: AwsCredentialIdentityProvider;
  /**
   * The role the base credentials are a session of, when they are one (a Lambda function's execution role): what the
   * call observer is told the base identity is. Default: none, the operator's own credentials.
   */
  readonly baseRoleArn?: string;
  /**
   * Session policy (JSON) passed when assuming `forensicRoleArn`: the forensic session may do only what both the role
   * and this policy allow (IAM user guide, "Session policies"). Each automation function narrows the responder so.
   */
  readonly forensicSessionPolicy?: string;
  /** Session policy (JSON) passed when assuming the member responder role in any member account. */
  readonly memberSessionPolicy?: string;
  /** Time bounds of every request. Default: {@link DEFAULT_TIMEOUTS}, changed by `FLZ_AWS_TIMEOUTS`. */
  readonly timeouts?: TimeoutPolicy;
  /**
   * Milliseconds of latency added to every request, before it is sent. For benchmarks against the emulator, which
   * answers in microseconds where AWS takes tens of milliseconds. Default 0.
   */
  readonly injectedLatencyMs?: number;
}

/** Where a client acts: an account (undefined = the forensic account, the operator's own) and a region. */
export interface Placement {
  readonly account?: string;
  readonly region: string;
}

/** Builds a role session name from the case ID: STS allows `[\w+=,.@-]`, 2 to 64 characters. */
export function sessionNameFor(caseId: string | undefined): string {
  const safe = (caseId ?? "no-case").replace(/[^\w+=,.@-]/g, "-");
  return `flz-${safe}`.slice(0, 64);
}

/** Hands out cached, configured clients per account and region. */
export class ClientFactory {
  private readonly clients = new Map<string, ConfigurableClient>();
  private readonly credentials = new Map<string, AwsCredentialIdentityProvider | undefined>();
  /** Per member account, the ARN STS gave its session (AssumeRole's `AssumedRoleUser.Arn`). */
  private readonly sessionArns = new Map<string, string>();
  private readonly observers = new Set<AttemptObserver>();
  /** Connection pools shared by every client of this factory (attempts.ts, {@link sharedAgents}). */
  private readonly agents = sharedAgents();
  /** The settings each client would read from the environment and config files itself (settings.ts). */
  private readonly settings = sharedClientSettings();
  /** The time bounds every client of this factory applies. */
  readonly timeouts: TimeoutPolicy;
  /** Attempts per call (the first included). */
  readonly maxAttempts: number;

  constructor(private readonly options: ClientFactoryOptions = {}) {
    this.timeouts = options.timeouts ?? timeoutsFromEnvironment();
    this.maxAttempts = options.maxAttempts ?? 8;
  }

  /** Calls `observer` with the outcome of every attempt of every call; returns a function that stops it. */
  onAttempt(observer: (event: AttemptEvent) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** The case this factory works for, if any. */
  get caseId(): string | undefined {
    return this.options.caseId;
  }

  /** A client of the given class acting in the given account and region. */
  client<C extends ConfigurableClient>(Client: ClientClass<C>, placement: Placement): C {
    const key = `${Client.name}|${placement.account ?? "forensic"}|${placement.region}`;
    const cached = this.clients.get(key);
    if (cached) return cached as C;
    const client = new Client({
      region: placement.region,
      credentials: this.credentialsFor(placement.account),
      maxAttempts: this.maxAttempts,
      retryStrategy: new FlzRetryStrategy({ maxAttempts: this.maxAttempts }),
      requestHandler: new TimedHttpHandler(this.timeouts, this.agents),
      customUserAgent: [FLZ_USER_AGENT],
      ...this.settings,
    });
    const stack = client.middlewareStack as MiddlewareStack<object, MetadataBearer>;
    const attempt = { policy: this.timeouts, account: placement.account, region: placement.region };
    // The SDK's middleware types are generic over every service's inputs and outputs; these two only read the
    // request, the input's resource names and the output's stream bodies, so they are typed structurally.
    stack.add(giveUpMiddleware(attempt) as unknown as InitializeMiddleware<object, MetadataBearer>, {
      step: "initialize",
      priority: "high",
      name: "flzGiveUp",
    });
    stack.add(
      attemptMiddleware({ ...attempt, observers: this.observers }) as unknown as DeserializeMiddleware<
        object,
        MetadataBearer
      >,
      {
        step: "deserialize",
        priority: "high",
        name: "flzAttempt",
      },
    );
    this.latencyPlugin()?.applyToStack(stack);
    observeClient(client, this.identityFor(placement.account), placement.account);
    this.clients.set(key, client);
    return client;
  }

  /** Who a client placed in `account` acts as (what the call observer is told; see `observer.ts`). */
  identityFor(account: string | undefined): CallIdentity {
    const o = this.options;
    const base: CallIdentity = o.baseRoleArn
      ? { kind: "role", roleArn: o.baseRoleArn, sessionName: "base", sessionTags: {}, assumedBy: { kind: "base" } }
      : { kind: "base" };
    const forensic: CallIdentity = o.forensicRoleArn
      ? {
          kind: "role",
          roleArn: o.forensicRoleArn,
          sessionName: sessionNameFor(this.caseId),
          sessionTags: {},
          ...(o.forensicSessionPolicy !== undefined ? { sessionPolicy: o.forensicSessionPolicy } : {}),
          assumedBy: base,
        }
      : base;
    if (account === undefined) return forensic;
    return {
      kind: "role",
      roleArn: this.memberRoleArn(account),
      sessionName: sessionNameFor(this.caseId),
      sessionTags: o.caseId ? { [CASE_SESSION_TAG]: o.caseId.slice(0, 256) } : {},
      ...(o.memberSessionPolicy !== undefined ? { sessionPolicy: o.memberSessionPolicy } : {}),
      assumedBy: forensic,
    };
  }

  /** The base identity (what assumes the forensic role): the operator's own, or the given role's session. */
  private baseIdentity(): CallIdentity {
    const id = this.identityFor(undefined);
    return this.options.forensicRoleArn && id.kind === "role" ? id.assumedBy : id;
  }

  /**
   * Opens the member session in `account` if it is not open yet, and returns the ARN STS named it with in its AssumeRole
   * answer (`arn:aws:sts::<account>:assumed-role/<role>/<session>`): what GetCallerIdentity would answer, without the
   * call. Throws what the AssumeRole threw.
   */
  async memberSessionArn(account: string): Promise<string> {
    await this.credentialsFor(account)?.();
    const arn = this.sessionArns.get(account);
    if (arn === undefined) throw new Error(`STS named no session when ${this.memberRoleArn(account)} was assumed`);
    return arn;
  }

  /** Role ARN of the member responder role in an account. */
  memberRoleArn(account: string): string {
    if (!this.options.memberRoleName) {
      throw new Error("no member responder role name: pass the landing-zone contract (memberResponderRoleName)");
    }
    return `arn:aws:iam::${account}:role/${this.options.memberRoleName}`;
  }

  /** The benchmarks' injected latency, as a plugin: for the factory's clients and its credential providers' STS. */
  private latencyPlugin(): Pluggable<object, MetadataBearer> | undefined {
    const latency = this.options.injectedLatencyMs ?? 0;
    if (latency <= 0) return undefined;
    return {
      applyToStack(stack) {
        // finalizeRequest runs once per attempt (inside the retry loop), like a round trip. `override`: a credential
        // provider applies its plugins again to the same STS client at each refresh.
        stack.add(
          (next) => async (args) => {
            await new Promise((r) => setTimeout(r, latency));
            return next(args);
          },
          { step: "finalizeRequest", name: "flzInjectedLatency", override: true },
        );
      },
    };
  }

  private forensicCredentials(): AwsCredentialIdentityProvider | undefined {
    if (this.credentials.has("forensic")) return this.credentials.get("forensic");
    // Memoized like the member sessions (below): the forensic session is also every member session's base.
    const creds = this.options.forensicRoleArn
      ? memoizeIdentityProvider(
          fromTemporaryCredentials({
            masterCredentials: this.options.credentials,
            params: {
              RoleArn: this.options.forensicRoleArn,
              RoleSessionName: sessionNameFor(this.options.caseId),
              DurationSeconds: 3600,
              Policy: this.options.forensicSessionPolicy,
            },
            clientConfig: this.credentialClientConfig(),
            clientPlugins: this.credentialPlugins(this.baseIdentity()),
          }),
          isIdentityExpired,
          doesIdentityRequireRefresh,
        )
      : this.options.credentials;
    this.credentials.set("forensic", creds);
    return creds;
  }

  private credentialsFor(account: string | undefined): AwsCredentialIdentityProvider | undefined {
    if (account === undefined) return this.forensicCredentials();
    const cached = this.credentials.get(account);
    if (cached) return cached;
    // One session per account, shared by every client placed there (any service, any region): without the memo each
    // client would assume the role itself (an SDK client memoizes only its own credentials), one AssumeRole per
    // service and region, all counted against the forensic account's STS rate (AWS's advice: cache and reuse
    // assumed-role credentials, https://repost.aws/knowledge-center/iam-sts-throttling-error). Refreshed 5 minutes
    // before expiry, like the SDK's own memo; a failed assumption is not kept, so the next call tries again.
    const creds = memoizeIdentityProvider(
      this.memberCredentials(account),
      isIdentityExpired,
      doesIdentityRequireRefresh,
    );
    this.credentials.set(account, creds);
    return creds;
  }

  private memberCredentials(account: string): AwsCredentialIdentityProvider {
    const tags = this.options.caseId
      ? [{ Key: CASE_SESSION_TAG, Value: this.options.caseId.slice(0, 256) }]
      : undefined;
    return fromTemporaryCredentials({
      masterCredentials: this.forensicCredentials(),
      params: {
        RoleArn: this.memberRoleArn(account),
        RoleSessionName: sessionNameFor(this.options.caseId),
        DurationSeconds: 3600,
        Tags: tags,
        Policy: this.options.memberSessionPolicy,
      },
      clientConfig: this.credentialClientConfig(),
      clientPlugins: [...this.credentialPlugins(this.identityFor(undefined)), this.sessionArnRecorder(account)],
    });
  }

  /** Keeps the session ARN of each AssumeRole answer for `account` (see {@link memberSessionArn}). */
  private sessionArnRecorder(account: string): Pluggable<object, object> {
    return {
      applyToStack: (stack) => {
        // `override`: the provider applies its plugins again to the same STS client at each refresh.
        stack.add(
          (next) => async (args) => {
            const result = await next(args);
            const arn = (result.output as { AssumedRoleUser?: { Arn?: string } }).AssumedRoleUser?.Arn;
            if (arn !== undefined) this.sessionArns.set(account, arn);
            return result;
          },
          { step: "initialize", name: "flzSessionArn", override: true },
        );
      },
    };
  }

  /**
   * Configuration of a credential provider's own STS client: the same time bounds and connection pools as the
   * factory's clients (an AssumeRole that stalls fails like any call; its connection is reused by the next one).
   */
  private credentialClientConfig(): Pick<FactoryClientConfig, "customUserAgent" | "requestHandler"> &
    SharedClientSettings {
    return {
      customUserAgent: [FLZ_USER_AGENT],
      requestHandler: new TimedHttpHandler(this.timeouts, this.agents),
      ...this.settings,
    };
  }

  /** Plugins of a credential provider's own STS client: the call observer, and the benchmarks' latency. */
  private credentialPlugins(identity: CallIdentity): Pluggable<object, object>[] {
    const latency = this.latencyPlugin();
    return [observingPlugin(identity, undefined), ...(latency ? [latency as Pluggable<object, object>] : [])];
  }

  /** Releases every client and the sockets they shared. */
  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
    this.agents.httpAgent.destroy();
    this.agents.httpsAgent.destroy();
  }
}

/** The two role fields of the landing-zone contract that decide how a responder's clients authenticate. */
export interface ResponderRoles {
  /** The forensic responder role, assumed first (the contract's `forensicResponderRoleArn`). */
  readonly forensicResponderRoleArn?: string;
  /** The responder role's name in every member account (the contract's `memberResponderRoleName`). */
  readonly memberResponderRoleName?: string;
}

/**
 * The factory every responder command uses: forensic calls through the landing zone's forensic responder role,
 * member calls through its member responder role, the case ID (if any) in every member session. Without a landing
 * zone, the operator's own credentials act in the forensic account and no member account can be reached.
 */
export function responderFactory(lz: ResponderRoles | undefined, caseId?: string): ClientFactory {
  return new ClientFactory({
    caseId,
    forensicRoleArn: lz?.forensicResponderRoleArn,
    memberRoleName: lz?.memberResponderRoleName,
  });
}
