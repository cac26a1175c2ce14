/**
 * Small pure decisions of the landing zone's wiring, kept out of the component so they can be tested alone: where the
 * global services deliver their events, which principal the deployment is inside the forensic account, and which
 * roles of the forensic account are trusted to become a forensic role (and so must be frozen like one).
 */

/**
 * IAM and Organizations are global services: their events reach EventBridge in us-east-1 only (EventBridge user
 * guide, "Events from AWS services"; re:Post, "Why does my EventBridge rule for IAM events only trigger in
 * us-east-1?"). The alarms for role and guardrail changes live there, governed region or not.
 */
export const GLOBAL_EVENTS_REGION = "us-east-1";

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}|\*):role\/(?:(.*)\/)?([\w+=,.@-]{1,64})$/;

/**
 * The deployment principal inside the forensic account, from the configured `deploymentRoleArn`: the same role name
 * in that account. Throws one line when the role is not the one the deployment's providers assume there
 * (`adminRoleName`), or names another account: the bucket and key policies would then refuse the deployment itself on
 * its next update.
 */
export function deploymentPrincipalIn(
  deploymentRoleArn: string,
  adminRoleName: string,
  forensicAccountId: string,
): string {
  const match = ROLE_ARN.exec(deploymentRoleArn);
  if (!match) {
    throw new Error(
      `deploymentRoleArn "${deploymentRoleArn}" is not a role ARN; valid: arn:aws:iam::*:role/${adminRoleName} or arn:aws:iam::${forensicAccountId}:role/${adminRoleName}`,
    );
  }
  const [, partition, account, path, roleName] = match;
  if (roleName !== adminRoleName) {
    throw new Error(
      `deploymentRoleArn "${deploymentRoleArn}" names role ${roleName}, but the deployment acts in the forensic account as ${adminRoleName} (forensicAccountAdminRoleName); valid: arn:aws:iam::*:role/${adminRoleName}`,
    );
  }
  if (account !== "*" && account !== forensicAccountId) {
    throw new Error(
      `deploymentRoleArn "${deploymentRoleArn}" names account ${account}, not the forensic account ${forensicAccountId}; valid: arn:aws:iam::*:role/${adminRoleName} or arn:aws:iam::${forensicAccountId}:role/${adminRoleName}`,
    );
  }
  return `arn:${partition}:iam::${forensicAccountId}:role/${path ? `${path}/` : ""}${roleName}`;
}

/** The principals trusted to assume the forensic roles, as configured. */
export interface TrustedPrincipals {
  /** Trusted by the forensic responder role. */
  readonly responderPrincipalArns: readonly string[];
  /** Trusted by the forensic investigator role. */
  readonly investigatorPrincipalArns?: readonly string[];
  /** Trusted by the break-glass role. */
  readonly breakGlassPrincipalArns?: readonly string[];
}

function trustedArns(principals: TrustedPrincipals): string[] {
  return [
    ...principals.responderPrincipalArns,
    ...(principals.investigatorPrincipalArns ?? []),
    ...(principals.breakGlassPrincipalArns ?? []),
  ];
}

/**
 * The trusted principals that are roles of the forensic account. Whoever may change such a role's own trust policy
 * could assume it and then the forensic role, so the protection SCP freezes them like the forensic roles. Roles of
 * other accounts are frozen by nothing here (a management-account role is bound by no SCP: docs/threat-model.md).
 */
export function trustedRolesIn(forensicAccountId: string, principals: TrustedPrincipals): string[] {
  return [
    ...new Set(
      trustedArns(principals).filter((arn) => {
        const match = ROLE_ARN.exec(arn);
        return match !== null && match[2] === forensicAccountId;
      }),
    ),
  ];
}

/** The names of the trusted roles (of any account), for the role-change alarm of the forensic account. */
export function trustedRoleNames(principals: TrustedPrincipals): string[] {
  return [
    ...new Set(
      trustedArns(principals)
        .map((arn) => ROLE_ARN.exec(arn)?.[4])
        .filter((name): name is string => name !== undefined),
    ),
  ];
}

/** A root as `getOrganization` returns it: its ID and the policy types enabled on it. */
export interface OrganizationRoot {
  /** `r-...`. */
  readonly id: string;
  /** Policy types and their status on the root. */
  readonly policyTypes?: ReadonlyArray<{ readonly type: string; readonly status: string }>;
}

/**
 * The organisation policy types the guardrails need that are not enabled on the root: attaching an SCP or RCP of a
 * type that is not enabled fails (`PolicyTypeNotEnabledException`), half-way through a deployment. A pure check, so
 * the landing zone can say so at preview.
 */
export function missingPolicyTypes(root: OrganizationRoot | undefined, needed: readonly string[]): string[] {
  const enabled = new Set((root?.policyTypes ?? []).filter((p) => p.status === "ENABLED").map((p) => p.type));
  return needed.filter((type) => !enabled.has(type));
}
