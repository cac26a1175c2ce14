/**
 * One custody writer in its own process, for the concurrency test and benchmark: opens a case's ledger (its own
 * client factory, as a separate operator would), says `ready` on stdout, waits for `go` on stdin, then appends its
 * events one after another (each awaited, as a command records step by step) and prints one JSON line: what it
 * appended, what failed, how long it took.
 *
 * Run: node -r ts-node/register/transpile-only test/support/custody-writer.ts <landing-zone.json> <case> <writer> <count>
 * (the emulator's endpoint and dummy credentials come from the environment).
 */
import { readFileSync } from "node:fs";
import { ClientFactory } from "../../scripts/aws/clients";
import { parseLandingZone } from "../../scripts/contract";
import { openLedger } from "../../scripts/custody/ledger";
import { KMSClient } from "@aws-sdk/client-kms";
import { S3Client } from "@aws-sdk/client-s3";

/** What a writer prints when it is done. */
export interface WriterReport {
  /** Writer number. */
  readonly writer: number;
  /** Sequences of the records it appended, with their subject. */
  readonly appended: { sequence: number; subject: string }[];
  /** Errors of the appends that failed. */
  readonly errors: string[];
  /** Milliseconds from `go` to the last append settled. */
  readonly ms: number;
  /** AWS requests sent after `go`, by command. */
  readonly requests: Record<string, number>;
}

/** Counts every command a client sends into `tally`. */
function countRequests(client: S3Client | KMSClient, tally: Record<string, number>): void {
  (client.middlewareStack as S3Client["middlewareStack"]).add(
    (next, context) => async (args) => {
      tally[context.commandName ?? "?"] = (tally[context.commandName ?? "?"] ?? 0) + 1;
      return next(args);
    },
    { step: "initialize", name: "flzCountRequests" },
  );
}

async function main(): Promise<void> {
  const [file, caseId, writerText, countText] = process.argv.slice(2);
  const lz = parseLandingZone(JSON.parse(readFileSync(file, "utf8")), file);
  const writer = Number(writerText);
  const count = Number(countText);
  const factory = new ClientFactory({
    caseId,
    forensicRoleArn: lz.forensicResponderRoleArn,
    memberRoleName: lz.memberResponderRoleName,
  });
  try {
    const ledger = await openLedger({ factory, landingZone: lz, caseId });
    const requests: Record<string, number> = {};
    process.stdout.write("ready\n");
    await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
    // The ledger's clients are the factory's cached ones: count what they send from now on.
    countRequests(factory.client(S3Client, { region: lz.homeRegion }), requests);
    countRequests(factory.client(KMSClient, { region: lz.custodySigningKeyArn.split(":")[3] }), requests);
    const started = performance.now();
    const appended: WriterReport["appended"] = [];
    const errors: string[] = [];
    for (let i = 0; i < count; i++) {
      const subject = `writer-${writer}/event-${i}`;
      try {
        const record = await ledger.append({ action: "test.concurrent", subjects: [subject] });
        appended.push({ sequence: record.sequence, subject });
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err));
      }
    }
    const report: WriterReport = { writer, appended, errors, ms: performance.now() - started, requests };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    factory.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
