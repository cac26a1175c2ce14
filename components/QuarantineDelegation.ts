/**
 * The organisation's resource-based delegation policy that lets the forensic responder role manage quarantine SCPs
 * (and only those) from the forensic account: what `flz contain sessions` and `flz contain access-key` use to revoke
 * sessions at the organisation level, above any member account's administrator.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { quarantineDelegationPolicy } from "./documents/quarantine-delegation";

/** Arguments of {@link QuarantineDelegation}. */
export interface QuarantineDelegationArgs {
  /**
   * Provider for the organisation's management account: "You can only call this operation from the organization's
   * management account" (PutResourcePolicy, AWS Organizations API reference). Required, so the policy never lands in
   * whatever account the default provider is.
   */
  readonly managementProvider: aws.Provider;
  /** The organisation (`o-...`). */
  readonly organizationId: pulumi.Input<string>;
  /** The management account, whose ARNs name the organisation's policies and accounts. */
  readonly managementAccountId: pulumi.Input<string>;
  /**
   * The forensic responder role, the only principal the delegation names. Its own permissions policy must grant the
   * same actions (Organizations checks both); `forensicResponderPermissions` does.
   */
  readonly responderRoleArn: pulumi.Input<string>;
}

/**
 * One `aws.organizations.ResourcePolicy` in the management account with the document of `quarantineDelegationPolicy`.
 * Organizations holds a single resource policy per organisation (AWS Organizations user guide, "Delegated
 * administrator for AWS Organizations"; Pulumi registry, `aws.organizations.ResourcePolicy`): an organisation that
 * already delegates other policy management must merge those statements into this document, or turn the landing
 * zone's switch off and add the quarantine statements to its own policy.
 */
export class QuarantineDelegation extends pulumi.ComponentResource {
  /** ID of the resource policy. */
  public readonly resourcePolicyId: pulumi.Output<string>;
  /** The delegation document as deployed (JSON text). */
  public readonly content: pulumi.Output<string>;

  constructor(name: string, args: QuarantineDelegationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flz:organization:QuarantineDelegation", name, {}, opts);
    this.content = pulumi
      .all([args.organizationId, args.managementAccountId, args.responderRoleArn])
      .apply(([organizationId, managementAccountId, responderRoleArn]) =>
        JSON.stringify(quarantineDelegationPolicy({ organizationId, managementAccountId, responderRoleArn })),
      );
    const policy = new aws.organizations.ResourcePolicy(
      name,
      { content: this.content, tags: { "flz:purpose": "quarantine-delegation" } },
      { parent: this, provider: args.managementProvider },
    );
    this.resourcePolicyId = policy.id;
    this.registerOutputs({ resourcePolicyId: this.resourcePolicyId, content: this.content });
  }
}
