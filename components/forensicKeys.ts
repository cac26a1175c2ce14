/**
 * The forensic account's KMS keys: the trail key (encrypts the organisation trail), the evidence key (multi-region,
 * re-encrypts snapshot copies in every governed region) and the custody signing key (signs custody ledgers).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { custodySigningKeyPolicy, evidenceKeyPolicy, trailKeyPolicy } from "./documents";
import { PURPOSE, purposeTags } from "./tags";

/** Arguments of {@link ForensicKeys}. */
export interface ForensicKeysArgs {
  /** Home region: the trail key, the evidence key's primary and the signing key live here. Must be in `providers`. */
  readonly homeRegion: string;
  /**
   * One provider per governed region, each reaching the forensic account in that region. Required: a multi-region
   * replica is created through a provider in the replica's own region, so every governed region gets one.
   */
  readonly providers: Readonly<Record<string, aws.Provider>>;
  /** The forensic account (the keys' owner). Required. */
  readonly keyAccountId: pulumi.Input<string>;
  /** The organisation: only its principals may use the evidence key or verify signatures. Required. */
  readonly organizationId: pulumi.Input<string>;
  /** The management account, whose organisation trail encrypts with the trail key. Required. */
  readonly managementAccountId: pulumi.Input<string>;
  /** ARN of the organisation trail: CloudTrail may use the trail key only for this trail (`aws:SourceArn`). Required. */
  readonly trailArn: pulumi.Input<string>;
  /** Roles that may decrypt trail logs (the forensic investigator role). Required; nobody else decrypts them. */
  readonly investigatorRoleArns: pulumi.Input<pulumi.Input<string>[]>;
  /** Name of the member responder role: its copies in member accounts of this organisation may use the evidence key. Required. */
  readonly memberResponderRoleName: pulumi.Input<string>;
  /** Forensic-account roles that may decrypt evidence (responder and investigator). Required. */
  readonly forensicRoleArns: pulumi.Input<pulumi.Input<string>[]>;
  /** The only role that may sign custody records (the forensic responder role). Required. */
  readonly signerRoleArn: pulumi.Input<string>;
  /**
   * The deployment principal: the role the deployment acts as in the forensic account (the role `providers` assume).
   * Every key policy denies re-policying, disabling, deleting, replicating and direct grants to everyone else
   * (`documents/rcp.ts`). Required; it must be the role the providers assume, or KMS refuses the policy (lockout check).
   */
  readonly deploymentPrincipalArn: pulumi.Input<string>;
  /**
   * Waiting period before a scheduled key deletion takes effect, days (7 to 30). Default 30, the maximum: the
   * longest window to notice and cancel a deletion that would make the trail and the evidence unreadable.
   */
  readonly deletionWindowInDays?: number;
  /**
   * The resources behind the principals the key policies name (the forensic roles). KMS rejects a key policy naming a
   * principal that does not exist yet, so every key is created after them. Needed when the role ARNs are built from
   * names (known at a first `pulumi preview`) rather than read from the roles, which would order them anyway.
   * Default none.
   */
  readonly namedPrincipals?: readonly pulumi.Resource[];
}

/** The three keys of the forensic account. */
export class ForensicKeys extends pulumi.ComponentResource {
  /** ARN of the trail key. */
  public readonly trailKeyArn: pulumi.Output<string>;
  /** ARN of the evidence key in each governed region (the primary in the home region, replicas elsewhere). */
  public readonly evidenceKeyArns: pulumi.Output<Record<string, string>>;
  /** ARN of the evidence key's primary, in the home region. */
  public readonly evidenceKeyArn: pulumi.Output<string>;
  /** ARN of the custody signing key. */
  public readonly custodySigningKeyArn: pulumi.Output<string>;
  /** The trail key: the trail must not be created before CloudTrail may use it (REFERENCE.md). */
  public readonly trailKey: aws.kms.Key;

  constructor(name: string, args: ForensicKeysArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flz:kms:ForensicKeys", name, {}, opts);
    const home = args.providers[args.homeRegion];
    if (!home) {
      throw new Error(
        `ForensicKeys: no provider for home region ${args.homeRegion}; providers: ${Object.keys(args.providers).join(", ")}`,
      );
    }
    const deletionWindowInDays = args.deletionWindowInDays ?? 30;
    if (!Number.isInteger(deletionWindowInDays) || deletionWindowInDays < 7 || deletionWindowInDays > 30) {
      throw new Error(
        `ForensicKeys: deletionWindowInDays must be a whole number from 7 to 30, got ${deletionWindowInDays}`,
      );
    }
    // Protected and retained: a destroy must never schedule the deletion of the keys that logs, evidence and
    // custody signatures depend on.
    const dependsOn = [...(args.namedPrincipals ?? [])];
    const keyOpts = { parent: this, provider: home, protect: true, retainOnDelete: true, dependsOn };

    this.trailKey = new aws.kms.Key(
      `${name}-trail`,
      {
        description: "flz organisation trail logs",
        tags: purposeTags(PURPOSE.trailKey),
        customerMasterKeySpec: "SYMMETRIC_DEFAULT",
        keyUsage: "ENCRYPT_DECRYPT",
        enableKeyRotation: true,
        deletionWindowInDays,
        policy: pulumi
          .all([
            args.keyAccountId,
            args.managementAccountId,
            args.organizationId,
            args.trailArn,
            args.investigatorRoleArns,
            args.deploymentPrincipalArn,
          ])
          .apply(
            ([
              keyAccountId,
              managementAccountId,
              organizationId,
              trailArn,
              investigatorRoleArns,
              deploymentPrincipalArn,
            ]) =>
              JSON.stringify(
                trailKeyPolicy({
                  keyAccountId,
                  managementAccountId,
                  organizationId,
                  trailArn,
                  investigatorRoleArns,
                  deploymentPrincipalArn,
                }),
              ),
          ),
      },
      keyOpts,
    );

    const evidencePolicy = pulumi
      .all([
        args.keyAccountId,
        args.organizationId,
        args.memberResponderRoleName,
        args.forensicRoleArns,
        args.deploymentPrincipalArn,
      ])
      .apply(([keyAccountId, organizationId, memberResponderRoleName, forensicRoleArns, deploymentPrincipalArn]) =>
        JSON.stringify(
          evidenceKeyPolicy({
            keyAccountId,
            organizationId,
            memberResponderRoleName,
            forensicRoleArns,
            deploymentPrincipalArn,
          }),
        ),
      );
    const evidence = new aws.kms.Key(
      `${name}-evidence`,
      {
        description: `flz evidence (multi-region primary, ${args.homeRegion})`,
        tags: purposeTags(PURPOSE.evidenceKey),
        customerMasterKeySpec: "SYMMETRIC_DEFAULT",
        keyUsage: "ENCRYPT_DECRYPT",
        multiRegion: true,
        enableKeyRotation: true,
        deletionWindowInDays,
        policy: evidencePolicy,
      },
      keyOpts,
    );
    const evidenceArns: Record<string, pulumi.Output<string>> = { [args.homeRegion]: evidence.arn };
    for (const [region, provider] of Object.entries(args.providers)) {
      if (region === args.homeRegion) continue;
      const replica = new aws.kms.ReplicaKey(
        `${name}-evidence-${region}`,
        {
          primaryKeyArn: evidence.arn,
          description: `flz evidence (replica, ${region})`,
          tags: purposeTags(PURPOSE.evidenceKey),
          deletionWindowInDays,
          policy: evidencePolicy,
        },
        { parent: this, provider, protect: true, retainOnDelete: true, dependsOn },
      );
      evidenceArns[region] = replica.arn;
    }

    const signing = new aws.kms.Key(
      `${name}-custody-signing`,
      {
        description: "flz custody ledger signing (ECDSA P-256)",
        tags: purposeTags(PURPOSE.signingKey),
        customerMasterKeySpec: "ECC_NIST_P256",
        keyUsage: "SIGN_VERIFY",
        // Asymmetric keys cannot rotate automatically; the public key of each signature stays verifiable.
        enableKeyRotation: false,
        deletionWindowInDays,
        policy: pulumi
          .all([args.keyAccountId, args.organizationId, args.signerRoleArn, args.deploymentPrincipalArn])
          .apply(([keyAccountId, organizationId, signerRoleArn, deploymentPrincipalArn]) =>
            JSON.stringify(
              custodySigningKeyPolicy({ keyAccountId, organizationId, signerRoleArn, deploymentPrincipalArn }),
            ),
          ),
      },
      keyOpts,
    );

    this.trailKeyArn = this.trailKey.arn;
    this.evidenceKeyArn = evidence.arn;
    this.evidenceKeyArns = pulumi.all(evidenceArns);
    this.custodySigningKeyArn = signing.arn;
    this.registerOutputs({
      trailKeyArn: this.trailKeyArn,
      evidenceKeyArns: this.evidenceKeyArns,
      custodySigningKeyArn: this.custodySigningKeyArn,
    });
  }
}
