import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, request, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import { expect } from "chai";
import { useEmulator } from "../../support/emulator";

// The emulator's two HTTP-server fixes (scripts/emulator/flz_keepalive.py, flz_listen.py): connections kept between
// requests whose body can be drained exactly, closed otherwise, and a listen queue that holds a burst of connections.
// Plain HTTP here, not the SDK: what is under test is the connection, not an API (the SDK's requests go through the
// same paths in every other emulator test).
describe("emulator HTTP server: keep-alive and listen queue", () => {
  const emulator = useEmulator();
  let agent: Agent;

  beforeEach(() => {
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
  });
  afterEach(() => agent.destroy());

  /** What a request got back, and on which local port (one port = one connection). */
  interface Answer {
    readonly status: number;
    readonly connection: string | undefined;
    readonly body: string;
    readonly port: number | undefined;
  }

  /** An unsigned-but-well-formed STS or GuardDuty request (moto checks no signature). */
  function send(
    service: "sts" | "guardduty",
    options: { body?: string; chunked?: boolean; close?: boolean } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = {
      Authorization: `AWS4-HMAC-SHA256 Credential=testing/20261127/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    };
    if (service === "sts") headers["Content-Type"] = "application/x-www-form-urlencoded";
    if (options.close) headers.Connection = "close";
    if (options.chunked) headers["Transfer-Encoding"] = "chunked";
    else if (options.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(options.body));
    const url = new URL(service === "sts" ? "/" : "/detector", emulator.endpoint());
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        { method: service === "sts" ? "POST" : "GET", headers, agent },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              connection: res.headers.connection,
              body: Buffer.concat(chunks).toString("utf8"),
              port: req.socket?.localPort,
            }),
          );
        },
      );
      req.on("error", reject);
      if (options.body !== undefined) req.write(options.body);
      req.end();
    });
  }

  const IDENTITY = "Action=GetCallerIdentity&Version=2011-06-15";

  it("answers several requests on one connection when each body's length is known", async () => {
    const answers = [
      await send("sts", { body: IDENTITY }),
      await send("sts", { body: IDENTITY }),
      await send("guardduty"),
    ];
    expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 200]);
    expect(answers.map((a) => a.connection)).to.deep.equal(["keep-alive", "keep-alive", "keep-alive"]);
    expect(answers[0].body).to.contain("<GetCallerIdentityResponse");
    expect(answers[2].body).to.contain("detectorIds");
    expect(new Set(answers.map((a) => a.port)).size).to.equal(1);
  });

  it("reads the rest of a body the application left unread, so the next request on the connection is intact", async () => {
    // GuardDuty's ListDetectors reads no body: 64 KiB of it would otherwise be taken for the next request line.
    const first = await send("guardduty", { body: "x".repeat(65536) });
    const second = await send("sts", { body: IDENTITY });
    expect([first.status, second.status]).to.deep.equal([200, 200]);
    expect(second.body).to.contain("<GetCallerIdentityResponse");
    expect(second.port).to.equal(first.port);
  });

  it("closes the connection after a chunked body, and when the client asks to close", async () => {
    const chunked = await send("sts", { body: IDENTITY, chunked: true });
    expect(chunked.status).to.equal(200);
    expect(chunked.body).to.contain("<GetCallerIdentityResponse");
    expect(chunked.connection).to.equal("close");
    const asked = await send("sts", { body: IDENTITY, close: true });
    expect(asked.connection).to.equal("close");
  });

  it("closes the connection after a request line it refuses, even after a kept request on it", async () => {
    const { port, hostname } = new URL(emulator.endpoint());
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    socket.on("data", (c: Buffer) => received.push(c));
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write(
      `POST / HTTP/1.1\r\nHost: x\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20261127/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0\r\n` +
        `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${IDENTITY.length}\r\n\r\n${IDENTITY}` +
        "NOT A REQUEST LINE\r\n\r\n",
    );
    await closed; // the server closed it: the test would time out otherwise
    const text = Buffer.concat(received).toString("utf8");
    expect(text).to.match(/^HTTP\/1\.1 200 /);
    expect(text).to.contain("Connection: keep-alive");
    // http.server answers a line it cannot parse as HTTP/0.9 would: the error page alone, no status line.
    expect(text.slice(text.indexOf("</GetCallerIdentityResponse>"))).to.contain("Error code: 400");
  });

  it("listens with a queue deep enough for a burst of connections (the kernel's cap, at most 4,096)", function () {
    // `ss` prints a listening socket's backlog as its Send-Q. werkzeug's own is 128: a burst of a few hundred
    // connections overflowed it and the dropped ones were retried by TCP a second later.
    let listing: string;
    try {
      listing = execFileSync("ss", ["-ltnH", `sport = :${new URL(emulator.endpoint()).port}`], { encoding: "utf8" });
    } catch {
      this.skip(); // no iproute2 on this machine: nothing to read the backlog with
    }
    const somaxconn = Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8").trim());
    const backlog = Number(listing.trim().split(/\s+/)[2]);
    expect(backlog).to.equal(Math.min(4096, somaxconn));
  });
});
