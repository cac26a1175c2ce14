/**
 * The landing zone's response automation part: whether to build the {@link ResponseAutomation} component, and with
 * what from the landing zone (its regions, forensic account, organisation, responder role and evidence bucket).
 */
import * as pulumi from "@pulumi/pulumi";
import type { ForensicAccount } from "./forensicAccount";
import type { AutomationSettings, DetectionSettings } from "./landingZoneArgs";
import { ResponseAutomation } from "./ResponseAutomation";

/** What the landing zone gives its automation part. */
export interface AutomationContext {
  /** The automation settings (off unless `enabled`). */
  readonly settings?: AutomationSettings;
  /** The detection settings (the Security Hub custom action needs Security Hub). */
  readonly detection?: DetectionSettings | false;
  /** Governed regions (a forwarder in each). */
  readonly regions: readonly string[];
  /** Home region. */
  readonly homeRegion: string;
  /** The forensic account and its providers. */
  readonly forensicAccount: ForensicAccount;
  /** The organisation. */
  readonly organizationId: pulumi.Input<string>;
  /** The forensic responder role. */
  readonly forensicResponderRoleArn: pulumi.Input<string>;
  /** The evidence bucket (item lists of large incidents). */
  readonly evidenceBucket: pulumi.Input<string>;
}

/**
 * The landing zone's response automation, when switched on. Its functions get the outputs contract, which exists only
 * once the landing zone is built: the caller resolves it with `resolveContract` at the end (a deferred output).
 */
export function automationPart(
  parent: pulumi.Resource,
  name: string,
  ctx: AutomationContext,
): { automation?: ResponseAutomation; resolveContract: (contract: pulumi.Output<string>) => void } {
  if (!ctx.settings?.enabled) return { resolveContract: () => undefined };
  const [contract, resolveContract] = pulumi.deferredOutput<string>();
  const automation = new ResponseAutomation(
    `${name}-automation`,
    {
      provider: ctx.forensicAccount.providerFor(ctx.homeRegion),
      homeRegion: ctx.homeRegion,
      regionProviders: Object.fromEntries(
        ctx.regions.filter((r) => r !== ctx.homeRegion).map((r) => [r, ctx.forensicAccount.providerFor(r)]),
      ),
      forensicAccountId: ctx.forensicAccount.accountId,
      organizationId: ctx.organizationId,
      forensicResponderRoleArn: ctx.forensicResponderRoleArn,
      evidenceBucket: ctx.evidenceBucket,
      landingZoneJson: contract,
      guardrails: ctx.settings,
      securityHubAction: ctx.detection !== false && (ctx.detection?.securityHub ?? true),
    },
    { parent },
  );
  return { automation, resolveContract };
}
