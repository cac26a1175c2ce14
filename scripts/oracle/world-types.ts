/**
 * The shape of the authorization world (`world.ts` builds it): the documents in force for the emulator's
 * organisation, by role, bucket, key and organisation target, and the names it is built from. Split from `world.ts` so
 * the oracle, the drill's seed and the permission reference can name the shape without the builders.
 */
import type { KeyPurpose, PolicyDocument } from "../../components/documents";

/** One policy document and where it comes from. */
export interface NamedDocument {
  /** Name AWS shows for it (inline policy name, SCP name, `bucket policy`, `key policy`, `trust policy`). */
  readonly name: string;
  /** Builder in `components/documents/` that produced it (`assumed` for the one document the stack does not deploy). */
  readonly builder: string;
  /** The document. */
  readonly document: PolicyDocument;
}

/** A role of the landing zone: where it exists, who may assume it, what it may do. */
export interface WorldRole {
  /** Role name (the same in every account it exists in). */
  readonly name: string;
  /** Accounts it exists in. */
  readonly accounts: readonly string[];
  /** Trust policy. */
  readonly trust: NamedDocument;
  /** Identity policies (inline), in the order the stack attaches them. */
  readonly policies: readonly NamedDocument[];
  /** AWS managed policies attached, which the oracle cannot read (listed so a call by this role says so). */
  readonly managedPolicyArns: readonly string[];
}

/** A bucket of the landing zone: its policy and default encryption. */
export interface WorldBucket {
  /** Bucket name. */
  readonly name: string;
  /** Account that owns it. */
  readonly account: string;
  /** Bucket policy. */
  readonly policy: NamedDocument;
  /** Purpose tag of the key its default encryption (SSE-KMS, S3 Bucket Key) uses, in the home region. */
  readonly keyPurpose: KeyPurpose;
}

/** Organisation policies attached to one target (root, OU or account). */
export interface WorldOrgPolicies {
  /** Root, OU or account ID the policies are attached to. */
  readonly target: string;
  /** The policies. */
  readonly policies: readonly NamedDocument[];
}

/** Everything in force for the emulator's organisation. */
export interface OracleWorld {
  /** Organisation ID. */
  readonly organizationId: string;
  /** Root ID of the organisation (SCPs and RCPs are attached there). */
  readonly rootId: string;
  /** The management account (not bound by SCPs or RCPs). */
  readonly managementAccountId: string;
  /** The forensic account. */
  readonly forensicAccountId: string;
  /** Member accounts. */
  readonly memberAccountIds: readonly string[];
  /** Home region. */
  readonly homeRegion: string;
  /** Governed regions. */
  readonly regions: readonly string[];
  /**
   * Who the operator's own credentials are (the incident-response team's role in the management account, which the
   * forensic roles trust), and the one policy the stack does not deploy: the team's permission to assume the forensic
   * roles, which their identity provider's permission set gives them.
   */
  readonly operator: { readonly arn: string; readonly policies: readonly NamedDocument[] };
  /** The landing zone's roles. */
  readonly roles: readonly WorldRole[];
  /** The landing zone's buckets. */
  readonly buckets: readonly WorldBucket[];
  /** Key policies, by the key's purpose tag (`flz:purpose`); a key without one has KMS's default key policy. */
  readonly keyPolicies: Readonly<Record<KeyPurpose, NamedDocument>>;
  /** Service control policies, root first. */
  readonly serviceControlPolicies: readonly WorldOrgPolicies[];
  /** Resource control policies, root first. */
  readonly resourceControlPolicies: readonly WorldOrgPolicies[];
  /**
   * The Organizations resource policy of the management account (delegated policy management), if the stack deploys
   * one: the resource policy of every `organizations:` request made from another account.
   */
  readonly organizationsResourcePolicy?: NamedDocument;
  /**
   * Roles whose calls the oracle records but does not evaluate, with why: they stand for someone outside the landing
   * zone whose permissions the stack does not decide.
   */
  readonly outsideRoles: Readonly<Record<string, string>>;
}

/** What the world is built from: the emulator organisation's names (see `scripts/emulator/seed.ts`). */
export interface WorldArgs {
  readonly organizationId: string;
  readonly rootId: string;
  readonly managementAccountId: string;
  readonly forensicAccountId: string;
  readonly memberAccountIds: readonly string[];
  readonly homeRegion: string;
  readonly regions: readonly string[];
  /** Role names (the stack's defaults in the emulator). */
  readonly roleNames: {
    readonly forensicResponder: string;
    readonly forensicInvestigator: string;
    readonly memberResponder: string;
    readonly memberInvestigator: string;
    readonly breakGlass: string;
  };
  /** Evidence bucket name. */
  readonly evidenceBucket: string;
  /** Trail bucket name. */
  readonly trailBucket: string;
  /** Organisation trail ARN. */
  readonly trailArn: string;
  /** The operator's principal (trusted by the forensic roles). */
  readonly operatorArn: string;
  /** The role the deployment acts as inside governed accounts (the guardrails' exception). */
  readonly deploymentRoleName: string;
  /** Key prefix of Athena query results in the evidence bucket. */
  readonly athenaResultsPrefix: string;
  /**
   * The response automation switched on (stack config `automation: true`): its acting functions' roles, trusted by
   * the forensic responder and frozen by the protection SCP, and the SCP `flz-protect-automation` on the forensic
   * account. Default false.
   */
  readonly automation?: boolean;
}
