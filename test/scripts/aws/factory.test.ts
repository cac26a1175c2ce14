import { expect } from "chai";
import { EC2Client } from "@aws-sdk/client-ec2";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { ClientFactory } from "../../../scripts/aws/clients";
import { SEED_ACCOUNTS } from "../../../scripts/emulator/seed";
import { useEmulator } from "../../support/emulator";
import { useFaultProxy } from "../../support/fault-proxy";

// ClientFactory.memberSessionArn: the ARN STS gave a member session in its AssumeRole answer, which `flz assess`
// records as the proof that the member investigator role was actually assumed (instead of a GetCallerIdentity per
// account). Through a loopback proxy in front of the emulator, which logs and can refuse every request.
describe("client factory: the member session's ARN from its AssumeRole answer", () => {
  const emulator = useEmulator();
  const [memberA, memberB] = SEED_ACCOUNTS.members;
  const region = "eu-west-1";
  const proxy = useFaultProxy(() => emulator.endpoint());
  let factory: ClientFactory;

  beforeEach(() => {
    factory = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole", caseId: "CASE-7", maxAttempts: 1 });
  });
  afterEach(() => factory.destroy());

  it("is what GetCallerIdentity answers for the session, per account, from one AssumeRole each", async () => {
    const arns = [await factory.memberSessionArn(memberA), await factory.memberSessionArn(memberB)];
    expect(arns[0]).to.equal(`arn:aws:sts::${memberA}:assumed-role/OrganizationAccountAccessRole/flz-CASE-7`);
    const identities = await Promise.all(
      [memberA, memberB].map(
        async (account) =>
          (await factory.client(STSClient, { account, region }).send(new GetCallerIdentityCommand({}))).Arn,
      ),
    );
    expect(arns).to.deep.equal(identities);
    // Asked twice more: the sessions are open, so no further AssumeRole.
    await factory.memberSessionArn(memberA);
    expect(proxy().hits("sts:AssumeRole")).to.equal(2);
  });

  it("throws what the AssumeRole threw when the role cannot be assumed", async () => {
    proxy().add({ operation: "sts:AssumeRole", fault: "throttle", times: Infinity });
    let error: unknown;
    await factory.memberSessionArn(memberA).catch((e: unknown) => (error = e));
    expect((error as Error | undefined)?.name).to.match(/Throttl/);
  });
});

// The factory reads the endpoint, user-agent and auth-scheme settings once for all its clients (settings.ts): a user's
// setting must still reach every client, of every service, account and region.
describe("client factory: settings read once for all clients", () => {
  const names = [
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_SDK_UA_APP_ID",
    "AWS_AUTH_SCHEME_PREFERENCE",
  ] as const;
  const saved = names.map((name) => [name, process.env[name]] as const);
  afterEach(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  /** The four settings as each client of a new factory resolves them. */
  async function settings(): Promise<unknown[][]> {
    const factory = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
    try {
      const clients = [
        factory.client(STSClient, { region: "eu-west-1" }),
        factory.client(STSClient, { account: SEED_ACCOUNTS.members[0], region: "us-east-1" }),
        factory.client(EC2Client, { account: SEED_ACCOUNTS.members[1], region: "us-east-1" }),
      ];
      return Promise.all(
        clients.map(async (c) => [
          await c.config.useFipsEndpoint(),
          await c.config.useDualstackEndpoint(),
          await c.config.userAgentAppId(),
          await c.config.authSchemePreference?.(),
        ]),
      );
    } finally {
      factory.destroy();
    }
  }

  it("gives every client the user's FIPS, dual-stack, app ID and auth-scheme settings, and the SDK's defaults without them", async () => {
    for (const name of names) delete process.env[name];
    const defaults = [false, false, undefined, []];
    expect(await settings()).to.deep.equal([defaults, defaults, defaults]);
    process.env.AWS_USE_FIPS_ENDPOINT = "true";
    process.env.AWS_USE_DUALSTACK_ENDPOINT = "true";
    process.env.AWS_SDK_UA_APP_ID = "ir-team-7";
    process.env.AWS_AUTH_SCHEME_PREFERENCE = "sigv4a, sigv4";
    const set = [true, true, "ir-team-7", ["sigv4a", "sigv4"]];
    expect(await settings()).to.deep.equal([set, set, set]);
  });
});
