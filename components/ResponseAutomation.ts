/**
 * Guardrailed response automation on AWS's own engine (DESIGN.md §12, issue 15), in the forensic account's home
 * region: EventBridge receives GuardDuty findings (at or above a severity) and the Security Hub custom action in every
 * governed region and forwards them to a response bus that the organisation may also put explicit requests on; a
 * dispatcher starts one Standard Step Functions execution per finding (named after it); the state machine reads the
 * kill switch, decides the mode from the guardrails, contains and captures through Lambda functions bundled from the
 * CLI's own modules (`scripts/automation/lambda.ts`), verifies the custody chain and notifies.
 *
 * Documents come from `documents/automation.ts` and `documents/automation-asl.ts` (the tests validate and execute the
 * same definition). Each function has its own role; those that act do so as the forensic responder (the same role,
 * session and custody signer as `flz`), which is why the landing zone adds their roles to the responder's trust.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  AUTOMATION_FUNCTIONS,
  automationFunctionPermissions,
  eventForwarderPermissions,
  guardDutyResponsePattern,
  KILL_SWITCH_RELEASED,
  resolveGuardrails,
  responseBusPattern,
  responseBusPolicy,
  SECURITY_HUB_ACTION_ID,
  securityHubActionPattern,
  serviceRoleTrust,
  stateMachinePermissions,
  FUNCTION_TIMEOUT_SECONDS,
  type AutomationFunction,
  type AutomationGuardrailSettings,
} from "./documents/automation";
import { responseDefinition } from "./documents/automation-asl";
import { roleArn } from "./arns";

/** Arguments of {@link ResponseAutomation}. */
export interface ResponseAutomationArgs {
  /** Provider of the forensic account in the home region (the bus, the state machine, the functions). Required. */
  readonly provider: aws.Provider;
  /** Home region. Required. */
  readonly homeRegion: string;
  /**
   * Providers of the forensic account in the other governed regions: each gets a forwarder of its GuardDuty findings
   * (the delegated administrator receives every member's findings of its region) to the home region's response bus.
   * Default none (home region only).
   */
  readonly regionProviders?: Readonly<Record<string, aws.Provider>>;
  /** The forensic account. Required. */
  readonly forensicAccountId: pulumi.Input<string>;
  /** The organisation: only its principals may put events on the response bus. Required. */
  readonly organizationId: pulumi.Input<string>;
  /** The forensic responder role, which the acting functions assume (as `flz` does). Required. */
  readonly forensicResponderRoleArn: pulumi.Input<string>;
  /** The evidence bucket: the intake writes the item lists of an incident too large for an inline Map there. Required. */
  readonly evidenceBucket: pulumi.Input<string>;
  /** The landing-zone contract as JSON (what `pulumi stack output --json` prints), given to the functions. Required. */
  readonly landingZoneJson: pulumi.Input<string>;
  /** Guardrails. Default: every finding type in `observe` mode (capture only), severity 7+, 10 containments per hour. */
  readonly guardrails?: AutomationGuardrailSettings;
  /**
   * Create the Security Hub custom action "FLZ: contain and capture". Default true. Needs Security Hub enabled in the
   * forensic account's home region (the detection part does that).
   */
  readonly securityHubAction?: boolean;
  /** Kill switch value at creation; later changes by operators are kept (`ignoreChanges`). Default `released`. */
  readonly initialKillSwitch?: string;
  /** Lambda code: an archive with `lambda.js` exporting the handlers. Default: bundled from scripts/ with esbuild. */
  readonly code?: pulumi.asset.Archive;
  /** Prefix of every name. Default `flz-automation`. */
  readonly namePrefix?: string;
  /** Days the functions' logs are kept. Default 365. */
  readonly logRetentionDays?: number;
}

/**
 * Bundles the handlers (the CLI's modules under scripts/) into one file with esbuild: one implementation, two front
 * ends. The AWS SDK is bundled too, so the functions run the SDK versions the CLI was tested with.
 */
export function bundleAutomationCode(outDir: string): pulumi.asset.Archive {
  // Loaded here only: esbuild is needed to deploy the automation, not to build or run anything else.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require("esbuild") as typeof import("esbuild");
  const outfile = path.join(outDir, "lambda.js");
  esbuild.buildSync({
    entryPoints: [path.join(__dirname, "..", "scripts", "automation", "lambda.ts")],
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    outfile,
    logLevel: "error",
  });
  return new pulumi.asset.AssetArchive({ "lambda.js": new pulumi.asset.FileAsset(outfile) });
}

/** The response automation: buses and rules, dispatcher, state machine, functions, kill switch, rate table, topic. */
export class ResponseAutomation extends pulumi.ComponentResource {
  /** ARN of the response state machine. */
  public readonly stateMachineArn: pulumi.Output<string>;
  /** ARN of the response bus (explicit requests go here). */
  public readonly busArn: pulumi.Output<string>;
  /** Name of the kill-switch parameter. */
  public readonly killSwitchParameterName: pulumi.Output<string>;
  /** ARN of the notification topic (approval requests, outcomes): subscribe the approvers. */
  public readonly topicArn: pulumi.Output<string>;
  /** ARNs of the functions' roles that act as the forensic responder (trusted by it). */
  public readonly actingRoleArns: pulumi.Output<string[]>;

  constructor(name: string, args: ResponseAutomationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flz:automation:ResponseAutomation", name, {}, opts);
    const prefix = args.namePrefix ?? "flz-automation";
    const guardrails = resolveGuardrails(args.guardrails);
    const home = { parent: this, provider: args.provider };
    const region = args.homeRegion;
    const account = pulumi.output(args.forensicAccountId);

    const killSwitch = new aws.ssm.Parameter(
      `${name}-kill-switch`,
      {
        name: guardrails.killSwitchParameterName,
        type: "String",
        value: args.initialKillSwitch ?? KILL_SWITCH_RELEASED,
        description: `flz response automation acts only while this is "${KILL_SWITCH_RELEASED}"; any other value (or deleting it) halts it at the next finding`,
      },
      // Operators flip it in an emergency; the next `pulumi up` must not flip it back.
      { ...home, ignoreChanges: ["value"] },
    );
    const rateTable = new aws.dynamodb.Table(
      `${name}-rate`,
      {
        name: `${prefix}-rate`,
        billingMode: "PAY_PER_REQUEST",
        hashKey: "window",
        attributes: [{ name: "window", type: "S" }],
        serverSideEncryption: { enabled: true },
        pointInTimeRecovery: { enabled: true },
      },
      home,
    );
    const topic = new aws.sns.Topic(
      `${name}-topic`,
      { name: `${prefix}-notify`, kmsMasterKeyId: "alias/aws/sns" },
      home,
    );

    // Every ARN a document names is built from the account and a name (as in the rest of the landing zone): the
    // documents are then known at a first preview, and the policy pack checks them before anything exists.
    const arnOf = (service: string, resource: string) =>
      account.apply((id) => `arn:aws:${service}:${region}:${id}:${resource}`);
    const stateMachineName = `${prefix}-response`;
    const stateMachineArn = arnOf("states", `stateMachine:${stateMachineName}`);
    const functionArn = (fn: AutomationFunction) => arnOf("lambda", `function:${prefix}-${fn}`);
    const code = args.code ?? bundleAutomationCode(mkdtempSync(path.join(tmpdir(), "flz-automation-")));
    const functions = {} as Record<AutomationFunction, aws.lambda.Function>;
    const roles = {} as Record<AutomationFunction, aws.iam.Role>;
    for (const fn of AUTOMATION_FUNCTIONS) {
      const functionName = `${prefix}-${fn}`;
      const logGroup = new aws.cloudwatch.LogGroup(
        `${name}-${fn}-logs`,
        { name: `/aws/lambda/${functionName}`, retentionInDays: args.logRetentionDays ?? 365 },
        home,
      );
      const role = new aws.iam.Role(
        `${name}-${fn}-role`,
        {
          name: functionName,
          description: `flz response automation: the ${fn} function`,
          assumeRolePolicy: account.apply((id) => JSON.stringify(serviceRoleTrust("lambda.amazonaws.com", id))),
          maxSessionDuration: 3600,
        },
        home,
      );
      new aws.iam.RolePolicy(
        `${name}-${fn}-policy`,
        {
          role: role.name,
          name: functionName,
          policy: pulumi
            .all([account, args.forensicResponderRoleArn, stateMachineArn])
            .apply(([id, responder, machine]) =>
              JSON.stringify(
                automationFunctionPermissions({
                  fn,
                  logGroupArn: `arn:aws:logs:${region}:${id}:log-group:/aws/lambda/${functionName}`,
                  forensicResponderRoleArn: responder,
                  stateMachineArn: machine,
                }),
              ),
            ),
        },
        home,
      );
      roles[fn] = role;
      functions[fn] = new aws.lambda.Function(
        `${name}-${fn}`,
        {
          name: functionName,
          runtime: "nodejs22.x",
          handler: `lambda.${fn}`,
          code,
          role: role.arn,
          timeout: FUNCTION_TIMEOUT_SECONDS[fn],
          memorySize: 512,
          environment: {
            variables: {
              FLZ_LANDING_ZONE_JSON: args.landingZoneJson,
              ...(fn === "dispatch" ? { FLZ_STATE_MACHINE_ARN: stateMachineArn } : {}),
            },
          },
        },
        { ...home, dependsOn: [logGroup] },
      );
    }

    const machineRole = new aws.iam.Role(
      `${name}-state-machine-role`,
      {
        name: `${prefix}-state-machine`,
        assumeRolePolicy: account.apply((id) => JSON.stringify(serviceRoleTrust("states.amazonaws.com", id))),
      },
      home,
    );
    const acting = AUTOMATION_FUNCTIONS.filter((fn) => fn !== "dispatch");
    const machinePolicy = new aws.iam.RolePolicy(
      `${name}-state-machine-policy`,
      {
        role: machineRole.name,
        name: `${prefix}-state-machine`,
        policy: pulumi
          .all([
            pulumi.all(acting.map(functionArn)),
            arnOf("ssm", `parameter${guardrails.killSwitchParameterName}`),
            arnOf("dynamodb", `table/${prefix}-rate`),
            arnOf("sns", `${prefix}-notify`),
            stateMachineArn,
            args.evidenceBucket,
          ])
          .apply(([functionArns, killSwitchParameterArn, rateTableArn, topicArn, machineArn, evidenceBucket]) =>
            JSON.stringify(
              stateMachinePermissions({
                functionArns,
                killSwitchParameterArn,
                rateTableArn,
                topicArn,
                stateMachineArn: machineArn,
                evidenceBucket,
              }),
            ),
          ),
      },
      home,
    );
    const machine = new aws.sfn.StateMachine(
      `${name}-state-machine`,
      {
        name: stateMachineName,
        type: "STANDARD",
        roleArn: machineRole.arn,
        definition: pulumi
          .all([pulumi.all(acting.map(functionArn)), arnOf("sns", `${prefix}-notify`), args.evidenceBucket])
          .apply(([[intake, record, contain, capture, hash, verify], topicArn, evidenceBucket]) =>
            JSON.stringify(
              responseDefinition({
                guardrails,
                functions: { intake, record, contain, capture, hash, verify },
                evidenceBucket,
                rateTableName: `${prefix}-rate`,
                topicArn,
              }),
            ),
          ),
      },
      { ...home, dependsOn: [machinePolicy, killSwitch, rateTable, topic, ...acting.map((fn) => functions[fn])] },
    );

    // The response bus: the organisation may put events (forwarders, explicit requests); one rule starts the dispatcher.
    const bus = new aws.cloudwatch.EventBus(`${name}-bus`, { name: `${prefix}-response` }, home);
    const busArn = arnOf("events", `event-bus/${prefix}-response`);
    new aws.cloudwatch.EventBusPolicy(
      `${name}-bus-policy`,
      {
        eventBusName: bus.name,
        policy: pulumi
          .all([busArn, args.organizationId])
          .apply(([arn, organizationId]) => JSON.stringify(responseBusPolicy({ busArn: arn, organizationId }))),
      },
      home,
    );
    const action =
      (args.securityHubAction ?? true)
        ? new aws.securityhub.ActionTarget(
            `${name}-action`,
            {
              name: "FLZ: contain and capture",
              identifier: SECURITY_HUB_ACTION_ID,
              description: "Start the flz response automation for the selected finding (guardrails apply)",
            },
            home,
          )
        : undefined;
    const actionArn: pulumi.Output<string | undefined> = action
      ? arnOf("securityhub", `action/custom/${SECURITY_HUB_ACTION_ID}`)
      : pulumi.output(undefined);
    const dispatchRule = new aws.cloudwatch.EventRule(
      `${name}-dispatch-rule`,
      {
        name: `${prefix}-dispatch`,
        eventBusName: bus.name,
        eventPattern: actionArn.apply((arn) => JSON.stringify(responseBusPattern(arn))),
      },
      home,
    );
    new aws.lambda.Permission(
      `${name}-dispatch-permission`,
      {
        function: functions.dispatch.name,
        action: "lambda:InvokeFunction",
        principal: "events.amazonaws.com",
        sourceArn: dispatchRule.arn,
      },
      home,
    );
    new aws.cloudwatch.EventTarget(
      `${name}-dispatch-target`,
      { rule: dispatchRule.name, eventBusName: bus.name, arn: functions.dispatch.arn },
      home,
    );

    // Forwarders: every governed region's default bus → the response bus (cross-region targets need a role).
    const forwarderRole = new aws.iam.Role(
      `${name}-forwarder-role`,
      {
        name: `${prefix}-forwarder`,
        assumeRolePolicy: account.apply((id) => JSON.stringify(serviceRoleTrust("events.amazonaws.com", id))),
      },
      home,
    );
    new aws.iam.RolePolicy(
      `${name}-forwarder-policy`,
      {
        role: forwarderRole.name,
        name: `${prefix}-forwarder`,
        policy: busArn.apply((arn) => JSON.stringify(eventForwarderPermissions(arn))),
      },
      home,
    );
    const regions: Record<string, aws.Provider> = { [region]: args.provider, ...(args.regionProviders ?? {}) };
    for (const [forwardRegion, provider] of Object.entries(regions)) {
      const placed = { parent: this, provider };
      const kinds = [guardDutyResponsePattern(guardrails.minimumSeverity)];
      const rule = new aws.cloudwatch.EventRule(
        `${name}-forward-${forwardRegion}`,
        {
          name: `${prefix}-forward`,
          // The custom action exists in the home region only (Security Hub's aggregation region).
          eventPattern: (forwardRegion === region ? actionArn : pulumi.output(undefined)).apply((arn) =>
            JSON.stringify(arn ? { $or: [...kinds, securityHubActionPattern(arn)] } : kinds[0]),
          ),
        },
        placed,
      );
      new aws.cloudwatch.EventTarget(
        `${name}-forward-${forwardRegion}-target`,
        { rule: rule.name, arn: busArn, roleArn: forwarderRole.arn },
        { ...placed, dependsOn: [bus] },
      );
    }

    this.stateMachineArn = pulumi.all([machine.id, stateMachineArn]).apply(([, arn]) => arn);
    this.busArn = busArn;
    this.killSwitchParameterName = killSwitch.name;
    this.topicArn = topic.arn;
    // Built from the account and the roles' names (known at a first preview), through the roles' `name` outputs so
    // that whatever trusts them (the responder) is written after they exist: IAM refuses unknown principals.
    this.actingRoleArns = pulumi
      .all([account, ...acting.map((fn) => roles[fn].name)])
      .apply(([id, ...roleNames]) => roleNames.map((n) => roleArn(id, n)));
    this.registerOutputs({
      stateMachineArn: this.stateMachineArn,
      busArn: this.busArn,
      killSwitchParameterName: this.killSwitchParameterName,
      topicArn: this.topicArn,
    });
  }
}

/** The names of the acting functions' roles (trusted by the forensic responder), from the forensic account's ID. */
export function automationActingRoleArns(forensicAccountId: string, prefix = "flz-automation"): string[] {
  return AUTOMATION_FUNCTIONS.filter((fn) => fn !== "dispatch").map((fn) =>
    roleArn(forensicAccountId, `${prefix}-${fn}`),
  );
}
