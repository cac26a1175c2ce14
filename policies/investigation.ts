/**
 * Investigation and alerting rules. Athena query results over the trail are evidence of what investigators looked at
 * and may contain the logs themselves: the workgroup must impose its own result location and encryption, so a client
 * cannot write results unencrypted or elsewhere. Alarm topics carry incident details: they are encrypted at rest.
 */
import { resourceRule } from "./lib/rule";
import { TYPES, validateTypes } from "./lib/resources";
import { DEFAULT_ENFORCEMENT, type ResourceRule } from "./lib/types";
import { read, readPath, UNKNOWN } from "./lib/unknowns";
import { asBoolean, asRecord, asString } from "./lib/values";

/** Why an Athena workgroup configuration lets clients escape it or leaves results unencrypted, or undefined. */
export function workgroupProblem(configuration: unknown): string | undefined {
  const config = asRecord(configuration);
  if (asBoolean(config?.enforceWorkgroupConfiguration) === false)
    return "enforceWorkgroupConfiguration is false: clients can override the result location and encryption; set it to true.";
  const result = asRecord(config?.resultConfiguration);
  const encryption = asString(asRecord(result?.encryptionConfiguration)?.encryptionOption);
  if (encryption === undefined)
    return "query results are not encrypted: set resultConfiguration.encryptionConfiguration { encryptionOption: SSE_KMS, kmsKeyArn }.";
  if (encryption === "SSE_S3")
    return "query results use SSE_S3: use SSE_KMS (or CSE_KMS) with a customer-managed key, so access to results follows the key policy.";
  const keyArn = readPath(result, "encryptionConfiguration", "kmsKeyArn");
  // Unknown during a preview: the key is a resource of this program, so a key is named.
  if (keyArn !== UNKNOWN && !asString(keyArn))
    return `query results use ${encryption} without kmsKeyArn: name a customer-managed key.`;
  return undefined;
}

/** Athena workgroups enforce their configuration and encrypt results with a customer key. */
export const athenaWorkgroupEnforcedEncrypted: ResourceRule = resourceRule({
  name: "athena-workgroup-enforced-encrypted",
  description:
    "Checks whether Athena workgroups enforce their configuration and encrypt query results with SSE-KMS or CSE-KMS under a named key.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "medium",
  remediationSteps:
    'Set configuration.enforceWorkgroupConfiguration: true and resultConfiguration.encryptionConfiguration { encryptionOption: "SSE_KMS", kmsKeyArn: <customer key> }.',
  configSchema: { properties: {} },
  validateResource: validateTypes(TYPES.workgroup, (props, _args, report) => {
    const problem = workgroupProblem(props.configuration);
    if (problem) report(problem);
  }),
});

/** SNS topics are encrypted with a KMS key. */
export const snsTopicEncrypted: ResourceRule = resourceRule({
  name: "sns-topic-encrypted",
  description: "Checks whether SNS topics encrypt messages at rest with a KMS key.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  severity: "medium",
  remediationSteps:
    "Set kmsMasterKeyId to a customer-managed key whose policy lets the publishing service (e.g. events.amazonaws.com) use it; alias/aws/sns cannot be used by EventBridge.",
  configSchema: { properties: {} },
  validateResource: validateTypes(TYPES.topic, (props, _args, report) => {
    const raw = read(props, "kmsMasterKeyId");
    if (raw === UNKNOWN) return; // a key this program creates: set, and checked again before the topic is created
    const key = asString(raw);
    if (!key || key.trim() === "")
      report("kmsMasterKeyId is not set: the topic stores messages unencrypted; set a KMS key.");
  }),
});

/** Every investigation and alerting rule. */
export const investigationRules: ResourceRule[] = [athenaWorkgroupEnforcedEncrypted, snsTopicEncrypted];
