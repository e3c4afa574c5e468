// The client when the service does not give a decision: a service that never answers, one that
// is not there, one that fails (5xx) or answers nonsense gets the failure policy's result,
// marked as such and reported to onFailure; a service that refuses the request itself (4xx) is
// the caller's mistake and throws.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RateLimitClient, RateLimitRequestError, type ServiceFailure } from "../../src/client/index.js";
import { parseConfig } from "../../src/config/loader.js";
import { createLogger } from "../../src/observability/logger.js";
import { startSluice } from "../../src/sluice.js";
import { startRecordingUpstream, type RecordingUpstream } from "../support/recordingUpstream.js";
import { startStalledServer, type StalledServer } from "./stalledServer.js";

const inline = { identifier: "user-42", limit: 10, duration: "60s" } as const;

let stalled: StalledServer;
before(async () => {
  stalled = await startStalledServer();
});
after(() => stalled.close());

/** A server that answers every request with `status` and `body`. */
async function answering(status: number, body: string, contentType = "application/json"): Promise<RecordingUpstream> {
  return startRecordingUpstream((_request, res) => {
    res.writeHead(status, { "content-type": contentType });
    res.end(body);
  });
}

describe("a service that accepts the connection and never answers", () => {
  it("fails open by default: admitted, with the request's limit, marked as the failure policy's", async () => {
    const failures: ServiceFailure[] = [];
    const client = new RateLimitClient({ url: stalled.url, token: "t", timeoutMs: 50, onFailure: (f) => failures.push(f) });
    try {
      const result = await client.limit(inline);
      assert.equal(result.allowed, true);
      assert.equal(result.limit, 10);
      assert.equal(result.remaining, 10);
      assert.deepEqual(result.failure && { policy: result.failure.policy, reason: result.failure.reason }, { policy: "open", reason: "timeout" });
      assert.match(result.failure?.message ?? "", /did not answer within 50 ms/);
      assert.deepEqual(failures.map((f) => f.reason), ["timeout"]);
      assert.ok(stalled.accepted() >= 1, "the client did reach the stalled server");
    } finally {
      await client.close();
    }
  });

  it("fails closed when told to: refused for a second", async () => {
    const client = new RateLimitClient({ url: stalled.url, token: "t", timeoutMs: 50, failurePolicy: "closed" });
    try {
      const result = await client.limit({ policy: "emails", identifier: "user-42" });
      assert.equal(result.allowed, false);
      assert.equal(result.remaining, 0);
      assert.equal(result.retryAfter, 1);
      assert.equal(result.failure?.policy, "closed");
      assert.equal(result.failure?.reason, "timeout");
    } finally {
      await client.close();
    }
  });

  it("applies the policy to every check of a batch, and to a peek", async () => {
    const client = new RateLimitClient({ url: stalled.url, token: "t", timeoutMs: 50, failurePolicy: "closed" });
    try {
      const batch = await client.limitAll([inline, { policy: "emails", identifier: "user-42" }]);
      assert.equal(batch.allowed, false);
      assert.deepEqual(batch.checks.map((r) => [r.allowed, r.failure?.reason]), [[false, "timeout"], [false, "timeout"]]);
      const peek = await client.peek(inline);
      assert.equal(peek.failure?.reason, "timeout");
    } finally {
      await client.close();
    }
  });

  it("throws on a reset, which has no decision to fall back to", async () => {
    const client = new RateLimitClient({ url: stalled.url, token: "t", timeoutMs: 50 });
    try {
      await assert.rejects(client.reset(inline), { name: "RateLimitServiceError", reason: "timeout" });
    } finally {
      await client.close();
    }
  });
});

describe("a service that is not there", () => {
  it("is unreachable: the failure policy answers", async () => {
    const gone = await startStalledServer();
    const url = gone.url;
    await gone.close();
    const client = new RateLimitClient({ url, token: "t", timeoutMs: 1_000, failurePolicy: "closed" });
    try {
      const result = await client.limit(inline);
      assert.equal(result.allowed, false);
      assert.equal(result.failure?.reason, "unreachable");
    } finally {
      await client.close();
    }
  });
});

describe("a service that fails or answers nonsense", () => {
  const cases = [
    { name: "a 503", status: 503, body: '{"type":"/problems/busy"}', reason: "service-error" },
    { name: "a 200 that is not JSON", status: 200, body: "<html>proxy error</html>", reason: "bad-answer" },
    { name: "a 200 that is not a decision", status: 200, body: '{"allowed":"yes"}', reason: "bad-answer" },
  ] as const;
  for (const c of cases) {
    it(`answers ${c.name} with the failure policy (${c.reason})`, async () => {
      const server = await answering(c.status, c.body);
      const client = new RateLimitClient({ url: server.url, token: "t", timeoutMs: 1_000 });
      try {
        const result = await client.limit(inline);
        assert.equal(result.allowed, true);
        assert.equal(result.failure?.reason, c.reason);
      } finally {
        await client.close();
        await server.close();
      }
    });
  }
});

describe("a running Sluice whose Redis cannot be reached", () => {
  it("answers 503 for an inline limit (they fail closed in the service), so the client's own policy decides", async () => {
    const config = parseConfig("limiter: { store: redis, timeout: 20ms }", "test.yaml");
    const sluice = await startSluice({ config: { ...config, server: { ...config.server, host: "127.0.0.1", port: 0 } }, redisUrl: "redis://127.0.0.1:1", adminToken: "admin-token-0001", logger: createLogger("silent"), demo: false });
    const failures: ServiceFailure[] = [];
    const client = new RateLimitClient({ url: sluice.url, token: "admin-token-0001", timeoutMs: 2_000, onFailure: (f) => failures.push(f) });
    try {
      const result = await client.limit(inline);
      assert.equal(result.allowed, true);
      assert.equal(result.failure?.reason, "service-error");
      assert.match(result.failure?.message ?? "", /answered 503/);
      assert.equal(failures.length, 1);
    } finally {
      await client.close();
      await sluice.close();
    }
  });
});

describe("a service that refuses the request itself", () => {
  it("throws a RateLimitRequestError carrying the problem, instead of failing open", async () => {
    const problem = { type: "/problems/unauthorized", status: 401, detail: "Send a service token.", code: "SLUICE_ERR_UNAUTHORIZED" };
    const server = await answering(401, JSON.stringify(problem), "application/problem+json");
    const failures: ServiceFailure[] = [];
    const client = new RateLimitClient({ url: server.url, token: "wrong", timeoutMs: 1_000, onFailure: (f) => failures.push(f) });
    try {
      const error = await client.limit(inline).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof RateLimitRequestError);
      assert.equal(error.serviceStatus, 401);
      assert.equal(error.problem?.["code"], "SLUICE_ERR_UNAUTHORIZED");
      assert.match(error.message, /Send a service token/);
      assert.deepEqual(failures, []);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it("sends the token as a Bearer token, the check as JSON, under the URL's path prefix", async () => {
    const server = await answering(200, JSON.stringify({ allowed: true, limit: 10, remaining: 9, reset: 1 }));
    const client = new RateLimitClient({ url: `${server.url}/edge/`, token: "svc_token", timeoutMs: 1_000 });
    try {
      const result = await client.limit(inline);
      assert.deepEqual(result, { allowed: true, limit: 10, remaining: 9, reset: 1 });
      const [request] = server.received;
      assert.equal(request?.method, "POST");
      assert.equal(request?.url, "/edge/v1/ratelimit");
      assert.equal(request?.headers.authorization, "Bearer svc_token");
      assert.equal(request?.headers["content-type"], "application/json");
      assert.deepEqual(JSON.parse(request?.body.toString() ?? ""), inline);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
