/**
 * What "converged" means for a case after faults and at most one rerun (issue 19, "Tests and figures"): exactly one
 * snapshot per volume and stage, one lock per forensic snapshot, no custody record written twice, no intent left open,
 * no object in the case's folder that no record names, and a chain that verifies. Each check returns the problems it
 * found (empty when converged), so a scenario can report every broken property at once.
 */
import { DescribeLockedSnapshotsCommand, DescribeSnapshotsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { ClientFactory } from "../../scripts/aws/clients";
import type { LandingZone } from "../../scripts/contract";
import { openIntents } from "../../scripts/custody/intent";
import { openLedger } from "../../scripts/custody/ledger";
import { listUnrecordedObjects } from "../../scripts/custody/orphans";
import type { CustodyRecord } from "../../scripts/custody/types";
import { runFlz } from "../support/cli";

/** An instance a scenario captures. */
export interface CapturedInstance {
  readonly instanceId: string;
  readonly account: string;
  readonly region: string;
  readonly volumeIds: readonly string[];
}

/** The case's records, read directly from the emulator. */
export async function caseRecords(lz: LandingZone, caseId: string): Promise<CustodyRecord[]> {
  const factory = new ClientFactory({ caseId, forensicRoleArn: lz.forensicResponderRoleArn });
  try {
    return await (await openLedger({ factory, landingZone: lz, caseId })).records();
  } finally {
    factory.destroy();
  }
}

/** Records that repeat an earlier record's action on the same first subject (an outcome written twice). */
export function duplicateRecords(records: readonly CustodyRecord[]): string[] {
  const once = [
    "capture.snapshot.created",
    "capture.snapshot.copied",
    "capture.snapshot.shared",
    "capture.snapshot.locked",
    "capture.artefact.stored",
    "capture.candidate.untrusted",
    "evidence.put",
    "evidence.snapshot.hashed",
    "evidence.file.hashed",
  ];
  const seen = new Map<string, number>();
  const problems: string[] = [];
  for (const r of records) {
    if (!once.includes(r.action) || r.outcome === "failed") continue;
    const key = `${r.action} ${r.evidence?.[0]?.location ?? r.subjects[0]}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) problems.push(`records ${earlier} and ${r.sequence} are both ${key}`);
    else seen.set(key, r.sequence);
  }
  return problems;
}

/** Snapshots of a case's capture in AWS: exactly one per volume and stage, one lock per forensic snapshot. */
export async function snapshotProblems(
  lz: LandingZone,
  caseId: string,
  instances: readonly CapturedInstance[],
): Promise<string[]> {
  const admin = new ClientFactory({ memberRoleName: "OrganizationAccountAccessRole" });
  const problems: string[] = [];
  try {
    for (const instance of instances) {
      const destination = lz.evidenceKeyArns[instance.region] ? instance.region : lz.homeRegion;
      const places: [string, string, string][] = [
        ["source", instance.account, instance.region],
        ["evidence-copy", instance.account, destination],
        ["forensic", lz.forensicAccountId, destination],
      ];
      for (const [stage, account, region] of places) {
        const out = await admin.client(EC2Client, { account, region }).send(
          new DescribeSnapshotsCommand({
            OwnerIds: ["self"],
            Filters: [
              { Name: "tag:flz:case", Values: [caseId] },
              { Name: "tag:flz:instance", Values: [instance.instanceId] },
              { Name: "tag:flz:stage", Values: [stage] },
            ],
          }),
        );
        for (const volumeId of instance.volumeIds) {
          const n = (out.Snapshots ?? []).filter((s) =>
            s.Tags?.some((t) => t.Key === "flz:volume" && t.Value === volumeId),
          ).length;
          if (n !== 1) problems.push(`${n} ${stage} snapshots of ${volumeId} (expected 1)`);
        }
      }
      const forensic = await admin.client(EC2Client, { account: lz.forensicAccountId, region: destination }).send(
        new DescribeSnapshotsCommand({
          OwnerIds: ["self"],
          Filters: [
            { Name: "tag:flz:case", Values: [caseId] },
            { Name: "tag:flz:instance", Values: [instance.instanceId] },
          ],
        }),
      );
      const ids = (forensic.Snapshots ?? []).map((s) => s.SnapshotId ?? "");
      if (ids.length > 0) {
        const locks = await admin
          .client(EC2Client, { account: lz.forensicAccountId, region: destination })
          .send(new DescribeLockedSnapshotsCommand({ SnapshotIds: ids }));
        const locked = (locks.Snapshots ?? []).map((l) => l.SnapshotId);
        for (const id of ids) {
          const n = locked.filter((l) => l === id).length;
          if (n !== 1) problems.push(`${n} locks on forensic snapshot ${id} (expected 1)`);
        }
      }
    }
  } finally {
    admin.destroy();
  }
  return problems;
}

/** Everything that says a case has not converged; empty when it has. */
export async function convergenceProblems(
  lz: LandingZone,
  landingZoneFile: string,
  caseId: string,
  instances: readonly CapturedInstance[] = [],
): Promise<string[]> {
  const records = await caseRecords(lz, caseId);
  const problems = [...duplicateRecords(records)];
  for (const intent of openIntents(records)) {
    problems.push(`intent ${intent.id} (record ${intent.sequence}, ${intent.operation} ${intent.step}) is still open`);
  }
  for (const instance of instances) {
    for (const volumeId of instance.volumeIds) {
      const count = (action: string, stage?: string) =>
        records.filter(
          (r) =>
            r.action === action &&
            r.outcome !== "failed" &&
            (r.details?.volumeId === volumeId || r.subjects.includes(volumeId)) &&
            (stage === undefined || r.details?.stage === stage),
        ).length;
      for (const [action, stage] of [
        ["capture.snapshot.created", undefined],
        ["capture.snapshot.copied", "evidence-copy"],
        ["capture.snapshot.copied", "forensic"],
        ["capture.snapshot.shared", undefined],
        ["capture.snapshot.locked", undefined],
      ] as const) {
        const n = count(action, stage);
        if (n !== 1) problems.push(`${n} ${action}${stage ? ` (${stage})` : ""} records for ${volumeId} (expected 1)`);
      }
    }
  }
  problems.push(...(await snapshotProblems(lz, caseId, instances)));
  const factory = new ClientFactory({ caseId, forensicRoleArn: lz.forensicResponderRoleArn });
  try {
    const unrecorded = await listUnrecordedObjects(
      factory.client(S3Client, { region: lz.homeRegion }),
      lz.evidenceBucket,
      caseId,
      records,
    );
    for (const o of unrecorded) problems.push(`${o.location} (${o.bytes} bytes) is named by no record`);
  } finally {
    factory.destroy();
  }
  const verify = await runFlz(["custody", "verify", "--case", caseId, "--landing-zone", landingZoneFile]);
  if (verify.code !== 0) problems.push(`custody verify exited ${verify.code}: ${verify.err.trim().split("\n")[0]}`);
  return problems;
}
