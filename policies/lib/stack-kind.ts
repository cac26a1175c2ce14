/**
 * Which stacks own account-wide settings. EBS encryption by default (and any setting like it, one per account and
 * region) belongs to whoever runs the account's baseline: demanding it of every program fails a static website or a
 * queue worker that has no business changing account defaults. A stack declares that it is an account baseline or a
 * landing zone explicitly, by either marker:
 *
 * - the stack tag `flz:stack-kind` set to `account-baseline` or `landing-zone`
 *   (`pulumi stack tag set flz:stack-kind account-baseline`; `npm run plan -- --stack-tag flz:stack-kind=...`);
 * - a component of a type listed in `landingZoneComponentTypes` (default: this project's `ForensicLandingZone`) or
 *   `accountBaselineComponentTypes` (default: none; list your own baseline component).
 *
 * A landing zone is an account baseline too (it owns the defaults of the accounts it deploys into).
 */
import type { PolicyResource } from "@pulumi/policy";

/** The stack tag that declares a stack's kind. */
export const STACK_KIND_TAG = "flz:stack-kind";

/** Values of {@link STACK_KIND_TAG}. */
export const STACK_KIND = { accountBaseline: "account-baseline", landingZone: "landing-zone" } as const;

/** Config schema entries shared by rules that depend on the stack's kind. */
export const STACK_KIND_SCHEMA = {
  landingZoneComponentTypes: {
    type: "array" as const,
    items: { type: "string" as const },
    default: ["flz:landingzone:ForensicLandingZone"],
    description: `Component types whose presence declares the stack a landing zone (as the stack tag ${STACK_KIND_TAG}=${STACK_KIND.landingZone} does).`,
  },
  accountBaselineComponentTypes: {
    type: "array" as const,
    items: { type: "string" as const },
    default: [] as string[],
    description: `Component types whose presence declares the stack an account baseline (as the stack tag ${STACK_KIND_TAG}=${STACK_KIND.accountBaseline} does).`,
  },
};

/** The settings of {@link STACK_KIND_SCHEMA}. */
export interface StackKindConfig {
  landingZoneComponentTypes: string[];
  accountBaselineComponentTypes: string[];
}

/** What a stack declares itself to be. */
export interface StackKind {
  /** A forensic landing zone (the stack tag, or a landing-zone component). */
  readonly landingZone: boolean;
  /** An account baseline (the stack tag, a baseline component, or a landing zone). */
  readonly accountBaseline: boolean;
}

/** The stack's declared kind, from its stack tags and component types. */
export function stackKindOf(
  args: { stackTags: ReadonlyMap<string, string>; resources: readonly PolicyResource[] },
  config: StackKindConfig,
): StackKind {
  const tag = args.stackTags.get(STACK_KIND_TAG)?.toLowerCase();
  const has = (types: readonly string[]) => args.resources.some((r) => types.includes(r.type));
  const landingZone = tag === STACK_KIND.landingZone || has(config.landingZoneComponentTypes);
  const accountBaseline =
    landingZone || tag === STACK_KIND.accountBaseline || has(config.accountBaselineComponentTypes);
  return { landingZone, accountBaseline };
}
