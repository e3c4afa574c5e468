/**
 * The one suite both middlewares run (fastify.test.ts, express.test.ts), against a running
 * Sluice on the memory store and on Redis: each adapter starts a small application of its
 * framework with the limits it is given, one route per limit (or per stack of limits), and the
 * cases below call it over real HTTP. What a limited route answers is the same whatever the
 * framework, and the same as the gateway's for a route with several limits.
 */
import assert from "node:assert/strict";
import type { IncomingHttpHeaders } from "node:http";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { RateLimitClient } from "../../src/client/index.js";
import type { RateLimitMiddlewareOptions } from "../../src/middleware/rateLimitOutcome.js";
import { startServiceSluice, TEST_STORES, type ServiceSluice } from "../client/serviceSluice.js";
import { startStalledServer, type StalledServer } from "../client/stalledServer.js";

/** What the cases' identifier and cost functions read: headers, which every framework's request has. */
export type CaseRequest = { readonly headers: IncomingHttpHeaders };

export interface LimitedApp {
  readonly url: string;
  close(): Promise<void>;
}

export type CaseLimit = RateLimitMiddlewareOptions<CaseRequest>;

/**
 * Starts an application whose `GET /<name>` is limited by `limits[name]` and answers `{ "route": name }`;
 * a list is a stack of limits on the one route, in order (two middlewares, two hooks, or a plugin and a hook).
 */
export type StartLimitedApp = (limits: Readonly<Record<string, CaseLimit | readonly CaseLimit[]>>) => Promise<LimitedApp>;

const YAML = `
policies:
  emails:
    descriptors:
      - key: identifier
        limit: { algorithm: fixed-window, limit: 2, window: 1h }
`;

const byUser = (request: CaseRequest) => request.headers["x-user"] as string | undefined;

export function runMiddlewareCases(framework: string, startApp: StartLimitedApp): void {
  for (const store of TEST_STORES) {
    describe(`the ${framework} middleware against a running Sluice, ${store} store`, () => {
      let sluice: ServiceSluice;
      let stalled: StalledServer;
      let client: RateLimitClient;
      let open: RateLimitClient;
      let closed: RateLimitClient;
      let app: LimitedApp;
      // A user of this run alone, so a rerun on the shared Redis starts from zero.
      const user = () => `user-${randomUUID()}`;
      const get = (path: string, who?: string) => fetch(app.url + path, { headers: who === undefined ? {} : { "x-user": who } });

      before(async () => {
        [sluice, stalled] = await Promise.all([startServiceSluice(YAML, store), startStalledServer()]);
        client = new RateLimitClient({ url: sluice.url, token: sluice.token, timeoutMs: 2_000 });
        open = new RateLimitClient({ url: stalled.url, token: "t", timeoutMs: 50 });
        closed = new RateLimitClient({ url: stalled.url, token: "t", timeoutMs: 50, failurePolicy: "closed" });
        app = await startApp({
          inline: { client, identifier: byUser, limit: 2, duration: "1m", algorithm: "fixed-window", namespace: "mw-test" },
          bursty: { client, identifier: byUser, limit: 1, duration: "1h", burst: 3, namespace: "mw-burst" },
          bucket: { client, identifier: byUser, limit: 1, duration: "1h", algorithm: "token-bucket", capacity: 2, namespace: "mw-bucket" },
          costly: { client, identifier: byUser, limit: 10, duration: "1m", cost: (request) => Number(request.headers["x-cost"] ?? 1) },
          policy: { client, identifier: byUser, policy: "emails" },
          unknown: { client, identifier: byUser, policy: "no-such-policy" },
          // An identifier the application built from its own client's text, with a lone surrogate in it.
          malformed: { client, identifier: (request) => `${byUser(request)}\ud800`, limit: 1, duration: "1m" },
          open: { client: open, identifier: byUser, limit: 2, duration: "1m" },
          closed: { client: closed, identifier: byUser, limit: 2, duration: "1m" },
          // Two limits on one route, the first the tighter; then an inline limit and a named policy.
          stacked: [
            { client, identifier: byUser, limit: 2, duration: "1h", algorithm: "fixed-window", namespace: "mw-tight" },
            { client, identifier: byUser, limit: 5, duration: "1m", algorithm: "fixed-window", namespace: "mw-loose" },
          ],
          stackedPolicy: [
            { client, identifier: byUser, limit: 5, duration: "1m", algorithm: "fixed-window", namespace: "mw-outer" },
            { client, identifier: byUser, policy: "emails" },
          ],
        });
      });
      after(async () => {
        await app.close();
        await Promise.all([client.close(), open.close(), closed.close()]);
        await Promise.all([sluice.close(), stalled.close()]);
      });

      it("lets an admitted request through with RateLimit-Policy and RateLimit", async () => {
        const response = await get("/inline", user());
        assert.equal(response.status, 200);
        assert.deepEqual(await response.json(), { route: "inline" });
        assert.equal(response.headers.get("ratelimit-policy"), '"mw-test";q=2;w=60');
        const [, seconds] = /^"mw-test";r=1;t=(\d+)$/.exec(response.headers.get("ratelimit") ?? "") ?? [];
        assert.ok(Number(seconds) > 0 && Number(seconds) <= 60, `t is the seconds left of the one-minute window (${seconds})`);
        assert.equal(response.headers.get("retry-after"), null);
      });

      it("passes a GCRA burst and a token bucket's capacity on to the service", async () => {
        const who = user();
        const statuses = async (path: string, times: number) => { const out = []; for (let i = 0; i < times; i++) out.push((await get(path, who)).status); return out; };
        assert.deepEqual(await statuses("/bursty", 4), [200, 200, 200, 429], "one an hour, three at once");
        assert.deepEqual(await statuses("/bucket", 3), [200, 200, 429], "one an hour, a bucket of two");
      });

      it("answers 429 problem+json with Retry-After once the limit is spent", async () => {
        const who = user();
        await get("/inline", who);
        await get("/inline", who);
        const response = await get("/inline", who);
        assert.equal(response.status, 429);
        assert.equal(response.headers.get("content-type"), "application/problem+json");
        assert.equal(response.headers.get("cache-control"), "no-store");
        const seconds = Number(response.headers.get("retry-after"));
        assert.ok(seconds >= 1 && seconds <= 60, `Retry-After is whole seconds within the window (${seconds})`);
        assert.match(response.headers.get("ratelimit") ?? "", /^"mw-test";r=0;t=\d+$/);
        const problem = await response.json() as Record<string, unknown>;
        assert.deepEqual({ status: problem["status"], code: problem["code"], type: problem["type"] }, { status: 429, code: "SLUICE_ERR_RATE_LIMITED", type: "/problems/rate-limited" });
        assert.match(String(problem["detail"]), /Limit "mw-test" is exhausted; retry in \d+s/);
      });

      it("counts each identifier on its own, and leaves a request without one unlimited", async () => {
        const who = user();
        await get("/inline", who);
        await get("/inline", who);
        assert.equal((await get("/inline", user())).status, 200);
        const anonymous = await get("/inline");
        assert.equal(anonymous.status, 200);
        assert.equal(anonymous.headers.get("ratelimit"), null);
      });

      it("takes the cost the request's function gives", async () => {
        const response = await fetch(`${app.url}/costly`, { headers: { "x-user": user(), "x-cost": "7" } });
        assert.match(response.headers.get("ratelimit") ?? "", /^"default";r=3;t=\d+$/);
      });

      it("limits by a named policy, announcing its quota as Sluice answers it", async () => {
        const who = user();
        const first = await get("/policy", who);
        assert.equal(first.headers.get("ratelimit-policy"), '"emails";q=2');
        await get("/policy", who);
        assert.equal((await get("/policy", who)).status, 429);
      });

      it("announces every limit of a stack in RateLimit-Policy, and the binding one in RateLimit, as the gateway does", async () => {
        const who = user();
        const first = await get("/stacked", who);
        assert.equal(first.status, 200);
        assert.equal(first.headers.get("ratelimit-policy"), '"mw-tight";q=2;w=3600, "mw-loose";q=5;w=60');
        assert.match(first.headers.get("ratelimit") ?? "", /^"mw-tight";r=1;t=\d+$/, "the first limit has fewer left, though the second answered last");
        assert.match((await get("/stacked", who)).headers.get("ratelimit") ?? "", /^"mw-tight";r=0;t=\d+$/);
        const refused = await get("/stacked", who);
        assert.equal(refused.status, 429);
        assert.equal(refused.headers.get("ratelimit-policy"), '"mw-tight";q=2;w=3600', "the second limit was not asked");
        assert.match(refused.headers.get("ratelimit") ?? "", /^"mw-tight";r=0;t=\d+$/);
      });

      it("merges an inline limit with a named policy, and a denial by the second names it", async () => {
        const who = user();
        const first = await get("/stackedPolicy", who);
        assert.equal(first.status, 200);
        assert.equal(first.headers.get("ratelimit-policy"), '"mw-outer";q=5;w=60, "emails";q=2');
        assert.match(first.headers.get("ratelimit") ?? "", /^"emails";r=1;t=\d+$/);
        await get("/stackedPolicy", who);
        const refused = await get("/stackedPolicy", who);
        assert.equal(refused.status, 429);
        assert.equal(refused.headers.get("ratelimit-policy"), '"mw-outer";q=5;w=60, "emails";q=2');
        assert.match(refused.headers.get("ratelimit") ?? "", /^"emails";r=0;t=\d+$/);
        assert.ok(Number(refused.headers.get("retry-after")) >= 1);
        assert.match(String((await refused.json() as { detail: string }).detail), /^Limit "emails" is exhausted/);
      });

      it("fails open when the service does not answer: the route runs, with no RateLimit headers", async () => {
        const response = await get("/open", user());
        assert.equal(response.status, 200);
        assert.equal(response.headers.get("ratelimit"), null);
      });

      it("fails closed when told to: 503 limiter-unavailable with Retry-After", async () => {
        const response = await get("/closed", user());
        assert.equal(response.status, 503);
        assert.equal(response.headers.get("retry-after"), "1");
        assert.equal((await response.json() as { code: string }).code, "SLUICE_ERR_LIMITER_UNAVAILABLE");
      });

      it("hands a refused request to the framework's error handling (an unknown policy is a bug, not a denial)", async () => {
        const response = await get("/unknown", user());
        assert.equal(response.status, 500);
      });

      it("never runs the route for an identifier the service refuses as malformed (a lone surrogate), nor fails open on it", async () => {
        const who = user();
        const statuses = [];
        for (let i = 0; i < 3; i++) statuses.push((await get("/malformed", who)).status);
        assert.deepEqual(statuses, [500, 500, 500], "the framework's error handling, each time; at limit 1 an open fallback would have run it");
      });
    });
  }
}
