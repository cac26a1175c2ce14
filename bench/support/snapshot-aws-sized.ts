/**
 * The AWS-sized part of `bench/snapshot-hash` (issue 16 target: ≥ 90 % of ideal at concurrency 64 with 512 KiB
 * blocks, peak RSS ≤ 256 MiB), run in a process of its own on the compiled engine (dist/), as `flz hash --snapshot`
 * runs: under ts-node the TypeScript compiler sits in the same heap (36 MB live instead of 8), which makes every
 * garbage collection slower and adds about 55 MiB of RSS that the product does not have.
 *
 * Every request goes through a real EBS client of the flz client factory (serialisation, SigV4 signing, endpoint
 * resolution, retries, the factory's attempt and time-bound middleware, the call observer, the SDK's body collection
 * and its deserialiser): only the network is replaced, by an in-process HTTP handler that answers after the injected
 * latency with a 512 KiB body streamed in 64 KiB chunks (as a socket delivers it) and the block's SHA-256 in the
 * `x-amz-Checksum` header, as the EBS direct APIs do. So the client's whole per-request cost is measured, not only
 * the hashing. What the stand-in replaces is the whole HTTP handler: the factory's TimedHttpHandler (its per-request
 * deadline timer), Node's HTTP parsing, the agent's socket pool and TLS are not in the figure; a fresh 64 KiB buffer
 * per chunk stands for the socket's reads (each of which allocates one, and their garbage is most of the GC work).
 *
 * It prints the CPU of the whole process and of its main thread (which makes the requests): the workers hash, and
 * V8's helper threads collect garbage.
 *
 * Usage (bench/snapshot-hash.ts runs it): node dist/bench/support/snapshot-aws-sized.js <latency ms> [concurrencies, default 8,64]
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { Readable } from "node:stream";
import { EBSClient } from "@aws-sdk/client-ebs";
import type { HttpRequest, HttpResponse } from "@smithy/types";
import { ClientFactory } from "../../scripts/aws/clients";
import { hashSnapshot } from "../../scripts/hash/snapshot";

const BLOCK = 512 * 1024;
const CHUNK = 64 * 1024;
const VOLUME_GIB = 4;
const BLOCKS = (VOLUME_GIB * 2 ** 30) / BLOCK;

/** An in-process stand-in for the EBS direct APIs' HTTP endpoint: ListSnapshotBlocks and GetSnapshotBlock. */
function fakeEbsHandler(latencyMs: number): { handle(request: HttpRequest): Promise<{ response: HttpResponse }> } {
  const pattern = randomBytes(BLOCK);
  const checksum = createHash("sha256").update(pattern).digest("base64");
  return {
    async handle(request) {
      await new Promise((r) => setTimeout(r, latencyMs));
      const block = /\/snapshots\/[^/]+\/blocks\/(\d+)$/.exec(request.path);
      if (block) {
        // A fresh buffer per 64 KiB chunk, as a socket delivers the body.
        const chunks = function* () {
          for (let at = 0; at < BLOCK; at += CHUNK) yield Buffer.from(pattern.subarray(at, at + CHUNK));
        };
        return {
          response: {
            statusCode: 200,
            headers: <Record<string, string>>{
              "content-type": "application/octet-stream",
              "content-length": String(BLOCK),
              "x-amz-data-length": String(BLOCK),
              "x-amz-checksum": checksum,
              "x-amz-checksum-algorithm": "SHA256",
            },
            body: Readable.from(chunks(), { objectMode: false }),
          },
        };
      }
      const start = Number(request.query?.pageToken ?? 0);
      const end = Math.min(BLOCKS, start + 10000);
      const body = JSON.stringify({
        Blocks: Array.from({ length: end - start }, (_, i) => ({ BlockIndex: start + i, BlockToken: `t${start + i}` })),
        BlockSize: BLOCK,
        VolumeSize: VOLUME_GIB,
        ...(end < BLOCKS ? { NextToken: String(end) } : {}),
      });
      return {
        response: {
          statusCode: 200,
          headers: <Record<string, string>>{
            "content-type": "application/json",
            "content-length": String(Buffer.byteLength(body)),
          },
          body: Readable.from([Buffer.from(body)]),
        },
      };
    },
  };
}

/** CPU seconds of this process's main thread so far (Linux; undefined elsewhere): the rest is workers and GC helpers. */
function mainThreadCpuSeconds(): number | undefined {
  try {
    // Fields after the command name (which is in parentheses): utime and stime are the 12th and 13th, in clock ticks.
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const latencyMs = Number(process.argv[2] ?? 50);
  process.env.AWS_ACCESS_KEY_ID = "bench";
  process.env.AWS_SECRET_ACCESS_KEY = "bench";
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_ENDPOINT_URL;
  const levels = (process.argv[3] ?? "8,64").split(",").map(Number);
  for (const concurrency of levels) {
    const factory = new ClientFactory({});
    const ebs = factory.client(EBSClient, { region: "us-east-1" });
    // The network replaced, everything else as flz runs it (see the module comment).
    (ebs.config as { requestHandler: unknown }).requestHandler = fakeEbsHandler(latencyMs);
    const cpu = process.cpuUsage();
    const mainBefore = mainThreadCpuSeconds();
    const digest = await hashSnapshot({ ebs, snapshotId: "snap-0aws000000000000", concurrency });
    const used = process.cpuUsage(cpu);
    const mainAfter = mainThreadCpuSeconds();
    factory.destroy();
    const ideal = (concurrency * 1000) / latencyMs;
    const cpuSeconds = (used.user + used.system) / 1e6;
    console.log(
      `fake AWS through the SDK (512 KiB, ${VOLUME_GIB} GiB)`.padEnd(44) +
        ` c=${String(concurrency).padStart(2)}  ${digest.writtenBlocks} blocks  ${digest.blocksPerSecond.toFixed(1).padStart(7)} blocks/s  ideal ${ideal.toFixed(0).padStart(5)}  ${((100 * digest.blocksPerSecond) / ideal).toFixed(0).padStart(3)} % of ideal  peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
    );
    const mainSeconds = mainBefore !== undefined && mainAfter !== undefined ? mainAfter - mainBefore : undefined;
    console.log(
      `${"".padEnd(44)} CPU ${cpuSeconds.toFixed(1)} s (${(cpuSeconds / VOLUME_GIB).toFixed(2)} s/GiB: two SHA-256 passes, the SDK, the copies) over ${digest.seconds.toFixed(1)} s wall = ${(cpuSeconds / digest.seconds).toFixed(2)} cores; load ${loadavg()[0].toFixed(2)}`,
    );
    if (mainSeconds !== undefined) {
      console.log(
        `${"".padEnd(44)} of which main thread (requests, SDK, fake network) ${(mainSeconds / VOLUME_GIB).toFixed(2)} s/GiB = ${((1e6 * mainSeconds) / digest.writtenBlocks).toFixed(0)} µs per block; workers and GC helpers ${((cpuSeconds - mainSeconds) / VOLUME_GIB).toFixed(2)} s/GiB`,
      );
    }
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
