/**
 * The forensic account: a dedicated member account that holds evidence, keys and the forensic roles, either created
 * in a `Forensics` organisational unit or adopted by ID, plus one AWS provider per governed region that reaches it.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AccountReadiness, type ReadinessOptions } from "./AccountReadiness";
import { roleArn } from "./arns";

/** How the forensic account comes to exist: created by Organizations, or an account that already exists. */
export type ForensicAccountSource =
  | {
      /** Create a new member account. */
      readonly kind: "create";
      /** Root e-mail address of the new account; must be unique across AWS and reachable by the security team. */
      readonly email: string;
      /** Display name of the new account. */
      readonly accountName: string;
      /** Name of the organisational unit created under the organisation root to hold it. */
      readonly organizationalUnitName: string;
    }
  | {
      /** Adopt an account that already belongs to the organisation. */
      readonly kind: "adopt";
      /** Its 12-digit account ID. */
      readonly accountId: string;
    };

/** Arguments of {@link ForensicAccount}. */
export interface ForensicAccountArgs {
  /** Whether the account is created or adopted. Required: there is no safe guess for either. */
  readonly source: ForensicAccountSource;
  /**
   * Role in the forensic account that the deployment assumes. Default `OrganizationAccountAccessRole`, which
   * Organizations creates in every account it creates; an adopted account that joined by invitation must have it
   * (or pass the name of its equivalent).
   */
  readonly adminRoleName?: string;
  /** Governed regions: one provider is made per region. Required; the first provider is not special. */
  readonly regions: readonly string[];
  /**
   * ID of the parent of the new `Forensics` OU (only when creating). Default: the organisation root, read from
   * Organizations, so the OU sits beside, not inside, the workload OUs that the guardrails target.
   */
  readonly parentId?: pulumi.Input<string>;
  /** Session name the deployment's assumed-role sessions carry, so CloudTrail shows who deployed. Default `flz-deploy`. */
  readonly sessionName?: string;
  /**
   * Regions that get a provider although they are not governed (for example us-east-1, where IAM and Organizations
   * deliver their events, for the alarms). Default none.
   */
  readonly additionalProviderRegions?: readonly string[];
  /**
   * How long to wait for a created account's admin role to become assumable before any provider uses it
   * ({@link AccountReadiness}). Default: 15 minutes, every 10 s, 3 successes in a row. Ignored for an adopted account.
   */
  readonly readiness?: ReadinessOptions;
}

/** The forensic account and the providers that deploy into it. */
export class ForensicAccount extends pulumi.ComponentResource {
  /** The forensic account's 12-digit ID. */
  public readonly accountId: pulumi.Output<string>;
  /** ARN of the role the deployment assumes in the forensic account. */
  public readonly adminRoleArn: pulumi.Output<string>;
  /** One provider per governed region, each assuming the admin role and pinned to the forensic account. */
  public readonly providers: Readonly<Record<string, aws.Provider>>;
  /** Providers of the `additionalProviderRegions` (not governed: no evidence key replica there). */
  public readonly additionalProviders: Readonly<Record<string, aws.Provider>>;

  constructor(name: string, args: ForensicAccountArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flz:organization:ForensicAccount", name, {}, opts);
    if (args.regions.length === 0) throw new Error("ForensicAccount: regions must name at least one governed region");
    const adminRoleName = args.adminRoleName ?? "OrganizationAccountAccessRole";

    if (args.source.kind === "create") {
      const parentId =
        args.parentId ??
        aws.organizations.getOrganizationOutput({}, { parent: this }).roots.apply((roots) => roots[0].id);
      // Protected and retained on delete, like the account it holds: Organizations refuses to delete an OU that still
      // contains an account (OrganizationalUnitNotEmptyException), and the account is never closed by a destroy.
      const ou = new aws.organizations.OrganizationalUnit(
        `${name}-ou`,
        { name: args.source.organizationalUnitName, parentId },
        { parent: this, protect: true, retainOnDelete: true },
      );
      const account = new aws.organizations.Account(
        name,
        {
          email: args.source.email,
          name: args.source.accountName,
          parentId: ou.id,
          roleName: adminRoleName,
          // Destroying the stack must never close the account that holds the evidence.
          closeOnDeletion: false,
          iamUserAccessToBilling: "DENY",
        },
        // roleName is write-only in the Organizations API: without ignoreChanges every refresh would plan a replace.
        { parent: this, protect: true, retainOnDelete: true, ignoreChanges: ["roleName"] },
      );
      this.accountId = account.id;
      // A created account is used only once its admin role can be assumed (AccountReadiness): the providers below are
      // configured with the role ARN the check returns, so they, and everything in the account, wait for it.
      const readiness = new AccountReadiness(
        `${name}-ready`,
        {
          roleArn: this.accountId.apply((id) => roleArn(id, adminRoleName)),
          region: args.regions[0],
          options: args.readiness,
        },
        { parent: this },
      );
      this.adminRoleArn = readiness.roleArn;
    } else {
      this.accountId = pulumi.output(args.source.accountId);
      this.adminRoleArn = this.accountId.apply((id) => roleArn(id, adminRoleName));
    }

    const providers: Record<string, aws.Provider> = {};
    const additional: Record<string, aws.Provider> = {};
    for (const region of [...new Set([...args.regions, ...(args.additionalProviderRegions ?? [])])]) {
      // The provider's inputs come from the account's outputs, so for a new account it is configured only once
      // Organizations has finished creating the account and its admin role.
      (args.regions.includes(region) ? providers : additional)[region] = new aws.Provider(
        `${name}-${region}`,
        {
          region,
          allowedAccountIds: [this.accountId],
          assumeRoles: [{ roleArn: this.adminRoleArn, sessionName: args.sessionName ?? "flz-deploy" }],
        },
        { parent: this },
      );
    }
    this.providers = providers;
    this.additionalProviders = additional;

    this.registerOutputs({ accountId: this.accountId, adminRoleArn: this.adminRoleArn });
  }

  /** The provider for a governed region; throws naming the governed regions if `region` is not one of them. */
  public providerFor(region: string): aws.Provider {
    const provider = this.providers[region] ?? this.additionalProviders[region];
    if (!provider) {
      throw new Error(
        `ForensicAccount: ${region} is not a governed region; governed: ${Object.keys(this.providers).join(", ")}`,
      );
    }
    return provider;
  }
}
