/**
 * The lifetime of a responder command's AWS clients and case ledger, shared by every command that acts for a case:
 * one factory per run, always destroyed (its clients hold sockets open, which would keep the process alive), the case
 * checked by the gate ({@link checkCase}) before anything else happens, and the case's ledger opened through the
 * factory. `scripts/commands/case.ts` re-exports these for the commands.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { type ClientFactory, responderFactory } from "../aws/clients";
import type { LandingZone } from "../contract";
import { type EvidenceBucketLedger, openLedger } from "../custody/ledger";
import { isValidCaseId } from "../custody/record";
import { UsageError } from "../errors";
import { checkCase, type CaseAccess } from "./gate";
import type { CaseStore } from "./registry";

/** Options of {@link withResponderFactory} and {@link withCaseLedger}. */
export interface CaseUse {
  /** What the command will do with the case. Default `act`: record 0 must be `case.opened` (fail closed). */
  readonly access?: CaseAccess;
  /**
   * A factory the caller owns, used instead of a new {@link responderFactory} and not destroyed here: the response
   * automation's functions run the commands' code through their own, narrower sessions (session policies).
   */
  readonly factory?: ClientFactory;
}

/** The evidence bucket of a landing zone, read through a factory. */
export function caseStore(factory: ClientFactory, lz: LandingZone): CaseStore {
  return { s3: factory.client(S3Client, { region: lz.homeRegion }), bucket: lz.evidenceBucket };
}

/** Refuses a malformed case ID before any AWS call (exit 2). */
export function requireCaseIdFormat(caseId: string): string {
  if (!isValidCaseId(caseId))
    throw new UsageError(
      `case ID ${JSON.stringify(caseId)} is not usable: 1-128 letters, digits and . _ + = @ -, starting with a letter or digit (for example IR-2026-0042)`,
    );
  return caseId;
}

/**
 * Runs `fn` with a {@link responderFactory} for the landing zone and case, and destroys the factory afterwards. With
 * a case, the gate runs first: an unknown case is refused (exit 2) naming the closest existing cases.
 *
 * @param lz the landing zone (required when a case is given).
 * @param caseId the case, or undefined for commands that act for no case.
 * @param fn the command's work.
 * @param use what the command will do with the case.
 */
export async function withResponderFactory<T>(
  lz: LandingZone | undefined,
  caseId: string | undefined,
  fn: (factory: ClientFactory) => Promise<T>,
  use: CaseUse = {},
): Promise<T> {
  if (caseId !== undefined) {
    requireCaseIdFormat(caseId);
    if (!lz)
      throw new UsageError(
        `case ${caseId} needs the landing zone: pass --landing-zone <file> (the JSON of pulumi stack output --json) or set FLZ_LANDING_ZONE`,
      );
  }
  const factory = use.factory ?? responderFactory(lz, caseId);
  try {
    if (caseId !== undefined && lz) await checkCase(caseStore(factory, lz), caseId, use.access ?? "act");
    return await fn(factory);
  } finally {
    if (!use.factory) factory.destroy();
  }
}

/**
 * Runs `fn` with the case's custody ledger and the factory it was opened through, after the gate; a bad case ID
 * fails (exit 2) before any AWS call, and the factory is destroyed whatever happens.
 *
 * @param lz the landing zone.
 * @param caseId the case.
 * @param fn the command's work.
 * @param use what the command will do with the case.
 */
export async function withCaseLedger<T>(
  lz: LandingZone,
  caseId: string,
  fn: (ledger: EvidenceBucketLedger, factory: ClientFactory) => Promise<T>,
  use: CaseUse = {},
): Promise<T> {
  return withResponderFactory(
    lz,
    caseId,
    async (factory) => fn(await openLedger({ factory, landingZone: lz, caseId }), factory),
    use,
  );
}
