// The TypeScript client against a running Sluice, on the memory store and on Redis: limits stated
// inline and named in the config, several at once, a peek that takes nothing, a reset, and the
// service refusing a bad request (which throws rather than falling back to the failure policy).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { RateLimitClient, RateLimitRequestError } from "../../src/client/index.js";
import { startServiceSluice, TEST_STORES, type ServiceSluice } from "./serviceSluice.js";

const YAML = `
policies:
  emails:
    descriptors:
      - key: identifier
        limit: { algorithm: fixed-window, limit: 2, window: 1h }
  plans:
    descriptors:
      - key: plan
        value: unlimited
        descriptors:
          - key: identifier
`;

for (const store of TEST_STORES) {
  describe(`RateLimitClient against a running Sluice, ${store} store`, () => {
    let sluice: ServiceSluice;
    let client: RateLimitClient;
    // Identifiers of this run alone, so a rerun on the shared Redis starts from zero.
    const id = (name: string) => `${name}-${randomUUID()}`;
    before(async () => {
      sluice = await startServiceSluice(YAML, store);
      client = new RateLimitClient({ url: sluice.url, token: sluice.token, timeoutMs: 2_000 });
    });
    after(async () => {
      await client.close();
      await sluice.close();
    });

    it("counts an inline limit down to a denial with retryAfter, a result rather than an error", async () => {
      const request = { identifier: id("user"), limit: 2, duration: "1m", algorithm: "fixed-window", namespace: "client-test" } as const;
      const first = await client.limit(request);
      assert.deepEqual({ allowed: first.allowed, limit: first.limit, remaining: first.remaining, failure: first.failure }, { allowed: true, limit: 2, remaining: 1, failure: undefined });
      assert.ok(first.reset > Date.now() && first.reset <= Date.now() + 60_000, "reset is unix ms within the window");
      await client.limit(request);
      const denied = await client.limit(request);
      assert.equal(denied.allowed, false);
      assert.equal(denied.remaining, 0);
      assert.ok(denied.retryAfter !== undefined && denied.retryAfter >= 1 && denied.retryAfter <= 60, `retryAfter is whole seconds (${denied.retryAfter})`);
    });

    it("takes cost units, and reads without taking with peek", async () => {
      const request = { identifier: id("bulk"), limit: 10, duration: 60_000 } as const;
      assert.equal((await client.limit({ ...request, cost: 4 })).remaining, 6);
      assert.equal((await client.peek(request)).remaining, 6);
      assert.equal((await client.peek(request)).remaining, 6);
    });

    it("asks a named policy by identifier; a rule without a limit answers unlimited", async () => {
      const identifier = id("sender");
      const results = [await client.limit({ policy: "emails", identifier }), await client.limit({ policy: "emails", identifier }), await client.limit({ policy: "emails", identifier })];
      assert.deepEqual(results.map((r) => r.allowed), [true, true, false]);
      const unlimited = await client.limit({ policy: "plans", descriptor: [{ key: "plan", value: "unlimited" }], identifier });
      assert.deepEqual(unlimited, { allowed: true, unlimited: true });
    });

    it("decides several limits all or nothing: a refused call takes nothing from the others", async () => {
      const identifier = id("both");
      const roomy = { identifier, limit: 100, duration: "1m", namespace: "roomy" } as const;
      const tight = { identifier, limit: 1, duration: "1m", namespace: "tight" } as const;
      const admitted = await client.limitAll([roomy, tight]);
      assert.equal(admitted.allowed, true);
      assert.deepEqual(admitted.checks.map((c) => c.allowed), [true, true]);
      const refused = await client.limitAll([roomy, tight]);
      assert.equal(refused.allowed, false);
      assert.deepEqual(refused.checks.map((c) => [c.allowed, "remaining" in c ? c.remaining : undefined]), [[true, 99], [false, 0]]);
      assert.equal((await client.peek(roomy)).remaining, 99);
    });

    it("resets a limit: its counter starts again", async () => {
      const request = { identifier: id("reset"), limit: 1, duration: "1h" } as const;
      await client.limit(request);
      assert.equal((await client.limit(request)).allowed, false);
      await client.reset(request);
      assert.equal((await client.limit(request)).allowed, true);
    });

    it("throws RateLimitRequestError for an unknown policy and for a wrong token, naming the problem", async () => {
      await assert.rejects(client.limit({ policy: "nope", identifier: "x" }), (error: unknown) => {
        assert.ok(error instanceof RateLimitRequestError);
        assert.equal(error.serviceStatus, 400);
        assert.deepEqual((error.problem?.["invalidParams"] as { name: string }[]).map((p) => p.name), ["policy"]);
        return true;
      });
      const stranger = new RateLimitClient({ url: sluice.url, token: "not-the-token", timeoutMs: 2_000 });
      try {
        await assert.rejects(stranger.limit({ identifier: "x", limit: 1, duration: "1s" }), { name: "RateLimitRequestError", serviceStatus: 401 });
      } finally {
        await stranger.close();
      }
    });

    it("throws RateLimitRequestError for an identifier that is not well-formed Unicode, and never fails open on it", async () => {
      // A lone surrogate once made the service answer 500, which the client took for an outage:
      // with failurePolicy "open" every call at limit 1 was admitted.
      const failures: unknown[] = [];
      const open = new RateLimitClient({ url: sluice.url, token: sluice.token, timeoutMs: 2_000, failurePolicy: "open", onFailure: (failure) => failures.push(failure) });
      const lone = `${id("user")}\ud800`;
      const calls = [
        () => open.limit({ identifier: lone, limit: 1, duration: "1m" }),
        () => open.limit({ policy: "emails", identifier: lone }),
        () => open.peek({ identifier: lone, limit: 1, duration: "1m" }),
        () => open.limitAll([{ identifier: id("fine"), limit: 1, duration: "1m" }, { identifier: lone, limit: 1, duration: "1m" }]),
      ];
      try {
        for (const call of calls) {
          for (let i = 0; i < 4; i++) {
            await assert.rejects(call(), (error: unknown) => {
              assert.ok(error instanceof RateLimitRequestError, String(error));
              assert.equal(error.serviceStatus, 400);
              assert.match((error.problem?.["invalidParams"] as { name: string }[])[0]!.name, /identifier$/);
              return true;
            });
          }
        }
        assert.deepEqual(failures, [], "a refused request is no outage: the failure policy was never asked");
      } finally {
        await open.close();
      }
    });
  });
}
