/**
 * Seeds the emulator with the runtime pieces of a landing zone that the CLI relies on (the outputs contract of
 * DESIGN.md §4): an Object-Locked evidence bucket, a trail bucket, evidence keys per governed region, the custody
 * signing key, and the roles' ARNs. Used by the integration tests and by `flz drill`.
 *
 * In the emulator, calls act in the account of their credentials and STS AssumeRole into another account ID
 * returns credentials acting there (REFERENCE.md), so each account is reached by assuming a role in it.
 */
import {
  CreateBucketCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import {
  AcceptHandshakeCommand,
  CreateOrganizationCommand,
  EnablePolicyTypeCommand,
  InviteAccountToOrganizationCommand,
  ListRootsCommand,
  OrganizationsClient,
  PutResourcePolicyCommand,
} from "@aws-sdk/client-organizations";
import { KEY_PURPOSE, PURPOSE_TAG_KEY, type PolicyDocument } from "../../components/documents";
import { ClientFactory } from "../aws/clients";
import type { LandingZone } from "../contract";

/** Account IDs of the seeded organisation. */
export const SEED_ACCOUNTS = {
  management: "111111111111",
  forensic: "222222222222",
  members: ["333333333333", "444444444444"],
} as const;

/** Organisation and root IDs of the seeded organisation. */
export const SEED_ORGANIZATION = { id: "o-flzdrill000", rootId: "r-flz0" } as const;

/**
 * Bucket names of a seeded landing zone: the stack's own scheme (`<prefix>-<kind>-<account>-<home region>`), so the
 * documents the oracle evaluates are byte for byte the ones the stack would deploy for this organisation.
 */
export function seedBucketNames(prefix: string, homeRegion: string): { evidence: string; trail: string } {
  return {
    evidence: `${prefix}-evidence-${SEED_ACCOUNTS.forensic}-${homeRegion}`,
    trail: `${prefix}-trail-${SEED_ACCOUNTS.forensic}-${homeRegion}`,
  };
}

/** Options of {@link seedLandingZone}. */
export interface SeedOptions {
  /** Governed regions; the first is the home region. Default `["us-east-1", "eu-west-1"]`. */
  readonly regions?: string[];
  /** Default COMPLIANCE retention of the evidence bucket, days. Default 1 (the emulator keeps no state anyway). */
  readonly retentionDays?: number;
  /** Name prefix of the buckets. Default `flz`. */
  readonly prefix?: string;
}

/** Names of the roles the seeded landing zone uses (the same defaults as the stack's). */
export const SEED_ROLE_NAMES = {
  forensicResponder: "FlzForensicResponder",
  forensicInvestigator: "FlzForensicInvestigator",
  memberResponder: "FlzMemberResponder",
  memberInvestigator: "FlzMemberInvestigator",
  breakGlass: "FlzBreakGlass",
} as const;

/** Creates the landing zone's runtime pieces in the forensic account and returns the outputs contract. */
export async function seedLandingZone(options: SeedOptions = {}): Promise<LandingZone> {
  const regions = options.regions ?? ["us-east-1", "eu-west-1"];
  const homeRegion = regions[0];
  const prefix = options.prefix ?? "flz";
  const forensic = SEED_ACCOUNTS.forensic;
  // The management account's credentials reach the forensic account through its admin role.
  const factory = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  try {
    const s3 = factory.client(S3Client, { account: forensic, region: homeRegion });
    const { evidence: evidenceBucket, trail: trailBucket } = seedBucketNames(prefix, homeRegion);
    for (const bucket of [evidenceBucket, trailBucket]) {
      await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }));
      await s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: bucket,
          ObjectLockConfiguration: {
            ObjectLockEnabled: "Enabled",
            Rule: { DefaultRetention: { Mode: "COMPLIANCE", Days: options.retentionDays ?? 1 } },
          },
        }),
      );
    }

    const evidenceKeyArns: Record<string, string> = {};
    for (const region of regions) {
      const kms = factory.client(KMSClient, { account: forensic, region });
      const key = await kms.send(
        new CreateKeyCommand({
          Description: `flz evidence key (${region})`,
          KeySpec: "SYMMETRIC_DEFAULT",
          KeyUsage: "ENCRYPT_DECRYPT",
          Tags: [{ TagKey: PURPOSE_TAG_KEY, TagValue: KEY_PURPOSE.evidence }],
        }),
      );
      evidenceKeyArns[region] = key.KeyMetadata?.Arn ?? "";
    }
    const kmsHome = factory.client(KMSClient, { account: forensic, region: homeRegion });
    const signing = await kmsHome.send(
      new CreateKeyCommand({
        Description: "flz custody signing key",
        KeySpec: "ECC_NIST_P256",
        KeyUsage: "SIGN_VERIFY",
        Tags: [{ TagKey: PURPOSE_TAG_KEY, TagValue: KEY_PURPOSE.signing }],
      }),
    );

    return {
      organizationId: SEED_ORGANIZATION.id,
      forensicAccountId: forensic,
      homeRegion,
      regions,
      evidenceKeyArns,
      custodySigningKeyArn: signing.KeyMetadata?.Arn ?? "",
      evidenceBucket,
      trailBucket,
      trailArn: `arn:aws:cloudtrail:${homeRegion}:${SEED_ACCOUNTS.management}:trail/flz-organization-trail`,
      forensicResponderRoleArn: `arn:aws:iam::${forensic}:role/${SEED_ROLE_NAMES.forensicResponder}`,
      forensicInvestigatorRoleArn: `arn:aws:iam::${forensic}:role/${SEED_ROLE_NAMES.forensicInvestigator}`,
      memberResponderRoleName: SEED_ROLE_NAMES.memberResponder,
      memberInvestigatorRoleName: SEED_ROLE_NAMES.memberInvestigator,
    };
  } finally {
    factory.destroy();
  }
}

/** Options of {@link seedOrganization}. */
export interface SeedOrganizationOptions {
  /**
   * The organisation's resource-based delegation policy, built once the organisation ID is known (for example
   * `quarantineDelegationPolicy`). Default: none, so no member account may manage policies.
   */
  readonly delegation?: (organization: { organizationId: string; managementAccountId: string }) => PolicyDocument;
  /** Accounts invited into the organisation. Default: the forensic account and every member account. */
  readonly members?: readonly string[];
}

/** The seeded organisation. */
export interface SeededOrganization {
  /** `o-...` as the emulator made it. */
  readonly organizationId: string;
  /** The root (`r-...`). */
  readonly rootId: string;
  /** The management account. */
  readonly managementAccountId: string;
}

/**
 * Creates the organisation in the management account and brings the seeded accounts into it the way AWS documents for
 * existing accounts (InviteAccountToOrganization, then AcceptHandshake from the invited account), with SCPs enabled,
 * and publishes the delegation policy. Needs the emulator's `flz_organizations` extension (invitations, delegation).
 */
export async function seedOrganization(options: SeedOrganizationOptions = {}): Promise<SeededOrganization> {
  const management = SEED_ACCOUNTS.management;
  const factory = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  try {
    const org = (account: string) => factory.client(OrganizationsClient, { account, region: "us-east-1" });
    const created = await org(management).send(new CreateOrganizationCommand({ FeatureSet: "ALL" }));
    const organizationId = created.Organization?.Id ?? "";
    const rootId = (await org(management).send(new ListRootsCommand({}))).Roots?.[0]?.Id ?? "";
    await org(management).send(new EnablePolicyTypeCommand({ RootId: rootId, PolicyType: "SERVICE_CONTROL_POLICY" }));
    for (const account of options.members ?? [SEED_ACCOUNTS.forensic, ...SEED_ACCOUNTS.members]) {
      const invited = await org(management).send(
        new InviteAccountToOrganizationCommand({ Target: { Type: "ACCOUNT", Id: account } }),
      );
      await org(account).send(new AcceptHandshakeCommand({ HandshakeId: invited.Handshake?.Id ?? "" }));
    }
    if (options.delegation) {
      const content = JSON.stringify(options.delegation({ organizationId, managementAccountId: management }));
      await org(management).send(new PutResourcePolicyCommand({ Content: content }));
    }
    return { organizationId, rootId, managementAccountId: management };
  } finally {
    factory.destroy();
  }
}
