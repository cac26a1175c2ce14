/**
 * Guardrail service control policies (SCPs): pure functions of plain strings returning {@link PolicyDocument}s, so the
 * `GuardrailPolicies` component, the policy pack and the IAM-evaluator tests all see exactly the same documents.
 *
 * Two facts shape every document here:
 * - SCPs never apply to the management account, and they only ever restrict: each statement is a `Deny` with a
 *   narrow exception for the deployment role (the role `pulumi up` runs as, and the one that must be able to repair
 *   what these policies freeze).
 * - An organisation allows at most five SCPs per target, one of them usually `FullAWSAccess`, and 5,120 characters
 *   per SCP. {@link combineScps} therefore merges the guardrails into a few bundles and refuses one that is too big.
 */
import { KEY_PURPOSE, PURPOSE_TAG_KEY, accountKeyPattern, type ForensicKeysByTag } from "./keys";
import { forensicResourceScpStatements, type ForensicResourceProtection } from "./rcp";
import { document, exceptPrincipals, requireRoleArn, requireValue } from "./scp-statements";
import type { PolicyDocument } from "./types";

/** The largest SCP AWS Organizations accepts, in characters of the policy text (whitespace counts). */
export const SCP_MAX_CHARACTERS = 5120;

/** Every CloudTrail call that stops, deletes or narrows what the organisation trail records. */
export const TRAIL_TAMPERING_ACTIONS: readonly string[] = [
  "cloudtrail:StopLogging",
  "cloudtrail:DeleteTrail",
  "cloudtrail:UpdateTrail",
  "cloudtrail:PutEventSelectors",
  "cloudtrail:PutInsightSelectors",
];

/**
 * IAM calls that change a role or what it may do. `iam:CreateRole` is included on purpose: without it, anyone could
 * pre-create a role with a forensic role's name in a new account before the StackSet reaches it (name squatting).
 */
export const ROLE_CHANGE_ACTIONS: readonly string[] = [
  "iam:AttachRolePolicy",
  "iam:CreateRole",
  "iam:DeleteRole",
  "iam:DeleteRolePermissionsBoundary",
  "iam:DeleteRolePolicy",
  "iam:DetachRolePolicy",
  "iam:PutRolePermissionsBoundary",
  "iam:PutRolePolicy",
  "iam:TagRole",
  "iam:UntagRole",
  "iam:UpdateAssumeRolePolicy",
  "iam:UpdateRole",
  "iam:UpdateRoleDescription",
];

/**
 * KMS calls that would make evidence unreadable or its signatures unverifiable, or take a key out of the forensic
 * account's control: deleting or disabling a key, rewriting its policy so the forensic roles lose access, or
 * replicating it (a replica of a multi-region key decrypts the same ciphertext under a key policy its creator picks).
 */
export const KEY_DESTRUCTION_ACTIONS: readonly string[] = [
  "kms:ScheduleKeyDeletion",
  "kms:DisableKey",
  "kms:DisableKeyRotation",
  "kms:PutKeyPolicy",
  "kms:DeleteImportedKeyMaterial",
  "kms:ReplicateKey",
];

/**
 * KMS calls that set or remove a tag, so they can change the purpose tag that marks a forensic key: a key stripped of
 * it would leave the tag-scoped protection, and a key given it would be taken for a forensic key.
 */
export const KEY_TAGGING_ACTIONS: readonly string[] = [
  "kms:TagResource",
  "kms:UntagResource",
  "kms:CreateKey",
  "kms:ReplicateKey",
];

/** Arguments of {@link protectTrailScp}. */
export interface ProtectTrailScpArgs {
  /** ARN of the organisation trail (`arn:aws:cloudtrail:<region>:<management account>:trail/<name>`). */
  readonly trailArn: string;
  /**
   * ARN of the role the deployment acts as: the only principal that may still change the trail. An any-account
   * pattern (`arn:aws:iam::*:role/FlzDeployment`) covers a delegated CloudTrail administrator account.
   */
  readonly deploymentRoleArn: string;
}

/**
 * Denies stopping, deleting or narrowing the organisation trail to everyone but the deployment role, so an intruder
 * holding administrator rights in any member account (or a delegated CloudTrail administrator) cannot blind it.
 */
export function protectTrailScp(args: ProtectTrailScpArgs): PolicyDocument {
  const trailArn = requireValue(args.trailArn, "trailArn", "the organisation trail ARN");
  if (!trailArn.startsWith("arn:") || !trailArn.includes(":trail/")) {
    throw new Error(
      `trailArn "${trailArn}" is not a CloudTrail trail ARN: expected arn:aws:cloudtrail:<region>:<account>:trail/<name>`,
    );
  }
  return document([
    {
      Sid: "FlzProtectOrganizationTrail",
      Effect: "Deny",
      Action: [...TRAIL_TAMPERING_ACTIONS],
      Resource: trailArn,
      Condition: exceptPrincipals([requireRoleArn(args.deploymentRoleArn, "deploymentRoleArn")]),
    },
  ]);
}

/** Arguments of {@link protectForensicRolesScp}. */
export interface ProtectForensicRolesScpArgs {
  /** Names of the forensic member roles (responder, investigator), the same name in every member account. */
  readonly roleNames: string[];
  /**
   * Name (or name pattern) of the role that applies the StackSet in member accounts; for service-managed StackSets
   * AWS names it `stacksets-exec-<id>`, so a pattern like `stacksets-exec-*` is accepted. It is both protected and
   * exempted: it must keep creating and updating the forensic roles in new accounts.
   */
  readonly stackSetExecutionRoleName: string;
  /**
   * ARN of the role the deployment acts as: it may change the forensic roles. Inside member accounts the deployment
   * acts through the role its providers assume there, so an any-account pattern (`arn:aws:iam::*:role/FlzDeployment`)
   * is accepted; that role name is then protected too, or an administrator could create a role of that name and
   * inherit the exemption. An ARN of one account protects that role.
   */
  readonly deploymentRoleArn: string;
  /**
   * Roles of the forensic account protected the same way, by exact ARN: the forensic responder, investigator and
   * break-glass roles, and the roles named as their trusted principals there (whoever may change a trusted role's own
   * trust policy could become the responder). Default none.
   */
  readonly forensicRoleArns?: readonly string[];
}

/**
 * Denies creating, changing or deleting the forensic member roles and the StackSet execution role to everyone but the
 * deployment role and the StackSet execution role, so an intruder cannot lock responders out or plant a look-alike.
 */
export function protectForensicRolesScp(args: ProtectForensicRolesScpArgs): PolicyDocument {
  if (args.roleNames.length === 0)
    throw new Error("roleNames is empty: give the forensic member role names, e.g. FlzMemberResponder");
  const deploymentRoleArn = requireRoleArn(args.deploymentRoleArn, "deploymentRoleArn");
  const names = [
    ...args.roleNames,
    requireValue(args.stackSetExecutionRoleName, "stackSetExecutionRoleName", "e.g. stacksets-exec-*"),
  ];
  const deploymentAnywhere = /^arn:[^:]+:iam::\*:role\/(?:.*\/)?([^/]+)$/.exec(deploymentRoleArn);
  if (deploymentAnywhere && !names.includes(deploymentAnywhere[1])) names.push(deploymentAnywhere[1]);
  for (const name of names) {
    if (!/^[\w+=,.@*-]{1,64}$/.test(name))
      throw new Error(`role name "${name}" is not a valid IAM role name (letters, digits, +=,.@_- and *)`);
  }
  const exact = [...(args.forensicRoleArns ?? []).map((arn) => requireRoleArn(arn, "forensicRoleArns"))];
  if (!deploymentAnywhere) exact.push(deploymentRoleArn);
  return document([
    {
      Sid: "FlzProtectForensicRoles",
      Effect: "Deny",
      Action: [...ROLE_CHANGE_ACTIONS],
      Resource: [...names.map((name) => `arn:aws:iam::*:role/${name}`), ...new Set(exact)],
      Condition: exceptPrincipals([deploymentRoleArn, `arn:aws:iam::*:role/${args.stackSetExecutionRoleName}`]),
    },
  ]);
}

/**
 * The evidence- and key-protection statements of `rcp.ts` as an SCP: they bind every principal of the member accounts,
 * the forensic account's root user included (which a bucket policy alone cannot stop from replacing the policy).
 */
export function protectForensicResourcesScp(args: ForensicResourceProtection): PolicyDocument {
  return document(forensicResourceScpStatements(args));
}

/**
 * Denies `organizations:LeaveOrganization` to every principal of every member account, the deployment role included:
 * an account that leaves takes itself out of every guardrail and the trail. Only the management account can still take
 * an account out (`RemoveAccountFromOrganization`), which no SCP covers; the alarms watch for it.
 */
export function denyLeaveOrganizationScp(): PolicyDocument {
  return document([
    { Sid: "FlzDenyLeaveOrganization", Effect: "Deny", Action: "organizations:LeaveOrganization", Resource: "*" },
  ]);
}

/**
 * Requires IMDSv2 on every new instance and denies any call made with role credentials delivered through IMDSv1
 * (`ec2:RoleDelivery` below 2.0), the path SSRF bugs use to steal instance credentials.
 */
export function requireImdsv2Scp(): PolicyDocument {
  return document([
    {
      Sid: "FlzRequireImdsv2OnLaunch",
      Effect: "Deny",
      Action: "ec2:RunInstances",
      Resource: "arn:aws:ec2:*:*:instance/*",
      Condition: { StringNotEquals: { "ec2:MetadataHttpTokens": "required" } },
    },
    {
      Sid: "FlzDenyImdsv1Credentials",
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { NumericLessThan: { "ec2:RoleDelivery": "2.0" } },
    },
  ]);
}

/**
 * Denies creating an unencrypted EBS volume, directly or as part of launching an instance. Evidence copied from a
 * volume inherits its encryption; an unencrypted one could be read by anyone who obtains a share of its snapshot.
 */
export function denyUnencryptedVolumesScp(): PolicyDocument {
  return document([
    {
      Sid: "FlzDenyUnencryptedVolumes",
      Effect: "Deny",
      Action: "ec2:CreateVolume",
      Resource: "*",
      Condition: { Bool: { "ec2:Encrypted": "false" } },
    },
    {
      Sid: "FlzDenyUnencryptedLaunchVolumes",
      Effect: "Deny",
      Action: "ec2:RunInstances",
      Resource: "arn:aws:ec2:*:*:volume/*",
      Condition: { Bool: { "ec2:Encrypted": "false" } },
    },
  ]);
}

/**
 * A multi-region key keeps its key ID (`mrk-...`) in every region, so its ARN is generalised to any region: the
 * guardrail then also covers the replicas.
 */
export function keyArnPattern(keyArn: string): string {
  const match = /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/.exec(keyArn);
  if (!match)
    throw new Error(`key ARN "${keyArn}" is not a KMS key ARN: expected arn:aws:kms:<region>:<account>:key/<id>`);
  const [, partition, region, account, keyId] = match;
  return `arn:${partition}:kms:${keyId.startsWith("mrk-") ? "*" : region}:${account}:key/${keyId}`;
}

/** Arguments of {@link protectForensicKeysScp}. */
export interface ProtectForensicKeysScpArgs {
  /** ARNs of the forensic keys (trail, evidence and its replicas, custody signing). Or `keysByTag`. */
  readonly keyArns?: string[];
  /**
   * Instead of `keyArns`: every key of the forensic account whose purpose tag names a forensic key (evidence, trail,
   * custody signing), and the purpose tag itself. Known before the keys exist, so the SCP is checked at a first
   * `pulumi preview`. Ignored when `keyArns` is given.
   */
  readonly keysByTag?: ForensicKeysByTag;
  /**
   * ARN of the role the deployment acts as in the forensic account (the role its forensic provider assumes): it may
   * still manage the keys.
   */
  readonly deploymentRoleArn: string;
}

/**
 * Denies scheduling deletion of, disabling, re-policing or replicating the forensic keys to everyone but the
 * deployment role. Named by tag, the keys are every key of the forensic account carrying a forensic purpose tag, and a
 * second statement freezes that tag: nobody but the deployment role may set or remove it on any key, or create or
 * replicate a key that carries it, anywhere in the organisation. Without that statement an administrator of the
 * forensic account could untag the evidence key and then delete it.
 */
export function protectForensicKeysScp(args: ProtectForensicKeysScpArgs): PolicyDocument {
  const deploymentRoleArn = requireRoleArn(args.deploymentRoleArn, "deploymentRoleArn");
  if (args.keyArns === undefined && args.keysByTag !== undefined) {
    const tagKey = args.keysByTag.tagKey ?? PURPOSE_TAG_KEY;
    return document([
      {
        Sid: "FlzProtectForensicKeys",
        Effect: "Deny",
        Action: [...KEY_DESTRUCTION_ACTIONS],
        Resource: accountKeyPattern(args.keysByTag),
        Condition: {
          StringEquals: { [`aws:ResourceTag/${tagKey}`]: Object.values(KEY_PURPOSE) },
          ...exceptPrincipals([deploymentRoleArn]),
        },
      },
      {
        Sid: "FlzProtectForensicKeyTag",
        Effect: "Deny",
        Action: [...KEY_TAGGING_ACTIONS],
        Resource: "*",
        Condition: {
          "ForAnyValue:StringEquals": { "aws:TagKeys": tagKey },
          ...exceptPrincipals([deploymentRoleArn]),
        },
      },
    ]);
  }
  if (args.keyArns === undefined || args.keyArns.length === 0)
    throw new Error(
      "keyArns is empty: give the ARNs of the trail, evidence and custody signing keys, or keysByTag ({ accountId })",
    );
  const resources = [...new Set(args.keyArns.map(keyArnPattern))];
  return document([
    {
      Sid: "FlzProtectForensicKeys",
      Effect: "Deny",
      Action: [...KEY_DESTRUCTION_ACTIONS],
      Resource: resources.length === 1 ? resources[0] : resources,
      Condition: exceptPrincipals([deploymentRoleArn]),
    },
  ]);
}

/** The policy text exactly as it is sent to AWS Organizations (compact JSON, so whitespace costs nothing). */
export function scpText(doc: PolicyDocument): string {
  return JSON.stringify(doc);
}

/**
 * Merges guardrail documents into one SCP (one attachment slot instead of several) and checks it against the
 * 5,120-character limit and for duplicate statement IDs.
 *
 * @throws Error naming the size and the limit when the merged text is too large.
 */
export function combineScps(name: string, docs: PolicyDocument[]): PolicyDocument {
  const statements = docs.flatMap((doc) => doc.Statement);
  if (statements.length === 0) throw new Error(`SCP "${name}" has no statements: enable at least one guardrail in it`);
  const sids = statements.map((s) => s.Sid).filter((sid): sid is string => sid !== undefined);
  const duplicate = sids.find((sid, i) => sids.indexOf(sid) !== i);
  if (duplicate)
    throw new Error(`SCP "${name}" has the statement ID "${duplicate}" twice: statement IDs must be unique`);
  const merged = document(statements);
  const size = scpText(merged).length;
  if (size > SCP_MAX_CHARACTERS) {
    throw new Error(
      `SCP "${name}" is ${size} characters: AWS Organizations accepts at most ${SCP_MAX_CHARACTERS}; split it or list fewer ARNs`,
    );
  }
  return merged;
}
