/**
 * Guardrail organisation policies, created and attached from the management account: the service control policies
 * (principals of member accounts) and the resource control policy that protects the evidence (resources of member
 * accounts, whoever the principal).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { commercialPartition } from "./arns";
import { protectForensicResourcesRcp, RCP_MAX_CHARACTERS, type ForensicResourceProtection } from "./documents/rcp";
import {
  combineScps,
  denyLeaveOrganizationScp,
  denyUnencryptedVolumesScp,
  protectForensicKeysScp,
  protectForensicResourcesScp,
  protectForensicRolesScp,
  protectTrailScp,
  requireImdsv2Scp,
  scpText,
} from "./documents/scp";
import { protectAlarmsScp } from "./documents/scp-alarms";
import { freezeOptOutTagScp, protectAutomationScp } from "./documents/scp-automation";
import { PURPOSE_TAG_KEY } from "./documents/keys";
import { GUARDRAIL_PURPOSE } from "./documents/quarantine";

/** Arguments of {@link GuardrailPolicies}. */
export interface GuardrailPoliciesArgs {
  /**
   * Provider for the organisation's management account (or a delegated policy administrator): SCPs can only be
   * created and attached there. Required, so the component never lands in whatever account the default provider is.
   */
  readonly managementProvider: aws.Provider;
  /**
   * Root or OU IDs (`r-...`, `ou-...`) the forensic protection bundle is attached to. Required: there is no safe guess.
   * The root is recommended, so that accounts moved between OUs stay covered. A target known only at deployment (the
   * root ID read from Organizations) is checked when it resolves.
   */
  readonly targetIds: ReadonlyArray<pulumi.Input<string>>;
  /**
   * Root or OU IDs the workload baseline (IMDSv2, encrypted volumes) is attached to. Default `targetIds`. Narrow it only
   * for OUs that cannot meet the baseline yet, and say so in the stack configuration.
   */
  readonly workloadTargetIds?: ReadonlyArray<pulumi.Input<string>>;
  /**
   * Whether to create the forensic protection bundle (trail, forensic roles, forensic keys, leaving the organisation).
   * Default true: without it a member account administrator can blind the trail or lock responders out.
   */
  readonly protectForensics?: boolean;
  /**
   * Whether to create the workload baseline bundle (IMDSv2 on launch, no IMDSv1 credentials, no unencrypted volumes).
   * Default true. Turning it off does not weaken the forensic protections; it only stops hardening workloads.
   */
  readonly workloadBaseline?: boolean;
  /** ARN of the organisation trail to protect. */
  readonly trailArn: pulumi.Input<string>;
  /**
   * ARN of the role the deployment acts as in the governed accounts; the only principal (with the StackSet execution
   * role) still allowed to change what the guardrails freeze. An any-account pattern (`arn:aws:iam::*:role/<name>`)
   * is accepted and its name is then protected as well.
   */
  readonly deploymentRoleArn: pulumi.Input<string>;
  /** Names of the forensic member roles (responder, investigator), the same in every member account. */
  readonly memberRoleNames: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Name or name pattern of the role that applies the StackSet in member accounts. Default `stacksets-exec-*`, the
   * names AWS gives the execution roles of service-managed StackSets.
   */
  readonly stackSetExecutionRoleName?: string;
  /**
   * ARNs of the forensic keys (trail, evidence, custody signing); multi-region keys are covered in every region.
   * Default: with `forensicAccountId`, every key of that account carrying a forensic purpose tag, and the tag itself
   * frozen (known at a first `pulumi preview`; see `documents/keys.ts`). One of the two is required.
   */
  readonly forensicKeyArns?: pulumi.Input<pulumi.Input<string>[]>;
  /** The forensic account, whose keys are protected by purpose tag when `forensicKeyArns` is not given. */
  readonly forensicAccountId?: pulumi.Input<string>;
  /**
   * Roles of the forensic account the protection SCP freezes by exact ARN: the forensic responder, investigator and
   * break-glass roles and the roles trusted to assume them there. Default none.
   */
  readonly forensicRoleArns?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The evidence and trail buckets, the forensic keys and who stays able to act (`documents/rcp.ts`). When given, the
   * protection SCP also carries their deletion, freeze and key statements, and the resource control policy
   * `flz-protect-evidence` carries all of them for every principal, so no principal of the forensic account can lift
   * them by editing a bucket or key policy. Default: none (a program without forensic buckets).
   */
  readonly forensicResources?: pulumi.Input<ForensicResourceProtection>;
  /**
   * The response automation's functions in the forensic account (`ResponseAutomation`): when given, with
   * `forensicAccountId`, an SCP `flz-protect-automation` attached to the forensic account denies changing those
   * functions, passing their roles and invoking them to all but the deployment role and the automation's state machine
   * (`documents/scp-automation.ts`, `protectAutomationScp`), and an SCP `flz-automation-opt-out` attached to the
   * workload targets (`workloadTargetIds`, default `targetIds`) freezes the opt-out tag `flz:automation` on
   * instances, roles and users to all but the deployment role and `optOutTagManagerRoleArns` (`freezeOptOutTagScp`).
   * It is an SCP of its own because the protection bundle has no room left under the 5,120-character limit; it takes
   * one more of the targets' five SCP slots. Default none (automation off).
   */
  readonly automation?: {
    /** Name prefix of the automation's functions and roles. Default `flz-automation`. */
    readonly namePrefix?: string;
    /** Roles (patterns allowed) that may set or remove the opt-out tag besides the deployment role. Default none. */
    readonly optOutTagManagerRoleArns?: readonly string[];
  };
  /**
   * The prefix of the incident alarms' rule and topic names in the forensic account (`<landing zone>-alarms-`, as
   * `IncidentAlarms` names them): when given, with `forensicAccountId`, an SCP `flz-protect-alarms` attached to the
   * forensic account denies silencing them (rules, targets, topics, subscriptions, the topics' keys) to all but the
   * deployment role (`documents/scp-alarms.ts`). Default none (no alarms).
   */
  readonly alarmNamePrefix?: string;
  /**
   * GuardDuty's delegated administrator, when it is another account than the forensic account (a 12-digit ID known
   * at preview). `flz-protect-alarms` is then attached there too: its GuardDuty statement keeps that account's
   * administrators from suppressing findings or turning detection off, and its alarm statements name nothing there.
   * Needs `alarmNamePrefix`. Default none (GuardDuty administered from the forensic account).
   */
  readonly detectionAdminAccountId?: string;
  /** Root or OU IDs the RCP is attached to. Default `targetIds` (the root recommended: it covers the forensic account wherever it moves). */
  readonly resourceControlTargetIds?: ReadonlyArray<pulumi.Input<string>>;
}

/** Returns `id` if it is a root, OU or account ID; throws one line naming it otherwise. */
export function checkTarget(name: string, id: string): string {
  if (!/^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|\d{12})$/.test(id)) {
    throw new Error(`GuardrailPolicies "${name}": target "${id}" is not a root (r-...), OU (ou-...-...) or account ID`);
  }
  return id;
}

/** SCP names this component creates, so operators recognise them in the Organizations console. */
export const GUARDRAIL_POLICY_NAMES = {
  protection: "flz-protect-forensics",
  workload: "flz-workload-baseline",
  evidence: "flz-protect-evidence",
  automation: "flz-protect-automation",
  optOut: "flz-automation-opt-out",
  alarms: "flz-protect-alarms",
} as const;

/**
 * Guardrail SCPs in two bundles, so they take two of the five SCP slots of a target: the forensic protection bundle and
 * the workload baseline. Each bundle is checked against the 5,120-character limit when its text is built.
 */
export class GuardrailPolicies extends pulumi.ComponentResource {
  /** ID of the forensic protection SCP (empty when `protectForensics` is false). */
  public readonly protectionPolicyId: pulumi.Output<string>;
  /** ID of the workload baseline SCP (empty when `workloadBaseline` is false). */
  public readonly workloadPolicyId: pulumi.Output<string>;
  /** ID of the evidence-protection RCP (empty without `forensicResources`). */
  public readonly resourceControlPolicyId: pulumi.Output<string>;
  /** ID of the alarm-protection SCP (empty without `alarmNamePrefix`). */
  public readonly alarmsPolicyId: pulumi.Output<string>;
  /** IDs of the automation's two SCPs, `flz-protect-automation` and `flz-automation-opt-out` (none without `automation`). */
  public readonly automationPolicyIds: pulumi.Output<string[]>;
  /** The management provider's partition, checked to be the one the documents are written for. */
  private readonly partition: pulumi.Output<string>;

  constructor(name: string, args: GuardrailPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flz:guardrails:GuardrailPolicies", name, {}, opts);
    if (args.forensicKeyArns === undefined && args.forensicAccountId === undefined)
      throw new Error(
        `GuardrailPolicies "${name}": give forensicKeyArns or forensicAccountId, so the forensic keys are protected`,
      );
    if (args.targetIds.length === 0)
      throw new Error(`GuardrailPolicies "${name}": targetIds is empty: give the root ID (r-...) or OU IDs (ou-...)`);
    for (const id of [...args.targetIds, ...(args.workloadTargetIds ?? []), ...(args.resourceControlTargetIds ?? [])]) {
      if (typeof id === "string") checkTarget(name, id);
    }
    const opt = { parent: this, provider: args.managementProvider };
    // Every document below names ARNs in the commercial partition: in another one it must not be created at all.
    this.partition = aws
      .getPartitionOutput({}, opt)
      .partition.apply((partition) => commercialPartition(`GuardrailPolicies "${name}"`, partition));

    let protectionId: pulumi.Output<string> = pulumi.output("");
    if (args.protectForensics ?? true) {
      const content = pulumi
        .all([
          args.trailArn,
          args.deploymentRoleArn,
          args.memberRoleNames,
          args.forensicKeyArns ?? pulumi.output(undefined),
          args.forensicAccountId ?? pulumi.output(undefined),
          args.forensicRoleArns ?? pulumi.output(undefined),
          args.forensicResources ?? pulumi.output(undefined),
        ])
        .apply(([trailArn, deploymentRoleArn, roleNames, keyArns, forensicAccountId, forensicRoleArns, resources]) =>
          scpText(
            combineScps(GUARDRAIL_POLICY_NAMES.protection, [
              protectTrailScp({ trailArn, deploymentRoleArn }),
              protectForensicRolesScp({
                roleNames,
                stackSetExecutionRoleName: args.stackSetExecutionRoleName ?? "stacksets-exec-*",
                deploymentRoleArn,
                forensicRoleArns,
              }),
              denyLeaveOrganizationScp(),
              protectForensicKeysScp({
                keyArns,
                keysByTag: forensicAccountId === undefined ? undefined : { accountId: forensicAccountId },
                deploymentRoleArn,
              }),
              ...(resources === undefined
                ? []
                : [protectForensicResourcesScp(resources as ForensicResourceProtection)]),
            ]),
          ),
        );
      const policy = this.guardrailScp(
        `${name}-protect-forensics`,
        {
          name: GUARDRAIL_POLICY_NAMES.protection,
          description:
            "Forensic landing zone: protect the organisation trail, forensic roles and keys; deny leaving the organisation.",
          content,
        },
        args.targetIds,
        opt,
      );
      protectionId = policy.id;
    }

    let automationIds: pulumi.Output<string[]> = pulumi.output([]);
    if (args.automation !== undefined) {
      if (args.forensicAccountId === undefined)
        throw new Error(`GuardrailPolicies "${name}": automation needs forensicAccountId (the functions' account)`);
      const namePrefix = args.automation.namePrefix ?? "flz-automation";
      // On the forensic account itself: it takes none of the root's five SCP slots.
      const policy = this.guardrailScp(
        `${name}-protect-automation`,
        {
          name: GUARDRAIL_POLICY_NAMES.automation,
          description: "Forensic landing zone: the response automation's functions and roles act as the responder.",
          content: pulumi
            .all([args.forensicAccountId, args.deploymentRoleArn])
            .apply(([forensicAccountId, deploymentRoleArn]) =>
              scpText(protectAutomationScp({ forensicAccountId, namePrefix, deploymentRoleArn })),
            ),
        },
        [args.forensicAccountId],
        opt,
      );
      const managerRoleArns = args.automation.optOutTagManagerRoleArns;
      const optOut = this.guardrailScp(
        `${name}-automation-opt-out`,
        {
          name: GUARDRAIL_POLICY_NAMES.optOut,
          description: "Forensic landing zone: only the named owners may set or remove the automation's opt-out tag.",
          content: pulumi
            .output(args.deploymentRoleArn)
            .apply((deploymentRoleArn) => scpText(freezeOptOutTagScp({ deploymentRoleArn, managerRoleArns }))),
        },
        args.workloadTargetIds ?? args.targetIds,
        opt,
      );
      automationIds = pulumi.all([policy.id, optOut.id]);
    }

    if (args.detectionAdminAccountId !== undefined) {
      if (args.alarmNamePrefix === undefined)
        throw new Error(
          `GuardrailPolicies "${name}": detectionAdminAccountId needs alarmNamePrefix (the alarm guardrail is what protects GuardDuty)`,
        );
      if (!/^\d{12}$/.test(args.detectionAdminAccountId))
        throw new Error(
          `GuardrailPolicies "${name}": detectionAdminAccountId "${args.detectionAdminAccountId}" is not a 12-digit account ID`,
        );
    }
    let alarmsId: pulumi.Output<string> = pulumi.output("");
    if (args.alarmNamePrefix !== undefined) {
      if (args.forensicAccountId === undefined)
        throw new Error(`GuardrailPolicies "${name}": alarmNamePrefix needs forensicAccountId (the alarms' account)`);
      const namePrefix = args.alarmNamePrefix;
      // On the forensic account itself, where the alarms are: it takes none of the root's five SCP slots.
      const policy = this.guardrailScp(
        `${name}-protect-alarms`,
        {
          name: GUARDRAIL_POLICY_NAMES.alarms,
          description: "Forensic landing zone: only the deployment may change or silence the incident alarms.",
          content: pulumi
            .output(args.deploymentRoleArn)
            .apply((deploymentRoleArn) => scpText(protectAlarmsScp({ namePrefix, deploymentRoleArn }))),
        },
        // The detection administrator, when it is another account, by its literal ID: the forensic account's attachment
        // keeps its name (`target-0`), so adding this one replaces nothing.
        [args.forensicAccountId, ...(args.detectionAdminAccountId === undefined ? [] : [args.detectionAdminAccountId])],
        opt,
      );
      alarmsId = policy.id;
    }

    let workloadId: pulumi.Output<string> = pulumi.output("");
    if (args.workloadBaseline ?? true) {
      const policy = this.guardrailScp(
        `${name}-workload-baseline`,
        {
          name: GUARDRAIL_POLICY_NAMES.workload,
          description: "Forensic landing zone: require IMDSv2, deny IMDSv1 credentials and unencrypted EBS volumes.",
          content: scpText(
            combineScps(GUARDRAIL_POLICY_NAMES.workload, [requireImdsv2Scp(), denyUnencryptedVolumesScp()]),
          ),
        },
        args.workloadTargetIds ?? args.targetIds,
        opt,
      );
      workloadId = policy.id;
    }

    let rcpId: pulumi.Output<string> = pulumi.output("");
    if ((args.protectForensics ?? true) && args.forensicResources !== undefined) {
      // Checked against RCP_MAX_CHARACTERS when built; needs the RESOURCE_CONTROL_POLICY type enabled on the root.
      const policy = new aws.organizations.Policy(
        `${name}-protect-evidence`,
        {
          name: GUARDRAIL_POLICY_NAMES.evidence,
          description: `Forensic landing zone: evidence and trail buckets, forensic keys (at most ${RCP_MAX_CHARACTERS} characters).`,
          type: "RESOURCE_CONTROL_POLICY",
          content: this.inPartition(
            pulumi
              .output(args.forensicResources)
              .apply((resources) => scpText(protectForensicResourcesRcp(resources as ForensicResourceProtection))),
          ),
        },
        opt,
      );
      this.attach(`${name}-protect-evidence`, policy, args.resourceControlTargetIds ?? args.targetIds, opt);
      rcpId = policy.id;
    }

    this.protectionPolicyId = protectionId;
    this.workloadPolicyId = workloadId;
    this.resourceControlPolicyId = rcpId;
    this.alarmsPolicyId = alarmsId;
    this.automationPolicyIds = automationIds;
    this.registerOutputs({
      protectionPolicyId: this.protectionPolicyId,
      workloadPolicyId: this.workloadPolicyId,
      resourceControlPolicyId: this.resourceControlPolicyId,
      alarmsPolicyId: this.alarmsPolicyId,
      automationPolicyIds: this.automationPolicyIds,
    });
  }

  /**
   * A guardrail SCP named `resource` in the program, attached to `targetIds`. Tagged as a guardrail: the purpose tag is
   * what keeps the forensic responder, which manages quarantine SCPs, from re-tagging, changing or detaching it
   * (documents/quarantine.ts).
   */
  private guardrailScp(
    resource: string,
    policy: { name: string; description: string; content: pulumi.Input<string> },
    targetIds: ReadonlyArray<pulumi.Input<string>>,
    opts: pulumi.CustomResourceOptions,
  ): aws.organizations.Policy {
    const scp = new aws.organizations.Policy(
      resource,
      {
        ...policy,
        content: this.inPartition(policy.content),
        type: "SERVICE_CONTROL_POLICY",
        tags: { [PURPOSE_TAG_KEY]: GUARDRAIL_PURPOSE },
      },
      opts,
    );
    this.attach(resource, scp, targetIds, opts);
    return scp;
  }

  /** A policy's content, available only once the partition is known to be the one it is written for. */
  private inPartition(content: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.all([this.partition, content]).apply(([, text]) => text);
  }

  private attach(
    prefix: string,
    policy: aws.organizations.Policy,
    targetIds: ReadonlyArray<pulumi.Input<string>>,
    opts: pulumi.CustomResourceOptions,
  ): void {
    targetIds.forEach((targetId, index) => {
      // A literal target names its attachment (stable across reordering); a resolved one (the root) goes by position.
      const suffix = typeof targetId === "string" ? targetId : `target-${index}`;
      new aws.organizations.PolicyAttachment(
        `${prefix}-${suffix}`,
        { policyId: policy.id, targetId: pulumi.output(targetId).apply((id) => checkTarget(prefix, id)) },
        opts,
      );
    });
  }
}
