/**
 * An in-memory {@link CustodyLedger} for tests where AWS is mocked (aws-sdk-client-mock) and the S3-backed ledger
 * cannot run: it numbers and keeps records the way the real one does, without hashing or signing them.
 */
import type { CustodyEvent, CustodyLedger, CustodyRecord } from "../../../scripts/custody/types";

/** A ledger that keeps records in an array. */
export class MemoryLedger implements CustodyLedger {
  /** The records appended so far. */
  readonly stored: CustodyRecord[] = [];

  constructor(readonly caseId: string) {}

  /** Appends at the next sequence number. */
  async append(event: CustodyEvent): Promise<CustodyRecord> {
    const record: CustodyRecord = {
      ...JSON.parse(JSON.stringify(event)),
      version: 1,
      sequence: this.stored.length,
      case: this.caseId,
      time: new Date().toISOString(),
      actor: "arn:aws:sts::222222222222:assumed-role/FlzForensicResponder/test",
      previousHash: "0".repeat(64),
      hash: "0".repeat(64),
      signature: { keyArn: "arn:aws:kms:us-east-1:222222222222:key/test", algorithm: "ECDSA_SHA_256", value: "" },
    };
    this.stored.push(record);
    return record;
  }

  /** Every record, in order. */
  async records(): Promise<CustodyRecord[]> {
    return [...this.stored];
  }
}
