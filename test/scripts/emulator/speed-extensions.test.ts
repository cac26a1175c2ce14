import { expect } from "chai";
import {
  CreateSecurityGroupCommand,
  DescribeCapacityBlockOfferingsCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  GetRoleCommand,
  IAMClient,
} from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { ClientFactory } from "../../../scripts/aws/clients";
import { SEED_ACCOUNTS } from "../../../scripts/emulator/seed";
import { useEmulator } from "../../support/emulator";

// The emulator's speed extensions (scripts/emulator/flz_actions.py, flz_accounts.py, flz_backends.py) change no answer: these tests
// exercise the paths they replace through the ordinary SDK clients and check moto's own answers, including the cases
// where a remembered answer would go stale (a deleted key, a reset emulator).
describe("emulator speed extensions: same answers", () => {
  const emulator = useEmulator();
  const [memberA, memberB] = SEED_ACCOUNTS.members;
  /** moto's default account: the account of a request whose access key no account holds. */
  const MOTO_DEFAULT_ACCOUNT = "123456789012";
  const region = "eu-west-1";
  let factory: ClientFactory;

  beforeEach(() => {
    factory = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  });
  afterEach(() => factory.destroy());

  const errorName = (p: Promise<unknown>): Promise<string> =>
    p.then(
      () => "no error",
      (e: unknown) => (e as Error).name,
    );

  /** The account STS names for a pair of access keys, sent with a plain client (the key is not the factory's). */
  async function accountOfKey(accessKeyId: string, secretAccessKey: string): Promise<string | undefined> {
    const sts = new STSClient({ region, endpoint: emulator.endpoint(), credentials: { accessKeyId, secretAccessKey } });
    try {
      return (await sts.send(new GetCallerIdentityCommand({}))).Account;
    } finally {
      sts.destroy();
    }
  }

  it("answers each account's sessions with their own account, interleaved and repeated (flz_accounts)", async () => {
    const sts = (account: string) => factory.client(STSClient, { account, region });
    const seen: (string | undefined)[] = [];
    for (const account of [memberA, memberB, memberA, memberB, memberA]) {
      seen.push((await sts(account).send(new GetCallerIdentityCommand({}))).Account);
    }
    expect(seen).to.deep.equal([memberA, memberB, memberA, memberB, memberA]);
  });

  it("forgets a key once it is deleted: the next request is the default account's, as moto answers (flz_accounts)", async () => {
    const iam = factory.client(IAMClient, { account: memberA, region });
    await iam.send(new CreateUserCommand({ UserName: "speed-test" }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: "speed-test" }))).AccessKey;
    const id = key?.AccessKeyId ?? "";
    const secret = key?.SecretAccessKey ?? "";
    expect(await accountOfKey(id, secret)).to.equal(memberA);
    expect(await accountOfKey(id, secret)).to.equal(memberA); // the remembered answer
    await iam.send(new DeleteAccessKeyCommand({ UserName: "speed-test", AccessKeyId: id }));
    expect(await accountOfKey(id, secret)).to.equal(MOTO_DEFAULT_ACCOUNT);
  });

  it("forgets a key when the emulator is reset (flz_accounts)", async function () {
    const iam = factory.client(IAMClient, { account: memberB, region });
    await iam.send(new CreateUserCommand({ UserName: "speed-reset" }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: "speed-reset" }))).AccessKey;
    expect(await accountOfKey(key?.AccessKeyId ?? "", key?.SecretAccessKey ?? "")).to.equal(memberB);
    const reset = await fetch(`${emulator.endpoint()}/moto-api/reset`, { method: "POST" });
    expect(reset.ok).to.equal(true);
    expect(await accountOfKey(key?.AccessKeyId ?? "", key?.SecretAccessKey ?? "")).to.equal(MOTO_DEFAULT_ACCOUNT);
  });

  it("answers implemented actions of several response classes, and refuses an unimplemented one, every time (flz_actions)", async () => {
    const ec2 = factory.client(EC2Client, { account: memberA, region });
    const iam = factory.client(IAMClient, { account: memberA, region });
    for (let round = 0; round < 2; round++) {
      // The default VPC moto creates in every region; a missing role is moto's NoSuchEntity, answered by call_action.
      const vpcs = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
      expect(vpcs.map((v) => v.IsDefault)).to.deep.equal([true]);
      expect(await errorName(iam.send(new GetRoleCommand({ RoleName: "absent" })))).to.equal("NoSuchEntityException");
      // An action moto does not implement still fails (moto raises NotImplementedError: a server error). A plain
      // client with one attempt: the factory's would retry the server error for seconds.
      const plain = new EC2Client({ region, endpoint: emulator.endpoint(), maxAttempts: 1 });
      try {
        const unimplemented = plain.send(
          new DescribeCapacityBlockOfferingsCommand({
            CapacityDurationHours: 24,
            InstanceCount: 1,
            InstanceType: "p5.48xlarge",
          }),
        );
        expect(await errorName(unimplemented)).to.not.equal("no error");
      } finally {
        plain.destroy();
      }
    }
  });

  it("keeps every write of concurrent first requests to an account and region (flz_backends)", async () => {
    // The first requests to an account race to create its backends: each must land in the one that stays.
    const ec2 = factory.client(EC2Client, { account: memberB, region: "ap-southeast-2" });
    const names = Array.from({ length: 12 }, (_, i) => `speed-${i}`);
    await Promise.all(names.map((n) => ec2.send(new CreateSecurityGroupCommand({ GroupName: n, Description: n }))));
    const groups = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
    expect(groups.map((g) => g.GroupName).sort()).to.deep.equal(["default", ...names].sort());
  });
});
