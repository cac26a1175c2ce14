/**
 * Seeds the drill's organisation in the emulator: the landing zone's runtime pieces from `seedLandingZone()`, plus
 * the same policy documents the stack attaches (`components/documents/`): the evidence and trail bucket policies,
 * the evidence and custody signing key policies, the forensic roles with their trust and permissions, and the
 * member responder and investigator roles in every member account with theirs.
 *
 * The emulator does not enforce IAM, bucket or key policies (REFERENCE.md), so attaching them proves that the
 * documents are well-formed, accepted by the APIs and present where an operator would look for them, not that
 * they allow the runbook: the IAM evaluator tests of `components/documents/` prove that.
 */
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { CreateKeyCommand, KMSClient, PutKeyPolicyCommand } from "@aws-sdk/client-kms";
import { PutBucketPolicyCommand, S3Client } from "@aws-sdk/client-s3";
import {
  custodySigningKeyPolicy,
  evidenceBucketPolicy,
  evidenceKeyPolicy,
  forensicInvestigatorPermissions,
  forensicResponderPermissions,
  forensicRoleTrust,
  memberInvestigatorPermissions,
  memberResponderPermissions,
  memberRoleTrust,
  trailBucketPolicy,
  trailKeyPolicy,
  type ForensicResourceProtection,
  type PolicyDocument,
} from "../../components/documents";
import { ClientFactory } from "../aws/clients";
import type { LandingZone } from "../contract";
import { SEED_ACCOUNTS, seedLandingZone, type SeedOptions } from "../emulator/seed";

/** Role the drill's responders sign in with, in the management account (trusted by the forensic roles). */
export const DRILL_RESPONDER_PRINCIPAL = `arn:aws:iam::${SEED_ACCOUNTS.management}:role/IncidentResponseTeam`;

/** One policy document the drill attached, for the report. */
export interface AttachedDocument {
  /** Account it lives in. */
  readonly account: string;
  /** What carries it: `bucket:<name>`, `key:<arn>`, `role:<name> trust`, `role:<name> inline:<policy>`. */
  readonly target: string;
  /** Name of the builder in `components/documents/` that produced it. */
  readonly builder: string;
  /** False when the document was built but could not be attached in the emulator. Default true. */
  readonly attached?: boolean;
  /** Why it was not attached. */
  readonly reason?: string;
}

/** The seeded organisation. */
export interface SeededOrganisation {
  /** The outputs contract the drill then uses. */
  readonly landingZone: LandingZone;
  /** Member accounts. */
  readonly members: readonly string[];
  /** Every document attached, in order. */
  readonly documents: AttachedDocument[];
}

const json = (doc: PolicyDocument): string => JSON.stringify(doc);

async function createRole(
  iam: IAMClient,
  account: string,
  name: string,
  trust: PolicyDocument,
  inline: PolicyDocument,
  builders: { trust: string; inline: string },
): Promise<AttachedDocument[]> {
  await iam.send(
    new CreateRoleCommand({
      RoleName: name,
      AssumeRolePolicyDocument: json(trust),
      Description: "forensic landing zone (drill)",
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({ RoleName: name, PolicyName: `${name}Permissions`, PolicyDocument: json(inline) }),
  );
  return [
    { account, target: `role:${name} trust`, builder: builders.trust },
    { account, target: `role:${name} inline:${name}Permissions`, builder: builders.inline },
  ];
}

/** Seeds the organisation (management, forensic, two members) and attaches the stack's documents. */
export async function seedOrganisation(options: SeedOptions = {}): Promise<SeededOrganisation> {
  const lz = await seedLandingZone(options);
  const forensic = lz.forensicAccountId;
  const members = [...SEED_ACCOUNTS.members];
  const documents: AttachedDocument[] = [];
  // An administrator reaches every account through its admin role, as the deployment does.
  const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  try {
    const s3 = admin.client(S3Client, { account: forensic, region: lz.homeRegion });
    const evidenceArn = `arn:aws:s3:::${lz.evidenceBucket}`;
    const trailBucketArn = `arn:aws:s3:::${lz.trailBucket}`;
    // The deployment acts in the forensic account as its admin role, as the stack's providers do.
    const deploymentPrincipalArn = `arn:aws:iam::${forensic}:role/OrganizationAccountAccessRole`;
    const protection: ForensicResourceProtection = {
      evidenceBucketArn: evidenceArn,
      trailBucketArn,
      deploymentPrincipalArn,
      caseWriterArns: [lz.forensicResponderRoleArn],
      keys: { accountId: forensic },
    };
    // The evidence bucket's policy is built but not attached: it refuses plain HTTP (correctly), and the emulator
    // speaks only plain HTTP; moto also evaluates its conditions without any request context, so every object
    // request would be refused and the drill could record nothing. The trail bucket, which the drill never
    // writes, carries its policy.
    evidenceBucketPolicy({ bucketArn: evidenceArn, organizationId: lz.organizationId, protection });
    documents.push({
      account: forensic,
      target: `bucket:${lz.evidenceBucket}`,
      builder: "evidenceBucketPolicy",
      attached: false,
      reason: "TLS-only deny refuses the emulator's plain HTTP",
    });
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: lz.trailBucket,
        Policy: json(
          trailBucketPolicy({
            bucketArn: trailBucketArn,
            organizationId: lz.organizationId,
            managementAccountId: SEED_ACCOUNTS.management,
            trailArn: lz.trailArn,
            protection,
          }),
        ),
      }),
    );
    documents.push({ account: forensic, target: `bucket:${lz.trailBucket}`, builder: "trailBucketPolicy" });

    const forensicRoles = [lz.forensicResponderRoleArn, lz.forensicInvestigatorRoleArn];
    for (const region of lz.regions) {
      const kms = admin.client(KMSClient, { account: forensic, region });
      const keyArn = lz.evidenceKeyArns[region];
      const policy = evidenceKeyPolicy({
        keyAccountId: forensic,
        organizationId: lz.organizationId,
        memberResponderRoleName: lz.memberResponderRoleName,
        forensicRoleArns: forensicRoles,
        deploymentPrincipalArn,
      });
      await kms.send(new PutKeyPolicyCommand({ KeyId: keyArn, PolicyName: "default", Policy: json(policy) }));
      documents.push({ account: forensic, target: `key:${keyArn}`, builder: "evidenceKeyPolicy" });
    }
    const signingRegion = lz.custodySigningKeyArn.split(":")[3];
    await admin.client(KMSClient, { account: forensic, region: signingRegion }).send(
      new PutKeyPolicyCommand({
        KeyId: lz.custodySigningKeyArn,
        PolicyName: "default",
        Policy: json(
          custodySigningKeyPolicy({
            keyAccountId: forensic,
            organizationId: lz.organizationId,
            signerRoleArn: lz.forensicResponderRoleArn,
            deploymentPrincipalArn,
          }),
        ),
      }),
    );
    documents.push({ account: forensic, target: `key:${lz.custodySigningKeyArn}`, builder: "custodySigningKeyPolicy" });

    // The contract names no trail key (the CLI never uses it), but the investigator's permissions do: create one
    // with the stack's trail key policy.
    const homeKms = admin.client(KMSClient, { account: forensic, region: lz.homeRegion });
    const trailKey = await homeKms.send(
      new CreateKeyCommand({
        Description: "flz trail key (drill)",
        KeySpec: "SYMMETRIC_DEFAULT",
        KeyUsage: "ENCRYPT_DECRYPT",
      }),
    );
    const trailKeyArn = trailKey.KeyMetadata?.Arn ?? "";
    await homeKms.send(
      new PutKeyPolicyCommand({
        KeyId: trailKeyArn,
        PolicyName: "default",
        Policy: json(
          trailKeyPolicy({
            keyAccountId: forensic,
            managementAccountId: SEED_ACCOUNTS.management,
            organizationId: lz.organizationId,
            trailArn: lz.trailArn,
            investigatorRoleArns: [lz.forensicInvestigatorRoleArn],
            deploymentPrincipalArn,
          }),
        ),
      }),
    );
    documents.push({ account: forensic, target: `key:${trailKeyArn}`, builder: "trailKeyPolicy" });

    const evidenceKeyArns = lz.regions.map((r) => lz.evidenceKeyArns[r]);
    const forensicIam = admin.client(IAMClient, { account: forensic, region: lz.homeRegion });
    const trust = forensicRoleTrust({
      trustedPrincipalArns: [DRILL_RESPONDER_PRINCIPAL],
      organizationId: lz.organizationId,
    });
    documents.push(
      ...(await createRole(
        forensicIam,
        forensic,
        roleName(lz.forensicResponderRoleArn),
        trust,
        forensicResponderPermissions({
          memberResponderRoleName: lz.memberResponderRoleName,
          evidenceBucketArn: evidenceArn,
          evidenceKeyArns,
          signingKeyArn: lz.custodySigningKeyArn,
          organizationId: lz.organizationId,
        }),
        { trust: "forensicRoleTrust", inline: "forensicResponderPermissions" },
      )),
    );
    documents.push(
      ...(await createRole(
        forensicIam,
        forensic,
        roleName(lz.forensicInvestigatorRoleArn),
        trust,
        forensicInvestigatorPermissions({
          memberInvestigatorRoleName: lz.memberInvestigatorRoleName,
          trailBucketArn,
          evidenceBucketArn: evidenceArn,
          trailKeyArn,
          evidenceKeyArns,
          organizationId: lz.organizationId,
        }),
        { trust: "forensicRoleTrust", inline: "forensicInvestigatorPermissions" },
      )),
    );

    for (const account of members) {
      const iam = admin.client(IAMClient, { account, region: lz.homeRegion });
      documents.push(
        ...(await createRole(
          iam,
          account,
          lz.memberResponderRoleName,
          memberRoleTrust({ forensicRoleArn: lz.forensicResponderRoleArn }),
          memberResponderPermissions({
            evidenceKeyArns,
            protectedRoleNames: [lz.memberResponderRoleName, lz.memberInvestigatorRoleName],
            forensicAccountId: forensic,
          }),
          { trust: "memberRoleTrust", inline: "memberResponderPermissions" },
        )),
      );
      documents.push(
        ...(await createRole(
          iam,
          account,
          lz.memberInvestigatorRoleName,
          memberRoleTrust({ forensicRoleArn: lz.forensicInvestigatorRoleArn }),
          memberInvestigatorPermissions(),
          { trust: "memberRoleTrust", inline: "memberInvestigatorPermissions" },
        )),
      );
    }
    return { landingZone: lz, members, documents };
  } finally {
    admin.destroy();
  }
}

function roleName(arn: string): string {
  return arn.slice(arn.lastIndexOf("/") + 1);
}
