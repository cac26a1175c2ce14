/** Shared set-up of the custody tests: a seeded landing zone and forensic-account factories for one case. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { ClientFactory } from "../../../scripts/aws/clients";
import type { LandingZone } from "../../../scripts/contract";
import { SEED_ACCOUNTS, seedLandingZone } from "../../../scripts/emulator/seed";
import { runFlz } from "../../support/cli";
import { openLedger, type EvidenceBucketLedger } from "../../../scripts/custody/ledger";
import type { CustodyEvent } from "../../../scripts/custody/types";
import { openTestCase } from "../../support/cases";

/** A seeded landing zone and a way to open ledgers on it as the forensic responder. */
export interface CustodyWorld {
  readonly lz: LandingZone;
  /** A new factory (its own clients, as a second operator would have) acting in the forensic account. */
  factory(caseId?: string): ClientFactory;
  /**
   * S3 as the forensic account's administrator (the organisation's access role, outside the authorization oracle's
   * world): for a test that stands in for what S3 itself would have done where the emulator does not, never for a
   * call flz makes.
   */
  administratorS3(): S3Client;
  /** Opens a ledger for a case through a new factory. */
  ledger(caseId: string): Promise<EvidenceBucketLedger>;
  /** Opens a ledger, opens the case in it (`case.opened`) and appends `events` records of {@link sampleEvent}. */
  openedCase(caseId: string, events: number): Promise<EvidenceBucketLedger>;
  /** Releases every factory made. */
  close(): void;
}

/** Awaits a promise that must fail, and returns its error. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a failure");
}

/** Seeds the emulator and returns a {@link CustodyWorld}. */
export async function custodyWorld(): Promise<CustodyWorld> {
  const lz = await seedLandingZone();
  const factories: ClientFactory[] = [];
  const factory = (caseId?: string): ClientFactory => {
    const f = new ClientFactory({
      caseId,
      forensicRoleArn: lz.forensicResponderRoleArn,
      memberRoleName: lz.memberResponderRoleName,
    });
    factories.push(f);
    return f;
  };
  const administratorS3 = (): S3Client => {
    const f = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
    factories.push(f);
    return f.client(S3Client, { account: SEED_ACCOUNTS.forensic, region: lz.homeRegion });
  };
  const ledger = (caseId: string): Promise<EvidenceBucketLedger> =>
    openLedger({ factory: factory(caseId), landingZone: lz, caseId });
  const openedCase = async (caseId: string, events: number): Promise<EvidenceBucketLedger> => {
    const opened = await ledger(caseId);
    await openTestCase(opened);
    for (let i = 0; i < events; i++) await opened.append(sampleEvent(i));
    return opened;
  };
  return {
    lz,
    factory,
    administratorS3,
    ledger,
    openedCase,
    close: () => factories.forEach((f) => f.destroy()),
  };
}

/** A plausible event #i of an incident, with evidence on every third. */
export function sampleEvent(i: number): CustodyEvent {
  return {
    action: i % 3 === 0 ? "capture.snapshot.created" : "contain.sessions.revoked",
    subjects: [`arn:aws:ec2:us-east-1:333333333333:instance/i-0${i}abcdef`],
    details: { step: i, note: `étape ${i} — ünïcödé`, nested: { ok: true, list: [1, 2.5, null] } },
    evidence:
      i % 3 === 0
        ? [{ kind: "snapshot", location: `snap-0${i}`, sha256: "ab".repeat(32), bytes: 1024 * i }]
        : undefined,
  };
}

/** What {@link useCustodyWorld} gives a suite: the world, a scratch folder, and the contract written into it. */
export interface CustodySuite {
  /** The seeded landing zone of the current test. */
  world(): CustodyWorld;
  /** A scratch folder, removed after the test. */
  dir(): string;
  /** The landing-zone contract file (`<dir>/lz.json`), for the CLI's `--landing-zone`. */
  lzFile(): string;
  /** Runs `flz custody <sub> --case <id> --landing-zone <lzFile> <rest...>` in-process: exit code and output. */
  custody(sub: string, caseId: string, ...rest: string[]): Promise<{ code: number; out: string; err: string }>;
}

/**
 * Mocha hooks for a suite that drives custody commands against the emulator: before each test, a freshly seeded
 * landing zone, a scratch folder and the contract file in it; after each, both released. Call inside a describe
 * block, after {@link useEmulator}.
 */
export function useCustodyWorld(): CustodySuite {
  let world: CustodyWorld | undefined;
  let dir = "";
  beforeEach(async () => {
    world = await custodyWorld();
    dir = mkdtempSync(path.join(tmpdir(), "flz-custody-"));
    writeFileSync(path.join(dir, "lz.json"), JSON.stringify(world.lz));
  });
  afterEach(() => {
    world?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    world: () => {
      if (!world) throw new Error("useCustodyWorld: no world outside a test");
      return world;
    },
    dir: () => dir,
    lzFile: () => path.join(dir, "lz.json"),
    custody: (sub, caseId, ...rest) =>
      runFlz(["custody", sub, "--case", caseId, "--landing-zone", path.join(dir, "lz.json"), ...rest]),
  };
}
