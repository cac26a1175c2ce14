/**
 * The oracle's world for the emulator's organisation (`scripts/emulator/seed.ts`): the names the seed uses, and the
 * stack's own defaults for everything the seed does not name (role names, trail name, the Athena results prefix, the
 * deployment role). `seed-org.ts` attaches these same documents to the emulator.
 */
import { ATHENA_RESULTS_PREFIX_DEFAULT, DEPLOYMENT_ROLE_DEFAULT } from "./defaults";
import { SEED_ACCOUNTS, SEED_ORGANIZATION, SEED_ROLE_NAMES, seedBucketNames } from "../emulator/seed";
import { buildWorld, type OracleWorld, type WorldArgs } from "./world";

/** Role of the incident-response team in the management account: the operator's principal in the emulator. */
export const EMULATOR_OPERATOR_ARN = `arn:aws:iam::${SEED_ACCOUNTS.management}:role/IncidentResponseTeam`;

/** The world of the seeded organisation (default seed options: `flz` prefix, us-east-1 and eu-west-1). */
export function emulatorWorld(regions: readonly string[] = ["us-east-1", "eu-west-1"], prefix = "flz"): OracleWorld {
  return buildWorld(emulatorWorldArgs(regions, prefix));
}

/** The names {@link emulatorWorld} builds from. */
export function emulatorWorldArgs(regions: readonly string[] = ["us-east-1", "eu-west-1"], prefix = "flz"): WorldArgs {
  const homeRegion = regions[0];
  const buckets = seedBucketNames(prefix, homeRegion);
  return {
    organizationId: SEED_ORGANIZATION.id,
    rootId: SEED_ORGANIZATION.rootId,
    managementAccountId: SEED_ACCOUNTS.management,
    forensicAccountId: SEED_ACCOUNTS.forensic,
    memberAccountIds: [...SEED_ACCOUNTS.members],
    homeRegion,
    regions,
    roleNames: SEED_ROLE_NAMES,
    evidenceBucket: buckets.evidence,
    trailBucket: buckets.trail,
    trailArn: `arn:aws:cloudtrail:${homeRegion}:${SEED_ACCOUNTS.management}:trail/flz-organization-trail`,
    operatorArn: EMULATOR_OPERATOR_ARN,
    deploymentRoleName: DEPLOYMENT_ROLE_DEFAULT,
    athenaResultsPrefix: ATHENA_RESULTS_PREFIX_DEFAULT,
    // The offline runs of the response automation (tests, `flz drill --scenario automated`) act as its functions.
    automation: true,
  };
}
