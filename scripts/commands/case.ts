/**
 * The lifetime of a responder command's AWS clients and case ledger, shared by the commands that act for a case: one
 * factory per run, always destroyed (its clients hold sockets open, which would keep the process alive), and the
 * case's ledger opened through it. Not a command itself: cli.ts registers nothing from here.
 */
import { type ClientFactory, responderFactory } from "../aws/clients";
import type { LandingZone } from "../contract";
import { type EvidenceBucketLedger, openLedger } from "../custody/ledger";

/** Runs `fn` with a {@link responderFactory} for the landing zone and case, and destroys the factory afterwards. */
export async function withResponderFactory<T>(
  lz: LandingZone | undefined,
  caseId: string | undefined,
  fn: (factory: ClientFactory) => Promise<T>,
): Promise<T> {
  const factory = responderFactory(lz, caseId);
  try {
    return await fn(factory);
  } finally {
    factory.destroy();
  }
}

/**
 * Runs `fn` with the case's custody ledger and the factory it was opened through; a bad case ID fails (exit 2) before
 * any AWS call, and the factory is destroyed whatever happens.
 */
export async function withCaseLedger<T>(
  lz: LandingZone,
  caseId: string,
  fn: (ledger: EvidenceBucketLedger, factory: ClientFactory) => Promise<T>,
): Promise<T> {
  return withResponderFactory(lz, caseId, async (factory) =>
    fn(await openLedger({ factory, landingZone: lz, caseId }), factory),
  );
}
