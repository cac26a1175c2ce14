/**
 * A readiness wait for a newly created member account: nothing may use the account before its admin role can be
 * assumed. Organizations reports an account as created (`CreateAccountStatus` SUCCEEDED) before IAM in the new account
 * has settled; the first AssumeRole into `OrganizationAccountAccessRole` can still fail for minutes (eventual
 * consistency of IAM: IAM user guide, "Changes that I make are not always immediately visible"). A provider configured
 * with that role would then fail the whole `pulumi up` half-way.
 *
 * The design: a resource whose creation polls STS until the role can be assumed several times in a row, and whose
 * output (the role ARN, returned only then) is what the account's providers are configured with. A data dependency
 * rather than `dependsOn`, because a provider's configuration is resolved from its inputs: the providers, and every
 * resource in the account, therefore wait for the check. It runs once, at creation; an adopted account gets none.
 *
 * The check runs with the credentials of the process that runs `pulumi up` (the management account, or the deployment
 * role there), the same credentials that later assume the admin role through the providers.
 */
import * as pulumi from "@pulumi/pulumi";

/** How long and how often to try. */
export interface ReadinessOptions {
  /** Give up after this many seconds. Default 900 (15 minutes). */
  readonly timeoutSeconds?: number;
  /** Seconds between attempts. Default 10. */
  readonly intervalSeconds?: number;
  /** Successes in a row that count as ready (a role can flap while IAM converges). Default 3. */
  readonly consecutiveSuccesses?: number;
}

/** What a wait found. */
export interface ReadinessResult {
  /** Attempts made. */
  readonly attempts: number;
  /** The last failure seen before readiness, if any (for the log). */
  readonly lastError?: string;
}

/**
 * Calls `probe` until it succeeds `consecutiveSuccesses` times in a row, sleeping `intervalSeconds` between attempts;
 * throws naming the last error once `timeoutSeconds` have passed. Pure apart from `probe`, `sleep` and `now`, so the
 * test drives it with a fake clock.
 */
export async function waitUntilReady(
  probe: () => Promise<void>,
  options: ReadinessOptions = {},
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => number = Date.now,
): Promise<ReadinessResult> {
  const timeoutMs = (options.timeoutSeconds ?? 900) * 1000;
  const intervalMs = (options.intervalSeconds ?? 10) * 1000;
  const needed = options.consecutiveSuccesses ?? 3;
  const start = now();
  let attempts = 0;
  let streak = 0;
  let lastError: string | undefined;
  for (;;) {
    attempts += 1;
    try {
      await probe();
      streak += 1;
      if (streak >= needed) return { attempts, lastError };
    } catch (error) {
      streak = 0;
      lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    if (now() - start + intervalMs > timeoutMs) {
      throw new Error(
        `the account is not ready after ${Math.round((now() - start) / 1000)} s and ${attempts} attempts: ${lastError ?? "the check never succeeded often enough in a row"}`,
      );
    }
    await sleep(intervalMs);
  }
}

/** Inputs of the readiness resource. */
interface ReadinessInputs {
  readonly roleArn: string;
  readonly region: string;
  readonly timeoutSeconds: number;
  readonly intervalSeconds: number;
  readonly consecutiveSuccesses: number;
}

/**
 * The dynamic provider: `create` assumes the role (and calls GetCallerIdentity with the session, which proves the
 * credentials work in the new account) until ready. Diff and update never re-run the wait: readiness is a one-time
 * fact about the account.
 */
const readinessProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: ReadinessInputs): Promise<pulumi.dynamic.CreateResult> {
    // Required here, not imported at the top: the provider is serialised and runs in its own closure.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sts = require("@aws-sdk/client-sts") as typeof import("@aws-sdk/client-sts");
    const base = new sts.STSClient({ region: inputs.region });
    try {
      const result = await waitUntilReady(
        async () => {
          const assumed = await base.send(
            new sts.AssumeRoleCommand({
              RoleArn: inputs.roleArn,
              RoleSessionName: "flz-readiness",
              DurationSeconds: 900,
            }),
          );
          const credentials = assumed.Credentials;
          if (!credentials?.AccessKeyId || !credentials.SecretAccessKey)
            throw new Error("AssumeRole returned no credentials");
          const session = new sts.STSClient({
            region: inputs.region,
            credentials: {
              accessKeyId: credentials.AccessKeyId,
              secretAccessKey: credentials.SecretAccessKey,
              sessionToken: credentials.SessionToken,
            },
          });
          try {
            await session.send(new sts.GetCallerIdentityCommand({}));
          } finally {
            session.destroy();
          }
        },
        {
          timeoutSeconds: inputs.timeoutSeconds,
          intervalSeconds: inputs.intervalSeconds,
          consecutiveSuccesses: inputs.consecutiveSuccesses,
        },
      );
      return { id: inputs.roleArn, outs: { ...inputs, roleArn: inputs.roleArn, attempts: result.attempts } };
    } finally {
      base.destroy();
    }
  },
  async diff(): Promise<pulumi.dynamic.DiffResult> {
    return { changes: false };
  },
};

/** The check itself: a dynamic resource whose `roleArn` output is set only once the role is assumable. */
class ReadinessCheck extends pulumi.dynamic.Resource {
  /** The admin role ARN, echoed by the provider once ready. */
  declare public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, props: Record<string, pulumi.Input<unknown>>, opts?: pulumi.CustomResourceOptions) {
    super(readinessProvider, name, props, opts, "flz-readiness");
  }
}

/** Arguments of {@link AccountReadiness}. */
export interface AccountReadinessArgs {
  /** ARN of the role to assume in the new account (its admin role). Required. */
  readonly roleArn: pulumi.Input<string>;
  /** Region of the STS endpoint used. Required. */
  readonly region: string;
  /** How long and how often. Defaults: 15 minutes, every 10 s, 3 successes in a row. */
  readonly options?: ReadinessOptions;
}

/** A created account's readiness: {@link roleArn} resolves only once the admin role can be assumed. */
export class AccountReadiness extends pulumi.ComponentResource {
  /** The admin role's ARN, known only once it is assumable: configure the account's providers with it. */
  public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: AccountReadinessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flz:organization:AccountReadiness", name, {}, opts);
    const check = new ReadinessCheck(
      `${name}-check`,
      {
        roleArn: args.roleArn,
        region: args.region,
        timeoutSeconds: args.options?.timeoutSeconds ?? 900,
        intervalSeconds: args.options?.intervalSeconds ?? 10,
        consecutiveSuccesses: args.options?.consecutiveSuccesses ?? 3,
        // Declared so the output is typed; the provider sets it.
        attempts: undefined,
      },
      { parent: this },
    );
    this.roleArn = check.roleArn;
    this.registerOutputs({ roleArn: this.roleArn });
  }
}
