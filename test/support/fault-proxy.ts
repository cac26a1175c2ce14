/**
 * A fault-injecting loopback proxy between the AWS SDK and the emulator, for reliability tests (issue 19).
 *
 * Point the SDK at {@link FaultProxy.url} (`AWS_ENDPOINT_URL`) instead of the emulator; the proxy forwards every
 * request and names it as AWS does (`ec2:CreateSnapshot`, `s3:PutObject`, `kms:Sign`, `ebs:GetSnapshotBlock`, from the
 * SigV4 credential scope and the protocol), and applies the first matching rule:
 *
 * ```ts
 * const proxy = await startFaultProxy(emulatorEndpoint);
 * proxy.add({ operation: "ec2:CopySnapshot", when: "after", fault: "reset" });          // applied, answer lost
 * proxy.add({ operation: "ebs:GetSnapshotBlock", fault: "truncate", times: 3 });          // half a body, 3 times
 * proxy.add({ operation: "s3:PutObject", resource: /custody-journal/, fault: "stall" });  // never answers
 * proxy.add({ operation: "ec2:CreateSnapshot", when: "before", fault: "kill" });          // kill the caller first
 * proxy.add({ operation: /^kms:/, fault: "throttle", times: Infinity, app: "flz-2" });    // only process flz-2
 * ...
 * expect(proxy.hits("ec2:CopySnapshot")).to.equal(2);
 * await proxy.close();
 * ```
 *
 * Faults: `kill` (SIGKILL the calling process, see {@link FaultProxy.processes}), `503` (a protocol-correct
 * ServiceUnavailable), `throttle` (the service's own throttling error), `reset` (connection destroyed), `truncate`
 * (status and headers as the emulator sent them, half the body, then the connection closed), `stall` (nothing more
 * is sent until the caller gives up, or for `ms`), `delay` (the answer `ms` late). `when: "before"` acts before the
 * emulator sees the request (it is not applied); `"after"` forwards it first (it is applied, the answer is damaged or
 * lost). Rules match in the order added; `skip` lets that many matching requests through first, `times` (default 1)
 * bounds how many are hit, `every` hits only every Nth. Every request is logged in {@link FaultProxy.log}.
 *
 * Processes are told apart by `AWS_SDK_UA_APP_ID`, which the SDK appends to its user agent as `app/<id>`.
 */
import { randomUUID } from "node:crypto";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Socket } from "node:net";

/** What the proxy can do to a request. */
export type FaultKind = "kill" | "503" | "throttle" | "reset" | "truncate" | "stall" | "delay";

/** A rule: which requests, what fault, when, how many times. */
export interface FaultRule {
  /** `service:Operation` (`ec2:CreateSnapshot`), `service:*`, `*`, or a regular expression over `service:Operation`. */
  readonly operation: string | RegExp;
  /** Further match on the request's resource text: S3 `bucket/key`, EBS path, or the request body of other services. */
  readonly resource?: string | RegExp;
  /** Before the emulator applies the request (default), or after it did. */
  readonly when?: "before" | "after";
  /** The fault. */
  readonly fault: FaultKind;
  /** Matching requests let through untouched before the first hit. Default 0. */
  readonly skip?: number;
  /** Matching requests hit. Default 1; `Infinity` for every one. */
  readonly times?: number;
  /** Hit only every Nth matching request after `skip` (the others pass). Default 1: each one. */
  readonly every?: number;
  /** `stall`: release after this many ms instead of holding until the caller gives up. `delay`: the delay. */
  readonly ms?: number;
  /** Only requests of the process with this `AWS_SDK_UA_APP_ID`. */
  readonly app?: string;
}

/** One request as the proxy saw it. */
export interface ObservedRequest {
  /** Signing name of the service: `ec2`, `s3`, `kms`, `sts`, `ebs`, ... */
  readonly service: string;
  /** AWS operation name, e.g. `CreateSnapshot`. */
  readonly operation: string;
  /** `service:Operation`. */
  readonly name: string;
  /** Region from the credential scope. */
  readonly region: string;
  /** HTTP method and path (with query). */
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  /** What the rule's `resource` is matched against. */
  readonly resource: string;
  /** The caller's `AWS_SDK_UA_APP_ID`, if any. */
  readonly app?: string;
  /** When it arrived (ms since epoch). */
  readonly at: number;
  /** The fault applied, if any. */
  fault?: FaultKind;
  /** Whether the fault was applied before or after the emulator. */
  when?: "before" | "after";
  /** Status the emulator answered (when forwarded). */
  status?: number;
}

/** A rule as added, with its hit count. */
export interface ActiveRule extends FaultRule {
  /** Requests hit so far. */
  readonly hits: number;
  /** Matching requests seen so far (hit or skipped). */
  readonly seen: number;
}

/** A running proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: what `AWS_ENDPOINT_URL` should be. */
  readonly url: string;
  /** Every request seen, in arrival order. */
  readonly log: ObservedRequest[];
  /** Processes the `kill` fault can reach, by app ID. A `kill` of a request without app ID kills none. */
  readonly processes: Map<string, { kill(signal: NodeJS.Signals): boolean }>;
  /** Adds a rule; returns its live view (hit count). */
  add(rule: FaultRule): ActiveRule;
  /** Removes every rule (the log stays). */
  clear(): void;
  /** Requests logged under a `service:Operation` name (all of them, or only those hit by a fault). */
  hits(name: string, faulted?: boolean): number;
  /** Connections accepted so far, and those still open (a client's pooled sockets show here). */
  connections(): { accepted: number; open: number };
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

/** Names an S3 REST request. */
function s3Operation(
  method: string,
  path: string,
  query: URLSearchParams,
  headers: IncomingMessage["headers"],
): string {
  const [, , ...rest] = path.split("/");
  const hasKey = rest.join("/") !== "";
  const has = (q: string) => query.has(q);
  if (!hasKey) {
    if (method === "GET") {
      if (has("uploads")) return "ListMultipartUploads";
      if (has("versions")) return "ListObjectVersions";
      if (has("object-lock")) return "GetObjectLockConfiguration";
      if (has("policy")) return "GetBucketPolicy";
      if (query.get("list-type") === "2") return "ListObjectsV2";
      return "ListObjects";
    }
    if (method === "POST" && has("delete")) return "DeleteObjects";
    if (method === "HEAD") return "HeadBucket";
    if (method === "PUT") return has("object-lock") ? "PutObjectLockConfiguration" : "PutBucket";
    return `Bucket${method}`;
  }
  switch (method) {
    case "GET":
      if (has("uploadId")) return "ListParts";
      if (has("retention")) return "GetObjectRetention";
      if (has("attributes")) return "GetObjectAttributes";
      return "GetObject";
    case "HEAD":
      return "HeadObject";
    case "PUT":
      if (has("partNumber")) return headers["x-amz-copy-source"] ? "UploadPartCopy" : "UploadPart";
      if (has("retention")) return "PutObjectRetention";
      return headers["x-amz-copy-source"] ? "CopyObject" : "PutObject";
    case "POST":
      if (has("uploads")) return "CreateMultipartUpload";
      if (has("uploadId")) return "CompleteMultipartUpload";
      return "PostObject";
    case "DELETE":
      return has("uploadId") ? "AbortMultipartUpload" : "DeleteObject";
    default:
      return `Object${method}`;
  }
}

/** Names an EBS direct API request. */
function ebsOperation(method: string, path: string): string {
  if (/^\/snapshots\/completion\//.test(path)) return "CompleteSnapshot";
  if (/^\/snapshots\/[^/]+\/changedblocks/.test(path)) return "ListChangedBlocks";
  if (/^\/snapshots\/[^/]+\/blocks\/\d+/.test(path)) return method === "PUT" ? "PutSnapshotBlock" : "GetSnapshotBlock";
  if (/^\/snapshots\/[^/]+\/blocks/.test(path)) return "ListSnapshotBlocks";
  if (/^\/snapshots\/?$/.test(path)) return "StartSnapshot";
  return `Ebs${method}`;
}

/** Names a request: service and region from the SigV4 scope, operation from the protocol. */
export function identify(
  method: string,
  url: string,
  headers: IncomingMessage["headers"],
  body: Buffer,
): Omit<ObservedRequest, "at" | "app"> {
  const parsed = new URL(url, "http://proxy");
  const auth = String(headers.authorization ?? "");
  const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth);
  const region = scope?.[1] ?? "";
  const service = scope?.[2] ?? "unknown";
  const path = parsed.pathname;
  const target = String(headers["x-amz-target"] ?? "");
  let operation: string;
  let resource: string;
  if (service === "s3") {
    operation = s3Operation(method, path, parsed.searchParams, headers);
    resource = decodeURIComponent(path.slice(1));
  } else if (service === "ebs") {
    operation = ebsOperation(method, path);
    resource = path;
  } else if (target) {
    operation = target.split(".").pop() ?? target;
    resource = body.toString("utf8");
  } else {
    const form = new URLSearchParams(body.toString("utf8"));
    operation = form.get("Action") ?? parsed.searchParams.get("Action") ?? `${method}${path}`;
    resource = decodeURIComponent(body.toString("utf8"));
  }
  return { service, operation, name: `${service}:${operation}`, region, method, path: url, resource };
}

/** The service's own throttling error name and status. */
function throttlingOf(service: string): { code: string; status: number } {
  switch (service) {
    case "ec2":
      return { code: "RequestLimitExceeded", status: 503 };
    case "s3":
      return { code: "SlowDown", status: 503 };
    case "ebs":
      return { code: "RequestThrottledException", status: 400 };
    case "kms":
      return { code: "ThrottlingException", status: 400 };
    default:
      return { code: "Throttling", status: 400 };
  }
}

/** An error answer in the service's protocol. */
function errorAnswer(
  req: Omit<ObservedRequest, "at" | "app">,
  headers: IncomingMessage["headers"],
  code: string,
  status: number,
): { status: number; headers: Record<string, string>; body: string } {
  const message = `injected by the fault proxy (${code})`;
  const id = randomUUID();
  if (req.service === "ec2") {
    return {
      status,
      headers: { "content-type": "text/xml" },
      body: `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${id}</RequestID></Response>`,
    };
  }
  if (req.service === "s3") {
    return {
      status,
      headers: { "content-type": "application/xml" },
      body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>${id}</RequestId></Error>`,
    };
  }
  if (req.service === "ebs") {
    return {
      status,
      headers: { "content-type": "application/json", "x-amzn-errortype": code, "x-amzn-requestid": id },
      body: JSON.stringify({ message }),
    };
  }
  if (headers["x-amz-target"]) {
    return {
      status,
      headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": id },
      body: JSON.stringify({ __type: code, message }),
    };
  }
  return {
    status,
    headers: { "content-type": "text/xml" },
    body: `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${id}</RequestId></ErrorResponse>`,
  };
}

function matches(rule: FaultRule, req: Omit<ObservedRequest, "at">): boolean {
  const op = rule.operation;
  const nameMatches =
    op instanceof RegExp
      ? op.test(req.name)
      : op === "*" || op === req.name || (op.endsWith(":*") && req.service === op.slice(0, -2));
  if (!nameMatches) return false;
  if (rule.app !== undefined && rule.app !== req.app) return false;
  if (rule.resource === undefined) return true;
  return rule.resource instanceof RegExp ? rule.resource.test(req.resource) : req.resource.includes(rule.resource);
}

interface Upstream {
  readonly status: number;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

/** Starts a proxy on a free loopback port, forwarding to `target` (the emulator's endpoint). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const rules: (FaultRule & { hits: number; seen: number })[] = [];
  const log: ObservedRequest[] = [];
  const sockets = new Set<Socket>();
  const processes = new Map<string, { kill(signal: NodeJS.Signals): boolean }>();

  const forward = (req: IncomingMessage, body: Buffer): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const out = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (res) => {
          readBody(res).then((b) => resolve({ status: res.statusCode ?? 500, headers: res.headers, body: b }), reject);
        },
      );
      out.on("error", reject);
      out.end(body);
    });

  const send = (res: ServerResponse, answer: Upstream, method: string): void => {
    const headers = { ...answer.headers };
    delete headers["transfer-encoding"];
    // A HEAD answer's Content-Length is the object's, not its (empty) body's.
    if (method !== "HEAD") headers["content-length"] = String(answer.body.length);
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  };

  const kill = (observed: ObservedRequest): void => {
    if (observed.app) processes.get(observed.app)?.kill("SIGKILL");
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const ua = String(req.headers["user-agent"] ?? "") + " " + String(req.headers["x-amz-user-agent"] ?? "");
      const app = /(?:^|\s)app\/([^\s]+)/.exec(ua)?.[1];
      const observed: ObservedRequest = {
        ...identify(req.method ?? "GET", req.url ?? "/", req.headers, body),
        app,
        at: Date.now(),
      };
      log.push(observed);
      let rule: (FaultRule & { hits: number; seen: number }) | undefined;
      for (const r of rules) {
        if (r.hits >= (r.times ?? 1) || !matches(r, observed)) continue;
        r.seen++;
        if (r.seen <= (r.skip ?? 0)) continue;
        if ((r.seen - (r.skip ?? 0)) % Math.max(1, r.every ?? 1) !== 0) continue;
        r.hits++;
        rule = r;
        break;
      }
      const socket = req.socket;
      const when = rule?.when ?? (rule?.fault === "truncate" ? "after" : "before");
      if (rule) {
        observed.fault = rule.fault;
        observed.when = when;
      }
      const stall = async (): Promise<void> => {
        if (rule?.ms === undefined) return; // held until the caller gives up or the proxy closes
        await new Promise((r) => setTimeout(r, rule?.ms));
      };
      if (rule && when === "before") {
        switch (rule.fault) {
          case "kill":
            kill(observed);
            socket.destroy();
            return;
          case "reset":
            socket.destroy();
            return;
          case "503": {
            const a = errorAnswer(observed, req.headers, "ServiceUnavailable", 503);
            res.writeHead(a.status, a.headers).end(a.body);
            return;
          }
          case "throttle": {
            const t = throttlingOf(observed.service);
            const a = errorAnswer(observed, req.headers, t.code, t.status);
            res.writeHead(a.status, a.headers).end(a.body);
            return;
          }
          case "stall":
            await stall();
            if (rule.ms === undefined) return;
            break;
          case "delay":
            await new Promise((r) => setTimeout(r, rule?.ms ?? 1000));
            break;
          default:
            break;
        }
      }
      let answer: Upstream;
      try {
        answer = await forward(req, body);
      } catch {
        socket.destroy();
        return;
      }
      observed.status = answer.status;
      if (rule && when === "after") {
        switch (rule.fault) {
          case "kill":
            kill(observed);
            socket.destroy();
            return;
          case "reset":
            socket.destroy();
            return;
          case "503": {
            const a = errorAnswer(observed, req.headers, "ServiceUnavailable", 503);
            res.writeHead(a.status, a.headers).end(a.body);
            return;
          }
          case "throttle": {
            const t = throttlingOf(observed.service);
            const a = errorAnswer(observed, req.headers, t.code, t.status);
            res.writeHead(a.status, a.headers).end(a.body);
            return;
          }
          case "truncate": {
            const headers = { ...answer.headers };
            delete headers["transfer-encoding"];
            headers["content-length"] = String(answer.body.length);
            res.writeHead(answer.status, headers);
            res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)));
            // Let the half body leave before the connection goes.
            setTimeout(() => socket.destroy(), 20);
            return;
          }
          case "stall":
            await stall();
            if (rule.ms === undefined) return;
            break;
          case "delay":
            await new Promise((r) => setTimeout(r, rule?.ms ?? 1000));
            break;
          default:
            break;
        }
      }
      if (!socket.destroyed) send(res, answer, req.method ?? "GET");
    })().catch(() => req.socket.destroy());
  });
  let accepted = 0;
  server.on("connection", (socket: Socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    log,
    processes,
    add(rule) {
      const active = { ...rule, hits: 0, seen: 0 };
      rules.push(active);
      return active;
    },
    clear() {
      rules.length = 0;
    },
    connections() {
      return { accepted, open: sockets.size };
    },
    hits(name, faulted = false) {
      return log.filter((r) => r.name === name && (!faulted || r.fault !== undefined)).length;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Mocha hooks for a suite whose SDK calls go through a fault proxy in front of the emulator: before each test a new
 * proxy and `AWS_ENDPOINT_URL` pointed at it, after it both undone. Returns the running test's proxy.
 *
 * @param emulatorEndpoint the emulator's endpoint (read when each test starts).
 */
export function useFaultProxy(emulatorEndpoint: () => string): () => FaultProxy {
  let proxy: FaultProxy | undefined;
  let endpoint: string | undefined;
  beforeEach(async () => {
    proxy = await startFaultProxy(emulatorEndpoint());
    endpoint = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = proxy.url;
  });
  afterEach(async () => {
    process.env.AWS_ENDPOINT_URL = endpoint;
    await proxy?.close();
  });
  return () => {
    if (!proxy) throw new Error("no fault proxy outside a test");
    return proxy;
  };
}
