/**
 * Stack defaults the oracle's world needs, restated here because the CLI never imports Pulumi (and so never imports
 * `components/forensicLandingZone.ts`, where they live). The world test (`test/support/oracle/world.test.ts`) runs
 * the stack and fails if either differs from what it deploys.
 */

/** `forensicAccountAdminRoleName`'s default: the role the deployment acts as in governed accounts. */
export const DEPLOYMENT_ROLE_DEFAULT = "OrganizationAccountAccessRole";

/** `ATHENA_RESULTS_PREFIX` of `components/forensicLandingZone.ts`. */
export const ATHENA_RESULTS_PREFIX_DEFAULT = "athena-results/";
