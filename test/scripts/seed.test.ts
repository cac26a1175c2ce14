import { expect } from "chai";
import { GetObjectLockConfigurationCommand, S3Client } from "@aws-sdk/client-s3";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { ClientFactory } from "../../scripts/aws/clients";
import { parseLandingZone } from "../../scripts/contract";
import { seedLandingZone, SEED_ACCOUNTS } from "../../scripts/emulator/seed";
import { useEmulator } from "../support/emulator";

describe("emulator seed and client factory", () => {
  useEmulator();

  it("seeds a landing zone whose contract validates and whose evidence bucket is COMPLIANCE-locked", async () => {
    const lz = parseLandingZone(await seedLandingZone());
    // Read as the forensic account's administrator: no flz command reads the lock configuration, so the responder
    // role is not granted it (least privilege, docs/permissions.md).
    const factory = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
    const lock = await factory
      .client(S3Client, { account: lz.forensicAccountId, region: lz.homeRegion })
      .send(new GetObjectLockConfigurationCommand({ Bucket: lz.evidenceBucket }));
    expect(lock.ObjectLockConfiguration?.Rule?.DefaultRetention?.Mode).to.equal("COMPLIANCE");
    factory.destroy();
  });

  it("acts in the forensic account through the forensic role and in a member account through the member role", async () => {
    const factory = new ClientFactory({
      forensicRoleArn: `arn:aws:iam::${SEED_ACCOUNTS.forensic}:role/FlzForensicResponder`,
      memberRoleName: "FlzMemberResponder",
      caseId: "IR 2026/7",
    });
    const forensic = await factory.client(STSClient, { region: "us-east-1" }).send(new GetCallerIdentityCommand({}));
    expect(forensic.Account).to.equal(SEED_ACCOUNTS.forensic);
    const member = await factory
      .client(STSClient, { account: SEED_ACCOUNTS.members[0], region: "eu-west-1" })
      .send(new GetCallerIdentityCommand({}));
    expect(member.Account).to.equal(SEED_ACCOUNTS.members[0]);
    expect(member.Arn).to.contain("FlzMemberResponder/flz-IR-2026-7");
    factory.destroy();
  });
});
