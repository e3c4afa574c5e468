/**
 * The bench for the hostile-input suites: a real Sluice in front of a recording upstream, and a
 * client that writes exactly the bytes a test gives it over a raw socket (node:net), because
 * every HTTP client would refuse or repair the very inputs under test. Each suite asserts the
 * response and what the upstream received; `upstreamReceivedOnly` proves "nothing" by sending
 * a marker request after the case and checking that the marker is all that arrived since.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { pollUntil } from "../../support/poll.js";
import { startRecordingUpstream, type ReceivedRequest, type RecordingUpstream } from "../../support/recordingUpstream.js";
import { startTestSluice, type TestSluice } from "../../support/testSluice.js";

export const KEY = "hostile-test-key";

export interface HostileBench {
  readonly sluice: TestSluice;
  readonly upstream: RecordingUpstream;
  /** host:port of the gateway, for Host headers. */
  readonly authority: string;
  close(): Promise<void>;
}

/**
 * `server` is YAML for the server section's limits; every bench has the services `echo` (any
 * path), `shop` (routes /items/* and GET /admin) and `big` (a larger body limit of 4kb).
 */
export async function startHostileBench(server = ""): Promise<HostileBench> {
  return startBenchWith((upstream) => `
server:
  maxBodySize: 1kb
${server.replace(/^/gm, "  ")}
services:
  echo: { upstream: "${upstream}", openapi: false }
  big: { upstream: "${upstream}/big", openapi: false, maxBodySize: 4kb }
  shop:
    upstream: "${upstream}/shop"
    openapi: false
    routes:
      - { path: /items/* }
      - { path: /admin, methods: [GET] }
consumers:
  tester: { keys: [${KEY}] }
`);
}

/** A recording upstream and a gateway in front of it, with the config `config` writes for the upstream's URL. */
export async function startBenchWith(config: (upstreamUrl: string) => string, options?: Parameters<typeof startTestSluice>[1]): Promise<HostileBench> {
  const upstream = await startRecordingUpstream();
  const sluice = await startTestSluice(config(upstream.url), options);
  return {
    sluice,
    upstream,
    authority: new URL(sluice.url).host,
    close: async () => {
      await sluice.close();
      await upstream.close();
    },
  };
}

export interface RawReply {
  /** Everything the gateway wrote, as latin1. */
  readonly raw: string;
  /** The status code of each response on the connection, in order. */
  readonly statuses: readonly number[];
  /** Headers of the first response, names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  /** Body of the first response. */
  readonly body: string;
  /** Whether the gateway closed the connection (rather than the client giving up waiting). */
  readonly closedByServer: boolean;
}

/**
 * Writes `parts` in order (a part that is a number is a pause of that many ms, to split a message
 * across packets) and collects what comes back until the gateway closes the connection, or
 * `giveUpMs` passes (then closedByServer is false). The client never half-closes: a gateway that
 * waited for the rest of a message would wait until the give-up.
 */
export async function sendRaw(bench: { readonly sluice: { readonly url: string } }, parts: ReadonlyArray<string | Buffer | number>, giveUpMs = 3_000): Promise<RawReply> {
  const { port } = new URL(bench.sluice.url);
  const socket = connect(Number(port), "127.0.0.1");
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), giveUpMs);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  socket.on("error", () => undefined); // a reset is an outcome here, asserted through closedByServer
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  for (const part of parts) {
    if (socket.destroyed) break; // the gateway has closed the connection: the rest is moot
    if (typeof part === "number") await new Promise((resolve) => setTimeout(resolve, part));
    else socket.write(typeof part === "string" ? Buffer.from(part, "latin1") : part);
  }
  const closedByServer = await closed;
  socket.destroy();
  return parseReplies(Buffer.concat(chunks).toString("latin1"), closedByServer);
}

/** A complete request with the test key, `Connection: close` so the gateway ends the exchange. */
export function request(bench: HostileBench, requestTarget: string, extra = "", method = "GET"): string {
  return `${method} ${requestTarget} HTTP/1.1\r\nHost: ${bench.authority}\r\nx-api-key: ${KEY}\r\nConnection: close\r\n${extra}\r\n`;
}

/** The problem `code` of a reply's body. */
export function problemCode(reply: RawReply): string {
  assert.match(reply.headers["content-type"] ?? "", /^application\/problem\+json/, `not a problem document: ${reply.raw.slice(0, 300)}`);
  return (JSON.parse(reply.body) as { code: string }).code;
}

/**
 * Sends a marker request through the gateway after a case, waits for the upstream to record it,
 * and returns what the upstream received since `before` other than the marker: a request the
 * gateway had forwarded for the case would have arrived first.
 */
export async function upstreamReceivedSince(bench: HostileBench, before: number): Promise<ReceivedRequest[]> {
  const marker = `/marker-${before}-${Math.random().toString(36).slice(2)}`;
  const reply = await sendRaw(bench, [request(bench, `/api/echo${marker}`)]);
  assert.equal(reply.statuses[0], 200, `the marker request failed: ${reply.raw.slice(0, 300)}`);
  const received = await pollUntil(() => Promise.resolve(bench.upstream.received.slice(before)), (all) => all.some((r) => r.url === marker));
  assert.ok(received.some((r) => r.url === marker), "the marker request never reached the upstream");
  return received.filter((r) => !r.url.startsWith("/marker-"));
}

/** Splits what came back into responses, by their Content-Length or chunked framing. */
function parseReplies(raw: string, closedByServer: boolean): RawReply {
  const responses: { status: number; headers: Record<string, string>; body: string }[] = [];
  let at = 0;
  while (at < raw.length) {
    const headEnd = raw.indexOf("\r\n\r\n", at);
    if (headEnd === -1) break;
    const [statusLine = "", ...lines] = raw.slice(at, headEnd).split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0);
    let bodyStart = headEnd + 4;
    let body = "";
    if (status >= 200 && headers["transfer-encoding"] === "chunked") {
      for (;;) {
        const sizeEnd = raw.indexOf("\r\n", bodyStart);
        const size = sizeEnd === -1 ? 0 : parseInt(raw.slice(bodyStart, sizeEnd), 16);
        if (sizeEnd === -1 || !(size > 0)) {
          bodyStart = sizeEnd === -1 ? raw.length : sizeEnd + 4;
          break;
        }
        body += raw.slice(sizeEnd + 2, sizeEnd + 2 + size);
        bodyStart = sizeEnd + 4 + size;
      }
    } else {
      const length = Number(headers["content-length"] ?? 0);
      body = raw.slice(bodyStart, bodyStart + length);
      bodyStart += length;
    }
    responses.push({ status, headers, body });
    at = bodyStart;
  }
  const first = responses[0];
  return { raw, statuses: responses.map((r) => r.status), headers: first?.headers ?? {}, body: first?.body ?? "", closedByServer };
}
