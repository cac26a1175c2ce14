/**
 * The permission tour: every `flz` command against the emulator, under a fresh authorization oracle, so that
 * `docs/permissions.md` lists what each command needs. It is the drill (containment of sessions, a key and an
 * instance; capture; hashing; an artefact; custody verification; the clocks) followed by the undo of every
 * containment action it recorded (`flz contain undo`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateBucketCommand, S3Client, type BucketLocationConstraint } from "@aws-sdk/client-s3";
import { ClientFactory, responderFactory } from "../aws/clients";
import { withCallLabel } from "../aws/observer";
import { withCaseLedger } from "../cases/with-case";
import { quarantineAccount } from "../contain/account";
import { containBucket } from "../contain/bucket";
import { containKey } from "../contain/key";
import { quarantinePrincipal } from "../contain/principal";
import { undoAction } from "../contain/undo";
import { loadLandingZone } from "../contract";
import { openLedger } from "../custody/ledger";
import { runDrill } from "../drill/drill";
import { emulatorWorld } from "./emulator-world";
import { installOracle, loadOracle } from "./index";
import type { CallRecord } from "./decisions";
import type { OracleWorld } from "./world";

/** The case ID of the tour (any drill case ID reads the same in the document). */
export const TOUR_CASE = "DRILL-20260101T000000Z";

/** A bucket of the member account the tour contains. */
const TOUR_BUCKET = "flz-tour-app-data";

/** What the tour covers, for the document. */
export const TOUR_COVERS =
  "`flz drill` (every runbook step, each labelled with the command it runs), then `flz contain principal --quarantine` " +
  "of the leaked key's user, `flz contain account --quarantine` of its account, `flz contain bucket` and `flz contain key` " +
  "on a bucket and a key of the account, and `flz case metrics`, followed by " +
  "`flz contain undo` of every containment record of its case";

const ENV = [
  "AWS_ENDPOINT_URL",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_PROFILE",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
];

/** Runs the tour; resolves with the world and every record. Throws if the oracle is unavailable or a step fails. */
export async function permissionTour(): Promise<{ world: OracleWorld; records: CallRecord[] }> {
  const world = emulatorWorld();
  const loaded = loadOracle(world);
  if ("unavailable" in loaded) throw new Error(loaded.unavailable);
  const uninstall = installOracle(loaded.oracle);
  const saved = new Map(ENV.map((k) => [k, process.env[k]]));
  const dir = mkdtempSync(path.join(tmpdir(), "flz-tour-"));
  let stop: (() => Promise<void>) | undefined;
  try {
    const outcome = await runDrill({ scenario: "all", reportDir: dir, caseId: TOUR_CASE, keep: true });
    stop = outcome.emulator ? () => (outcome.emulator as { stop(): Promise<void> }).stop() : undefined;
    if (!outcome.report.passed) throw new Error(`the drill of the permission tour failed: see ${outcome.files.html}`);
    const lz = loadLandingZone(outcome.files.landingZone);
    const factory = responderFactory(lz, TOUR_CASE);
    try {
      // Containments the drill's runbook does not run (the whole principal, the whole account), then the metrics.
      const incident = outcome.report.incident;
      const forensicRoles = [lz.memberResponderRoleName, lz.memberInvestigatorRoleName];
      const context = async () => ({
        factory,
        ledger: await openLedger({ factory, landingZone: lz, caseId: TOUR_CASE }),
        account: incident.account,
        region: incident.region,
        dryRun: false,
      });
      await withCallLabel("flz contain principal", async () =>
        quarantinePrincipal(await context(), {
          principal: `arn:aws:iam::${incident.account}:user/${incident.userName}`,
          forensicRoles,
        }),
      );
      await withCallLabel("flz contain account", async () =>
        quarantineAccount(await context(), { forensicRoles, forensicAccountId: lz.forensicAccountId }),
      );
      // A bucket and a key of the account's own (made by its administrator, outside any command) to contain.
      const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
      let keyArn = "";
      try {
        await admin.client(S3Client, { account: incident.account, region: incident.region }).send(
          new CreateBucketCommand({
            Bucket: TOUR_BUCKET,
            ...(incident.region === "us-east-1"
              ? {}
              : { CreateBucketConfiguration: { LocationConstraint: incident.region as BucketLocationConstraint } }),
          }),
        );
        const kms = admin.client(KMSClient, { account: incident.account, region: incident.region });
        keyArn = (await kms.send(new CreateKeyCommand({ Description: "tour data key" }))).KeyMetadata?.Arn ?? "";
      } finally {
        admin.destroy();
      }
      const attacker = `arn:aws:iam::${incident.account}:role/${incident.roleName}`;
      await withCallLabel("flz contain bucket", async () =>
        containBucket(await context(), {
          bucket: TOUR_BUCKET,
          denial: { principals: [attacker], cidrs: [], everyone: false },
          blockPublicAccess: true,
          exempt: [lz.forensicResponderRoleArn, lz.forensicInvestigatorRoleArn],
        }),
      );
      await withCallLabel("flz contain key", async () =>
        containKey(await context(), { keyArn, principals: [attacker] }),
      );
      await withCallLabel("flz case metrics", async () =>
        withCaseLedger(lz, TOUR_CASE, (ledger) => ledger.records(), { access: "read" }),
      );
      // Everything undo does, from reading the case to reversing each action, is `flz contain undo`'s.
      await withCallLabel("flz contain undo", async () => {
        const ledger = await openLedger({ factory, landingZone: lz, caseId: TOUR_CASE });
        const records = await ledger.records();
        for (const record of records.filter((r) => r.undo !== undefined && r.action.startsWith("contain.")))
          await undoAction({ factory, ledger, dryRun: false }, { sequence: record.sequence });
      });
    } finally {
      factory.destroy();
    }
    await loaded.oracle.evaluatePending();
    return { world, records: loaded.oracle.records };
  } finally {
    uninstall();
    await stop?.();
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
