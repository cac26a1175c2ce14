/**
 * What the `flz custody` subcommands share (scripts/commands/custody.ts, custody-export.ts): their flags, the case
 * check, and the case's ledger opened for reading.
 */
import type { ClientFactory } from "../aws/clients";
import { loadLandingZone, type LandingZone } from "../contract";
import type { EvidenceBucketLedger } from "../custody/ledger";
import { isValidCaseId } from "../custody/record";
import { UsageError } from "../errors";
import { withCaseLedger } from "./case";

/** Flags shared by the custody subcommands. */
export interface CustodyFlags {
  /** Case ID. */
  case?: string;
  /** Landing-zone contract file. */
  landingZone?: string;
  /** Print JSON. */
  json?: boolean;
  /** verify: PEM public key to verify with (obtained from KMS by the examiner). */
  publicKey?: string;
  /** verify: exported folder to verify offline. */
  from?: string;
  /** verify: CloudTrail events (files or folders) witnessing the bucket's writes. */
  witness?: string[];
  /** verify: head hashes pinned earlier. */
  expectHead?: string[];
  /** export: output folder. */
  out?: string;
  /** complete: say what would be copied, copy nothing. */
  dryRun?: boolean;
}

/**
 * The case ID of `--case`, or a {@link UsageError} naming what is wrong with it.
 *
 * @param flags the subcommand's flags.
 */
export function requireCase(flags: CustodyFlags): string {
  if (!flags.case) throw new UsageError("--case <id> is required, e.g. --case IR-2026-042");
  if (!isValidCaseId(flags.case))
    throw new UsageError(
      `--case ${JSON.stringify(flags.case)} is not a case ID: letters, digits and . _ + = @ -, up to 128`,
    );
  return flags.case;
}

/**
 * Runs `fn` with the case's ledger opened for reading, whatever its record 0 says (an examiner must be told a damaged
 * chain is BROKEN).
 *
 * @param flags the subcommand's flags (`--landing-zone`).
 * @param caseId the case.
 * @param fn what to do with the ledger, the landing zone and the client factory.
 * @param given a client factory to use instead of the command's own (tests, the automation).
 */
export async function withLedger<T>(
  flags: CustodyFlags,
  caseId: string,
  fn: (ledger: EvidenceBucketLedger, lz: LandingZone, factory: ClientFactory) => Promise<T>,
  given?: ClientFactory,
): Promise<T> {
  const lz = loadLandingZone(flags.landingZone);
  return withCaseLedger(lz, caseId, (ledger, factory) => fn(ledger, lz, factory), { access: "read", factory: given });
}
