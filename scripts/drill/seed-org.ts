/**
 * Seeds the drill's organisation in the emulator: the landing zone's runtime pieces from `seedLandingZone()`, plus
 * the same policy documents the stack attaches (`components/documents/`): the evidence and trail bucket policies,
 * the evidence and custody signing key policies, the forensic roles with their trust and permissions, and the
 * member responder and investigator roles in every member account with theirs; and the organisation (every account a
 * member) with the delegation policy for quarantine SCPs.
 *
 * The emulator does not enforce IAM, bucket or key policies (REFERENCE.md), so attaching them proves that the
 * documents are well-formed, accepted by the APIs and present where an operator would look for them, not that
 * they allow the runbook: the authorization oracle (`scripts/oracle/`) evaluates every call of the drill against
 * these same documents (they are its world) and the drill fails on a call AWS would refuse.
 */
import { AttachRolePolicyCommand, CreateRoleCommand, IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { CreateKeyCommand, KMSClient, PutKeyPolicyCommand } from "@aws-sdk/client-kms";
import { PutBucketPolicyCommand, S3Client } from "@aws-sdk/client-s3";
import {
  KEY_PURPOSE,
  PURPOSE_TAG_KEY,
  quarantineDelegationPolicy,
  type PolicyDocument,
} from "../../components/documents";
import { ClientFactory } from "../aws/clients";
import type { LandingZone } from "../contract";
import { SEED_ACCOUNTS, seedLandingZone, seedOrganization, type SeedOptions } from "../emulator/seed";
import { EMULATOR_OPERATOR_ARN, emulatorWorld } from "../oracle/emulator-world";
import type { WorldRole } from "../oracle/world";

/** Role the drill's responders sign in with, in the management account (trusted by the forensic roles). */
export const DRILL_RESPONDER_PRINCIPAL = EMULATOR_OPERATOR_ARN;

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

/** Creates `role` in `account` with its trust and inline policies; managed policies are listed, not attached. */
async function createRole(iam: IAMClient, account: string, role: WorldRole): Promise<AttachedDocument[]> {
  await iam.send(
    new CreateRoleCommand({
      RoleName: role.name,
      AssumeRolePolicyDocument: json(role.trust.document),
      Description: "forensic landing zone (drill)",
    }),
  );
  const documents: AttachedDocument[] = [{ account, target: `role:${role.name} trust`, builder: role.trust.builder }];
  for (const policy of role.policies) {
    await iam.send(
      new PutRolePolicyCommand({ RoleName: role.name, PolicyName: policy.name, PolicyDocument: json(policy.document) }),
    );
    documents.push({ account, target: `role:${role.name} inline:${policy.name}`, builder: policy.builder });
  }
  for (const arn of role.managedPolicyArns) {
    const attached = await iam
      .send(new AttachRolePolicyCommand({ RoleName: role.name, PolicyArn: arn }))
      .then(() => true)
      .catch(() => false);
    documents.push({
      account,
      target: `role:${role.name} managed:${arn}`,
      builder: "memberInvestigatorManagedPolicyArns",
      ...(attached ? {} : { attached: false, reason: "the emulator holds no copy of this AWS managed policy" }),
    });
  }
  return documents;
}

/**
 * Seeds the organisation (management, forensic, two members) and attaches the stack's documents: the oracle's world
 * for this organisation (`scripts/oracle/emulator-world.ts`), so what the emulator holds is exactly what the
 * authorization oracle evaluates the drill's calls against.
 */
export async function seedOrganisation(options: SeedOptions = {}): Promise<SeededOrganisation> {
  const seeded = await seedLandingZone(options);
  const world = emulatorWorld(seeded.regions, options.prefix);
  // The organisation itself, every account a member, and the delegation that lets the forensic responder manage
  // quarantine SCPs (how contain sessions and access-key revoke): the world's document (the stack's), for the IDs
  // the emulator gave the organisation.
  const organization = await seedOrganization({
    delegation: ({ organizationId, managementAccountId }) =>
      quarantineDelegationPolicy({
        organizationId,
        managementAccountId,
        responderRoleArn: seeded.forensicResponderRoleArn,
      }),
  });
  const lz: LandingZone = { ...seeded, organizationId: organization.organizationId };
  const forensic = lz.forensicAccountId;
  const members = [...SEED_ACCOUNTS.members];
  const documents: AttachedDocument[] = [
    {
      account: SEED_ACCOUNTS.management,
      target: "organization:resource-policy",
      builder: "quarantineDelegationPolicy",
    },
  ];
  // An administrator reaches every account through its admin role, as the deployment does.
  const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  try {
    const s3 = admin.client(S3Client, { account: forensic, region: lz.homeRegion });
    for (const bucket of world.buckets) {
      // The evidence bucket's policy is built but not attached: it refuses plain HTTP (correctly), and the emulator
      // speaks only plain HTTP; moto also evaluates its conditions without any request context, so every object
      // request would be refused and the drill could record nothing. The oracle evaluates every call against it.
      if (bucket.name === lz.evidenceBucket) {
        documents.push({
          account: forensic,
          target: `bucket:${bucket.name}`,
          builder: bucket.policy.builder,
          attached: false,
          reason: "TLS-only deny refuses the emulator's plain HTTP (the authorization oracle evaluates it)",
        });
        continue;
      }
      await s3.send(new PutBucketPolicyCommand({ Bucket: bucket.name, Policy: json(bucket.policy.document) }));
      documents.push({ account: forensic, target: `bucket:${bucket.name}`, builder: bucket.policy.builder });
    }

    const putKeyPolicy = async (keyArn: string, purpose: keyof typeof world.keyPolicies): Promise<void> => {
      const policy = world.keyPolicies[purpose];
      const kms = admin.client(KMSClient, { account: forensic, region: keyArn.split(":")[3] });
      await kms.send(new PutKeyPolicyCommand({ KeyId: keyArn, PolicyName: "default", Policy: json(policy.document) }));
      documents.push({ account: forensic, target: `key:${keyArn}`, builder: policy.builder });
    };
    for (const region of lz.regions) await putKeyPolicy(lz.evidenceKeyArns[region], KEY_PURPOSE.evidence);
    await putKeyPolicy(lz.custodySigningKeyArn, KEY_PURPOSE.signing);
    // The contract names no trail key (the CLI never uses it), but the investigator's permissions do: create one,
    // tagged as the stack tags it, with the stack's trail key policy.
    const trailKey = await admin.client(KMSClient, { account: forensic, region: lz.homeRegion }).send(
      new CreateKeyCommand({
        Description: "flz trail key (drill)",
        KeySpec: "SYMMETRIC_DEFAULT",
        KeyUsage: "ENCRYPT_DECRYPT",
        Tags: [{ TagKey: PURPOSE_TAG_KEY, TagValue: KEY_PURPOSE.trail }],
      }),
    );
    await putKeyPolicy(trailKey.KeyMetadata?.Arn ?? "", KEY_PURPOSE.trail);

    for (const role of world.roles) {
      for (const account of role.accounts) {
        const iam = admin.client(IAMClient, { account, region: lz.homeRegion });
        documents.push(...(await createRole(iam, account, role)));
      }
    }
    // The guardrail SCPs are recorded as built, not attached: the emulator's organisation has IDs of its own (not the
    // world's, which the documents name) and enforces no SCP; the oracle evaluates every call of the drill with them.
    for (const level of world.serviceControlPolicies)
      for (const policy of level.policies)
        documents.push({
          account: SEED_ACCOUNTS.management,
          target: `scp:${policy.name} on ${level.target}`,
          builder: policy.builder,
          attached: false,
          reason: "the emulator enforces no SCP (the authorization oracle evaluates it)",
        });
    return { landingZone: lz, members, documents };
  } finally {
    admin.destroy();
  }
}
