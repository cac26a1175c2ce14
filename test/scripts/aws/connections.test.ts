import { expect } from "chai";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { ClientFactory } from "../../../scripts/aws/clients";
import { SEED_ACCOUNTS } from "../../../scripts/emulator/seed";
import { useEmulator } from "../../support/emulator";
import { useFaultProxy } from "../../support/fault-proxy";

// The factory's clients share its connection pools (scripts/aws/attempts.ts, sharedAgents): a kept-alive connection
// carries the next request of any client of the factory, whatever its account, service or credentials, and only the
// factory closes the pools. Counted at a loopback proxy in front of the emulator, which sees every connection.
describe("client factory: connections shared by its clients", () => {
  const emulator = useEmulator();
  const [memberA, memberB] = SEED_ACCOUNTS.members;
  const region = "eu-west-1";
  const proxy = useFaultProxy(() => emulator.endpoint());
  const factories: ClientFactory[] = [];

  afterEach(() => {
    for (const f of factories.splice(0)) f.destroy();
  });

  const factory = (): ClientFactory => {
    const f = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
    factories.push(f);
    return f;
  };

  /** One call per client, one after another: the forensic account, two member accounts, two services. */
  async function oneCallEach(f: ClientFactory): Promise<(string | undefined)[]> {
    const accounts: (string | undefined)[] = [];
    for (const account of [undefined, memberA, memberB]) {
      accounts.push((await f.client(STSClient, { account, region }).send(new GetCallerIdentityCommand({}))).Account);
      await f.client(EC2Client, { account, region }).send(new DescribeVpcsCommand({}));
    }
    return accounts;
  }

  it("carries the requests of every client of one factory (accounts, services, its AssumeRole calls) on one connection", async () => {
    const accounts = await oneCallEach(factory());
    expect(accounts.slice(1)).to.deep.equal([memberA, memberB]);
    // 6 calls and 2 AssumeRole calls, one after another: with a pool per client they took 8 connections.
    expect(proxy().log.length).to.equal(8);
    expect(proxy().connections().accepted).to.equal(1);
  });

  it("keeps the pools of two factories apart", async () => {
    await oneCallEach(factory());
    await oneCallEach(factory());
    expect(proxy().connections().accepted).to.equal(2);
  });

  it("leaves the shared connections open when one client is destroyed, and closes them with the factory", async () => {
    const f = factory();
    const sts = f.client(STSClient, { region });
    const ec2 = f.client(EC2Client, { region });
    await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();
    const vpcs = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
    expect(vpcs.length).to.be.greaterThan(0);
    expect(proxy().connections()).to.deep.equal({ accepted: 1, open: 1 });
    f.destroy();
    for (let i = 0; i < 50 && proxy().connections().open > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(proxy().connections().open).to.equal(0);
  });
});
