/**
 * The insider of issue 11, as the custody adversary tests play it: a principal of the forensic account that may write
 * to the evidence bucket (plain S3 calls: PutObject with or without conditions, DeleteObject without a version ID,
 * PutObjectLockConfiguration) and create KMS keys of its own, but may not call `kms:Sign` with the custody key. Every
 * helper here is a plain SDK call, as such a principal would make it; nothing goes through flz.
 */
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient, SignCommand } from "@aws-sdk/client-kms";
import { DeleteObjectCommand, PutObjectCommand, PutObjectLockConfigurationCommand, S3Client } from "@aws-sdk/client-s3";
import { ClientFactory } from "../../scripts/aws/clients";
import { chainEvents, serialiseJournal, type SealedRecord } from "../../scripts/custody/batch";
import { publicKeyPemFromDer, serialiseRecord, signingStatement } from "../../scripts/custody/record";
import type { CustodyEvent, CustodyRecord } from "../../scripts/custody/types";
import type { LandingZone } from "../../scripts/contract";
import { SEED_ACCOUNTS } from "../../scripts/emulator/seed";
import { runFlz } from "../support/cli";
import type { CustodyVerdict } from "../../scripts/custody/verify-case";

/** The insider: S3 and KMS clients acting in the forensic account as its administrator. */
export class Insider {
  private readonly factory = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  readonly s3: S3Client;
  readonly kms: KMSClient;

  constructor(readonly lz: LandingZone) {
    this.s3 = this.factory.client(S3Client, { account: SEED_ACCOUNTS.forensic, region: lz.homeRegion });
    this.kms = this.factory.client(KMSClient, { account: SEED_ACCOUNTS.forensic, region: lz.homeRegion });
  }

  /** A plain PutObject (no condition unless asked): a new version over whatever is there. */
  async put(key: string, body: string | Uint8Array, options: { ifNoneMatch?: boolean } = {}): Promise<string> {
    const res = await this.s3.send(
      new PutObjectCommand({
        Bucket: this.lz.evidenceBucket,
        Key: key,
        Body: body,
        ChecksumAlgorithm: "SHA256",
        IfNoneMatch: options.ifNoneMatch ? "*" : undefined,
      }),
    );
    return res.VersionId ?? "";
  }

  /** DeleteObject without a version ID: a delete marker over the key. Returns the marker's version ID. */
  async hide(key: string): Promise<string> {
    const res = await this.s3.send(new DeleteObjectCommand({ Bucket: this.lz.evidenceBucket, Key: key }));
    return res.VersionId ?? "";
  }

  /** Removes the evidence bucket's default retention (leaves Object Lock enabled, with no default rule). */
  async removeDefaultRetention(): Promise<void> {
    await this.s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: this.lz.evidenceBucket,
        ObjectLockConfiguration: { ObjectLockEnabled: "Enabled" },
        ChecksumAlgorithm: "SHA256",
      }),
    );
  }

  /** A signing key of the insider's own (allowed: it is not the custody key), and its public key. */
  async ownSigningKey(): Promise<{ arn: string; publicKeyPem: string }> {
    const key = await this.kms.send(
      new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY", Description: "the insider's key" }),
    );
    const arn = key.KeyMetadata?.Arn ?? "";
    const pub = await this.kms.send(new GetPublicKeyCommand({ KeyId: arn }));
    return { arn, publicKeyPem: publicKeyPemFromDer(pub.PublicKey ?? new Uint8Array()) };
  }

  /**
   * Seals records with the insider's own key, each claiming in `signature.keyArn` to be signed by `claimedKeyArn`
   * (the custody key's ARN, to pass for genuine).
   */
  async sign(records: SealedRecord[], ownKeyArn: string, claimedKeyArn: string): Promise<CustodyRecord[]> {
    return Promise.all(
      records.map(async (r) => {
        const res = await this.kms.send(
          new SignCommand({
            KeyId: ownKeyArn,
            Message: signingStatement(r, claimedKeyArn),
            MessageType: "RAW",
            SigningAlgorithm: "ECDSA_SHA_256",
          }),
        );
        return {
          ...r,
          signature: {
            keyArn: claimedKeyArn,
            algorithm: "ECDSA_SHA_256" as const,
            value: Buffer.from(res.Signature ?? []).toString("base64"),
          },
        };
      }),
    );
  }

  /** Releases the clients. */
  close(): void {
    this.factory.destroy();
  }
}

/** The forged event the issue describes: a containment record whose undo would write an allow-everything policy. */
export function forgedContainment(): CustodyEvent {
  return {
    action: "contain.sessions.revoked",
    subjects: ["arn:aws:iam::333333333333:role/Victim"],
    undo: {
      kind: "sessions",
      account: "333333333333",
      role: "Victim",
      policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }),
    },
  };
}

/** Records chained after a point, as the insider would build them (back-dated, chosen actor). */
export function forgedRecords(caseId: string, after: { sequence: number; hash: string }, events: CustodyEvent[]) {
  return chainEvents(events, after, {
    caseId,
    actor: "arn:aws:sts::222222222222:assumed-role/FlzForensicResponder/flz-someone-else",
    time: "2020-01-01T00:00:00.000Z",
  });
}

/** A journal of (signed or unsigned) records, as stored. */
export function journalOf(caseId: string, records: (SealedRecord | CustodyRecord)[]): string {
  return serialiseJournal(caseId, records as CustodyRecord[]);
}

/** A record's stored bytes. */
export function recordBytes(record: CustodyRecord): string {
  return serialiseRecord(record);
}

/** Runs `flz custody verify --json` as a user would: its exit code and the verdict it printed. */
export async function verifyCase(
  caseId: string,
  file: string,
  extra: string[] = [],
): Promise<{ code: number; verdict: CustodyVerdict; err: string }> {
  const run = await runFlz(["custody", "verify", "--case", caseId, "--landing-zone", file, "--json", ...extra]);
  let verdict: CustodyVerdict;
  try {
    verdict = JSON.parse(run.out) as CustodyVerdict;
  } catch {
    throw new Error(`flz custody verify printed no JSON verdict (exit ${run.code}): ${run.err}`);
  }
  return { code: run.code, verdict, err: run.err };
}

/** Every Sign statement a client sends, recorded (the ledger uses the factory's cached client). */
export function recordSigns(kms: KMSClient): string[] {
  const statements: string[] = [];
  kms.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "SignCommand")
        statements.push(Buffer.from((args.input as { Message: Uint8Array }).Message).toString("utf8"));
      return next(args);
    },
    { step: "initialize", name: "testRecordSigns" },
  );
  return statements;
}
