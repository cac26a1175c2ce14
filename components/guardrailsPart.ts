/**
 * The guardrails part of {@link ForensicLandingZone}: the guardrail SCPs and the RCP, attached from the management
 * account, with what they freeze computed from the landing zone (its trail, roles, keys and buckets). A plain function
 * that creates {@link GuardrailPolicies} under the landing zone; it warns, rather than fails, when the organisation's
 * root does not have the policy types enabled yet.
 */
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { GuardrailPolicies } from "./GuardrailPolicies";
import type { ForensicAccount } from "./forensicAccount";
import type { ForensicResourceProtection } from "./documents/rcp";
import type { ForensicLandingZoneArgs } from "./landingZoneArgs";
import { missingPolicyTypes, trustedRolesIn } from "./landingZoneSettings";
import { automationActingRoleArns } from "./ResponseAutomation";

/** What the guardrails part needs from the landing zone. */
export interface GuardrailsContext {
  /** The landing zone's arguments (guardrail settings, deployment role, trusted principals, detection). */
  readonly args: ForensicLandingZoneArgs;
  /** Provider of the management account, where SCPs and RCPs are created and attached. */
  readonly management: aws.Provider;
  /** The organisation, as read from Organizations. */
  readonly organization: pulumi.Output<aws.organizations.GetOrganizationResult>;
  /** The forensic account. */
  readonly forensicAccount: ForensicAccount;
  /** The organisation trail's ARN. */
  readonly trailArn: pulumi.Input<string>;
  /** Names of the member responder and investigator roles. */
  readonly memberRoleNames: string[];
  /** The forensic account's responder, investigator and break-glass roles. */
  readonly forensicRoleArns: pulumi.Input<string>[];
  /** The buckets and keys the RCP and the protection SCP protect. */
  readonly protection: pulumi.Output<ForensicResourceProtection>;
  /** Whether the response automation is deployed (its acting roles are then frozen like the responder). */
  readonly automation: boolean;
  /** The alarms' name prefix, when the alarms are on. */
  readonly alarmNamePrefix?: string;
}

/**
 * GuardDuty's delegated administrator when the configuration names another account than an adopted forensic account:
 * `flz-protect-alarms` is attached there too, so its GuardDuty statement binds that account's administrators.
 */
function separateDetectionAdmin(args: ForensicLandingZoneArgs): string | undefined {
  const admin = args.detection === false ? undefined : args.detection?.adminAccountId;
  const forensic = args.forensicAccount.kind === "adopt" ? args.forensicAccount.accountId : undefined;
  return admin === forensic ? undefined : admin;
}

/** The guardrail policies, or undefined when `guardrails.enabled` is false. */
export function guardrailsPart(
  parent: pulumi.Resource,
  name: string,
  ctx: GuardrailsContext,
): GuardrailPolicies | undefined {
  const { args, organization } = ctx;
  const settings = args.guardrails ?? {};
  if (!(settings.enabled ?? true)) return undefined;
  organization.roots.apply((roots) => {
    const missing = missingPolicyTypes(roots[0], ["SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"]);
    if (missing.length > 0)
      void pulumi.log.warn(
        `policy types not enabled on the organisation root: ${missing.join(", ")}; the guardrails cannot be attached until they are: \`aws organizations enable-policy-type --root-id ${roots[0]?.id ?? "r-..."} --policy-type <type>\` for each, from the management account`,
        parent,
      );
    return missing;
  });
  const root = organization.roots.apply((roots) => {
    const id = roots[0]?.id;
    if (!id) throw new Error("ForensicLandingZone: Organizations returned no root; set guardrailTargetIds");
    return id;
  });
  const targetIds: Array<pulumi.Input<string>> = settings.targetIds ? [...settings.targetIds] : [root];
  return new GuardrailPolicies(
    `${name}-guardrails`,
    {
      managementProvider: ctx.management,
      targetIds,
      workloadTargetIds: settings.workloadTargetIds ? [...settings.workloadTargetIds] : undefined,
      protectForensics: true,
      workloadBaseline: settings.workloadBaseline ?? false,
      trailArn: ctx.trailArn,
      deploymentRoleArn: args.deploymentRoleArn,
      memberRoleNames: ctx.memberRoleNames,
      // By purpose tag (the tag ForensicKeys sets), so the SCP is known at a first preview.
      forensicAccountId: ctx.forensicAccount.accountId,
      forensicRoleArns: pulumi.all([ctx.forensicAccount.accountId, ...ctx.forensicRoleArns]).apply(([id, ...own]) => [
        ...own,
        ...trustedRolesIn(id, args),
        // Whoever could change an acting automation role could become the responder: frozen like one.
        ...(ctx.automation ? automationActingRoleArns(id) : []),
      ]),
      forensicResources: ctx.protection,
      alarmNamePrefix: ctx.alarmNamePrefix,
      detectionAdminAccountId: ctx.alarmNamePrefix === undefined ? undefined : separateDetectionAdmin(args),
      automation: ctx.automation ? { optOutTagManagerRoleArns: args.automation?.optOutTagManagerRoleArns } : undefined,
      resourceControlTargetIds: settings.resourceControlTargetIds ? [...settings.resourceControlTargetIds] : undefined,
    },
    { parent },
  );
}
