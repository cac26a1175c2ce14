/**
 * Pure builders of every policy document and template of the forensic landing zone (no Pulumi inside): components
 * call them inside `apply`, the policy pack and the CLI import them, and the tests evaluate the very same output.
 */
export * from "./types";
export * from "./validate";
export * from "./bucket";
export * from "./kms";
export * from "./keys";
export * from "./trust";
export * from "./permissions";
export * from "./permissions-keys";
export * from "./permissions-member";
export * from "./revoke";
export * from "./quarantine";
export * from "./quarantine-delegation";
export * from "./stackset";
export * from "./scp";
export * from "./scp-alarms";
export * from "./scp-automation";
export * from "./regions";
export * from "./network";
export * from "./alarms";
export * from "./trail";
export * from "./assess";
export * from "./rcp";
export * from "./ssm-memory";
