import { expect } from "chai";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { emulator, useEmulator } from "../../support/emulator";
import { useCustodyWorld } from "./fixtures";

/**
 * A loopback proxy in front of the emulator that breaks the first read of every custody record: either the body is
 * cut off halfway (the headers promise the full length) or the connection is reset before any answer.
 */
async function faultyProxy(
  target: string,
  fault: "truncate" | "reset",
): Promise<{ url: string; faults: () => number; close: () => Promise<void> }> {
  const seen = new Set<string>();
  let faults = 0;
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const url = req.url ?? "";
    const isRecordRead =
      req.method === "GET" && /\/custody\/\d{8}\.json(\?|$)/.test(url) && !/[?&](versions|list-type)/.test(url);
    const key = url.split("?")[0] + (/versionId=([^&]+)/.exec(url)?.[1] ?? "");
    const breakIt = isRecordRead && !seen.has(key);
    if (breakIt) seen.add(key);
    if (breakIt && fault === "reset") {
      faults++;
      req.socket.destroy();
      return;
    }
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: url, headers: req.headers },
      (up) => {
        if (!breakIt) {
          res.writeHead(up.statusCode ?? 500, up.headers);
          up.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        up.on("data", (c: Buffer) => chunks.push(c));
        up.on("end", () => {
          faults++;
          const body = Buffer.concat(chunks);
          res.writeHead(up.statusCode ?? 500, up.headers);
          res.write(body.subarray(0, Math.floor(body.length / 2)));
          // Cut the connection with the body half sent, as a dropped connection does.
          setTimeout(() => res.socket?.destroy(), 5);
        });
      },
    );
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    faults: () => faults,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("custody verify reads through truncated bodies and connection resets", () => {
  useEmulator();
  const suite = useCustodyWorld();
  beforeEach(async () => {
    await suite.world().openedCase("IR-READS", 5);
  });

  for (const fault of ["truncate", "reset"] as const) {
    it(`retries each record read whose ${fault === "truncate" ? "body is cut off" : "connection is reset"}, and verifies`, async () => {
      const proxy = await faultyProxy((await emulator()).endpoint, fault);
      const saved = process.env.AWS_ENDPOINT_URL;
      process.env.AWS_ENDPOINT_URL = proxy.url;
      try {
        const run = await suite.custody("verify", "IR-READS", "--json");
        expect(run.code, run.err).to.equal(0);
        expect(JSON.parse(run.out)).to.include({ status: "VERIFIED", verified: 6 });
        expect(proxy.faults(), "every record's first read was broken").to.be.at.least(6);
      } finally {
        process.env.AWS_ENDPOINT_URL = saved;
        await proxy.close();
      }
    });
  }
});
