/**
 * The chain-of-custody record format (DESIGN.md §6) and the ledger interface every command writes through.
 * Capture and containment depend only on {@link CustodyLedger}; `scripts/custody/ledger.ts` implements it over the
 * Object-Locked evidence bucket.
 */

/** A JSON value, as stored in a record. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One piece of evidence a record vouches for. */
export interface EvidenceItem {
  /** What it is: `snapshot`, `file`, `object`, `instance-record`, `console-output`, `memory`, `disk-image`, `log`, ... */
  readonly kind: string;
  /** Where it is: `s3://bucket/key`, an EBS snapshot ID with account and region, a local path. */
  readonly location: string;
  /** Lower-case hex SHA-256 of the whole artefact (for snapshots: the image digest), when known. */
  readonly sha256?: string;
  /** Size in bytes, when known. */
  readonly bytes?: number;
  /** Anything else an examiner needs (S3 version ID, KMS key ARN, LINEAR checksum, manifest location, ...). */
  readonly details?: { [key: string]: JsonValue };
}

/** What a command asks the ledger to record. */
export interface CustodyEvent {
  /** Dotted verb, e.g. `capture.snapshot.created`, `contain.sessions.revoked`, `evidence.put`. */
  readonly action: string;
  /** The things acted on: ARNs, instance IDs, snapshot IDs, user names. */
  readonly subjects: string[];
  /** Evidence this event produced or checked. */
  readonly evidence?: EvidenceItem[];
  /** Free-form facts: IDs, key ARNs, timings, parameters. */
  readonly details?: { [key: string]: JsonValue };
  /** What is needed to reverse this action (containment); absent when irreversible or nothing to undo. */
  readonly undo?: { [key: string]: JsonValue };
  /** `succeeded` (default) or `failed`; failures are recorded too. */
  readonly outcome?: "succeeded" | "failed";
  /** The error line, for failed events. */
  readonly error?: string;
}

/** A record as written to `cases/<case>/custody/<seq>.json`. */
export interface CustodyRecord extends CustodyEvent {
  /** Format version. */
  readonly version: 1;
  /** 0-based position in the case's chain. */
  readonly sequence: number;
  /** Case ID. */
  readonly case: string;
  /** UTC time of the event, ISO 8601 with milliseconds and `Z`. */
  readonly time: string;
  /** ARN of the caller (STS GetCallerIdentity) that appended the record. */
  readonly actor: string;
  /** `hash` of the previous record; 64 zeros for the first. */
  readonly previousHash: string;
  /** SHA-256 (hex) of the canonical serialisation of the record without `hash` and `signature`. */
  readonly hash: string;
  /** KMS signature over the short canonical statement naming case, sequence, previous hash and hash. */
  readonly signature: { readonly keyArn: string; readonly algorithm: "ECDSA_SHA_256"; readonly value: string };
}

/** The case's append-only ledger. */
export interface CustodyLedger {
  /** Case ID. */
  readonly caseId: string;
  /** Appends one event at the next sequence number and returns the signed, stored record. */
  append(event: CustodyEvent): Promise<CustodyRecord>;
  /** Every record of the case, in sequence order. */
  records(): Promise<CustodyRecord[]>;
}
