/**
 * How every rule is declared: {@link resourceRule} and {@link stackRule} add the pack-wide `previewUnknowns` setting
 * to the rule's config schema and apply it.
 *
 * At a first `pulumi preview` some values cannot be known (a document built from a new resource's ARN). A rule that
 * needs one reads it, the policy SDK's proxy throws `UnknownValueError`, and the engine reports an ADVISORY "can't run
 * policy ... during preview": the preview passes and the check runs at `pulumi up` ("defer", the default). A CI that
 * only ever runs `pulumi preview` never reaches that check, so `previewUnknowns: "fail"` turns the same situation into
 * a violation at the rule's own level (mandatory by default): the preview fails closed, at the price of failing the
 * first preview of compliant programs whose documents name resources not yet created (docs/policies.md).
 */
import type { ReportViolation, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import type { ResourceRule, RuleConfigSchema, StackRule } from "./types";

/** The setting's key in each rule's config. */
export const PREVIEW_UNKNOWNS_KEY = "previewUnknowns";

/** What a rule does with a value it needs that is unknown during the preview. */
export type PreviewUnknowns = "defer" | "fail";

// The policy SDK's own error class (its published typings are empty), so `instanceof` matches what its proxy throws.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { UnknownValueError } = require("@pulumi/policy/proxy") as { UnknownValueError: new () => Error };

function withPreviewSetting(schema: RuleConfigSchema): RuleConfigSchema {
  return {
    properties: {
      ...schema.properties,
      [PREVIEW_UNKNOWNS_KEY]: {
        type: "string",
        enum: ["defer", "fail"],
        default: "defer",
        description:
          'What to do when the rule needs a value unknown during the preview: "defer" (the engine reports "can\'t run during preview" as advisory and the rule runs at pulumi up) or "fail" (a violation at the rule\'s level: for CI that only runs preview).',
      },
    },
  };
}

function failsClosed(args: { getConfig<T extends object>(): T }): boolean {
  return args.getConfig<Record<string, unknown>>()?.[PREVIEW_UNKNOWNS_KEY] === "fail";
}

/** Runs `validate`; in "fail" mode an unknown value it needed becomes a violation instead of the engine's advisory. */
async function guarded<A extends { getConfig<T extends object>(): T }>(
  args: A,
  report: ReportViolation,
  validate: (args: A, report: ReportViolation) => void | Promise<void>,
): Promise<void> {
  try {
    await validate(args, report);
  } catch (error) {
    if (!(error instanceof UnknownValueError) || !failsClosed(args)) throw error;
    report(
      `cannot verify during preview: ${error.message}; failing closed (previewUnknowns: "fail"). Run pulumi up, or build the value from known configuration.`,
    );
  }
}

/** Declares a resource rule (see the module comment). */
export function resourceRule(rule: ResourceRule): ResourceRule {
  const validate = rule.validateResource;
  if (Array.isArray(validate)) throw new Error(`${rule.name}: declare one validateResource function`);
  return {
    ...rule,
    configSchema: withPreviewSetting(rule.configSchema),
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => guarded(args, report, validate),
  };
}

/** Declares a stack rule (see the module comment). */
export function stackRule(rule: StackRule): StackRule {
  const validate = rule.validateStack;
  return {
    ...rule,
    configSchema: withPreviewSetting(rule.configSchema),
    validateStack: (args: StackValidationArgs, report: ReportViolation) => guarded(args, report, validate),
  };
}
