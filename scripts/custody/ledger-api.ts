/**
 * The custody ledger's public surface (ledger.ts implements it): how a ledger is opened, what it offers beyond the
 * {@link CustodyLedger} contract, and the region of the custody key. Apart so the implementation stays readable.
 */
import type { ClientFactory } from "../aws/clients";
import type { Sleep } from "../aws/backoff";
import type { LandingZone } from "../contract";
import { UsageError } from "../errors";
import type { StoredRecord } from "./chain";
import type { CaseInventory } from "./inventory";
import type { CustodyLedger } from "./types";

/** Options of {@link openLedger}. */
export interface OpenLedgerOptions {
  /** Client factory acting in the forensic account (pass `forensicRoleArn: lz.forensicResponderRoleArn`). */
  readonly factory: ClientFactory;
  /** The landing-zone contract: evidence bucket, home region, custody signing key. */
  readonly landingZone: LandingZone;
  /** Case ID; see `CASE_ID_PATTERN` in record.ts. */
  readonly caseId: string;
  /** Clock, for tests. Default: the system clock. */
  readonly now?: () => Date;
  /**
   * Claim attempts in a row that make no progress (no claim after the head could be followed) before an append gives
   * up. Default 40. Conflicts in which other writers' batches are followed never count: an append keeps going for as
   * long as the case's chain keeps growing.
   */
  readonly maxStalledAttempts?: number;
  /** Most records written in one batch (group commit). Default 256 (a journal of a few hundred KiB). */
  readonly maxBatch?: number;
  /** Most KMS Sign requests, and most S3 writes, in flight at once. Default 32. */
  readonly parallelRequests?: number;
  /** Days of COMPLIANCE retention asked for. Default: the bucket's COMPLIANCE default, at least 365 (retention.ts). */
  readonly retentionDays?: number;
  /** First backoff after a lost claim, ms (doubling per conflict in a row, full jitter). Default 10. */
  readonly backoffBaseMs?: number;
  /** Longest backoff after a lost claim, ms. Default 400. */
  readonly backoffMaxMs?: number;
  /** Randomness for the jitter, for tests. */
  readonly random?: () => number;
  /** Sleep, for tests. */
  readonly sleep?: Sleep;
  /** Attempts per object read (truncated bodies, resets). Default 6. */
  readonly readAttempts?: number;
}

/** What {@link EvidenceBucketLedger.complete} found and did. */
export interface Completion {
  /** Journals that held records not yet written under their own keys. */
  readonly journals: string[];
  /** Sequences copied from those journals (or that would be, in a dry run). */
  readonly sequences: number[];
  /** The last claimed record afterwards, if any. */
  readonly head?: { readonly sequence: number; readonly hash: string };
}

/** The S3-backed ledger: the {@link CustodyLedger} contract plus what `flz custody` needs to verify and export. */
export interface EvidenceBucketLedger extends CustodyLedger {
  /** The evidence bucket holding the case. */
  readonly bucket: string;
  /** The case's stored copy of the custody public key (PEM), or undefined when none. Never a trust anchor. */
  storedPublicKey(): Promise<string | undefined>;
  /** The custody key's public key as KMS returns it now (PEM). */
  kmsPublicKey(): Promise<string>;
  /** The first stored version of every record key, in sequence order (what an export holds). */
  storedRecords(): Promise<StoredRecord[]>;
  /** Every version and delete marker under the case's prefix (or only its custody objects), read. */
  inventory(scope?: "case" | "custody"): Promise<CaseInventory>;
  /** Copies records claimed but never written (their writer stopped) from their verified journals; signs nothing. */
  complete(options?: { readonly dryRun?: boolean }): Promise<Completion>;
  /** Forgets the object versions read or written, so the next reads go to S3 as a new process's would. */
  forgetReads(): void;
}

/** Region of a KMS key ARN (`arn:aws:kms:<region>:<account>:key/<id>`). */
export function regionOfKeyArn(arn: string): string {
  const region = arn.split(":")[3];
  if (!region)
    throw new UsageError(`custody signing key ${arn} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)`);
  return region;
}
