/**
 * The response automation keys of the stack configuration (issue 15): `automation` (the switch, default false) and
 * `automationSettings` (the guardrails, a YAML map), validated with the same function the component applies, so a bad
 * value stops the program with one line naming the key, the value and what is valid.
 */
import { resolveGuardrails, type AutomationGuardrailSettings } from "../components/documents/automation";
import { DocumentInputError } from "../components/documents/validate";
import type { AutomationSettings } from "../components/landingZoneArgs";
import { StackConfigError, shown, type ConfigKey } from "./config";

const SETTINGS: ReadonlyArray<keyof AutomationSettings> = [
  "modes",
  "defaultMode",
  "approvalTimeoutSeconds",
  "excludedAccountIds",
  "maxContainmentsPerHour",
  "minimumSeverity",
  "killSwitchParameterName",
  "lockDays",
  "optOutTagManagerRoleArns",
];

/** The automation settings, or undefined when neither key is set. */
export function automationSettings(
  keys: Map<string, string>,
  optionalBool: (key: ConfigKey) => boolean | undefined,
): AutomationSettings | undefined {
  const enabled = optionalBool("automation");
  const raw = keys.get("automationSettings");
  if (raw === undefined) return enabled === undefined ? undefined : { enabled };
  if (enabled !== true)
    throw new StackConfigError(
      "automationSettings",
      "is set but automation is not true; set automation: true or remove it",
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new StackConfigError(
      "automationSettings",
      `${shown(raw)} is not valid; valid: a map of ${SETTINGS.join(", ")}`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new StackConfigError(
      "automationSettings",
      `${shown(raw)} is not a map; valid: a map of ${SETTINGS.join(", ")}`,
    );
  const unknown = Object.keys(parsed).filter((k) => !(SETTINGS as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw new StackConfigError(
      "automationSettings",
      `unknown setting ${unknown.join(", ")}; valid: ${SETTINGS.join(", ")}`,
    );
  const { optOutTagManagerRoleArns: managers, ...settings } = parsed as AutomationGuardrailSettings & {
    optOutTagManagerRoleArns?: unknown;
  };
  if (
    managers !== undefined &&
    (!Array.isArray(managers) ||
      managers.some((m) => typeof m !== "string" || !/^arn:aws[a-z-]*:iam::(\d{12}|\*):role\/.+$/.test(m)))
  )
    throw new StackConfigError(
      "automationSettings",
      `optOutTagManagerRoleArns: ${shown(JSON.stringify(managers))} is not valid; valid: a list of role ARNs such as arn:aws:iam::*:role/PlatformOwner`,
    );
  try {
    resolveGuardrails(settings);
  } catch (err) {
    if (err instanceof DocumentInputError) throw new StackConfigError("automationSettings", err.message);
    throw err;
  }
  return {
    enabled,
    ...settings,
    ...(managers === undefined ? {} : { optOutTagManagerRoleArns: managers as string[] }),
  };
}
